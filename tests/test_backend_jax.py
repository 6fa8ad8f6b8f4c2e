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


@pytest.fixture(scope="module")
def fresh_runs(tmp_path_factory):
    """SCRIPT's output: two full runs and a frozen one on JAX, TensorFlow blocked."""
    tmp = tmp_path_factory.mktemp("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "RESBOOK_CACHE_DIR": str(tmp / "cache"), "PYTHONHASHSEED": "0"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp / "out")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(s for s in proc.stdout.splitlines() if s.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


@needs_data_and_weights
def test_training_runs_on_jax_without_tensorflow(fresh_runs):
    out = fresh_runs
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


PACK_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from helpers.sweep.device import train_pack
    out_dir, log_dir = Path(sys.argv[1]), Path(sys.argv[2])
    log_dir.mkdir(parents=True, exist_ok=True)
    base = {"dataset": "isic2017", "task": "melanoma", "model": "mobilenet", "resolution": 32,
            "epochs": 2, "max_images": 16, "weights": "imagenet", "regime": "full"}
    specs = [{"run_id": f"pack-s{s}", "params": {**base, "seed": s}} for s in (1, 0)]
    got = train_pack(specs, {"output_dir": str(out_dir)}, str(log_dir), None)
    recs = {json.loads(p.read_text())["params"]["seed"]: json.loads(p.read_text())
            for p in (out_dir / "records").glob("*.json")}
    print("RESULT " + json.dumps({"status": [g["status"] for g in got],
          "probs0": recs[0]["predictions"]["test"]["probs"], "loss0": recs[0]["history"]["loss"]}))
    """
)


@needs_data_and_weights
def test_a_packed_run_after_another_seed_with_a_warm_compile_cache_is_the_same_run(
        tmp_path, fresh_runs):
    """The GPU path's packs (issue 23): seed 0 trained after seed 1 in one process, with JAX's
    persistent compilation cache filled by seed 1, gives seed 0's fresh-process predictions."""
    first = fresh_runs["full"][0]
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "RESBOOK_CACHE_DIR": str(tmp_path / "cache"), "PYTHONHASHSEED": "0"}
    from helpers.sweep.device import device_env

    device_env(env, 0.5, tmp_path / "jax-cache")
    packed = subprocess.run([sys.executable, "-c", PACK_SCRIPT, str(tmp_path / "packed"),
                             str(tmp_path / "logs")], env=env, capture_output=True, text=True,
                            timeout=600)
    assert packed.returncode == 0, packed.stderr[-3000:]
    out = json.loads(next(s for s in packed.stdout.splitlines()
                          if s.startswith("RESULT "))[len("RESULT "):])
    assert out["status"] == ["ok", "ok"]
    assert any((tmp_path / "jax-cache").iterdir())  # the cache was written and shared
    assert out["probs0"] == first["probs"] and out["loss0"] == first["loss"]
