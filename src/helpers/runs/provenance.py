"""Provenance of a run: code, packages, machine, data, weights (the training chapter train).

Every run record carries ``provenance`` (:func:`provenance`): the git commit and whether the
checkout was dirty (and then a hash of the uncommitted diff), the versions of the numerical packages, the Keras backend, the CPU (model
and the vector extensions that decide TensorFlow's kernels), visible GPUs, a salted hash of the
host name, the data set's fingerprint and the weights file's sha256. :mod:`helpers.runs.records`
re-exports these names.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from helpers.files import sha256_file

PACKAGES: tuple[str, ...] = (
    "numpy",
    "keras",
    "tensorflow",
    "tensorflow-cpu",
    "jax",
    "torch",
    "scikit-learn",
    "papermill",
)


def utc_now() -> str:
    """Current UTC time as ISO 8601 with seconds, e.g. ``2024-05-01T12:00:00+00:00`` (training chapter)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        res = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() if res.returncode == 0 else None


# A copy of the tree on another machine (e.g. a lent GPU) names its commit only after
# scripts/device_sweep.py checked it file by file against that commit's blob ids (verify_tree)
# and handed the outcome to this process with set_copy_check (its run step, then each worker
# explicitly). It wins over git there: such a copy may carry a stale .git of another commit
# (seen on the GPU machine: an older HEAD plus "uncommitted" changes). The outcome is also
# exported in this variable (for logs and child processes to read), but a commit in it counts
# only in a process that set_copy_check gave that same commit: the variable alone is ignored,
# so setting it by hand cannot make a dirty tree's record name another commit, clean.
ENV_VERIFIED_COMMIT = "RESBOOK_VERIFIED_COMMIT"
# Its value when a copy was checked and did NOT match (or came from a dirty checkout): records
# then name no commit at all, rather than whatever a stale .git in the copy says.
UNVERIFIED = "unverified"
_copy_check: str | None = None  # set_copy_check's commit (or UNVERIFIED) in this process


def set_copy_check(commit: str | None) -> None:
    """Record device_sweep's manifest check in this process: the verified commit, or None.

    Called by ``scripts/device_sweep.py run`` after its ``verify_tree`` and by each of its
    workers with the commit passed to it (the bf16-parity appendix's GPU runs); nothing else calls it.
    None (the copy differs, or the manifest came from a dirty checkout): records name no commit.
    """
    global _copy_check
    _copy_check = commit.strip() if commit and commit.strip() else UNVERIFIED
    os.environ[ENV_VERIFIED_COMMIT] = _copy_check


def _checked_copy() -> tuple[bool, str | None]:
    """(decided, commit) from device_sweep's check in this process; warns on a hand-set commit."""
    value = os.environ.get(ENV_VERIFIED_COMMIT, "").strip()
    if value == UNVERIFIED:  # naming no commit can only make a record say less
        return True, None
    if value and value == _copy_check:
        return True, value
    if value:
        warnings.warn(f"${ENV_VERIFIED_COMMIT}={value!r} is ignored: only "
                      "scripts/device_sweep.py run sets it, after checking the copy of the tree "
                      "file by file; the record names what git says. Unset the variable.",
                      UserWarning, stacklevel=1)
    return False, None


