"""Seeding and progress output of a training run (training chapter).

Reproducibility: ``keras.utils.set_random_seed(seed)``, and on the TensorFlow backend
``tf.config.experimental.enable_op_determinism()``; batches are shuffled by a NumPy generator
seeded with ``(seed, epoch)`` (:mod:`helpers.training.batches`). On a CPU the same parameters
give identical predictions.
"""

from __future__ import annotations

import contextlib
import os
import sys


def progress_verbosity() -> int:
    """Keras ``verbose``: 1 (progress bar) when interactive, 2 (a line per epoch) otherwise (training chapter).

    ``RESBOOK_PROGRESS=0|1|2`` overrides. Inside a Jupyter kernel the parent process tells an
    interactive front end (Jupyter Lab/Notebook/VS Code) from batch executors (papermill,
    nbclient, nbconvert, jupyter-book, pytest/nbval).
    """
    env = os.environ.get("RESBOOK_PROGRESS", "").strip()
    if env in ("0", "1", "2"):
        return int(env)
    shell = None
    ipython = sys.modules.get("IPython")
    if ipython is not None:
        with contextlib.suppress(Exception):
            shell = ipython.get_ipython()
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        try:
            with open(f"/proc/{os.getppid()}/cmdline", "rb") as fh:
                parent = fh.read().replace(b"\0", b" ").decode(errors="replace").lower()
        except OSError:
            return 2
        batch = ("papermill", "nbclient", "nbconvert", "jupyter-book", "pytest", "helpers")
        if any(b in parent for b in batch):
            return 2
        interactive = ("jupyter-lab", "jupyter-notebook", "jupyter_server", "jupyterlab",
                       "notebook", "vscode", "ipykernel_launcher", "spyder")
        return 1 if any(i in parent for i in interactive) else 2
    try:
        return 1 if sys.stdout.isatty() else 2
    except (AttributeError, ValueError):
        return 2


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend; deterministic TF ops (training chapter)."""
    import keras

    keras.utils.set_random_seed(int(seed))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
