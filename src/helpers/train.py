"""One training run → one run record (training chapter, ``notebooks/03_train.py``).

Protocol (the paper's, Achar et al.): ImageNet base + GlobalAveragePooling → Dropout(0.5) →
Dense(1, sigmoid); Adam(lr=1e-3); binary cross-entropy; batch 32; ReduceLROnPlateau on the
validation loss (factor 0.2, patience 5). The paper states no epoch count: we default to
**20 epochs**, which leaves room for up to three learning-rate reductions after plateaus of
5 epochs, and keeps the full sweep affordable on a CPU. Optional ``early_stopping`` (on
``val_loss``, ``restore_best_weights=True``) is a documented deviation, off by default.

Regimes: ``full`` (all layers trainable, the paper's), ``partial`` (top ``unfreeze_blocks``
blocks, BatchNorm frozen; see :mod:`helpers.models`) and ``frozen`` (the fast path: pooled
features of the frozen base are computed once, cached by :mod:`helpers.features`, and only the
head is trained on them with the same optimizer, loss and callbacks).

Reproducibility: ``keras.utils.set_random_seed(seed)``, and on the TensorFlow backend
``tf.config.experimental.enable_op_determinism()``; batches are shuffled by a NumPy generator
seeded with ``(seed, epoch)``. On a CPU the same parameters give identical predictions.

Input pipeline: the uint8 arrays stay in memory; a ``keras.utils.PyDataset`` gathers each
batch and casts it to float32 (about 7 µs per image), on any backend. Measured against float32
tensors in a cached ``tf.data`` pipeline (MobileNet, 64 px, all layers trained), the difference
was within the run-to-run noise, so there is no TensorFlow-only fast path.

Resumption: after every epoch the model variables (including dropout seed states), optimizer
state, epoch, history, learning rate and callback counters are written atomically under
``output_dir/checkpoints/<run_id>/``; a run started again with identical parameters continues
from there, and the folder is deleted once the record is complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import numbers
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from helpers import config

DEFAULT_EPOCHS = 20
LR_FACTOR = 0.2
LR_PATIENCE = 5
DROPOUT = 0.5


@dataclass
class TrainParams:
    """Every parameter of one training run; locations are not part of its identity (training chapter)."""

    dataset: str = "isic2017"
    task: str | None = "melanoma"
    model: str = "mobilenet"
    resolution: int = 128
    regime: str = "full"
    unfreeze_blocks: int | None = None
    preprocessing: str = "unit"
    epochs: int = DEFAULT_EPOCHS
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    weights: str | None = "imagenet"
    early_stopping: bool = False
    patience_es: int = 10
    balanced_eval: bool = False
    max_images: int | None = None
    precision: str = "float32"  # float32 | mixed_bfloat16 | auto (helpers.precision)
    # locations (explicit argument → environment variable → default; see helpers.config)
    data_root: str | None = None
    weights_dir: str | None = None
    cache_dir: str | None = None
    output_dir: str | None = field(default=None)

    def identity(self) -> dict[str, Any]:
        """The params that define the run (no locations) (training chapter)."""
        from helpers.records import canonical_params

        return canonical_params(dataclasses.asdict(self))


_LOCATIONS = ("data_root", "weights_dir", "cache_dir", "output_dir")


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _known_datasets() -> dict[str, tuple[str, ...]] | None:
    try:
        from helpers.data import list_datasets
    except ImportError:
        return None
    try:
        return dict(list_datasets())
    except Exception:  # noqa: BLE001 - the registry is advisory here; load_dataset decides
        return None


def validate_params(raw: dict[str, Any] | TrainParams) -> TrainParams:
    """Check names, types and values before any training; ValueError says what is allowed (training chapter)."""
    if isinstance(raw, TrainParams):
        raw = dataclasses.asdict(raw)
    if not isinstance(raw, dict):
        raise ValueError(f"params must be a dict, got {type(raw).__name__}")
    names = [f.name for f in dataclasses.fields(TrainParams)]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; allowed: {names}")
    p = dataclasses.asdict(TrainParams())
    p.update(raw)

    def bad(name: str, expected: str) -> ValueError:
        return ValueError(f"parameter {name}={p[name]!r} is invalid: expected {expected}")

    from helpers.models import MODELS, PREPROCESSING, REGIMES

    for name, options in (("model", MODELS), ("regime", REGIMES), ("preprocessing", PREPROCESSING)):
        if not isinstance(p[name], str) or p[name] not in options:
            raise bad(name, f"one of {list(options)}")
    if not isinstance(p["dataset"], str) or not p["dataset"]:
        raise bad("dataset", "a data set name, e.g. 'isic2017'")
    if p["task"] is not None and not isinstance(p["task"], str):
        raise bad("task", "a task name (str) or None for the data set's default")
    known = _known_datasets()
    if known is not None and p["dataset"] in known and p["task"] is not None:
        tasks = tuple(known[p["dataset"]])
        if p["task"] not in tasks:
            raise bad("task", f"one of {list(tasks)} for dataset {p['dataset']!r}")

    for name, lo in (("resolution", 32), ("epochs", 1), ("batch_size", 1), ("seed", 0),
                     ("patience_es", 1)):
        if not _is_int(p[name]) or p[name] < lo:
            raise bad(name, f"an int >= {lo}")
        p[name] = int(p[name])
    if p["max_images"] is not None:
        if not _is_int(p["max_images"]) or p["max_images"] < 2:
            raise bad("max_images", "None (all images) or an int >= 2 (images per split)")
        p["max_images"] = int(p["max_images"])
    if not isinstance(p["lr"], numbers.Real) or isinstance(p["lr"], bool) or not (
        0 < float(p["lr"]) < 1 and math.isfinite(float(p["lr"]))
    ):
        raise bad("lr", "a float in (0, 1), e.g. 1e-3")
    p["lr"] = float(p["lr"])
    for name in ("early_stopping", "balanced_eval"):
        if not isinstance(p[name], bool | np.bool_):
            raise bad(name, "True or False")
        p[name] = bool(p[name])

    if p["regime"] == "partial":
        if not _is_int(p["unfreeze_blocks"]) or p["unfreeze_blocks"] < 1:
            raise bad("unfreeze_blocks", "an int >= 1 (top blocks to train) with regime='partial'")
        from helpers.models import BLOCK_DOC

        limit = {"mobilenet": 13, "mobilenetv2": 17, "resnet50": 16}[p["model"]]
        if p["unfreeze_blocks"] > limit:
            raise bad("unfreeze_blocks", f"at most {limit} for {p['model']} "
                      f"(a block is {BLOCK_DOC[p['model']]})")
        p["unfreeze_blocks"] = int(p["unfreeze_blocks"])
    elif p["unfreeze_blocks"] is not None and not (_is_int(p["unfreeze_blocks"])
                                                   and p["unfreeze_blocks"] == 0):
        raise bad("unfreeze_blocks", f"None (or 0): it is only used with regime='partial' "
                  f"(regime is {p['regime']!r})")

    from helpers import precision

    if not isinstance(p["precision"], str) or p["precision"] not in precision.PRECISIONS:
        raise bad("precision", f"one of {list(precision.PRECISIONS)}")
    p["precision"] = precision.resolve(p["precision"])

    w = p["weights"]
    if w is not None and not isinstance(w, str | os.PathLike):
        raise bad("weights", "None (random init), 'imagenet' or a path to a weights file")
    if w is not None and w != "imagenet":
        path = Path(w).expanduser()
        if not path.exists():
            raise bad("weights", f"None, 'imagenet' or an existing weights file/folder "
                      f"({path} does not exist)")
        p["weights"] = str(path.resolve())
    for name in _LOCATIONS:
        if p[name] is not None and not isinstance(p[name], str | os.PathLike):
            raise bad(name, "None or a folder path")
        if p[name] is not None:
            p[name] = os.fspath(p[name])
    return TrainParams(**p)


# ---------------------------------------------------------------------------------- set-up
def progress_verbosity() -> int:
    """Keras ``verbose``: 1 (progress bar) when interactive, 2 (a line per epoch) otherwise (training chapter).

    ``RESBOOK_PROGRESS=0|1|2`` overrides. Inside a Jupyter kernel the parent process tells an
    interactive front end (Jupyter Lab/Notebook/VS Code) from batch executors (papermill,
    nbclient, nbconvert, jupyter-book, pytest/nbval).
    """
    env = os.environ.get("RESBOOK_PROGRESS", "").strip()
    if env in ("0", "1", "2"):
        return int(env)
    shell = None
    ipython = sys.modules.get("IPython")
    if ipython is not None:
        with contextlib.suppress(Exception):
            shell = ipython.get_ipython()
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        try:
            with open(f"/proc/{os.getppid()}/cmdline", "rb") as fh:
                parent = fh.read().replace(b"\0", b" ").decode(errors="replace").lower()
        except OSError:
            return 2
        batch = ("papermill", "nbclient", "nbconvert", "jupyter-book", "pytest", "helpers")
        if any(b in parent for b in batch):
            return 2
        interactive = ("jupyter-lab", "jupyter-notebook", "jupyter_server", "jupyterlab",
                       "notebook", "vscode", "ipykernel_launcher", "spyder")
        return 1 if any(i in parent for i in interactive) else 2
    try:
        return 1 if sys.stdout.isatty() else 2
    except (AttributeError, ValueError):
        return 2


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend; deterministic TF ops (training chapter)."""
    import keras

    keras.utils.set_random_seed(int(seed))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The training order of epoch ``epoch``: a permutation seeded by ``(seed, epoch)`` (training chapter)."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


