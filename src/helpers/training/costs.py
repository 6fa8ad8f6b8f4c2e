"""Multiply-accumulates, FLOPs, parameters and sizes of Keras conv nets (separable-cost chapter).

The paper's cost model (Howard et al. 2017, MobileNets) counts multiply-accumulate operations
(MACs) of convolutions: a standard ``D_K x D_K`` convolution from ``M`` to ``N`` channels whose
output feature map is ``D_F x D_F`` costs ``D_K² · M · N · D_F²`` MACs; the depthwise-separable
factorisation costs ``D_K² · M · D_F² + M · N · D_F²``. :func:`layer_costs` applies those
formulas (generalised to rectangular kernels and maps, strides, padding, groups and bias) to
every convolution and dense layer of a Keras model, and :func:`count_model_costs` sums them for
the run records. Only Keras APIs are used here, so everything except :func:`profiler_flops`
works on any Keras backend; the TensorFlow profiler is the independent cross-check.

Conventions: one MAC is one multiply plus one add, so ``flops = 2 * macs``. MACs count only
convolution and dense layers (bias adds, BatchNorm, activations and pooling are not MACs; the
profiler comparison in the chapter shows how small they are). Sizes in "MB" are decimal
(10⁶ bytes); "MiB" are 2²⁰ bytes.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import tempfile
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # keras is imported lazily so that importing this module stays cheap
    import keras

#: Columns of :func:`layer_costs`, in order.
LAYER_COLUMNS: tuple[str, ...] = (
    "name",
    "kind",
    "kernel",
    "stride",
    "padding",
    "use_bias",
    "M",
    "N",
    "in_h",
    "in_w",
    "out_h",
    "out_w",
    "macs",
    "params_formula",
    "params_keras",
)

#: Keys of :func:`count_model_costs` (the "cost" section of a run record).
COST_KEYS: tuple[str, ...] = ("macs", "flops", "params", "trainable_params", "size_mb_float32")

_UNITS = {"MB": 1e6, "MiB": float(2**20)}


def _positive_ints(*values: tuple[str, Any]) -> tuple[int, ...]:
    """Validate (name, value) pairs as positive integers (NumPy integers too) and return ints."""
    out = []
    for key, value in values:
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{key}={value!r}: expected a positive int")
        out.append(int(value))
    return tuple(out)


def standard_conv_cost(d_k: int, m: int, n: int, d_f: int) -> int:
    """MACs of a standard D_K×D_K conv, M→N channels, D_F×D_F output (separable-cost chapter)."""
    d_k, m, n, d_f = _positive_ints(("d_k", d_k), ("m", m), ("n", n), ("d_f", d_f))
    return d_k * d_k * m * n * d_f * d_f


def depthwise_conv_cost(d_k: int, m: int, d_f: int) -> int:
    """MACs of a depthwise D_K×D_K conv on M channels, D_F×D_F output (separable-cost chapter)."""
    d_k, m, d_f = _positive_ints(("d_k", d_k), ("m", m), ("d_f", d_f))
    return d_k * d_k * m * d_f * d_f


def pointwise_conv_cost(m: int, n: int, d_f: int) -> int:
    """MACs of a 1×1 conv, M→N channels, D_F×D_F output (separable-cost chapter)."""
    m, n, d_f = _positive_ints(("m", m), ("n", n), ("d_f", d_f))
    return m * n * d_f * d_f


def separable_conv_cost(d_k: int, m: int, n: int, d_f: int) -> int:
    """MACs of depthwise D_K×D_K + pointwise M→N at D_F×D_F output (separable-cost chapter)."""
    return depthwise_conv_cost(d_k, m, d_f) + pointwise_conv_cost(m, n, d_f)


def separable_ratio(d_k: int, n: int) -> float:
    """Separable / standard cost = 1/N + 1/D_K² (separable-cost chapter)."""
    d_k, n = _positive_ints(("d_k", d_k), ("n", n))
    return 1.0 / n + 1.0 / (d_k * d_k)


def conv_output_size(size: int, kernel: int, stride: int, padding: str, dilation: int = 1) -> int:
    """Output length of a conv along one axis for Keras 'same'/'valid' padding (separable-cost chapter)."""
    size, kernel, stride, dilation = _positive_ints(
        ("size", size), ("kernel", kernel), ("stride", stride), ("dilation", dilation)
    )
    if padding == "same":
        return math.ceil(size / stride)
    if padding == "valid":
        effective = dilation * (kernel - 1) + 1
        if effective > size:
            raise ValueError(f"kernel {kernel} (dilation {dilation}) does not fit input {size}")
        return (size - effective) // stride + 1
    raise ValueError(f"padding={padding!r}: expected 'same' or 'valid' (causal is 1-D only)")


def _leaf_layers(model: Any) -> Iterator[Any]:
    """Every non-container layer, descending into nested models (e.g. the 'base' sub-model)."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _leaf_layers(layer)
        else:
            yield layer


