"""Another hospital's images: ISIC-trained runs scored on an external set such as PH2 (chapter 09).

Numbers only (DataFrames and dicts; the chapter's sentences and figures are
:mod:`helpers.results.external_site_page`). The runs are those of a sweep with an external
test set (``external=<name>``; the book's: ``configs/ph2-external.yaml``): each record holds
``predictions.val``/``test`` (ISIC) and ``predictions.external`` (every image of the other
hospital, brought to N×N with the run's ``geometry`` and ``resample``), and, where the run
scored them, ``predictions.external_geometry`` (the same images made square each other way).

Conventions shared by every function here:

* A *cell* is one configuration: model × resolution × preprocessing × regime × geometry ×
  resample (× any other parameter that varies, e.g. precision); its runs differ in the seed.
* "seed ensemble": the mean probability over the cell's seeds, scored once (AUC with its DeLong
  95 % interval, :func:`helpers.stats.fast_delong`); "seed mean": the mean (± SD) of the
  per-seed AUCs. Paired tests compare seed ensembles on the same images, joined by image id
  (:func:`helpers.results.compare.align_predictions`).
* Multiplicity: Holm within the family each function names (:func:`helpers.stats.holm_adjust`);
  verdict words come from the adjusted p alone (:func:`verdict_word`): "higher", "lower" or
  "no detectable difference" (which is not evidence of equality).
* A grid still running: a cell that cannot be computed (no runs yet, images that differ between
  its runs) is left out and named in the result's ``attrs["left_out"]``; nothing is filled in.
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

from helpers import calibration, config, operating, records, stats
from helpers.data.resize import DEFAULT_GEOMETRY, DEFAULT_RESAMPLE, EXTERNAL_GEOMETRIES
from helpers.metrics import binary_metrics
from helpers.results.compare import align_predictions, compare_if_run, resolution_tests
from helpers.results.frames import (
    NoRunsError,
    _groups,
    _predictions,
    load_runs,
    model_label,
    variant_columns,
)

ALPHA = 0.05
"""The significance level, applied to Holm-adjusted p-values (as in chapter 04)."""

SETS: tuple[str, ...] = ("test", "external")
"""The two evaluation sets: the training data set's test split (ISIC) and the external set."""

DEFAULT_RESIZE: dict[str, str] = {"geometry": DEFAULT_GEOMETRY, "resample": DEFAULT_RESAMPLE}
"""What a record without ``geometry``/``resample`` in its params used (they are omitted there at
these defaults, so earlier run ids stay valid)."""

GEOMETRIES: tuple[str, ...] = EXTERNAL_GEOMETRIES
"""The ways an external image is made square (:mod:`helpers.data.resize`), in table order."""

DECLARED_PREPROCESSING = "native"
"""Preprocessing of the ablations (geometry, interpolation): each architecture's own, the one the
interpolation runs of ``configs/ph2-external.yaml`` use; the other one where it is absent."""

CELL_KEYS: tuple[str, ...] = (
    "model", "resolution", "preprocessing", "regime", "geometry", "resample",
)
"""Parameters that always tell cells apart here (any other varying parameter is added)."""

THRESHOLD_RULES: dict[str, str] = {
    "youden": "Youden's J on validation",
    "sens90": "90 % sensitivity on validation",
}
"""The validation rules of :mod:`helpers.operating` that chapter 04 uses, and their labels."""

NEGATIVES: dict[str, str] = {"common_nevus": "common nevi", "atypical_nevus": "atypical nevi"}
"""PH2's negative diagnoses (``results/ph2/subgroups.csv``) and their names."""

SWEEP_HINT = "python -m helpers sweep configs/ph2-external.yaml"


# --------------------------------------------------------------------------------------------
# Loading and cells
# --------------------------------------------------------------------------------------------