def _array_batches_cls():
    import keras

    class ArrayBatches(keras.utils.PyDataset):
        """Batches from in-memory arrays, cast to float32; shuffled by ``(seed, epoch)``."""

        def __init__(self, x, y, batch_size, *, shuffle=False, seed=0):
            super().__init__(workers=1, use_multiprocessing=False)
            self.x, self.y = x, y
            self.batch_size = int(batch_size)
            self.shuffle, self.seed = shuffle, int(seed)
            self.epoch = 0
            self._order = None
            self._order_epoch = None

        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)

        def set_epoch(self, epoch: int) -> None:
            self.epoch = int(epoch)

        def _indices(self):
            if not self.shuffle:
                return None
            if self._order_epoch != self.epoch:
                self._order = epoch_order(len(self.x), self.seed, self.epoch)
                self._order_epoch = self.epoch
            return self._order

        def __getitem__(self, i):
            order = self._indices()
            sl = slice(i * self.batch_size, (i + 1) * self.batch_size)
            idx = np.sort(order[sl]) if order is not None else sl
            xb = np.asarray(self.x[idx], dtype=np.float32)
            if self.y is None:
                return (xb,)
            return xb, np.asarray(self.y[idx], dtype=np.float32).reshape(-1, 1)

    return ArrayBatches


