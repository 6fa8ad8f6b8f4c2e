"""Part II training features: augmentation, class weights, LR schedules, top-layer unfreezing, TTA.

Every new parameter is off by default and left out of the run id there
(``records.OMITTED_AT_DEFAULT``), so every earlier record keeps its id. The training tests use
a tiny real subset of the Kermany chest X-rays (16 images per split, 32 px, random weights).
"""

from __future__ import annotations

import json
import math
import os
from types import SimpleNamespace

import numpy as np
import pytest
from train_fixtures import assert_resumes_like, needs_env

from helpers.runs import records as R
from helpers.training.batches import Augment, augment_batch, augment_rng
from helpers.training.params import TrainParams, validate_params

NEW = {"aug_rotation": 10.0, "aug_hflip": True, "aug_brightness": 0.1, "aug_contrast": 0.2,
       "class_weight": "balanced", "lr_schedule": "cosine", "unfreeze_layers": 4, "tta": 3}


# ------------------------------------------------------------------- parameters and identity


def test_new_params_default_off_and_keep_earlier_run_ids() -> None:
    p = validate_params({})
    assert (p.aug_rotation, p.aug_hflip, p.aug_brightness, p.aug_contrast) == (0.0, False, 0, 0)
    assert (p.class_weight, p.lr_schedule, p.unfreeze_layers, p.tta) == ("none", "plateau",
                                                                         None, 0)
    assert set(NEW) <= set(R.IDENTITY_KEYS) and set(NEW) <= set(R.OMITTED_AT_DEFAULT)
    ident = p.identity()
    assert not set(NEW) & set(ident)  # left out at the defaults
    legacy = {k: v for k, v in ident.items() if k != "precision"}  # a pre-Part II record
    assert R.run_id(ident) == R.run_id(legacy)
    for key, value in NEW.items():
        ref = {"aug_hflip": True} if key == "tta" else {}
        extra = dict(ref)
        if key == "unfreeze_layers":
            ref, extra = {"regime": "partial", "unfreeze_blocks": 1}, {"regime": "partial"}
        q = validate_params({**extra, key: value}).identity()
        assert R.canonical_params(q)[key] == value
        assert R.run_id(q) != R.run_id(validate_params(ref).identity()), key


def test_unfreeze_layers_replaces_blocks_in_partial() -> None:
    p = validate_params({"regime": "partial", "unfreeze_layers": 10})
    assert p.unfreeze_layers == 10 and p.unfreeze_blocks is None
    assert validate_params({"unfreeze_layers": 0}).unfreeze_layers is None
    assert TrainParams().unfreeze_layers is None


# ------------------------------------------------------------------------------ augmentation


def _images(n=6, s=16, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, s, s, 3), dtype=np.uint8)


def test_augmentation_is_seeded_by_seed_epoch_batch() -> None:
    keras = pytest.importorskip("keras")  # noqa: F841 - ArrayBatches is a keras PyDataset
    from helpers.training.batches import array_batches

    x, y = _images(10), np.arange(10) % 2
    aug = Augment(rotation=20, hflip=True, brightness=0.1, contrast=0.2)
    a = array_batches(x, y, 4, shuffle=True, seed=3, augment=aug)
    b = array_batches(x, y, 4, shuffle=True, seed=3, augment=aug)
    plain = array_batches(x, y, 4, shuffle=True, seed=3)
    for i in range(len(a)):
        np.testing.assert_array_equal(a[i][0], b[i][0])  # same seed → identical batch
        np.testing.assert_array_equal(a[i][1], plain[i][1])  # the same images, labels
        assert not np.array_equal(a[i][0], plain[i][0])
    first = a[0][0]
    a.set_epoch(1)
    b.set_epoch(1)
    plain.set_epoch(1)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    assert not np.array_equal(a[0][0], first)  # another epoch → other augmentations
    other = array_batches(x, y, 4, shuffle=True, seed=4, augment=aug)
    other.set_epoch(1)
    assert not np.array_equal(other[0][0], a[0][0])
    off = array_batches(x, y, 4, shuffle=True, seed=3, augment=Augment())
    off.set_epoch(1)
    np.testing.assert_array_equal(off[0][0], plain[0][0])  # all settings 0: no augmentation
    assert a[0][0].dtype == np.float32 and a[0][0].min() >= 0 and a[0][0].max() <= 255