def _known_shape(layer: Any, which: str) -> tuple[int, ...]:
    try:
        tensor = layer.input if which == "input" else layer.output
    except (AttributeError, ValueError) as exc:
        raise ValueError(
            f"Layer {layer.name!r} has no {which} yet: build the model on a keras.Input with a "
            f"fixed shape, e.g. keras.applications.X(input_shape=(s, s, 3)), before counting costs"
        ) from exc
    shape = tuple(tensor.shape)
    if any(dim is None for dim in shape[1:]):
        raise ValueError(
            f"Layer {layer.name!r} has {which} shape {shape} with unknown dimensions: build the "
            f"model with a fixed input_shape=(s, s, channels) to count its MACs"
        )
    return tuple(int(d) for d in shape[1:])


def _conv_geometry(layer: Any) -> tuple[int, int, int, int, int, int]:
    """(kernel_h, kernel_w, in_h, in_w, out_h, out_w) with the output size checked against Keras."""
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise ValueError(f"Layer {layer.name!r}: only data_format='channels_last' is supported")
    kh, kw = (int(k) for k in layer.kernel_size)
    sh, sw = (int(s) for s in layer.strides)
    dh, dw = (int(d) for d in layer.dilation_rate)
    in_h, in_w, _ = _known_shape(layer, "input")
    out_h = conv_output_size(in_h, kh, sh, layer.padding, dh)
    out_w = conv_output_size(in_w, kw, sw, layer.padding, dw)
    keras_out = _known_shape(layer, "output")[:2]
    if (out_h, out_w) != keras_out:
        raise ValueError(
            f"Layer {layer.name!r}: formula output {(out_h, out_w)} != Keras output {keras_out}"
        )
    return kh, kw, in_h, in_w, out_h, out_w


def _stride(layer: Any) -> str:
    sh, sw = (int(s) for s in layer.strides)
    return str(sh) if sh == sw else f"{sh}x{sw}"


