"""ImageNet weights for the Keras applications: local files or Keras's download (training chapter).

Resolution rules (see CONTRIBUTING.md, "Configuration"):

* ``weights=None`` → random initialisation.
* ``weights="imagenet"`` → if a weights folder is configured (the ``weights_dir`` argument, else
  the ``RESBOOK_WEIGHTS_DIR`` environment variable), the architecture's file must be in it
  (file names in :data:`WEIGHT_FILES`); otherwise Keras downloads its own copy. Without internet
  and without a local file the build fails with a :class:`WeightsUnavailableError` naming the
  variable and the expected file name.
* ``weights=<path>`` → that file, or that folder holding the architecture's file.

The sha256 of every file used goes into the run record; it is cached per (path, size, mtime) in
memory and under ``cache_dir()/weights_sha256.json`` so a 95 MB file is hashed once.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from helpers import config
from helpers.files import atomic_write_json, file_key, hash_file

#: Local file name of the ImageNet weights (no top) per architecture; the names Keras uses.
WEIGHT_FILES: dict[str, str] = {
    "mobilenet": "mobilenet_1_0_224_tf_no_top.h5",
    "mobilenetv2": "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
    "resnet50": "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
}


class WeightsUnavailableError(RuntimeError):
    """ImageNet weights could neither be found locally nor downloaded (training chapter)."""


@dataclass(frozen=True)
class ResolvedWeights:
    """What to pass to ``keras.applications`` and which file that is (training chapter)."""

    keras_arg: str | None  # None, "imagenet" or a file path
    path: Path | None  # the local file, when one is used
    source: str  # "random" | "local" | "keras-download"


def _check_model(model_name: str) -> None:
    if model_name not in WEIGHT_FILES:
        raise ValueError(
            f"Unknown model {model_name!r}: expected one of {sorted(WEIGHT_FILES)}."
        )


def resolve_weights(
    model_name: str,
    weights: str | os.PathLike[str] | None,
    weights_dir: str | os.PathLike[str] | None = None,
) -> ResolvedWeights:
    """Turn ``None`` / ``"imagenet"`` / a path into a concrete weights source (training chapter)."""
    _check_model(model_name)
    fname = WEIGHT_FILES[model_name]
    if weights is None or (isinstance(weights, str) and weights.lower() in ("", "none", "random")):
        return ResolvedWeights(None, None, "random")
    if isinstance(weights, str) and weights == "imagenet":
        folder = config.weights_dir(weights_dir)
        if folder is None:
            return ResolvedWeights("imagenet", None, "keras-download")
        path = folder / fname
        if not path.is_file():
            raise WeightsUnavailableError(
                f"Local ImageNet weights for {model_name!r} not found: expected the file {fname!r} "
                f"in the weights folder {folder} (from the weights_dir parameter or "
                f"${config.ENV_WEIGHTS_DIR}). Put the file there, pass weights=<path to the file>, "
                f"or unset ${config.ENV_WEIGHTS_DIR} to let Keras download it (needs internet)."
            )
        return ResolvedWeights(str(path), path, "local")
    path = Path(weights).expanduser().resolve()
    if path.is_dir():
        path = path / fname
    if not path.is_file():
        raise WeightsUnavailableError(
            f"Weights file not found: {path}. Pass weights=None, 'imagenet', or the path to "
            f"{fname!r} (or to a folder containing it)."
        )
    return ResolvedWeights(str(path), path, "local")


def keras_download_path(model_name: str, resolution: int) -> Path | None:
    """Where Keras keeps its downloaded no-top weights for this model, if present (training chapter)."""
    from keras.src.backend import config as kconfig  # Keras's cache location (~/.keras)

    if model_name == "mobilenet":
        rows = resolution if resolution in (128, 160, 192, 224) else 224
        fname = f"mobilenet_1_0_{rows}_tf_no_top.h5"
    elif model_name == "mobilenetv2":
        rows = resolution if resolution in (96, 128, 160, 192, 224) else 224
        fname = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5"
    else:
        fname = WEIGHT_FILES[model_name]
    path = Path(os.path.expanduser(kconfig.keras_home())) / "models" / fname
    return path if path.is_file() else None


def offline_error(model_name: str, cause: BaseException) -> WeightsUnavailableError:
    """The error raised when Keras cannot download ImageNet weights (training chapter)."""
    fname = WEIGHT_FILES[model_name]
    return WeightsUnavailableError(
        f"Could not download the ImageNet weights for {model_name!r} ({type(cause).__name__}: "
        f"{cause}). This machine looks offline. Set ${config.ENV_WEIGHTS_DIR} (or the weights_dir "
        f"parameter) to a folder holding {fname!r}, or pass weights=<path to {fname}>, "
        f"or weights=None for random initialisation."
    )


def is_download_failure(exc: BaseException) -> bool:
    """True when a ``keras.applications`` error is a failed weights download (training chapter)."""
    import urllib.error

    if isinstance(exc, urllib.error.URLError | ConnectionError | TimeoutError):
        return True
    text = str(exc)
    return "URL fetch failure" in text or "Name or service not known" in text


# ---------------------------------------------------------------- sha256, cached per path+mtime
_HASH_LOCK = threading.Lock()
_HASH_MEMO: dict[tuple[str, int, int], str] = {}
_HASH_FILE = "weights_sha256.json"


def file_sha256(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None) -> str:
    """sha256 of a weights file, cached per (path, size, mtime) on disk (training chapter)."""
    key = file_key(path)
    with _HASH_LOCK:
        if key in _HASH_MEMO:
            return _HASH_MEMO[key]
    store = config.cache_dir(cache_dir) / _HASH_FILE
    disk_key = f"{key[0]}|{key[1]}|{key[2]}"
    table: dict[str, str] = {}
    try:
        table = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        table = {}
    digest = table.get(disk_key)
    if digest is None:
        digest = hash_file(key[0], "sha256")
        table[disk_key] = digest
        with contextlib.suppress(OSError):  # a read-only cache only costs a re-hash next time
            atomic_write_json(store, table, sort_keys=True, durable=False)
    with _HASH_LOCK:
        _HASH_MEMO[key] = digest
    return digest


def weights_provenance(
    model_name: str,
    resolved: ResolvedWeights,
    resolution: int,
    cache_dir: str | os.PathLike[str] | None = None,
) -> dict[str, str | None]:
    """``{"weights_file", "weights_sha256", "weights_source"}`` for the run record (training chapter)."""
    path = resolved.path
    if path is None and resolved.source == "keras-download":
        path = keras_download_path(model_name, resolution)
    if path is None:
        return {"weights_file": None, "weights_sha256": None, "weights_source": resolved.source}
    return {
        "weights_file": path.name,
        "weights_sha256": file_sha256(path, cache_dir),
        "weights_source": resolved.source,
    }
