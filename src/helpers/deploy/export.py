"""Keras model → LiteRT (TensorFlow Lite) flatbuffer in five numeric formats (deployment chapter).

The model keeps its ``Preprocess`` layer, so every exported file takes **raw RGB pixels**:

=================  ====================  ==================  =========================================
format             weights               activations         input / output
=================  ====================  ==================  =========================================
``float32``        float32               float32             float32 pixels 0..255 / float32 P(class 1)
``float16``        float16 (dequantised  float32             float32 pixels / float32 P
                   to float32 at load)
``dynamic_int8``   int8 (per channel)    float32, int8 on    float32 pixels / float32 P
                                         the fly in matmuls
``int8``           int8                  int8 (calibrated    **uint8** pixels / **float32** P
                                         on training images)
``int8_logit``     int8                  int8 (as ``int8``)  **uint8** pixels / **float32 logit**;
                                                             the sigmoid runs in float after it
=================  ====================  ==================  =========================================

Full-integer ``int8``: the converter calibrates every activation range on a *representative
dataset* (:func:`representative_sample`: a seeded sample of training images at the model's
resolution). The input is quantised to uint8 with the scale and zero point that calibration found
for the float pixels; on images that span 0..255 that is scale 1, zero point 0, i.e. the raw
pixels (the runtime reads the parameters and converts anyway, :class:`helpers.deploy.runtime.
LiteRTModel`). The output is **float32**: the converter appends a Dequantize op after the int8
sigmoid, whose fixed output scale is 1/256, so int8 probabilities take at most 256 distinct values
(ties in the ROC curve, see the deployment chapter). A confident model puts most test images in
the last of those steps, so its int8 ranking collapses: ``int8_logit`` is the same full-integer
model without the final sigmoid (:func:`logit_model`). Its int8 output is the logit, whose scale
is calibrated on the representative images like every other activation, and the runtime applies
the sigmoid in float (:class:`helpers.deploy.runtime.LiteRTModel` with ``output="logit"``): the
cost is one float exp per image.

Conversion path (TF 2.21, Keras 3): ``model.export(format="tf_saved_model")`` with a batch-1
``input_signature`` named ``pixels``, then ``tf.lite.TFLiteConverter.from_saved_model``. The
``Preprocess`` layer is plain ``keras.ops`` arithmetic (divide/subtract, a channel flip for
ResNet's "caffe" mode) and converts to builtin ops (``MUL``/``SUB``/``REVERSE_V2``), quantised in
int8 like any other op. ``tf.lite.TFLiteConverter.from_concrete_functions`` on a Keras 3 model
silently drops the variables (a 100 kB file that outputs NaN), so it is not used.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

FORMATS: tuple[str, ...] = ("float32", "float16", "dynamic_int8", "int8", "int8_logit")
"""The LiteRT numeric formats :func:`to_litert` writes."""

FULL_INT8: frozenset[str] = frozenset({"int8", "int8_logit"})
"""Formats calibrated on representative images (every activation in int8)."""


def output_kind(fmt: str) -> str:
    """``"logit"`` for a format whose file outputs the logit (:func:`logit_model`), else
    ``"probability"``; :class:`helpers.deploy.runtime.LiteRTModel` takes it as ``output``."""
    return "logit" if fmt == "int8_logit" else "probability"


def logit_model(model, head: str = "output"):
    """``model`` with its sigmoid head replaced by a linear layer of the same weights.

    The book's models end in ``Dense(1, sigmoid)`` named ``output`` (:func:`helpers.training.models.
    build_model`); the returned model outputs that layer's logit. Ranking, hence AUC, is the
    same in float; in full int8 the logit keeps its resolution where the sigmoid saturates.
    """
    import keras

    layer = model.get_layer(head)
    if getattr(layer, "units", None) != 1 or \
            keras.activations.serialize(layer.activation) != "sigmoid":
        raise ValueError(f"layer {head!r} is not a Dense(1, sigmoid) head: {layer}")
    linear = keras.layers.Dense(1, name="logit", dtype="float32")
    out = linear(layer.input)
    linear.set_weights(layer.get_weights())
    return keras.Model(model.inputs, out, name=f"{model.name}_logit")


def representative_sample(images: np.ndarray, n: int = 200, seed: int = 0) -> np.ndarray:
    """A seeded sample of ``n`` images (without replacement; all if fewer) for int8 calibration.

    Pass TRAINING images at the model's resolution (uint8 or float, 0..255); the order of the
    returned images follows the sorted sample indices, so the same (images, n, seed) always give
    the same calibration.
    """
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"images must have shape (N, H, W, 3); got {x.shape}")
    if len(x) == 0:
        raise ValueError("representative_sample needs at least one image")
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(x), size=min(n, len(x)), replace=False))
    return x[idx]


def _input_shape(model) -> tuple[int, int, int]:
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or any(s is None for s in shape):
        raise ValueError(f"model input must be (H, W, C) with known sizes; got {shape}")
    return tuple(int(s) for s in shape)  # type: ignore[return-value]


def _representative_gen(images: np.ndarray):
    x = np.asarray(images, dtype=np.float32)

    def gen() -> Iterable[list[np.ndarray]]:
        for i in range(len(x)):
            yield [x[i : i + 1]]

    return gen


def saved_model(model, folder: str | os.PathLike[str]) -> Path:
    """Export ``model`` as a TF SavedModel with one batch-1 float32 input named ``pixels``."""
    import tensorflow as tf

    h, w, c = _input_shape(model)
    spec = tf.TensorSpec((1, h, w, c), tf.float32, name="pixels")
    folder = Path(folder)
    with contextlib.redirect_stdout(io.StringIO()):  # the export prints its signature
        model.export(str(folder), format="tf_saved_model", verbose=False, input_signature=[spec])
    return folder


def _policy_names(config: Any) -> Iterable[str]:
    """Every dtype-policy name in a (nested) Keras config."""
    if isinstance(config, dict):
        if config.get("class_name") in ("DTypePolicy", "FloatDTypePolicy") and isinstance(
                config.get("config"), dict):
            yield str(config["config"].get("name"))
        for value in config.values():
            yield from _policy_names(value)
    elif isinstance(config, list):
        for value in config:
            yield from _policy_names(value)


def _to_float32(config: Any) -> Any:
    if isinstance(config, dict):
        if config.get("class_name") in ("DTypePolicy", "FloatDTypePolicy") and isinstance(
                config.get("config"), dict):
            return {**config, "config": {**config["config"], "name": "float32"}}
        return {k: _to_float32(v) for k, v in config.items()}
    if isinstance(config, list):
        return [_to_float32(v) for v in config]
    return config


def float32_copy(model):
    """``model`` itself if it computes in float32, else a float32 twin with the same weights.

    A model trained with ``precision: mixed_bfloat16`` keeps float32 weights but computes in
    bfloat16, which LiteRT's converter cannot translate; its twin, rebuilt from the same config
    with every dtype policy set to float32, runs the same network in float32 (deployment
    chapter: kept models of bf16 runs).
    """
    import helpers.training.models  # noqa: F401 - registers the custom layers for from_config

    config = model.get_config()
    if all(name == "float32" for name in _policy_names(config)):
        return model
    twin = model.__class__.from_config(_to_float32(config))
    twin.set_weights(model.get_weights())
    return twin


def to_litert(model, fmt: str, representative: np.ndarray | None = None) -> bytes:
    """The ``model`` converted to a LiteRT flatbuffer in format ``fmt`` (one of :data:`FORMATS`).

    ``representative`` (images, N×H×W×3, uint8 or float 0..255) is required for the full-int8
    formats (:data:`FULL_INT8`) and ignored otherwise; see :func:`representative_sample`. A
    mixed-precision model is converted through its :func:`float32_copy`; ``int8_logit`` through
    its :func:`logit_model`. Returns the file's bytes.
    """
    import tensorflow as tf

    if fmt not in FORMATS:
        raise ValueError(f"fmt={fmt!r}: expected one of {list(FORMATS)}")
    model = float32_copy(model)
    if output_kind(fmt) == "logit":
        model = logit_model(model)
    if fmt in FULL_INT8:
        if representative is None or len(representative) == 0:
            raise ValueError(f"fmt={fmt!r} needs representative images (representative_sample)")
        rep = np.asarray(representative)
        if rep.shape[1:] != _input_shape(model):
            raise ValueError(f"representative images have shape {rep.shape[1:]}, the model takes "
                             f"{_input_shape(model)}")
    with tempfile.TemporaryDirectory(prefix="resbook-litert-") as d:
        conv = tf.lite.TFLiteConverter.from_saved_model(str(saved_model(model, Path(d) / "sm")))
        if fmt == "float16":
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
            conv.target_spec.supported_types = [tf.float16]
        elif fmt == "dynamic_int8":
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
        elif fmt in FULL_INT8:
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
            conv.representative_dataset = _representative_gen(rep)
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            conv.inference_input_type = tf.uint8
            conv.inference_output_type = tf.float32
        return bytes(conv.convert())


def write_litert(data: bytes, path: str | os.PathLike[str]) -> Path:
    """Write a flatbuffer atomically (temporary file + rename); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path
