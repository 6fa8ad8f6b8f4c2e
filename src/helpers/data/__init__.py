"""Data layer of the book (data chapter): registry, loading to uint8 arrays, dedup, splits, cache.

>>> from helpers.data import load_dataset
>>> ds = load_dataset("isic2017", task="melanoma", resolution=128)   # doctest: +SKIP
"""

from .core import DataError, DataReport, Dataset, DuplicateGroup, Split
from .download import download
from .external import external_fingerprint, external_masks, load_external
from .loader import (
    data_fingerprint,
    get_source,
    list_datasets,
    load_dataset,
    validate_data_params,
)

__all__ = ["DataError", "DataReport", "Dataset", "DuplicateGroup", "Split", "data_fingerprint", "external_fingerprint",
           "external_masks", "download", "get_source", "load_external",
           "list_datasets", "load_dataset", "validate_data_params"]
