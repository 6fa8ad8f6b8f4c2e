"""Deployment records: one JSON per (training run, LiteRT format) (deployment chapter).

``results/deploy/records/<run_id>-<format>.json`` holds, for one trained model exported in one
format, everything the deployment chapter plots: file size, test predictions, AUC and the paired
DeLong ΔAUC against the float Keras model on the same images, accuracy at 0.5, latency at batch 1
with one thread and with all usable threads, peak memory, and the runtime/CPU it was measured on.

Layout (``schema`` = :data:`DEPLOY_SCHEMA`)::

    {"schema": 1, "kind": "deployment", "deploy_id": "<run_id>-<format>", "run_id": ...,
     "format": "int8", "params": {...source run's params...},
     "file": {"size_bytes", "size_mb", "sha256"}, "io": {"input": {...}, "output": {...}},
     "predictions": {"test": {"ids", "labels", "probs"}},
     "metrics": {"test": {"auc", "auc_lo", "auc_hi", "accuracy", ...,
                          "keras_auc", "keras_accuracy", "delta_auc", "delta_lo", "delta_hi",
                          "delta_se", "delta_p", "parity": {max_abs_diff, mean_abs_diff,
                          agreement, pearson, spearman}}},
     "latency_ms": {"threads_1": {median_ms, p90_ms, n, ...}, "threads_all": {...}},
     "memory_mb": {"peak_rss_mb", "baseline_mb", "delta_mb", "method"},
     "provenance": {...helpers.runs.provenance(...) + "runtime": {tensorflow, ai-edge-litert,
                    keras, numpy}, "source_provenance": {...}}}

ΔAUC = AUC(LiteRT) − AUC(Keras float); its CI is the normal interval from the paired DeLong
standard error.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

DEPLOY_SCHEMA = 1
"""Version of the deployment-record layout; bump when keys change meaning."""

RUNTIME_PACKAGES: tuple[str, ...] = ("tensorflow", "tensorflow-cpu", "ai-edge-litert", "keras",
                                     "numpy")

REQUIRED_KEYS: tuple[str, ...] = ("schema", "kind", "deploy_id", "run_id", "format", "params",
                                  "file", "io", "predictions", "metrics", "latency_ms",
                                  "memory_mb", "provenance")


def deploy_dir(output_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<results>/deploy`` (``output_dir`` → ``RESBOOK_RESULTS_DIR``-style resolution)."""
    from helpers import config

    return Path(config.results_dir(output_dir)) / "deploy"


def deployment_path(output_dir: str | os.PathLike[str] | Path, run_id: str, fmt: str) -> Path:
    """``<output_dir>/records/<run_id>-<fmt>.json``, ``output_dir`` being e.g. results/deploy."""
    return Path(output_dir) / "records" / f"{run_id}-{fmt}.json"


def runtime_versions() -> dict[str, str | None]:
    from helpers.runs.records import package_versions

    return package_versions(RUNTIME_PACKAGES)


def _delta_block(labels: np.ndarray, probs: np.ndarray, ref: np.ndarray,
                 level: float) -> dict[str, Any]:
    from scipy import stats as st

    from helpers.stats.delong import delong_ci, delong_paired_test, fast_delong

    auc, var = fast_delong(labels, probs)
    lo, hi = delong_ci(auc, var, level)
    k_auc, k_var = fast_delong(labels, ref)
    k_lo, k_hi = delong_ci(k_auc, k_var, level)
    d = delong_paired_test(labels, probs, ref)
    z = float(st.norm.ppf(0.5 + level / 2))
    return {"auc": auc, "auc_lo": lo, "auc_hi": hi, "keras_auc": k_auc, "keras_auc_lo": k_lo,
            "keras_auc_hi": k_hi, "delta_auc": d["diff"], "delta_lo": d["diff"] - z * d["se"],
            "delta_hi": d["diff"] + z * d["se"], "delta_se": d["se"], "delta_p": d["p"],
            "level": level}


def measure_both(litert_model, threads_all: int, *, repeats: int = 50,
                 warmup: int = 5) -> dict[str, Any]:
    """``{"threads_1": ..., "threads_all": ..., "loadavg": ...}`` of one model (batch 1).

    ``loadavg`` is ``os.getloadavg()`` read just before the first timed run.
    """
    from helpers.deploy.latency import load_average, measure_latency

    load = load_average()
    return {"threads_1": measure_latency(litert_model, threads=1, repeats=repeats,
                                         warmup=warmup),
            "threads_all": measure_latency(litert_model, threads=int(threads_all),
                                           repeats=repeats, warmup=warmup),
            "loadavg": load}


