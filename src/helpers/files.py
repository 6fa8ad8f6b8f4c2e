"""Writing and hashing files: the one atomic write and the one file hash of the package (every chapter).

* :func:`atomic_write` writes a file so that a crash (or an exception in the writer) never
  leaves a half-written file at its path: the content goes to a temporary file in the same
  folder, which then replaces the target with ``os.replace``. The file gets the usual
  permissions of a new file (``0o666`` less the umask, e.g. ``0644``), not the ``0600`` of a
  temporary file. :func:`atomic_write_bytes` and :func:`atomic_write_json` are the two common
  cases; run records use the latter (strict JSON: NaN and infinities become ``null``).
* :func:`hash_file` is the streaming file digest; :func:`sha256_file` adds a per-process memo
  keyed by (path, size, modification time), so a 95 MB weights file is read once.

Nothing here imports NumPy or Keras.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

_CHUNK = 1 << 20


# --------------------------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------------------------


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (``/proc``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: the classic set-and-restore
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); harmless where unsupported."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write(
    path: str | os.PathLike[str],
    write: Callable[[IO[bytes]], None],
    *,
    durable: bool = True,
    suffix: str = ".tmp",
) -> Path:
    """Write ``path`` all at once: ``write(fh)`` fills a temporary binary file that replaces it.

    ``fh.name`` is the temporary file's path, for a writer that needs to read back what it
    wrote (e.g. to check a checksum before the file is put in place). Any exception leaves the
    old file (or no file) and no temporary file. ``durable=True`` also flushes the file and the
    folder to disk (records, downloads); caches that can be recomputed pass ``False``.
    The temporary file is ``.<name>.<random><suffix>`` next to ``path``. Returns ``Path(path)``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:  # by name, so that fh.name is the path
            write(fh)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(path.parent)
    return path


def in_progress_path(path: str | os.PathLike[str]) -> Path:
    """The hidden file beside ``path`` that a long writer fills before it replaces ``path``.

    papermill saves its notebook after every cell; writing into this file instead and moving it
    into place when the run ends (``os.replace``) means a failure or a kill never leaves a
    half-written or failed notebook where the book or a sweep keeps the last good one (chapters,
    run notebooks). The pid in the name tells a live writer's file from one a killed run left.
    """
    path = Path(path)
    return path.with_name(f".{path.name}.running-{os.getpid()}.ipynb")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, durable: bool = True) -> Path:
    """:func:`atomic_write` of the bytes ``data``."""
    return atomic_write(path, lambda fh: fh.write(data), durable=durable)


def to_jsonable(obj: Any) -> Any:
    """Strict-JSON copy of ``obj``: NaN/inf → None, NumPy → Python, Path → str (training chapter)."""
    if obj is None or isinstance(obj, bool | str | int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        items = sorted(obj, key=repr) if isinstance(obj, set | frozenset) else obj
        return [to_jsonable(v) for v in items]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    # NumPy scalars and arrays without importing NumPy here.
    if hasattr(obj, "tolist") and callable(obj.tolist):
        return to_jsonable(obj.tolist())
    if hasattr(obj, "item") and callable(obj.item):
        return to_jsonable(obj.item())
    raise TypeError(f"cannot store a {type(obj).__name__} in a run record: {obj!r}")


def json_text(obj: Any, *, indent: int | None = 1, sort_keys: bool = False) -> str:
    """Strict JSON text of ``obj`` (:func:`to_jsonable`; no NaN), UTF-8 characters kept."""
    return json.dumps(to_jsonable(obj), indent=indent, sort_keys=sort_keys, allow_nan=False,
                      ensure_ascii=False)


def atomic_write_json(
    path: str | os.PathLike[str],
    obj: Any,
    *,
    indent: int | None = 1,
    sort_keys: bool = False,
    durable: bool = True,
) -> Path:
    """Write ``obj`` as strict JSON (UTF-8, final newline) with :func:`atomic_write` (training chapter).

    The text is made before the file is touched, so an object that cannot be stored leaves
    nothing behind.
    """
    data = (json_text(obj, indent=indent, sort_keys=sort_keys) + "\n").encode("utf-8")
    return atomic_write_bytes(path, data, durable=durable)


# --------------------------------------------------------------------------------------------
# Damaged files
# --------------------------------------------------------------------------------------------

DAMAGED_FILE_ERRORS: tuple[type[BaseException], ...] = (
    OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile,
)
"""What reading a truncated or corrupt ``.npz``/``.npy``/``.json`` raises (a full disk, a kill
mid-copy): ``np.load`` of a cut ``.npz`` raises ``zipfile.BadZipFile``, which is none of the
others, and names no file. Catch these, then :func:`warn_damaged`."""


def warn_damaged(path: str | os.PathLike[str], exc: BaseException, action: str) -> str:
    """Warn that ``path`` could not be read and what is done instead; returns the message."""
    msg = f"damaged file {os.fspath(path)} ({type(exc).__name__}: {exc}); {action}"
    warnings.warn(msg, stacklevel=3)
    return msg


# --------------------------------------------------------------------------------------------
# Hashing
# --------------------------------------------------------------------------------------------


def hash_file(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes, read in 1 MiB blocks (``algorithm``: any of hashlib's)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


_SHA_MEMO: dict[tuple[str, int, int], str] = {}


def file_key(path: str | os.PathLike[str]) -> tuple[str, int, int]:
    """(resolved path, size, mtime in ns): changes whenever the file is rewritten."""
    p = Path(path).resolve()
    st = p.stat()
    return (str(p), st.st_size, st.st_mtime_ns)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """sha256 hex digest of a file, memoised per :func:`file_key` in this process (training chapter)."""
    key = file_key(path)
    if key not in _SHA_MEMO:
        _SHA_MEMO[key] = hash_file(key[0], "sha256")
    return _SHA_MEMO[key]


def replace_marked_block(path: str | os.PathLike[str], name: str, text: str) -> Path:
    """Replace what lies between ``<!-- name:start -->`` and ``<!-- name:end -->`` in ``path``.

    The README's generated benchmark tables (``scripts/benchmark.py``,
    ``scripts/deploy_sweep.py``: README, the bf16-parity and deployment chapters) are written this way, atomically.
    A missing or misordered marker is an error naming the file and the marker to add.
    """
    path = Path(path)
    old = path.read_text(encoding="utf-8")
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    a, b = old.find(start), old.find(end)
    if a < 0 or b < a:
        raise ValueError(f"{path}: needs the lines {start} and {end} (in that order) around the "
                         "block to replace")
    new = old[: a + len(start)] + "\n" + text.strip("\n") + "\n" + old[b:]
    return atomic_write_bytes(path, new.encode("utf-8"))
