"""One training run → one run record (training chapter, ``notebooks/03_train.py``).

Why over 450 lines: the run's named steps read best in one place, in the order they run;
options that grow it further (augmentation, schedules, test-time augmentation) live in their
own modules.

:func:`run_training` validates the parameters, sets the precision policy and then takes six
named steps: :func:`load_data`, :func:`build_model`, :func:`fit_inputs` (images, or the cached
features of the frozen base), :func:`fit_with_resume`, :func:`evaluate` and
:func:`~helpers.training.measure.measure_model`, and :func:`assemble_record` puts their results
into the record that :func:`save_record` writes; a run with an external test set then scores
it (:func:`helpers.training.external.add_external`).

Regimes: ``full`` (all layers trainable, the paper's), ``partial`` (top ``unfreeze_blocks``
blocks, BatchNorm frozen; see :mod:`helpers.training.models`) and ``frozen`` (the fast path: pooled
features of the frozen base are computed once, cached by :mod:`helpers.training.features`, and only the
head is trained on them with the same optimizer, loss and callbacks).

Part II options (:mod:`helpers.training.params`): ``partial`` may also count top *layers*
(``unfreeze_layers``); augmentation is applied to the training batches only; with augmentation
or ``tta`` the ``frozen`` regime trains the head on images through the frozen base (augmented
images have no cached features); ``lr_schedule`` picks the learning-rate callback
(:func:`lr_callback`); ``class_weight`` goes to ``fit``; the record's ``training`` key says
what was used and, with ``tta``, ``metrics`` are the TTA ones and ``metrics_plain`` the others.

Seeding (:mod:`helpers.training.runtime`) happens once before the data are loaded and again
right before the model is built, so model initialisation does not depend on anything done in
between; checkpoints and resumption: :mod:`helpers.training.checkpoints`.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from helpers import config
from helpers.runs import records
from helpers.training import checkpoints, precision
from helpers.training.batches import Augment, array_batches
from helpers.training.external import add_external
from helpers.training.kept import keep_model
from helpers.training.measure import measure_model
from helpers.training.params import DROPOUT, LR_FACTOR, LR_PATIENCE, TrainParams, validate_params
from helpers.training.runtime import progress_verbosity, seed_everything

SPLITS = ("train", "val", "test")


def run_training(
    params: TrainParams | dict[str, Any],
    *,
    dataset=None,
    callbacks: list | None = None,
    verbose: int | None = None,
    measure: bool = True,
    on_model: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """Train, evaluate and measure one configuration; return its run record (training chapter).

    ``dataset`` may be a ``helpers.data.Dataset`` already loaded with the same parameters;
    ``callbacks`` are extra Keras callbacks (run after the checkpointer); ``measure=False`` skips
    saved-size and latency measurements (tests). The run computes in ``params.precision``
    (:mod:`helpers.training.precision`); Keras's global dtype policy is restored afterwards.
    ``on_model`` is called with the trained Keras model (base + head, preprocessing inside)
    before the function returns, e.g. to export it (deployment chapter); models are never
    written into the results.
    """
    p = validate_params(params)
    with precision.policy(p.precision):
        return _train_in_policy(p, dataset=dataset, callbacks=callbacks, verbose=verbose,
                                measure=measure, on_model=on_model)


def _train_in_policy(p: TrainParams, *, dataset, callbacks, verbose, measure,
                     on_model=None) -> dict[str, Any]:
    identity = p.identity()
    rid = records.run_id(identity)
    verbose = progress_verbosity() if verbose is None else verbose
    t_start = time.perf_counter()

    slow_bf16 = precision.emulation_warning(p.precision)
    if slow_bf16:
        warnings.warn(slow_bf16, stacklevel=3)  # at the caller of train()
    seed_everything(p.seed)
    dataset = load_data(p, dataset)
    built = build_model(p, dataset)
    inputs = fit_inputs(p, built, dataset)
    fit = fit_with_resume(p, inputs, dataset, identity, rid, callbacks=callbacks, verbose=verbose)
    fit.warnings += loss_warnings(fit.state["history"], dataset.splits["train"].labels,
                                  class_weights(p, dataset))
    try:
        preds, metrics, plain = evaluate(inputs, dataset, p)
    except Exception as exc:  # e.g. NaN predictions after a diverged training
        _attach(exc, fit.state["history"], fit.warnings)
        raise
    cost, latency = measure_model(built.model, p.resolution, measure=measure)

    train_images = len(dataset.splits["train"])
    epochs_run = int(fit.state["epoch"]) - fit.resumed_from
    timing = inputs.timing
    timing.update({
        "wall_s": None,  # set below, once the external set (if any) is scored too
        "train_s": fit.train_s,
        "epochs_run": int(fit.state["epoch"]),
        "epoch_s": list(fit.state.get("epoch_s", [])),  # training + validation, per epoch
        "resumed_from_epoch": fit.resumed_from,
        "train_images_per_s": (train_images * epochs_run / fit.train_s)
        if epochs_run and fit.train_s else None,
    })
    record = assemble_record(rid, identity, dataset, fit.state["history"], preds, metrics, cost,
                             latency, timing, built.prov, resize_settings(p))
    record["warnings"] = list(fit.warnings)
    record["training"] = training_settings(p, dataset, inputs)
    if plain is not None:  # tta: "metrics" are the TTA ones; the original images alone here
        record["metrics_plain"] = plain
    if p.external:
        t_external = time.perf_counter()
        add_external(record, p, built.model, dataset.task)
        timing["external_s"] = time.perf_counter() - t_external
    timing["wall_s"] = time.perf_counter() - t_start  # the whole run, external scoring included
    built.prov["finished_at"] = records.utc_now()
    if p.save_model:  # the model is large: the cache keeps it, the record notes it
        record["kept_model"] = keep_model(built.model, rid, p.cache_dir)
    checkpoints.remove(fit.ckpt_dir)
    if on_model is not None:
        on_model(built.model)
    return record


# ------------------------------------------------------------------------------ the steps
def load_data(p: TrainParams, dataset=None):
    """The run's data set: ``dataset`` when given (checked), else loaded with ``p``."""
    if dataset is None:
        from helpers.data import load_dataset

        dataset = load_dataset(p.dataset, task=p.task, resolution=p.resolution,
                               data_root=p.data_root, cache_dir=p.cache_dir, seed=p.seed,
                               balanced_eval=p.balanced_eval, max_images=p.max_images,
                               split_seed=p.split_seed, val_fraction=p.val_fraction,
                               geometry=p.geometry, resample=p.resample)
    report = getattr(dataset, "report", None)
    made = dict(getattr(report, "resize", None) or {"geometry": "squash", "resample": "bilinear"})
    if made != resize_settings(p):
        raise ValueError(f"the dataset's images were made with {made} but the run asks for "
                         f"{resize_settings(p)}; load it with load_dataset(..., geometry="
                         f"{p.geometry!r}, resample={p.resample!r})")
    if p.val_fraction is not None and report is not None and not any(
            f"{round(100 * p.val_fraction)}% of each class to val" in n for n in report.notes):
        raise ValueError(f"val_fraction={p.val_fraction} but the dataset was loaded with another "
                         "split; load it with load_dataset(..., val_fraction=...)")
    if dataset.resolution != p.resolution:
        raise ValueError(f"dataset was loaded at {dataset.resolution} px but resolution="
                         f"{p.resolution}; load it with resolution={p.resolution}")
    return dataset


