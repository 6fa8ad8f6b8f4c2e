"""helpers.training.models and helpers.training.weights: architectures, preprocessing, weights, regimes."""

from __future__ import annotations

import json
import os
import urllib.error
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras")

from helpers.training import models, weights  # noqa: E402

WEIGHTS_DIR = os.environ.get("RESBOOK_WEIGHTS_DIR", "").strip()
needs_weights = pytest.mark.skipif(
    not WEIGHTS_DIR, reason="RESBOOK_WEIGHTS_DIR is unset: no local ImageNet weights to load"
)


def _pixels(n: int, s: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, s, s, 3)).astype("float32")


@pytest.mark.parametrize("name", models.MODELS)
@pytest.mark.parametrize("size", [32, 64])
def test_build_random_init(name, size):
    m = models.build_model(name, size, weights=None)
    assert m.input_shape == (None, size, size, 3)
    assert m.output_shape == (None, 1)
    assert [m.layers[i].name for i in (-3, -2, -1)] == ["gap", "dropout", "output"]
    assert m.get_layer("dropout").rate == 0.5
    p = np.asarray(m.predict_on_batch(_pixels(2, size)))
    assert p.shape == (2, 1) and np.all((p >= 0) & (p <= 1))


def _first_kernel(model) -> np.ndarray:
    return np.asarray(next(v for v in model.get_layer("base").weights if "kernel" in v.path))


@needs_weights
@pytest.mark.parametrize("name", models.MODELS)
def test_local_weights_by_path_and_by_folder(name, recwarn):
    size = 64 if name == "mobilenet" else 32  # MobileNet: 224-trained weights at another size
    path = Path(WEIGHTS_DIR) / weights.WEIGHT_FILES[name]
    by_path = _first_kernel(models.build_model(name, size, weights=str(path)))
    by_dir = _first_kernel(models.build_model(name, size, weights="imagenet",
                                              weights_dir=WEIGHTS_DIR))
    random = _first_kernel(models.build_model(name, size, weights=None))
    np.testing.assert_array_equal(by_path, by_dir)
    assert not np.allclose(by_path, random)
    with h5py_file(path) as h5:  # the stored kernel is what the model holds
        assert any(np.array_equal(by_path, k) for k in h5)
    assert not [w for w in recwarn if "input_shape" in str(w.message)]


def h5py_file(path: Path):
    """All datasets of an .h5 weights file, as arrays (context manager)."""
    import contextlib

    h5py = pytest.importorskip("h5py")

    @contextlib.contextmanager
    def opened():
        with h5py.File(path, "r") as f:
            arrays = []
            f.visititems(lambda _n, o: arrays.append(o[()]) if isinstance(o, h5py.Dataset)
                         else None)
            yield arrays

    return opened()


@needs_weights
def test_weights_sha256_is_recorded_and_cached(tmp_path, monkeypatch):
    monkeypatch.setattr(weights, "_HASH_MEMO", {})
    r = weights.resolve_weights("mobilenet", "imagenet", WEIGHTS_DIR)
    assert r.source == "local" and r.path.name == "mobilenet_1_0_224_tf_no_top.h5"
    prov = weights.weights_provenance("mobilenet", r, 128, cache_dir=tmp_path)
    assert prov["weights_file"] == "mobilenet_1_0_224_tf_no_top.h5"
    assert prov["weights_sha256"] == (
        "7dee85589794aa9f80808ffa5c319135f5b3107a10c63c0c9e60e3e6560ee937")
    store = tmp_path / "weights_sha256.json"
    table = json.loads(store.read_text())
    assert list(table.values()) == [prov["weights_sha256"]]
    # a second process (empty memo) reads the hash from the cache file instead of re-hashing
    store.write_text(json.dumps({k: "cached-digest" for k in table}))
    monkeypatch.setattr(weights, "_HASH_MEMO", {})
    assert weights.file_sha256(r.path, cache_dir=tmp_path) == "cached-digest"


