"""Cached pooled features of a frozen ImageNet base (training chapter, ``regime="frozen"``).

In the frozen regime the base never changes, so its pooled output for an image is a pure
function of (image pixels, architecture, resolution, preprocessing, weights). We compute it once
and store it under ``cache_dir()/features/`` as an ``.npz`` (written atomically); every later run
that shares those inputs (another seed, task, epoch count, learning rate, …) trains only the
Dense head on the stored features. The cache key hashes the image ids *and pixels*, never the
labels, so the melanoma and seborrheic-keratosis tasks share one file. Images made square
another way than the defaults (``geometry``/``resample``, :mod:`helpers.data.resize`) name both
in the key and the file name as well, so no run reads features of images made another way.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path
from typing import TextIO

import numpy as np

from helpers import config
from helpers.files import DAMAGED_FILE_ERRORS, atomic_write, warn_damaged

FEATURES_SUBDIR = "features"


def images_digest(ids: np.ndarray, images: np.ndarray) -> str:
    """blake2b digest over image ids and pixel bytes (training chapter)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{images.shape}|{images.dtype}\n".encode())
    for i in ids:
        h.update(str(i).encode() + b"\0")
    h.update(np.ascontiguousarray(images).data)
    return h.hexdigest()


def feature_cache_path(
    *,
    dataset: str,
    model: str,
    resolution: int,
    preprocessing: str,
    weights_id: str,
    digest: str,
    cache_dir: str | os.PathLike[str] | None = None,
    geometry: str = "squash",
    resample: str = "bilinear",
) -> Path:
    """File holding the features for one (images, base) combination (training chapter).

    At the default ``geometry``/``resample`` (squash, bilinear) the key is what it was before
    they existed, so existing caches stay valid; other values enter the key and the name.
    """
    resize = "" if (geometry, resample) == ("squash", "bilinear") else f"-{geometry}-{resample}"
    key = hashlib.sha256(
        f"{dataset}|{model}|{resolution}|{preprocessing}|{weights_id}|{digest}{resize}".encode()
    ).hexdigest()[:16]
    name = f"{dataset}-{model}-{resolution}-{preprocessing}{resize}-{key}.npz"
    return config.cache_dir(cache_dir) / FEATURES_SUBDIR / name


PROGRESS_EVERY_S = 15.0
"""Seconds between progress lines of a feature extraction (none for a faster one)."""


def _progress_stream() -> TextIO:
    """The process's own stderr: in a Jupyter kernel it reaches the notebook *and* the terminal
    of the sweep that started the kernel (``sys.stderr`` there reaches the notebook only)."""
    return sys.__stderr__ or sys.stderr


def _say_progress(label: str, done: int, total: int, elapsed: float, stream: TextIO) -> None:
    left = elapsed * (total - done) / done if done else 0.0
    what = f"features {label}: " if label else "features: "
    line = (f"{what}{done}/{total} images ({100 * done // max(total, 1)}%), {elapsed:.0f} s "
            + (f"elapsed, about {left:.0f} s left" if done < total else "in all"))
    print(line, file=stream, flush=True)


def compute_features(extractor, images: np.ndarray, batch_size: int = 64, *, label: str = "",
                     every_s: float = PROGRESS_EVERY_S, stream: TextIO | None = None,
                     ) -> np.ndarray:
    """Run a feature extractor over uint8 images in batches, in inference mode (training chapter).

    An extraction that takes longer than ``every_s`` prints a progress line (``label``, images
    done / total, seconds elapsed and left) every ``every_s`` seconds and one when it is done,
    to ``stream`` (default: the process's stderr), so a cold cache is not silent for minutes.
    """
    out = []
    t0 = last = time.perf_counter()
    said = False
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].astype(np.float32)
        out.append(np.asarray(extractor.predict_on_batch(batch), dtype=np.float32))
        now = time.perf_counter()
        done = min(start + batch_size, len(images))
        if now - last >= every_s and done < len(images):
            _say_progress(label, done, len(images), now - t0, stream or _progress_stream())
            last, said = now, True
    if said:
        _say_progress(label, len(images), len(images), time.perf_counter() - t0,
                      stream or _progress_stream())
    dim = int(extractor.output_shape[-1])
    return np.concatenate(out, axis=0) if out else np.zeros((0, dim), np.float32)


def cached_features(
    extractor,
    images: np.ndarray,
    ids: np.ndarray,
    path: Path,
    batch_size: int = 64,
    *,
    label: str = "",
) -> tuple[np.ndarray, bool]:
    """(features, hit): read from ``path`` if stored, else computed and stored (training chapter).

    A computation reports its progress (:func:`compute_features`, ``label`` names the base).
    """
    ids = np.asarray(ids).astype(str)
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                stored_ids, feats = z["ids"].astype(str), z["features"]
            if stored_ids.shape == ids.shape and (stored_ids == ids).all():
                return feats.astype(np.float32, copy=False), True
        except DAMAGED_FILE_ERRORS as exc:  # an unreadable file is recomputed and replaced
            warn_damaged(path, exc, "recomputing the features")
    feats = compute_features(extractor, images, batch_size, label=label)
    atomic_write(path, lambda fh: np.savez(fh, ids=ids, features=feats), durable=False)
    return feats, False
