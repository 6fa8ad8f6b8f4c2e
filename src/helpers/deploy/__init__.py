"""Deployment costs on a phone-class CPU: LiteRT export, runtime, latency, records (deployment chapter).

* :mod:`.export` — Keras model → LiteRT flatbuffer (float32, float16, dynamic_int8, int8);
* :mod:`.runtime` — :class:`LiteRTModel` (batch-1 interpreter with quantisation handling) and
  :func:`check_parity` against Keras;
* :mod:`.latency` — batch-1 latency and peak memory of the interpreter;
* :mod:`.mismatch` — train/test resolution discrepancy (one trained model at other sizes);
* :mod:`.records` — one JSON deployment record per (run, format).

Needs TensorFlow (for conversion) and ``ai-edge-litert`` (the interpreter): ``pip install
'.[tf-cpu,deploy]'``. Submodules are imported lazily so that ``import helpers.deploy`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FORMATS": "export", "to_litert": "export", "representative_sample": "export",
    "write_litert": "export",
    "LiteRTModel": "runtime", "check_parity": "runtime", "parity_stats": "runtime",
    "keras_probs": "runtime",
    "measure_latency": "latency", "peak_memory_mb": "latency", "all_threads": "latency",
    "evaluate_at_sizes": "mismatch", "rebuild_at": "mismatch", "resize_images": "mismatch",
    "deployment_record": "records", "save_deployment_record": "records",
    "deployment_path": "records", "DEPLOY_SCHEMA": "records",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