def load(
    results_dir: str | os.PathLike[str] | None,
    dataset: str = "isic2017",
    task: str = "melanoma",
    *,
    hint: str = SWEEP_HINT,
) -> pd.DataFrame:
    """Ok runs that scored an external set, one row each (:func:`load_runs` columns) (ch. 09).

    Adds ``geometry``/``resample`` (defaults filled in) and ``pred_external_geometry`` (name →
    ids/labels/probs, or None). Never raises for a missing or empty folder: it returns an empty
    frame whose ``attrs["reason"]`` says why. ``attrs``: ``n_ok``, ``n_failed``,
    ``without_external`` (regime → ok runs without external predictions), ``reason``.
    """
    try:
        runs = load_runs(results_dir, dataset, task, hint=hint)
    except NoRunsError as exc:
        return _empty(str(exc))
    for key, default in DEFAULT_RESIZE.items():
        runs[key] = runs[key].where(runs[key].notna(), default) if key in runs else default
    has_ext = (runs["pred_external"].notna() if "pred_external" in runs
               else pd.Series(False, index=runs.index))
    without = runs.loc[~has_ext, "regime"].astype(str).value_counts().to_dict()
    out = runs[has_ext].reset_index(drop=True)
    geometry = _external_geometry(config.results_dir(results_dir), set(out["run_id"]))
    out["pred_external_geometry"] = [geometry.get(rid) for rid in out["run_id"]]
    reason = "" if len(out) else f"none of the {len(runs)} ok runs scored an external set"
    out.attrs.update({**runs.attrs, "without_external": without, "reason": reason})
    return out


def _empty(reason: str) -> pd.DataFrame:
    out = pd.DataFrame()
    out.attrs.update({"n_ok": 0, "n_failed": 0, "without_external": {}, "reason": reason})
    return out


def _external_geometry(folder: Path, run_ids: set[str]) -> dict[str, dict[str, Any]]:
    """run id → {geometry: checked predictions} from ``predictions.external_geometry``."""
    out: dict[str, dict[str, Any]] = {}
    for rec in records.load_records(folder):
        rid = str(rec["run_id"])
        block = (rec.get("predictions") or {}).get("external_geometry")
        if rid not in run_ids or not isinstance(block, Mapping):
            continue
        named = {"predictions": {f"external_geometry.{g}": v for g, v in block.items()}}
        out[rid] = {str(g): _predictions(named, f"external_geometry.{g}", rid) for g in block}
    return out


def cell_keys(runs: pd.DataFrame) -> list[str]:
    """Columns that identify a cell: :data:`CELL_KEYS` and any other varying parameter (ch. 09)."""
    keys = [k for k in CELL_KEYS if k in runs]
    return keys + [k for k in variant_columns(runs) if k not in keys]


def cell_name(where: Mapping[str, Any]) -> str:
    """``MobileNet · 64 px · native · frozen · squash · bilinear`` for messages (ch. 09)."""
    parts = [model_label(v) if k == "model" else f"{v} px" if k == "resolution" else str(v)
             for k, v in where.items()]
    return " · ".join(parts)


def main_resize(runs: pd.DataFrame) -> dict[str, str]:
    """The geometry and resample of the main grid: the pair run in the most cells (ch. 09).

    The ablation runs (other filters at 64 px) are fewer; a tie goes to the defaults.
    """
    if runs.empty:
        return dict(DEFAULT_RESIZE)
    cells = runs.drop_duplicates([k for k in cell_keys(runs) if k != "seed"])
    n = cells.groupby(["geometry", "resample"]).size()
    default = (DEFAULT_RESIZE["geometry"], DEFAULT_RESIZE["resample"])
    best = max(n.index, key=lambda g: (n[g], g == default, str(g)))
    return {"geometry": str(best[0]), "resample": str(best[1])}


