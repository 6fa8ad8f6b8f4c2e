"""Another hospital's images: the ablations and subgroups of the external-site chapter.

How the external image is made square (:func:`geometry_ablation`), the interpolation filter
(:func:`interpolation_ablation`), melanoma against each kind of nevus (:func:`subgroup_auc`) and
which regimes have runs (:func:`regime_counts`): numbers only, as in
:mod:`helpers.analysis.external_site`, whose conventions (cells, seed ensembles, paired tests,
Holm families, verdict words, ``attrs["left_out"]``) and shared helpers these use. One
exception: :func:`policy_values`, the glue strings of the resize policy's evidence (the record
of ``scripts/isic_geometry.py``), which the geometry ablation puts to the test.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from helpers.analysis.compare import align_predictions
from helpers.analysis.external_site import (
    ALPHA,
    DEFAULT_RESIZE,
    SETS,
    aligned,
    auc_ci,
    cell_groups,
    cell_keys,
    cell_name,
    ensemble_auc,
    holm_verdicts,
    result_frame,
)
from helpers.data.resize import EXTERNAL_GEOMETRIES
from helpers.stats import delong as stats

GEOMETRIES: tuple[str, ...] = EXTERNAL_GEOMETRIES
"""The ways an external image is made square (:mod:`helpers.data.resize`), in table order."""

DECLARED_PREPROCESSING = "native"
"""Preprocessing of the ablations (geometry, interpolation): each architecture's own, the one the
interpolation runs of ``configs/ph2-external.yaml`` use; the other one where it is absent."""

NEGATIVES: dict[str, str] = {"common_nevus": "common nevi", "atypical_nevus": "atypical nevi"}
"""PH2's negative diagnoses (``results/ph2/subgroups.csv``) and their names."""


def ablation_preprocessing(runs: pd.DataFrame) -> str | None:
    """:data:`DECLARED_PREPROCESSING` where run, else the first preprocessing present (external-site chapter)."""
    if runs.empty:
        return None
    present = sorted(map(str, runs["preprocessing"].unique()))
    return DECLARED_PREPROCESSING if DECLARED_PREPROCESSING in present else present[0]


# --------------------------------------------------------------------------------------------
# Ablations: how the image is made square, and the interpolation filter
# --------------------------------------------------------------------------------------------


def paired_ensembles(side_a: pd.DataFrame, side_b: pd.DataFrame, split: str,
                     level: float = 0.95) -> dict[str, float]:
    """Paired DeLong test of two cells' seed ensembles on the same images (joined by id) (external-site chapter).

    Each side is averaged over its own seeds. Returns both AUCs, the difference a − b with its
    normal CI, its standard error and the two-sided p.
    """
    both = pd.concat([side_a.sort_values("seed"), side_b.sort_values("seed")], ignore_index=True)
    _, labels, probs = align_predictions(both, split)
    ens_a, ens_b = probs[: len(side_a)].mean(axis=0), probs[len(side_a):].mean(axis=0)
    test = stats.delong_paired_test(labels, ens_a, ens_b)
    half = float(norm.ppf(0.5 + level / 2)) * test["se"]
    return {"auc_a": test["auc_a"], "auc_b": test["auc_b"], "diff": test["diff"],
            "diff_lo": test["diff"] - half, "diff_hi": test["diff"] + half, "se": test["se"],
            "p": test["p"]}


def _with_geometry(sub: pd.DataFrame, name: str | None) -> pd.DataFrame:
    """The runs with ``pred_x`` = their external predictions in geometry ``name`` (None: own)."""
    preds = (sub["pred_external"] if name is None
             else [g[name] for g in sub["pred_external_geometry"]])
    return sub.assign(pred_x=list(preds))


