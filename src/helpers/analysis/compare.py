"""Significance tests between runs and configurations: DeLong per run, paired DeLong tests (results chapter).

Job: AUC with its DeLong standard deviation for every run, and paired DeLong tests on the same
test images (joined by image id) between input sizes (:func:`resolution_tests`) or between two
values of any parameter (:func:`compare_variants`). Used by the results chapter (04).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from helpers.runs.align import align
from helpers.runs.frames import (
    NoRunsError,
    cell_groups,
    config_columns,
    record_location,
    variant_pairs,
)
from helpers.stats import delong as stats


def _pred(row: pd.Series, split: str) -> dict[str, np.ndarray]:
    pred = row.get(f"pred_{split}")
    if not isinstance(pred, dict):
        raise ValueError(f"{record_location(row['run_id'])} has no predictions.{split}")
    return pred


def delong_per_run(df: pd.DataFrame, split: str = "test", level: float = 0.95) -> pd.DataFrame:
    """AUC ± DeLong SD (and CI) of every run from its stored predictions (results chapter)."""
    rows = []
    keys = config_columns(df)
    for _, run in df.iterrows():
        pred = _pred(run, split)
        auc, var = stats.fast_delong(pred["labels"], pred["probs"])
        stored = run.get(f"{split}_auc")
        if stored is not None and not pd.isna(stored) and abs(float(stored) - auc) > 5e-3:
            raise ValueError(
                f"{record_location(run['run_id'])}: metrics.{split}.auc = {stored} but its stored "
                f"predictions give AUC {auc:.4f}; the record is inconsistent"
            )
        lo, hi = stats.delong_ci(auc, var, level)
        rows.append(
            {
                **{k: run[k] for k in keys},
                "seed": run["seed"],
                "n_pos": int(pred["labels"].sum()),
                "n_neg": int((pred["labels"] == 0).sum()),
                "auc": auc,
                "auc_sd": math.sqrt(var),
                "auc_lo": lo,
                "auc_hi": hi,
                "AUC ± SD": f"{auc:.3f} ± {math.sqrt(var):.3f}",
            }
        )
    return pd.DataFrame(rows)


def align_predictions(
    runs: pd.DataFrame, split: str = "test"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, labels, probs[run, image]) of several runs joined by image id (sorted); id sets must
    match (results chapter; :func:`helpers.runs.align.align`)."""
    preds = [(run["run_id"], *(_pred(run, split)[k] for k in ("ids", "labels", "probs")))
             for _, run in runs.iterrows()]
    return align(preds, split)


def _seed_ps(
    labels: np.ndarray, probs: np.ndarray, seeds: np.ndarray, rows_a: np.ndarray, rows_b: np.ndarray
) -> list[float]:
    """Per-seed paired p-values for the seeds run in both configurations a and b."""
    by_seed_b = {seeds[i]: i for i in rows_b}
    out = []
    for i in rows_a:
        j = by_seed_b.get(seeds[i])
        if j is not None:
            out.append(stats.delong_paired_test(labels, probs[i], probs[j])["p"])
    return out


def _seed_summary(ps: list[float], alpha: float) -> dict[str, Any]:
    return {
        "p_seeds": tuple(float(p) for p in ps),
        "p_seed_max": max(ps) if ps else math.nan,
        f"seeds p<{alpha:g}": f"{sum(p < alpha for p in ps)}/{len(ps)}",
    }


