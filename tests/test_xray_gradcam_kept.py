"""scripts/xray_gradcam.py --from-records: Grad-CAM of kept fine-tuned models (chapter 07)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
from test_data_kermany_mnist import make_kermany

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "xray_gradcam.py"


def _script():
    spec = importlib.util.spec_from_file_location("xray_gradcam", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_kept_runs_maps_kept_models_and_names_the_others(tmp_path, monkeypatch):
    from helpers.training import kept, validate_params
    from helpers.training.models import build_model
    from helpers.training.run import load_data

    root = make_kermany(tmp_path / "data")
    monkeypatch.setenv("RESBOOK_DATA_DIR", str(root))
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    params = {"dataset": "kermany", "task": "pneumonia", "model": "mobilenetv2",
              "resolution": 32, "regime": "partial", "unfreeze_layers": 30, "preprocessing": "unit", "seed": 0,
              "weights": None}
    recs = tmp_path / "records"
    recs.mkdir()
    entry = kept.keep_model(build_model("mobilenetv2", 32, weights=None), "run-a")
    for rid, extra in (("run-a", {"kept_model": entry}), ("run-b", {})):
        rec = {"run_id": rid, "status": "ok", "params": params,
               "metrics": {"test": {"auc": 0.5}}, **extra}
        (recs / f"{rid}.json").write_text(json.dumps(rec))
    ids = load_data(validate_params(params)).splits["test"].ids[:4].tolist()

    out, skipped = _script().kept_runs(str(recs), "partial", ids)
    assert list(out) == ["run-a"] and skipped == ["run-b"]
    e = out["run-a"]
    assert (e["regime"], e["resolution"], e["layer"]) == ("partial", 32, "out_relu")
    assert e["early"]["layer"] == "block_6_expand_relu" and e["early"]["feature_map_px"] == 4
    for share in (e["lung_share_mean"], e["early"]["corner_share_mean"]):
        assert np.isnan(share) or 0.0 <= share <= 1.0
    assert _script().kept_runs(str(recs), "full", ids) == ({}, [])  # regime filter
