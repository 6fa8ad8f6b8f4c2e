"""Progress of a sweep: its summary, durations as text, the remaining-time estimate (training chapter).

The estimate is measured per (regime, model, resolution): the mean wall time of the finished
runs of that size, this sweep's and the ok records already in its results folder
(:meth:`_Eta.add_records`). A run of a size nobody has timed yet gets a *guess*: the mean of the
measured runs of the same regime and model (else regime, else any), scaled by its pixel count.
The total is divided by the runs in flight at once, and an estimate that holds a guess says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class SweepSummary:
    """Outcome of one sweep invocation (training chapter)."""

    name: str
    output_dir: Path
    runs: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    problems: list[str] = field(default_factory=list)  # unusable input folders (--dry-run)

    def count(self, status: str) -> int:
        """Number of runs with this status (ok, failed, skipped, not_run, planned)."""
        return sum(r["status"] == status for r in self.runs)

    @property
    def ok(self) -> bool:
        """True when no run failed in this invocation and a dry run found no input problem."""
        return self.count("failed") == 0 and not self.problems


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "?"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else (f"{m}m{sec:02d}s" if m else f"{sec}s")


class _Eta:
    """Remaining-time estimate from measured wall times per (regime, model, resolution)."""

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

    def add_records(self, recs: Iterable[Mapping[str, Any]]) -> int:
        """Measure from finished ok records (``params``, ``timing.wall_s``); how many were used."""
        n = 0
        for rec in recs:
            timing, params = rec.get("timing"), rec.get("params")
            wall = timing.get("wall_s") if isinstance(timing, Mapping) else None
            if (rec.get("status") == "ok" and isinstance(params, Mapping)
                    and isinstance(wall, int | float) and wall > 0):
                self.add(params, float(wall))
                n += 1
        return n

    def _guess(self, params: Mapping[str, Any]) -> float:
        """A run of an untimed size: the mean of the measured runs of the same regime and model
        (else regime, else any), each scaled by pixel count to this run's size."""
        regime, model, res = self.key(params)
        for same in (lambda k: k[:2] == (regime, model), lambda k: k[0] == regime, lambda k: True):
            scaled = [wall * _pixels(res, k[2]) for k, walls in self.times.items() if same(k)
                      for wall in walls]
            if scaled:
                return sum(scaled) / len(scaled)
        return 0.0

    def run_estimate(self, params: Mapping[str, Any]) -> tuple[float, bool] | None:
        """(seconds, guessed) for one run; None before any run has been timed."""
        if not self.all:
            return None
        t = self.times.get(self.key(params))
        return (sum(t) / len(t), False) if t else (self._guess(params), True)

    def estimate(self, remaining: Sequence[Mapping[str, Any]]) -> float | None:
        """Seconds until ``remaining`` are done (runs in flight at once taken into account)."""
        each = [self.run_estimate(p) for p in remaining]
        if any(e is None for e in each):
            return None
        return sum(e[0] for e in each if e is not None) / self.workers

    def describe(self, remaining: Sequence[Mapping[str, Any]]) -> str:
        """``ETA 6m27s``, ``ETA ~9m (a guess: ...)`` or why there is none yet, for progress lines."""
        if not remaining:
            return "ETA 0s"
        total = self.estimate(remaining)
        if total is None:
            return "no ETA yet: no finished run of this sweep or its results folder to time"
        guessed = sum(bool(e and e[1]) for e in map(self.run_estimate, remaining))
        if not guessed:
            return f"ETA {_fmt_s(total)}"
        return (f"ETA ~{_fmt_s(total)} (a guess: {guessed} of {len(remaining)} runs have no "
                "finished run of the same regime, model and resolution to time)")


def _pixels(res: Any, measured: Any) -> float:
    """(res / measured)², the pixel ratio; 1 when either resolution is unknown."""
    try:
        return (float(res) / float(measured)) ** 2
    except (TypeError, ValueError, ZeroDivisionError):
        return 1.0
