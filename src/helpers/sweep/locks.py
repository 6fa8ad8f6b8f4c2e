"""Per-run lock files: two sweeps writing one output folder never run the same cell (training chapter).

Before a run starts, the sweep creates ``<output_dir>/locks/<run_id>.lock`` with
``O_CREAT | O_EXCL`` (atomic on local file systems and NFSv3+), holding the process id, the host
name and the start time; it removes it when the run has finished. A second sweep that finds
the file skips that run and reports it as running elsewhere. A lock is *stale*, and is taken
over, when it names this host and a process id that no longer exists (a sweep that was
killed); a lock from another host is always respected (remove it by hand if that host died).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path
from typing import Any

from helpers.runs.provenance import utc_now

LOCKS_SUBDIR = "locks"


def lock_path(output_dir: str | os.PathLike[str], rid: str) -> Path:
    """``<output_dir>/locks/<run_id>.lock``."""
    return Path(output_dir) / LOCKS_SUBDIR / f"{rid}.lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def read_lock(path: Path) -> dict[str, Any] | None:
    """The lock's content, ``{}`` if unreadable (being written), None if there is none."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


def is_stale(info: dict[str, Any]) -> bool:
    """True for a lock of this host whose process is gone."""
    pid = info.get("pid")
    return (info.get("host") == socket.gethostname() and isinstance(pid, int)
            and pid != os.getpid() and not _pid_alive(pid))


def describe(info: dict[str, Any] | None) -> str:
    """``pid 123 on host-a since 2024-…`` for messages."""
    if not info:
        return "a lock being written"
    return f"pid {info.get('pid')} on {info.get('host')} since {info.get('started_at')}"


def acquire(path: Path) -> tuple[bool, dict[str, Any] | None]:
    """Take the lock: (True, None), or (False, the holder's info) when another process has it.

    A stale lock (:func:`is_stale`) is removed and taken; the result says nothing about it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            info = read_lock(path)
            if info is None:
                continue  # released meanwhile: try again
            if info and is_stale(info):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                continue
            return False, info
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                       "started_at": utc_now()}, fh)
        return True, None
    return False, read_lock(path)


def release(path: Path) -> None:
    """Remove a lock this process holds (nothing if it is gone or another process's)."""
    info = read_lock(path)
    if info and info.get("pid") == os.getpid() and info.get("host") == socket.gethostname():
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