def declared(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs made with the main grid's geometry and resample (:func:`main_resize`) (ch. 09)."""
    if runs.empty:
        return runs
    resize = main_resize(runs)
    keep = (runs["geometry"] == resize["geometry"]) & (runs["resample"] == resize["resample"])
    out = runs[keep].reset_index(drop=True)
    out.attrs.update(runs.attrs)
    return out


def ablation_preprocessing(runs: pd.DataFrame) -> str | None:
    """:data:`DECLARED_PREPROCESSING` where run, else the first preprocessing present (ch. 09)."""
    if runs.empty:
        return None
    present = sorted(map(str, runs["preprocessing"].unique()))
    return DECLARED_PREPROCESSING if DECLARED_PREPROCESSING in present else present[0]


def verdict_word(diff: float, p_adj: float, alpha: float = ALPHA) -> str:
    """"higher"/"lower" when the Holm-adjusted p < alpha, else "no detectable difference".

    Chapter 09's one wording rule; an untested comparison (p NaN) is "not tested".
    """
    if p_adj is None or not math.isfinite(p_adj):
        return "not tested"
    if p_adj < alpha:
        return "higher" if diff > 0 else "lower"
    return "no detectable difference"


def _frame(rows: list[dict[str, Any]], left_out: list[str], **attrs: Any) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    out.attrs.update({"left_out": left_out, **attrs})
    return out


def _cells(runs: pd.DataFrame, keys: list[str]) -> Iterable[tuple[dict[str, Any], pd.DataFrame]]:
    if runs.empty:
        return []
    return _groups(runs, keys)


# --------------------------------------------------------------------------------------------
# Seed ensembles and tests
# --------------------------------------------------------------------------------------------


def _aligned(sub: pd.DataFrame, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return align_predictions(sub.sort_values("seed"), split)


def _auc_ci(labels: np.ndarray, probs: np.ndarray, level: float) -> dict[str, float]:
    auc, var = stats.fast_delong(labels, probs)
    lo, hi = stats.delong_ci(auc, var, level)
    return {"auc": auc, "var": var, "lo": lo, "hi": hi}


def ensemble_auc(sub: pd.DataFrame, split: str, level: float = 0.95) -> dict[str, Any]:
    """Seed-ensemble AUC [DeLong CI] and seed-mean AUC ± SD of one cell on one set (ch. 09)."""
    _, labels, probs = _aligned(sub, split)
    seed_aucs, _ = stats.delong_covariance(labels, probs)
    out = {f"{split}_{k}": v for k, v in _auc_ci(labels, probs.mean(axis=0), level).items()}
    out[f"{split}_seed_mean"] = float(np.mean(seed_aucs))
    out[f"{split}_seed_sd"] = float(np.std(seed_aucs, ddof=1)) if len(seed_aucs) > 1 else math.nan
    out[f"{split}_n_pos"] = int(labels.sum())
    out[f"{split}_n_neg"] = int((labels == 0).sum())
    return out


def unpaired_difference(auc_a: float, var_a: float, auc_b: float, var_b: float,
                        level: float = 0.95) -> dict[str, float]:
    """AUC(a) − AUC(b) on independent image sets: the variances add; normal CI and p (ch. 09)."""
    diff, se = auc_a - auc_b, math.sqrt(var_a + var_b)
    half = float(norm.ppf(0.5 + level / 2)) * se
    p = float(2 * norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
    return {"diff": diff, "diff_lo": diff - half, "diff_hi": diff + half, "diff_se": se, "p": p}


def paired_ensembles(side_a: pd.DataFrame, side_b: pd.DataFrame, split: str,
                     level: float = 0.95) -> dict[str, float]:
    """Paired DeLong test of two cells' seed ensembles on the same images (joined by id) (ch. 09).

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


def _holm(table: pd.DataFrame, family: list[str], alpha: float = ALPHA) -> pd.DataFrame:
    """``p_holm`` within each family (NaN p's stay NaN) and the ``verdict`` word."""
    if table.empty:
        return table
    table = table.copy()
    table["p_holm"] = math.nan
    for _, idx in table.groupby(family, sort=False, dropna=False).groups.items():
        table.loc[idx, "p_holm"] = stats.holm_adjust(table.loc[idx, "p"].to_numpy(dtype=float))
    table["verdict"] = [verdict_word(d, p, alpha) for d, p in zip(table["diff"], table["p_holm"],
                                                                 strict=True)]
    return table


# --------------------------------------------------------------------------------------------
# ISIC test vs the external set
# --------------------------------------------------------------------------------------------


def site_table(runs: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per cell: ISIC test and external AUC (seed ensemble [DeLong CI]; seed mean ± SD) (ch. 09).

    Columns ``test_auc``/``test_lo``/``test_hi``/``test_var``, ``test_seed_mean``/``_sd``,
    ``test_n_pos``/``_n_neg`` and the same with ``external_``; ``diff`` = external − test with
    ``diff_lo``/``diff_hi`` (independent image sets: variances add) and ``p``; ``n_seeds``.
    """
    rows, left = [], []
    for where, sub in _cells(runs, cell_keys(runs)):
        try:
            row = {**where, "n_seeds": len(sub)}
            for split in SETS:
                row.update(ensemble_auc(sub, split, level))
        except ValueError as exc:
            left.append(f"{cell_name(where)}: {exc}")
            continue
        row.update(unpaired_difference(row["external_auc"], row["external_var"],
                                       row["test_auc"], row["test_var"], level))
        rows.append(row)
    return _frame(rows, left)


def best_external_cells(site: pd.DataFrame) -> pd.DataFrame:
    """Per model × regime × preprocessing: the cell with the highest external AUC (ch. 09)."""
    if site.empty:
        return site
    keys = [k for k in cell_keys(site) if k not in ("resolution", "geometry", "resample")]
    idx = site.groupby(keys, dropna=False)["external_auc"].idxmax()
    return site.loc[idx].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Do the resolution verdicts hold on the external set?
# --------------------------------------------------------------------------------------------


_RES_COLS = ["resolution", "best_resolution", "n_seeds", "n_images", "auc", "auc_sd",
             "auc_best", "diff", "se", "p", "p_holm"]


def resolution_verdicts(runs: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """Each size vs the best size, on ISIC test and on the external set, per set-up (ch. 09).

    :func:`helpers.results.resolution_tests` (paired DeLong of seed ensembles, same images,
    best = highest ensemble AUC on that set) run on each set; Holm within one family = the sizes
    of one model × set-up on one set. ``verdict``: "best" or the word of :func:`verdict_word`.
    """
    fam_keys = [k for k in cell_keys(runs) if k != "resolution"]
    parts, left = [], []
    for where, fam in _cells(runs, fam_keys):
        for split in SETS:
            try:
                tests = resolution_tests(fam, split=split)[_RES_COLS]
            except ValueError as exc:
                left.append(f"{cell_name(where)} on {split}: {exc}")
                continue
            parts.append(tests.assign(**where, set=split))
    if not parts:
        return _frame([], left)
    out = pd.concat(parts, ignore_index=True)
    out["verdict"] = [
        "best" if r == b else verdict_word(d, p, alpha)
        for r, b, d, p in zip(out["resolution"], out["best_resolution"], out["diff"],
                              out["p_holm"], strict=True)
    ]
    cols = [*fam_keys, "set", *_RES_COLS, "verdict"]
    return _frame(out[cols].to_dict("records"), left)


def resolution_summary(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per model × set-up: best size and sizes detectably lower on each set; agreement (ch. 09).

    ``same_best``: the best size is the same on both sets; ``same_verdicts``: every size gets the
    same word on both sets (only for families computed on both).
    """
    if verdicts.empty:
        return _frame([], list(verdicts.attrs.get("left_out", [])))
    fam_keys = [k for k in cell_keys(verdicts) if k != "resolution"]
    rows = []
    for where, fam in _groups(verdicts, fam_keys):
        row: dict[str, Any] = dict(where)
        words = {}
        for split in SETS:
            part = fam[fam["set"] == split].sort_values("resolution")
            if part.empty:
                continue
            row[f"best_{split}"] = int(part["best_resolution"].iloc[0])
            row[f"lower_{split}"] = [int(r) for r in part.loc[part["verdict"] == "lower",
                                                              "resolution"]]
            words[split] = dict(zip(part["resolution"], part["verdict"], strict=True))
        if len(words) == len(SETS):
            row["same_best"] = row["best_test"] == row["best_external"]
            row["same_verdicts"] = words["test"] == words["external"]
        rows.append(row)
    return _frame(rows, list(verdicts.attrs.get("left_out", [])))


def model_comparison(runs: pd.DataFrame, a: str = "mobilenet", b: str = "resnet50",
                     alpha: float = ALPHA) -> pd.DataFrame:
    """``a`` vs ``b`` at each size, paired DeLong of seed ensembles, on each set (ch. 09).

    :func:`helpers.results.compare_if_run` per set-up and set; Holm over the sizes of one
    set-up on one set. ``verdict`` reads as "``a``'s AUC is … than ``b``'s".
    """
    fam_keys = [k for k in cell_keys(runs) if k not in ("model", "resolution")]
    cols = ["resolution", f"n_seeds_{a}", f"n_seeds_{b}", f"auc_{a}", f"auc_{b}", "diff", "se", "p"]
    parts, left = [], []
    for where, fam in _cells(runs, fam_keys):
        for split in SETS:
            try:
                table = compare_if_run(fam, "model", a, b, split=split)
            except (ValueError, KeyError) as exc:
                left.append(f"{cell_name(where)}, {a} vs {b} on {split}: {exc}")
                continue
            if not table.empty:
                parts.append(table[cols].assign(**where, set=split))
    if not parts:
        return _frame([], left)
    out = _holm(pd.concat(parts, ignore_index=True), [*fam_keys, "set"], alpha)
    out = out[[*fam_keys, "set", *cols, "p_holm", "verdict"]]
    return _frame(out.to_dict("records"), left)


# --------------------------------------------------------------------------------------------
# The threshold a deployment carries, and calibration
# --------------------------------------------------------------------------------------------


def _rule_threshold(rule: str, labels: np.ndarray, probs: np.ndarray) -> float:
    if rule == "youden":
        return operating.youden_threshold(labels, probs)
    if rule == "sens90":
        return operating.threshold_for_sensitivity(labels, probs, 0.90)
    raise ValueError(f"unknown threshold rule {rule!r}; use one of {sorted(THRESHOLD_RULES)}")


def _rates(labels: np.ndarray, probs: np.ndarray, threshold: float, split: str,
           level: float) -> dict[str, Any]:
    m = binary_metrics(labels, probs, threshold)
    out: dict[str, Any] = {f"{split}_{k}": m[k] for k in ("tp", "fn", "tn", "fp")}
    for name, k, n in (("sens", m["tp"], m["tp"] + m["fn"]), ("spec", m["tn"], m["tn"] + m["fp"])):
        lo, hi = calibration.wilson_interval(k, n, level)
        out.update({f"{split}_{name}": k / n, f"{split}_{name}_lo": float(lo),
                    f"{split}_{name}_hi": float(hi)})
    return out


def carried_threshold(runs: pd.DataFrame, rules: Iterable[str] = tuple(THRESHOLD_RULES),
                      level: float = 0.95) -> pd.DataFrame:
    """Thresholds chosen on ISIC validation, carried unchanged to ISIC test and the external set.

    Per cell × rule (:data:`THRESHOLD_RULES`, :mod:`helpers.operating`): the seed ensemble's
    validation threshold, then sensitivity and specificity on each set with Wilson intervals
    (:func:`helpers.calibration.wilson_interval`) and the confusion counts (chapter 09).
    """
    rows, left = [], []
    for where, sub in _cells(runs, cell_keys(runs)):
        try:
            _, y_val, p_val = _aligned(sub, "val")
            sets = {s: _aligned(sub, s)[1:] for s in SETS}
        except ValueError as exc:
            left.append(f"{cell_name(where)}: {exc}")
            continue
        for rule in rules:
            t = _rule_threshold(rule, y_val, p_val.mean(axis=0))
            row = {**where, "rule": rule, "n_seeds": len(sub), "threshold": t}
            for split, (y, p) in sets.items():
                row.update(_rates(y, p.mean(axis=0), t, split, level))
            rows.append(row)
    return _frame(rows, left)


def calibration_by_set(runs: pd.DataFrame, n_bins: int = 10) -> pd.DataFrame:
    """ECE (uniform and quantile bins), Brier and mean probability per cell × set (ch. 09).

    Means over the seeds of the per-seed values (as chapter 04's calibration table); also the
    set's prevalence and the ECE of the seed ensemble (``ece_ensemble``).
    """
    rows, left = [], []
    for where, sub in _cells(runs, cell_keys(runs)):
        for split in SETS:
            try:
                _, y, probs = _aligned(sub, split)
            except ValueError as exc:
                left.append(f"{cell_name(where)} on {split}: {exc}")
                continue
            per_seed = pd.DataFrame([_calibration_scores(y, p, n_bins) for p in probs]).mean()
            rows.append({**where, "set": split, "n_seeds": len(sub), **per_seed.to_dict(),
                         "prevalence": float(y.mean()), "ece_ensemble":
                         calibration.expected_calibration_error(y, probs.mean(axis=0), n_bins)})
    return _frame(rows, left)


def _calibration_scores(y: np.ndarray, p: np.ndarray, n_bins: int) -> dict[str, float]:
    return {"ece": calibration.expected_calibration_error(y, p, n_bins),
            "ece_q": calibration.expected_calibration_error(y, p, n_bins, "quantile"),
            "brier": calibration.brier_score(y, p), "mean_prob": float(p.mean())}


def reliability_by_set(runs: pd.DataFrame, where: Mapping[str, Any], n_bins: int = 10,
                       strategy: str = "quantile") -> pd.DataFrame:
    """Reliability table of one cell on each set, its seeds' predictions pooled (ch. 09).

    :func:`helpers.calibration.reliability_table` with a ``set`` column; empty when the cell
    has no runs.
    """
    sub = runs
    for key, value in where.items():
        sub = sub[sub[key] == value] if key in sub else sub
    parts = []
    for split in SETS:
        if sub.empty:
            break
        y = np.concatenate([run[f"pred_{split}"]["labels"] for _, run in sub.iterrows()])
        p = np.concatenate([run[f"pred_{split}"]["probs"] for _, run in sub.iterrows()])
        table = calibration.reliability_table(y, p, n_bins=n_bins, strategy=strategy)
        parts.append(table.assign(set=split))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


# --------------------------------------------------------------------------------------------
# Ablations: how the image is made square, and the interpolation filter
# --------------------------------------------------------------------------------------------


def _with_geometry(sub: pd.DataFrame, name: str | None) -> pd.DataFrame:
    """The runs with ``pred_x`` = their external predictions in geometry ``name`` (None: own)."""
    preds = (sub["pred_external"] if name is None
             else [g[name] for g in sub["pred_external_geometry"]])
    return sub.assign(pred_x=list(preds))


def geometry_ablation(runs: pd.DataFrame, preprocessing: str | None = None, level: float = 0.95,
                      alpha: float = ALPHA) -> pd.DataFrame:
    """External AUC of every scored geometry vs the run's own, per cell, paired DeLong (ch. 09).

    The same runs (no retraining) score the external images made square each way
    (``predictions.external_geometry``); ``preprocessing`` defaults to
    :func:`ablation_preprocessing`. Per cell × geometry: the seed ensemble's AUC [DeLong CI]
    (over the seeds that scored that geometry) and the paired difference to the declared
    geometry (the run's params) on the same seeds and images. Holm within one family = the
    whole table of one regime. ``attrs["runs_without_geometries"]`` counts runs left out.
    """
    prep = preprocessing or ablation_preprocessing(runs)
    if prep is None:
        return _frame([], [], preprocessing=None, runs_without_geometries=0)
    sub_runs = runs[runs["preprocessing"] == prep]
    has = sub_runs["pred_external_geometry"].notna()
    rows, left = [], []
    for where, sub in _cells(sub_runs[has], cell_keys(runs)):
        scored = set().union(*(g.keys() for g in sub["pred_external_geometry"]))
        names = sorted(scored, key=lambda g: (GEOMETRIES.index(g) if g in GEOMETRIES else 99, g))
        for name in names:
            seeds = sub[[name in g for g in sub["pred_external_geometry"]]]
            try:
                rows.append({**where, **_geometry_row(seeds, name, where["geometry"], level)})
            except ValueError as exc:
                left.append(f"{cell_name(where)}, geometry {name}: {exc}")
    out = _holm(pd.DataFrame(rows), ["regime"], alpha) if rows else pd.DataFrame()
    if not out.empty:
        out.loc[out["compared_geometry"] == out["geometry"], "verdict"] = "declared"
    return _frame(out.to_dict("records"), left, preprocessing=prep,
                  runs_without_geometries=int((~has).sum()))


def _geometry_row(seeds: pd.DataFrame, name: str, own: str, level: float) -> dict[str, Any]:
    if name == own:
        _, labels, probs = _aligned(_with_geometry(seeds, name), "x")
        ci = _auc_ci(labels, probs.mean(axis=0), level)
        return {"compared_geometry": name, "n_seeds": len(seeds), "auc": ci["auc"],
                "auc_lo": ci["lo"], "auc_hi": ci["hi"], "auc_declared": ci["auc"], "diff": 0.0,
                "diff_lo": 0.0, "diff_hi": 0.0, "se": 0.0, "p": math.nan}
    test = paired_ensembles(_with_geometry(seeds, name), _with_geometry(seeds, None), "x", level)
    _, labels, probs = _aligned(_with_geometry(seeds, name), "x")
    ci = _auc_ci(labels, probs.mean(axis=0), level)
    return {"compared_geometry": name, "n_seeds": len(seeds), "auc": test["auc_a"],
            "auc_lo": ci["lo"], "auc_hi": ci["hi"], "auc_declared": test["auc_b"],
            **{k: test[k] for k in ("diff", "diff_lo", "diff_hi", "se", "p")}}


def interpolation_ablation(runs: pd.DataFrame, resolution: int = 64,
                           reference: str = DEFAULT_RESIZE["resample"], level: float = 0.95,
                           alpha: float = ALPHA) -> pd.DataFrame:
    """Each interpolation filter vs ``reference`` at one input size, on both sets (ch. 09).

    Runs trained and tested with each ``resample`` (params); per model × set-up × filter × set:
    the seed ensemble's AUC [DeLong CI] and the paired DeLong difference to the reference
    filter's ensemble on the same images. Holm within one family = one set × regime (the
    table of that set). Set-ups run with one filter only are not part of the ablation.
    """
    sub_runs = runs[runs["resolution"] == resolution] if len(runs) else runs
    fam_keys = [k for k in cell_keys(runs) if k != "resample"]
    rows, left = [], []
    for where, fam in _cells(sub_runs, fam_keys):
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
    out = _holm(pd.DataFrame(rows), ["set", "regime"], alpha) if rows else pd.DataFrame()
    if not out.empty:
        out.loc[out["resample"] == reference, "verdict"] = "reference"
    return _frame(out.to_dict("records"), left, resolution=resolution, reference=reference)


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
    """Image id → diagnosis from a CSV with columns ``id,diagnosis`` (ch. 09).

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
    """External AUC of positives vs each negative diagnosis alone, per cell (ch. 09).

    Seed ensemble with its DeLong CI, on the images whose diagnosis is ``positive`` or that
    negative. ``attrs["unmatched"]``: external image ids absent from ``diagnoses`` (left out).
    A diagnosis that contradicts the record's label is an error naming the image.
    """
    rows, left, unmatched = [], [], set()
    for where, sub in _cells(runs, cell_keys(runs)):
        try:
            ids, labels, probs = _aligned(sub, "external")
        except ValueError as exc:
            left.append(f"{cell_name(where)}: {exc}")
            continue
        diag = diagnoses.reindex(ids).to_numpy()
        unmatched |= set(ids[pd.isna(diag)].tolist())
        _check_labels(ids, labels, diag, positive)
        for neg in negatives:
            keep = (diag == positive) | (diag == neg)
            row = {**where, "negatives": neg, "n_seeds": len(sub),
                   "n_pos": int((diag == positive).sum()), "n_neg": int((diag == neg).sum())}
            try:
                ci = _auc_ci(labels[keep], probs[:, keep].mean(axis=0), level)
            except ValueError as exc:
                left.append(f"{cell_name(where)}, {positive} vs {neg}: {exc}")
                continue
            rows.append({**row, "auc": ci["auc"], "auc_lo": ci["lo"], "auc_hi": ci["hi"]})
    return _frame(rows, left, unmatched=sorted(unmatched))


def _check_labels(ids: np.ndarray, labels: np.ndarray, diag: np.ndarray, positive: str) -> None:
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
    """Per regime: runs that scored the external set, their cells, runs that did not (ch. 09).

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
