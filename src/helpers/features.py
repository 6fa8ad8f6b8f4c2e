"""Cached pooled features of a frozen ImageNet base (training chapter, ``regime="frozen"``).

In the frozen regime the base never changes, so its pooled output for an image is a pure
function of (image pixels, architecture, resolution, preprocessing, weights). We compute it once
and store it under ``cache_dir()/features/`` as an ``.npz`` (written atomically); every later run
that shares those inputs (another seed, task, epoch count, learning rate, …) trains only the
Dense head on the stored features. The cache key hashes the image ids *and pixels*, never the
labels, so the melanoma and seborrheic-keratosis tasks share one file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

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
) -> Path:
    """File holding the features for one (images, base) combination (training chapter)."""
    key = hashlib.sha256(
        f"{dataset}|{model}|{resolution}|{preprocessing}|{weights_id}|{digest}".encode()
    ).hexdigest()[:16]
    name = f"{dataset}-{model}-{resolution}-{preprocessing}-{key}.npz"
    return config.cache_dir(cache_dir) / FEATURES_SUBDIR / name


def compute_features(extractor, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Run a feature extractor over uint8 images in batches, in inference mode (training chapter)."""
    out = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].astype(np.float32)
        out.append(np.asarray(extractor.predict_on_batch(batch), dtype=np.float32))
    dim = int(extractor.output_shape[-1])
    return np.concatenate(out, axis=0) if out else np.zeros((0, dim), np.float32)


def cached_features(
    extractor,
    images: np.ndarray,
    ids: np.ndarray,
    path: Path,
    batch_size: int = 64,
) -> tuple[np.ndarray, bool]:
    """(features, hit): read from ``path`` if stored, else computed and stored (training chapter)."""
    ids = np.asarray(ids).astype(str)
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                stored_ids, feats = z["ids"].astype(str), z["features"]
            if stored_ids.shape == ids.shape and (stored_ids == ids).all():
                return feats.astype(np.float32, copy=False), True
        except DAMAGED_FILE_ERRORS as exc:  # an unreadable file is recomputed and replaced
            warn_damaged(path, exc, "recomputing the features")
    feats = compute_features(extractor, images, batch_size)
    atomic_write(path, lambda fh: np.savez(fh, ids=ids, features=feats), durable=False)
    return feats, False