@dataclass
class BuiltModel:
    """The classifier with its regime set, where its weights came from, and the provenance."""

    model: Any
    resolved: Any  # helpers.training.weights.ResolvedWeights
    prov: dict[str, Any]


def build_model(p: TrainParams, dataset) -> BuiltModel:
    """Provenance, weights, the seeded model (:func:`helpers.training.models.build_model`), its regime."""
    from helpers.training import models
    from helpers.training.weights import resolve_weights, weights_provenance

    prov = records.provenance(dataset.fingerprint, None)
    resolved = resolve_weights(p.model, p.weights, p.weights_dir)
    seed_everything(p.seed)  # model initialisation independent of anything done above
    model = models.build_model(p.model, p.resolution, weights=p.weights, weights_dir=p.weights_dir,
                               preprocessing=p.preprocessing, dropout=DROPOUT)
    prov.update(weights_provenance(p.model, resolved, p.resolution, p.cache_dir))
    prov["precision"] = {"policy": p.precision, **precision.describe()}
    models.set_regime(model, p.regime, p.unfreeze_blocks or 0, unfreeze_layers=p.unfreeze_layers)
    return BuiltModel(model, resolved, prov)


@dataclass
class FitInputs:
    """The model that is fitted and its inputs per split (images, or base features)."""

    fit_model: Any
    x: dict[str, np.ndarray]
    timing: dict[str, Any] = field(default_factory=dict)
    images: bool = True  # False: pooled base features (frozen fast path)


