"""Step 3 of a sweep, and :func:`run_sweep`: plan, skip, drive (training chapter).

:func:`run_sweep` is three steps: :func:`~helpers.sweep.plan.plan_sweep` (the config → the
planned runs with their ids, checked up front), :func:`~helpers.sweep.skip.skip_finished` (which
runs already have a valid record and are skipped, why the others run) and :func:`drive_runs`
(hand the runs to the executor, record the results, report progress).

Each run executes the notebook into ``<output_dir>/notebooks/<run_id>.ipynb``; the notebook writes
``<output_dir>/records/<run_id>.json``. A failing run gets a ``status: "failed"`` record
(error type, message, traceback) and the sweep goes on; the next sweep retries it. Runs go
through any ``concurrent.futures.Executor``-like object (``submit(fn, spec)`` → a future with
``done()``/``result()``): see :mod:`helpers.sweep.executors`. With a detached executor (Dask) the
workers return each run's record and notebook and this loop writes them atomically into the
output folder, so workers need no shared results folder. A run whose worker was lost is
submitted once more (logged as ``retry``); when one lost worker takes every run in flight (a
process pool), those runs are re-run one at a time.

Nothing is written before there is a run to do: then the results folder must take files
(:func:`~helpers.sweep.inputs.check_writable`, else an error naming it), and an external folder
the runs would score must be usable. A sweep with nothing to run updates ``sweep.json`` and the
log only where it may. ``dry_run`` lists the runs with their estimated time and reports every
unusable input folder (``SweepSummary.problems``). Progress lines (start, finish, ETA:
:mod:`helpers.sweep.progress`) go to stdout and ``<output_dir>/logs/sweep.log``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from helpers.runs.records import failure_record, provenance, utc_now, write_json_atomic
from helpers.sweep import locks
from helpers.sweep.config import SweepConfigError, _rel
from helpers.sweep.execute import execute_run, execute_run_detached, store_detached
from helpers.sweep.executors import SequentialExecutor, _wait_any
from helpers.sweep.inputs import InputCheck, check_writable, folder_records, output_error
from helpers.sweep.plan import SweepPlan, plan_sweep
from helpers.sweep.progress import SweepSummary, _Eta, _fmt_s
from helpers.sweep.skip import Todo, skip_finished


def run_sweep(
    config: Mapping[str, Any] | str | os.PathLike[str],
    *,
    executor: Any = None,
    data_root: str | os.PathLike[str] | None = None,
    weights_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    external_root: str | os.PathLike[str] | None = None,
    external_masks: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    only: str | None = None,
    max_runs: int | None = None,
    max_in_flight: int | None = None,
    root: str | os.PathLike[str] | None = None,
    validator: Callable[[dict[str, Any]], Any] | None | str = "default",
    log: Callable[[str], None] | None = None,
    allow_dirty: bool = False,
    save_models: bool = False,
) -> SweepSummary:
    """Run every missing or failed run of a sweep config; resumable (training chapter).

    Refuses (SweepConfigError) to run from a git checkout of the notebook with uncommitted
    changes unless ``allow_dirty``: each record then stores ``provenance.git_diff_sha256``.
    ``save_models`` passes ``save_model=True`` to the runs it starts (not to their identity):
    each keeps its trained model in the cache (:mod:`helpers.training.kept`).
    ``external_masks``: the external set's lesion masks (a location, like ``external_root``).
    A parameter the config leaves out takes :class:`~helpers.training.params.TrainParams`'
    default; the notebook must name every parameter a run passes it.
    """
    if max_runs is not None and max_runs < 0:
        raise SweepConfigError(f"max_runs={max_runs}: give 0 or more (runs to start)")
    plan = plan_sweep(
        config, root=root, output_dir=output_dir, data_root=data_root, weights_dir=weights_dir,
        cache_dir=cache_dir, external_root=external_root, external_masks=external_masks,
        validator=validator, allow_dirty=allow_dirty or dry_run, save_models=save_models)
    say = _SweepLog(None if dry_run else plan.out / "logs" / "sweep.log", log)
    if plan.dirty_note:
        say(plan.dirty_note)
    todo, summary = skip_finished(plan, say, only=only, max_runs=max_runs)
    return drive_runs(plan, todo, summary, say, executor=executor, max_in_flight=max_in_flight,
                      dry_run=dry_run)


def drive_runs(plan: SweepPlan, todo: Todo, summary: SweepSummary, say: _SweepLog, *,
               executor: Any = None, max_in_flight: int | None = None,
               dry_run: bool = False) -> SweepSummary:
    """Run ``todo`` through ``executor`` (default: one at a time here), record, report (training chapter).

    ``dry_run`` lists the runs and checks their input folders instead. ``sweep.json`` is
    written when the runs end, whatever happens, and when nothing needed running if the folder
    takes files; the executor is shut down when this function made it.
    """
    executor_given = executor
    executor = SequentialExecutor() if executor is None else executor
    limit = max_in_flight or getattr(executor, "_max_workers", None) or max(1, len(todo))
    eta = _Eta(int(limit))
    if todo:  # the finished runs of each size in the folder time the estimate
        eta.add_records(folder_records(plan.out))
    if dry_run:
        return _dry_run(todo, plan.check, eta, summary, say)

    def write_summary() -> None:
        _write_sweep_json(plan.out, plan.cfg, plan.root, plan.started_at, summary)

    if not todo:  # nothing to run: nothing needs writing (a read-only folder is fine)
        _finish_idle(plan.out, say, write_summary)
    else:
        _prepare_output(plan, todo, say)
        t_start = time.perf_counter()
        try:
            _Runs(todo, executor, plan.out, say, eta, limit).run(plan.notebook)
        finally:
            for row in summary.runs:
                if row["status"] in {"planned", "running"}:
                    row["status"] = "not_run"
            summary.wall_s = time.perf_counter() - t_start
            if executor_given is None:
                executor.shutdown()
            write_summary()
    say(
        f"sweep {summary.name} done in {_fmt_s(summary.wall_s)}: {summary.count('ok')} ok, "
        f"{summary.count('failed')} failed, {summary.count('skipped')} skipped, "
        f"{summary.count('not_run')} not run"
    )
    return summary


def _prepare_output(plan: SweepPlan, todo: Todo, say: _SweepLog) -> None:
    """Before the first run: its input folders are usable, the results folder takes files."""
    problems = plan.check.problems([spec["params"] for spec, _row in todo], data=False)
    if problems:
        raise SweepConfigError("an input folder of the runs is not usable:\n  "
                               + "\n  ".join(problems))
    for note in plan.check.notes:
        say(f"note: {note}")
    check_writable(plan.out, len(todo))
    try:
        say.open()
    except OSError as exc:
        raise output_error(plan.out, exc, len(todo)) from exc


class _SweepLog:
    """Progress lines: stdout, the caller's ``log`` and ``<output_dir>/logs/sweep.log``.

    The lines are held in memory until :meth:`open` (there are runs to do and the folder takes
    files), so a sweep with nothing to run needs no write access to its folder.
    """

    def __init__(self, path: Path | None, log: Callable[[str], None] | None) -> None:
        self.path, self.log = path, log
        self.held: list[str] = []
        self.is_open = False

    def __call__(self, msg: str) -> None:
        print(msg, flush=True)
        if self.log is not None:
            self.log(msg)
        if self.path is None:  # a dry run writes nothing
            return
        line = f"{utc_now()} {msg}\n"
        if not self.is_open:
            self.held.append(line)
            return
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)

    def open(self) -> None:
        """Write the held lines, and every later one, to the file (OSError when it cannot)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.writelines(self.held)
        self.held, self.is_open = [], True


