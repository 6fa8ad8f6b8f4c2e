"""The one factory of fake run records for the tests: TEST-ONLY SYNTHETIC DATA, never a result.

Every record built here follows "The run record" of CONTRIBUTING.md: ``schema``, ``run_id``
(:func:`helpers.runs.records.run_id` of the params unless a test names it), ``status``,
canonical identity ``params`` and, when a test asks for them, ``predictions``, ``metrics``,
``history``, ``timing``, ``provenance`` and ``warnings``. A test states only what it cares about::

    rec = make_record(resolution=128, seed=1, test=(labels, probs), val=(y_val, p_val))
    rec = make_record(run_id="r1", test=make_split(y, p, order=rng.permutation(len(y))))
    rec = make_record(grid_params, status="failed", wall_s=99.0)   # the params as a grid gives them
    write_record(results_dir, rec)            # <results_dir>/records/<run_id>.json, atomically
    synthetic_grid(results_dir, resolutions=(64, 128), seeds=(0, 1))   # results-chapter grids

API
---
:data:`PARAMS`
    the default identity params (ISIC 2017 melanoma, MobileNet, 64 px, full, unit, seed 0).
:func:`make_params`
    canonical identity params: a base (default :data:`PARAMS`) with changes.
:func:`make_split`
    one split of ``predictions``: ``{ids, labels, probs[, probs_plain]}`` as plain lists, in a
    given stored ``order`` (records list images in any order; analyses join by id).
:func:`make_history`
    ``history`` lists from a validation-loss curve.
:func:`make_record`
    one run record (dict); nothing the test did not ask for beyond schema, id, status, params.
:func:`as_written`
    a record as it reads back from disk (numpy → Python, NaN → null), like ``save_record``.
:func:`write_record`, :func:`write_records`
    write records where :mod:`helpers.runs.records` looks for them.
:func:`synthetic_record`, :func:`synthetic_grid`
    the results-chapter style records: per-cell seeded probabilities with invented separation
    per model and size, metrics, history, cost and latency; a grid of them written to a folder.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, roc_auc_score

from helpers.files import json_text
from helpers.runs import records
from helpers.stats.metrics import binary_metrics

PARAMS: dict[str, Any] = {
    "dataset": "isic2017",
    "task": "melanoma",
    "model": "mobilenet",
    "resolution": 64,
    "regime": "full",
    "unfreeze_blocks": None,
    "preprocessing": "unit",
    "epochs": 5,
    "batch_size": 32,
    "lr": 1e-3,
    "seed": 0,
    "weights": "imagenet",
    "early_stopping": False,
    "patience_es": 10,
    "balanced_eval": False,
    "max_images": None,
}
"""Default identity params of a fake run (the keys added later stay at their defaults)."""

SYNTHETIC_ERROR = {"type": "RuntimeError", "message": "synthetic failure", "traceback": ""}
"""The ``error`` of a failed fake record."""

Split = Mapping[str, Any] | tuple[Any, ...]
"""A split given to :func:`make_record`: a ready mapping, or ``(labels, probs[, ids])``."""


def make_params(base: Mapping[str, Any] | None = None, **change: Any) -> dict[str, Any]:
    """Canonical identity params: ``base`` (default :data:`PARAMS`) updated with ``change``.

    ``base`` is used as given (a grid's params, a partial dict): no default is added to it.
    A key of ``change`` that is not an identity parameter is a typo and raises TypeError.
    """
    unknown = sorted(set(change) - set(records.IDENTITY_KEYS))
    if unknown:
        raise TypeError(f"not run parameters: {unknown} (helpers.runs.records.IDENTITY_KEYS)")
    return records.canonical_params({**(PARAMS if base is None else base), **change})


def make_split(labels: Any, probs: Any, ids: Sequence[str] | None = None, *, prefix: str = "i",
          order: Sequence[int] | None = None, **more: Any) -> dict[str, list]:
    """One split of ``predictions``: ``{ids, labels, probs, **more}`` as plain lists.

    ``ids`` default to ``<prefix>0000``, ``<prefix>0001``, ...; ``order`` (indices, e.g. a
    permutation) is the order the record stores the images in, applied to every list alike;
    ``more`` holds further per-image lists such as ``probs_plain``. NaN stays NaN.
    """
    y = np.asarray(labels)
    y = y.astype(int) if y.dtype.kind == "b" else y
    arrays = {"labels": y, "probs": np.asarray(probs, dtype=float),
              **{k: np.asarray(v) for k, v in more.items()}}
    names = list(ids) if ids is not None else [f"{prefix}{i:04d}" for i in range(len(y))]
    if any(len(a) != len(names) for a in arrays.values()):
        raise ValueError(f"split: {len(names)} ids but lists of {[len(a) for a in arrays.values()]}")
    if order is not None:
        idx = np.asarray(order, dtype=int)
        names = [names[i] for i in idx]
        arrays = {k: a[idx] for k, a in arrays.items()}
    return {"ids": names, **{k: a.tolist() for k, a in arrays.items()}}


def make_history(val_loss: Sequence[float], *, loss: Sequence[float] | None = None,
                 accuracy: float = 0.7, lr: float = 1e-3) -> dict[str, list]:
    """``history`` of a run with that validation loss per epoch.

    ``loss`` defaults to the validation loss less 0.05; accuracies are flat at ``accuracy``.
    """
    val_loss = [float(v) for v in val_loss]
    epochs = len(val_loss)
    return {
        "epoch": list(range(1, epochs + 1)),
        "loss": [v - 0.05 for v in val_loss] if loss is None else list(loss),
        "val_loss": val_loss,
        "accuracy": [accuracy] * epochs,
        "val_accuracy": [accuracy] * epochs,
        "lr": [lr] * epochs,
    }


def _as_split(value: Split, prefix: str) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    labels, probs, *rest = value
    return make_split(labels, probs, rest[0] if rest else None, prefix=prefix)


def _metrics_of(pred: Mapping[str, Any]) -> dict[str, Any]:
    if "probs" in pred:
        return binary_metrics(pred["labels"], pred["probs"])
    return {name: _metrics_of(sub) for name, sub in pred.items()}  # external_geometry


def make_record(
    params: Mapping[str, Any] | None = None,
    *,
    run_id: str | None = None,
    status: str = "ok",
    test: Split | None = None,
    val: Split | None = None,
    predictions: Mapping[str, Split | Mapping[str, Any]] | None = None,
    metrics: bool | Mapping[str, Any] = False,
    history: Mapping[str, Any] | None = None,
    wall_s: float | None = None,
    timing: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    warnings: Sequence[str] | None = None,
    **change: Any,
) -> dict[str, Any]:
    """One fake run record (a dict in the schema of CONTRIBUTING.md).

    ``params`` and ``change``: the identity params, :func:`make_params` (default
    :data:`PARAMS`; ``make_record(resolution=128, seed=2)``). ``run_id``: default
    :func:`helpers.runs.records.run_id` of the params. ``status="failed"`` adds
    :data:`SYNTHETIC_ERROR`. ``test`` / ``val``: ``(labels, probs[, ids])`` (ids ``t0000...`` /
    ``v0000...``) or a ready :func:`make_split`; ``predictions``: further splits by name
    (``external``, ``external_geometry``: ``{geometry: split}``). ``metrics=True``: each
    split's :func:`helpers.stats.metrics.binary_metrics`, as training writes them; a mapping is
    stored as given. ``wall_s`` goes into ``timing`` (with ``timing``'s keys). Keys left at
    None are not in the record, so a test sees only what it built.
    """
    params = make_params(params, **change)
    rec: dict[str, Any] = {"schema": records.SCHEMA,
                           "run_id": records.run_id(params) if run_id is None else run_id,
                           "status": status, "params": params}
    if status == "failed":
        rec["error"] = dict(SYNTHETIC_ERROR)
    if history is not None:
        rec["history"] = dict(history)
    preds = {}
    for name, value in (("val", val), ("test", test), *(predictions or {}).items()):
        if value is not None:
            is_nested = isinstance(value, Mapping) and "probs" not in value
            preds[name] = ({g: _as_split(v, g[0]) for g, v in value.items()} if is_nested
                           else _as_split(value, name[0]))
    if preds:
        rec["predictions"] = preds
    if metrics is True:
        rec["metrics"] = {name: _metrics_of(pred) for name, pred in preds.items()}
    elif isinstance(metrics, Mapping):
        rec["metrics"] = dict(metrics)
    if wall_s is not None or timing is not None:
        rec["timing"] = {**({} if wall_s is None else {"wall_s": wall_s}), **(timing or {})}
    if provenance is not None:
        rec["provenance"] = dict(provenance)
    if warnings is not None:
        rec["warnings"] = list(warnings)
    return rec


def as_written(rec: Mapping[str, Any]) -> dict[str, Any]:
    """``rec`` as it reads back from its file: strict JSON (numpy → Python, NaN → null)."""
    return json.loads(json_text(rec))


def write_record(folder: str | Path, rec: Mapping[str, Any]) -> Path:
    """Write ``rec`` to ``<folder>/records/<run_id>.json`` atomically, as a sweep does."""
    return records.write_json_atomic(records.record_path(folder, rec["run_id"]), rec)


def write_records(folder: str | Path, recs: Iterable[Mapping[str, Any]]) -> list[Path]:
    """:func:`write_record` of each record."""
    return [write_record(folder, rec) for rec in recs]


# --------------------------------------------------------------------------------------------
# Results-chapter style records (chapter 04, and chapter 09 builds on them)
# --------------------------------------------------------------------------------------------

# Separation of the classes (logit units) per model and resolution: invented for the tests.
SIGNAL = {
    "mobilenet": {64: 0.7, 128: 1.1, 224: 1.05, 256: 1.0},
    "resnet50": {64: 0.3, 128: 0.45, 224: 0.8, 256: 0.7},
}
_SIZE_MB = {"mobilenet": 12.3, "resnet50": 90.2}
_GFLOPS_224 = {"mobilenet": 1.14, "resnet50": 7.7}


def _labelled_ids(n: int, prefix: str, seed: int) -> tuple[list[str], np.ndarray]:
    """The images of a split: ~30 % positives, at least 3 of each class (same for every run)."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.3).astype(int)
    labels[:3], labels[3:6] = 1, 0
    return [f"{prefix}{i:04d}" for i in range(n)], labels


def _sklearn_metrics(labels: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """The metrics of ``metrics.<split>`` at 0.5, computed with sklearn (not helpers)."""
    n = len(labels)
    hard = (probs >= 0.5).astype(int)
    tn, fp, fn, tp = confusion_matrix(labels, hard, labels=[0, 1]).ravel()
    return {
        "accuracy": float((tp + tn) / n),
        "f1": float(f1_score(labels, hard, zero_division=0)),
        "sensitivity": float(tp / (tp + fn)),
        "specificity": float(tn / (tn + fp)),
        "auc": float(roc_auc_score(labels, probs)),
        "tn": int(tn),
        "fp": int(fp),
        "fn": int(fn),
        "tp": int(tp),
        "n": n,
    }


def synthetic_record(
    model: str,
    resolution: int,
    seed: int,
    *,
    preprocessing: str = "unit",
    regime: str = "full",
    dataset: str = "isic2017",
    task: str = "melanoma",
    n_test: int = 90,
    n_val: int = 40,
    status: str = "ok",
    unfreeze_blocks: int | None = None,
    precision: str = "float32",
) -> dict[str, Any]:
    """SYNTHETIC (test-only) record of one results-chapter run, seeded by its cell and seed.

    Test and validation images are the same for every run (ids ``T0000``/``V0000``); each run's
    probabilities separate the classes by :data:`SIGNAL` (+0.4 native, +0.2 full) plus noise,
    stored in a random order. Metrics are sklearn's at 0.5; five epochs of history; cost and
    latency scale with the model's GFLOPs at that size.
    """
    params = make_params(dataset=dataset, task=task, model=model, resolution=resolution,
                         regime=regime, unfreeze_blocks=unfreeze_blocks,
                         preprocessing=preprocessing, seed=seed, precision=precision)
    if status != "ok":
        return make_record(params, status="failed")
    key = (model, resolution, seed, preprocessing, regime)
    key += () if precision == "float32" else (precision,)
    rng = np.random.default_rng(zlib.crc32(repr(key).encode()))
    signal = SIGNAL[model][resolution] + (0.4 if preprocessing == "native" else 0.0)
    signal += 0.2 if regime == "full" else 0.0
    preds: dict[str, dict[str, list]] = {}
    metrics: dict[str, dict[str, float]] = {}
    for name, n, prefix in (("val", n_val, "V"), ("test", n_test, "T")):
        ids, labels = _labelled_ids(n, prefix, 0 if name == "test" else 1)
        logits = signal * (2 * labels - 1) + rng.normal(size=n)
        probs = np.round(1 / (1 + np.exp(-logits)), 6)
        preds[name] = make_split(labels, probs, ids, order=rng.permutation(n))
        metrics[name] = _sklearn_metrics(labels, probs)
    val_loss = 0.7 - 0.05 * signal * np.arange(5) + 0.02 * rng.random(5)
    gflops = _GFLOPS_224[model] * (resolution / 224) ** 2
    n_params = 3_200_000 if model == "mobilenet" else 23_500_000
    rec = make_record(params, val=preds["val"], test=preds["test"], metrics=metrics,
                      history=make_history(val_loss),
                      timing={"wall_s": 10.0, "train_s": 8.0, "train_images_per_s": 100.0,
                              "epochs_run": 5},
                      provenance={"data_fingerprint": "synthetic", "git_commit": None})
    rec["data"] = {"class_names": ["other", task], "counts": {"train": [80, 20]}}
    rec["cost"] = {"params": n_params, "trainable_params": n_params,
                   "model_size_mb": _SIZE_MB[model], "macs": int(gflops * 5e8),
                   "flops": int(gflops * 1e9)}
    rec["latency_ms"] = {"batch1": 2.0 + gflops, "batch32_per_image": 0.5 + gflops / 4}
    return rec


def synthetic_grid(
    out: str | Path,
    models: Iterable[str] = ("mobilenet", "resnet50"),
    resolutions: Iterable[int] = (64, 128, 224, 256),
    seeds: Iterable[int] = (0, 1, 2),
    preprocessings: Iterable[str] = ("unit",),
    regimes: Iterable[str] = ("full",),
    n_failed: int = 0,
    **kwargs: Any,
) -> list[str]:
    """Write a SYNTHETIC (test-only) grid of :func:`synthetic_record` as a sweep would.

    Every model × resolution × preprocessing × regime × seed, plus ``n_failed`` failed ResNet50
    64 px runs (seeds 100, 101, ...); ``kwargs`` go to each record. Returns the ok runs' ids.
    """
    rids = []
    for model in models:
        for res in resolutions:
            for prep in preprocessings:
                for regime in regimes:
                    for seed in seeds:
                        rec = synthetic_record(
                            model, res, seed, preprocessing=prep, regime=regime, **kwargs
                        )
                        write_record(out, rec)
                        rids.append(rec["run_id"])
    for k in range(n_failed):
        write_record(out, synthetic_record("resnet50", 64, 100 + k, status="failed", **kwargs))
    return rids
