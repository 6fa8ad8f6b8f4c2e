"""Frozen fast path with a seeded split: every seed shares one feature cache (Part II)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest


class _Split:
    def __init__(self, images, ids):
        self.images, self.ids = images, ids
        self.labels = (np.arange(len(ids)) % 2).astype(np.int64)

    def __len__(self):
        return len(self.ids)


def _dataset(images, ids, parts, strategy="patient"):
    return SimpleNamespace(splits={k: _Split(images[i], ids[i]) for k, i in parts.items()},
                           fingerprint="x" * 64, resolution=32,
                           report=SimpleNamespace(split_strategy=strategy))


def test_seeded_splits_share_features_and_keep_split_order(tmp_path):
    pytest.importorskip("keras")
    from helpers.training import run, validate_params
    from helpers.training.models import base_model

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 32, 32, 3)).astype(np.uint8)
    ids = np.array([f"img{i:02d}" for i in range(12)])
    p = validate_params({"dataset": "kermany", "task": "pneumonia", "model": "mobilenet", "resolution": 32,
                         "regime": "frozen", "weights": None, "cache_dir": str(tmp_path)})
    a = _dataset(images, ids, {"train": np.arange(0, 8), "val": np.arange(8, 10),
                               "test": np.arange(10, 12)})
    b = _dataset(images, ids, {"train": np.r_[5:10, 0:3], "val": np.r_[3, 4],
                               "test": np.arange(10, 12)})  # another seed's split
    built = run.build_model(p, a)
    fa, fb = run.fit_inputs(p, built, a), run.fit_inputs(p, built, b)
    assert fa.timing["feature_cache"] == "miss" and fb.timing["feature_cache"] == "hit"
    direct = np.asarray(base_model(built.model).predict(images.astype(np.float32), verbose=0))
    for ds, f in ((a, fa), (b, fb)):
        for name, split in ds.splits.items():
            rows = [int(i[3:]) for i in split.ids]
            np.testing.assert_allclose(f.x[name], direct[rows], rtol=1e-4, atol=1e-5)