def _dry_run(todo: Todo, check: InputCheck, eta: _Eta,
             summary: SweepSummary, say: _SweepLog) -> SweepSummary:
    """List the runs, estimate their time and check every input folder they would read."""
    for spec, _row in todo:
        print(f"  would run {spec['run_id']}", flush=True)
    if todo:
        say(f"  estimate: {eta.describe([spec['params'] for spec, _row in todo])}")
    summary.problems = check.problems([spec["params"] for spec, _row in todo])
    for problem in summary.problems:
        say(f"  input problem: {problem}")
    for note in check.notes:
        say(f"  note: {note}")
    return summary


def _finish_idle(out: Path, say: _SweepLog, write_summary: Callable[[], None]) -> None:
    """Nothing to run: update ``sweep.json`` and the log if the folder takes files, else say so."""
    try:
        say.open()
        write_summary()
    except OSError as exc:
        print(f"note: the results folder {out} cannot be written ({type(exc).__name__}: "
              f"{exc.strerror or exc}); nothing needed running, so its sweep.json and "
              "logs/sweep.log were left as they were", flush=True)


def _write_sweep_json(out: Path, cfg: Mapping[str, Any], root_p: Path, started_at: str,
                      summary: SweepSummary) -> None:
    write_json_atomic(
        out / "sweep.json",
        {
            "name": summary.name,
            "config": _rel(Path(cfg["_source"]).resolve(), root_p) if "_source" in cfg else None,
            "started_at": started_at,
            "finished_at": utc_now(),
            "wall_s": summary.wall_s,  # this invocation; runs[].wall_s: each run's own
            "counts": {s: summary.count(s) for s in ("ok", "failed", "skipped", "not_run")},
            "runs": summary.runs,
        },
    )


