"""Another hospital's images: ISIC-trained runs scored on an external set such as PH2 (external-site chapter).

Numbers only (DataFrames and dicts); the ablations and subgroups are
:mod:`helpers.analysis.external_ablations`, the chapter's tables and sentences
:mod:`helpers.chapters.external_site`, its figures
:mod:`helpers.chapters.external_site_figures`. The runs are those of a sweep with an external
test set (``external=<name>``; the book's: ``configs/ph2-external.yaml``): each record holds
``predictions.val``/``test`` (ISIC) and ``predictions.external`` (every image of the other
hospital, brought to N×N with the run's ``geometry`` and ``resample``), and, where the run
scored them, ``predictions.external_geometry`` (the same images made square each other way).

Conventions shared by every function here and in :mod:`helpers.analysis.external_ablations`:

* A *cell* is one configuration: model × resolution × preprocessing × regime × geometry ×
  resample (× any other parameter that varies, e.g. precision); its runs differ in the seed.
* "seed ensemble": the mean probability over the cell's seeds, scored once (AUC with its DeLong
  95 % interval, :func:`helpers.stats.delong.fast_delong`); "seed mean": the mean (± SD) of the
  per-seed AUCs. Paired tests compare seed ensembles on the same images, joined by image id
  (:func:`helpers.analysis.compare.align_predictions`).
* Multiplicity: Holm within the family each function names (:func:`helpers.stats.delong.holm_adjust`);
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

from helpers import config
from helpers.analysis.compare import align_predictions, compare_if_run, resolution_tests
from helpers.data.resize import DEFAULT_GEOMETRY, DEFAULT_RESAMPLE
from helpers.runs import records
from helpers.runs.frames import (
    NoRunsError,
    cell_groups,
    load_runs,
    model_label,
    record_predictions,
    variant_columns,
)
from helpers.stats import calibration, operating
from helpers.stats import delong as stats
from helpers.stats.metrics import binary_metrics

ALPHA = 0.05
"""The significance level, applied to Holm-adjusted p-values (as in the results chapter)."""

SETS: tuple[str, ...] = ("test", "external")
"""The two evaluation sets: the training data set's test split (ISIC) and the external set."""

DEFAULT_RESIZE: dict[str, str] = {"geometry": DEFAULT_GEOMETRY, "resample": DEFAULT_RESAMPLE}
"""What a record without ``geometry``/``resample`` in its params used (they are omitted there at
these defaults, so earlier run ids stay valid)."""

CELL_KEYS: tuple[str, ...] = (
    "model", "resolution", "preprocessing", "regime", "geometry", "resample",
)
"""Parameters that always tell cells apart here (any other varying parameter is added)."""

THRESHOLD_RULES: dict[str, str] = {
    "youden": "Youden's J on validation",
    "sens90": "90 % sensitivity on validation",
}
"""The validation rules of :mod:`helpers.stats.operating` that the results chapter uses, and their labels."""

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
    """Ok runs that scored an external set, one row each (:func:`load_runs` columns) (external-site chapter).

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
        out[rid] = {str(g): record_predictions(named, f"external_geometry.{g}", rid) for g in block}
    return out


def cell_keys(runs: pd.DataFrame) -> list[str]:
    """Columns that identify a cell: :data:`CELL_KEYS` and any other varying parameter (external-site chapter)."""
    keys = [k for k in CELL_KEYS if k in runs]
    return keys + [k for k in variant_columns(runs) if k not in keys]


def cell_name(where: Mapping[str, Any]) -> str:
    """``MobileNet · 64 px · native · frozen · squash · bilinear`` for messages (external-site chapter)."""
    parts = [model_label(v) if k == "model" else f"{v} px" if k == "resolution" else str(v)
             for k, v in where.items()]
    return " · ".join(parts)


def main_resize(runs: pd.DataFrame) -> dict[str, str]:
    """The geometry and resample of the main grid: the pair run in the most cells (external-site chapter).

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
    """The runs made with the main grid's geometry and resample (:func:`main_resize`) (external-site chapter)."""
    if runs.empty:
        return runs
    resize = main_resize(runs)
    keep = (runs["geometry"] == resize["geometry"]) & (runs["resample"] == resize["resample"])
    out = runs[keep].reset_index(drop=True)
    out.attrs.update(runs.attrs)
    return out


def verdict_word(diff: float, p_adj: float, alpha: float = ALPHA) -> str:
    """"higher"/"lower" when the Holm-adjusted p < alpha, else "no detectable difference".

    The external-site chapter's one wording rule; an untested comparison (p NaN) is "not tested".
    """
    if p_adj is None or not math.isfinite(p_adj):
        return "not tested"
    if p_adj < alpha:
        return "higher" if diff > 0 else "lower"
    return "no detectable difference"