def git_state(start: str | os.PathLike[str] | None = None) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git checkout holding this package; (None, None) if none (training chapter).

    In a process where ``scripts/device_sweep.py`` checked this copy of the tree
    (:func:`set_copy_check`), its outcome decides without asking git: the verified commit gives
    ``(commit, False)``, a failed check ``(None, None)``. ``$RESBOOK_VERIFIED_COMMIT`` set by
    hand to a commit is ignored (with a warning); set to ``unverified`` it gives ``(None, None)``.
    """
    decided, commit = _checked_copy()
    if decided:
        return (commit, False) if commit else (None, None)
    here = Path(start) if start is not None else Path(__file__).resolve().parent
    # The package must be a tracked file of the checkout: a site-packages copy inside an
    # ignored .venv of some repository does not count.
    if _git(["ls-files", "--error-unmatch", "--", "."], here) is None:
        return None, None
    commit = _git(["rev-parse", "HEAD"], here)
    if commit is None:
        return None, None
    # A sweep's own outputs (run records, logs, executed run notebooks under results/) are not
    # the code that made them: only changes outside results/ make the checkout dirty.
    status = _git(["status", "--porcelain", "--untracked-files=no", "--",
                   ":(top)", ":(top,exclude)results"], here)
    return commit, (None if status is None else bool(status))


def git_diff_sha256(start: str | os.PathLike[str] | None = None) -> str | None:
    """sha256 of ``git diff HEAD --binary`` (tracked files) when the checkout is dirty, else None.

    Names exactly which uncommitted changes a run was made with: two runs with equal hashes ran
    the same code. Untracked files are not included, as in :func:`git_state` (training chapter).
    """
    here = Path(start) if start is not None else Path(__file__).resolve().parent
    commit, dirty = git_state(here)
    if commit is None or not dirty:
        return None
    try:
        res = subprocess.run(
            ["git", "diff", "HEAD", "--binary", "--no-color", "--no-ext-diff"],
            cwd=here, capture_output=True, timeout=60, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return hashlib.sha256(res.stdout).hexdigest() if res.returncode == 0 else None


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of the numerical packages, None when absent (training chapter)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def keras_backend() -> str:
    """The Keras backend in use, read without importing Keras when it is not loaded (training chapter)."""
    keras = sys.modules.get("keras")
    if keras is not None:
        try:
            return str(keras.backend.backend())
        except Exception:  # noqa: BLE001 - a half-imported keras must not break provenance
            pass
    env = os.environ.get("KERAS_BACKEND", "").strip()
    if env:
        return env
    cfg = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return str(json.loads(cfg.read_text()).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def cpu_info() -> dict[str, Any]:
    """CPU model name, vector extensions, logical and usable cores (training chapter).

    ``simd`` lists the AVX-512/AMX flags that decide TensorFlow's default CPU kernels (and
    AVX2/FMA), so that run times from different machines can be compared fairly.
    """
    model = None
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                low = line.lower()
                if model is None and low.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif not flags and low.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                if model is not None and flags:
                    break
    except OSError:
        pass
    if not model:
        model = platform.processor() or platform.machine() or None
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    simd = sorted(f for f in flags if f in ("avx2", "fma") or f.startswith(("avx512", "amx")))
    return {"model": model, "simd": simd, "cores": os.cpu_count(), "usable_cores": usable}


def gpu_info() -> list[str] | None:
    """Names of visible GPUs when a loaded framework can tell cheaply, else None (training chapter)."""
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        try:
            devs = tf.config.list_physical_devices("GPU")
        except Exception:  # noqa: BLE001
            devs = []
        names = []
        for d in devs:
            try:
                names.append(
                    str(tf.config.experimental.get_device_details(d).get("device_name") or d.name)
                )
            except Exception:  # noqa: BLE001
                names.append(str(d.name))
        return names or None
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        except Exception:  # noqa: BLE001
            return None
    jax = sys.modules.get("jax")
    if jax is not None:
        try:
            return [f"{d} ({d.device_kind})" if getattr(d, "device_kind", "") else str(d)
                    for d in jax.devices() if d.platform == "gpu"] or None  # e.g. "cuda:0 (NVIDIA H200)"
        except Exception:  # noqa: BLE001
            return None
    return None


def host_hash() -> str:
    """Salted sha256 prefix of the host name: tells machines apart without naming them (training chapter)."""
    return hashlib.sha256(f"resbook:{socket.gethostname()}".encode()).hexdigest()[:12]


def provenance(
    data_fingerprint: str | None, weights_path: str | os.PathLike[str] | None
) -> dict[str, Any]:
    """Where and with what a run was made: code, packages, machine, data, weights (training chapter)."""
    commit, dirty = git_state()
    weights_file = weights_sha = None
    if weights_path not in (None, ""):
        wp = Path(weights_path)
        weights_file = wp.name
        if wp.is_file():
            weights_sha = sha256_file(wp)
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "git_diff_sha256": git_diff_sha256() if dirty else None,
        "python": platform.python_version(),
        "packages": package_versions(),
        "keras_backend": keras_backend(),
        "tf_enable_onednn_opts": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
        "platform": platform.platform(),
        "cpu": cpu_info(),
        "gpu": gpu_info(),
        "host": host_hash(),
        "data_fingerprint": data_fingerprint,
        "weights_file": weights_file,
        "weights_sha256": weights_sha,
        "started_at": utc_now(),
        "finished_at": None,
    }
