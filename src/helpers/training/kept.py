"""Kept models: a trained run's Keras model in the cache, never in the results (the training, deployment and pneumonia chapters).

A run trained with ``save_model=True`` (``python -m helpers sweep CONFIG --save-models``) writes
its trained model — base, head and preprocessing, without optimizer state — to
``<cache_dir>/models/<run_id>.keras`` and notes the file in its record (``record["kept_model"]``:
the path relative to the cache, bytes, sha256). The deployment sweep and the Grad-CAM scripts
then load it instead of re-training, which for the fully fine-tuned regimes would cost hours;
:func:`load_kept_model` checks the file against the record first, so a model from another run
(or a half-copied file) is refused with a message saying how to make it again.

Model files are large and machine-made: they stay in the cache, which is never committed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from helpers import config
from helpers.files import atomic_write, hash_file

MODELS_FOLDER = "models"


class KeptModelError(FileNotFoundError):
    """A record's kept model is missing or is not the file the record describes."""


def kept_model_path(run_id: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the kept model of ``run_id`` lives: ``<cache>/models/<run_id>.keras``."""
    return config.cache_dir(cache_dir) / MODELS_FOLDER / f"{run_id}.keras"


def keep_model(model: Any, run_id: str,
               cache_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Save ``model`` (no optimizer) atomically to the cache; the record's ``kept_model`` entry."""
    import keras

    plain = keras.Model(model.inputs, model.outputs, name=model.name)  # no optimizer state
    path = kept_model_path(run_id, cache_dir)

    with tempfile.TemporaryDirectory(prefix="resbook-keep-") as tmp:
        saved = Path(tmp) / "model.keras"  # Keras writes by name (and wants the suffix)
        plain.save(saved)
        with open(saved, "rb") as src:
            atomic_write(path, lambda fh: shutil.copyfileobj(src, fh))
    return {"path": f"{MODELS_FOLDER}/{path.name}", "bytes": path.stat().st_size,
            "sha256": hash_file(path)}  # no memo: an integrity check


def load_kept_model(record: dict[str, Any], cache_dir: str | os.PathLike[str] | None = None,
                    *, command: str = "python -m helpers sweep CONFIG --save-models") -> Any:
    """The Keras model a run kept, after checking it is the file its record describes."""
    import keras

    rid = record.get("run_id", "?")
    entry = record.get("kept_model")
    path = kept_model_path(str(rid), cache_dir)
    redo = (f"re-run it with the model kept: move its record away and run `{command} "
            f"--only={rid}`")
    if not entry:
        raise KeptModelError(f"run {rid} did not keep its model (no kept_model in its record); "
                             + redo)
    if not path.is_file():
        raise KeptModelError(f"{path}: the kept model of run {rid} is not in this cache: point "
                             "RESBOOK_CACHE_DIR at the cache the sweep used (its --cache-dir), "
                             "or " + redo)
    if path.stat().st_size != entry.get("bytes") or hash_file(path) != entry.get("sha256"):
        raise KeptModelError(f"{path} is not the model run {rid} kept (size or sha256 differ "
                             "from its record); " + redo)
    import helpers.training.models  # noqa: F401 - registers the custom layers (Preprocess) for loading

    return keras.saving.load_model(path, compile=False)