def _conv_row(layer: Any, kind: str) -> dict[str, Any]:
    kh, kw, in_h, in_w, out_h, out_w = _conv_geometry(layer)
    m = _known_shape(layer, "input")[-1]
    bias = bool(layer.use_bias)
    if kind == "depthwise":
        mult = int(layer.depth_multiplier)
        n = m * mult
        macs = kh * kw * m * mult * out_h * out_w
        params = kh * kw * m * mult + (n if bias else 0)
    elif kind == "separable":
        mult = int(layer.depth_multiplier)
        n = int(layer.filters)
        macs = kh * kw * m * mult * out_h * out_w + m * mult * n * out_h * out_w
        params = kh * kw * m * mult + m * mult * n + (n if bias else 0)
    else:
        groups = int(getattr(layer, "groups", 1))
        n = int(layer.filters)
        macs = kh * kw * (m // groups) * n * out_h * out_w
        params = kh * kw * (m // groups) * n + (n if bias else 0)
        if kind == "standard" and (kh, kw) == (1, 1):
            kind = "pointwise"
        if groups > 1:
            kind = "grouped"
    return {
        "name": layer.name,
        "kind": kind,
        "kernel": f"{kh}x{kw}",
        "stride": _stride(layer),
        "padding": layer.padding,
        "use_bias": bias,
        "M": m,
        "N": n,
        "in_h": in_h,
        "in_w": in_w,
        "out_h": out_h,
        "out_w": out_w,
        "macs": macs,
        "params_formula": params,
        "params_keras": int(layer.count_params()),
    }


def _dense_row(layer: Any) -> dict[str, Any]:
    in_shape = _known_shape(layer, "input")
    m, n = in_shape[-1], int(layer.units)
    positions = math.prod(in_shape[:-1])  # Dense on a (h, w, c) map acts at every position
    bias = bool(layer.use_bias)
    h, w = (in_shape[0], in_shape[1]) if len(in_shape) == 3 else (1, 1)
    return {
        "name": layer.name,
        "kind": "dense",
        "kernel": "-",
        "stride": "-",
        "padding": "-",
        "use_bias": bias,
        "M": m,
        "N": n,
        "in_h": h,
        "in_w": w,
        "out_h": h,
        "out_w": w,
        "macs": m * n * positions,
        "params_formula": m * n + (n if bias else 0),
        "params_keras": int(layer.count_params()),
    }


def layer_costs(model: keras.Model) -> pd.DataFrame:
    """One row per Conv2D/DepthwiseConv2D/SeparableConv2D/Dense layer: MACs and params (separable-cost chapter)."""
    import keras

    unsupported = (
        keras.layers.Conv1D,
        keras.layers.Conv3D,
        keras.layers.Conv1DTranspose,
        keras.layers.Conv2DTranspose,
        keras.layers.Conv3DTranspose,
        keras.layers.DepthwiseConv1D,
        keras.layers.SeparableConv1D,
        keras.layers.EinsumDense,
    )
    rows = []
    for layer in _leaf_layers(model):
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            rows.append(_conv_row(layer, "depthwise"))
        elif isinstance(layer, keras.layers.SeparableConv2D):
            rows.append(_conv_row(layer, "separable"))
        elif isinstance(layer, keras.layers.Conv2D):
            rows.append(_conv_row(layer, "standard"))
        elif isinstance(layer, keras.layers.Dense):
            rows.append(_dense_row(layer))
        elif isinstance(layer, unsupported):
            raise NotImplementedError(
                f"Layer {layer.name!r} ({type(layer).__name__}) has MACs that helpers.training.costs does "
                f"not count yet (src/helpers/training/costs.py handles Conv2D, DepthwiseConv2D, "
                f"SeparableConv2D and Dense)"
            )
    return pd.DataFrame(rows, columns=list(LAYER_COLUMNS))


def model_size_mb(model: keras.Model, unit: str = "MB", bytes_per_param: int = 4) -> float:
    """Weights size: every parameter (incl. BatchNorm statistics) × 4 bytes, in MB or MiB (separable-cost chapter)."""
    if unit not in _UNITS:
        raise ValueError(f"unit={unit!r}: expected one of {list(_UNITS)}")
    (bytes_per_param,) = _positive_ints(("bytes_per_param", bytes_per_param))
    return model.count_params() * bytes_per_param / _UNITS[unit]


def count_model_costs(model: keras.Model) -> dict[str, float | int]:
    """MACs, FLOPs (= 2·MACs), params, trainable params and float32 MB of a model (run records)."""
    macs = int(layer_costs(model)["macs"].sum())
    trainable = sum(math.prod(int(d) for d in w.shape) for w in model.trainable_weights)
    return {
        "macs": macs,
        "flops": 2 * macs,
        "params": int(model.count_params()),
        "trainable_params": int(trainable),
        "size_mb_float32": model_size_mb(model, "MB"),
    }


def saved_file_bytes(model: keras.Model, suffix: str = ".keras") -> int:
    """Size in bytes of the model saved as .keras, .h5 or .weights.h5 in a temp dir (separable-cost chapter)."""
    if suffix not in (".keras", ".h5", ".weights.h5"):
        raise ValueError(f"suffix={suffix!r}: expected '.keras', '.h5' or '.weights.h5'")
    absl = logging.getLogger("absl")  # Keras warns through absl that .h5 is a legacy format
    level = absl.level
    absl.setLevel(logging.ERROR)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model" + suffix)
            if suffix == ".weights.h5":
                model.save_weights(path)
            else:
                model.save(path)
            return os.path.getsize(path)
    finally:
        absl.setLevel(level)


def _frozen_graph(model: keras.Model, resolution: int, batch: int = 1) -> Any:
    """A constant-folded TensorFlow graph of ``model`` on a (batch, s, s, c) input."""
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "profiler_flops needs the TensorFlow backend (KERAS_BACKEND=tensorflow); "
            "count_model_costs works on any backend"
        )
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    resolution, batch = _positive_ints(("resolution", resolution), ("batch", batch))
    channels = int(model.inputs[0].shape[-1])
    spec = tf.TensorSpec([batch, resolution, resolution, channels], tf.float32)
    fn = tf.function(lambda x: model(x, training=False))
    return convert_variables_to_constants_v2(fn.get_concrete_function(spec)).graph


class _QuietTF:
    """Silence TensorFlow's Python logger (deprecation notes) while profiling."""

    def __enter__(self) -> None:
        import tensorflow as tf

        self._logger = tf.get_logger()
        self._level = self._logger.level
        self._logger.setLevel("ERROR")

    def __exit__(self, *exc: object) -> None:
        self._logger.setLevel(self._level)


def _profiler_total(graph: Any) -> int:
    import tensorflow as tf

    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output().build()
    return int(
        tf.compat.v1.profiler.profile(graph=graph, cmd="op", options=options).total_float_ops
    )


def _flops_by_op(graph: Any) -> dict[str, int]:
    from tensorflow.python.framework import ops

    totals: dict[str, int] = {}
    skipped: list[str] = []
    for op in graph.get_operations():
        try:
            stats = ops.get_stats_for_node_def(graph, op.node_def, "flops")
        except ValueError:  # incomplete shape: the profiler skips these too
            skipped.append(op.type)
            continue
        if stats.value:
            totals[op.type] = totals.get(op.type, 0) + int(stats.value)
    if skipped:
        warnings.warn(
            f"{len(skipped)} ops ({', '.join(sorted(set(skipped)))}) have incomplete shapes in "
            f"the frozen graph, so TensorFlow's profiler does not count them (grouped convs run "
            f"as opaque function calls); the profiler total is an undercount",
            stacklevel=3,
        )
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def profiler_flops(model: keras.Model, resolution: int, batch: int = 1) -> int:
    """Total float ops counted by TensorFlow's profiler on the frozen inference graph (separable-cost chapter)."""
    with _QuietTF():
        return _profiler_total(_frozen_graph(model, resolution, batch))


def profiler_flops_by_op(model: keras.Model, resolution: int, batch: int = 1) -> dict[str, int]:
    """Float ops per TensorFlow op type (Conv2D, DepthwiseConv2dNative, Mul, ...) of the frozen graph (separable-cost chapter)."""
    with _QuietTF():
        return _flops_by_op(_frozen_graph(model, resolution, batch))


def profiler_counts(
    model: keras.Model, resolution: int, batch: int = 1
) -> tuple[int, dict[str, int]]:
    """(profiler_flops, profiler_flops_by_op) from one traced graph, half the time of both (separable-cost chapter)."""
    with _QuietTF():
        graph = _frozen_graph(model, resolution, batch)
        return _profiler_total(graph), _flops_by_op(graph)