def array_batches(x, y, batch_size: int, *, shuffle: bool = False, seed: int = 0):
    """A ``keras.utils.PyDataset`` over uint8/float arrays, seeded per epoch (training chapter)."""
    return _array_batches_cls()(x, y, batch_size, shuffle=shuffle, seed=seed)


# ------------------------------------------------------------------------------ checkpoints
def _checkpoint_dir(p: TrainParams, rid: str) -> Path:
    return Path(config.results_dir(p.output_dir)) / "checkpoints" / rid


def _save_arrays(path: Path, arrays: list[np.ndarray]) -> None:
    np.savez(path, **{f"a{i:05d}": a for i, a in enumerate(arrays)})


def _load_arrays(path: Path) -> list[np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return [z[k] for k in sorted(z.files)]


def _assign(variables, arrays: list[np.ndarray], what: str) -> None:
    if len(variables) != len(arrays):
        raise ValueError(f"checkpoint {what}: {len(arrays)} arrays for {len(variables)} variables")
    for v, a in zip(variables, arrays, strict=True):
        if tuple(v.shape) != tuple(a.shape):
            raise ValueError(f"checkpoint {what}: shape {a.shape} for variable {v.path} {v.shape}")
        v.assign(a)


def _make_checkpointer(folder: Path, identity: dict, state: dict, train_seq, lr_cb, es_cb):
    import keras

    class Checkpointer(keras.callbacks.Callback):
        """Saves model, optimizer and callback state after each epoch; restores them on resume."""

        def on_train_begin(self, logs=None):
            # Runs after ReduceLROnPlateau/EarlyStopping reset themselves in on_train_begin.
            cb = state.get("callbacks")
            if cb:
                lr_cb.wait, lr_cb.cooldown_counter = cb["lr_wait"], cb["lr_cooldown"]
                lr_cb.best = cb["lr_best"] if cb["lr_best"] is not None else lr_cb.best
                if es_cb is not None and cb.get("es") is not None:
                    es = cb["es"]
                    es_cb.wait, es_cb.best_epoch = es["wait"], es["best_epoch"]
                    es_cb.best = es["best"]
                    best = folder / state["dir"] / "best_weights.npz"
                    if best.is_file():
                        es_cb.best_weights = _load_arrays(best)

        def on_epoch_begin(self, epoch, logs=None):
            train_seq.set_epoch(epoch)
            self._lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            h = state["history"]
            h["epoch"].append(int(epoch) + 1)
            for k in ("loss", "val_loss", "accuracy", "val_accuracy"):
                h[k].append(float(logs[k]) if k in logs else None)
            h["lr"].append(self._lr)
            state.setdefault("epoch_s", []).append(time.perf_counter() - self._t0)
            state["epoch"] = int(epoch) + 1
            self._save()

        def _save(self):
            folder.mkdir(parents=True, exist_ok=True)
            name = f"epoch-{state['epoch']:04d}"
            tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{name}-"))
            _save_arrays(tmp / "model.npz", [keras.ops.convert_to_numpy(v)
                                             for v in self.model.variables])
            _save_arrays(tmp / "optimizer.npz", [keras.ops.convert_to_numpy(v)
                                                 for v in self.model.optimizer.variables])
            es = None
            if es_cb is not None:
                es = {"wait": int(es_cb.wait), "best_epoch": int(es_cb.best_epoch),
                      "best": None if es_cb.best is None else float(es_cb.best)}
                if es_cb.best_weights is not None:
                    _save_arrays(tmp / "best_weights.npz", list(es_cb.best_weights))
            lr_best = None if lr_cb.best is None else float(lr_cb.best)
            state["callbacks"] = {"lr_wait": int(lr_cb.wait),
                                  "lr_cooldown": int(lr_cb.cooldown_counter),
                                  "lr_best": lr_best if lr_best is None or math.isfinite(lr_best)
                                  else None, "es": es}
            state["stop_training"] = bool(self.model.stop_training)
            state["lr_now"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            final = folder / name
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
            state["dir"] = name
            from helpers.records import write_json_atomic

            write_json_atomic(folder / "state.json", {"params": identity, **state})
            for old in folder.glob("epoch-*"):
                if old.name != name:
                    shutil.rmtree(old, ignore_errors=True)

    return Checkpointer()


def _load_state(folder: Path, identity: dict) -> dict | None:
    path = folder / "state.json"
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if saved.pop("params", None) != identity or not (folder / saved.get("dir", "?")).is_dir():
        return None
    return saved


# ---------------------------------------------------------------------------------- measure
def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))


