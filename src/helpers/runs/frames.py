"""Run records → one DataFrame row per run, and what makes a configuration (results chapter).

Job: load the run records (CONTRIBUTING.md) written by sweeps into a flat DataFrame
(:func:`load_runs`) and say which columns tell configurations apart (:func:`config_columns`).
Runs that differ only in ``seed`` form a *configuration*; the columns that tell configurations
apart are ``model``, ``resolution`` and every other identity parameter that takes more than one
value in the loaded records (:func:`variant_columns`, e.g. ``preprocessing``, ``regime`` or
``precision``), so that different set-ups are never averaged together. Used by the results
chapter (04).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from helpers import config
from helpers.model_names import MODEL_LABELS, model_label  # noqa: F401  (re-exported: one table)
from helpers.runs import records

METRICS: tuple[str, ...] = ("accuracy", "f1", "sensitivity", "specificity", "auc")
PERCENT_METRICS: frozenset[str] = frozenset({"accuracy", "sensitivity", "specificity"})
METRIC_LABELS: dict[str, str] = {
    "accuracy": "Accuracy (%)",
    "f1": "F1",
    "sensitivity": "Sensitivity (%)",
    "specificity": "Specificity (%)",
    "auc": "AUC",
}
PARAM_KEYS: tuple[str, ...] = records.IDENTITY_KEYS
DEFAULT_SWEEP_HINT = "python -m helpers sweep configs/paper.yaml  (or: make sweep)"
#: The models the study compares; a sweep may run only some (``own-folder --models mobilenet``).
STUDY_MODELS: tuple[str, ...] = ("mobilenet", "resnet50")


class NoRunsError(LookupError):
    """No successful run record matched: the sweep has not been run yet (results chapter)."""


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def record_location(rid: str) -> str:
    """How an error names the record of run ``rid``."""
    return f"run record {rid!r} (records/{rid}.json)"


def _require(rec: Mapping[str, Any], path: Sequence[str], rid: str) -> Any:
    node: Any = rec
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            raise ValueError(
                f"{record_location(rid)} has no {'.'.join(path)}: it does not follow the run-record "
                "schema in CONTRIBUTING.md; re-run that configuration or delete the file"
            )
        node = node[key]
    return node


def record_predictions(rec: Mapping[str, Any], split: str, rid: str) -> dict[str, np.ndarray] | None:
    """A record's predictions on ``split`` as arrays (None if it has none); a malformed block is
    an error naming the record."""
    preds = rec.get("predictions", {}) or {}
    block = preds.get(split)
    if block is None:
        return None
    ids = np.asarray(_require(block, ["ids"], rid), dtype=str)
    labels = np.asarray(_require(block, ["labels"], rid))
    probs = np.asarray(_require(block, ["probs"], rid), dtype=float)
    if not (ids.shape == labels.shape == probs.shape) or ids.ndim != 1:
        raise ValueError(
            f"{record_location(rid)}: predictions.{split} ids/labels/probs have shapes "
            f"{ids.shape}/{labels.shape}/{probs.shape}; they must be equal-length lists"
        )
    if len(set(ids.tolist())) != ids.size:
        raise ValueError(f"{record_location(rid)}: predictions.{split}.ids contains duplicate image ids")
    if not np.all(np.isfinite(probs)):
        raise ValueError(f"{record_location(rid)}: predictions.{split}.probs contains NaN/null values")
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
        row[f"pred_{split}"] = record_predictions(rec, split, rid)
    if "external" in (rec.get("predictions") or {}):  # an external test set (only then a column)
        for key, value in (rec.get("metrics", {}) or {}).get("external", {}).items():
            row[f"external_{key}"] = value
        row["pred_external"] = record_predictions(rec, "external", rid)
    for key in METRICS:
        value = row.get(f"test_{key}")
        if value is not None and not (0.0 <= float(value) <= 1.0):
            raise ValueError(
                f"{record_location(rid)}: metrics.test.{key} = {value} is outside [0, 1]; metrics must "
                "be stored as fractions (helpers.stats.metrics)"
            )
    for key, value in (rec.get("cost", {}) or {}).items():
        row[f"cost_{key}"] = value
    # Latency is the book's CPU measurement; a run trained on a GPU timed the GPU, which no
    # CPU column may average in: its numbers go to gpu_latency_* (the results and bf16-parity chapters).
    on_gpu = bool((rec.get("provenance", {}) or {}).get("gpu"))
    row["device"] = "gpu" if on_gpu else "cpu"
    for key, value in (rec.get("latency_ms", {}) or {}).items():
        row[f"{'gpu_' if on_gpu else ''}latency_{key}_ms"] = value
    for key, value in (rec.get("timing", {}) or {}).items():
        row[f"timing_{key}"] = value
    data = rec.get("data", {}) or {}
    names = data.get("class_names")
    row["class_names"] = " | ".join(map(str, names)) if names else None
    counts = (data.get("counts") or {}).get("train")
    row["train_majority_share"] = max(counts) / sum(counts) if counts and sum(counts) > 0 else None
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
    """One row per ok run under ``results_dir`` (params, metrics, cost, latency, timing); the results chapter.

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
    # Identity keys added later (precision) are left out of records at their default: name it,
    # so that a float32 run and a bf16 run of the same cell and seed are two configurations.
    for key, default in records.OMITTED_AT_DEFAULT.items():
        df[key] = df[key].where(df[key].notna(), default) if key in df else default
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


def models_run(runs: pd.DataFrame, models: Iterable[str] | None = None) -> list[str]:
    """``models`` (default: the study's two) that have runs in ``runs``, in order (results chapter)."""
    present = set(runs["model"]) if "model" in runs else set()
    return [m for m in (STUDY_MODELS if models is None else models) if m in present]


