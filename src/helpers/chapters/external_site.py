"""The page of the external-site chapter ("Another hospital's images"): reading tables and glued text.

Every number comes from the tables of :mod:`helpers.analysis.external_site` and
:mod:`helpers.analysis.external_ablations` (which compute them); this module only arranges them
for reading (short "value [CI]" columns, rows named by model, set-up and input size) and turns
them into glued strings and sentences; the figures are
:mod:`helpers.chapters.external_site_figures`. Glued values are preformatted strings and always
present ("—", :data:`helpers.chapters.formatting.MISSING`, when not computable), so the page builds from a grid that is still running as
well as from a finished one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from helpers.analysis import external_ablations as A
from helpers.analysis import external_site as X
from helpers.chapters.external_case_mix import case_mix_sentence
from helpers.chapters.formatting import MISSING
from helpers.chapters.reading import ci_text, for_reading

EXTERNAL_LABELS: dict[str, str] = {"ph2": "PH2"}
"""Display names of external sets (else the name as given)."""

NA = MISSING

REGIME_NAMES: dict[str, str] = {"frozen": "Frozen base", "full": "Full fine-tuning"}

SHORT_VERDICTS: dict[str, str] = {"no detectable difference": "n.d."}
"""Short verdict words for wide tables (the prose spells them out)."""

Values = dict[str, str]


def external_label(runs: pd.DataFrame) -> str:
    """``PH2`` for runs with ``external: ph2``; several names are joined (external-site chapter)."""
    if runs.empty or "external" not in runs:
        return "the external set"
    names = sorted(map(str, runs["external"].dropna().unique()))
    return " + ".join(EXTERNAL_LABELS.get(n, n) for n in names) or "the external set"


def full(table: pd.DataFrame) -> pd.DataFrame | None:
    """The full table for a collapsed cell (:func:`display_table`), None when empty (external-site chapter)."""
    from helpers.chapters.results_tables import display_table

    return None if table.empty else display_table(table)


def show(table: pd.DataFrame | None, uuid: str, *, index: bool = True) -> Any:
    """A reading or full table in the book's style (fixed id, "—" footnoted); None if empty."""
    from helpers.chapters.formatting import styled

    return None if table is None or table.empty else styled(table, uuid, index=index)


def glue_strings(values: Mapping[str, str]) -> None:
    """Glue every value as a string (no format spec needed in the prose) (external-site chapter)."""
    from myst_nb import glue

    for name, value in values.items():
        glue(name, str(value), display=False)


def glue_md(name: str, text: str) -> None:
    """Glue Markdown for a ``{glue:md}`` directive (external-site chapter)."""
    from IPython.display import Markdown
    from myst_nb import glue

    glue(name, Markdown(text), display=False)