def deployment_record(run_record: Mapping[str, Any], fmt: str, litert_model, test_images,
                      keras_probs=None, *, probs=None, latency: Mapping[str, Any] | None = None,
                      memory: Mapping[str, Any] | None = None, measure: bool = True,
                      repeats: int = 50, warmup: int = 5, threads_all: int | None = None,
                      level: float = 0.95, extra: Mapping[str, Any] | None = None
                      ) -> dict[str, Any]:
    """The deployment record of ``litert_model`` (format ``fmt``) exported from ``run_record``'s model.

    ``test_images`` are the test split's images at the model's resolution, aligned with
    ``run_record["predictions"]["test"]`` (ids, labels). ``keras_probs`` are the float Keras
    model's probabilities on the same images (default: the run record's test probs). ``probs``
    skips running the LiteRT model when already computed. ``latency``/``memory`` are used as
    given; otherwise, with ``measure=True``, they are measured (:mod:`helpers.deploy.latency`),
    with ``measure=False`` they are None.
    """
    from helpers.deploy.latency import all_threads, peak_memory_mb
    from helpers.deploy.runtime import parity_stats
    from helpers.runs.records import provenance
    from helpers.stats.metrics import binary_metrics

    test = run_record["predictions"]["test"]
    ids = [str(i) for i in test["ids"]]
    labels = np.asarray(test["labels"]).astype(int)
    x = np.asarray(test_images)
    if len(x) != len(labels):
        raise ValueError(f"{len(x)} test images but the run record has {len(labels)} test labels")
    ref = np.asarray(test["probs"] if keras_probs is None else keras_probs,
                     dtype=np.float64).reshape(-1)
    p = (litert_model.predict(x) if probs is None
         else np.asarray(probs, dtype=np.float64).reshape(-1))
    if not (len(ref) == len(p) == len(labels)):
        raise ValueError(f"lengths differ: labels {len(labels)}, keras {len(ref)}, litert {len(p)}")

    metrics = dict(binary_metrics(labels, p))
    metrics.update(_delta_block(labels, p, ref, level))
    metrics["keras_accuracy"] = float(np.mean((ref >= 0.5) == labels))
    metrics["parity"] = parity_stats(ref, p)

    n_all = int(threads_all or all_threads())
    if latency is None and measure:
        latency = measure_both(litert_model, n_all, repeats=repeats, warmup=warmup)
        latency["measured_quiet"] = False  # during a sweep: see remeasure_latency
    if memory is None and measure:
        memory = peak_memory_mb(litert_model, threads=1)

    prov = provenance(run_record.get("provenance", {}).get("data_fingerprint"), None)
    prov["runtime"] = runtime_versions()
    prov["source_provenance"] = {k: run_record.get("provenance", {}).get(k) for k in
                                 ("git_commit", "weights_file", "weights_sha256", "host",
                                  "finished_at", "packages")}
    prov["finished_at"] = prov["started_at"]
    rid = str(run_record["run_id"])
    record = {
        "schema": DEPLOY_SCHEMA,
        "kind": "deployment",
        "deploy_id": f"{rid}-{fmt}",
        "run_id": rid,
        "format": fmt,
        "params": dict(run_record.get("params", {})),
        "file": {"size_bytes": int(litert_model.size_bytes),
                 "size_mb": litert_model.size_bytes / 1e6,
                 "sha256": hashlib.sha256(litert_model.content).hexdigest()},
        "io": litert_model.io_details(),
        "predictions": {"test": {"ids": ids, "labels": labels.tolist(), "probs": p.tolist()}},
        "metrics": {"test": metrics},
        "latency_ms": None if latency is None else dict(latency),
        "memory_mb": None if memory is None else dict(memory),
        "threads_all": n_all,
        "provenance": prov,
    }
    if extra:
        record.update(dict(extra))
    return record


def save_deployment_record(record: Mapping[str, Any],
                           output_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write ``<output_dir or results/deploy>/records/<run_id>-<format>.json`` atomically."""
    from helpers.runs.records import write_json_atomic

    out = Path(output_dir) if output_dir is not None else deploy_dir()
    return write_json_atomic(deployment_path(out, record["run_id"], record["format"]), record)


def load_deployment_records(output_dir: str | os.PathLike[str] | None = None
                            ) -> list[dict[str, Any]]:
    """Every ``<output_dir or results/deploy>/records/*.json`` deployment record, sorted by id."""
    from helpers.runs.records import read_json

    folder = (Path(output_dir) if output_dir is not None else deploy_dir()) / "records"
    recs = [read_json(p) for p in sorted(folder.glob("*.json"))]
    return [r for r in recs if r.get("kind") == "deployment"]


def remeasure_latency(record: Mapping[str, Any], model_file: str | os.PathLike[str], *,
                      repeats: int = 100, warmup: int = 10, threads_all: int | None = None,
                      busy_before: float | None = None, quiet_threshold: float = 0.25,
                      memory: bool = True) -> dict[str, Any]:
    """A copy of ``record`` with latency (and peak memory) measured again from ``model_file``.

    The quiet pass of the deployment sweep (``scripts/deploy_sweep.py --latency-only``): the
    file must be the one the record describes (same sha256). ``busy_before`` is the share of
    the CPU other processes used just before (:func:`~helpers.deploy.latency.cpu_busy_fraction`);
    ``latency_ms.measured_quiet`` is True when it is below ``quiet_threshold`` (None: assumed
    quiet, the caller vouches for it). The earlier latency block is kept under
    ``latency_ms.superseded``, so nothing measured is lost.
    """
    from helpers.deploy.latency import all_threads, load_average, peak_memory_mb
    from helpers.deploy.runtime import LiteRTModel, delegation_summary
    from helpers.runs.provenance import utc_now

    content = Path(model_file).read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    if digest != record["file"]["sha256"]:
        raise ValueError(f"{model_file} (sha256 {digest[:12]}) is not the model of record "
                         f"{record['deploy_id']} (sha256 {record['file']['sha256'][:12]})")
    n_all = int(threads_all or record.get("threads_all") or all_threads())
    lm = LiteRTModel(content, num_threads=1)
    started = utc_now()
    lat = measure_both(lm, n_all, repeats=repeats, warmup=warmup)
    lat["loadavg_after"] = load_average()
    quiet = busy_before is None or busy_before < quiet_threshold
    lat.update(measured_quiet=bool(quiet), cpu_busy_before=busy_before,
               quiet_threshold=quiet_threshold, measured_at=started)
    old = record.get("latency_ms")
    if old:
        lat["superseded"] = {k: v for k, v in old.items() if k != "superseded"}
    new = json.loads(json.dumps(record))
    new["latency_ms"] = lat
    new["threads_all"] = n_all
    new["delegation"] = delegation_summary(content)
    if memory:
        new["memory_mb"] = peak_memory_mb(content, threads=1)
    return new
