"""helpers.training.gradcam: masks, mass shares, and Grad-CAM on a model whose answer is known."""

from __future__ import annotations

import os

import numpy as np
import pytest

from helpers.training.gradcam import corner_mask, lung_field_mask, mass_share, quadrant_mask

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def test_masks_and_mass_share() -> None:
    lung = lung_field_mask(100)
    assert lung.shape == (100, 100) and lung[50, 50] and not lung[0, 0] and not lung[99, 99]
    assert 0.40 < lung.mean() < 0.48  # pi/4 * 0.7 * 0.8 = 0.44
    corners = corner_mask(100, 0.2)
    assert corners.sum() == 4 * 20 * 20 and not (corners & lung).any()
    tl = quadrant_mask(10, "tl")
    assert tl[:5, :5].all() and tl.sum() == 25
    h = np.zeros((10, 10))
    h[:5, :5], h[9, 9] = 1.0, 25.0
    assert mass_share(h, tl) == pytest.approx(0.5)
    assert mass_share(np.stack([h, h]), tl) == pytest.approx([0.5, 0.5])
    assert np.isnan(mass_share(np.zeros((10, 10)), tl))
    with pytest.raises(ValueError, match="corner"):
        corner_mask(10, 0.2, ["top"])


def _corner_data(n: int, s: int, seed: int):
    """Class 1: a bright square in the top-left quadrant; class 0: none. Every image also has a
    grey distractor square in one of the other quadrants, so the map must pick the right one.
    (A globally pooled network cannot tell *where* a square is, only that it is there: the
    class is the square, and its place is what Grad-CAM has to recover.)"""
    rng = np.random.default_rng(seed)
    x = rng.integers(40, 90, (n, s, s, 3)).astype(np.uint8)
    y = np.arange(n) % 2
    k, half = s // 4, s // 2

    def square(i, qy, qx, value):
        r0 = qy * half + rng.integers(0, half - k + 1)
        c0 = qx * half + rng.integers(0, half - k + 1)
        x[i, r0:r0 + k, c0:c0 + k] = value

    for i in range(n):
        square(i, *[(0, 1), (1, 0), (1, 1)][rng.integers(3)], 150)
        if y[i]:
            square(i, 0, 0, 255)
    return x, y


def _tiny_cnn(s: int):
    """Input → Preprocess → base (a small nested CNN named 'base') → pool → Dropout → Dense.

    The layout of :func:`helpers.training.models.build_model`, with global *max* pooling: it learns "is
    there a 255 patch" in a few seconds, where average pooling dilutes an 8 × 8 patch.
    """
    import keras
    from keras import layers

    from helpers.training.models import Preprocess

    bi = keras.Input((s, s, 3))
    t = layers.Conv2D(16, 3, padding="same", activation="relu", name="c1")(bi)
    t = layers.MaxPooling2D(name="p1")(t)
    t = layers.Conv2D(32, 3, padding="same", activation="relu", name="c2")(t)
    base = keras.Model(bi, t, name="base")
    inp = keras.Input((s, s, 3), name="pixels")
    t = base(Preprocess("unit", "mobilenet", name="preprocess")(inp))
    t = layers.GlobalMaxPooling2D(name="gap")(t)  # presence of a bright patch
    t = layers.Dropout(0.5, name="dropout")(t)
    out = layers.Dense(1, activation="sigmoid", name="output")(t)
    return keras.Model(inp, out)


@pytest.mark.slow
def test_gradcam_finds_the_corner_that_decides_the_class() -> None:
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("gradcam is TensorFlow-only")
    from helpers.training.gradcam import feature_layer, gradcam

    keras.utils.set_random_seed(0)
    s = 32
    x, y = _corner_data(256, s, 0)
    model = _tiny_cnn(s)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x.astype("float32"), y, epochs=8, batch_size=32, verbose=0)
    xt, yt = _corner_data(64, s, 1)
    acc = float(np.mean((model.predict(xt.astype("float32"), verbose=0)[:, 0] > 0.5) == yt))
    assert acc > 0.9, acc
    assert feature_layer(model) == "c2"
    maps = gradcam(model, xt[yt == 1])
    assert maps.shape == (int((yt == 1).sum()), s, s)
    assert maps.min() >= 0 and maps.max() <= 1 and np.isclose(maps.max(), 1)
    shares = mass_share(maps, quadrant_mask(s, "tl"))
    assert np.nanmean(shares) > 0.5, shares
    # control: the map follows the evidence, not a fixed place (square moved to bottom-right)
    moved = gradcam(model, xt[yt == 1][:, ::-1, ::-1])
    assert np.nanmean(mass_share(moved, quadrant_mask(s, "br"))) > 0.5


def test_gradcam_on_a_build_model_network() -> None:
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        with pytest.raises(NotImplementedError):
            from helpers.training.gradcam import gradcam

            gradcam(None, np.zeros((1, 32, 32, 3)))
        return
    from helpers.training.gradcam import feature_layer, gradcam
    from helpers.training.models import build_model

    keras.utils.set_random_seed(0)
    model = build_model("mobilenet", 64, weights=None)
    assert feature_layer(model) == "conv_pw_13_relu"
    x = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3)).astype(np.uint8)
    maps = gradcam(model, x)
    assert maps.shape == (3, 64, 64) and maps.dtype == np.float32
    assert np.all((maps >= 0) & (maps <= 1))
    other = gradcam(model, x, layer="conv_pw_12_relu", positive=False)
    assert other.shape == (3, 64, 64)
    with pytest.raises(ValueError, match="not a layer"):
        gradcam(model, x, layer="nope")
