"""Keras applications with the paper's head, preprocessing inside the model (training chapter).

Every model takes float pixels in [0, 255] of shape (s, s, 3) and returns P(class 1):

    Input → Preprocess → base (keras.applications, include_top=False) → GlobalAveragePooling2D
          → Dropout(0.5) → Dense(1, sigmoid)

The preprocessing is a layer, so a saved ``.keras`` model is self-contained:

* ``"unit"``: x / 255 (what the paper describes);
* ``"native"``: the architecture's own ``preprocess_input`` re-written with ``keras.ops``
  (MobileNet/MobileNetV2: x / 127.5 − 1; ResNet50 "caffe": RGB→BGR, minus the ImageNet means).

Only ``keras.ops`` is used here (no TensorFlow import), so the same code runs on any Keras
backend (e.g. ``KERAS_BACKEND=jax`` on a GPU machine).

Training regimes (see :func:`set_regime`): ``full`` (every layer trainable, the paper's),
``frozen`` (the ImageNet base fixed; only the head learns) and ``partial`` (the top *n* blocks of
the base trainable; see :data:`BLOCK_DOC`). In ``partial`` all BatchNormalization layers stay
frozen, and a frozen BatchNormalization layer in Keras 3 runs in inference mode (it uses its
ImageNet moving statistics), which is the usual fine-tuning recipe for small medical data sets.
"""

from __future__ import annotations

import os
import re
import warnings

import keras
from keras import layers, ops

from helpers.model_names import (  # the names live there, importable without Keras
    BLOCK_DOC,
    MIN_RESOLUTION,
    MODELS,
    PREPROCESSING,
    REGIMES,
)
from helpers.training.weights import (
    WEIGHT_FILES,
    is_download_failure,
    offline_error,
    resolve_weights,
)

#: ImageNet channel means in BGR order (Keras "caffe" mode).
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="resbook")
class Preprocess(layers.Layer):
    """Pixel preprocessing as a backend-agnostic layer (training chapter)."""

    def __init__(self, mode: str = "unit", family: str = "mobilenet", **kwargs):
        super().__init__(**kwargs)
        if mode not in PREPROCESSING:
            raise ValueError(f"preprocessing={mode!r}: expected one of {PREPROCESSING}")
        if family not in MODELS:
            raise ValueError(f"model={family!r}: expected one of {MODELS}")
        self.mode = mode
        self.family = family

    def call(self, x):
        x = ops.cast(x, self.compute_dtype)
        if self.mode == "unit":
            return x / 255.0
        if self.family in ("mobilenet", "mobilenetv2"):
            return x / 127.5 - 1.0
        x = ops.flip(x, axis=-1)  # RGB → BGR
        mean = ops.convert_to_tensor(_CAFFE_MEAN_BGR, dtype=self.compute_dtype)
        return x - mean

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "family": self.family}


def _check(model_name: str, resolution: int, preprocessing: str) -> None:
    if model_name not in MODELS:
        raise ValueError(f"model={model_name!r}: expected one of {list(MODELS)}")
    if not isinstance(resolution, int) or isinstance(resolution, bool) or resolution < MIN_RESOLUTION:
        raise ValueError(f"resolution={resolution!r}: expected an int >= {MIN_RESOLUTION}")
    if preprocessing not in PREPROCESSING:
        raise ValueError(f"preprocessing={preprocessing!r}: expected one of {list(PREPROCESSING)}")


def _application(model_name: str):
    return {
        "mobilenet": keras.applications.MobileNet,
        "mobilenetv2": keras.applications.MobileNetV2,
        "resnet50": keras.applications.ResNet50,
    }[model_name]


def load_base(
    model_name: str,
    resolution: int,
    *,
    weights: str | os.PathLike[str] | None = None,
    weights_dir: str | os.PathLike[str] | None = None,
) -> keras.Model:
    """The bare ``keras.applications`` base (include_top=False) with resolved weights (training chapter)."""
    _check(model_name, resolution, "unit")
    resolved = resolve_weights(model_name, weights, weights_dir)
    kwargs = {"include_top": False, "weights": resolved.keras_arg,
              "input_shape": (resolution, resolution, 3)}
    if model_name in ("mobilenet", "mobilenetv2"):
        kwargs["alpha"] = 1.0
    with warnings.catch_warnings():
        # MobileNet warns that its 224-trained weights are used for other sizes: intended.
        warnings.filterwarnings("ignore", message=r".*input_shape.*")
        warnings.filterwarnings("ignore", message=r".*rows.*not in.*")
        try:
            base = _application(model_name)(**kwargs)
        except Exception as exc:  # a failed download surfaces as a bare Exception in Keras
            if resolved.source == "keras-download" and is_download_failure(exc):
                raise offline_error(model_name, exc) from exc
            if resolved.path is not None:
                raise ValueError(
                    f"Could not load the weights file {resolved.path} into {model_name!r} "
                    f"(expected {WEIGHT_FILES[model_name]!r} or an equivalent no-top file): {exc}"
                ) from exc
            raise
    base.name = "base"
    return base


