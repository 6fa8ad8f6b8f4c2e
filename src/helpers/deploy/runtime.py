"""Run a LiteRT flatbuffer the way a phone app does: one image at a time (deployment chapter).

:class:`LiteRTModel` wraps ``ai_edge_litert.interpreter.Interpreter`` (``tf.lite.Interpreter`` is
deprecated; the LiteRT wheel does not import TensorFlow). Inputs are raw uint8 RGB pixels; the
wrapper converts them to whatever the file takes: float32 pixels 0..255, or for full-integer files
``q = round(x / scale) + zero_point`` clipped to the input dtype (scale 1, zero point 0 for raw
pixels). Quantised outputs are dequantised, ``(q − zero_point) · scale``. Probabilities come back
as float64 of shape (N,), like ``run_record["predictions"]``.

:func:`check_parity` compares a LiteRT file with the Keras model it came from on the same images.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _interpreter_cls():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the LiteRT interpreter is missing: pip install 'ai-edge-litert' "
                          "(the project's `deploy` extra)") from exc
    return Interpreter


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype) -> np.ndarray:
    """Float values → integer tensor of ``dtype`` with TFLite's affine scheme (round half away)."""
    info = np.iinfo(dtype)
    v = np.asarray(x, dtype=np.float64) / scale
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) + zero_point  # std::round, as TFLite
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Integer tensor → float64 values, ``(q − zero_point) · scale``."""
    return (np.asarray(q, dtype=np.float64) - zero_point) * scale


class LiteRTModel:
    """A LiteRT model with one image input and one probability output.

    ``source`` is the flatbuffer's bytes or a path to a ``.tflite`` file. ``num_threads`` is the
    interpreter's thread count (XNNPACK is the default CPU delegate). ``output`` says what the
    file outputs: ``"probability"`` (P(class 1)), or ``"logit"`` (the ``int8_logit`` format,
    :func:`helpers.deploy.export.output_kind`), to which the sigmoid is applied here, in float64.
    """

    def __init__(self, source: bytes | str | os.PathLike[str], num_threads: int = 1,
                 output: str = "probability"):
        if output not in ("probability", "logit"):
            raise ValueError(f"output={output!r}: expected 'probability' or 'logit'")
        self.output = output
        if isinstance(source, bytes | bytearray | memoryview):
            self.content = bytes(source)
        else:
            self.content = Path(source).read_bytes()
        self.num_threads = int(num_threads)
        if self.num_threads < 1:
            raise ValueError(f"num_threads must be >= 1; got {num_threads}")
        self.interpreter = _interpreter_cls()(model_content=self.content,
                                              num_threads=self.num_threads)
        self.interpreter.allocate_tensors()
        ins, outs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        if len(ins) != 1 or len(outs) != 1:
            raise ValueError(f"expected one input and one output; got {len(ins)} and {len(outs)}")
        self._in, self._out = ins[0], outs[0]
        if self.input_shape[0] != 1:  # a dynamic or larger batch: run batch 1 like an app
            self.interpreter.resize_tensor_input(self._in["index"], [1, *self.input_shape[1:]])
            self.interpreter.allocate_tensors()
            self._in = self.interpreter.get_input_details()[0]
            self._out = self.interpreter.get_output_details()[0]

    # ----------------------------------------------------------------------- description
    @property
    def size_bytes(self) -> int:
        """Size of the flatbuffer (the file an app ships)."""
        return len(self.content)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self._in["shape"])

    @property
    def resolution(self) -> int:
        return int(self.input_shape[1])

    @property
    def input_dtype(self) -> np.dtype:
        return np.dtype(self._in["dtype"])

    @property
    def output_dtype(self) -> np.dtype:
        return np.dtype(self._out["dtype"])

    @property
    def input_quantization(self) -> tuple[float, int]:
        """(scale, zero point) of the input; (0.0, 0) for a float input."""
        s, z = self._in["quantization"]
        return float(s), int(z)

    @property
    def output_quantization(self) -> tuple[float, int]:
        s, z = self._out["quantization"]
        return float(s), int(z)

    def io_details(self) -> dict[str, Any]:
        """Input/output dtype and quantisation, for records."""
        return {"input": {"shape": list(self.input_shape), "dtype": self.input_dtype.name,
                          "scale": self.input_quantization[0],
                          "zero_point": self.input_quantization[1]},
                "output": {"dtype": self.output_dtype.name,
                           "scale": self.output_quantization[0],
                           "zero_point": self.output_quantization[1], "kind": self.output}}

    def op_counts(self) -> dict[str, int]:
        """How often each op type appears in the graph (e.g. to see that int8 has no float ops)."""
        counts: dict[str, int] = {}
        try:
            ops = self.interpreter._get_ops_details()  # noqa: SLF001 - no public equivalent
        except Exception:  # noqa: BLE001
            return counts
        for op in ops:
            counts[op["op_name"]] = counts.get(op["op_name"], 0) + 1
        return dict(sorted(counts.items()))

    # -------------------------------------------------------------------------- running
    def prepare_input(self, image: np.ndarray) -> np.ndarray:
        """One image (H, W, 3) or (1, H, W, 3) of pixels 0..255 → the input tensor (1, H, W, 3)."""
        x = np.asarray(image)
        if x.ndim == 3:
            x = x[None]
        if x.shape != self.input_shape:
            raise ValueError(f"image shape {x.shape[1:]} does not match the model's input "
                             f"{self.input_shape[1:]}")
        dt = self.input_dtype
        if np.issubdtype(dt, np.integer):
            scale, zp = self.input_quantization
            if scale == 1.0 and zp == 0 and x.dtype == dt:
                return np.ascontiguousarray(x)
            if scale == 0:
                raise ValueError("integer input without quantisation parameters")
            return quantize(x, scale, zp, dt)
        return x.astype(dt)

    def read_output(self) -> float:
        """P(class 1) of the last invoke (the sigmoid of the logit for ``output="logit"``)."""
        y = self.interpreter.get_tensor(self._out["index"])
        if np.issubdtype(self.output_dtype, np.integer):
            scale, zp = self.output_quantization
            value = float(dequantize(y, scale, zp).reshape(-1)[0])
        else:
            value = float(np.asarray(y, dtype=np.float64).reshape(-1)[0])
        if self.output == "logit":
            return float(0.5 * (1.0 + np.tanh(0.5 * value)))  # sigmoid, stable for any logit
        return value

    def predict_one(self, image: np.ndarray) -> float:
        self.interpreter.set_tensor(self._in["index"], self.prepare_input(image))
        self.interpreter.invoke()
        return self.read_output()

    def predict(self, images: np.ndarray) -> np.ndarray:
        """P(class 1) for each image (N, H, W, 3), uint8 pixels (or float 0..255); float64 (N,)."""
        x = np.asarray(images)
        if x.ndim == 3:
            x = x[None]
        return np.array([self.predict_one(x[i]) for i in range(len(x))], dtype=np.float64)

    def __repr__(self) -> str:
        return (f"LiteRTModel({self.size_bytes / 1e6:.2f} MB, input {self.input_shape} "
                f"{self.input_dtype.name}, threads={self.num_threads})")


def keras_probs(model, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """P(class 1) of a Keras model on float32 pixels, float64 (N,)."""
    x = np.asarray(images, dtype=np.float32)
    out = [np.asarray(model.predict_on_batch(x[i : i + batch_size]), dtype=np.float64).reshape(-1)
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros(0)


def parity_stats(reference: Sequence[float], probs: Sequence[float], tol: float | None = None,
                 threshold: float = 0.5) -> dict[str, Any]:
    """|Δp| statistics, decision agreement and correlations between two probability vectors."""
    a = np.asarray(reference, dtype=np.float64).reshape(-1)
    b = np.asarray(probs, dtype=np.float64).reshape(-1)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"need two non-empty aligned vectors; got {a.shape} and {b.shape}")
    d = np.abs(a - b)
    out: dict[str, Any] = {
        "n": int(a.size),
        "max_abs_diff": float(d.max()),
        "mean_abs_diff": float(d.mean()),
        "agreement": float(np.mean((a >= threshold) == (b >= threshold))),
        "pearson": None,
        "spearman": None,
    }
    if a.size > 1 and a.std() > 0 and b.std() > 0:
        from scipy import stats as st

        out["pearson"] = float(np.corrcoef(a, b)[0, 1])
        out["spearman"] = float(st.spearmanr(a, b).statistic)
    if tol is not None:
        out["tol"] = float(tol)
        out["within_tol"] = bool(out["max_abs_diff"] <= tol)
    return out


def check_parity(keras_model, litert_model: LiteRTModel, images: np.ndarray,
                 tol: float | None = None) -> dict[str, Any]:
    """Compare a LiteRT model with its Keras source on the same images.

    ``keras_model`` may also be an array of precomputed Keras probabilities. Returns
    :func:`parity_stats`: ``max_abs_diff``/``mean_abs_diff`` of the probabilities, decision
    ``agreement`` at 0.5, Pearson/Spearman correlation, and ``within_tol`` when ``tol`` is given.
    Tolerances observed (MobileNet, TF 2.21 + ai-edge-litert 2.3.0, XNNPACK): see the deployment
    chapter and ``tests/test_deploy.py`` (float32 ≈ 1e-6, float16 ≈ 1e-3).
    """
    ref = (np.asarray(keras_model, dtype=np.float64).reshape(-1)
           if isinstance(keras_model, np.ndarray | list | tuple)
           else keras_probs(keras_model, images))
    return parity_stats(ref, litert_model.predict(images), tol)


def delegation_summary(source: bytes | str | os.PathLike[str]) -> dict[str, Any]:
    """Which operators XNNPACK (LiteRT's default CPU delegate) takes and which stay outside.

    Loads the model with the default delegate and reads the node list: each XNNPACK partition is
    one ``DELEGATE`` node; an original operator runs outside the delegate when its output is not
    produced by a partition but feeds one, is a model output, or feeds another outside operator.
    Returns ``{"partitions", "ops", "outside_delegate", "int8_weight_ops"}``, the last three as
    ``{op name: count}`` (``int8_weight_ops``: operators with an int8 constant input while their
    first input is float, i.e. dynamic-range "hybrid" operators).
    """
    from collections import Counter

    content = source if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
    it = _interpreter_cls()(model_content=bytes(content), num_threads=1)
    it.allocate_tensors()
    ops = it._get_ops_details()  # noqa: SLF001 - the only public-ish view of the node list
    dtypes = {t["index"]: np.dtype(t["dtype"]).name for t in it.get_tensor_details()}
    deleg = [o for o in ops if o["op_name"] == "DELEGATE"]
    plain = [o for o in ops if o["op_name"] != "DELEGATE"]
    made = {t for o in deleg for t in o["outputs"]}
    used = {t for o in deleg for t in o["inputs"]} | {d["index"] for d in it.get_output_details()}
    outside: set[int] = set()
    changed = True
    while changed:
        changed = False
        feeds = used | {t for o in plain if o["index"] in outside for t in o["inputs"]}
        for o in plain:
            if o["index"] not in outside and any(t not in made and t in feeds
                                                 for t in o["outputs"]):
                outside.add(o["index"])
                changed = True
    hybrid = Counter(o["op_name"] for o in plain
                     if len(o["inputs"]) > 1 and dtypes.get(o["inputs"][0]) == "float32"
                     and any(dtypes.get(t) == "int8" for t in o["inputs"][1:]))
    return {"partitions": len(deleg), "ops": dict(Counter(o["op_name"] for o in plain)),
            "outside_delegate": dict(Counter(o["op_name"] for o in plain
                                             if o["index"] in outside)),
            "int8_weight_ops": dict(hybrid)}
