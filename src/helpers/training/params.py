"""The parameters of one training run: defaults and validation (training chapter).

Protocol (the paper's, Achar et al.): ImageNet base + GlobalAveragePooling → Dropout(0.5) →
Dense(1, sigmoid); Adam(lr=1e-3); binary cross-entropy; batch 32; ReduceLROnPlateau on the
validation loss (factor 0.2, patience 5). The paper states no epoch count: we default to
**20 epochs**, which leaves room for up to three learning-rate reductions after plateaus of
5 epochs, and keeps the full sweep affordable on a CPU. Optional ``early_stopping`` (on
``val_loss``, ``restore_best_weights=True``) is a documented deviation, off by default.

:class:`TrainParams` holds the one set of defaults (:func:`default_params`): a sweep fills every
parameter its config leaves out from it (:func:`helpers.sweep.config.train_defaults`), and the
``parameters`` cell of ``notebooks/03_train.py``, which papermill needs, repeats them literally
(``tests/test_training_params.py`` fails when the two differ).

Part II (chest X-rays) adds, each off by default so that every earlier run keeps its id
(:data:`helpers.runs.records.OMITTED_AT_DEFAULT`): training-split augmentation (``aug_rotation``
degrees, ``aug_hflip``, ``aug_brightness`` and ``aug_contrast`` fractions; seeded by
``(seed, epoch, batch)`` in :mod:`helpers.training.batches`), ``class_weight="balanced"``
(weighted cross-entropy from the training counts), ``lr_schedule`` (``"plateau"``: the paper's
ReduceLROnPlateau; ``"cosine"``: per-epoch cosine annealing from ``lr``; ``"constant"``),
``unfreeze_layers`` (regime ``partial`` by top *layers* instead of blocks) and ``tta``
(test-time augmentation of the validation and test predictions). ``val_fraction`` (Part II,
chest X-rays) sets the share of the pooled training images that a *seeded* split (Kermany:
patient level) moves to validation, e.g. 0.2 for Kilaru et al.'s 80/20 split; ``None`` keeps the
data set's default (10 % for Kermany) and is left out of the run id.

Another hospital's images (issue 29) add ``geometry`` (``squash``, ``crop``, ``pad``) and
``resample`` (``bilinear``, ``area``, ``bilinear_plain``, ``nearest``): how every image of the
run, its splits' and its external set's, becomes N x N (:mod:`helpers.data.resize`); both are
left out of the run id at their defaults (squash, bilinear), what every earlier run did. The
location ``external_masks`` is a folder of lesion masks of the external set: its images are
then also scored cropped to the lesion (``lesion_box``).

The training notebook collects its parameters from its globals with :func:`params_from_namespace`.
This module imports neither Keras nor TensorFlow, not even inside :func:`validate_params`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from helpers.model_names import (
    BLOCK_COUNTS,
    BLOCK_DOC,
    CLASS_WEIGHTS,
    LAYER_COUNTS,
    LR_SCHEDULES,
    MIN_RESOLUTION,
    MODELS,
    PREPROCESSING,
    REGIMES,
)
from helpers.nbparams import UnknownParameterError, suggest, unknown_message
from helpers.runs.records import canonical_params
from helpers.training import precision

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
    precision: str = "float32"  # float32 | mixed_bfloat16 | auto (helpers.training.precision)
    # Part II additions (identity keys left out of the run id at their defaults: helpers.runs.records)
    aug_rotation: float = 0.0  # degrees: each training image turned by U(-r, r)
    aug_hflip: bool = False  # each training image mirrored left-right with probability 1/2
    aug_brightness: float = 0.0  # fraction of 255: shift by U(-b, b) * 255
    aug_contrast: float = 0.0  # fraction: (x - mean) * (1 + U(-c, c)) + mean
    class_weight: str = "none"  # none | balanced (weighted cross-entropy from training counts)
    lr_schedule: str = "plateau"  # plateau (ReduceLROnPlateau 0.2/5) | cosine | constant
    unfreeze_layers: int | None = None  # regime 'partial': top N base layers (not blocks)
    tta: int = 0  # 0: none; N >= 2: mean P over the original + N-1 augmented copies
    # seed of the data split and of the val/test subsets (None: ``seed``, as before). A fixed
    # value keeps one test set for every training seed of a folder without split folders.
    split_seed: int | None = None
    # an external test set: its name (identity) and its folder of class folders (a location);
    # every image of it is scored at the run's resolution (record split "external")
    external: str | None = None
    val_fraction: float | None = None  # seeded splits: share moved to validation (None: data set's)
    # how every image of the run becomes N x N (helpers.data.resize): squash | crop | pad, and
    # bilinear (antialiased) | area | bilinear_plain | nearest
    geometry: str = "squash"
    resample: str = "bilinear"
    # not part of the identity: keep the trained model in the cache (helpers.training.kept)
    save_model: bool = False
    # locations (explicit argument → environment variable → default; see helpers.config)
    data_root: str | None = None
    weights_dir: str | None = None
    cache_dir: str | None = None
    output_dir: str | None = field(default=None)
    external_root: str | None = None
    external_masks: str | None = None  # lesion masks of the external set: adds "lesion_box"

    def identity(self) -> dict[str, Any]:
        """The params that define the run (no locations) (training chapter)."""
        return canonical_params(dataclasses.asdict(self))


def default_params() -> dict[str, Any]:
    """``{name: default}`` of every :class:`TrainParams` field, in field order (training chapter).

    The one source of a run's defaults: the sweep (:mod:`helpers.sweep.config`) and
    :func:`validate_params` fill an unset parameter from here.
    """
    return dataclasses.asdict(TrainParams())


_LOCATIONS = ("data_root", "weights_dir", "cache_dir", "output_dir", "external_root",
              "external_masks")


def _names() -> list[str]:
    """The :class:`TrainParams` field names, in order."""
    return [f.name for f in dataclasses.fields(TrainParams)]


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
    names = _names()
    unknown = sorted(set(raw) - set(names))
    if unknown:
        hints = "".join(f"; {u!r}{suggest(u, names)}" for u in unknown if suggest(u, names))
        raise ValueError(f"unknown parameter(s) {unknown}{hints}; allowed: {names}")
    p = default_params()
    p.update(raw)
    from helpers.data.resize import GEOMETRIES, RESAMPLES  # here: helpers.data is slow to import

    def bad(name: str, expected: str) -> ValueError:
        return ValueError(f"parameter {name}={p[name]!r} is invalid: expected {expected}")

    if p["geometry"] == "lesion_box":  # masks exist for an external set only
        raise bad("geometry", f"one of {list(GEOMETRIES)}; 'lesion_box' is scored for the "
                  "external set, in addition, when external_masks is given")
    for name, options in (("model", MODELS), ("regime", REGIMES), ("preprocessing", PREPROCESSING),
                          ("geometry", GEOMETRIES), ("resample", RESAMPLES)):
        if not isinstance(p[name], str) or p[name] not in options:
            raise bad(name, f"one of {list(options)}")
    if not isinstance(p["dataset"], str) or not p["dataset"]:
        raise bad("dataset", "a data set name, e.g. 'isic2017'")
    if p["task"] is not None and not isinstance(p["task"], str):
        raise bad("task", "a task name (str) or None for the data set's default")
    known = _known_datasets()
    if known is not None and p["dataset"] in known and p["task"] is not None:
        tasks = tuple(known[p["dataset"]])
        placeholder = any(t.startswith("<") for t in tasks)  # 'folder': any class folder name
        if not placeholder and p["task"] not in tasks:
            raise bad("task", f"one of {list(tasks)} for dataset {p['dataset']!r}")

    for name, lo in (("resolution", MIN_RESOLUTION), ("epochs", 1), ("batch_size", 1), ("seed", 0),
                     ("patience_es", 1)):
        if not _is_int(p[name]) or p[name] < lo:
            raise bad(name, f"an int >= {lo}")
        p[name] = int(p[name])
    if p["seed"] >= 2**32:  # NumPy and Keras seeds are 32-bit
        raise bad("seed", "an int in [0, 2**32)")
    if p["split_seed"] is not None:
        if not _is_int(p["split_seed"]) or not 0 <= p["split_seed"] < 2**32:
            raise bad("split_seed", "None (the run's seed) or an int in [0, 2**32)")
        p["split_seed"] = int(p["split_seed"])
    if p["external"] is not None and (not isinstance(p["external"], str) or not p["external"]):
        raise bad("external", "None or a name for the external test set (e.g. 'hospital_b')")
    if p["max_images"] is not None:
        if not _is_int(p["max_images"]) or p["max_images"] < 2:
            raise bad("max_images", "None (all images) or an int >= 2 (images per split)")
        p["max_images"] = int(p["max_images"])
    if not isinstance(p["lr"], numbers.Real) or isinstance(p["lr"], bool) or not (
        0 < float(p["lr"]) < 1 and math.isfinite(float(p["lr"]))
    ):
        raise bad("lr", "a float in (0, 1), e.g. 1e-3")
    p["lr"] = float(p["lr"])
    for name in ("early_stopping", "balanced_eval", "save_model"):
        if not isinstance(p[name], bool | np.bool_):
            raise bad(name, "True or False")
        p[name] = bool(p[name])

    for name in ("aug_rotation", "aug_brightness", "aug_contrast"):
        v, hi = p[name], 180.0 if name == "aug_rotation" else 1.0
        if not isinstance(v, numbers.Real) or isinstance(v, bool) or not 0 <= float(v) <= hi:
            raise bad(name, f"a number in [0, {hi:g}] (0: off)")
        p[name] = float(v)
    if not isinstance(p["aug_hflip"], bool | np.bool_):
        raise bad("aug_hflip", "True or False")
    p["aug_hflip"] = bool(p["aug_hflip"])
    for name, options in (("class_weight", CLASS_WEIGHTS), ("lr_schedule", LR_SCHEDULES)):
        if not isinstance(p[name], str) or p[name] not in options:
            raise bad(name, f"one of {list(options)}")
    if not _is_int(p["tta"]) or p["tta"] < 0 or p["tta"] == 1:
        raise bad("tta", "0 (none) or an int >= 2 (the original + N-1 augmented copies)")
    p["tta"] = int(p["tta"])
    if p["tta"] and not (p["aug_rotation"] or p["aug_hflip"]):
        raise bad("tta", "0 unless aug_rotation > 0 or aug_hflip=True: test-time copies use "
                  "the training flips/rotations, without them every copy equals the original")

    vf = p["val_fraction"]
    if vf is not None:
        if not isinstance(vf, numbers.Real) or isinstance(vf, bool) or not 0 < float(vf) < 1:
            raise bad("val_fraction", "None (the data set's default split) or a number in (0, 1), "
                      "e.g. 0.2 for an 80/20 patient-level train/val split")
        p["val_fraction"] = float(vf)

    layers_n = p["unfreeze_layers"]
    if layers_n is not None and _is_int(layers_n) and layers_n == 0:
        p["unfreeze_layers"] = layers_n = None
    if layers_n is not None:
        if p["regime"] != "partial":
            raise bad("unfreeze_layers", f"None: it is only used with regime='partial' "
                      f"(regime is {p['regime']!r})")
        limit = LAYER_COUNTS[p["model"]]
        if not _is_int(layers_n) or not 1 <= layers_n <= limit:
            raise bad("unfreeze_layers", f"an int in 1..{limit} for {p['model']} "
                      "(top layers of the base to train)")
        if p["unfreeze_blocks"] not in (None, 0) or isinstance(p["unfreeze_blocks"], bool):
            raise bad("unfreeze_blocks", "None with unfreeze_layers: give blocks or layers, "
                      "not both")
        p["unfreeze_layers"] = int(layers_n)
        p["unfreeze_blocks"] = None
    elif p["regime"] == "partial":
        if not _is_int(p["unfreeze_blocks"]) or p["unfreeze_blocks"] < 1:
            raise bad("unfreeze_blocks", "an int >= 1 (top blocks to train) with regime='partial', "
                      "or set unfreeze_layers instead")
        limit = BLOCK_COUNTS[p["model"]]
        if p["unfreeze_blocks"] > limit:
            raise bad("unfreeze_blocks", f"at most {limit} for {p['model']} "
                      f"(a block is {BLOCK_DOC[p['model']]})")
        p["unfreeze_blocks"] = int(p["unfreeze_blocks"])
    elif p["unfreeze_blocks"] is not None and not (_is_int(p["unfreeze_blocks"])
                                                   and p["unfreeze_blocks"] == 0):
        raise bad("unfreeze_blocks", f"None (or 0): it is only used with regime='partial' "
                  f"(regime is {p['regime']!r})")

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


def params_from_namespace(namespace: Mapping[str, Any]) -> TrainParams:
    """The run's checked :class:`TrainParams` from a notebook's ``globals()`` (training chapter).

    ``notebooks/03_train.py`` binds every parameter as a global (its ``parameters`` cell, and
    papermill's injected cell after it). This takes exactly the :class:`TrainParams` field names
    from ``namespace``, ignores every other name (imports, IPython's ``_i3``, …) and passes them to
    :func:`validate_params`. A field the namespace lacks raises ValueError naming it: the
    ``parameters`` cell must assign every field.
    """
    names = _names()
    missing = [n for n in names if n not in namespace]
    if missing:
        raise ValueError(f"missing parameter(s) {missing}: the notebook's parameters cell must "
                         "assign every TrainParams field")
    return validate_params({n: namespace[n] for n in names})


# -------------------------------------------------- parameters injected by plain papermill
def globals_snapshot(namespace: dict[str, Any]) -> dict[str, int]:
    """``{name: id(value)}`` of the public global names, taken right before the parameters cell.

    With :func:`check_injected` after it, this is how the training notebook sees what papermill
    injected: the notebook cannot read papermill's ``injected-parameters`` cell, but every name
    that cell (or the parameters cell) binds is new or rebound in the kernel's globals.
    """
    return {k: id(v) for k, v in namespace.items() if not k.startswith("_")}


def check_injected(namespace: dict[str, Any], before: dict[str, int]) -> None:
    """Refuse a global bound since :func:`globals_snapshot` that is no TrainParams field.

    Catches a typo'd papermill parameter (``resoluton=64``), and one that rebinds a name
    imported before (``pd=1``), with the closest valid name. Names starting with ``_`` (IPython's
    ``_i3``, ``_3``, …) are not parameters and are ignored. Raises UnknownParameterError.
    """
    names = _names()
    bound = {k for k, v in namespace.items()
             if not k.startswith("_") and before.get(k) != id(v)}
    unknown = bound - set(names)
    if unknown:
        raise UnknownParameterError(unknown_message(unknown, names, "papermill parameters"))
