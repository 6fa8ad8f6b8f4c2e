"""The sweep loop: expand a config, skip finished runs, run the rest, write ``sweep.json`` (ch. 03).

(Just over 400 lines: the skip decision — params, locks, changed data/weights/external inputs —
and the retry of lost Dask workers belong to the loop.)

Each run executes the notebook into ``<output_dir>/notebooks/<run_id>.ipynb``; the notebook writes
``<output_dir>/records/<run_id>.json``. A run whose record exists with status ``ok`` and the same
identity params is skipped, so an interrupted sweep resumes where it stopped. A failing run gets a
``status: "failed"`` record (error type, message, traceback) and the sweep goes on; the next sweep
retries it. Runs go through any ``concurrent.futures.Executor``-like object (``submit(fn, spec)``
→ a future with ``done()``/``result()``): see :mod:`helpers.sweep.executors`. With a detached
executor (Dask) the workers return each run's record and notebook and this loop writes them
atomically into the output folder, so workers need no shared results folder; a run whose worker
was lost is submitted once more (logged as ``retry``). Progress lines
(start, finish, ETA) go to stdout and ``<output_dir>/logs/sweep.log``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from helpers import config as hconfig
from helpers.nbparams import UnknownParameterError, check_parameters
from helpers.provenance import git_diff_sha256, git_state
from helpers.records import (
    failure_record,
    provenance,
    record_path,
    run_id,
    utc_now,
    write_json_atomic,
)
from helpers.sweep import locks
from helpers.sweep.config import SweepConfigError, _rel, _resolve, _where, expand, load_config
from helpers.sweep.execute import (
    KERNEL_NAME,
    _record_ok,
    execute_run,
    execute_run_detached,
    store_detached,
)
from helpers.sweep.executors import SequentialExecutor, _wait_any
from helpers.sweep.progress import SweepSummary, _Eta, _fmt_s


def _check_clean(nb_path: Path, *, allow_dirty: bool) -> str | None:
    """Refuse a dirty checkout of the notebook's repository; with ``allow_dirty`` a note."""
    commit, dirty = git_state(nb_path.parent)
    if commit is None or not dirty:
        return None  # clean, or no git checkout (e.g. a notebook in a temporary folder)
    if not allow_dirty:
        raise SweepConfigError(
            f"the git checkout holding {nb_path.name} has uncommitted changes: records would "
            "not say which code made them. Commit (or stash) them, or pass --allow-dirty "
            "(each record then stores provenance.git_diff_sha256, a hash of the diff)"
        )
    return (f"warning: running from a dirty checkout (commit {commit[:10]}, diff sha256 "
            f"{(git_diff_sha256(nb_path.parent) or '?')[:12]}); --allow-dirty")


def _is_digest(value: Any) -> bool:
    """A sha256 hex digest (what real records hold; a test stand-in's "fp" is not compared)."""
    return isinstance(value, str) and len(value) == 64 and all(
        c in "0123456789abcdef" for c in value)


