"""What a trained model costs: parameters, MACs, saved size, inference latency (training chapter)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))


def inference_latency(model, resolution: int, *, repeats: int = 7) -> dict[str, float]:
    """Median milliseconds per image at batch 1 and batch 32, after warm-up (training chapter)."""
    rng = np.random.default_rng(0)
    x1 = rng.integers(0, 256, (1, resolution, resolution, 3)).astype(np.float32)
    x32 = rng.integers(0, 256, (32, resolution, resolution, 3)).astype(np.float32)
    for x in (x1, x1, x32):
        model.predict_on_batch(x)
    b1 = _median_ms(lambda: model.predict_on_batch(x1), repeats)
    b32 = _median_ms(lambda: model.predict_on_batch(x32), max(3, repeats // 2))
    return {"batch1": b1, "batch32_per_image": b32 / 32}


def saved_size_mb(model) -> float:
    """Size in MB (10^6 bytes) of the model saved as a ``.keras`` file, no optimizer (training chapter)."""
    import keras

    # A fresh Model over the same layers has no optimizer: we measure the deployable model.
    plain = keras.Model(model.inputs, model.outputs, name=model.name)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "model.keras"
        plain.save(path)
        return path.stat().st_size / 1e6


def model_costs(model) -> dict[str, Any]:
    """Parameters and MACs via helpers.training.costs when available, else parameter counts only (training chapter)."""
    try:
        from helpers.training.costs import count_model_costs
    except ImportError:
        count_model_costs = None
    if count_model_costs is not None:
        c = dict(count_model_costs(model))
        return {"params": c.get("params"), "trainable_params": c.get("trainable_params"),
                "macs": c.get("macs"), "flops": c.get("flops")}
    trainable = int(sum(int(np.prod(v.shape)) for v in model.trainable_weights))
    return {"params": int(model.count_params()), "trainable_params": trainable,
            "macs": None, "flops": None}


def measure_model(model, resolution: int, *, measure: bool = True
                  ) -> tuple[dict[str, Any], dict[str, float | None]]:
    """(cost, latency_ms) of a run record; size and latency are None when ``measure`` is False."""
    cost = model_costs(model)
    latency: dict[str, float | None] = {"batch1": None, "batch32_per_image": None}
    cost["model_size_mb"] = None
    if measure:
        cost["model_size_mb"] = saved_size_mb(model)
        latency = inference_latency(model, resolution)
    return cost, latency
