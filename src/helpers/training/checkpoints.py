"""Per-epoch checkpoints: a run killed mid-way continues where it stopped (training chapter).

After every epoch the model variables (including dropout seed states), optimizer state, epoch,
history, learning rate and callback counters are written under
``output_dir/checkpoints/<run_id>/``: the arrays into a fresh ``epoch-NNNN`` folder that
replaces the previous one with ``os.replace``, then ``state.json`` atomically
(:func:`helpers.files.atomic_write_json`). A run started again with identical parameters
continues from there (:func:`load_state`, :func:`restore`); the folder is deleted once the
record is complete (:func:`remove`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from helpers import config
from helpers.files import DAMAGED_FILE_ERRORS, atomic_write_json, warn_damaged

HISTORY_KEYS = ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "lr")


def checkpoint_dir(output_dir: str | os.PathLike[str] | None, rid: str) -> Path:
    """``<results dir>/checkpoints/<run_id>``: where run ``rid`` keeps its checkpoints."""
    return Path(config.results_dir(output_dir)) / "checkpoints" / rid


def save_arrays(path: Path, arrays: list[np.ndarray]) -> None:
    np.savez(path, **{f"a{i:05d}": a for i, a in enumerate(arrays)})


def load_arrays(path: Path) -> list[np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return [z[k] for k in sorted(z.files)]


def assign(variables, arrays: list[np.ndarray], what: str) -> None:
    """Copy checkpointed arrays into variables, checking their number and shapes."""
    if len(variables) != len(arrays):
        raise ValueError(f"checkpoint {what}: {len(arrays)} arrays for {len(variables)} variables")
    for v, a in zip(variables, arrays, strict=True):
        if tuple(v.shape) != tuple(a.shape):
            raise ValueError(f"checkpoint {what}: shape {a.shape} for variable {v.path} {v.shape}")
        v.assign(a)


def fresh_state() -> dict[str, Any]:
    """The state of a run that has trained no epoch yet."""
    return {"epoch": 0, "history": {k: [] for k in HISTORY_KEYS}}


def load_state(folder: Path, identity: dict) -> dict | None:
    """The saved state of the run with these identity params, or None (none, foreign, damaged)."""
    return open_checkpoint(folder, identity)[0]


def open_checkpoint(folder: Path, identity: dict
                    ) -> tuple[dict | None, dict[str, list[np.ndarray]] | None, str | None]:
    """(state, arrays, warning) of this run's checkpoint; no Keras needed.

    Reads ``state.json`` and every array file (``model``, ``optimizer`` and, when saved,
    ``best_weights``) before anything is assigned, so a damaged checkpoint (a truncated
    ``.npz`` after a full disk raises ``zipfile.BadZipFile``) never half-restores a model. A
    damaged one is deleted and ``warning`` names the file: the run restarts from epoch 0.
    (None, None, None) when there is no checkpoint or it belongs to other parameters.
    """
    path = folder / "state.json"
    if not path.is_file():
        return None, None, None
    try:
        saved = json.loads(path.read_text())
        if not isinstance(saved, dict):
            raise ValueError("state.json is not a mapping")
    except DAMAGED_FILE_ERRORS as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return None, None, warn_damaged(path, exc, "checkpoint discarded, training from epoch 0")
    if saved.pop("params", None) != identity or not (folder / saved.get("dir", "?")).is_dir():
        return None, None, None
    arrays: dict[str, list[np.ndarray]] = {}
    for name in ("model", "optimizer", "best_weights"):
        f = folder / saved["dir"] / f"{name}.npz"
        if name == "best_weights" and not f.is_file():
            continue
        try:
            arrays[name] = load_arrays(f)
        except DAMAGED_FILE_ERRORS as exc:
            shutil.rmtree(folder, ignore_errors=True)
            return None, None, warn_damaged(f, exc,
                                            "checkpoint discarded, training from epoch 0")
    return saved, arrays, None


def restore(fit_model, folder: Path, state: dict,
            arrays: dict[str, list[np.ndarray]] | None = None) -> int:
    """Load model and optimizer variables and the learning rate; returns the epoch to resume at.

    ``arrays``: those :func:`open_checkpoint` read (else they are read from ``folder``).
    """
    if arrays is None:
        arrays = {n: load_arrays(folder / state["dir"] / f"{n}.npz")
                  for n in ("model", "optimizer")}
    fit_model.optimizer.build(fit_model.trainable_variables)
    assign(fit_model.variables, arrays["model"], "model")
    assign(fit_model.optimizer.variables, arrays["optimizer"], "optimizer")
    fit_model.optimizer.learning_rate = state["lr_now"]
    return int(state["epoch"])


def remove(folder: Path) -> None:
    """Delete a finished run's checkpoints, and ``checkpoints/`` once no other run has any."""
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        folder.parent.rmdir()  # only when no other run's checkpoints remain


