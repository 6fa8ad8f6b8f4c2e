"""Executors for sweep runs: this process, a local process pool, a Dask cluster (the training chapter sweep).

The runner needs only ``submit(fn, spec)`` → a future with ``done()``/``result()`` and
``shutdown()``. An executor may also say ``_max_workers`` (runs in flight at once),
``detached = True`` (its workers share no file system with the client: runs go through
:func:`helpers.sweep.execute.execute_run_detached` and the client writes the files) and
``retryable`` (exception types meaning "the worker was lost": such a run is submitted once
more) and ``lost_together = True`` (one lost worker fails every run in flight, as a process
pool does: the sweep then re-runs those runs one at a time, so that a second loss is the run's
own). ``dask`` and ``distributed`` are imported only by :func:`dask_executor`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any


class SequentialExecutor:
    """Runs each submitted call at once in this process; Executor-like (the training chapter sweep)."""

    _max_workers = 1

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Call ``fn(*args, **kwargs)`` now; return a finished future."""
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            fut.set_exception(exc)
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to release."""


def _wait_any(futures: list[Any], poll_s: float = 0.2) -> list[Any]:
    """The finished futures among ``futures``, blocking until at least one is done."""
    if all(isinstance(f, Future) for f in futures):
        return list(wait(futures, return_when=FIRST_COMPLETED).done)
    while True:  # other future types (e.g. dask.distributed.Future) offer done()/result()
        done = [f for f in futures if f.done()]
        if done:
            return done
        time.sleep(poll_s)


class ProcessPool:
    """A spawn-based process pool that replaces itself when a worker dies (the training chapter sweep).

    A worker killed mid-run (the OOM killer, ``kill -9``) breaks a ``ProcessPoolExecutor``:
    every run in flight fails with ``BrokenProcessPool`` and the pool takes no more work. Here
    :meth:`submit` starts a fresh pool in place of a broken one (``rebuilt`` counts them), and
    ``retryable``/``lost_together`` tell the sweep to re-run the lost runs (see the module).
    """

    retryable: tuple[type[BaseException], ...] = (BrokenProcessPool,)
    lost_together = True

    def __init__(self, workers: int) -> None:
        self._max_workers = workers
        self.rebuilt = 0
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        import multiprocessing

        return ProcessPoolExecutor(max_workers=self._max_workers,
                                   mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """``fn(*args, **kwargs)`` in a worker process, in a fresh pool if this one broke."""
        try:
            return self._pool.submit(fn, *args, **kwargs)
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            self.rebuilt += 1
            return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shut the current pool down."""
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def process_executor(workers: int) -> ProcessPool | None:
    """A :class:`ProcessPool` of ``workers`` processes for ``workers`` > 1, else None (sequential;
    the training chapter sweep)."""
    if workers <= 1:
        return None
    return ProcessPool(workers)


DASK_MISSING = (
    "the dask executors need dask.distributed, which is not installed: "
    'pip install -e ".[dask]"  (or: pip install "dask[distributed]")'
)


class DaskExecutor:
    """Runs go to a Dask cluster through ``Client.get_executor()`` (the training chapter sweep).

    Detached: workers need the project installed and the data, not the results folder.
    ``_max_workers`` is the cluster's worker threads when it was connected (or ``max_workers``).
    A run whose worker died (``KilledWorker``, a closed connection) is submitted once more.
    """

    detached = True

    def __init__(self, client: Any, cluster: Any = None, max_workers: int | None = None) -> None:
        from distributed import KilledWorker
        from distributed.comm.core import CommClosedError

        self.client, self.cluster = client, cluster
        self._executor = client.get_executor(pure=False)  # a resubmitted run gets a new key
        self.retryable: tuple[type[BaseException], ...] = (KilledWorker, CommClosedError)
        threads = sum(client.nthreads().values())
        self._max_workers = max_workers or max(1, threads)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """``fn(*args, **kwargs)`` on a worker; a ``concurrent.futures.Future``."""
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel what is still queued, close the client and a cluster started here."""
        self._executor.shutdown(wait=False)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def dask_executor(
    scheduler: str | None = None,
    *,
    workers: int = 1,
    timeout_s: float = 120.0,
) -> DaskExecutor:
    """A :class:`DaskExecutor` on the cluster at ``scheduler``, else on a new local one.

    ``scheduler``: an address such as ``tcp://10.0.0.5:8786`` (``dask scheduler`` prints it);
    waits up to ``timeout_s`` for a first worker. Without it: a ``LocalCluster`` of ``workers``
    processes with one thread each and no dashboard (the training chapter sweep).
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError(DASK_MISSING) from exc
    if scheduler:
        client = Client(scheduler, timeout=timeout_s)
        if not client.nthreads():
            print(f"waiting for a worker to join {scheduler} ...", flush=True)
            try:
                client.wait_for_workers(1, timeout=timeout_s)
            except Exception:
                client.close()
                raise
        return DaskExecutor(client)
    cluster = LocalCluster(
        n_workers=max(1, workers),
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit=0,  # each run's kernel is a child process the worker does not account for
    )
    return DaskExecutor(Client(cluster), cluster=cluster)
