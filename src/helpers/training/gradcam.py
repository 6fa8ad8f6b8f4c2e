"""Grad-CAM heat maps and where their mass lies (Part II, chest X-rays).

:func:`gradcam` computes Grad-CAM (Selvaraju et al., ICCV 2017) for a model from
:func:`helpers.training.models.build_model`: the gradient of the class score with respect to a feature
map of the base, averaged over space, weights that map's channels; the weighted sum, rectified,
is upsampled (bilinear) to the input size and scaled to [0, 1] per image.

* The score is the output unit's *logit* (before the sigmoid), so a saturated probability
  does not flatten the map; ``positive=False`` explains the other class (minus the logit).
* The layer: by default the base's last 4-D feature map, i.e. the output of its last
  convolution block after BatchNorm and activation (``conv_pw_13_relu`` in MobileNet,
  ``out_relu`` in MobileNetV2, ``conv5_block3_out`` in ResNet50), the usual Grad-CAM choice;
  ``layer=`` names another layer of the base (e.g. ``"conv_pw_13"``).
* The base is a nested ``keras.Model`` named ``"base"``: a sub-model of the base returns the
  chosen map *and* the base's output from one forward pass, and the layers before and after the
  base are applied around it, so the tape sees the path from the map to the score (taking the
  gradient through the outer model with respect to an inner layer's symbolic output does not).
* **TensorFlow backend only** (``tf.GradientTape``); other backends raise
  ``NotImplementedError``.

:func:`mass_share` is the share of a heat map's mass inside a mask; :func:`lung_field_mask` is a
crude, documented approximation of where the lungs lie on a centred frontal chest X-ray, and
:func:`corner_mask` / :func:`quadrant_mask` mark the borders and corners where labels, markers
and scanner text (shortcut features) usually sit.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

CORNERS = ("tl", "tr", "bl", "br")


def _layers_around_base(model):
    """(layers before the base, the base, layers after it) of a build_model-like chain."""
    import keras

    chain = [la for la in model.layers if not isinstance(la, keras.layers.InputLayer)]
    names = [la.name for la in chain]
    if "base" not in names:
        raise ValueError(f"model {model.name!r} has no nested model named 'base' (layers {names})")
    i = names.index("base")
    return chain[:i], chain[i], chain[i + 1:]


def feature_layer(model, layer: str | None = None) -> str:
    """The base layer Grad-CAM uses: ``layer`` when given (checked), else the last 4-D map."""
    import keras

    base = model.get_layer("base")
    if layer is not None:
        try:
            out = base.get_layer(layer).output
        except ValueError as exc:
            raise ValueError(f"layer={layer!r} is not a layer of the base") from exc
        if len(out.shape) != 4:
            raise ValueError(f"layer={layer!r} has output shape {out.shape}: Grad-CAM needs a "
                             "4-D feature map (batch, height, width, channels)")
        return layer
    for la in reversed(base.layers):
        if not isinstance(la, keras.layers.InputLayer) and len(la.output.shape) == 4:
            return la.name
    raise ValueError("the base has no 4-D feature map")


def gradcam(model, images, layer: str | None = None, *, positive: bool = True,
            batch_size: int = 32) -> np.ndarray:
    """Grad-CAM heat maps ``(N, H, W)`` in [0, 1] for images ``(N, H, W, 3)`` in [0, 255].

    ``model`` is a :func:`helpers.training.models.build_model` model (preprocessing inside); ``layer``
    a layer of its base (default :func:`feature_layer`). An image whose map is zero everywhere
    (no positive evidence) gets zeros. TensorFlow backend only.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise NotImplementedError(
            f"gradcam needs the TensorFlow backend (KERAS_BACKEND={keras.backend.backend()!r})")
    import tensorflow as tf

    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must be (N, H, W, C), got shape {images.shape}")
    before, base, after = _layers_around_base(model)
    name = feature_layer(model, layer)
    inner = keras.Model(base.inputs, [base.get_layer(name).output, base.output])
    out_layer = after[-1]
    linear = isinstance(out_layer, keras.layers.Dense)
    sign = 1.0 if positive else -1.0
    h, w = images.shape[1:3]
    maps = []
    for start in range(0, len(images), batch_size):
        x = tf.convert_to_tensor(images[start:start + batch_size], dtype=tf.float32)
        with tf.GradientTape() as tape:
            t = x
            for la in before:
                t = la(t)
            conv, t = inner(t)
            for la in after[:-1]:
                t = la(t)
            if linear:  # the logit: the output Dense without its sigmoid
                t = tf.cast(t, tf.float32)
                z = tf.matmul(t, tf.cast(out_layer.kernel, tf.float32))
                z = z + tf.cast(out_layer.bias, tf.float32) if out_layer.use_bias else z
            else:
                z = tf.cast(out_layer(t), tf.float32)
            score = sign * tf.reduce_sum(z[:, 0])  # images are independent: one sum, one tape
        grads = tf.cast(tape.gradient(score, conv), tf.float32)
        conv = tf.cast(conv, tf.float32)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * conv, axis=-1))[..., None]
        cam = tf.image.resize(cam, (h, w), method="bilinear")[..., 0]
        peak = tf.reduce_max(cam, axis=(1, 2), keepdims=True)
        cam = tf.math.divide_no_nan(cam, peak)
        maps.append(np.clip(cam.numpy(), 0.0, 1.0).astype(np.float32))
    return np.concatenate(maps) if maps else np.zeros((0, h, w), np.float32)