def fit_inputs(p: TrainParams, built: BuiltModel, dataset) -> FitInputs:
    """Images and the whole model; in the frozen regime, cached base features and the head."""
    from helpers.training import features as feats_mod
    from helpers.training import models

    tr, va, te = (dataset.splits[s] for s in SPLITS)
    # Augmentation and TTA change the images, so they need the whole (frozen) model on images.
    if p.regime != "frozen" or augmentation(p) or p.tta:
        return FitInputs(built.model, {"train": tr.images, "val": va.images, "test": te.images})
    t = time.perf_counter()
    extractor = models.base_model(built.model)
    weights_id = built.prov.get("weights_sha256") or (
        f"random-seed{p.seed}" if built.resolved.source == "random" else "imagenet-keras")
    if p.precision != precision.DEFAULT_PRECISION:  # bf16 features are other numbers
        weights_id = f"{weights_id}|{p.precision}"
    all_ids = np.concatenate([tr.ids, va.ids, te.ids]).astype(str)
    all_x = np.concatenate([tr.images, va.images, te.images])
    # A seeded split (Kermany: patient level) puts other images in train/val for every seed:
    # extract in image-id order then, so that all seeds share one feature cache.
    order = (np.argsort(all_ids, kind="stable")
             if getattr(getattr(dataset, "report", None), "split_strategy", "official") != "official"
             else np.arange(len(all_ids)))
    all_ids, all_x = all_ids[order], all_x[order]
    path = feats_mod.feature_cache_path(
        dataset=p.dataset, model=p.model, resolution=p.resolution,
        preprocessing=p.preprocessing, weights_id=weights_id,
        digest=feats_mod.images_digest(all_ids, all_x), cache_dir=p.cache_dir,
        geometry=p.geometry, resample=p.resample)
    f_sorted, hit = feats_mod.cached_features(extractor, all_x, all_ids, path,
                                              label=f"{p.model} {p.resolution} px")
    del all_x
    f_all = np.empty_like(f_sorted)
    f_all[order] = f_sorted  # back to train, val, test order
    n1, n2 = len(tr), len(tr) + len(va)
    x = {"train": f_all[:n1], "val": f_all[n1:n2], "test": f_all[n2:]}
    timing = {"features_s": time.perf_counter() - t, "feature_cache": "hit" if hit else "miss"}
    return FitInputs(models.head_model(built.model), x, timing, images=False)


def augmentation(p: TrainParams) -> Augment:
    """The run's training augmentation (false when every setting is 0)."""
    return Augment(rotation=p.aug_rotation, hflip=p.aug_hflip, brightness=p.aug_brightness,
                   contrast=p.aug_contrast)


def class_weights(p: TrainParams, dataset) -> dict[int, float] | None:
    """``{class: n / (2 n_class)}`` from the training counts with ``class_weight="balanced"``."""
    if p.class_weight == "none":
        return None
    counts = [int(c) for c in dataset.splits["train"].class_counts()]
    if min(counts) == 0:
        raise ValueError(f"class_weight='balanced' needs both classes in the training split "
                         f"(counts {counts})")
    n = sum(counts)
    return {k: n / (len(counts) * c) for k, c in enumerate(counts)}


def cosine_lr(lr: float, epoch: int, epochs: int) -> float:
    """Cosine annealing per epoch: ``lr · (1 + cos(π · epoch / epochs)) / 2``, epoch from 0."""
    import math

    return float(lr) * 0.5 * (1.0 + math.cos(math.pi * int(epoch) / int(epochs)))


def lr_callback(p: TrainParams):
    """The learning-rate callback of ``p.lr_schedule`` (None for ``"constant"``)."""
    import keras

    if p.lr_schedule == "plateau":
        return keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=LR_FACTOR,
                                                 patience=LR_PATIENCE, verbose=0)
    if p.lr_schedule == "cosine":  # a function of the epoch alone: a resumed run gets the same
        return keras.callbacks.LearningRateScheduler(
            lambda epoch, lr: cosine_lr(p.lr, epoch, p.epochs), verbose=0)
    return None


