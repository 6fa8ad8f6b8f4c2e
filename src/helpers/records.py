"""Run records: run ids, atomic JSON files, provenance, loading (chapters 03 train, 04 results).

A *run record* is one JSON file per training run (schema in CONTRIBUTING.md). Its ``params`` hold
only the *identity* of the run (:data:`IDENTITY_KEYS`): the locations ``data_root``,
``weights_dir``, ``cache_dir`` and ``output_dir`` differ between machines and are never part of
it, so a record written on a laptop matches the same run on CI. Identical identity params give
the same :func:`run_id`, which is how a sweep recognises a finished run and skips it.

Typical use inside the training notebook::

    prov = provenance(ds.fingerprint, weights_file)
    record = {"schema": SCHEMA, "run_id": run_id(params), "status": "ok",
              "params": canonical_params(params), ..., "provenance": prov}
    record["provenance"]["finished_at"] = utc_now()
    write_json_atomic(record_path(output_dir, record["run_id"]), record)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import re
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

# sha256_file and to_jsonable live in helpers.files; records.<name> keeps working for callers.
from helpers.files import atomic_write_json, sha256_file, to_jsonable

SCHEMA = 1
"""Version of the run-record layout (CONTRIBUTING.md); bump when keys change meaning."""

IDENTITY_KEYS: tuple[str, ...] = (
    "dataset",
    "task",
    "model",
    "resolution",
    "regime",
    "unfreeze_blocks",
    "preprocessing",
    "epochs",
    "batch_size",
    "lr",
    "seed",
    "weights",
    "early_stopping",
    "patience_es",
    "balanced_eval",
    "max_images",
    "precision",
)
"""The training parameters that define a run (everything except where files live)."""

OMITTED_AT_DEFAULT: dict[str, Any] = {"precision": "float32"}
"""Identity keys added after the first records were made: left out of the canonical params at
their default value, which is what every earlier run used, so that earlier run ids stay valid."""

LOCATION_KEYS: tuple[str, ...] = ("data_root", "weights_dir", "cache_dir", "output_dir")
"""Parameters that say where files live: passed to runs, never part of a run's identity."""

RUN_ID_FIELDS: tuple[str, ...] = (
    "dataset",
    "task",
    "model",
    "resolution",
    "regime",
    "preprocessing",
)

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

_WEIGHTS_SUFFIXES = (".h5", ".keras", ".weights.h5", ".npz", ".pt", ".pth")


# --------------------------------------------------------------------------------------------
# JSON normalisation and identity
# --------------------------------------------------------------------------------------------


