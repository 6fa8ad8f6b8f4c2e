"""Deployment chapter: the int8 family's tests (Holm, equivalence) and the model chosen on
validation, never on test (issue 25, items 2–4)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import deployment as D
from helpers.stats.delong import holm_adjust


def _frame(deltas, ses, ps, aucs, lat, run_ids) -> pd.DataFrame:
    n = len(deltas)
    return pd.DataFrame({
        "model": ["mobilenet"] * n, "resolution": [64 * (i + 1) for i in range(n)],
        "format": ["int8"] * n, "delta_auc": deltas, "delta_se": ses, "delta_p": ps,
        "auc": aucs, "lat1_ms": lat, "run_id": run_ids})


def test_int8_tests_adjust_over_the_family_and_word_each_file():
    df = _frame([-0.05, -0.001, 0.03], [0.01, 0.004, 0.02], [1e-4, 0.8, 0.13],
                [0.7, 0.75, 0.8], [1, 2, 3], ["a", "b", "c"])
    t = D.int8_tests(df, margin=0.02)
    assert np.allclose(t["p_holm"], holm_adjust([1e-4, 0.8, 0.13]))
    # a difference after Holm; inside ±0.02 (90 % CI −0.0076..0.0056); too wide to tell
    assert list(t["verdict"]) == ["lower", "equivalent", "inconclusive"]
    assert list(t["equivalent"]) == [False, True, False]


def test_a_raw_p_below_alpha_is_not_a_difference_after_holm():
    # two files at p = 0.03: each "significant" alone, neither after Holm over the pair
    df = _frame([-0.03, -0.03], [0.0138, 0.0138], [0.03, 0.03], [0.7, 0.7], [1, 1], ["a", "b"])
    t = D.int8_tests(df, margin=0.02)
    assert (t["p_holm"] > 0.05).all() and set(t["verdict"]) == {"inconclusive"}


def test_the_model_to_ship_is_chosen_on_validation_not_on_test():
    # "b" has the best test AUC, "a" the best validation AUC; "c" is too slow
    df = _frame([0, 0, 0], [0.01] * 3, [0.5] * 3, [0.70, 0.90, 0.95], [10, 20, 80],
                ["a", "b", "c"])
    rec = D.recommend(df, {"a": 0.85, "b": 0.80, "c": 0.99}, max_ms=50)
    assert rec["run_id"] == "a" and rec["val_auc"] == 0.85
    assert D.recommend(df, {}, max_ms=50) is None  # no validation AUC: no choice


def test_validation_aucs_read_the_run_records(tmp_path):
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "a.json").write_text(json.dumps(
        {"run_id": "a", "metrics": {"val": {"auc": 0.81}, "test": {"auc": 0.7}}}))
    (tmp_path / "records" / "b.json").write_text(json.dumps({"run_id": "b", "metrics": {}}))
    assert D.validation_aucs(["a", "b", "missing", "a"], tmp_path) == {"a": pytest.approx(0.81)}