class _InputCheck:
    """Data fingerprint and weights sha256 a run would use now, memoised (resume, chapter 03).

    A finished record is kept only when its ``provenance.data_fingerprint`` and
    ``provenance.weights_sha256`` are what the run would use today: the same params on another
    data folder (or changed photos, or other weights files) make another run.
    """

    def __init__(self, data_root: Path | None, weights_dir: Path | None,
                 cache_dir: Path | None, external_root: Path | None = None) -> None:
        self.data_root, self.weights_dir, self.cache_dir = data_root, weights_dir, cache_dir
        self.external_root = external_root
        self.memo: dict[tuple, tuple[str | None, str | None]] = {}

    def _data(self, params: Mapping[str, Any]) -> tuple[str | None, str | None]:
        key = ("data", params.get("dataset"), params.get("task"), params.get("seed"),
               params.get("split_seed"), params.get("balanced_eval"), params.get("max_images"),
               params.get("val_fraction"))
        if key not in self.memo:
            from helpers.data import DataError, data_fingerprint

            try:
                self.memo[key] = (data_fingerprint(
                    params["dataset"], params.get("task"), self.data_root, self.cache_dir,
                    seed=int(params.get("seed") or 0),
                    balanced_eval=bool(params.get("balanced_eval", False)),
                    max_images=params.get("max_images"), split_seed=params.get("split_seed"),
                    val_fraction=params.get("val_fraction")),
                    None)
            except (DataError, OSError, ValueError) as exc:
                self.memo[key] = (None, f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        return self.memo[key]

    def _weights(self, params: Mapping[str, Any]) -> str | None:
        if params.get("weights") != "imagenet":
            return None
        key = ("weights", params.get("model"))
        if key not in self.memo:
            from helpers.weights import file_sha256, resolve_weights

            try:
                resolved = resolve_weights(str(params["model"]), "imagenet", self.weights_dir)
            except (OSError, ValueError, RuntimeError):
                resolved = None
            # keras-download weights: no local file to hash without importing Keras
            sha = (file_sha256(resolved.path, self.cache_dir)
                   if resolved is not None and resolved.path is not None else None)
            self.memo[key] = (sha, None)
        return self.memo[key][0]

    def _external(self, params: Mapping[str, Any]) -> str | None:
        key = ("external", params.get("external"), params.get("task"))
        if key not in self.memo:
            from helpers.data import DataError, external_fingerprint

            try:
                fp = (external_fingerprint(self.external_root, str(params.get("task")),
                                           self.cache_dir) if self.external_root else None)
            except (DataError, OSError, ValueError):
                fp = None
            self.memo[key] = (fp, None)
        return self.memo[key][0]

    def changed(self, params: Mapping[str, Any], rec: Mapping[str, Any]) -> str | None:
        """Why ``rec`` no longer stands for ``params`` ("data changed: ..."), else None."""
        prov = rec.get("provenance") if isinstance(rec.get("provenance"), Mapping) else {}
        if params.get("external"):
            old_e, new_e = prov.get("external_fingerprint"), self._external(params)
            if _is_digest(old_e) and new_e and old_e != new_e:
                return (f"external test set changed: fingerprint {old_e[:4]}\u2026 \u2192 "
                        f"{new_e[:4]}\u2026; re-running")
        old = prov.get("data_fingerprint")
        new, err = self._data(params)
        if new is None:
            return f"data not checked ({err}); kept" if err and old else None
        if _is_digest(old) and old != new:
            return f"data changed: fingerprint {old[:4]}\u2026 \u2192 {new[:4]}\u2026; re-running"
        old_w, new_w = prov.get("weights_sha256"), self._weights(params)
        if _is_digest(old_w) and new_w and old_w != new_w:
            return (f"weights changed: {prov.get('weights_file') or params.get('model')} sha256 "
                    f"{old_w[:4]}\u2026 \u2192 {new_w[:4]}\u2026; re-running")
        return None


def run_sweep(
    config: Mapping[str, Any] | str | os.PathLike[str],
    *,
    executor: Any = None,
    data_root: str | os.PathLike[str] | None = None,
    weights_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    external_root: str | os.PathLike[str] | None = None,
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
    """Run every missing or failed run of a sweep config; resumable (chapter 03).

    Refuses (SweepConfigError) to run from a git checkout of the notebook with uncommitted
    changes unless ``allow_dirty``: each record then stores ``provenance.git_diff_sha256``.
    ``save_models`` passes ``save_model=True`` to the runs it starts (not to their identity):
    each keeps its trained model in the cache (:mod:`helpers.training.kept`).
    """
    if max_runs is not None and max_runs < 0:
        raise SweepConfigError(f"max_runs={max_runs}: give 0 or more (runs to start)")
    cfg = load_config(config) if isinstance(config, str | os.PathLike) else dict(config)
    root_p = Path(root or cfg.get("_root") or Path.cwd()).resolve()
    cfg.setdefault("_root", str(root_p))
    name = str(cfg.get("name") or "sweep")
    if not cfg.get("notebook"):
        raise SweepConfigError(f"{_where(cfg)}: 'notebook' is missing (e.g. notebooks/03_train.py)")
    nb_path = _resolve(root_p, cfg["notebook"])
    out = (
        _resolve(root_p, output_dir)
        if output_dir
        else _resolve(root_p, cfg["output_dir"])
        if cfg.get("output_dir")
        else hconfig.results_dir() / name
    )
    runs = expand(cfg, validator=validator)
    dirty_note = _check_clean(nb_path, allow_dirty=allow_dirty or dry_run)

    locations: dict[str, str] = {"output_dir": _rel(out, root_p)}
    for key, explicit, env in (
        ("data_root", data_root, hconfig.ENV_DATA_DIR),
        ("weights_dir", weights_dir, hconfig.ENV_WEIGHTS_DIR),
        ("cache_dir", cache_dir, hconfig.ENV_CACHE_DIR),
        ("external_root", external_root, None),  # runs with external=<name> score it
    ):
        value = explicit or (os.environ.get(env, "").strip() if env else None) or None
        if value:
            locations[key] = _rel(Path(value).expanduser().resolve(), root_p)
    if "external_root" not in locations and any(p.get("external") for p in runs):
        raise SweepConfigError(f"{_where(cfg)}: runs set external=<name>: pass the folder to "
                               "score with --external-root PATH")
    options = {"save_model": True} if save_models else {}
    # papermill injects any name it is given: refuse one the notebook does not define
    used = {k for params in runs for k in params} | set(locations) | set(options)
    try:
        check_parameters(used, nb_path, f"{_where(cfg)} (notebook {_rel(nb_path, root_p)})")
    except UnknownParameterError as exc:
        raise SweepConfigError(str(exc)) from exc

    logs_dir = out / "logs"
    if not dry_run:
        logs_dir.mkdir(parents=True, exist_ok=True)

    def say(msg: str) -> None:
        print(msg, flush=True)
        if log is not None:
            log(msg)
        if not dry_run:
            with open(logs_dir / "sweep.log", "a", encoding="utf-8") as fh:
                fh.write(f"{utc_now()} {msg}\n")

    if dirty_note:
        say(dirty_note)
    started_at = utc_now()
    summary = SweepSummary(name=name, output_dir=out)
    check = _InputCheck(*(
        (_resolve(root_p, locations[k]) if k in locations else None)
        for k in ("data_root", "weights_dir", "cache_dir", "external_root")))
    todo: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (spec, summary row)
    for params in runs:
        rid = run_id(params)
        rec_path = record_path(out, rid)
        row: dict[str, Any] = {"run_id": rid, "status": "planned", "wall_s": None}
        summary.runs.append(row)
        done = _record_ok(rec_path, params)
        why = check.changed(params, done) if done is not None else None
        if why is not None and not why.endswith("; kept"):
            say(f"  {rid}: {why}")
            done = None
        elif why is not None:
            say(f"  {rid}: {why}")
        if done is not None:
            row["status"] = "skipped"
            timing = done.get("timing")
            row["wall_s"] = timing.get("wall_s") if isinstance(timing, dict) else None
            continue
        if only and only not in rid:
            row["status"] = "not_run"
            continue
        if max_runs is not None and len(todo) >= max_runs:
            row["status"] = "not_run"
            continue
        spec = {
            "run_id": rid,
            "params": params,
            "locations": locations,
            "options": options,
            "notebook": str(nb_path),
            "notebook_out": str(out / "notebooks" / f"{rid}.ipynb"),
            "record": str(rec_path),
            "cwd": str(root_p),
            "kernel_name": KERNEL_NAME,
        }
        holder = locks.read_lock(locks.lock_path(out, rid))
        if holder is not None and not (holder and locks.is_stale(holder)):
            row["status"] = "not_run"
            row["note"] = "running elsewhere"
            say(f"  {rid}: running elsewhere ({locks.describe(holder)}); not run here")
            continue
        todo.append((spec, row))

    n_total = len(runs)
    say(
        f"sweep {name}: {n_total} runs, {summary.count('skipped')} already done, "
        f"{len(todo)} to run, {summary.count('not_run')} filtered out -> {_rel(out, root_p)}"
    )
    if dry_run:
        for spec, _row in todo:
            print(f"  would run {spec['run_id']}", flush=True)
        return summary

    own_executor = executor is None
    executor = SequentialExecutor() if executor is None else executor
    detached = bool(getattr(executor, "detached", False))
    run_fn = execute_run_detached if detached else execute_run
    retryable = tuple(getattr(executor, "retryable", ()))
    if detached:  # workers run the client's notebook, whatever their checkout holds
        notebook_text = nb_path.read_text(encoding="utf-8")
        for spec, _row in todo:
            spec["notebook_text"] = notebook_text
    attempts: dict[str, int] = {}
    limit = max_in_flight or getattr(executor, "_max_workers", None) or max(1, len(todo))
    eta = _Eta(int(limit))
    t_start = time.perf_counter()
    index = {spec["run_id"]: i for i, (spec, _row) in enumerate(todo, start=1)}
    queue = list(todo)
    pending: dict[Future, tuple[dict[str, Any], dict[str, Any]]] = {}

    held: set[str] = set()  # run ids whose lock this sweep holds

    def unlock(rid: str) -> None:
        if rid in held:
            held.discard(rid)
            locks.release(locks.lock_path(out, rid))

    def finish(spec: dict[str, Any], row: dict[str, Any], res: dict[str, Any]) -> None:
        unlock(spec["run_id"])
        row.update(status=res["status"], wall_s=res.get("wall_s"))
        if res.get("error"):
            row["error"] = res["error"]
        if res.get("wall_s") is not None:
            eta.add(spec["params"], float(res["wall_s"]))
        left = [s["params"] for s, _ in queue] + [s["params"] for s, _ in pending.values()]
        msg = (
            f"[{index[spec['run_id']]}/{len(todo)}] {res['status']} {spec['run_id']} "
            f"in {_fmt_s(res.get('wall_s'))}; ETA {_fmt_s(eta.estimate(left) if left else 0)}"
        )
        if res.get("error"):
            msg += f"\n    {res['error'].splitlines()[0][:300]}"
        if res.get("warning"):
            msg += f"\n    warning: {res['warning']}"
        say(msg)

    try:
        while queue or pending:
            while queue and len(pending) < limit:
                spec, row = queue.pop(0)
                got, holder = locks.acquire(locks.lock_path(out, spec["run_id"]))
                if not got:  # another sweep took it since the plan was made
                    row.update(status="not_run", note="running elsewhere")
                    say(f"[{index[spec['run_id']]}/{len(todo)}] {spec['run_id']}: running "
                        f"elsewhere ({locks.describe(holder)}); not run here")
                    continue
                held.add(spec["run_id"])
                left = [s["params"] for s, _ in queue] + [spec["params"]]
                est = eta.estimate(left)
                say(
                    f"[{index[spec['run_id']]}/{len(todo)}] start {spec['run_id']}"
                    + (f" (ETA {_fmt_s(est)})" if est is not None else "")
                )
                row["status"] = "running"
                attempts[spec["run_id"]] = 1
                fut = executor.submit(run_fn, spec)
                pending[fut] = (spec, row)
            done = _wait_any(list(pending))
            for fut in done:
                spec, row = pending.pop(fut)
                try:
                    res = fut.result()
                    if detached:
                        res = store_detached(spec, res)
                except Exception as exc:  # noqa: BLE001 - e.g. a worker process died
                    if retryable and isinstance(exc, retryable) and attempts[spec["run_id"]] < 2:
                        attempts[spec["run_id"]] += 1
                        say(
                            f"[{index[spec['run_id']]}/{len(todo)}] retry {spec['run_id']}: "
                            f"its worker was lost ({type(exc).__name__}: {exc}); "
                            "submitting it once more"
                        )
                        pending[executor.submit(run_fn, spec)] = (spec, row)
                        continue
                    rec = failure_record(spec["params"], exc, provenance(None, None))
                    rec["run_id"] = spec["run_id"]
                    write_json_atomic(spec["record"], rec)
                    res = {
                        "run_id": spec["run_id"],
                        "status": "failed",
                        "wall_s": None,
                        "error": f"{rec['error']['type']}: {rec['error']['message']}",
                    }
                finish(spec, row, res)
    finally:
        for rid in list(held):
            unlock(rid)
        for row in summary.runs:
            if row["status"] in {"planned", "running"}:
                row["status"] = "not_run"
        summary.wall_s = time.perf_counter() - t_start
        if own_executor:
            executor.shutdown()
        write_json_atomic(
            out / "sweep.json",
            {
                "name": name,
                "config": _rel(Path(cfg["_source"]).resolve(), root_p)
                if "_source" in cfg
                else None,
                "started_at": started_at,
                "finished_at": utc_now(),
                "wall_s": summary.wall_s,  # this invocation; runs[].wall_s: each run's own
                "counts": {s: summary.count(s) for s in ("ok", "failed", "skipped", "not_run")},
                "runs": summary.runs,
            },
        )
    say(
        f"sweep {name} done in {_fmt_s(summary.wall_s)}: {summary.count('ok')} ok, "
        f"{summary.count('failed')} failed, {summary.count('skipped')} skipped, "
        f"{summary.count('not_run')} not run"
    )
    return summary
