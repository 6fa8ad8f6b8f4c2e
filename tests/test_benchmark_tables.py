"""scripts/benchmark.py --precision-table: the README table comes from the JSON, not typed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "benchmark.py"


def _bench():
    spec = importlib.util.spec_from_file_location("benchmark", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_precision_table_from_json_into_readme(tmp_path: Path, capsys) -> None:
    rows = [{"model": "mobilenet", "resolution": 128, "precision": p, "train_img_s": t,
             "infer_img_s": i} for p, t, i in (("float32", 50.0, 200.0),
                                               ("mixed_bfloat16", 90.0, 300.0))]
    data = tmp_path / "p.json"
    data.write_text(json.dumps({"precision": rows, "cpu": {"model": "X", "usable_cores": 2},
                                "bf16_hardware": {"cpu_bf16": True}}))
    readme = tmp_path / "README.md"
    readme.write_text("a\n<!-- precision-table:start -->\nold\n<!-- precision-table:end -->\nb\n")
    assert _bench().precision_table(data, readme) == 0
    text = readme.read_text()
    assert "| mobilenet | 128 | 50.0 | 90.0 | 1.80x | 200.0 | 300.0 | 1.50x |" in text
    assert "old" not in text and text.startswith("a\n") and text.endswith("b\n")
    assert "bf16 in hardware: True" in capsys.readouterr().out


def test_precision_table_refuses_a_file_without_precision_rows(tmp_path: Path) -> None:
    data = tmp_path / "p.json"
    data.write_text(json.dumps({"precision": []}))
    with pytest.raises(SystemExit, match="no precision rows"):
        _bench().precision_table(data)