def geometry_ablation(runs: pd.DataFrame, preprocessing: str | None = None, level: float = 0.95,
                      alpha: float = ALPHA) -> pd.DataFrame:
    """External AUC of every scored geometry vs the run's own, per cell, paired DeLong (external-site chapter).

    The same runs (no retraining) score the external images made square each way
    (``predictions.external_geometry``); ``preprocessing`` defaults to
    :func:`ablation_preprocessing`. Per cell × geometry: the seed ensemble's AUC [DeLong CI]
    (over the seeds that scored that geometry) and the paired difference to the declared
    geometry (the run's params) on the same seeds and images. Holm within one family = the
    whole table of one regime. ``attrs["runs_without_geometries"]`` counts runs left out.
    """
    prep = preprocessing or ablation_preprocessing(runs)
    if prep is None:
        return result_frame([], [], preprocessing=None, runs_without_geometries=0)
    sub_runs = runs[runs["preprocessing"] == prep]
    has = sub_runs["pred_external_geometry"].notna()
    rows, left = [], []
    for where, sub in cell_groups(sub_runs[has], cell_keys(runs)):
        scored = set().union(*(g.keys() for g in sub["pred_external_geometry"]))
        names = sorted(scored, key=lambda g: (GEOMETRIES.index(g) if g in GEOMETRIES else 99, g))
        for name in names:
            seeds = sub[[name in g for g in sub["pred_external_geometry"]]]
            try:
                rows.append({**where, **_geometry_row(seeds, name, where["geometry"], level)})
            except ValueError as exc:
                left.append(f"{cell_name(where)}, geometry {name}: {exc}")
    out = holm_verdicts(pd.DataFrame(rows), ["regime"], alpha) if rows else pd.DataFrame()
    if not out.empty:
        out.loc[out["compared_geometry"] == out["geometry"], "verdict"] = "declared"
    return result_frame(out.to_dict("records"), left, preprocessing=prep,
                  runs_without_geometries=int((~has).sum()))


def _geometry_row(seeds: pd.DataFrame, name: str, own: str, level: float) -> dict[str, Any]:
    if name == own:
        _, labels, probs = aligned(_with_geometry(seeds, name), "x")
        ci = auc_ci(labels, probs.mean(axis=0), level)
        return {"compared_geometry": name, "n_seeds": len(seeds), "auc": ci["auc"],
                "auc_lo": ci["lo"], "auc_hi": ci["hi"], "auc_declared": ci["auc"], "diff": 0.0,
                "diff_lo": 0.0, "diff_hi": 0.0, "se": 0.0, "p": math.nan}
    test = paired_ensembles(_with_geometry(seeds, name), _with_geometry(seeds, None), "x", level)
    _, labels, probs = aligned(_with_geometry(seeds, name), "x")
    ci = auc_ci(labels, probs.mean(axis=0), level)
    return {"compared_geometry": name, "n_seeds": len(seeds), "auc": test["auc_a"],
            "auc_lo": ci["lo"], "auc_hi": ci["hi"], "auc_declared": test["auc_b"],
            **{k: test[k] for k in ("diff", "diff_lo", "diff_hi", "se", "p")}}


def interpolation_ablation(runs: pd.DataFrame, resolution: int = 64,
                           reference: str = DEFAULT_RESIZE["resample"], level: float = 0.95,
                           alpha: float = ALPHA) -> pd.DataFrame:
    """Each interpolation filter vs ``reference`` at one input size, on both sets (external-site chapter).

    Runs trained and tested with each ``resample`` (params); per model × set-up × filter × set:
    the seed ensemble's AUC [DeLong CI] and the paired DeLong difference to the reference
    filter's ensemble on the same images. Holm within one family = one set × regime (the
    table of that set). Set-ups run with one filter only are not part of the ablation.
    """
    sub_runs = runs[runs["resolution"] == resolution] if len(runs) else runs
    fam_keys = [k for k in cell_keys(runs) if k != "resample"]
    rows, left = [], []
    for where, fam in cell_groups(sub_runs, fam_keys):
        filters = sorted(map(str, fam["resample"].unique()), key=lambda r: (r != reference, r))
        if len(filters) < 2:
            continue
        if filters[0] != reference:
            left.append(f"{cell_name(where)}: no {reference} runs to compare with")
            continue
        for split in SETS:
            for r in filters:
                try:
                    rows.append(_filter_row(fam, r, reference, split, level) | where)
                except ValueError as exc:
                    left.append(f"{cell_name(where)}, {r} on {split}: {exc}")
    out = holm_verdicts(pd.DataFrame(rows), ["set", "regime"], alpha) if rows else pd.DataFrame()
    if not out.empty:
        out.loc[out["resample"] == reference, "verdict"] = "reference"
    return result_frame(out.to_dict("records"), left, resolution=resolution, reference=reference)


