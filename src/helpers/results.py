"""Run records → tables and tests for the results chapter (chapter 04).

Everything here is computed from run records (CONTRIBUTING.md) written by sweeps; the only
typed-in numbers of the chapter are the paper's, in :mod:`helpers.paper_reference`.

Rows of :func:`load_runs` are single training runs. Runs that differ only in ``seed`` form a
*configuration*; the columns that tell configurations apart are ``model``, ``resolution`` and every
other parameter that takes more than one value in the loaded records (:func:`variant_columns`,
e.g. ``preprocessing`` or ``regime``), so that different set-ups are never averaged together.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from helpers import config, records, stats
from helpers import paper_reference as ref

METRICS: tuple[str, ...] = ("accuracy", "f1", "sensitivity", "specificity", "auc")
PERCENT_METRICS: frozenset[str] = frozenset({"accuracy", "sensitivity", "specificity"})
METRIC_LABELS: dict[str, str] = {
    "accuracy": "Accuracy (%)",
    "f1": "F1",
    "sensitivity": "Sensitivity (%)",
    "specificity": "Specificity (%)",
    "auc": "AUC",
}
MODEL_LABELS: dict[str, str] = {
    "mobilenet": "MobileNet",
    "mobilenetv2": "MobileNetV2",
    "resnet50": "ResNet50",
}
PARAM_KEYS: tuple[str, ...] = records.IDENTITY_KEYS
DEFAULT_SWEEP_HINT = "python -m helpers sweep configs/paper.yaml  (or: make sweep)"


class NoRunsError(LookupError):
    """No successful run record matched: the sweep has not been run yet (chapter 04)."""


def model_label(name: str) -> str:
    """Display name of a model key, e.g. ``resnet50`` → ``ResNet50`` (chapter 04)."""
    return MODEL_LABELS.get(str(name), str(name))


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _where(rid: str) -> str:
    return f"run record {rid!r} (records/{rid}.json)"


def _require(rec: Mapping[str, Any], path: Sequence[str], rid: str) -> Any:
    node: Any = rec
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            raise ValueError(
                f"{_where(rid)} has no {'.'.join(path)}: it does not follow the run-record "
                "schema in CONTRIBUTING.md; re-run that configuration or delete the file"
            )
        node = node[key]
    return node


def _predictions(rec: Mapping[str, Any], split: str, rid: str) -> dict[str, np.ndarray] | None:
    preds = rec.get("predictions", {}) or {}
    block = preds.get(split)
    if block is None:
        return None
    ids = np.asarray(_require(block, ["ids"], rid), dtype=str)
    labels = np.asarray(_require(block, ["labels"], rid))
    probs = np.asarray(_require(block, ["probs"], rid), dtype=float)
    if not (ids.shape == labels.shape == probs.shape) or ids.ndim != 1:
        raise ValueError(
            f"{_where(rid)}: predictions.{split} ids/labels/probs have shapes "
            f"{ids.shape}/{labels.shape}/{probs.shape}; they must be equal-length lists"
        )
    if len(set(ids.tolist())) != ids.size:
        raise ValueError(f"{_where(rid)}: predictions.{split}.ids contains duplicate image ids")
    if not np.all(np.isfinite(probs)):
        raise ValueError(f"{_where(rid)}: predictions.{split}.probs contains NaN/null values")
    return {"ids": ids, "labels": labels.astype(int), "probs": probs}


def _flatten(rec: Mapping[str, Any]) -> dict[str, Any]:
    rid = str(rec["run_id"])
    params = _require(rec, ["params"], rid)
    for key in ("model", "resolution", "seed"):
        _require(rec, ["params", key], rid)
    row: dict[str, Any] = {"run_id": rid}
    for key, value in params.items():
        row[key] = value if isinstance(value, str | int | float | bool | type(None)) else str(value)
    for split in ("val", "test"):
        for key, value in (rec.get("metrics", {}) or {}).get(split, {}).items():
            row[f"{split}_{key}"] = value
        row[f"pred_{split}"] = _predictions(rec, split, rid)
    for key in METRICS:
        value = row.get(f"test_{key}")
        if value is not None and not (0.0 <= float(value) <= 1.0):
            raise ValueError(
                f"{_where(rid)}: metrics.test.{key} = {value} is outside [0, 1]; metrics must "
                "be stored as fractions (helpers.metrics)"
            )
    for key, value in (rec.get("cost", {}) or {}).items():
        row[f"cost_{key}"] = value
    for key, value in (rec.get("latency_ms", {}) or {}).items():
        row[f"latency_{key}_ms"] = value
    for key, value in (rec.get("timing", {}) or {}).items():
        row[f"timing_{key}"] = value
    data = rec.get("data", {}) or {}
    names = data.get("class_names")
    row["class_names"] = " | ".join(map(str, names)) if names else None
    counts = (data.get("counts") or {}).get("train")
    row["train_majority_share"] = (
        max(counts) / sum(counts) if counts and sum(counts) > 0 else None
    )
    row["history"] = rec.get("history") or {}
    row["data_fingerprint"] = (rec.get("provenance", {}) or {}).get("data_fingerprint")
    return row


def load_runs(
    results_dir: str | os.PathLike[str] | None,
    dataset: str | None = None,
    task: str | None = None,
    *,
    hint: str = DEFAULT_SWEEP_HINT,
) -> pd.DataFrame:
    """One row per ok run under ``results_dir`` (params, metrics, cost, latency, timing); chapter 04.

    ``df.attrs`` holds ``n_ok``, ``n_failed`` and ``failed_run_ids`` (failed runs are counted,
    not tabulated). Raises :class:`NoRunsError`, naming the sweep to run, when nothing matches.
    """
    shown = str(results_dir) if results_dir not in (None, "") else "$RESBOOK_RESULTS_DIR"
    folder = config.results_dir(results_dir)
    what = f"dataset={dataset!r}, task={task!r}"
    if not folder.exists():
        raise NoRunsError(f"No results folder {shown} for {what}. Run the sweep first: {hint}")
    ok: list[dict[str, Any]] = []
    failed: list[str] = []
    seen: set[str] = set()
    for rec in records.load_records(folder):
        rid = str(rec["run_id"])
        if rid in seen:
            raise ValueError(
                f"run {rid!r} has two record files under {shown}: keep one (same run, two copies)"
            )
        seen.add(rid)
        params = rec.get("params") or {}
        if dataset is not None and params.get("dataset") != dataset:
            continue
        if task is not None and params.get("task") != task:
            continue
        if rec.get("status") == "ok":
            ok.append(_flatten(rec))
        else:
            failed.append(rid)
    if not ok:
        raise NoRunsError(
            f"No successful run records for {what} under {shown} "
            f"({len(failed)} failed). Run the sweep first: {hint}"
        )
    df = pd.DataFrame(ok)
    for key in PARAM_KEYS:  # e.g. unfreeze_blocks: None for most regimes, an int for "partial"
        if key in df and pd.api.types.is_float_dtype(df[key]):
            values = df[key].dropna()
            if len(values) and (values == values.round()).all():
                df[key] = df[key].astype("Int64")
    df = df.sort_values(
        [c for c in ("model", "resolution", "seed", "run_id") if c in df]
    ).reset_index(drop=True)
    df.attrs.update({"n_ok": len(ok), "n_failed": len(failed), "failed_run_ids": sorted(failed)})
    return df


# --------------------------------------------------------------------------------------------
# Grouping
# --------------------------------------------------------------------------------------------


def variant_columns(df: pd.DataFrame) -> list[str]:
    """Parameters (besides model, resolution, seed) that vary across the runs (chapter 04)."""
    out = []
    for key in PARAM_KEYS:
        if key in ("model", "resolution", "seed") or key not in df:
            continue
        if df[key].astype(str).nunique(dropna=False) > 1:
            out.append(key)
    return out


def config_columns(df: pd.DataFrame) -> list[str]:
    """Columns that identify a configuration: model, resolution, then the varying params (ch. 04)."""
    return ["model", "resolution", *variant_columns(df)]


def setting(row: pd.Series, key: str, runs: pd.DataFrame) -> Any:
    """A table row's value of parameter ``key``, or the one value all ``runs`` share (chapter 04).

    Tables keep a parameter column only when it varies across the runs (:func:`config_columns`).
    """
    return row[key] if key in row.index else runs[key].iloc[0]


def _groups(df: pd.DataFrame, keys: list[str]) -> Iterable[tuple[dict[str, Any], pd.DataFrame]]:
    for values, sub in df.groupby(keys, sort=True, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        yield dict(zip(keys, values, strict=True)), sub


def _check_seeds(sub: pd.DataFrame, where: Mapping[str, Any]) -> None:
    if sub["seed"].duplicated().any():
        raise ValueError(
            f"configuration {dict(where)} has several runs with the same seed "
            f"({sub['run_id'].tolist()}); their records must differ in some parameter"
        )


# --------------------------------------------------------------------------------------------
# Table I
# --------------------------------------------------------------------------------------------


def _fmt(metric: str, mean: float, lo: float, hi: float) -> str:
    scale, digits = (100.0, 1) if metric in PERCENT_METRICS else (1.0, 3)
    text = f"{mean * scale:.{digits}f}"
    if math.isfinite(lo) and math.isfinite(hi):
        text += f" [{lo * scale:.{digits}f}, {hi * scale:.{digits}f}]"
    return text


def table_one(df: pd.DataFrame, split: str = "test", level: float = 0.95) -> pd.DataFrame:
    """Accuracy, F1, sensitivity, specificity, AUC per configuration: mean and t-CI over seeds (ch. 04).

    Numeric columns (fractions) ``<metric>``, ``<metric>_lo``, ``<metric>_hi`` for glue, and display
    strings under :data:`METRIC_LABELS` ("mean [lo, hi]"; percentages for accuracy/sens/spec).
    The t-interval is clipped to [0, 1], the range of every metric here.
    """
    keys = config_columns(df)
    rows = []
    for where, sub in _groups(df, keys):
        _check_seeds(sub, where)
        row: dict[str, Any] = {**where, "n_seeds": len(sub)}
        for metric in METRICS:
            col = f"{split}_{metric}"
            if col not in sub or sub[col].isna().any():
                raise ValueError(
                    f"runs {sub['run_id'].tolist()} lack metrics.{split}.{metric}: "
                    "re-run them with the current helpers.metrics"
                )
            mean, lo, hi = stats.mean_ci(sub[col].astype(float).to_numpy(), level)
            lo, hi = max(lo, 0.0), min(hi, 1.0)  # all five metrics live in [0, 1]; NaN stays NaN
            row.update({metric: mean, f"{metric}_lo": lo, f"{metric}_hi": hi})
            row[METRIC_LABELS[metric]] = _fmt(metric, mean, lo, hi)
        rows.append(row)
    return pd.DataFrame(rows)


def display_table(table: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """Display copy: model names spelled out, numbers rounded, glue-only columns dropped (ch. 04)."""
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
    for col in ("p", "p_holm"):
        if col in out:
            out[col] = [format_p(v) for v in out[col]]
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(digits)
    return out.reset_index(drop=True)


def format_p(p: float) -> str:
    """A p-value for display: ``<0.001``, three decimals, or ``–`` when undefined (chapter 04)."""
    if p is None or not math.isfinite(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


PAPER_SETUP: dict[str, Any] = {"preprocessing": "unit", "regime": "full"}
"""The paper's protocol for the parameters a sweep may vary: inputs scaled to [0, 1], all layers
trained."""


def main_setup(df: pd.DataFrame) -> dict[str, Any]:
    """The set-up drawn in the single-set-up figures: the paper's where run, else the fullest (ch. 04).

    For each varying parameter: ``preprocessing`` → the paper's ``unit`` when present;
    ``regime`` → the regime with the most model × resolution cells (the paper's ``full`` on a
    tie); ``unfreeze_blocks`` → the value with the most cells within that regime. Any other
    varying parameter is an error asking the caller to choose.
    """
    cols = variant_columns(df)
    other = [c for c in cols if c not in ("preprocessing", "regime", "unfreeze_blocks")]
    if other:
        values = {c: sorted(map(str, df[c].unique())) for c in other}
        raise ValueError(
            f"the runs vary in {values}: choose one value of each with plots' variant={{...}} "
            "or load a results folder with one value"
        )

    def cells(sub: pd.DataFrame) -> int:
        return len(sub.groupby(["model", "resolution"]))

    setup: dict[str, Any] = {}
    sub = df
    if "preprocessing" in cols:
        values = list(dict.fromkeys(df["preprocessing"]))
        want = PAPER_SETUP["preprocessing"]
        setup["preprocessing"] = want if want in values else sorted(map(str, values))[0]
        sub = sub[sub["preprocessing"] == setup["preprocessing"]]
    if "regime" in cols:
        values = list(dict.fromkeys(sub["regime"]))
        n = {v: cells(sub[sub["regime"] == v]) for v in values}
        setup["regime"] = max(values, key=lambda v: (n[v], v == PAPER_SETUP["regime"], str(v)))
        sub = sub[sub["regime"] == setup["regime"]]
    if "unfreeze_blocks" in cols:
        values = list(dict.fromkeys(sub["unfreeze_blocks"]))
        n = {str(v): cells(sub[sub["unfreeze_blocks"].astype(str) == str(v)]) for v in values}
        setup["unfreeze_blocks"] = max(values, key=lambda v: (n[str(v)], -len(str(v)), str(v)))
    return setup


def paper_table_one() -> pd.DataFrame:
    """The paper's Table I as quoted in :mod:`helpers.paper_reference`, in our units (ch. 04)."""
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
    """Our Table I next to the paper's, matched on model and resolution (chapter 04)."""
    keys = [c for c in ours.columns if c in config_columns_from_table(ours)]
    left = ours[[*keys, *(METRIC_LABELS[m] for m in metrics)]]
    right = paper[["model", "resolution", *(METRIC_LABELS[m] for m in metrics)]]
    merged = left.merge(right, on=["model", "resolution"], how="left", suffixes=(" ours", " paper"))
    merged = merged.fillna("–")
    merged["model"] = merged["model"].map(model_label)
    return merged