def test_missing_local_file_names_the_file_and_variable(tmp_path):
    with pytest.raises(weights.WeightsUnavailableError) as e:
        weights.resolve_weights("resnet50", "imagenet", tmp_path)
    msg = str(e.value)
    assert "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5" in msg
    assert "RESBOOK_WEIGHTS_DIR" in msg


def test_offline_imagenet_error(monkeypatch, tmp_path):
    """No weights folder and no internet → a clear error saying what to configure."""
    from keras.src.backend import config as kconfig
    from keras.src.utils import file_utils

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.delenv("RESBOOK_WEIGHTS_DIR", raising=False)
    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    monkeypatch.setattr(kconfig, "keras_home", lambda: str(tmp_path))  # empty Keras cache
    with pytest.raises(weights.WeightsUnavailableError) as e:
        models.build_model("mobilenet", 32, weights="imagenet")
    msg = str(e.value)
    assert "RESBOOK_WEIGHTS_DIR" in msg and "mobilenet_1_0_224_tf_no_top.h5" in msg
    assert "offline" in msg


def test_bad_arguments():
    with pytest.raises(ValueError, match="expected one of"):
        models.build_model("vgg", 64)
    with pytest.raises(ValueError, match=">= 32"):
        models.build_model("mobilenet", 16)
    with pytest.raises(ValueError, match="preprocessing"):
        models.build_model("mobilenet", 64, preprocessing="imagenet")
    with pytest.raises(weights.WeightsUnavailableError, match="not found"):
        models.build_model("mobilenet", 64, weights="/nonexistent/file.h5")


def test_preprocessing_layer_matches_keras_preprocess_input():
    x = _pixels(3, 8, seed=1)
    for family, ref in (
        ("mobilenet", keras.applications.mobilenet.preprocess_input),
        ("mobilenetv2", keras.applications.mobilenet_v2.preprocess_input),
        ("resnet50", keras.applications.resnet50.preprocess_input),
    ):
        got = np.asarray(models.Preprocess("native", family)(x))
        np.testing.assert_allclose(got, ref(x.copy()), rtol=1e-6, atol=1e-4)
        unit = np.asarray(models.Preprocess("unit", family)(x))
        np.testing.assert_allclose(unit, x / 255.0, rtol=1e-6)


def test_saved_model_roundtrip_keeps_preprocessing(tmp_path):
    m = models.build_model("resnet50", 32, weights=None, preprocessing="native")
    x = _pixels(2, 32)
    path = tmp_path / "m.keras"
    m.save(path)
    m2 = keras.models.load_model(path)
    assert m2.get_layer("preprocess").mode == "native"
    np.testing.assert_allclose(m2.predict_on_batch(x), m.predict_on_batch(x), rtol=1e-5)


def test_regimes_and_blocks():
    m = models.build_model("resnet50", 32, weights=None)
    assert models.blocks(m)[:3] == ["conv5_block03", "conv5_block02", "conv5_block01"]
    models.set_regime(m, "frozen")
    assert len(m.trainable_weights) == 2  # Dense kernel + bias
    chosen = models.unfreeze_top_blocks(m, 2)
    assert chosen == ["conv5_block03", "conv5_block02"]
    base = m.get_layer("base")
    trainable = {layer.name for layer in base.layers if layer.trainable and layer.weights}
    assert trainable and all(n.startswith(("conv5_block3", "conv5_block2")) for n in trainable)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) and layer.trainable
                   for layer in base.layers)
    models.set_regime(m, "full")
    assert len(m.trainable_weights) > 100
    with pytest.raises(ValueError, match="1..16"):
        models.unfreeze_top_blocks(m, 17)
    mb = models.build_model("mobilenet", 32, weights=None)
    assert models.blocks(mb)[0] == "block13" and len(models.blocks(mb)) == 13
    names = {layer.name for layer in mb.get_layer("base").layers if layer.trainable
             and layer.weights} if models.unfreeze_top_blocks(mb, 1) else set()
    assert names == {"conv_dw_13", "conv_pw_13"}
