"""The OR–Hillis test's size at the seeds the book has, and what its σ²_TR ≥ 0 variant would
change (the OR–Hillis size appendix).

:func:`size_table` reads the simulation record that ``scripts/or_hillis_size.py`` writes
(``results/stats/or_hillis_size.json``: null rejection rates at alpha 0.05 under the
Obuchowski–Rockette model, covariances estimated from the book's records, 2, 3 and 5 seeds);
:func:`verdict_changes` re-runs the results chapter's seed-aware comparisons with the
constrained denominator and lists the comparisons whose Holm-adjusted verdict would flip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from helpers.analysis import inference
from helpers.runs.frames import one_precision_per_cell


def size_table(record: Mapping[str, Any]) -> pd.DataFrame:
    """One row per source × σ²_TR setting × seeds: the simulated size of the published test
    (``hillis``) and of the σ²_TR ≥ 0 variant (``constrained``), with Monte Carlo SEs."""
    rows = [{"source": r["source"], "setting": r["sigma2_tr_from"], "seeds": int(r["n_readers"]),
             "images": int(r["n_cases"]), "hillis": r["hillis"]["rate"],
             "hillis_se": r["hillis"]["mc_se"], "constrained": r["constrained"]["rate"],
             "constrained_se": r["constrained"]["mc_se"]} for r in record["results"]]
    return pd.DataFrame(rows)


def size_range(table: pd.DataFrame) -> dict[str, float]:
    """``size_<method>_<seeds>_{min,max}`` over sources and settings, for the prose."""
    out: dict[str, float] = {}
    for seeds, sub in table.groupby("seeds"):
        for method in ("hillis", "constrained"):
            out[f"size_{method}_{seeds}_min"] = float(sub[method].min())
            out[f"size_{method}_{seeds}_max"] = float(sub[method].max())
    return out


def verdict_changes(runs: pd.DataFrame, alpha: float = inference.ALPHA) -> pd.DataFrame:
    """Every seed-aware comparison of the results chapter with its Holm-adjusted p as
    published (``p_holm``) and with σ²_TR ≥ 0 (``p_holm_constrained``), and ``changes``: the
    side of ``alpha`` differs."""
    parts = []
    # the same tables as the results chapter: regime and model compare each cell as it was run
    as_run = one_precision_per_cell(runs)
    for kind in ("resolution", "preprocessing", "regime", "model"):
        if kind == "resolution":
            a = inference.resolution_comparisons(runs)
            b = inference.resolution_comparisons(runs, constrain_tr=True)
        else:
            table = as_run if kind in ("regime", "model") else runs
            a = inference.variant_comparisons(table, kind)
            b = inference.variant_comparisons(table, kind, constrain_tr=True)
        if a.empty:
            continue
        part = a[["family", "resolution", "p_holm"]].assign(
            kind=kind, p_holm_constrained=b["p_holm"].to_numpy())
        parts.append(part[part["p_holm"].notna()])
    if not parts:
        return pd.DataFrame(columns=["kind", "family", "resolution", "p_holm",
                                     "p_holm_constrained", "changes"])
    out = pd.concat(parts, ignore_index=True)
    out["changes"] = (out["p_holm"] < alpha) != (out["p_holm_constrained"] < alpha)
    return out[["kind", "family", "resolution", "p_holm", "p_holm_constrained", "changes"]]
