"""Step 2 of a sweep: which planned runs are skipped, and why the others run (training chapter).

The skip rule, in :func:`skip_finished`'s order, for each run of a
:class:`~helpers.sweep.plan.SweepPlan`:

1. **skipped**: its record exists with status ``ok`` and the same identity params, and the
   inputs it was made with are the ones the run would use now
   (:meth:`~helpers.sweep.inputs.InputCheck.changed`: data fingerprint, weights sha256, external
   set and lesion masks). A record whose inputs changed is re-run, and the log says why
   (``data changed: ...; re-running``); one whose data cannot be checked now is kept (``...;
   kept``). So an interrupted sweep resumes where it stopped, and a failed run is retried.
2. **not_run**: filtered out by ``only`` (a substring of the run id) or beyond ``max_runs``.
3. **not_run**, note ``running elsewhere``: another live sweep holds its lock (a stale lock, of a
   process that is gone, does not count).
4. otherwise **planned**: it is to run.

Reads records and locks; writes nothing. Step 3 is :mod:`helpers.sweep.runner`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from helpers.sweep import locks
from helpers.sweep.config import _rel
from helpers.sweep.execute import _record_ok
from helpers.sweep.inputs import InputCheck
from helpers.sweep.plan import SweepPlan
from helpers.sweep.progress import SweepSummary

Todo = list[tuple[dict[str, Any], dict[str, Any]]]
"""The runs to do: (run spec, its row of the sweep's summary)."""


def finished_record(spec: Mapping[str, Any], check: InputCheck,
                    say: Callable[[str], None]) -> dict[str, Any] | None:
    """The run's valid ok record (skip it), else None (run it); says why a record is not valid.

    Valid: status ``ok``, the same identity params and the inputs of today (rule 1 above).
    """
    done = _record_ok(Path(spec["record"]), spec["params"])
    why = check.changed(spec["params"], done) if done is not None else None
    if why is not None:
        say(f"  {spec['run_id']}: {why}")
        if not why.endswith("; kept"):
            done = None
    return done


def skip_finished(plan: SweepPlan, say: Callable[[str], None], *, only: str | None = None,
                  max_runs: int | None = None) -> tuple[Todo, SweepSummary]:
    """The runs to do, and the sweep's summary with one row per planned run (training chapter).

    Each row's status is ``skipped``, ``not_run`` or, for a run to do, ``planned`` (module
    docstring); a skipped run's row takes its record's wall time.
    """
    summary = SweepSummary(name=plan.name, output_dir=plan.out)
    todo: Todo = []
    for spec in plan.runs:
        rid = spec["run_id"]
        row: dict[str, Any] = {"run_id": rid, "status": "planned", "wall_s": None}
        summary.runs.append(row)
        done = finished_record(spec, plan.check, say)
        if done is not None:
            row["status"] = "skipped"
            timing = done.get("timing")
            row["wall_s"] = timing.get("wall_s") if isinstance(timing, dict) else None
            continue
        if (only and only not in rid) or (max_runs is not None and len(todo) >= max_runs):
            row["status"] = "not_run"
            continue
        holder = locks.read_lock(locks.lock_path(plan.out, rid))
        if holder is not None and not (holder and locks.is_stale(holder)):
            row["status"] = "not_run"
            row["note"] = "running elsewhere"
            say(f"  {rid}: running elsewhere ({locks.describe(holder)}); not run here")
            continue
        todo.append((spec, row))
    say(
        f"sweep {plan.name}: {len(plan.runs)} runs, {summary.count('skipped')} already done, "
        f"{len(todo)} to run, {summary.count('not_run')} filtered out -> "
        f"{_rel(plan.out, plan.root)}"
    )
    return todo, summary
