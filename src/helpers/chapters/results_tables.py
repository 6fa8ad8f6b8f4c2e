"""Table I and Table II of the results chapter (04), and their display formatting.

Job: per-configuration tables computed from :func:`helpers.runs.frames.load_runs` rows
(Table I: metrics with intervals over seeds; Table II: cost and accuracy per unit of cost), the
paper's Table I in our units, and the copies of these tables made for reading.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from helpers import paper_reference as ref
from helpers.chapters.formatting import MISSING, ci_text, format_p
from helpers.runs.frames import (
    METRIC_LABELS,
    METRICS,
    PARAM_KEYS,
    PERCENT_METRICS,
    NoRunsError,
    cell_groups,
    check_seeds,
    config_columns,
    model_label,
)
from helpers.stats import delong as stats


def _fmt(metric: str, mean: float, lo: float, hi: float) -> str:
    if metric in PERCENT_METRICS:
        return ci_text(mean, lo, hi, scale=100.0, digits=1)
    return ci_text(mean, lo, hi, digits=3)


def table_one(
    df: pd.DataFrame, split: str = "test", level: float = 0.95, auc_interval: str = "t"
) -> pd.DataFrame:
    """Accuracy, F1, sensitivity, specificity, AUC per configuration: mean and t-CI over seeds (results chapter).

    Numeric columns (fractions) ``<metric>``, ``<metric>_lo``, ``<metric>_hi`` for glue, and display
    strings under :data:`METRIC_LABELS` ("mean [lo, hi]"; percentages for accuracy/sens/spec).
    The t-interval is clipped to [0, 1], the range of every metric here.

    ``auc_interval="or_hillis"`` replaces the AUC's seed-only t-interval by the
    Obuchowski–Rockette–Hillis interval of the seed-mean AUC (:func:`helpers.stats.mrmc.or_hillis_single`,
    seed and test-image variance; one seed: the DeLong interval); ``auc_ci`` names the method.
    """
    if auc_interval not in ("t", "or_hillis"):
        raise ValueError(f"auc_interval must be 't' or 'or_hillis'; got {auc_interval!r}")
    keys = config_columns(df)
    rows = []
    for where, sub in cell_groups(df, keys):
        check_seeds(sub, where)
        row: dict[str, Any] = {**where, "n_seeds": len(sub)}
        for metric in METRICS:
            col = f"{split}_{metric}"
            if col not in sub or sub[col].isna().any():
                raise ValueError(
                    f"runs {sub['run_id'].tolist()} lack metrics.{split}.{metric}: "
                    "re-run them with the current helpers.stats.metrics"
                )
            mean, lo, hi = stats.mean_ci(sub[col].astype(float).to_numpy(), level)
            lo, hi = max(lo, 0.0), min(hi, 1.0)  # all five metrics live in [0, 1]; NaN stays NaN
            row.update({metric: mean, f"{metric}_lo": lo, f"{metric}_hi": hi})
            row[METRIC_LABELS[metric]] = _fmt(metric, mean, lo, hi)
        if auc_interval == "or_hillis":
            row.update(_or_hillis_auc(sub, split, level))
        rows.append(row)
    return pd.DataFrame(rows)


def _or_hillis_auc(sub: pd.DataFrame, split: str, level: float) -> dict[str, Any]:
    from helpers.analysis.compare import align_predictions
    from helpers.stats import mrmc

    _, labels, probs = align_predictions(sub.sort_values("seed"), split)
    res = mrmc.or_hillis_single(labels, probs, level=level)
    mean, lo, hi = res["auc"], res["ci_low"], res["ci_high"]
    return {
        "auc": mean,
        "auc_lo": lo,
        "auc_hi": hi,
        "auc_ci": res["method"],
        METRIC_LABELS["auc"]: _fmt("auc", mean, lo, hi),
    }


def display_table(table: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """Display copy: model names spelled out, numbers rounded, glue-only columns dropped (results chapter).

    p-values (``p``, the float ``p_*`` columns and the per-seed tuples of ``p_seeds``) are written
    by :func:`format_p`; show the copy
    with :func:`helpers.chapters.formatting.styled`, which marks missing values.
    """
    out = table.copy()
    if "model" in out:
        out["model"] = out["model"].map(model_label)
    drop = [
        c
        for c in out.columns
        if (c in METRICS and METRIC_LABELS[c] in out)
        or c.endswith(("_lo", "_hi"))
        or c in ("p_seed_max", "pred_test", "pred_val", "history")
    ]
    out = out.drop(columns=drop)
    for col in out.columns:
        if col == "p" or (col.startswith("p_") and pd.api.types.is_float_dtype(out[col])):
            out[col] = [format_p(v) for v in out[col]]
        elif col.startswith("p_") and out[col].map(lambda v: isinstance(v, tuple)).all():
            # per-seed p-values (analysis.compare): one text, or missing when no common seed
            out[col] = [", ".join(format_p(p) for p in v) if v else MISSING for v in out[col]]
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(digits)
    return out.reset_index(drop=True)


def paper_table_one() -> pd.DataFrame:
    """The paper's Table I as quoted in :mod:`helpers.paper_reference`, in our units (results chapter)."""
    df = pd.DataFrame(list(ref.TABLE_I), columns=list(ref.TABLE_I_COLUMNS))
    df["model"] = df["model"].str.lower()
    for metric in PERCENT_METRICS:
        df[metric] = df.pop(f"{metric}_pct") / 100.0
    for metric in METRICS:  # printed precision: 2 decimals for %, 3 for F1, 4 for AUC
        digits = {"f1": 3, "auc": 4}.get(metric, 2)
        scale = 100.0 if metric in PERCENT_METRICS else 1.0
        df[METRIC_LABELS[metric]] = [f"{v * scale:.{digits}f}" for v in df[metric]]
    return df[["model", "resolution", *METRICS, *METRIC_LABELS.values()]]


