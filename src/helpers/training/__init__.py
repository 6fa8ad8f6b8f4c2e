"""One training run, by job (training chapter, ``notebooks/03_train.py``).

* :mod:`~helpers.training.params`: :class:`TrainParams`, their defaults,
  :func:`validate_params` (no Keras import, so sweeps can check runs cheaply) and
  :func:`params_from_namespace` (the notebook's globals → checked params);
* :mod:`~helpers.training.runtime`: seeding and the progress-bar choice;
* :mod:`~helpers.training.batches`: the seeded in-memory batches;
* :mod:`~helpers.training.checkpoints`: per-epoch checkpoints and resumption;
* :mod:`~helpers.training.measure`: parameters, MACs, saved size and latency;
* :mod:`~helpers.training.run`: :func:`run_training`, the run itself, as named steps;
* :mod:`~helpers.training.external`: :func:`add_external`, an external test set scored in
  every geometry.

:mod:`helpers.train` re-exports the public names, so ``from helpers.train import run_training``
keeps working. This ``__init__`` imports nothing, so ``import helpers.training.params`` loads
only what validation needs.
"""
