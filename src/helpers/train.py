"""One training run → one run record (training chapter): the public names in one place.

The code lives in :mod:`helpers.training`, one module per job (parameters, seeding, batches,
checkpoints, measuring, the run). This module re-exports its public names so that notebooks,
scripts and the sweep keep writing ``from helpers.train import run_training, save_record,
validate_params, TrainParams``. Code that must not import Keras (parameter checks) can import
:mod:`helpers.training.params` alone.
"""

from __future__ import annotations

from helpers.training.batches import array_batches, epoch_order
from helpers.training.measure import inference_latency, model_costs, saved_size_mb
from helpers.training.params import (
    DEFAULT_EPOCHS,
    DROPOUT,
    LR_FACTOR,
    LR_PATIENCE,
    TrainParams,
    params_from_namespace,
    validate_params,
)
from helpers.training.run import run_training, save_record
from helpers.training.runtime import progress_verbosity, seed_everything

__all__ = [
    "DEFAULT_EPOCHS",
    "DROPOUT",
    "LR_FACTOR",
    "LR_PATIENCE",
    "TrainParams",
    "array_batches",
    "epoch_order",
    "inference_latency",
    "model_costs",
    "params_from_namespace",
    "progress_verbosity",
    "run_training",
    "save_record",
    "saved_size_mb",
    "seed_everything",
    "validate_params",
]
