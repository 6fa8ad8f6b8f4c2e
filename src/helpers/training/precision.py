"""Numeric precision of a training run: float32 or bfloat16 mixed precision (training chapter).

``precision`` is a run parameter with three values:

* ``"float32"``: every layer computes in float32 (the default, and every record made before
  this setting existed);
* ``"mixed_bfloat16"``: Keras's ``mixed_bfloat16`` policy: variables stay float32, layers
  compute in bfloat16; the classifier's output layer computes in float32
  (:func:`helpers.training.models.build_model`), so probabilities and the loss keep float32 precision;
* ``"auto"``: ``mixed_bfloat16`` where the hardware computes bfloat16 natively (a CPU that
  reports ``avx512_bf16`` or ``amx_bf16``, or a visible NVIDIA GPU), ``float32`` elsewhere,
  because emulated bfloat16 is *slower* than float32.

``auto`` is resolved by :func:`resolve` when the parameters are validated, so a run record
always names the precision that was used, never ``auto``. Precision is part of a run's
identity (:mod:`helpers.runs.records`): bf16 and float32 runs of one seed do not give identical
predictions, and a record must say which arithmetic made its numbers. The reproducibility
page shows from the bf16 parity runs whether the two can be compared as equals.

This module does not import Keras at import time.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

PRECISIONS: tuple[str, ...] = ("float32", "mixed_bfloat16", "auto")
"""Allowed values of the ``precision`` parameter."""

DEFAULT_PRECISION = "float32"

_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> set[str]:
    """The feature flags of the first CPU in ``/proc/cpuinfo``; empty where unreadable."""
    try:
        with open(cpuinfo, encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith(("flags", "features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_has_bf16(flags: set[str] | None = None) -> bool:
    """True when the CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16)."""
    flags = cpu_flags() if flags is None else flags
    return any(f in flags for f in _BF16_CPU_FLAGS)


def gpu_visible() -> bool:
    """True when an accelerator is visible, without importing a framework that is not loaded."""
    jax = sys.modules.get("jax")
    if jax is not None:
        with contextlib.suppress(Exception):
            return any(d.platform in ("gpu", "cuda", "rocm") for d in jax.devices())
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        with contextlib.suppress(Exception):
            return bool(tf.config.list_physical_devices("GPU"))
    torch = sys.modules.get("torch")
    if torch is not None:
        with contextlib.suppress(Exception):
            return bool(torch.cuda.is_available())
    gpus = Path("/proc/driver/nvidia/gpus")
    return gpus.is_dir() and any(gpus.iterdir())


def resolve(requested: str, *, flags: set[str] | None = None, gpu: bool | None = None) -> str:
    """``float32`` or ``mixed_bfloat16`` for a requested precision; ValueError if unknown."""
    if requested not in PRECISIONS:
        raise ValueError(f"precision={requested!r}: expected one of {list(PRECISIONS)}")
    if requested != "auto":
        return requested
    gpu = gpu_visible() if gpu is None else gpu
    return "mixed_bfloat16" if gpu or cpu_has_bf16(flags) else "float32"


def emulation_warning(resolved: str, *, flags: set[str] | None = None,
                      gpu: bool | None = None) -> str | None:
    """The warning a ``mixed_bfloat16`` run gets on hardware that only emulates bfloat16.

    An explicit ``mixed_bfloat16`` (a sweep config's cell, say) is honoured everywhere, since
    precision is part of a run's identity; but on a CPU without ``avx512_bf16``/``amx_bf16``
    and no GPU, bfloat16 is emulated and the run is *slower* than float32 (same results within
    the parity of the bf16-parity appendix). None when the hardware is native or the run is float32.
    Training prints it; the record need not repeat it, since ``provenance.precision`` already
    stores ``cpu_bf16`` and ``gpu`` (:func:`describe`).
    """
    if resolved != "mixed_bfloat16":
        return None
    gpu = gpu_visible() if gpu is None else gpu
    if gpu or cpu_has_bf16(flags):
        return None
    return ("precision=mixed_bfloat16 on a CPU without bfloat16 instructions (no avx512_bf16 or "
            "amx_bf16 CPU flag) and no GPU: bfloat16 is emulated, so this run is slower than "
            "float32 would be; run it where bf16 is native, or use precision=auto")


def describe(flags: set[str] | None = None) -> dict[str, object]:
    """What the record stores about the hardware's bfloat16 support."""
    flags = cpu_flags() if flags is None else flags
    return {"cpu_bf16": cpu_has_bf16(flags), "gpu": gpu_visible()}


@contextlib.contextmanager
def policy(precision: str) -> Iterator[None]:
    """Set Keras's global dtype policy for the block, and restore the previous one after it."""
    import keras

    resolved = resolve(precision)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(resolved)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
