"""CPU latency per image (batch 1) and float32 size: MobileNetV2 vs ResNet50 vs DenseNet121 (chapter 07).

Kilaru et al. call their MobileNetV2 "60 % faster" than heavier networks; CheXNet's architecture
is DenseNet121. Each network gets the book's head (GAP → Dropout → Dense(1, sigmoid)) at 224 px;
timing does not depend on the weights, so DenseNet121 (no local ImageNet file) uses random
ones. The models are timed *interleaved* (round robin, ``--rounds`` rounds of ``--repeats``
calls each, after warm-up) so that a busy shared CPU slows all of them alike; the record keeps
the load average. Writes ``results/xray/latency.json``.

    python scripts/xray_latency.py [--rounds 5] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RES = 224


def build(name: str):
    import keras

    if name == "densenet121":
        base = keras.applications.DenseNet121(include_top=False, weights=None,
                                              input_shape=(RES, RES, 3))
        x = keras.layers.GlobalAveragePooling2D()(base.output)
        x = keras.layers.Dropout(0.5)(x)
        out = keras.layers.Dense(1, activation="sigmoid")(x)
        return keras.Model(base.input, out, name="densenet121_224")
    from helpers.training import models

    return models.build_model(name, RES, weights=None, preprocessing="unit")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", default=str(ROOT / "results" / "xray" / "latency.json"))
    a = ap.parse_args(argv)
    from helpers.training.measure import model_costs, saved_size_mb

    names = ["mobilenetv2", "resnet50", "densenet121"]
    nets = {n: build(n) for n in names}
    x = np.random.default_rng(0).integers(0, 256, (1, RES, RES, 3)).astype(np.float32)
    for m in nets.values():
        for _ in range(3):
            m.predict_on_batch(x)
    times: dict[str, list[float]] = {n: [] for n in names}
    load0 = os.getloadavg()
    for _ in range(a.rounds):
        for n, m in nets.items():
            for _ in range(a.repeats):
                t = time.perf_counter()
                m.predict_on_batch(x)
                times[n].append((time.perf_counter() - t) * 1000)
    out = {"resolution": RES, "batch": 1, "rounds": a.rounds, "repeats": a.repeats,
           "loadavg_before": load0, "loadavg_after": os.getloadavg(),
           "cpu": platform.processor() or platform.machine(), "models": {}}
    for n, m in nets.items():
        c = model_costs(m)
        out["models"][n] = {"median_ms": float(np.median(times[n])),
                            "p10_ms": float(np.percentile(times[n], 10)),
                            "p90_ms": float(np.percentile(times[n], 90)),
                            "params": c["params"], "macs": c["macs"],
                            "size_mb_float32": saved_size_mb(m)}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(json.dumps(out["models"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
