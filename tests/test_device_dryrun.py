"""The GPU path end to end on the CPU (issue 23, item 4): scripts/device_dryrun.sh.

prepare --code-only → pack-inputs (several carry folders) → unpack-inputs → run --pack with
Keras on JAX and without what the GPU machine lacks (TensorFlow, papermill, Jupyter:
scripts/gpu_machine_imports) → bench → collect.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not (os.environ.get("RESBOOK_DATA_DIR", "").strip()
         and os.environ.get("RESBOOK_WEIGHTS_DIR", "").strip()),
    reason="RESBOOK_DATA_DIR and RESBOOK_WEIGHTS_DIR are needed (real images, local weights)")


def test_the_gpu_path_runs_end_to_end_on_the_cpu(tmp_path: Path) -> None:
    import sys

    env = {**os.environ, "ALLOW_DIRTY": "1", "PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "device_dryrun.sh"), str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert len(list((tmp_path / "carry").glob("c*"))) >= 2  # dealt into several calls
    assert "2 runs in 1 packs of up to 2" in proc.stdout
    recs = [json.loads(p.read_text()) for p in (tmp_path / "collected" / "records").glob("*.json")]
    assert sorted(r["params"]["seed"] for r in recs) == [0, 1]
    for r in recs:
        assert r["status"] == "ok" and r["provenance"]["keras_backend"] == "jax"
        assert "external" in r["predictions"]  # PH2 scored, as every GPU-grid run does
    bench = json.loads((tmp_path / "bench.json").read_text())
    assert bench["summary"]["runs"] == 2
