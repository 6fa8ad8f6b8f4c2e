"""Executors for sweep runs: in this process, a local process pool (chapter 03 sweep).

The runner needs only ``submit(fn, spec)`` → a future with ``done()``/``result()`` and
``shutdown()``; an executor may also say ``_max_workers`` (runs in flight at once).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any


class SequentialExecutor:
    """Runs each submitted call at once in this process; Executor-like (chapter 03 sweep)."""

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


def process_executor(workers: int) -> ProcessPoolExecutor | None:
    """A spawn-based process pool for ``workers`` > 1, else None (sequential; chapter 03 sweep)."""
    if workers <= 1:
        return None
    import multiprocessing

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
