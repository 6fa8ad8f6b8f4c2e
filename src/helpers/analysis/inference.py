"""Seed-aware comparisons between configurations, one multiplicity policy, one wording rule (results chapter).

Job: every comparison between two configurations treats the training seeds as random readers:
Obuchowski–Rockette–Hillis on the per-seed test probabilities, seeds paired by seed number
(:func:`helpers.stats.mrmc.or_hillis_compare`; with one common seed it is the paired DeLong test of
those two models). The DeLong test on the seed *ensemble* (mean probability over seeds) is kept
beside it as ``p_ensemble``, labelled so: it answers a question about the two ensembles that
were trained, not about the training procedures.

Multiplicity: the comparisons fall into the families of :data:`FAMILIES`; Holm's step-down
adjustment (:func:`helpers.stats.delong.holm_adjust`) is applied to the OR–Hillis p-values within each
family, and the prose is driven by the adjusted p alone through :func:`helpers.chapters.verdicts.verdict`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from helpers.analysis.compare import align_predictions
from helpers.runs.frames import cell_groups, config_columns, model_label, variant_pairs
from helpers.stats import delong as stats
from helpers.stats import mrmc
from helpers.stats.equivalence import MARGIN_AUC, tost, verdict_word
from helpers.stats.mrmc_generalized import generalized_p

ALPHA = 0.05
"""The one significance level of the chapter, applied to Holm-adjusted p-values."""

FAMILIES: dict[str, tuple[str, str]] = {
    "resolution": (
        "each input size vs the best one",
        "model × regime × preprocessing (× precision)",
    ),
    "model": ("MobileNet vs ResNet50 at each input size", "regime × preprocessing (× precision)"),
    "preprocessing": ("[0, 1] vs native at each input size", "model × regime (× precision)"),
    "regime": ("frozen vs full at each input size", "model × preprocessing (× precision)"),
}
"""Comparison kind → (what is compared, what one family holds fixed). A family is every
comparison of one kind with the same fixed part (sizes vary inside it)."""

SIDES: dict[str, tuple[str, str]] = {
    "model": ("mobilenet", "resnet50"),
    "preprocessing": ("unit", "native"),
    "regime": ("frozen", "full"),
}


def policy_table() -> pd.DataFrame:
    """The multiplicity policy, one row per family kind, for the chapter (results chapter)."""
    rows = [
        {"Comparison": what, "One family per": fixed, "Adjustment": "Holm"}
        for what, fixed in FAMILIES.values()
    ]
    return pd.DataFrame(rows, index=pd.Index(list(FAMILIES), name="Kind"))


def seed_matrices(
    runs: pd.DataFrame, side_a: pd.DataFrame, side_b: pd.DataFrame, split: str = "test"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Any]]:
    """(labels, probs_a[seed, image], probs_b[seed, image], common seeds) joined by image id."""
    both = pd.concat([side_a, side_b], ignore_index=True)
    _, labels, probs = align_predictions(both, split)
    seeds_a = side_a["seed"].tolist()
    seeds_b = side_b["seed"].tolist()
    common = sorted(set(seeds_a) & set(seeds_b))
    rows_a = [seeds_a.index(s) for s in common]
    rows_b = [len(side_a) + seeds_b.index(s) for s in common]
    pa, pb = probs[: len(side_a)], probs[len(side_a) :]
    return labels, probs[rows_a] if common else pa, probs[rows_b] if common else pb, common


def compare_pair(
    labels: np.ndarray, probs_a: np.ndarray, probs_b: np.ndarray, common: list[Any],
    constrain_tr: bool = False,
) -> dict[str, Any]:
    """OR–Hillis on the common seeds and the ensemble DeLong test, one comparison (results
    chapter); ``constrain_tr`` floors the seed-interaction mean square at what image sampling
    implies (σ²_TR ≥ 0; the OR–Hillis size appendix)."""
    ens = stats.delong_paired_test(labels, probs_a.mean(0), probs_b.mean(0))
    if not common:  # no seed run on both sides: nothing to pair, no seed-aware test
        out = {"p": math.nan, "n_seeds": 0, "method": "no common seed", "ddf": math.nan}
        return {**out, "diff": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                "p_ensemble": ens["p"], "tost_p": math.nan}  # fmt: skip
    res = mrmc.or_hillis_compare(labels, probs_a, probs_b, constrain_tr=constrain_tr)
    keep = ("diff", "p", "ddf", "ci_low", "ci_high", "n_seeds", "method")
    # equivalence: two one-sided tests of |diff| < MARGIN_AUC on the same OR–Hillis SE and ddf
    same = tost(float(res["diff"]), float(res["se"]), MARGIN_AUC, df=float(res["ddf"]))
    # the few-seed companion (size appendix): with one seed both are the paired DeLong test
    gen = (float(generalized_p(res["ms_t"], res["ms_tr"], res["cov2"], res["cov3"],
                               int(res["n_seeds"]))) if int(res["n_seeds"]) >= 2 else float(res["p"]))
    return {**{k: res[k] for k in keep}, "p_ensemble": ens["p"], "tost_p": same["p"],
            "p_generalized": gen}


def _seed_mean_auc(labels: np.ndarray, probs: np.ndarray) -> float:
    aucs, _ = stats.delong_covariance(labels, probs)
    return float(np.mean(aucs))


def _family_name(kind: str, where: Mapping[str, Any]) -> str:
    parts = [model_label(v) if k == "model" else str(v) for k, v in where.items()]
    short = {"float32": "fp32", "mixed_bfloat16": "bf16"}
    return " · ".join([kind, *(short.get(p, p) for p in parts)])


def resolution_comparisons(df: pd.DataFrame, split: str = "test",
                           constrain_tr: bool = False) -> pd.DataFrame:
    """Each input size vs the best (highest seed-mean AUC), seed-aware, per model × set-up (results chapter)."""
    fixed = [c for c in config_columns(df) if c != "resolution"]
    rows = []
    for where, fam in cell_groups(df, fixed):
        sizes = sorted(fam["resolution"].unique())
        sides = {r: fam[fam["resolution"] == r].sort_values("seed") for r in sizes}
        mean_auc = {}
        for r in sizes:
            _, labels, probs = align_predictions(sides[r], split)
            mean_auc[r] = _seed_mean_auc(labels, probs)
        best = max(sizes, key=lambda r: (mean_auc[r], -r))  # a tie goes to the smaller size
        for r in sizes:
            row = {**where, "resolution": r, "best_resolution": best, "family": _family_name(
                "resolution", where), "auc": mean_auc[r], "auc_best": mean_auc[best]}  # fmt: skip
            if r != best:
                row.update(compare_pair(*seed_matrices(df, sides[r], sides[best], split),
                                        constrain_tr=constrain_tr))
            else:
                row.update({"p": math.nan, "p_ensemble": math.nan, "diff": 0.0})
            rows.append(row)
    return _with_holm(pd.DataFrame(rows))


def variant_comparisons(df: pd.DataFrame, column: str, split: str = "test",
                        constrain_tr: bool = False) -> pd.DataFrame:
    """``column`` = a vs b (:data:`SIDES`) at each input size, seed-aware, per family (results chapter)."""
    a, b = SIDES[column]
    if column not in df or not {a, b} <= set(df[column]):
        return pd.DataFrame()
    rows = []
    for where, side_a, side_b in variant_pairs(df, column, a, b):
        labels, pa, pb, common = seed_matrices(df, side_a, side_b, split)
        fam = _family_name(column, {k: v for k, v in where.items() if k != "resolution"})
        row = {**where, "family": fam, f"auc_{a}": _seed_mean_auc(labels, pa),
               f"auc_{b}": _seed_mean_auc(labels, pb)}  # fmt: skip
        rows.append({**row, **compare_pair(labels, pa, pb, common, constrain_tr)})
    return _with_holm(pd.DataFrame(rows)) if rows else pd.DataFrame()


def _with_holm(table: pd.DataFrame) -> pd.DataFrame:
    """Holm within each ``family`` for the difference test (``p_holm``), for its few-seed
    companion, the generalized p-value (``p_generalized_holm``; the size appendix), and for the
    equivalence test (``tost_p_holm``; ``equivalent`` when it is below :data:`ALPHA`), and the
    ``verdict`` word (:func:`helpers.stats.equivalence.verdict_word`: higher / lower /
    equivalent / inconclusive; empty for a family's reference row). Undefined p's (the best
    size, no common seed) stay NaN."""
    if table.empty:
        return table
    table = table.copy()
    if "tost_p" not in table:
        table["tost_p"] = math.nan
    if "p_generalized" not in table:
        table["p_generalized"] = math.nan
    table["p_holm"] = math.nan
    table["tost_p_holm"] = math.nan
    table["p_generalized_holm"] = math.nan
    for _, idx in table.groupby("family", sort=False).groups.items():
        table.loc[idx, "p_holm"] = stats.holm_adjust(table.loc[idx, "p"].to_numpy(dtype=float))
        table.loc[idx, "p_generalized_holm"] = stats.holm_adjust(
            table.loc[idx, "p_generalized"].to_numpy(dtype=float))
        table.loc[idx, "tost_p_holm"] = stats.holm_adjust(
            table.loc[idx, "tost_p"].to_numpy(dtype=float))
    table["equivalent"] = table["tost_p_holm"] < ALPHA
    table["verdict"] = [
        verdict_word(float(d), float(p), {"equivalent": bool(e)}, ALPHA) if np.isfinite(p) else ""
        for d, p, e in zip(table["diff"], table["p_holm"], table["equivalent"], strict=True)]
    return table