def _as_dict(params: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        return dataclasses.asdict(params)
    if isinstance(params, Mapping):
        return dict(params)
    raise TypeError(f"params must be a mapping or a dataclass, got {type(params).__name__}")


def _normalise_value(key: str, value: Any) -> Any:
    value = to_jsonable(value)
    # 64.0 and 64 are the same run: integral floats become ints so hashes agree.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    # A weights *file* is identified by its name (its sha256 goes into provenance), so that
    # no absolute path enters the committed params.
    if (
        key == "weights"
        and isinstance(value, str)
        and ("/" in value or "\\" in value or value.lower().endswith(_WEIGHTS_SUFFIXES))
    ):
        value = re.split(r"[\\/]", value.rstrip("/\\"))[-1]
    return value


def canonical_params(params: Mapping[str, Any] | Any) -> dict[str, Any]:
    """Identity params only (locations dropped), sorted and JSON-normalised (chapter 03)."""
    raw = _as_dict(params)
    out = {k: _normalise_value(k, raw[k]) for k in sorted(raw) if k not in LOCATION_KEYS}
    for key, default in OMITTED_AT_DEFAULT.items():
        if key in out and out[key] == default:
            del out[key]
    return out


def params_hash(params: Mapping[str, Any] | Any) -> str:
    """First 8 hex digits of the sha256 of the canonical params JSON (chapter 03)."""
    text = json.dumps(canonical_params(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _slug(value: Any) -> str:
    text = "none" if value is None else str(value)
    return re.sub(r"[^A-Za-z0-9_.]+", "_", text).strip("_") or "x"


def run_id(params: Mapping[str, Any] | Any) -> str:
    """``<dataset>-<task>-<model>-<res>-<regime>-<prep>-s<seed>-<hash8>`` (chapters 03, 04)."""
    canon = canonical_params(params)
    missing = [k for k in (*RUN_ID_FIELDS, "seed") if k not in canon]
    if missing:
        raise KeyError(f"run_id needs the params {missing}; got {sorted(canon)}")
    head = "-".join(_slug(canon[k]) for k in RUN_ID_FIELDS)
    if canon.get("precision") == "mixed_bfloat16":  # float32, the default, is not named
        head += "-bf16"
    return f"{head}-s{_slug(canon['seed'])}-{params_hash(canon)}"


def record_path(output_dir: str | os.PathLike[str], rid: str) -> Path:
    """Where the record of run ``rid`` lives: ``<output_dir>/records/<rid>.json`` (chapter 03)."""
    return Path(output_dir) / "records" / f"{rid}.json"


def record_matches(record: Mapping[str, Any], params: Mapping[str, Any] | Any) -> bool:
    """True when ``record`` was made with the same identity params (chapter 03 resume)."""
    stored = record.get("params")
    if not isinstance(stored, Mapping):
        return False
    return canonical_params(stored) == canonical_params(params)


# --------------------------------------------------------------------------------------------
# Atomic writes and loading
# --------------------------------------------------------------------------------------------


def write_json_atomic(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 1) -> Path:
    """Write strict JSON so that a crash never leaves a half-written file (chapter 03).

    :func:`helpers.files.atomic_write_json`, durable (file and folder flushed to disk).
    """
    return atomic_write_json(path, obj, indent=indent)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read one JSON file (chapter 04)."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _record_files(folder: Path) -> Iterable[Path]:
    for p in sorted(folder.rglob("*.json")):
        rel = p.relative_to(folder).parts
        if any(part.startswith(".") for part in rel):  # temp files, .ipynb_checkpoints
            continue
        yield p


def load_records(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All run records found recursively under ``folder`` (chapter 04 results).

    Files that cannot be parsed are skipped with a warning naming them; JSON files that are not
    run records (no ``run_id``/``params``, e.g. ``sweep.json``) are ignored.
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(
            f"no results folder {folder}: run a sweep first (python -m helpers sweep CONFIG)"
        )
    out: list[dict[str, Any]] = []
    for p in _record_files(folder):
        try:
            rec = read_json(p)
        except (OSError, ValueError) as exc:
            warnings.warn(f"skipping unreadable run record {p}: {exc}", stacklevel=2)
            continue
        if isinstance(rec, dict) and "run_id" in rec and "params" in rec:
            out.append(rec)
    return out


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------


def utc_now() -> str:
    """Current UTC time as ISO 8601 with seconds, e.g. ``2024-05-01T12:00:00+00:00`` (ch. 03)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        res = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() if res.returncode == 0 else None


def git_state(start: str | os.PathLike[str] | None = None) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git checkout holding this package; (None, None) if none (ch. 03)."""
    here = Path(start) if start is not None else Path(__file__).resolve().parent
    # The package must be a tracked file of the checkout: a site-packages copy inside an
    # ignored .venv of some repository does not count.
    if _git(["ls-files", "--error-unmatch", "--", "."], here) is None:
        return None, None
    commit = _git(["rev-parse", "HEAD"], here)
    if commit is None:
        return None, None
    status = _git(["status", "--porcelain", "--untracked-files=no"], here)
    return commit, (None if status is None else bool(status))


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of the numerical packages, None when absent (chapter 03)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def keras_backend() -> str:
    """The Keras backend in use, read without importing Keras when it is not loaded (ch. 03)."""
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
    """CPU model name, vector extensions, logical and usable cores (chapter 03).

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
    """Names of visible GPUs when a loaded framework can tell cheaply, else None (chapter 03)."""
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
            return [str(d) for d in jax.devices() if d.platform == "gpu"] or None
        except Exception:  # noqa: BLE001
            return None
    return None


def host_hash() -> str:
    """Salted sha256 prefix of the host name: tells machines apart without naming them (ch. 03)."""
    return hashlib.sha256(f"resbook:{socket.gethostname()}".encode()).hexdigest()[:12]


def provenance(
    data_fingerprint: str | None, weights_path: str | os.PathLike[str] | None
) -> dict[str, Any]:
    """Where and with what a run was made: code, packages, machine, data, weights (ch. 03)."""
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


def error_info(exc: BaseException) -> dict[str, str]:
    """``{type, message, traceback}`` of an exception for a failed record (chapter 03)."""
    import traceback

    # papermill's PapermillExecutionError carries the notebook's own error.
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    tb = getattr(exc, "traceback", None)
    if ename is not None:
        lines = tb if isinstance(tb, list) else [str(tb or "")]
        text = "\n".join(_strip_ansi(str(x)) for x in lines)
        return {"type": str(ename), "message": _strip_ansi(str(evalue)), "traceback": text}
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return {"type": type(exc).__name__, "message": str(exc), "traceback": text}


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def failure_record(
    params: Mapping[str, Any] | Any,
    exc: BaseException,
    prov: Mapping[str, Any] | None = None,
    *,
    wall_s: float | None = None,
) -> dict[str, Any]:
    """A ``status: "failed"`` run record for ``params`` with the error (chapter 03 sweep)."""
    rec: dict[str, Any] = {
        "schema": SCHEMA,
        "run_id": run_id(params),
        "status": "failed",
        "params": canonical_params(params),
        "error": error_info(exc),
        "timing": {"wall_s": wall_s},
        "provenance": dict(prov) if prov is not None else provenance(None, None),
    }
    rec["provenance"]["finished_at"] = utc_now()
    return rec