def mass_share(heatmap, mask) -> float | np.ndarray:
    """Share of the heat map's mass inside ``mask`` (NaN for an all-zero map).

    ``heatmap`` (H, W) gives a float; (N, H, W) gives one share per map. ``mask`` is a boolean
    (H, W) array, e.g. :func:`lung_field_mask` or :func:`corner_mask`.
    """
    h = np.asarray(heatmap, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    if h.shape[-2:] != m.shape:
        raise ValueError(f"heatmap {h.shape} and mask {m.shape} differ in size")
    if np.any(h < 0):
        raise ValueError("heat maps must be non-negative")
    total = h.sum(axis=(-2, -1))
    inside = (h * m).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, inside / np.where(total > 0, total, 1.0), np.nan)
    return float(share) if share.ndim == 0 else share


def lung_field_mask(resolution: int, width: float = 0.7, height: float = 0.8) -> np.ndarray:
    """Central ellipse, ``width`` × ``height`` of the image, as a boolean (s, s) mask.

    An **approximation**, not a segmentation: on a centred frontal chest X-ray (Kermany et al.,
    resized to a square) the two lung fields and the heart lie roughly inside the central 70 %
    of the width and 80 % of the height, while the corners and borders hold the shoulders,
    labels, side markers and scanner text. Use it to ask how much of a heat map falls on the
    chest rather than on the edges, not to measure anatomy.
    """
    s = int(resolution)
    yy, xx = np.mgrid[0:s, 0:s]
    c = (s - 1) / 2.0
    a, b = width * s / 2.0, height * s / 2.0
    return ((xx - c) / a) ** 2 + ((yy - c) / b) ** 2 <= 1.0


def corner_mask(resolution: int, fraction: float = 0.2,
                corners: Iterable[str] = CORNERS) -> np.ndarray:
    """Squares of side ``fraction`` × s in the chosen corners (``tl``, ``tr``, ``bl``, ``br``)."""
    s, k = int(resolution), max(1, round(fraction * int(resolution)))
    m = np.zeros((s, s), dtype=bool)
    for c in corners:
        if c not in CORNERS:
            raise ValueError(f"corner {c!r}: expected one of {CORNERS}")
        rows = slice(0, k) if c[0] == "t" else slice(s - k, s)
        cols = slice(0, k) if c[1] == "l" else slice(s - k, s)
        m[rows, cols] = True
    return m


def quadrant_mask(resolution: int, which: str) -> np.ndarray:
    """One quadrant (``tl``, ``tr``, ``bl``, ``br``) of an s × s image."""
    return corner_mask(resolution, 0.5, [which])