def report_models(runs: pd.DataFrame) -> None:
    """Print which of the study's models have no runs: their comparisons are left out (results chapter).

    Prints nothing when both were run. A sweep of one model (``python -m helpers own-folder
    --models mobilenet``) gets that model's tables and figures and no model comparison.
    """
    missing = [model_label(m) for m in STUDY_MODELS if m not in models_run(runs)]
    if missing:
        shown = ", ".join(model_label(m) for m in sorted(set(runs["model"])))
        print(f"runs of {shown} only (none of {', '.join(missing)}): every table and figure "
              "below shows the models run; the comparison between models is left out")


# --------------------------------------------------------------------------------------------
# Grouping
# --------------------------------------------------------------------------------------------


def variant_columns(df: pd.DataFrame) -> list[str]:
    """Parameters (besides model, resolution, seed) that vary across the runs (results chapter)."""
    out = []
    for key in PARAM_KEYS:
        if key in ("model", "resolution", "seed") or key not in df:
            continue
        if df[key].astype(str).nunique(dropna=False) > 1:
            out.append(key)
    return out


def config_columns(df: pd.DataFrame) -> list[str]:
    """Columns that identify a configuration: model, resolution, then the varying params (results chapter)."""
    return ["model", "resolution", *variant_columns(df)]


def setting(row: pd.Series, key: str, runs: pd.DataFrame) -> Any:
    """A table row's value of parameter ``key``, or the one value all ``runs`` share (results chapter).

    Tables keep a parameter column only when it varies across the runs (:func:`config_columns`).
    """
    return row[key] if key in row.index else runs[key].iloc[0]


def cell_groups(df: pd.DataFrame, keys: list[str]) -> Iterable[tuple[dict[str, Any], pd.DataFrame]]:
    """``({key: value}, runs)`` for each cell of ``df`` grouped by ``keys``, in sorted order
    (nothing for an empty frame, whatever its columns)."""
    if df.empty:
        return
    for values, sub in df.groupby(keys, sort=True, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        yield dict(zip(keys, values, strict=True)), sub


def variant_pairs(
    df: pd.DataFrame, column: str, a: Any, b: Any
) -> Iterator[tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]]:
    """``(where, runs with column == a, runs with column == b)`` per configuration, sorted by seed.

    One item per configuration of the other :func:`config_columns` in which both sides were run
    (groups missing a side are skipped): the pairs of :func:`helpers.chapters.results.compare_variants`
    and :func:`helpers.analysis.inference.variant_comparisons` (results chapter).
    """
    keys = [c for c in config_columns(df) if c != column]
    for where, sub in cell_groups(df, keys):
        side_a = sub[sub[column] == a].sort_values("seed")
        side_b = sub[sub[column] == b].sort_values("seed")
        if not side_a.empty and not side_b.empty:
            yield where, side_a, side_b


def check_seeds(sub: pd.DataFrame, where: Mapping[str, Any]) -> None:
    """Refuse a cell with two runs of one seed (their records must differ in some parameter)."""
    if sub["seed"].duplicated().any():
        raise ValueError(
            f"configuration {dict(where)} has several runs with the same seed "
            f"({sub['run_id'].tolist()}); their records must differ in some parameter"
        )


PAPER_SETUP: dict[str, Any] = {"precision": "float32", "preprocessing": "unit", "regime": "full"}
"""The paper's protocol for the parameters a sweep may vary: float32 arithmetic, inputs scaled to
[0, 1], all layers trained."""


def main_setup(df: pd.DataFrame) -> dict[str, Any]:
    """The set-up drawn in the single-set-up figures: the paper's where run, else the fullest (results chapter).

    For each varying parameter: ``precision`` → the paper's ``float32`` when present;
    ``preprocessing`` → the paper's ``unit`` when present;
    ``regime`` → the regime with the most model × resolution cells (the paper's ``full`` on a
    tie); ``unfreeze_blocks`` → the value with the most cells within that regime. Any other
    varying parameter is an error asking the caller to choose.
    """
    cols = variant_columns(df)
    other = [
        c for c in cols if c not in ("precision", "preprocessing", "regime", "unfreeze_blocks")
    ]
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
    for key in ("precision", "preprocessing"):  # the paper's value where it was run
        if key in cols:
            values = list(dict.fromkeys(sub[key]))
            want = PAPER_SETUP[key]
            setup[key] = want if want in values else sorted(map(str, values))[0]
            sub = sub[sub[key] == setup[key]]
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


def one_precision_per_cell(runs: pd.DataFrame, prefer: str = "float32") -> pd.DataFrame:
    """One precision per configuration: its ``prefer`` runs where they exist, else the others.

    For comparisons across a parameter other than precision (e.g. MobileNet vs ResNet50, chapter
    04) when some cells were trained only in bf16: the comparison then pairs each cell as it was
    run. Only sound where bf16 parity holds (bf16-parity appendix). The precision column becomes
    ``"as run"`` (so no comparison splits on it); ``precision_run`` keeps the real value, also
    when every run has one precision (the same columns whatever the records hold).
    """
    if "precision" not in runs:
        return runs
    keys = [c for c in ("model", "resolution", *PARAM_KEYS)
            if c in runs and c not in ("precision", "seed")]
    parts = []
    for _, grp in runs.groupby(keys, dropna=False, sort=False):
        preferred = grp[grp["precision"] == prefer]
        parts.append(preferred if len(preferred) else grp)
    out = pd.concat(parts).sort_index()
    out = out.assign(precision_run=out["precision"], precision="as run")
    out.attrs.update(runs.attrs)
    return out