def make_checkpointer(folder: Path, identity: dict, state: dict, train_seq, lr_cb, es_cb):
    """A Keras callback that saves ``state`` after each epoch and restores callback counters."""
    import keras

    # lr_cb: ReduceLROnPlateau (its counters are state), a LearningRateScheduler (a function of
    # the epoch: nothing to keep) or None (constant learning rate)
    plateau = lr_cb if isinstance(lr_cb, keras.callbacks.ReduceLROnPlateau) else None

    class Checkpointer(keras.callbacks.Callback):
        """Saves model, optimizer and callback state after each epoch; restores them on resume."""

        def on_train_begin(self, logs=None):
            # Runs after ReduceLROnPlateau/EarlyStopping reset themselves in on_train_begin.
            cb = state.get("callbacks")
            if cb:
                if plateau is not None and cb.get("lr_wait") is not None:
                    plateau.wait, plateau.cooldown_counter = cb["lr_wait"], cb["lr_cooldown"]
                    plateau.best = cb["lr_best"] if cb["lr_best"] is not None else plateau.best
                if es_cb is not None and cb.get("es") is not None:
                    es = cb["es"]
                    es_cb.wait, es_cb.best_epoch = es["wait"], es["best_epoch"]
                    es_cb.best = es["best"]
                    best = folder / state["dir"] / "best_weights.npz"
                    if best.is_file():
                        es_cb.best_weights = load_arrays(best)

        def on_epoch_begin(self, epoch, logs=None):
            train_seq.set_epoch(epoch)
            self._lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            h = state["history"]
            h["epoch"].append(int(epoch) + 1)
            for k in ("loss", "val_loss", "accuracy", "val_accuracy"):
                h[k].append(float(logs[k]) if k in logs else None)
            h["lr"].append(self._lr)
            state.setdefault("epoch_s", []).append(time.perf_counter() - self._t0)
            state["epoch"] = int(epoch) + 1
            self._save()

        def _save(self):
            folder.mkdir(parents=True, exist_ok=True)
            name = f"epoch-{state['epoch']:04d}"
            tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{name}-"))
            save_arrays(tmp / "model.npz", [keras.ops.convert_to_numpy(v)
                                            for v in self.model.variables])
            save_arrays(tmp / "optimizer.npz", [keras.ops.convert_to_numpy(v)
                                                for v in self.model.optimizer.variables])
            es = None
            if es_cb is not None:
                es = {"wait": int(es_cb.wait), "best_epoch": int(es_cb.best_epoch),
                      "best": None if es_cb.best is None else float(es_cb.best)}
                if es_cb.best_weights is not None:
                    save_arrays(tmp / "best_weights.npz", list(es_cb.best_weights))
            lr_best = None if plateau is None or plateau.best is None else float(plateau.best)
            state["callbacks"] = {"lr_wait": None if plateau is None else int(plateau.wait),
                                  "lr_cooldown": None if plateau is None
                                  else int(plateau.cooldown_counter),
                                  "lr_best": lr_best if lr_best is None or math.isfinite(lr_best)
                                  else None, "es": es}
            state["stop_training"] = bool(self.model.stop_training)
            state["lr_now"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            final = folder / name
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
            state["dir"] = name
            atomic_write_json(folder / "state.json", {"params": identity, **state})
            for old in folder.glob("epoch-*"):
                if old.name != name:
                    shutil.rmtree(old, ignore_errors=True)

    return Checkpointer()