def config_columns_from_table(table: pd.DataFrame) -> list[str]:
    """Configuration columns of a table made by this module (chapter 04)."""
    return [c for c in ("model", "resolution", *PARAM_KEYS) if c in table and c != "seed"]


# --------------------------------------------------------------------------------------------
# DeLong per run and between resolutions
# --------------------------------------------------------------------------------------------


def _pred(row: pd.Series, split: str) -> dict[str, np.ndarray]:
    pred = row.get(f"pred_{split}")
    if not isinstance(pred, dict):
        raise ValueError(f"{_where(row['run_id'])} has no predictions.{split}")
    return pred


def delong_per_run(df: pd.DataFrame, split: str = "test", level: float = 0.95) -> pd.DataFrame:
    """AUC ± DeLong SD (and CI) of every run from its stored predictions (chapter 04)."""
    rows = []
    keys = config_columns(df)
    for _, run in df.iterrows():
        pred = _pred(run, split)
        auc, var = stats.fast_delong(pred["labels"], pred["probs"])
        stored = run.get(f"{split}_auc")
        if stored is not None and not pd.isna(stored) and abs(float(stored) - auc) > 5e-3:
            raise ValueError(
                f"{_where(run['run_id'])}: metrics.{split}.auc = {stored} but its stored "
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
    """(ids, labels, probs[run, image]) of several runs joined by image id; id sets must match (ch. 04)."""
    preds = [_pred(run, split) for _, run in runs.iterrows()]
    rids = runs["run_id"].tolist()
    ids = np.sort(preds[0]["ids"])
    for rid, pred in zip(rids, preds, strict=True):
        if pred["ids"].size != ids.size or not np.array_equal(np.sort(pred["ids"]), ids):
            extra = len(set(pred["ids"].tolist()) ^ set(ids.tolist()))
            raise ValueError(
                f"runs {rids[0]!r} and {rid!r} were evaluated on different {split} images "
                f"({extra} ids differ): paired DeLong tests need the same images. Runs with "
                "max_images subsample per seed; compare runs made on the full split (same "
                "provenance.data_fingerprint)"
            )
    labels = None
    probs = np.empty((len(preds), ids.size))
    for r, (rid, pred) in enumerate(zip(rids, preds, strict=True)):
        order = np.argsort(pred["ids"])
        probs[r] = pred["probs"][order]
        lab = pred["labels"][order]
        if labels is None:
            labels = lab
        elif not np.array_equal(labels, lab):
            raise ValueError(f"run {rid!r} labels some {split} images differently from {rids[0]!r}")
    assert labels is not None
    return ids, labels, probs


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
        "p_seeds": ", ".join(f"{p:.3g}" for p in ps) if ps else "–",
        "p_seed_max": max(ps) if ps else math.nan,
        f"seeds p<{alpha:g}": f"{sum(p < alpha for p in ps)}/{len(ps)}",
    }