def training_settings(p: TrainParams, dataset, inputs: FitInputs) -> dict[str, Any]:
    """What the record's ``training`` key says about schedule, weights, augmentation, TTA."""
    import dataclasses

    aug = augmentation(p)
    return {"lr_schedule": p.lr_schedule,
            "class_weight": {str(k): v for k, v in (class_weights(p, dataset) or {}).items()}
            or None,
            "augmentation": dataclasses.asdict(aug) if aug else None,
            "tta": p.tta,
            "metrics": "tta" if p.tta else "plain",
            "inputs": "images" if inputs.images else "features"}


@dataclass
class FitResult:
    """The training state after fitting (history, epochs), where it resumed, and how long."""

    state: dict[str, Any]
    resumed_from: int
    train_s: float
    ckpt_dir: Path
    warnings: list[str] = field(default_factory=list)


def fit_with_resume(p: TrainParams, inputs: FitInputs, dataset, identity: dict, rid: str, *,
                    callbacks, verbose) -> FitResult:
    """Compile and fit, continuing from this run's checkpoint when one exists."""
    import keras

    fit_model, x = inputs.fit_model, inputs.x
    tr, va = dataset.splits["train"], dataset.splits["val"]
    fit_model.compile(optimizer=keras.optimizers.Adam(learning_rate=p.lr),
                      loss="binary_crossentropy", metrics=["accuracy"])
    aug = augmentation(p) if inputs.images else None
    train_seq = array_batches(x["train"], tr.labels, p.batch_size, shuffle=True, seed=p.seed,
                              augment=aug)
    val_seq = array_batches(x["val"], va.labels, p.batch_size)
    lr_cb = lr_callback(p)
    es_cb = (keras.callbacks.EarlyStopping(monitor="val_loss", patience=p.patience_es,
                                           restore_best_weights=True)
             if p.early_stopping else None)

    ckpt_dir = checkpoints.checkpoint_dir(p.output_dir, rid)
    state, arrays, ckpt_warning = checkpoints.open_checkpoint(ckpt_dir, identity)
    run_warnings = [ckpt_warning] if ckpt_warning else []
    resumed_from = 0
    if state is not None:
        resumed_from = checkpoints.restore(fit_model, ckpt_dir, state, arrays)
    else:
        state = checkpoints.fresh_state()
    ckpt = checkpoints.make_checkpointer(ckpt_dir, identity, state, train_seq, lr_cb, es_cb)
    cbs = ([lr_cb] if lr_cb else []) + ([es_cb] if es_cb else []) + [ckpt] + list(callbacks or [])

    t = time.perf_counter()
    if resumed_from < p.epochs and not state.get("stop_training"):
        try:
            fit_model.fit(train_seq, validation_data=val_seq, epochs=p.epochs,
                          initial_epoch=resumed_from, callbacks=cbs, verbose=verbose,
                          shuffle=False, class_weight=class_weights(p, dataset))
        except Exception as exc:
            _attach(exc, state["history"], run_warnings)  # the failed record keeps them
            raise
    return FitResult(state, resumed_from, time.perf_counter() - t, ckpt_dir, run_warnings)


def _attach(exc: BaseException, history: dict, run_warnings: list[str]) -> None:
    """Hand the history so far and the warnings to :func:`helpers.runs.records.failure_record`."""
    if getattr(exc, "history", None) is None:
        with contextlib.suppress(AttributeError, TypeError):
            exc.history = history  # type: ignore[attr-defined]
            exc.run_warnings = list(run_warnings)  # type: ignore[attr-defined]