def test_augment_batch_geometry_and_intensity() -> None:
    x = _images(4, 9)
    rng = augment_rng(0, 0, 0, 0)
    np.testing.assert_array_equal(augment_batch(x, Augment(), rng), x.astype(np.float32))
    # a rotation by exactly 180 degrees is both flips (bilinear weights 0/1 on a 9x9 grid)
    half = Augment(rotation=180.0)
    got = augment_batch(x, half, SimpleNamespace(
        uniform=lambda lo, hi, n: np.ones(n), random=lambda n: np.ones(n)))
    np.testing.assert_allclose(got, x[:, ::-1, ::-1].astype(np.float32), atol=1e-3)
    flip = augment_batch(x, Augment(hflip=True), SimpleNamespace(
        uniform=lambda lo, hi, n: np.zeros(n), random=lambda n: np.zeros(n)))
    np.testing.assert_array_equal(flip, x[:, :, ::-1].astype(np.float32))
    bright = augment_batch(np.full((1, 4, 4, 3), 250, np.uint8), Augment(brightness=0.5),
                           SimpleNamespace(uniform=lambda lo, hi, n: np.ones(n),
                                           random=lambda n: np.ones(n)))
    assert (bright == 255).all()  # clipped to the pixel range
    assert Augment(rotation=5, brightness=0.2).geometric() == Augment(rotation=5)


# --------------------------------------------------------------------- schedules and weights


def test_cosine_schedule_and_lr_callbacks() -> None:
    keras = pytest.importorskip("keras")
    from helpers.training.run import cosine_lr, lr_callback

    assert cosine_lr(1e-3, 0, 10) == pytest.approx(1e-3)
    assert cosine_lr(1e-3, 5, 10) == pytest.approx(5e-4)
    lrs = [cosine_lr(1e-3, e, 10) for e in range(10)]
    assert all(a > b > 0 for a, b in zip(lrs, lrs[1:], strict=False))
    assert isinstance(lr_callback(TrainParams()), keras.callbacks.ReduceLROnPlateau)
    assert isinstance(lr_callback(TrainParams(lr_schedule="cosine")),
                      keras.callbacks.LearningRateScheduler)
    assert lr_callback(TrainParams(lr_schedule="constant")) is None


def test_balanced_class_weights_from_training_counts() -> None:
    pytest.importorskip("keras")
    from helpers.training.run import class_weights

    ds = SimpleNamespace(splits={"train": SimpleNamespace(class_counts=lambda: [30, 10])})
    assert class_weights(TrainParams(), ds) is None
    w = class_weights(TrainParams(class_weight="balanced"), ds)
    assert w == pytest.approx({0: 40 / 60, 1: 40 / 20})
    assert 30 * w[0] == pytest.approx(10 * w[1])  # each class carries half the loss
    empty = SimpleNamespace(splits={"train": SimpleNamespace(class_counts=lambda: [5, 0])})
    with pytest.raises(ValueError, match="both classes"):
        class_weights(TrainParams(class_weight="balanced"), empty)


# ---------------------------------------------------------------------- top-layer unfreezing


def test_unfreeze_top_layers_keeps_batchnorm_frozen() -> None:
    keras = pytest.importorskip("keras")
    from helpers.model_names import LAYER_COUNTS
    from helpers.training import models

    m = models.build_model("mobilenet", 32, weights=None)
    names = models.unfreeze_top_layers(m, 4)
    assert names == ["conv_pw_13_relu", "conv_pw_13_bn", "conv_pw_13", "conv_dw_13_relu"]
    base = m.get_layer("base")
    trainable = [layer.name for layer in base.layers if layer.trainable and layer.weights]
    assert trainable == ["conv_pw_13"]  # conv_pw_13_bn stays frozen, the ReLUs have no weights
    assert sum(int(np.prod(v.shape)) for v in m.trainable_weights) == 1024 * 1024 + 1024 + 1
    models.set_regime(m, "partial", unfreeze_layers=7)  # conv_dw_13 (+ its BN) now in
    assert [la.name for la in base.layers if la.trainable and la.weights] == ["conv_dw_13",
                                                                                "conv_pw_13"]
    assert all(not la.trainable for la in base.layers
               if isinstance(la, keras.layers.BatchNormalization))
    models.set_regime(m, "full")
    assert all(la.trainable for la in base.layers)
    assert len(base.layers) - 1 == LAYER_COUNTS["mobilenet"]
    with pytest.raises(ValueError, match="1..85"):
        models.unfreeze_top_layers(m, 86)


@pytest.mark.slow
def test_layer_counts_match_keras_applications() -> None:
    pytest.importorskip("keras")
    from helpers.model_names import LAYER_COUNTS
    from helpers.training import models

    for name in ("mobilenetv2", "resnet50"):
        base = models.build_model(name, 32, weights=None).get_layer("base")
        assert len(base.layers) - 1 == LAYER_COUNTS[name], name


# ------------------------------------------------------------------------------- training

needs_data = needs_env("RESBOOK_DATA_DIR", "the training tests need the real images")
needs_weights = needs_env("RESBOOK_WEIGHTS_DIR", "this test needs local ImageNet weights")

TINY = {"dataset": "kermany", "task": "pneumonia", "model": "mobilenet", "resolution": 32,
        "regime": "full", "epochs": 3, "max_images": 16, "weights": None}