def resolution_tests(
    df: pd.DataFrame, split: str = "test", alpha: float = 0.05, select_on: str | None = None
) -> pd.DataFrame:
    """Paired DeLong test of each resolution against the best one, per model × variant (ch. 04).

    Uses the seed-averaged probabilities of every configuration (all on the same images, joined
    by id) and also reports per-seed p-values. The best resolution has the highest
    seed-averaged AUC on ``select_on`` (default: ``split``). ``p_holm`` is Holm-adjusted within
    each model × variant family.
    """
    family_keys = [c for c in config_columns(df) if c != "resolution"]
    rows = []
    for where, fam in _groups(df, family_keys):
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
    """Paired DeLong test of ``column == a`` vs ``column == b`` per model × resolution × rest (ch. 04).

    E.g. ``compare_variants(df, "preprocessing", "unit", "native")``: seed-averaged predictions of
    each side on the same test images, plus per-seed p-values and mean accuracies.
    """
    if column not in df:
        raise KeyError(f"no column {column!r} in the runs; columns: {list(df.columns)}")
    keys = [c for c in config_columns(df) if c != column]
    rows = []
    for where, sub in _groups(df, keys):
        side_a = sub[sub[column] == a].sort_values("seed")
        side_b = sub[sub[column] == b].sort_values("seed")
        if side_a.empty or side_b.empty:
            continue
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