def _num(value: Any, digits: int = 3, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NA
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _diff_text(d: float, lo: float, hi: float) -> str:
    return f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def _setup(table: pd.DataFrame) -> list[str]:
    """The set-up columns of a table that vary (model and size name rows on their own)."""
    keys = [k for k in X.cell_keys(table) if k not in ("model",)]
    return [k for k in keys if k == "resolution" or table[k].astype(str).nunique() > 1]


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def loading_values(runs: pd.DataFrame, site: pd.DataFrame) -> Values:
    """Counts for the loading paragraph: runs, cells, images, the declared resize (external-site chapter)."""
    resize = X.main_resize(runs)
    out = {"ext_label": external_label(runs), "n_runs": str(len(runs)),
           "n_failed": str(runs.attrs.get("n_failed", 0)), "n_cells": str(len(site)),
           "declared_geometry": resize["geometry"], "declared_resample": resize["resample"],
           "ablation_prep": A.ablation_preprocessing(runs) or NA}
    for split in X.SETS:
        pos = site[f"{split}_n_pos"].max() if len(site) else None
        neg = site[f"{split}_n_neg"].max() if len(site) else None
        out[f"n_{split}_pos"] = NA if pos is None else str(int(pos))
        out[f"n_{split}_neg"] = NA if neg is None else str(int(neg))
        out[f"n_{split}"] = NA if pos is None else str(int(pos + neg))
    return out


def empty_md(runs: pd.DataFrame, results_dir: str) -> str:
    """The note shown instead of results when no record can be used (external-site chapter)."""
    if len(runs):
        return ""
    why = (runs.attrs.get("reason") or "no run records").split(". Run the sweep first")[0]
    return (f"**No results yet.** The records folder `{results_dir}` gives nothing to show "
            f"({why.splitlines()[0].rstrip('.')}). Run `{X.SWEEP_HINT}` and re-execute this "
            "chapter; every section below stays empty until then.")


# --------------------------------------------------------------------------------------------
# ISIC test vs the external set
# --------------------------------------------------------------------------------------------


def site_reading(site: pd.DataFrame, label: str) -> pd.DataFrame | None:
    """ISIC test and external AUC (seed ensemble [CI]), their difference and seeds (external-site chapter)."""
    if site.empty:
        return None
    out = site.assign(
        test_text=[ci_text("auc", a, lo, hi) for a, lo, hi in
                   zip(site["test_auc"], site["test_lo"], site["test_hi"], strict=True)],
        ext_text=[ci_text("auc", a, lo, hi) for a, lo, hi in
                  zip(site["external_auc"], site["external_lo"], site["external_hi"], strict=True)],
        diff_text=[_diff_text(*v) for v in site[["diff", "diff_lo", "diff_hi"]].to_numpy()])
    columns = {"test_text": "ISIC test AUC, seed ensemble",
               "ext_text": f"{label} AUC, seed ensemble",
               "diff_text": f"{label} − ISIC", "n_seeds": "seeds"}
    return for_reading(out, columns, setup_keys=_setup(site))


def site_full(site: pd.DataFrame, label: str) -> pd.DataFrame | None:
    """The seed-mean AUCs (± SD over seeds) beside the seed-ensemble ones (external-site chapter)."""
    if site.empty:
        return None
    out = site.copy()
    for split in X.SETS:
        out[f"{split}_mean_text"] = [f"{m:.3f} ± {s:.3f}" if math.isfinite(s) else f"{m:.3f}"
                                     for m, s in zip(site[f"{split}_seed_mean"],
                                                     site[f"{split}_seed_sd"], strict=True)]
    columns = {"test_auc": "ISIC AUC, ensemble", "test_mean_text": "ISIC AUC, seed mean ± SD",
               "external_auc": f"{label} AUC, ensemble",
               "external_mean_text": f"{label} AUC, seed mean ± SD", "p": "p (difference)"}
    return for_reading(out, columns, setup_keys=_setup(site))


def site_values(site: pd.DataFrame) -> Values:
    """Range and median of external − ISIC AUC; cells whose interval lies below 0 (external-site chapter)."""
    if site.empty:
        return {k: NA for k in ("diff_min", "diff_max", "diff_median", "n_diff_below", "n_site")}
    d = site["diff"]
    return {"diff_min": _num(d.min(), signed=True), "diff_max": _num(d.max(), signed=True),
            "diff_median": _num(d.median(), signed=True),
            "n_diff_below": str(int((site["diff_hi"] < 0).sum())), "n_site": str(len(site))}


# --------------------------------------------------------------------------------------------
# Resolution verdicts and MobileNet vs ResNet50
# --------------------------------------------------------------------------------------------


def _sizes(values: Any) -> str:
    return ", ".join(f"{int(v)}" for v in values) if isinstance(values, list) and values else "none"


def resolution_reading(summary: pd.DataFrame, label: str) -> pd.DataFrame | None:
    """Per model × set-up: best size and sizes detectably lower on each set (external-site chapter)."""
    if summary.empty or "best_external" not in summary:
        return None
    out = summary.assign(**{f"lower_{s}_text": summary[f"lower_{s}"].map(_sizes) for s in X.SETS},
                         same=summary["same_verdicts"].map({True: "yes", False: "no"}))
    columns = {"best_test": "best, ISIC (px)", "lower_test_text": "lower, ISIC (px)",
               "best_external": f"best, {label} (px)",
               "lower_external_text": f"lower, {label} (px)",
               "same": "same verdicts"}
    return for_reading(out, columns, setup_keys=[k for k in _setup(summary) if k != "resolution"])


def resolution_values(summary: pd.DataFrame) -> Values:
    """How many model × set-up families keep their best size and verdicts on the other set."""
    done = summary.dropna(subset=["same_best"]) if "same_best" in summary else summary.iloc[0:0]
    if done.empty:
        return {"n_res_families": NA, "n_same_best": NA, "n_same_verdicts": NA}
    return {"n_res_families": str(len(done)), "n_same_best": str(int(done["same_best"].sum())),
            "n_same_verdicts": str(int(done["same_verdicts"].sum()))}


def model_reading(models: pd.DataFrame, label: str) -> pd.DataFrame | None:
    """MobileNet vs ResNet50 on the external set: AUCs, difference, adjusted p, verdict (external-site chapter)."""
    sub = models[models["set"] == "external"] if len(models) else models
    if sub.empty:
        return None
    columns = {"auc_mobilenet": f"MobileNet {label} AUC", "auc_resnet50": f"ResNet50 {label} AUC",
               "diff": "difference", "p_holm": "adjusted p", "verdict": "MobileNet is"}
    keys = [k for k in _setup(sub) if k != "set"]
    return for_reading(sub.drop(columns=["model"], errors="ignore"), columns, setup_keys=keys)


def verdict_counts(table: pd.DataFrame, where: Mapping[str, Any] | None = None) -> Values:
    """``higher``/``lower``/``nodiff`` counts of a tested table (optionally filtered) (external-site chapter)."""
    sub = table
    for key, value in (where or {}).items():
        sub = sub[sub[key] == value] if len(sub) else sub
    words = sub["verdict"].value_counts() if len(sub) else pd.Series(dtype=int)
    return {"higher": str(int(words.get("higher", 0))), "lower": str(int(words.get("lower", 0))),
            "nodiff": str(int(words.get("no detectable difference", 0))),
            "tested": str(int(sum(words.get(w, 0) for w in
                                  ("higher", "lower", "no detectable difference"))))}


def prefixed(prefix: str, values: Mapping[str, str]) -> Values:
    """``values`` with every key prefixed (external-site chapter)."""
    return {f"{prefix}_{k}": v for k, v in values.items()}


# --------------------------------------------------------------------------------------------
# Threshold and calibration
# --------------------------------------------------------------------------------------------


def threshold_reading(thr: pd.DataFrame, label: str, rule: str = "youden") -> pd.DataFrame | None:
    """Sensitivity and specificity (% [Wilson CI]) on ISIC test and the external set (external-site chapter)."""
    sub = thr[thr["rule"] == rule] if len(thr) else thr
    if sub.empty:
        return None
    out = sub.copy()
    for split in X.SETS:
        for m, short in (("sensitivity", "sens"), ("specificity", "spec")):
            out[f"{split}_{short}_text"] = [
                ci_text(m, *(r[f"{split}_{short}{e}"] for e in ("", "_lo", "_hi")))
                for _, r in sub.iterrows()]
    columns = {"threshold": "threshold", "test_sens_text": "Sens. % ISIC",
               "external_sens_text": f"Sens. % {label}", "test_spec_text": "Spec. % ISIC",
               "external_spec_text": f"Spec. % {label}"}
    return for_reading(out, columns, setup_keys=_setup(sub.drop(columns=["rule"])))


def threshold_values(thr: pd.DataFrame, rule: str = "youden") -> Values:
    """Median sensitivity and specificity (%) on each set under one rule (external-site chapter)."""
    sub = thr[thr["rule"] == rule] if len(thr) else thr
    out = {}
    for split in X.SETS:
        for short in ("sens", "spec"):
            col = f"{split}_{short}"
            out[f"thr_{short}_{split}"] = NA if sub.empty else f"{100 * sub[col].median():.0f}"
    return out


def calibration_reading(cal: pd.DataFrame, label: str) -> pd.DataFrame | None:
    """ECE (ten equal-width bins; mean over seeds), mean probability and prevalence (external-site chapter)."""
    if cal.empty:
        return None
    keys = [k for k in X.cell_keys(cal) if k in cal]
    wide = cal.pivot_table(index=keys, columns="set", values=["ece", "mean_prob", "prevalence"])
    wide.columns = [f"{v}_{s}" for v, s in wide.columns]
    wide = wide.reset_index()
    columns = {"ece_test": "ECE, ISIC", "ece_external": f"ECE, {label}",
               "mean_prob_external": f"mean p, {label}",
               "prevalence_external": f"prevalence, {label}"}
    return for_reading(wide, {k: v for k, v in columns.items() if k in wide},
                       setup_keys=_setup(wide))


def calibration_values(cal: pd.DataFrame) -> Values:
    """Median ECE on each set and the number of cells worse calibrated on the external set."""
    if cal.empty or set(cal["set"]) != set(X.SETS):
        return {"ece_test": NA, "ece_external": NA, "n_ece_worse": NA, "n_ece": NA}
    keys = [k for k in X.cell_keys(cal) if k in cal]
    wide = cal.pivot_table(index=keys, columns="set", values="ece").dropna()
    return {"ece_test": _num(wide["test"].median()),
            "ece_external": _num(wide["external"].median()),
            "n_ece_worse": str(int((wide["external"] > wide["test"]).sum())),
            "n_ece": str(len(wide))}


# --------------------------------------------------------------------------------------------
# Ablations and subgroups
# --------------------------------------------------------------------------------------------


def _tested_reading(table: pd.DataFrame, name_col: str, name_header: str,
                    setup_drop: Sequence[str] = ()) -> pd.DataFrame:
    out = table.assign(auc_text=[ci_text("auc", a, lo, hi) for a, lo, hi in
                                 zip(table["auc"], table["auc_lo"], table["auc_hi"], strict=True)],
                       diff_text=[_diff_text(*v) if p == p else NA for *v, p in
                                  table[["diff", "diff_lo", "diff_hi", "p"]].to_numpy()])
    columns = {name_col: name_header, "auc_text": "AUC, seed ensemble",
               "diff_text": "difference [95 % CI]", "p_holm": "adjusted p", "verdict": "verdict"}
    keys = [k for k in _setup(table) if k not in (name_col, *setup_drop)]
    return for_reading(out, columns, setup_keys=keys)


def geometry_reading(geo: pd.DataFrame) -> pd.DataFrame | None:
    """External AUC per geometry (columns) with its verdict against the declared one (external-site chapter).

    Cells read "AUC (word)": ``declared``, ``higher``, ``lower`` or ``n.d.`` (no detectable
    difference); intervals and p-values are in the full table.
    """
    if geo.empty:
        return None
    keys = [k for k in X.cell_keys(geo) if k in geo]
    text = [f"{a:.3f} ({SHORT_VERDICTS.get(v, v)})" for a, v in
            zip(geo["auc"], geo["verdict"], strict=True)]
    wide = geo.assign(text=text).pivot_table(index=keys, columns="compared_geometry",
                                             values="text", aggfunc="first").reset_index()
    wide.columns.name = None
    columns = {g: g.replace("_", " ") for g in A.GEOMETRIES if g in wide}
    return for_reading(wide, columns, setup_keys=_setup(wide))


def geometry_md(geo: pd.DataFrame) -> str:
    """One sentence per compared geometry: how many cells were higher, lower, n.d. (external-site chapter)."""
    if geo.empty:
        return "No geometry has been compared yet."
    declared = ", ".join(sorted(map(str, geo["geometry"].unique())))
    parts = []
    for name in A.GEOMETRIES:
        if name in set(geo["geometry"]) or name not in set(geo["compared_geometry"]):
            continue
        n = verdict_counts(geo, {"compared_geometry": name})
        parts.append(f"{name.replace('_', ' ')}: higher in {n['higher']}, lower in {n['lower']} "
                     f"and no detectable difference in {n['nodiff']} of {n['tested']} cells")
    return f"Against the declared geometry ({declared}): " + "; ".join(parts) + "."


def interpolation_reading(interp: pd.DataFrame, split: str) -> pd.DataFrame | None:
    """AUC per interpolation filter at the ablation's size on one set, vs the reference (external-site chapter)."""
    sub = interp[interp["set"] == split] if len(interp) else interp
    if sub.empty:
        return None
    return _tested_reading(sub.drop(columns=["set"]), "resample", "filter", ("resolution",))


def subgroup_reading(sub: pd.DataFrame) -> pd.DataFrame | None:
    """Melanoma vs common nevi and vs atypical nevi: AUC [DeLong CI] per cell (external-site chapter)."""
    if sub.empty:
        return None
    wide = sub.assign(text=[ci_text("auc", a, lo, hi) for a, lo, hi in
                            zip(sub["auc"], sub["auc_lo"], sub["auc_hi"], strict=True)])
    keys = [k for k in X.cell_keys(sub) if k in sub]
    wide = wide.pivot_table(index=keys, columns="negatives", values="text", aggfunc="first")
    wide = wide.reset_index()
    columns = {n: f"vs {name}" for n, name in A.NEGATIVES.items() if n in wide}
    return for_reading(wide, columns, setup_keys=_setup(wide))


def subgroup_values(sub: pd.DataFrame) -> Values:
    """Median AUC against each negative diagnosis, and the cells where atypical is lower."""
    out = {f"sub_{n}": NA for n in A.NEGATIVES} | {"n_sub_harder": NA, "n_sub": NA}
    if sub.empty:
        return out
    for n in A.NEGATIVES:
        part = sub[sub["negatives"] == n]
        out[f"sub_{n}"] = _num(part["auc"].median()) if len(part) else NA
    keys = [k for k in X.cell_keys(sub) if k in sub]
    wide = sub.pivot_table(index=keys, columns="negatives", values="auc").dropna()
    if {"common_nevus", "atypical_nevus"} <= set(wide.columns):
        out["n_sub_harder"] = str(int((wide["atypical_nevus"] < wide["common_nevus"]).sum()))
        out["n_sub"] = str(len(wide))
    return out


# --------------------------------------------------------------------------------------------
# Regimes and the findings
# --------------------------------------------------------------------------------------------


def regime_md(counts: pd.DataFrame, label: str) -> str:
    """Which regimes have runs that scored the external set, in words (external-site chapter)."""
    lines = []
    for _, row in counts.iterrows():
        name = REGIME_NAMES.get(row["regime"], row["regime"])
        if row["runs_external"]:
            lines.append(f"* {name}: {row['runs_external']} runs scored {label} "
                         f"({row['cells']} cells); their rows are in the tables above.")
        else:
            lines.append(f"* {name}: no run has scored {label} yet"
                         + (f" ({row['runs_without_external']} runs without it)."
                            if row["runs_without_external"] else "."))
    return "\n".join(lines)


def findings_md(values: Mapping[str, str], label: str) -> str:
    """The chapter's closing bullets, each built from glued values (external-site chapter)."""
    v = dict(values)
    if v.get("n_runs", "0") == "0":
        return f"* No run record has scored {label} yet: nothing to report."
    return "\n".join([
        f"* {label} − ISIC test AUC (seed ensembles; families at chance left out) ranged from "
        f"{v['diff_min']} to "
        f"{v['diff_max']} (median {v['diff_median']}); in {v['n_diff_below']} of {v['n_site']} "
        "cells the 95 % interval lies below zero." + case_mix_sentence(v, label),
        f"* The best input size on {label} was ISIC's best in {v['n_same_best']} of "
        f"{v['n_res_families']} model × set-up families; every size got the same verdict on "
        f"both sets in {v['n_same_verdicts']} of them ({label}'s fewer melanomas find fewer sizes "
        "detectably lower; no test of a different size effect between sites).",
        f"* At the Youden threshold chosen on ISIC validation the median sensitivity went from "
        f"{v['thr_sens_test']} % (ISIC test) to {v['thr_sens_external']} % ({label}), the "
        f"median specificity from {v['thr_spec_test']} % to {v['thr_spec_external']} %.",
        f"* Against the declared geometry ({v['declared_geometry']}), the other geometries "
        f"were higher in {v['geo_higher']}, lower in {v['geo_lower']} and without detectable "
        f"difference in {v['geo_nodiff']} of {v['geo_tested']} comparisons (Holm; differences "
        f"up to {v.get('geo_max_nd', NA)} went undetected).",
        f"* Median AUC of melanoma vs common nevi {v['sub_common_nevus']}, vs atypical nevi "
        f"{v['sub_atypical_nevus']}; atypical nevi were the harder negatives in "
        f"{v['n_sub_harder']} of {v['n_sub']} cells (point estimates; the two AUCs share the "
        "melanomas).",
    ])


def load_subgroups(path: str) -> pd.Series:
    """:func:`external_ablations.read_subgroups` of ``path`` (resolved like ``results_dir``), or an
    empty Series with a printed note when the file does not exist (external-site chapter)."""
    from helpers import config

    resolved = config.results_dir(path)
    if not resolved.is_file():
        print(f"No subgroup file {path}: the subgroup section stays empty "
              "(scripts/ph2_subgroups.py writes it).")
        return pd.Series(dtype=str, name="diagnosis")
    return A.read_subgroups(resolved)


def left_out_md(tables: Mapping[str, pd.DataFrame]) -> str:
    """What each analysis left out (cells of a grid still running, unmatched ids) (external-site chapter)."""
    lines = []
    for name, table in tables.items():
        for item in table.attrs.get("left_out", []):
            lines.append(f"* {name}: {item.splitlines()[0]}")
        unmatched = table.attrs.get("unmatched", [])
        if unmatched:
            lines.append(f"* {name}: {len(unmatched)} image ids without a diagnosis, e.g. "
                         f"`{unmatched[0]}`")
        if table.attrs.get("runs_without_geometries"):
            lines.append(f"* {name}: {table.attrs['runs_without_geometries']} runs without "
                         "`predictions.external_geometry`")
    return "\n".join(lines) or "Nothing was left out: every cell present could be computed."
