"""Deployment and train/test-size mismatch records → tables of numbers (deployment chapter).

One row per (model, resolution, format) deployment record, speed-ups against float32, the
train × test resolution AUC matrix, the Pareto front of latency against AUC, int8 output
saturation and the recommended format under a latency budget. No words: the chapter's text and
figures are in :mod:`helpers.chapters.deployment`, which re-exports these names.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.runs import records as run_records
from helpers.stats.delong import holm_adjust
from helpers.stats.equivalence import MARGIN_AUC, tost, verdict_word

__all__ = ["FORMAT_ORDER", "SIGMOID_STEP", "best_eval_size", "deployment_frame", "int8_saturation", "int8_tests", "load_mismatch_records", "mismatch_frame", "mismatch_matrix", "pareto_front", "recommend", "speedups", "validation_aucs"]

FORMAT_ORDER: tuple[str, ...] = ("float32", "float16", "dynamic_int8", "int8", "int8_logit")


def _quiet(rec: Mapping[str, Any]) -> bool:
    return bool((rec.get("latency_ms") or {}).get("measured_quiet", False))


def deployment_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per deployment record: size, AUC, ΔAUC vs Keras float, latency, memory."""
    rows = []
    for r in records:
        m, p = r["metrics"]["test"], r["params"]
        lat = r.get("latency_ms") or {}
        one, allt = lat.get("threads_1") or {}, lat.get("threads_all") or {}
        rows.append({
            "model": p["model"], "resolution": int(p["resolution"]), "format": r["format"],
            "preprocessing": p.get("preprocessing"), "seed": p.get("seed"),
            "run_id": r.get("run_id"), "dataset": p.get("dataset"), "task": p.get("task"),
            "regime": p.get("regime"), "precision": p.get("precision", "float32"),
            "size_mb": float(r["file"]["size_mb"]), "auc": m["auc"], "auc_lo": m["auc_lo"],
            "auc_hi": m["auc_hi"], "keras_auc": m["keras_auc"], "accuracy": m["accuracy"],
            "delta_auc": m["delta_auc"], "delta_lo": m["delta_lo"], "delta_hi": m["delta_hi"],
            "delta_p": m["delta_p"], "delta_se": m.get("delta_se", np.nan), "max_abs_dp": m["parity"]["max_abs_diff"],
            "agreement": m["parity"]["agreement"],
            "lat1_ms": one.get("median_ms", np.nan), "lat1_p90_ms": one.get("p90_ms", np.nan),
            "latall_ms": allt.get("median_ms", np.nan), "threads_all": r.get("threads_all"),
            "mem_mb": (r.get("memory_mb") or {}).get("delta_mb", np.nan),
            "quiet": _quiet(r), "untrained": bool(r.get("untrained", False)),
            "n_test": len(r["predictions"]["test"]["labels"]),
            "n_rep": (r.get("representative") or {}).get("n", np.nan),
            "retrain_max_dp": (r.get("keras_vs_run_record") or {}).get("max_abs_diff", np.nan),
            "cpu": (r.get("provenance", {}).get("cpu") or {}).get("model"),
        })
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["format"] = pd.Categorical(df["format"], FORMAT_ORDER, ordered=True)
    df = df.sort_values(["model", "resolution", "format"], ignore_index=True)
    df["format"] = df["format"].astype(str)
    df["accuracy_pct"] = 100 * df["accuracy"]
    df["acc_per_mb"] = df["accuracy_pct"] / df["size_mb"]
    df["acc_per_ms"] = df["accuracy_pct"] / df["lat1_ms"]
    return df


def speedups(df: pd.DataFrame, fmt: str = "int8", ref: str = "float32") -> pd.DataFrame:
    """Per (model, resolution): 1-thread latency and size of ``ref`` ÷ those of ``fmt``."""
    key = ["model", "resolution"]
    a = df[df["format"] == fmt].set_index(key)
    b = df[df["format"] == ref].set_index(key)
    both = a.index.intersection(b.index)
    out = pd.DataFrame({"speedup": b.loc[both, "lat1_ms"] / a.loc[both, "lat1_ms"],
                        "shrink": b.loc[both, "size_mb"] / a.loc[both, "size_mb"]})
    return out.reset_index()


