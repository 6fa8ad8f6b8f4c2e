"""Training through Keras's JAX backend on a machine without TensorFlow (the GPU machine's set-up).

The GPU machine this project borrows has PyTorch and JAX but no TensorFlow, so the training path
must not need TensorFlow. The run happens in a subprocess with ``KERAS_BACKEND=jax`` and an import
hook that makes ``import tensorflow`` fail, on a tiny real subset of ISIC 2017 at 32 px.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("jax")

needs_data_and_weights = pytest.mark.skipif(
    not (os.environ.get("RESBOOK_DATA_DIR", "").strip()
         and os.environ.get("RESBOOK_WEIGHTS_DIR", "").strip()),
    reason="RESBOOK_DATA_DIR and RESBOOK_WEIGHTS_DIR are needed (real images, local weights)",
)

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, json, sys

    class NoTensorFlow(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "tensorflow" or name.startswith("tensorflow."):
                raise ImportError("TensorFlow is blocked in this test")

    sys.meta_path.insert(0, NoTensorFlow())
    import keras
    from helpers.training import run_training

    out = {"backend": keras.backend.backend()}
    base = {"dataset": "isic2017", "task": "melanoma", "model": "mobilenet", "resolution": 32,
            "epochs": 2, "max_images": 16, "weights": "imagenet", "output_dir": sys.argv[1]}
    for regime in ("full", "full", "frozen"):
        rec = run_training({**base, "regime": regime}, verbose=0, measure=regime == "frozen")
        out.setdefault(regime, []).append({
            "status": rec["status"],
            "record_backend": rec["provenance"]["keras_backend"],
            "probs": rec["predictions"]["test"]["probs"],
            "loss": rec["history"]["loss"],
            "latency": rec.get("latency_ms"),
        })
    out["tf_loaded"] = "tensorflow" in sys.modules
    print("RESULT " + json.dumps(out))
    """
)


@needs_data_and_weights
def test_training_runs_on_jax_without_tensorflow(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "RESBOOK_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "out")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(s for s in proc.stdout.splitlines() if s.startswith("RESULT "))
    out = json.loads(line[len("RESULT "):])
    assert out["backend"] == "jax" and not out["tf_loaded"]
    first, second = out["full"]
    frozen = out["frozen"][0]
    for run in (first, second, frozen):
        assert run["status"] == "ok" and run["record_backend"] == "jax"
        assert len(run["probs"]) == 16 and all(0.0 <= p <= 1.0 for p in run["probs"])
        assert len(run["loss"]) == 2
    # Same seed on the CPU: the same predictions, also on the JAX backend.
    assert first["probs"] == second["probs"] and first["loss"] == second["loss"]
    assert frozen["latency"]["batch1"] > 0
