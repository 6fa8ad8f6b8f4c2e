"""Operating points and calibration per configuration: what a screening app would see (results chapter).

Job: (a) sensitivity and specificity at the paper's fixed 0.5 threshold and at thresholds chosen
on the VALIDATION split (Youden, 90 % sensitivity) and applied to test, plus the test ROC's
sensitivity at 90 % specificity (:func:`helpers.stats.operating.operating_points`), as means over
seeds; (b) Brier score and expected calibration error, before and after temperature scaling
fitted on validation (:mod:`helpers.stats.calibration`), and the pooled reliability table of a
configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from helpers.runs.frames import cell_groups, config_columns
from helpers.stats import calibration, operating

RULES: dict[str, str] = {"0.5": "@ 0.5", "youden": "@ Youden (val)", "sens90": "@ 90 % sens (val)"}
"""Threshold rules of :func:`helpers.stats.operating.operating_points` and their column labels."""


def _record(run: pd.Series) -> dict[str, Any]:
    return {"run_id": run["run_id"], "predictions": {"val": run["pred_val"], "test": run["pred_test"]}}


def operating_table(df: pd.DataFrame) -> pd.DataFrame:
    """Mean test sensitivity/specificity over seeds under each threshold rule, per configuration.

    Columns ``sens_<rule>``, ``spec_<rule>``, ``thr_<rule>`` for rule in :data:`RULES`, and
    ``sens_at_spec90`` (test ROC, an upper bound rather than a rule), plus ``n_seeds``.
    """
    rows = []
    for where, sub in cell_groups(df, config_columns(df)):
        points = [operating.operating_points(_record(run)) for _, run in sub.iterrows()]
        row: dict[str, Any] = {**where, "n_seeds": len(points)}
        for rule in RULES:
            for key, short in (("sensitivity", "sens"), ("specificity", "spec"), ("threshold", "thr")):
                row[f"{short}_{rule}"] = float(np.mean([p["rules"][rule][key] for p in points]))
        row["sens_at_spec90"] = float(np.mean([p["sens_at_spec90"] for p in points]))
        rows.append(row)
    return pd.DataFrame(rows)


def calibration_table(df: pd.DataFrame, n_bins: int = 10) -> pd.DataFrame:
    """Brier and ECE (uniform and quantile bins) per configuration, mean over seeds (results chapter).

    ``*_ts`` columns: after temperature scaling with T fitted on each seed's validation split
    (``temperature``: mean T), applied to its test predictions; AUC is unchanged by it.
    """
    rows = []
    for where, sub in cell_groups(df, config_columns(df)):
        per_seed = []
        for _, run in sub.iterrows():
            y, p = run["pred_test"]["labels"], run["pred_test"]["probs"]
            t = calibration.fit_temperature(run["pred_val"]["labels"], run["pred_val"]["probs"])
            per_seed.append(_scores(y, p, n_bins) | _scores(y, calibration.apply_temperature(p, t),
                                                            n_bins, "_ts") | {"temperature": t})  # fmt: skip
        mean = pd.DataFrame(per_seed).mean().to_dict()
        rows.append({**where, "n_seeds": len(sub), "mean_prob": _mean_prob(sub), **mean})
    return pd.DataFrame(rows)


def _scores(y: np.ndarray, p: np.ndarray, n_bins: int, tag: str = "") -> dict[str, float]:
    return {
        f"brier{tag}": calibration.brier_score(y, p),
        f"ece{tag}": calibration.expected_calibration_error(y, p, n_bins),
        f"ece_q{tag}": calibration.expected_calibration_error(y, p, n_bins, "quantile"),
    }


def _mean_prob(sub: pd.DataFrame) -> float:
    return float(np.mean([run["pred_test"]["probs"].mean() for _, run in sub.iterrows()]))


def best_cells(
    tests: pd.DataFrame, keep: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Rows of a resolution-comparison table at each family's best input size (results chapter)."""
    best = tests[tests["resolution"] == tests["best_resolution"]]
    for key, value in (keep or {}).items():
        best = best[best[key] == value]
    return best.reset_index(drop=True)


def pooled_reliability(
    df: pd.DataFrame, where: Mapping[str, Any], n_bins: int = 10, strategy: str = "quantile"
) -> pd.DataFrame:
    """Reliability table of one configuration, its seeds' test predictions pooled (results chapter)."""
    sub = df
    for key, value in where.items():
        sub = sub[sub[key] == value]
    y = np.concatenate([run["pred_test"]["labels"] for _, run in sub.iterrows()])
    p = np.concatenate([run["pred_test"]["probs"] for _, run in sub.iterrows()])
    return calibration.reliability_table(y, p, n_bins=n_bins, strategy=strategy)