# --------------------------------------------------------------------------- mismatch
def load_mismatch_records(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every ``<folder>/*.json`` resolution-mismatch record, sorted by file name."""
    from helpers.runs.records import read_json

    recs = [read_json(p) for p in sorted(Path(folder).glob("*.json"))]
    return [r for r in recs if r.get("kind") == "resolution_mismatch"]


def mismatch_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Long table: model, train_res, eval_res, AUC [CI], ΔAUC vs the training size [CI], p."""
    rows = [{"model": r["params"]["model"], **row} for r in records for row in r["rows"]]
    df = pd.DataFrame(rows)
    if not df.empty:
        df = df.sort_values(["model", "train_res", "eval_res"], ignore_index=True)
    return df


def mismatch_matrix(df: pd.DataFrame, model: str, value: str = "auc") -> pd.DataFrame:
    """train_res (rows) × eval_res (columns) of ``value`` for one model."""
    sub = df[df["model"] == model]
    return sub.pivot(index="train_res", columns="eval_res", values=value)


def best_eval_size(df: pd.DataFrame) -> pd.DataFrame:
    """Per (model, train_res): the evaluation size with the highest AUC and its ΔAUC [CI]."""
    idx = df.groupby(["model", "train_res"])["auc"].idxmax()
    return df.loc[idx, ["model", "train_res", "eval_res", "auc", "delta_auc", "delta_lo",
                        "delta_hi", "p"]].reset_index(drop=True)


# --------------------------------------------------------------------------- figures
def pareto_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Boolean mask of points not dominated (lower x, higher y is better)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.ones(len(x), bool)
    for i in range(len(x)):
        dominated = (x <= x[i]) & (y >= y[i]) & ((x < x[i]) | (y > y[i]))
        keep[i] = not dominated.any()
    return keep


SIGMOID_STEP = 1.0 / 256.0
"""The int8 sigmoid's fixed output step (scale 1/256): full-int8 probabilities sit on this grid."""


def int8_saturation(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Why full int8 can lose AUC on a confident model, from deployment records (deployment chapter).

    Per run with a float32 and an ``int8`` record: the share of test images whose float32-file
    probability lies within one int8 sigmoid step (1/256) of 0 or 1 (``saturated``); the
    float32 file's AUC; the AUC of those same probabilities rounded to the 1/256 grid (what the
    ties of an int8 sigmoid cost on their own, with no other quantisation error); the int8
    file's AUC; and the ``int8_logit`` file's AUC where one was made (NaN otherwise).
    """
    from helpers.stats.metrics import roc_auc

    by: dict[str, dict[str, Mapping[str, Any]]] = {}
    for r in records:
        by.setdefault(r["run_id"], {})[r["format"]] = r
    rows = []
    for rid, fm in sorted(by.items()):
        if "float32" not in fm or "int8" not in fm:
            continue
        t = fm["float32"]["predictions"]["test"]
        y, p = np.asarray(t["labels"]), np.asarray(t["probs"], dtype=float)

        def auc(fmt: str, fm: Mapping[str, Any] = fm, y: np.ndarray = y) -> float:
            if fmt not in fm:
                return float("nan")
            return roc_auc(y, np.asarray(fm[fmt]["predictions"]["test"]["probs"], dtype=float))

        sat = (p >= 1 - SIGMOID_STEP) | (p <= SIGMOID_STEP)
        prm = fm["float32"]["params"]
        rows.append({"run_id": rid, "dataset": prm.get("dataset"), "model": prm.get("model"),
                     "resolution": prm.get("resolution"), "seed": prm.get("seed"),
                     "saturated": float(sat.mean()), "auc_float32": roc_auc(y, p),
                     "auc_float32_on_int8_grid": roc_auc(y, np.round(p / SIGMOID_STEP)
                                                         * SIGMOID_STEP),
                     "auc_int8": auc("int8"), "auc_int8_logit": auc("int8_logit")})
    cols = ["run_id", "dataset", "model", "resolution", "seed", "saturated", "auc_float32",
            "auc_float32_on_int8_grid", "auc_int8", "auc_int8_logit"]
    return pd.DataFrame(rows, columns=cols)


def recommend(df: pd.DataFrame, val_auc: Mapping[str, float], max_ms: float = 50.0,
              fmt: str = "int8") -> pd.Series | None:
    """The ``fmt`` record whose model has the highest *validation* AUC among those under
    ``max_ms`` (1 thread); ``val_auc`` maps run id → validation AUC (:func:`validation_aucs`).

    The choice never looks at the test set, so the test AUC reported for the chosen model is an
    honest estimate; records whose run has no validation AUC are not candidates.
    """
    d = df[(df["format"] == fmt) & (df["lat1_ms"] <= max_ms)]
    d = d[d["run_id"].isin(list(val_auc))]
    if d.empty:
        return None
    scores = d["run_id"].map(val_auc).astype(float)
    best = d.loc[scores.idxmax()].copy()
    best["val_auc"] = float(scores.max())
    return best


def int8_tests(df: pd.DataFrame, margin: float = MARGIN_AUC, alpha: float = 0.05) -> pd.DataFrame:
    """Each full-int8 file against its float Keras model, as one family (deployment chapter).

    ``delta_p`` is the paired DeLong p of ΔAUC = AUC(int8) − AUC(float) on the test images;
    ``p_holm`` is Holm's adjustment over the family of all int8 files shown; ``p_tost`` is the
    two one-sided tests of |ΔAUC| < ``margin`` (normal, DeLong SE), ``p_tost_holm`` its Holm
    adjustment over the same family, and ``equivalent`` is ``p_tost_holm < alpha``;
    ``verdict`` is :func:`helpers.stats.equivalence.verdict_word` on the Holm p: "lower" or
    "higher" (a difference after Holm), "equivalent" (within ±margin), else "inconclusive".
    """
    q = df[df["format"] == "int8"].copy()
    if q.empty:
        return q.assign(p_holm=[], p_tost=[], p_tost_holm=[], equivalent=[], verdict=[])
    q["p_holm"] = holm_adjust(q["delta_p"].to_numpy(dtype=float))
    tests = [tost(float(d), float(se), margin, alpha=alpha)
             for d, se in zip(q["delta_auc"], q["delta_se"], strict=True)]
    q["p_tost"] = [t["p"] for t in tests]
    # the book's one policy: Holm over the family for the equivalence test too
    q["p_tost_holm"] = holm_adjust(q["p_tost"].to_numpy(dtype=float))
    q["equivalent"] = q["p_tost_holm"] < alpha
    q["verdict"] = [verdict_word(float(d), float(p), {"equivalent": bool(e)}, alpha)
                    for d, p, e in zip(q["delta_auc"], q["p_holm"], q["equivalent"], strict=True)]
    return q


def validation_aucs(run_ids: Iterable[str], runs_dir: str | os.PathLike[str]) -> dict[str, float]:
    """Validation AUC of each run's float Keras model, from its run record in ``runs_dir``
    (deployment chapter: the model to ship is chosen on validation, never on test); a run
    without a record or without ``metrics.val.auc`` is left out."""
    out: dict[str, float] = {}
    for rid in dict.fromkeys(run_ids):
        path = run_records.record_path(runs_dir, str(rid))
        if path.is_file():
            auc = ((run_records.read_json(path).get("metrics") or {}).get("val") or {}).get("auc")
            if auc is not None:
                out[str(rid)] = float(auc)
    return out