def loss_warnings(history: dict, train_labels,
                  class_weight: dict[int, float] | None = None) -> list[str]:
    """Warnings for a training loss that is not finite or never beat the class prior.

    Predicting the training prevalence ``p`` for every image has binary cross-entropy
    ``H(p) = -p ln p - (1 - p) ln(1 - p)``; a model whose training loss never went below it
    learnt nothing usable (the results chapter can flag such runs). With ``class_weight``
    ``{0: w0, 1: w1}`` (the weights ``fit`` used) the baseline is the weighted loss of the best
    constant prediction ``q = p w1 / (p w1 + (1 - p) w0)`` instead (``ln 2`` for balanced weights).
    """
    losses = list(history.get("loss") or [])
    epochs = list(history.get("epoch") or range(1, len(losses) + 1))
    out: list[str] = []
    bad = [e for e, v in zip(epochs, losses, strict=False)
           if v is None or not math.isfinite(float(v))]
    if bad:
        out.append(f"non-finite training loss (NaN/inf) at epoch(s) {bad}")
    y = np.asarray(train_labels, dtype=np.float64).reshape(-1)
    finite = [float(v) for v in losses if v is not None and math.isfinite(float(v))]
    if len(y) and finite:
        prev = float(y.mean())
        w0, w1 = (float(class_weight[0]), float(class_weight[1])) if class_weight else (1.0, 1.0)
        a, b = prev * w1, (1 - prev) * w0  # weighted shares of the positive and negative terms
        q = a / (a + b) if a + b else prev
        prior = -sum(c * math.log(v) for c, v in ((a, q), (b, 1 - q)) if c > 0.0)
        what = (f"H({prev:.3f})" if not class_weight else
                f"the class-weighted loss of a constant {q:.3f}")
        if min(finite) >= prior:
            out.append(f"training loss never went below the class-prior loss: best "
                       f"{min(finite):.4f} >= {what} = {prior:.4f} (predicting the "
                       "training prevalence for every image)")
    return out


def evaluate(inputs: FitInputs, dataset, p: TrainParams | None = None,
             ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """(predictions, metrics, plain metrics or None) on the validation and test splits.

    With ``p.tta = N`` (N >= 2) the probability of an image is the mean over the image and
    N − 1 copies flipped/rotated with the training settings (copy k seeded by
    ``(seed, stream=k)``); ``probs`` and ``metrics`` are then the TTA ones, each split's
    predictions also keep ``probs_plain``, and the third value holds the metrics of the
    original images alone (the record's ``metrics_plain``).
    """
    from helpers.stats.metrics import binary_metrics

    def predict(x, **kw):
        out = inputs.fit_model.predict(array_batches(x, None, 64, **kw), verbose=0)
        return np.asarray(out, dtype=np.float64).reshape(-1)

    tta = p.tta if p is not None else 0
    preds, metrics, plain = {}, {}, {}
    for name in ("val", "test"):
        split = dataset.splits[name]
        probs = predict(inputs.x[name])
        preds[name] = {"ids": split.ids.tolist(), "labels": split.labels.tolist(),
                       "probs": probs.tolist()}
        metrics[name] = binary_metrics(split.labels, probs)
        if tta:
            geo = augmentation(p).geometric()
            copies = [predict(inputs.x[name], seed=p.seed, augment=geo, stream=k)
                      for k in range(1, tta)]
            mean = np.mean([probs, *copies], axis=0)
            preds[name]["probs_plain"] = preds[name]["probs"]
            preds[name]["probs"] = mean.tolist()
            plain[name] = metrics[name]
            metrics[name] = binary_metrics(split.labels, mean)
    return preds, metrics, (plain or None)


def resize_settings(p: TrainParams) -> dict[str, str]:
    """How the run's images become N x N: the record's ``data.resize`` (training chapter)."""
    return {"geometry": p.geometry, "resample": p.resample}


def assemble_record(rid: str, identity: dict, dataset, history: dict, preds: dict, metrics: dict,
                    cost: dict, latency: dict, timing: dict, prov: dict,
                    resize: dict[str, str] | None = None) -> dict[str, Any]:
    """The run record (schema: CONTRIBUTING.md) from the results of the steps.

    ``resize``: :func:`resize_settings` (None: the defaults, squash and bilinear).
    """
    return {
        "schema": records.SCHEMA,
        "run_id": rid,
        "status": "ok",
        "params": identity,
        "data": {"class_names": list(dataset.class_names),
                 "counts": {s: list(dataset.splits[s].class_counts()) for s in SPLITS},
                 "resize": dict(resize or {"geometry": "squash", "resample": "bilinear"})},
        "history": history,
        "predictions": preds,
        "metrics": metrics,
        "cost": cost,
        "latency_ms": latency,
        "timing": timing,
        "provenance": prov,
    }


def save_record(record: dict[str, Any], output_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write ``output_dir/records/<run_id>.json`` atomically; returns the path (training chapter)."""
    out = config.results_dir(output_dir)
    return records.write_json_atomic(records.record_path(out, record["run_id"]), record)