def resolution_tests(
    df: pd.DataFrame, split: str = "test", alpha: float = 0.05, select_on: str | None = None
) -> pd.DataFrame:
    """Paired DeLong test of each resolution against the best one, per model × variant (results chapter).

    Uses the seed-averaged probabilities of every configuration (all on the same images, joined
    by id) and also reports per-seed p-values. The best resolution has the highest
    seed-averaged AUC on ``select_on`` (default: ``split``). ``p_holm`` is Holm-adjusted within
    each model × variant family.
    """
    family_keys = [c for c in config_columns(df) if c != "resolution"]
    rows = []
    for where, fam in cell_groups(df, family_keys):
        fam = fam.sort_values(["resolution", "seed"]).reset_index(drop=True)
        ids, labels, probs = align_predictions(fam, split)
        res_values = sorted(fam["resolution"].unique())
        members = {r: np.flatnonzero(fam["resolution"].to_numpy() == r) for r in res_values}
        ens = np.vstack([probs[members[r]].mean(axis=0) for r in res_values])
        aucs, cov = stats.delong_covariance(labels, ens)
        if select_on is None or select_on == split:
            sel = aucs
        else:
            _, sel_labels, sel_probs = align_predictions(fam, select_on)
            sel_ens = np.vstack([sel_probs[members[r]].mean(axis=0) for r in res_values])
            sel, _ = stats.delong_covariance(sel_labels, sel_ens)
        b = int(np.argmax(sel))  # first maximum: the lowest resolution wins a tie
        seeds = fam["seed"].to_numpy()
        fam_rows = []
        for i, res in enumerate(res_values):
            row: dict[str, Any] = {
                **where,
                "resolution": res,
                "best_resolution": res_values[b],
                "n_seeds": len(members[res]),
                "n_images": ids.size,
                "auc": float(aucs[i]),
                "auc_sd": math.sqrt(cov[i, i]),
                "auc_best": float(aucs[b]),
            }
            if i == b:
                row.update({"diff": 0.0, "se": 0.0, "z": 0.0, "p": math.nan})
                row.update(_seed_summary([], alpha))
            else:
                test = stats.delong_paired_test(labels, ens[i], ens[b])
                row.update({k: test[k] for k in ("diff", "se", "z", "p")})
                row.update(
                    _seed_summary(
                        _seed_ps(labels, probs, seeds, members[res], members[res_values[b]]), alpha
                    )
                )
            fam_rows.append(row)
        adj = stats.holm_adjust([r["p"] for r in fam_rows])
        for r, p_adj in zip(fam_rows, adj, strict=True):
            r["p_holm"] = float(p_adj)
        rows.extend(fam_rows)
    cols = [*family_keys[:1], "resolution", *family_keys[1:]]
    out = pd.DataFrame(rows)
    return out[[*cols, *(c for c in out.columns if c not in cols)]]


def compare_variants(
    df: pd.DataFrame,
    column: str,
    a: Any,
    b: Any,
    split: str = "test",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Paired DeLong test of ``column == a`` vs ``column == b`` per model × resolution × rest (results chapter).

    E.g. ``compare_variants(df, "preprocessing", "unit", "native")``: seed-averaged predictions of
    each side on the same test images, plus per-seed p-values and mean accuracies.
    """
    if column not in df:
        raise KeyError(f"no column {column!r} in the runs; columns: {list(df.columns)}")
    rows = []
    for where, side_a, side_b in variant_pairs(df, column, a, b):
        both = pd.concat([side_a, side_b], ignore_index=True)
        _, labels, probs = align_predictions(both, split)
        rows_a = np.arange(len(side_a))
        rows_b = np.arange(len(side_a), len(both))
        test = stats.delong_paired_test(labels, probs[rows_a].mean(0), probs[rows_b].mean(0))
        row = {
            **where,
            f"n_seeds_{a}": len(side_a),
            f"n_seeds_{b}": len(side_b),
            f"accuracy_{a}": float(side_a[f"{split}_accuracy"].mean()),
            f"accuracy_{b}": float(side_b[f"{split}_accuracy"].mean()),
            f"auc_{a}": test["auc_a"],
            f"auc_{b}": test["auc_b"],
            **{k: test[k] for k in ("diff", "se", "z", "p")},
        }
        row.update(
            _seed_summary(_seed_ps(labels, probs, both["seed"].to_numpy(), rows_a, rows_b), alpha)
        )
        rows.append(row)
    if not rows:
        raise NoRunsError(f"no configuration has runs with both {column}={a!r} and {column}={b!r}")
    return pd.DataFrame(rows)


def compare_if_run(
    df: pd.DataFrame, column: str, a: Any, b: Any, split: str = "test", alpha: float = 0.05
) -> pd.DataFrame:
    """:func:`compare_variants`, or an empty table when no configuration ran both sides (results chapter)."""
    if column not in df or not {a, b} <= set(df[column]):
        return pd.DataFrame()
    try:
        return compare_variants(df, column, a, b, split=split, alpha=alpha)
    except NoRunsError:
        return pd.DataFrame()
