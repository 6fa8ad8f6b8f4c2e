"""The GPU path: a sweep's planned runs trained in-process with Keras on JAX, on a lent device.

The book's sweeps run the training notebook with papermill (:func:`~helpers.sweep.runner.drive_runs`
hands each run spec to an executor, which calls :func:`~helpers.sweep.execute.execute_run`). A
GPU machine with JAX but no Jupyter kernel, no papermill, no TensorFlow and no usable ``.git``
cannot execute a notebook, so there the same sweep is made in three steps
(``scripts/device_sweep.py``):

1. ``prepare`` (here): the sweep's own plan and skip rule (:func:`~helpers.sweep.plan.plan_sweep`,
   :func:`~helpers.sweep.skip.skip_finished`) give the runs to make, with their ids, and the
   tree's manifest (:mod:`helpers.sweep.device_job`);
2. ``run`` (there, :func:`run_job`): the copy of the tree is checked against the manifest, then
   :class:`DeviceExecutor` trains each run in a fresh process with the training chapter's own
   ``run_training`` and ``save_record`` (:func:`train_one`: the per-run function every
   executor runs behind the sweep; here without papermill around it) and an archive of the
   records and logs is re-written after every run (:mod:`helpers.sweep.device_archive`);
3. ``collect`` (here): the archive's records are vetted and filed into the sweep's results
   folder (:func:`~helpers.sweep.device_archive.collect_archive`), where the sweep's skip rule
   then counts them as done.

Why ``drive_runs`` does not drive the device itself: it submits
:func:`~helpers.sweep.execute.execute_run` (a papermill run of the notebook) and takes the lock,
notebook and record files in the results folder of the same machine; the device has no kernel
to run a notebook in and no results folder of the sweep (its records come back as an archive,
checked before they are filed). So :class:`DeviceExecutor` is an executor in the sense of
:mod:`helpers.sweep.executors` (``submit(fn, *args)`` → a future, ``shutdown()``,
``_max_workers``, ``retryable``/``lost_together`` as :class:`~helpers.sweep.executors.ProcessPool`;
it can be handed to ``drive_runs`` on a machine that has papermill, and then runs each notebook
in a fresh process), but the GPU path calls :meth:`DeviceExecutor.map_runs` with
:func:`train_one` instead of ``drive_runs``, and prepare/run/collect stay its steps.

On the GPU, JAX runs with deterministic XLA ops and float32 matrix products at full precision
(no TF32): :func:`device_env`. Records from a GPU say so (``provenance.gpu``,
``provenance.keras_backend``).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from functools import partial
from pathlib import Path
from typing import Any

from helpers.files import atomic_write_json
from helpers.runs.provenance import set_copy_check
from helpers.sweep.device_archive import VERIFICATION, write_archive
from helpers.sweep.device_job import check_copy, checked_commit, read_job, read_manifest
from helpers.sweep.executors import ProcessPool


def device_env(env: dict[str, str] | os._Environ, mem_fraction: float,
               compile_cache: str | os.PathLike[str] | None = None) -> None:
    """Keras on JAX unless a backend is set; deterministic XLA; fp32 products without TF32.

    ``compile_cache``: a folder for JAX's persistent compilation cache, shared by the workers,
    so a shape compiled by one run (a model × input size × preprocessing) is loaded, not
    compiled again, by the next runs of that shape in any worker; every compilation is kept
    (no minimum compile time or size). The cached program is the program: results do not
    change (a test trains one seed with and without a warm cache).
    """
    if compile_cache is not None:
        env.setdefault("JAX_COMPILATION_CACHE_DIR", str(compile_cache))
        env.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
        env.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
    env.setdefault("KERAS_BACKEND", "jax")
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    env.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{mem_fraction:.3f}")
    flags = env.get("XLA_FLAGS", "")
    if "xla_gpu_deterministic_ops" not in flags:
        env["XLA_FLAGS"] = (flags + " --xla_gpu_deterministic_ops=true").strip()
    env.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "highest")
    env.setdefault("PYTHONHASHSEED", "0")


def train_one(spec: Mapping[str, Any], locations: Mapping[str, str], log_dir: str,
              verified_commit: str | None) -> dict[str, Any]:
    """One run in this (fresh) process: train, save the record (a failure record on error).

    ``verified_commit``: the commit ``check_copy`` verified this copy against (None: it failed),
    handed over explicitly: the worker's records name it, and nothing in the environment can.
    Returns the run's summary (``run_id``, ``status``, ``test_auc`` or ``error``, ``wall_s``).
    """
    from helpers.runs import records
    from helpers.training import run_training, save_record
    from helpers.training.params import validate_params

    set_copy_check(verified_commit)
    params = {**spec["params"], **locations}
    log = Path(log_dir) / f"{spec['run_id']}.log"
    t0 = time.monotonic()
    with log.open("w") as fh, redirect_stdout(fh), redirect_stderr(fh):
        try:
            rec = run_training(params, verbose=2)
        except Exception as exc:  # noqa: BLE001 - the record says why; the sweep goes on
            ident = validate_params(params).identity()
            save_record(records.failure_record(ident, exc), locations["output_dir"])
            return {"run_id": spec["run_id"], "status": "failed", "error": repr(exc)[:300],
                    "wall_s": time.monotonic() - t0}
        save_record(rec, locations["output_dir"])
    auc = (rec.get("metrics") or {}).get("test", {}).get("auc")
    return {"run_id": spec["run_id"], "status": rec.get("status"), "test_auc": auc,
            "wall_s": time.monotonic() - t0}


def train_pack(specs: Sequence[Mapping[str, Any]], locations: Mapping[str, str], log_dir: str,
               verified_commit: str | None, deadline: float | None = None) -> list[dict[str, Any]]:
    """The runs of one pack (:func:`pack_runs`) one after another in this process.

    The seeds of one cell share their shapes, so after the first run the next ones find their
    programs compiled (JAX's persistent cache, :func:`device_env`) and their images decoded
    (the array cache). Keras's session is cleared before each run (names, memory); each run is
    seeded by ``run_training`` as in a fresh process, so a packed run's record equals the
    unpacked one (tested on the CPU with the JAX backend). No run starts after ``deadline``
    (``time.time()``): those are returned as ``not started``. Returns :func:`train_one`'s
    summaries in order.
    """
    out: list[dict[str, Any]] = []
    for spec in specs:
        if deadline is not None and time.time() > deadline:
            out.append({"run_id": spec["run_id"], "status": "not started",
                        "error": "--stop-after passed before it could start"})
            continue
        import gc

        import keras  # the worker's backend, set by device_env before it started

        keras.backend.clear_session()
        out.append(train_one(spec, locations, log_dir, verified_commit))
        gc.collect()  # the last run's model and arrays go before the next run takes memory
    return out


def cell_key(params: Mapping[str, Any]) -> str:
    """A run's cell: its params without the seed (runs of one cell share every shape)."""
    return json.dumps({k: v for k, v in params.items() if k != "seed"}, sort_keys=True,
                      default=str)


def pack_runs(runs: Sequence[Mapping[str, Any]], size: int) -> list[list[Mapping[str, Any]]]:
    """Consecutive runs of one cell, at most ``size`` together, in the job's order.

    Only neighbours are packed, so the job's order (by value: what a run cut short should
    still have returned) is kept; ``size`` 1 gives one run per process, as before.
    """
    if size < 1:
        raise ValueError(f"pack size must be at least 1; got {size}")
    packs: list[list[Mapping[str, Any]]] = []
    for run in runs:
        if packs and len(packs[-1]) < size and \
                cell_key(packs[-1][-1]["params"]) == cell_key(run["params"]):
            packs[-1].append(run)
        else:
            packs.append([run])
    return packs


class DeviceExecutor(ProcessPool):
    """Each call in a fresh spawned process, ``workers`` at a time: the GPU path's executor.

    A :class:`~helpers.sweep.executors.ProcessPool` whose workers each take one call and exit
    (``max_tasks_per_child=1``), so every run starts with the device's memory free. With
    ``mem_fraction`` the device's environment (:func:`device_env`, Keras on JAX) is set in this
    process before a worker starts, so the workers inherit it.
    """

    def __init__(self, workers: int = 1, *, mem_fraction: float | None = None,
                 compile_cache: str | os.PathLike[str] | None = None) -> None:
        if mem_fraction is not None:
            device_env(os.environ, mem_fraction, compile_cache)
        super().__init__(max(1, workers))

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self._max_workers, mp_context=multiprocessing.get_context(
            "spawn"), max_tasks_per_child=1)

    def renew(self) -> None:
        """Replace a broken pool (its calls in flight are lost) by a fresh one."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()
        self.rebuilt += 1

    def map_runs(self, fn: Callable[[Any], Any], items: Sequence[Any], *,
                 on_result: Callable[[Any, Any], None], stop_after: float | None = None,
                 on_start: Callable[[Any], None] | None = None,
                 log: Callable[[str], None] = print,
                 on_tick: Callable[[], None] | None = None, tick_s: float = 20.0) -> int:
        """Call ``fn(item)`` for each item through :meth:`submit`; the number of calls started.

        ``on_result(item, result)`` follows each call; a call that raised gives ``{"status":
        "worker died", "error": …}``. A worker killed outright (e.g. out of memory) breaks the
        pool: the calls in flight are reported as died and a fresh pool takes the items not
        yet started (a killed call is not retried, unlike under ``drive_runs``: on a device it
        would most likely be killed again). No item starts after ``stop_after`` seconds.
        ``on_tick()`` is called every ``tick_s`` seconds while calls run (the GPU path re-writes
        its archive then, so runs that finished inside a long pack come back even if the
        command is cut short).
        """
        t0 = time.monotonic()
        pending = list(items)
        futures: dict[Future, Any] = {}
        started = 0
        while pending or futures:
            while pending and len(futures) < self._max_workers:
                if stop_after is not None and time.monotonic() - t0 > stop_after:
                    log(f"--stop-after {stop_after:.0f} s: {len(pending)} runs not started")
                    pending = []
                    break
                item = pending.pop(0)
                futures[self.submit(fn, item)] = item
                started += 1
                if on_start is not None:
                    on_start(item)
            if not futures:
                break
            finished, _ = wait(list(futures), return_when=FIRST_COMPLETED,
                               timeout=tick_s if on_tick is not None else None)
            if on_tick is not None and not finished:
                on_tick()
                continue
            broken = False
            for fut in finished:
                item = futures.pop(fut)
                try:
                    res = fut.result()
                except BrokenProcessPool as exc:
                    broken = True
                    res = {"status": "worker died", "error": repr(exc)[:300]}
                except Exception as exc:  # noqa: BLE001 - the call raised: say so, go on
                    res = {"status": "worker died", "error": repr(exc)[:300]}
                on_result(item, res)
            if broken:
                for item in futures.values():
                    on_result(item, {"status": "worker died", "error": "the pool broke"})
                futures.clear()
                log("the process pool broke: a new one takes the runs not yet started")
                self.renew()
        return started


def run_pool(fn: Callable[[Any], Any], items: Sequence[Any], workers: int, *,
             on_result: Callable[[Any, Any], None], stop_after: float | None = None,
             on_start: Callable[[Any], None] | None = None,
             log: Callable[[str], None] = print) -> int:
    """:meth:`DeviceExecutor.map_runs` on a new executor of ``workers``, shut down after."""
    executor = DeviceExecutor(workers)
    try:
        return executor.map_runs(fn, items, on_result=on_result, stop_after=stop_after,
                                 on_start=on_start, log=log)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def run_job(job_dir: str | os.PathLike[str], output_dir: str | os.PathLike[str], *,
            root: Path, locations: Mapping[str, str] | None = None, workers: int = 1,
            mem_fraction: float = 0.08, archive: str | os.PathLike[str] | None = None,
            stop_after: float | None = None, only: Sequence[str] = (), pack: int = 1,
            compile_cache: str | os.PathLike[str] | None = None, monitor: bool = False) -> int:
    """``run``: train a job's planned runs here (the device); the exit status.

    Checks the copy of the tree at ``root`` against the job's manifest first
    (:func:`~helpers.sweep.device_job.check_copy`; the outcome goes into the archive as
    ``logs/verification.json`` and, explicitly, to each worker), then trains the runs (any of
    ``only``, substrings of the run id) ``workers`` processes at a time, each process taking a
    pack of up to ``pack`` consecutive runs of one cell (:func:`pack_runs`, :func:`train_pack`);
    records go to ``<output_dir>/records``, each run's log to ``<output_dir>/logs``; a run that
    already has an ok record there from the same verified commit (an earlier call on the same
    machine) is not run again.
    ``archive``: a tar re-written after every pack and every 20 s while packs run.
    ``locations``: the input folders, passed to every run. ``compile_cache``: JAX's persistent
    compilation cache folder (default ``<output_dir>/jax-cache``). ``monitor``: log the GPU's
    utilisation every 5 s (``nvidia-smi dmon``) to ``logs/gpu-dmon.log`` while the runs train.
    """
    job = read_job(job_dir)
    verification = check_copy(read_manifest(job_dir), root)
    out = Path(output_dir)
    cache = Path(compile_cache) if compile_cache else out / "jax-cache"
    executor = DeviceExecutor(workers, mem_fraction=mem_fraction, compile_cache=cache.resolve())
    records_dir, logs_dir = out / "records", out / "logs"
    records_dir.mkdir(parents=True, exist_ok=True)
    logs_dir.mkdir(parents=True, exist_ok=True)
    # The archive carries the check's outcome, so collect need not trust a separate log.
    atomic_write_json(logs_dir / VERIFICATION, verification)
    where = {k: str(Path(v).resolve()) for k, v in (locations or {}).items() if v}
    where["output_dir"] = str(out.resolve())
    runs = [r for r in job["runs"] if not only or any(s in r["run_id"] for s in only)]
    commit = checked_commit(verification)
    done_here = [r["run_id"] for r in runs if _ok_record(records_dir, r["run_id"], commit)]
    runs = [r for r in runs if r["run_id"] not in done_here]  # a second call goes on
    packs = pack_runs(runs, pack)
    tar = Path(archive) if archive else None
    t0 = time.monotonic()
    deadline = None if stop_after is None else time.time() + stop_after
    done = 0

    def say(msg: str) -> None:
        print(f"{time.monotonic() - t0:7.0f} s {msg}", flush=True)

    def refresh() -> None:
        if tar:
            write_archive(records_dir, logs_dir, tar)

    def report(specs: Sequence[Mapping[str, Any]], res: Any) -> None:
        nonlocal done
        if isinstance(res, list):
            results = res
        else:  # the worker died or raised: say which runs of its pack had saved a record
            results = [{"run_id": s["run_id"], "status": "ok", "note": "saved before the "
                        "worker died"} if _ok_record(records_dir, s["run_id"], commit)
                       else dict(res, run_id=s["run_id"]) for s in specs]
        for spec, one in zip(specs, results, strict=True):
            done += 1
            say(f"[{done}/{len(runs)}] {json.dumps({'run_id': spec['run_id'], **one})}")
        refresh()

    if done_here:
        say(f"{len(done_here)} runs already have an ok record in {records_dir}: not run again")
    say(f"{len(runs)} runs in {len(packs)} packs of up to {pack}, {workers} workers; "
        f"compilation cache {cache}")
    with gpu_monitor(logs_dir / "gpu-dmon.log", enabled=monitor, log=say):
        try:
            executor.map_runs(partial(train_pack, locations=where, log_dir=str(logs_dir),
                                      verified_commit=commit,
                                      deadline=deadline), packs,
                              on_result=report, stop_after=stop_after, log=say,
                              on_start=lambda specs: say(
                                  "start " + ", ".join(s["run_id"] for s in specs)),
                              on_tick=refresh)
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
    if tar:
        n = write_archive(records_dir, logs_dir, tar)
        print(f"{n} records in {tar}", flush=True)
    return 0


def _ok_record(records_dir: Path, run_id: str, commit: str | None) -> bool:
    """True when ``records_dir`` holds an ok record of ``run_id`` made from ``commit`` (an
    earlier call's run of this job; a record of other code is run again and replaced)."""
    from helpers.runs import records

    try:
        rec = records.read_json(records.record_path(records_dir.parent, run_id))
    except (OSError, ValueError):
        return False
    return (isinstance(rec, dict) and rec.get("status") == "ok"
            and (rec.get("provenance") or {}).get("git_commit") == commit)


@contextmanager
def gpu_monitor(path: Path, *, enabled: bool, log: Callable[[str], None] = print
                ) -> Iterator[None]:
    """While the block runs, ``nvidia-smi dmon`` samples the GPU's utilisation into ``path``.

    Skipped (said once) where there is no ``nvidia-smi``, e.g. the CPU dry run.
    """
    exe = shutil.which("nvidia-smi") if enabled else None
    if enabled and exe is None:
        log("no nvidia-smi here: GPU utilisation is not logged")
    if exe is None:
        yield
        return
    with path.open("w") as fh:
        proc = subprocess.Popen([exe, "dmon", "-s", "um", "-d", "5", "-o", "T"], stdout=fh,
                                stderr=subprocess.STDOUT)
        try:
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