def side_by_side(
    ours: pd.DataFrame, paper: pd.DataFrame, metrics: Sequence[str] = METRICS
) -> pd.DataFrame:
    """Our Table I next to the paper's, matched on model and resolution (results chapter)."""
    keys = [c for c in ours.columns if c in config_columns_from_table(ours)]
    left = ours[[*keys, *(METRIC_LABELS[m] for m in metrics)]]
    right = paper[["model", "resolution", *(METRIC_LABELS[m] for m in metrics)]]
    merged = left.merge(right, on=["model", "resolution"], how="left", suffixes=(" ours", " paper"))
    merged = merged.fillna("–")
    merged["model"] = merged["model"].map(model_label)
    return merged


def config_columns_from_table(table: pd.DataFrame) -> list[str]:
    """Configuration columns of a table made by this module (results chapter)."""
    return [c for c in ("model", "resolution", *PARAM_KEYS) if c in table and c != "seed"]


def table_two(df: pd.DataFrame, split: str = "test", resolution: int | None = None) -> pd.DataFrame:
    """Model size, accuracy and accuracy per MB / GFLOP / ms of batch-1 latency (results chapter).

    Cost columns a record does not hold (e.g. latency not measured) are NaN;
    ``n_latency`` counts the runs of each row that measured latency.
    """
    if f"{split}_accuracy" not in df or df[f"{split}_accuracy"].isna().any():
        raise ValueError(f"some runs lack metrics.{split}.accuracy: re-run them")
    sub_df = df if resolution is None else df[df["resolution"] == resolution]
    if sub_df.empty:
        raise NoRunsError(f"no runs at resolution {resolution}")

    def mean_of(sub: pd.DataFrame, col: str) -> float:
        if col not in sub:
            return math.nan
        return float(pd.to_numeric(sub[col], errors="coerce").mean())

    rows = []
    for where, sub in cell_groups(sub_df, config_columns(df)):
        acc = 100.0 * float(sub[f"{split}_accuracy"].mean())
        size = mean_of(sub, "cost_model_size_mb")
        gflops = mean_of(sub, "cost_flops") / 1e9
        latency = mean_of(sub, "latency_batch1_ms")
        n_lat = int(pd.to_numeric(sub.get("latency_batch1_ms"), errors="coerce").notna().sum())
        rows.append(
            {
                **where,
                "n_seeds": len(sub),
                "n_latency": n_lat,
                "model_size_mb": size,
                "gflops": gflops,
                "latency_ms": latency,
                "accuracy_pct": acc,
                "accuracy_density": acc / size,
                "accuracy_per_gflop": acc / gflops,
                "accuracy_per_ms": acc / latency,
            }
        )
    return pd.DataFrame(rows)