class _Runs:
    """The loop over the runs to do: locks, submission, results, retries of lost workers.

    A run whose worker was lost (the executor's ``retryable`` errors) is submitted once more.
    When the executor loses every run in flight with one worker (``lost_together``: a process
    pool), the lost runs are re-run one at a time, so that a second loss is that run's own and
    cannot take an innocent run with it.
    """

    def __init__(self, todo: Todo, executor: Any, out: Path, say: _SweepLog, eta: _Eta,
                 limit: int) -> None:
        self.executor, self.out, self.say, self.eta, self.limit = executor, out, say, eta, limit
        self.detached = bool(getattr(executor, "detached", False))
        self.retryable = tuple(getattr(executor, "retryable", ()))
        self.lost_together = bool(getattr(executor, "lost_together", False))
        self.run_fn = execute_run_detached if self.detached else execute_run
        self.n = len(todo)
        self.index = {spec["run_id"]: i for i, (spec, _row) in enumerate(todo, start=1)}
        self.queue = list(todo)
        self.pending: dict[Future, tuple[dict[str, Any], dict[str, Any]]] = {}
        self.attempts: dict[str, int] = {}
        self.alone: set[str] = set()  # lost with a pool: re-run with nothing else in flight
        self.held: set[str] = set()  # run ids whose lock this sweep holds

    def _tag(self, spec: Mapping[str, Any]) -> str:
        return f"[{self.index[spec['run_id']]}/{self.n}]"

    def _left(self) -> list[Mapping[str, Any]]:
        return [s["params"] for s, _ in self.queue] + [s["params"] for s, _ in self.pending.values()]

    def run(self, nb_path: Path) -> None:
        """Run every run of the queue; releases the locks it took, whatever happens."""
        if self.detached:  # workers run the client's notebook, whatever their checkout holds
            notebook_text = nb_path.read_text(encoding="utf-8")
            for spec, _row in self.queue:
                spec["notebook_text"] = notebook_text
        try:
            while self.queue or self.pending:
                self._submit_ready()
                if self.pending:
                    for fut in _wait_any(list(self.pending)):
                        self._collect(fut)
        finally:
            for rid in list(self.held):
                self._unlock(rid)

    def _may_submit(self) -> bool:
        if not self.queue or len(self.pending) >= self.limit:
            return False
        if any(s["run_id"] in self.alone for s, _ in self.pending.values()):
            return False
        return not self.pending or self.queue[0][0]["run_id"] not in self.alone

    def _submit_ready(self) -> None:
        while self._may_submit():
            spec, row = self.queue.pop(0)
            rid = spec["run_id"]
            if rid not in self.held:  # a retry keeps its lock
                got, holder = locks.acquire(locks.lock_path(self.out, rid))
                if not got:  # another sweep took it since the plan was made
                    row.update(status="not_run", note="running elsewhere")
                    self.say(f"{self._tag(spec)} {rid}: running elsewhere "
                             f"({locks.describe(holder)}); not run here")
                    continue
                self.held.add(rid)
                self.say(f"{self._tag(spec)} start {rid} "
                         f"({self.eta.describe([*self._left(), spec['params']])})")
            row["status"] = "running"
            self.attempts[rid] = self.attempts.get(rid, 0) + 1
            self.pending[self.executor.submit(self.run_fn, spec)] = (spec, row)

    def _collect(self, fut: Future) -> None:
        spec, row = self.pending.pop(fut)
        rid = spec["run_id"]
        try:
            res = fut.result()
            if self.detached:
                res = store_detached(spec, res)
        except Exception as exc:  # noqa: BLE001 - e.g. a worker process died
            if self.retryable and isinstance(exc, self.retryable) and self.attempts[rid] < 2:
                how = "on its own" if self.lost_together else "once more"
                self.say(f"{self._tag(spec)} retry {rid}: its worker was lost "
                         f"({type(exc).__name__}: {exc}); submitting it {how}")
                if self.lost_together:
                    self.alone.add(rid)
                self.queue.insert(0, (spec, row))
                return
            rec = failure_record(spec["params"], exc, provenance(None, None))
            rec["run_id"] = rid
            write_json_atomic(spec["record"], rec)
            res = {"run_id": rid, "status": "failed", "wall_s": None,
                   "error": f"{rec['error']['type']}: {rec['error']['message']}"}
        self.alone.discard(rid)
        self._finish(spec, row, res)

    def _unlock(self, rid: str) -> None:
        if rid in self.held:
            self.held.discard(rid)
            locks.release(locks.lock_path(self.out, rid))

    def _finish(self, spec: dict[str, Any], row: dict[str, Any], res: dict[str, Any]) -> None:
        self._unlock(spec["run_id"])
        row.update(status=res["status"], wall_s=res.get("wall_s"))
        if res.get("error"):
            row["error"] = res["error"]
        if res.get("wall_s") is not None:
            self.eta.add(spec["params"], float(res["wall_s"]))
        msg = (f"{self._tag(spec)} {res['status']} {spec['run_id']} in "
               f"{_fmt_s(res.get('wall_s'))}; {self.eta.describe(self._left())}")
        if res.get("error"):
            msg += f"\n    {res['error'].splitlines()[0][:300]}"
        if res.get("warning"):
            msg += f"\n    warning: {res['warning']}"
        self.say(msg)