# --------------------------------------------------------------------------------------------
# Table II and figure data
# --------------------------------------------------------------------------------------------


def table_two(df: pd.DataFrame, split: str = "test", resolution: int | None = None) -> pd.DataFrame:
    """Model size, accuracy and accuracy per MB / GFLOP / ms of batch-1 latency (chapter 04).

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
    for where, sub in _groups(sub_df, config_columns(df)):
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


def history_long(df: pd.DataFrame) -> pd.DataFrame:
    """Per-epoch training history of every run in long form, for the loss figure (chapter 04)."""
    keys = config_columns(df)
    frames = []
    for _, run in df.iterrows():
        hist = run["history"] or {}
        if "val_loss" not in hist:
            raise ValueError(f"{_where(run['run_id'])} has no history.val_loss")
        n = len(hist["val_loss"])
        epoch = hist.get("epoch") or list(range(1, n + 1))
        frame = pd.DataFrame(
            {
                "epoch": epoch,
                **{
                    k: hist[k]
                    for k in ("loss", "val_loss", "accuracy", "val_accuracy")
                    if k in hist
                },
            }
        )
        for k in (*keys, "seed", "run_id"):
            frame[k] = run[k]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def binary_entropy(p: float) -> float:
    """Cross-entropy (nats) of always answering the class prior ``p``: a loss floor (chapter 04)."""
    if not 0.0 < p < 1.0:
        return 0.0
    return float(-(p * math.log(p) + (1.0 - p) * math.log(1.0 - p)))


def fit_summary(df: pd.DataFrame, *, margin: float = 0.05) -> pd.DataFrame:
    """How far each configuration fitted its training images, from the histories (chapter 04).

    Per configuration (seeds pooled): the last epoch's training accuracy (mean, min, max) and
    loss, the training set's majority-class share and the loss of a constant answer at the class
    prior, how many seeds ended more than ``margin`` above that share (fitted beyond the constant
    answer), and the epoch of the lowest validation loss with that loss and the last one.
    """
    keys = config_columns(df)
    rows = []
    for where, sub in _groups(df, keys):
        shares = sub["train_majority_share"].dropna().unique() if "train_majority_share" in sub else []
        if len(shares) != 1:
            raise ValueError(
                f"configuration {dict(where)} has no single training class balance in its records "
                "(data.counts.train): re-run its sweep with the current helpers"
            )
        share = float(shares[0])
        acc, loss, best_epoch, vmin, vlast = [], [], [], [], []
        for _, run in sub.iterrows():
            hist = run["history"] or {}
            for key in ("accuracy", "loss", "val_loss"):
                if not hist.get(key):
                    raise ValueError(f"{_where(run['run_id'])} has no history.{key}")
            acc.append(float(hist["accuracy"][-1]))
            loss.append(float(hist["loss"][-1]))
            vl = [float(v) for v in hist["val_loss"]]
            i = int(np.argmin(vl))
            epochs = hist.get("epoch") or list(range(1, len(vl) + 1))
            best_epoch.append(int(epochs[i]))
            vmin.append(vl[i])
            vlast.append(vl[-1])
        rows.append(
            {
                **where,
                "n_seeds": len(sub),
                "train_acc_last": float(np.mean(acc)),
                "train_acc_min": float(np.min(acc)),
                "train_acc_max": float(np.max(acc)),
                "majority_share": share,
                "n_beyond_majority": int(sum(a > share + margin for a in acc)),
                "train_loss_last": float(np.mean(loss)),
                "prior_loss": binary_entropy(share),
                "best_val_epoch": float(np.mean(best_epoch)),
                "val_loss_min": float(np.mean(vmin)),
                "val_loss_last": float(np.mean(vlast)),
            }
        )
    return pd.DataFrame(rows)
