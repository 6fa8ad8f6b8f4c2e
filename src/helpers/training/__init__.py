"""Training: one run → one run record (training chapter, ``notebooks/03_train.py``).

This package is the front door of training: ``from helpers.training import run_training,
TrainParams, validate_params`` gives the public names below. They are loaded lazily, so
``import helpers.training.params`` (parameter checks in a sweep) never imports Keras.

One module per job:

* :mod:`~helpers.training.params`: :class:`TrainParams`, their defaults, :func:`validate_params`
  and :func:`params_from_namespace` (the notebook's globals → checked params);
* :mod:`~helpers.training.runtime`: seeding and the progress-bar choice;
* :mod:`~helpers.training.batches`: the seeded in-memory batches;
* :mod:`~helpers.training.checkpoints`: per-epoch checkpoints and resumption;
* :mod:`~helpers.training.measure`: parameters, MACs, saved size and latency;
* :mod:`~helpers.training.run`: :func:`run_training`, the run itself, as named steps;
* :mod:`~helpers.training.external`: an external test set scored in every geometry;
* :mod:`~helpers.training.kept`: the trained model kept for deployment;
* :mod:`~helpers.training.models`, :mod:`~helpers.training.weights`,
  :mod:`~helpers.training.features`, :mod:`~helpers.training.precision`: the networks, their
  ImageNet weights, frozen-backbone features and the mixed-precision policy;
* :mod:`~helpers.training.costs`: parameters and multiply-accumulates of a model;
* :mod:`~helpers.training.gradcam`: Grad-CAM maps of a trained model.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "array_batches": "batches",
    "epoch_order": "batches",
    "inference_latency": "measure",
    "model_costs": "measure",
    "saved_size_mb": "measure",
    "DEFAULT_EPOCHS": "params",
    "DROPOUT": "params",
    "LR_FACTOR": "params",
    "LR_PATIENCE": "params",
    "TrainParams": "params",
    "params_from_namespace": "params",
    "validate_params": "params",
    "run_training": "run",
    "save_record": "run",
    "progress_verbosity": "runtime",
    "seed_everything": "runtime",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