@needs_data
@needs_weights
def test_cosine_augmented_weighted_tta_run_resumes_like_uninterrupted(tmp_path) -> None:
    """Every new feature in one cheap run; a kill after epoch 1 then resume gives the same run.

    The cosine schedule is a function of the epoch, so the resumed run's learning rates (in the
    history), augmented batches (seeded by epoch and batch) and predictions equal the
    uninterrupted run's; early stopping is on with it. Frozen ImageNet base (cheap, and its
    predictions differ between images, unlike a random-init network at 32 px): augmentation
    makes it train the head on images through the base, not on cached features.
    """
    pytest.importorskip("keras")
    from helpers.training import run_training

    params = {**TINY, **{k: NEW[k] for k in ("aug_rotation", "aug_hflip", "aug_brightness",
                                             "aug_contrast", "class_weight", "lr_schedule",
                                             "tta")},
              "regime": "frozen", "weights": "imagenet", "lr": 0.01,
              "early_stopping": True, "patience_es": 5, "cache_dir": str(tmp_path / "cache")}
    whole = run_training({**params, "output_dir": str(tmp_path / "a")}, verbose=0,
                         measure=False)
    assert whole["history"]["lr"] == pytest.approx(
        [0.01 * 0.5 * (1 + math.cos(math.pi * e / 3)) for e in range(3)], rel=1e-6)
    tr = whole["training"]
    assert tr["lr_schedule"] == "cosine" and tr["metrics"] == "tta" and tr["tta"] == 3
    assert tr["inputs"] == "images" and "feature_cache" not in whole["timing"]
    assert whole["cost"]["trainable_params"] == 1024 + 1
    assert not (tmp_path / "cache" / "features").exists()
    assert tr["augmentation"] == {"rotation": 10.0, "hflip": True, "brightness": 0.1,
                                  "contrast": 0.2}
    counts = whole["data"]["counts"]["train"]
    assert tr["class_weight"] == pytest.approx({"0": sum(counts) / (2 * counts[0]),
                                                "1": sum(counts) / (2 * counts[1])})
    for split in ("val", "test"):
        pr = whole["predictions"][split]
        assert len(pr["probs_plain"]) == len(pr["probs"]) and pr["probs_plain"] != pr["probs"]
        assert set(whole["metrics_plain"][split]) == set(whole["metrics"][split])
    for key in set(NEW) - {"unfreeze_layers"}:  # set: recorded in the params (identity)
        assert key in whole["params"], key
    state, _ = assert_resumes_like(whole, params, tmp_path / "b")  # killed after epoch 1
    assert state["callbacks"]["lr_wait"] is None


@needs_data
def test_constant_schedule_with_top_layers_unfrozen(tmp_path) -> None:
    """constant: no ReduceLROnPlateau, the lr never moves; unfreeze_layers=7 trains the top two
    convolutions (conv_dw_13, conv_pw_13; their BatchNorm stays frozen) and the head."""
    from helpers.training import run_training

    rec = run_training({**TINY, "regime": "partial", "unfreeze_layers": 7, "epochs": 2,
                        "lr_schedule": "constant", "output_dir": str(tmp_path)},
                       verbose=0, measure=False)
    assert rec["history"]["lr"] == pytest.approx([1e-3, 1e-3], rel=1e-6)
    assert rec["params"]["unfreeze_layers"] == 7 and rec["params"]["unfreeze_blocks"] is None
    assert rec["cost"]["trainable_params"] == 3 * 3 * 1024 + 1024 * 1024 + 1024 + 1
    assert "metrics_plain" not in rec and rec["training"]["metrics"] == "plain"


JAX_SCRIPT = """
import importlib.abc, json, sys

class NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError("TensorFlow is blocked in this test")

sys.meta_path.insert(0, NoTensorFlow())
import keras
from helpers.training import run_training

params = json.loads(sys.argv[2])
rec = run_training({**params, "output_dir": sys.argv[1]}, verbose=0, measure=False)
print("RESULT " + json.dumps({"backend": keras.backend.backend(), "lr": rec["history"]["lr"],
                              "training": rec["training"], "tf": "tensorflow" in sys.modules,
                              "plain": rec["metrics_plain"]["test"]["n"]}))
"""


@needs_data
@needs_weights
def test_part2_features_run_on_jax_without_tensorflow(tmp_path) -> None:
    """Augmentation (NumPy), class weights, the cosine callback and TTA need no TensorFlow."""
    pytest.importorskip("jax")
    import subprocess
    import sys

    params = {**TINY, "regime": "frozen", "weights": "imagenet", "epochs": 2,
              "lr_schedule": "cosine", "aug_rotation": 5.0, "aug_hflip": True,
              "class_weight": "balanced", "tta": 2}
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "RESBOOK_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", JAX_SCRIPT, str(tmp_path / "out"),
                           json.dumps(params)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(s for s in proc.stdout.splitlines() if s.startswith("RESULT "))
    out = json.loads(line[len("RESULT "):])
    assert out["backend"] == "jax" and not out["tf"]
    assert out["lr"] == pytest.approx([1e-3, 5e-4], rel=1e-6)
    assert out["training"]["metrics"] == "tta" and out["training"]["class_weight"] is not None
    assert out["plain"] == 16
