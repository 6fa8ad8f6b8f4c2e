"""The OR–Hillis test's size at the seeds the book has, and what its σ²_TR ≥ 0 variant and the
generalized p-value would change (the OR–Hillis size appendix).

:func:`size_table` reads the simulation record that ``scripts/or_hillis_size.py`` writes
(``results/stats/or_hillis_size.json``: null rejection rates at alpha 0.05 under the
Obuchowski–Rockette model, covariances estimated from the book's records, 2, 3 and 5 seeds);
:func:`verdict_changes` re-runs the results chapter's seed-aware comparisons with the
constrained denominator and lists the comparisons whose Holm-adjusted verdict would flip, under
it and under the generalized p-value (:mod:`helpers.stats.mrmc_generalized`, Holm in the same
families); a difference the published test finds and the generalized p-value confirms is
*robust* to the few-seed problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from helpers.analysis import inference
from helpers.runs.frames import one_precision_per_cell

METHODS: tuple[str, ...] = ("hillis", "constrained", "generalized")
"""The tests whose size the record holds: as published, σ²_TR ≥ 0, the generalized p-value."""


def size_table(record: Mapping[str, Any]) -> pd.DataFrame:
    """One row per source × σ²_TR setting × seeds: the simulated size of each test of
    :data:`METHODS` present in the record, with Monte Carlo SEs."""
    rows = []
    for r in record["results"]:
        row = {"source": r["source"], "setting": r["sigma2_tr_from"], "seeds": int(r["n_readers"]),
               "images": int(r["n_cases"])}  # fmt: skip
        for m in METHODS:
            if m in r:
                row |= {m: r[m]["rate"], f"{m}_se": r[m]["mc_se"]}
        rows.append(row)
    return pd.DataFrame(rows)


def size_range(table: pd.DataFrame) -> dict[str, float]:
    """``size_<method>_<seeds>_{min,max}`` over sources and settings, for the prose."""
    out: dict[str, float] = {}
    for seeds, sub in table.groupby("seeds"):
        for method in (m for m in METHODS if m in sub):
            out[f"size_{method}_{seeds}_min"] = float(sub[method].min())
            out[f"size_{method}_{seeds}_max"] = float(sub[method].max())
    return out


def verdict_changes(runs: pd.DataFrame, alpha: float = inference.ALPHA) -> pd.DataFrame:
    """Every seed-aware comparison of the results chapter with its Holm-adjusted p as
    published (``p_holm``), with σ²_TR ≥ 0 (``p_holm_constrained``) and by the generalized
    p-value (``p_holm_generalized``); ``changes`` / ``changes_generalized``: the side of
    ``alpha`` differs from the published one."""
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
            kind=kind, p_holm_constrained=b["p_holm"].to_numpy(),
            p_holm_generalized=a["p_generalized_holm"].to_numpy())
        parts.append(part[part["p_holm"].notna()])
    columns = ["kind", "family", "resolution", "p_holm", "p_holm_constrained", "changes",
               "p_holm_generalized", "changes_generalized"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    below = out["p_holm"] < alpha
    out["changes"] = below != (out["p_holm_constrained"] < alpha)
    out["changes_generalized"] = below != (out["p_holm_generalized"] < alpha)
    return out[columns]