def _filter_row(fam: pd.DataFrame, r: str, reference: str, split: str,
                level: float) -> dict[str, Any]:
    side = fam[fam["resample"] == r]
    ens = ensemble_auc(side, split, level)
    row = {"resample": r, "set": split, "n_seeds": len(side), "auc": ens[f"{split}_auc"],
           "auc_lo": ens[f"{split}_lo"], "auc_hi": ens[f"{split}_hi"]}
    if r == reference:
        return {**row, "auc_reference": row["auc"], "diff": 0.0, "diff_lo": 0.0, "diff_hi": 0.0,
                "se": 0.0, "p": math.nan}
    test = paired_ensembles(side, fam[fam["resample"] == reference], split, level)
    return {**row, "auc_reference": test["auc_b"],
            **{k: test[k] for k in ("diff", "diff_lo", "diff_hi", "se", "p")}}


# --------------------------------------------------------------------------------------------
# Subgroups: melanoma vs common nevi, melanoma vs atypical nevi
# --------------------------------------------------------------------------------------------


def read_subgroups(path: str | os.PathLike[str]) -> pd.Series:
    """Image id → diagnosis from a CSV with columns ``id,diagnosis`` (external-site chapter).

    The book's is ``results/ph2/subgroups.csv``, written by ``scripts/ph2_subgroups.py``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no subgroup file {path}: write it with `python scripts/ph2_subgroups.py "
            "--data-dir <folder holding ph2/> --out results/ph2/subgroups.csv`")
    table = pd.read_csv(path, dtype=str)
    missing = {"id", "diagnosis"} - set(table.columns)
    if missing:
        raise ValueError(f"{path.name} lacks the column(s) {sorted(missing)}; it needs "
                         "id,diagnosis")
    if table["id"].duplicated().any():
        dup = table.loc[table["id"].duplicated(), "id"].iloc[0]
        raise ValueError(f"{path.name} lists image {dup!r} twice; each id once")
    return pd.Series(table["diagnosis"].to_numpy(), index=table["id"].to_numpy(), name="diagnosis")


def subgroup_auc(runs: pd.DataFrame, diagnoses: pd.Series, positive: str = "melanoma",
                 negatives: Iterable[str] = tuple(NEGATIVES), level: float = 0.95) -> pd.DataFrame:
    """External AUC of positives vs each negative diagnosis alone, per cell (external-site chapter).

    Seed ensemble with its DeLong CI, on the images whose diagnosis is ``positive`` or that
    negative. ``attrs["unmatched"]``: external image ids absent from ``diagnoses`` (left out).
    A diagnosis that contradicts the record's label is an error naming the image.
    """
    rows, left, unmatched = [], [], set()
    for where, sub in cell_groups(runs, cell_keys(runs)):
        try:
            ids, labels, probs = aligned(sub, "external")
        except ValueError as exc:
            left.append(f"{cell_name(where)}: {exc}")
            continue
        diag = diagnoses.reindex(ids).to_numpy()
        unmatched |= set(ids[pd.isna(diag)].tolist())
        check_labels(ids, labels, diag, positive)
        for neg in negatives:
            keep = (diag == positive) | (diag == neg)
            row = {**where, "negatives": neg, "n_seeds": len(sub),
                   "n_pos": int((diag == positive).sum()), "n_neg": int((diag == neg).sum())}
            try:
                ci = auc_ci(labels[keep], probs[:, keep].mean(axis=0), level)
            except ValueError as exc:
                left.append(f"{cell_name(where)}, {positive} vs {neg}: {exc}")
                continue
            rows.append({**row, "auc": ci["auc"], "auc_lo": ci["lo"], "auc_hi": ci["hi"]})
    return result_frame(rows, left, unmatched=sorted(unmatched))


def check_labels(ids: np.ndarray, labels: np.ndarray, diag: np.ndarray, positive: str) -> None:
    known = ~pd.isna(diag)
    wrong = known & ((diag == positive) != (labels == 1))
    if wrong.any():
        raise ValueError(
            f"image {ids[wrong][0]!r} has diagnosis {diag[wrong][0]!r} in the subgroup file but "
            f"label {int(labels[wrong][0])} in the records ({int(wrong.sum())} such images): the "
            "subgroup file was made for another folder; re-run scripts/ph2_subgroups.py")


# --------------------------------------------------------------------------------------------
# Which runs exist
# --------------------------------------------------------------------------------------------


def regime_counts(runs: pd.DataFrame, regimes: Iterable[str] = ("frozen", "full")) -> pd.DataFrame:
    """Per regime: runs that scored the external set, their cells, runs that did not (external-site chapter).

    ``regimes`` are always listed (zeros when absent), then any other regime present.
    """
    present = [] if runs.empty else sorted(map(str, runs["regime"].unique()))
    without = runs.attrs.get("without_external", {})
    rows = []
    for regime in dict.fromkeys([*regimes, *present, *without]):
        sub = runs[runs["regime"] == regime] if len(runs) else runs
        cells = sub.drop_duplicates([k for k in cell_keys(runs) if k in sub]) if len(sub) else sub
        rows.append({"regime": regime, "runs_external": len(sub), "cells": len(cells),
                     "models": len(set(sub["model"])) if len(sub) else 0,
                     "runs_without_external": int(without.get(regime, 0))})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# The resize policy: the evidence for the declared geometry
# --------------------------------------------------------------------------------------------


def policy_values(path: str | Path) -> dict[str, str]:
    """Glue strings from ``scripts/isic_geometry.py``'s record: how the ISIC copy was squared.

    The resize policy section of chapter "Another hospital's images" cites them; a missing
    record gives "–" everywhere and ``policy_verdict`` "not measured".
    """
    from helpers.runs.records import read_json

    p = Path(path)
    rec = read_json(p) if p.is_file() else {}
    isic = (rec.get("isic") or {}).get("all") or {}
    ph2 = rec.get("ph2") or {}

    def stat(block: Mapping[str, Any], key: str, field: str, digits: int = 2) -> str:
        value = (block.get(key) or {}).get(field)
        return "–" if value is None else f"{value:.{digits}f}"

    share = (isic.get("lesion_ratio") or {}).get("share_above_1")
    bars = (isic.get("bars") or {}).get("opposite_sides")
    return {
        "policy_verdict": str((rec.get("verdict") or {}).get("outcome", "not measured")),
        "policy_n_fov": str((isic.get("fov_ratio") or {}).get("n", "–")),
        "policy_fov": stat(isic, "fov_ratio", "median"),
        "policy_fov_q1": stat(isic, "fov_ratio", "q1"),
        "policy_fov_q3": stat(isic, "fov_ratio", "q3"),
        "policy_n_lesion": f"{(isic.get('lesion_ratio') or {}).get('n', 0):,}",
        "policy_lesion": stat(isic, "lesion_ratio", "median"),
        "policy_lesion_taller": "–" if share is None else f"{share:.0%}",
        "policy_ph2_native": stat(ph2.get("native") or {}, "fov_ratio", "median"),
        "policy_ph2_squashed": stat(ph2.get("squashed") or {}, "fov_ratio", "median"),
        "policy_ph2_mask_squashed": stat(ph2.get("squashed") or {}, "lesion_ratio", "median"),
        "policy_ph2_mask_cropped": stat(ph2.get("centre_crop") or {}, "lesion_ratio", "median"),
        "policy_n_bars": "–" if bars is None else str(bars),
        "policy_n_isic": f"{isic.get('n_read', 0):,}",
    }