def result_frame(rows: list[dict[str, Any]], left_out: list[str], **attrs: Any) -> pd.DataFrame:
    """A result table with ``attrs["left_out"]`` and ``attrs`` (Another hospital's images)."""
    out = pd.DataFrame(rows)
    out.attrs.update({"left_out": left_out, **attrs})
    return out




# --------------------------------------------------------------------------------------------
# Seed ensembles and tests
# --------------------------------------------------------------------------------------------


def aligned(sub: pd.DataFrame, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ids, labels, probs (one row per seed) joined by id (Another hospital's images)."""
    return align_predictions(sub.sort_values("seed"), split)


def auc_ci(labels: np.ndarray, probs: np.ndarray, level: float) -> dict[str, float]:
    """DeLong AUC, variance and CI as ``auc``/``var``/``lo``/``hi`` (Another hospital's images)."""
    auc, var = stats.fast_delong(labels, probs)
    lo, hi = stats.delong_ci(auc, var, level)
    return {"auc": auc, "var": var, "lo": lo, "hi": hi}


def ensemble_auc(sub: pd.DataFrame, split: str, level: float = 0.95) -> dict[str, Any]:
    """Seed-ensemble AUC [DeLong CI] and seed-mean AUC ± SD of one cell on one set (external-site chapter)."""
    _, labels, probs = aligned(sub, split)
    seed_aucs, _ = stats.delong_covariance(labels, probs)
    out = {f"{split}_{k}": v for k, v in auc_ci(labels, probs.mean(axis=0), level).items()}
    out[f"{split}_seed_mean"] = float(np.mean(seed_aucs))
    out[f"{split}_seed_sd"] = float(np.std(seed_aucs, ddof=1)) if len(seed_aucs) > 1 else math.nan
    out[f"{split}_n_pos"] = int(labels.sum())
    out[f"{split}_n_neg"] = int((labels == 0).sum())
    return out


def unpaired_difference(auc_a: float, var_a: float, auc_b: float, var_b: float,
                        level: float = 0.95) -> dict[str, float]:
    """AUC(a) − AUC(b) on independent image sets: the variances add; normal CI and p (external-site chapter)."""
    diff, se = auc_a - auc_b, math.sqrt(var_a + var_b)
    half = float(norm.ppf(0.5 + level / 2)) * se
    p = float(2 * norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
    return {"diff": diff, "diff_lo": diff - half, "diff_hi": diff + half, "diff_se": se, "p": p}


def holm_verdicts(table: pd.DataFrame, family: list[str], alpha: float = ALPHA) -> pd.DataFrame:
    """``p_holm`` per family (NaN p stays NaN) and ``verdict`` (Another hospital's images)."""
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
    """Per cell: ISIC test and external AUC (seed ensemble [DeLong CI]; seed mean ± SD) (external-site chapter).

    Columns ``test_auc``/``test_lo``/``test_hi``/``test_var``, ``test_seed_mean``/``_sd``,
    ``test_n_pos``/``_n_neg`` and the same with ``external_``; ``diff`` = external − test with
    ``diff_lo``/``diff_hi`` (independent image sets: variances add) and ``p``; ``n_seeds``.
    """
    rows, left = [], []
    for where, sub in cell_groups(runs, cell_keys(runs)):
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
    return result_frame(rows, left)


def best_external_cells(site: pd.DataFrame) -> pd.DataFrame:
    """Per model × regime × preprocessing: the cell with the highest external AUC (external-site chapter)."""
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
    """Each size vs the best size, on ISIC test and on the external set, per set-up (external-site chapter).

    :func:`helpers.chapters.results.resolution_tests` (paired DeLong of seed ensembles, same images,
    best = highest ensemble AUC on that set) run on each set; Holm within one family = the sizes
    of one model × set-up on one set. ``verdict``: "best" or the word of :func:`verdict_word`.
    """
    fam_keys = [k for k in cell_keys(runs) if k != "resolution"]
    parts, left = [], []
    for where, fam in cell_groups(runs, fam_keys):
        for split in SETS:
            try:
                tests = resolution_tests(fam, split=split)[_RES_COLS]
            except ValueError as exc:
                left.append(f"{cell_name(where)} on {split}: {exc}")
                continue
            parts.append(tests.assign(**where, set=split))
    if not parts:
        return result_frame([], left)
    out = pd.concat(parts, ignore_index=True)
    out["verdict"] = [
        "best" if r == b else verdict_word(d, p, alpha)
        for r, b, d, p in zip(out["resolution"], out["best_resolution"], out["diff"],
                              out["p_holm"], strict=True)
    ]
    cols = [*fam_keys, "set", *_RES_COLS, "verdict"]
    return result_frame(out[cols].to_dict("records"), left)


def resolution_summary(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per model × set-up: best size and sizes detectably lower on each set; agreement (external-site chapter).

    ``same_best``: the best size is the same on both sets; ``same_verdicts``: every size gets the
    same word on both sets (only for families computed on both).
    """
    if verdicts.empty:
        return result_frame([], list(verdicts.attrs.get("left_out", [])))
    fam_keys = [k for k in cell_keys(verdicts) if k != "resolution"]
    rows = []
    for where, fam in cell_groups(verdicts, fam_keys):
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
    return result_frame(rows, list(verdicts.attrs.get("left_out", [])))


def model_comparison(runs: pd.DataFrame, a: str = "mobilenet", b: str = "resnet50",
                     alpha: float = ALPHA) -> pd.DataFrame:
    """``a`` vs ``b`` at each size, paired DeLong of seed ensembles, on each set (external-site chapter).

    :func:`helpers.chapters.results.compare_if_run` per set-up and set; Holm over the sizes of one
    set-up on one set. ``verdict`` reads as "``a``'s AUC is … than ``b``'s".
    """
    fam_keys = [k for k in cell_keys(runs) if k not in ("model", "resolution")]
    cols = ["resolution", f"n_seeds_{a}", f"n_seeds_{b}", f"auc_{a}", f"auc_{b}", "diff", "se", "p"]
    parts, left = [], []
    for where, fam in cell_groups(runs, fam_keys):
        for split in SETS:
            try:
                table = compare_if_run(fam, "model", a, b, split=split)
            except (ValueError, KeyError) as exc:
                left.append(f"{cell_name(where)}, {a} vs {b} on {split}: {exc}")
                continue
            if not table.empty:
                parts.append(table[cols].assign(**where, set=split))
    if not parts:
        return result_frame([], left)
    out = holm_verdicts(pd.concat(parts, ignore_index=True), [*fam_keys, "set"], alpha)
    out = out[[*fam_keys, "set", *cols, "p_holm", "verdict"]]
    return result_frame(out.to_dict("records"), left)


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

    Per cell × rule (:data:`THRESHOLD_RULES`, :mod:`helpers.stats.operating`): the seed ensemble's
    validation threshold, then sensitivity and specificity on each set with Wilson intervals
    (:func:`helpers.stats.calibration.wilson_interval`) and the confusion counts (external-site chapter).
    """
    rows, left = [], []
    for where, sub in cell_groups(runs, cell_keys(runs)):
        try:
            _, y_val, p_val = aligned(sub, "val")
            sets = {s: aligned(sub, s)[1:] for s in SETS}
        except ValueError as exc:
            left.append(f"{cell_name(where)}: {exc}")
            continue
        for rule in rules:
            t = _rule_threshold(rule, y_val, p_val.mean(axis=0))
            row = {**where, "rule": rule, "n_seeds": len(sub), "threshold": t}
            for split, (y, p) in sets.items():
                row.update(_rates(y, p.mean(axis=0), t, split, level))
            rows.append(row)
    return result_frame(rows, left)


def calibration_by_set(runs: pd.DataFrame, n_bins: int = 10) -> pd.DataFrame:
    """ECE (uniform and quantile bins), Brier and mean probability per cell × set (external-site chapter).

    Means over the seeds of the per-seed values (as the results chapter's calibration table); also the
    set's prevalence and the ECE of the seed ensemble (``ece_ensemble``).
    """
    rows, left = [], []
    for where, sub in cell_groups(runs, cell_keys(runs)):
        for split in SETS:
            try:
                _, y, probs = aligned(sub, split)
            except ValueError as exc:
                left.append(f"{cell_name(where)} on {split}: {exc}")
                continue
            per_seed = pd.DataFrame([_calibration_scores(y, p, n_bins) for p in probs]).mean()
            rows.append({**where, "set": split, "n_seeds": len(sub), **per_seed.to_dict(),
                         "prevalence": float(y.mean()), "ece_ensemble":
                         calibration.expected_calibration_error(y, probs.mean(axis=0), n_bins)})
    return result_frame(rows, left)


def _calibration_scores(y: np.ndarray, p: np.ndarray, n_bins: int) -> dict[str, float]:
    return {"ece": calibration.expected_calibration_error(y, p, n_bins),
            "ece_q": calibration.expected_calibration_error(y, p, n_bins, "quantile"),
            "brier": calibration.brier_score(y, p), "mean_prob": float(p.mean())}
