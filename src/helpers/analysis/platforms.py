"""Which machine, backend and precision made each cell (issue 23: one platform per canonical cell).

A cell's seeds are its readers only if they come from one training procedure; a cell whose
seeds were trained on a CPU with TensorFlow and on a GPU with JAX, or in float32 and bf16,
mixes procedures (the precision-parity chapter: TensorFlow and JAX draw different models from
one seed). The
canonical paper-regime folders (``results/paper-gpu``, ``results/kermany-gpu``) must never
mix; :func:`mixed_cells` finds the cells that do, and :func:`platform` names a record's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["cell_of", "mixed_cells", "platform"]


def platform(rec: Mapping[str, Any]) -> str:
    """"GPU (NVIDIA H200), jax, float32" or "CPU, tensorflow, mixed_bfloat16" (results chapter)."""
    pv = rec.get("provenance") or {}
    gpus = pv.get("gpu") or []
    where = f"GPU ({', '.join(gpus)})" if gpus else "CPU"
    precision = rec.get("params", {}).get("precision") or "float32"
    return f"{where}, {pv.get('keras_backend') or 'unknown backend'}, {precision}"


def cell_of(rec: Mapping[str, Any]) -> tuple[Any, ...]:
    """A record's cell: every param but the seed, as a sorted tuple."""
    return tuple(sorted((k, str(v)) for k, v in rec.get("params", {}).items() if k != "seed"))


def mixed_cells(recs: Iterable[Mapping[str, Any]]) -> dict[tuple[Any, ...], dict[str, list[str]]]:
    """The cells whose ok records come from more than one platform: {cell: {platform: run ids}}."""
    by: dict[tuple[Any, ...], dict[str, list[str]]] = {}
    for r in recs:
        if r.get("status") == "ok":
            by.setdefault(cell_of(r), {}).setdefault(platform(r), []).append(str(r.get("run_id")))
    return {c: p for c, p in by.items() if len(p) > 1}
