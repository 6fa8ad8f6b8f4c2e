"""Progress of a sweep: its summary, durations as text, the remaining-time estimate (ch. 03).

The estimate averages the wall times of finished runs per (regime, model, resolution), falls
back to the mean of all finished runs, and divides by the number of runs in flight at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class SweepSummary:
    """Outcome of one sweep invocation (chapter 03)."""

    name: str
    output_dir: Path
    runs: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0

    def count(self, status: str) -> int:
        """Number of runs with this status (ok, failed, skipped, not_run, planned)."""
        return sum(r["status"] == status for r in self.runs)

    @property
    def ok(self) -> bool:
        """True when no run failed in this invocation."""
        return self.count("failed") == 0


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "?"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else (f"{m}m{sec:02d}s" if m else f"{sec}s")


class _Eta:
    """Remaining-time estimate from mean wall times per (regime, model, resolution)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self.times: dict[tuple[Any, ...], list[float]] = {}
        self.all: list[float] = []

    @staticmethod
    def key(params: Mapping[str, Any]) -> tuple[Any, ...]:
        return (params.get("regime"), params.get("model"), params.get("resolution"))

    def add(self, params: Mapping[str, Any], wall: float) -> None:
        self.times.setdefault(self.key(params), []).append(wall)
        self.all.append(wall)

    def estimate(self, remaining: Sequence[Mapping[str, Any]]) -> float | None:
        if not self.all:
            return None
        mean_all = sum(self.all) / len(self.all)
        total = 0.0
        for p in remaining:
            t = self.times.get(self.key(p))
            total += sum(t) / len(t) if t else mean_all
        return total / self.workers