def build_model(
    model_name: str,
    resolution: int,
    *,
    weights: str | os.PathLike[str] | None = None,
    weights_dir: str | os.PathLike[str] | None = None,
    preprocessing: str = "unit",
    dropout: float = 0.5,
) -> keras.Model:
    """Preprocess → ImageNet base → GAP → Dropout → Dense(1, sigmoid) (training chapter)."""
    _check(model_name, resolution, preprocessing)
    base = load_base(model_name, resolution, weights=weights, weights_dir=weights_dir)
    inputs = keras.Input(shape=(resolution, resolution, 3), name="pixels")
    x = Preprocess(preprocessing, model_name, name="preprocess")(inputs)
    x = base(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    # float32 output under any policy: bf16 probabilities would round to 3 significant digits
    outputs = layers.Dense(1, activation="sigmoid", name="output", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=f"{model_name}_{resolution}_{preprocessing}")


def base_model(model: keras.Model) -> keras.Model:
    """The part of a :func:`build_model` model up to the pooled features (training chapter)."""
    return keras.Model(model.inputs, model.get_layer("gap").output, name=f"{model.name}_features")


def head_model(model: keras.Model) -> keras.Model:
    """Features → Dropout → Dense, sharing the head layers of a :func:`build_model` model (training chapter)."""
    dim = model.get_layer("gap").output.shape[-1]
    feats = keras.Input(shape=(dim,), name="features")
    x = model.get_layer("dropout")(feats)
    out = model.get_layer("output")(x)
    return keras.Model(feats, out, name=f"{model.name}_head")


def _block_key(model_name: str, layer_name: str) -> str | None:
    """Block id of a base layer, or None for stem layers that are never unfrozen."""
    if model_name == "mobilenet":
        m = re.match(r"conv_(?:dw|pw|pad)_(\d+)(?:_|$)", layer_name)
        return f"block{int(m.group(1)):02d}" if m else None
    if model_name == "mobilenetv2":
        if layer_name.startswith(("Conv_1", "out_relu")):
            return "block16"
        m = re.match(r"block_(\d+)_", layer_name)
        if m:
            return f"block{int(m.group(1)):02d}"
        return "block00" if layer_name.startswith("expanded_conv") else None
    m = re.match(r"conv(\d)_block(\d+)_", layer_name)
    return f"conv{m.group(1)}_block{int(m.group(2)):02d}" if m else None


def model_family(model: keras.Model) -> str:
    """Architecture name of a :func:`build_model` model, from its preprocessing layer (training chapter)."""
    return model.get_layer("preprocess").family


def blocks(model: keras.Model) -> list[str]:
    """Block ids of the base, top block first (training chapter)."""
    model_name = model_family(model)
    base = model.get_layer("base")
    keys = {k for layer in base.layers if (k := _block_key(model_name, layer.name))}
    return sorted(keys, reverse=True)


def set_regime(model: keras.Model, regime: str, unfreeze_blocks: int = 0, *,
               unfreeze_layers: int | None = None) -> None:
    """Set trainable flags for ``full`` / ``frozen`` / ``partial`` (training chapter).

    ``partial`` takes either ``unfreeze_blocks`` or ``unfreeze_layers`` (top layers of the base,
    :func:`unfreeze_top_layers`); BatchNormalization stays frozen either way.
    """
    if regime not in REGIMES:
        raise ValueError(f"regime={regime!r}: expected one of {list(REGIMES)}")
    base = model.get_layer("base")
    if regime in ("full", "frozen"):
        base.trainable = True  # explicit per layer: an earlier partial regime set some False
        for layer in base.layers:
            layer.trainable = regime == "full"
        base.trainable = regime == "full"
    elif unfreeze_layers:
        if unfreeze_blocks:
            raise ValueError("give unfreeze_blocks or unfreeze_layers, not both")
        unfreeze_top_layers(model, unfreeze_layers)
    else:
        unfreeze_top_blocks(model, unfreeze_blocks)


def unfreeze_top_blocks(model: keras.Model, n: int) -> list[str]:
    """Make the top ``n`` blocks of the base trainable, BatchNorm kept frozen (training chapter)."""
    model_name = model_family(model)
    available = blocks(model)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= len(available):
        raise ValueError(
            f"unfreeze_blocks={n!r}: expected an int in 1..{len(available)} for {model_name} "
            f"(a block is {BLOCK_DOC[model_name]})"
        )
    chosen = set(available[:n])
    base = model.get_layer("base")
    base.trainable = True
    for layer in base.layers:
        is_bn = isinstance(layer, layers.BatchNormalization)
        layer.trainable = (not is_bn) and _block_key(model_name, layer.name) in chosen
    return sorted(chosen, reverse=True)


def unfreeze_top_layers(model: keras.Model, n: int) -> list[str]:
    """Make the top ``n`` layers of the base trainable, BatchNorm kept frozen (training chapter).

    A layer is one entry of ``base.layers`` after the input layer (convolutions, BatchNorm,
    activations, padding and adds all count, as in "unfreeze the top N layers" of Keras
    fine-tuning recipes); see :data:`helpers.model_names.LAYER_COUNTS`. Returns the names of the
    top ``n`` layers, top first (the BatchNorm among them stay frozen, as with blocks).
    """
    base = model.get_layer("base")
    stack = [layer for layer in base.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= len(stack):
        raise ValueError(f"unfreeze_layers={n!r}: expected an int in 1..{len(stack)} for "
                         f"{model_family(model)}")
    chosen = {id(layer) for layer in stack[-n:]}
    base.trainable = True
    for layer in base.layers:
        is_bn = isinstance(layer, layers.BatchNormalization)
        layer.trainable = (not is_bn) and id(layer) in chosen
    return [layer.name for layer in reversed(stack[-n:])]