def inference_latency(model, resolution: int, *, repeats: int = 7) -> dict[str, float]:
    """Median milliseconds per image at batch 1 and batch 32, after warm-up (training chapter)."""
    rng = np.random.default_rng(0)
    x1 = rng.integers(0, 256, (1, resolution, resolution, 3)).astype(np.float32)
    x32 = rng.integers(0, 256, (32, resolution, resolution, 3)).astype(np.float32)
    for x in (x1, x1, x32):
        model.predict_on_batch(x)
    b1 = _median_ms(lambda: model.predict_on_batch(x1), repeats)
    b32 = _median_ms(lambda: model.predict_on_batch(x32), max(3, repeats // 2))
    return {"batch1": b1, "batch32_per_image": b32 / 32}


def saved_size_mb(model) -> float:
    """Size in MB (10^6 bytes) of the model saved as a ``.keras`` file, no optimizer (training chapter)."""
    import keras

    # A fresh Model over the same layers has no optimizer: we measure the deployable model.
    plain = keras.Model(model.inputs, model.outputs, name=model.name)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "model.keras"
        plain.save(path)
        return path.stat().st_size / 1e6


def model_costs(model) -> dict[str, Any]:
    """Parameters and MACs via helpers.costs when available, else parameter counts only (training chapter)."""
    try:
        from helpers.costs import count_model_costs
    except ImportError:
        count_model_costs = None
    if count_model_costs is not None:
        c = dict(count_model_costs(model))
        return {"params": c.get("params"), "trainable_params": c.get("trainable_params"),
                "macs": c.get("macs"), "flops": c.get("flops")}
    trainable = int(sum(int(np.prod(v.shape)) for v in model.trainable_weights))
    return {"params": int(model.count_params()), "trainable_params": trainable,
            "macs": None, "flops": None}


# ------------------------------------------------------------------------------- the run
def _records():
    from helpers import records

    return records


def run_training(
    params: TrainParams | dict[str, Any],
    *,
    dataset=None,
    callbacks: list | None = None,
    verbose: int | None = None,
    measure: bool = True,
) -> dict[str, Any]:
    """Train, evaluate and measure one configuration; return its run record (training chapter).

    ``dataset`` may be a ``helpers.data.Dataset`` already loaded with the same parameters;
    ``callbacks`` are extra Keras callbacks (run after the checkpointer); ``measure=False`` skips
    saved-size and latency measurements (tests). The run computes in ``params.precision``
    (:mod:`helpers.precision`); Keras's global dtype policy is restored afterwards.
    """
    from helpers import precision

    p = validate_params(params)
    with precision.policy(p.precision):
        return _train_in_policy(p, dataset=dataset, callbacks=callbacks, verbose=verbose,
                                measure=measure)


def _train_in_policy(p: TrainParams, *, dataset, callbacks, verbose, measure) -> dict[str, Any]:
    import keras

    from helpers import features as feats_mod
    from helpers import models, precision
    from helpers.metrics import binary_metrics
    from helpers.weights import resolve_weights, weights_provenance

    rec_mod = _records()
    identity = p.identity()
    rid = rec_mod.run_id(identity)
    verbose = progress_verbosity() if verbose is None else verbose
    t_start = time.perf_counter()

    seed_everything(p.seed)
    if dataset is None:
        from helpers.data import load_dataset

        dataset = load_dataset(p.dataset, task=p.task, resolution=p.resolution,
                               data_root=p.data_root, cache_dir=p.cache_dir, seed=p.seed,
                               balanced_eval=p.balanced_eval, max_images=p.max_images)
    if dataset.resolution != p.resolution:
        raise ValueError(f"dataset was loaded at {dataset.resolution} px but resolution="
                         f"{p.resolution}; load it with resolution={p.resolution}")
    tr, va, te = (dataset.splits[s] for s in ("train", "val", "test"))

    prov = rec_mod.provenance(dataset.fingerprint, None)
    resolved = resolve_weights(p.model, p.weights, p.weights_dir)
    seed_everything(p.seed)  # model initialisation independent of anything done above
    model = models.build_model(p.model, p.resolution, weights=p.weights, weights_dir=p.weights_dir,
                               preprocessing=p.preprocessing, dropout=DROPOUT)
    prov.update(weights_provenance(p.model, resolved, p.resolution, p.cache_dir))
    prov["precision"] = {"policy": p.precision, **precision.describe()}
    models.set_regime(model, p.regime, p.unfreeze_blocks or 0)

    timing: dict[str, Any] = {}
    if p.regime == "frozen":
        t = time.perf_counter()
        extractor = models.base_model(model)
        weights_id = prov.get("weights_sha256") or (
            f"random-seed{p.seed}" if resolved.source == "random" else "imagenet-keras")
        if p.precision != precision.DEFAULT_PRECISION:  # bf16 features are other numbers
            weights_id = f"{weights_id}|{p.precision}"
        all_ids = np.concatenate([tr.ids, va.ids, te.ids]).astype(str)
        all_x = np.concatenate([tr.images, va.images, te.images])
        path = feats_mod.feature_cache_path(
            dataset=p.dataset, model=p.model, resolution=p.resolution,
            preprocessing=p.preprocessing, weights_id=weights_id,
            digest=feats_mod.images_digest(all_ids, all_x), cache_dir=p.cache_dir)
        f_all, hit = feats_mod.cached_features(extractor, all_x, all_ids, path)
        del all_x
        n1, n2 = len(tr), len(tr) + len(va)
        x_tr, x_va, x_te = f_all[:n1], f_all[n1:n2], f_all[n2:]
        timing["features_s"] = time.perf_counter() - t
        timing["feature_cache"] = "hit" if hit else "miss"
        fit_model = models.head_model(model)
    else:
        x_tr, x_va, x_te = tr.images, va.images, te.images
        fit_model = model

    fit_model.compile(optimizer=keras.optimizers.Adam(learning_rate=p.lr),
                      loss="binary_crossentropy", metrics=["accuracy"])
    train_seq = array_batches(x_tr, tr.labels, p.batch_size, shuffle=True, seed=p.seed)
    val_seq = array_batches(x_va, va.labels, p.batch_size)
    lr_cb = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=LR_FACTOR,
                                              patience=LR_PATIENCE, verbose=0)
    es_cb = (keras.callbacks.EarlyStopping(monitor="val_loss", patience=p.patience_es,
                                           restore_best_weights=True)
             if p.early_stopping else None)

    ckpt_dir = _checkpoint_dir(p, rid)
    state = _load_state(ckpt_dir, identity)
    resumed_from = 0
    if state is not None:
        fit_model.optimizer.build(fit_model.trainable_variables)
        _assign(fit_model.variables, _load_arrays(ckpt_dir / state["dir"] / "model.npz"), "model")
        _assign(fit_model.optimizer.variables,
                _load_arrays(ckpt_dir / state["dir"] / "optimizer.npz"), "optimizer")
        fit_model.optimizer.learning_rate = state["lr_now"]
        resumed_from = int(state["epoch"])
    else:
        state = {"epoch": 0, "history": {k: [] for k in ("epoch", "loss", "val_loss", "accuracy",
                                                          "val_accuracy", "lr")}}
    ckpt = _make_checkpointer(ckpt_dir, identity, state, train_seq, lr_cb, es_cb)
    cbs = [lr_cb] + ([es_cb] if es_cb else []) + [ckpt] + list(callbacks or [])

    t = time.perf_counter()
    if resumed_from < p.epochs and not state.get("stop_training"):
        fit_model.fit(train_seq, validation_data=val_seq, epochs=p.epochs,
                      initial_epoch=resumed_from, callbacks=cbs, verbose=verbose, shuffle=False)
    train_s = time.perf_counter() - t
    epochs_run = int(state["epoch"]) - resumed_from

    def predict(x) -> np.ndarray:
        out = fit_model.predict(array_batches(x, None, 64), verbose=0)
        return np.asarray(out, dtype=np.float64).reshape(-1)

    preds, metrics = {}, {}
    for name, split, x in (("val", va, x_va), ("test", te, x_te)):
        probs = predict(x)
        preds[name] = {"ids": split.ids.tolist(), "labels": split.labels.tolist(),
                       "probs": probs.tolist()}
        metrics[name] = binary_metrics(split.labels, probs)

    cost = model_costs(model)
    latency = {"batch1": None, "batch32_per_image": None}
    cost["model_size_mb"] = None
    if measure:
        cost["model_size_mb"] = saved_size_mb(model)
        latency = inference_latency(model, p.resolution)
    timing.update({
        "wall_s": time.perf_counter() - t_start,
        "train_s": train_s,
        "epochs_run": int(state["epoch"]),
        "epoch_s": list(state.get("epoch_s", [])),  # training + validation, per epoch
        "resumed_from_epoch": resumed_from,
        "train_images_per_s": (len(tr) * epochs_run / train_s) if epochs_run and train_s else None,
    })
    prov["finished_at"] = rec_mod.utc_now()
    record = {
        "schema": rec_mod.SCHEMA,
        "run_id": rid,
        "status": "ok",
        "params": identity,
        "data": {"class_names": list(dataset.class_names),
                 "counts": {s: list(dataset.splits[s].class_counts())
                            for s in ("train", "val", "test")}},
        "history": state["history"],
        "predictions": preds,
        "metrics": metrics,
        "cost": cost,
        "latency_ms": latency,
        "timing": timing,
        "provenance": prov,
    }
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    with contextlib.suppress(OSError):
        ckpt_dir.parent.rmdir()  # only when no other run's checkpoints remain
    return record


def save_record(record: dict[str, Any], output_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write ``output_dir/records/<run_id>.json`` atomically; returns the path (training chapter)."""
    rec_mod = _records()
    out = config.results_dir(output_dir)
    return rec_mod.write_json_atomic(rec_mod.record_path(out, record["run_id"]), record)
