"""Run records: run ids, atomic JSON files, loading; provenance re-exported (the training and results chapters).

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
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# Re-exported: sha256_file and to_jsonable live in helpers.files, the provenance helpers in
# helpers.runs.provenance; records.<name> keeps working for every caller.
from helpers.files import atomic_write_json, to_jsonable
from helpers.files import sha256_file as sha256_file
from helpers.runs.provenance import PACKAGES as PACKAGES
from helpers.runs.provenance import cpu_info as cpu_info
from helpers.runs.provenance import git_diff_sha256 as git_diff_sha256
from helpers.runs.provenance import git_state as git_state
from helpers.runs.provenance import gpu_info as gpu_info
from helpers.runs.provenance import host_hash as host_hash
from helpers.runs.provenance import keras_backend as keras_backend
from helpers.runs.provenance import package_versions as package_versions
from helpers.runs.provenance import provenance, utc_now

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
    "aug_rotation",
    "aug_hflip",
    "aug_brightness",
    "aug_contrast",
    "class_weight",
    "lr_schedule",
    "unfreeze_layers",
    "tta",
    "split_seed",
    "external",
    "val_fraction",
    "geometry",
    "resample",
)
"""The training parameters that define a run (everything except where files live)."""

OMITTED_AT_DEFAULT: dict[str, Any] = {
    "precision": "float32",
    "aug_rotation": 0,
    "aug_hflip": False,
    "aug_brightness": 0,
    "aug_contrast": 0,
    "class_weight": "none",
    "lr_schedule": "plateau",
    "unfreeze_layers": None,
    "tta": 0,
    "split_seed": None,
    "external": None,
    "val_fraction": None,
    "geometry": "squash",
    "resample": "bilinear",
}
"""Identity keys added after the first records were made: left out of the canonical params at
their default value, which is what every earlier run used, so that earlier run ids stay valid."""

LOCATION_KEYS: tuple[str, ...] = ("data_root", "weights_dir", "cache_dir", "output_dir",
                                   "external_root", "external_masks")
"""Parameters that say where files live: passed to runs, never part of a run's identity."""

OPTION_KEYS: tuple[str, ...] = ("save_model",)
"""Run options that change what a run leaves behind, not what it computes: never identity."""

RUN_ID_FIELDS: tuple[str, ...] = (
    "dataset",
    "task",
    "model",
    "resolution",
    "regime",
    "preprocessing",
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
    """Identity params only (locations and options dropped), sorted, JSON-normalised (training chapter)."""
    raw = _as_dict(params)
    out = {k: _normalise_value(k, raw[k]) for k in sorted(raw)
           if k not in LOCATION_KEYS and k not in OPTION_KEYS}
    for key, default in OMITTED_AT_DEFAULT.items():
        if key in out and out[key] == default:
            del out[key]
    return out


def params_hash(params: Mapping[str, Any] | Any) -> str:
    """First 8 hex digits of the sha256 of the canonical params JSON (training chapter)."""
    text = json.dumps(canonical_params(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _slug(value: Any) -> str:
    text = "none" if value is None else str(value)
    return re.sub(r"[^A-Za-z0-9_.]+", "_", text).strip("_") or "x"


def run_id(params: Mapping[str, Any] | Any) -> str:
    """``<dataset>-<task>-<model>-<res>-<regime>-<prep>[-bf16][-<geometry>][-<resample>]``
    ``[-ext_<external>]-s<seed>-<hash8>``.

    ``-bf16`` only for mixed bfloat16 precision, the geometry and resample only when they are
    not the defaults (squash, bilinear) and ``-ext_<name>`` only for a run that scores an
    external test set, so the ids of every other run stay what they were (the training, results and external-site chapters).
    """
    canon = canonical_params(params)
    missing = [k for k in (*RUN_ID_FIELDS, "seed") if k not in canon]
    if missing:
        raise KeyError(f"run_id needs the params {missing}; got {sorted(canon)}")
    head = "-".join(_slug(canon[k]) for k in RUN_ID_FIELDS)
    if canon.get("precision") == "mixed_bfloat16":  # float32, the default, is not named
        head += "-bf16"
    for key in ("geometry", "resample"):  # left out of canon at their defaults
        if key in canon:
            head += f"-{_slug(canon[key])}"
    if canon.get("external") is not None:  # None, the default, is left out of canon
        head += f"-ext_{_slug(canon['external'])}"
    return f"{head}-s{_slug(canon['seed'])}-{params_hash(canon)}"


def record_path(output_dir: str | os.PathLike[str], rid: str) -> Path:
    """Where the record of run ``rid`` lives: ``<output_dir>/records/<rid>.json`` (training chapter)."""
    return Path(output_dir) / "records" / f"{rid}.json"


def record_matches(record: Mapping[str, Any], params: Mapping[str, Any] | Any) -> bool:
    """True when ``record`` was made with the same identity params (the training chapter resume)."""
    stored = record.get("params")
    if not isinstance(stored, Mapping):
        return False
    return canonical_params(stored) == canonical_params(params)


# --------------------------------------------------------------------------------------------
# Atomic writes and loading
# --------------------------------------------------------------------------------------------


def write_json_atomic(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 1) -> Path:
    """Write strict JSON so that a crash never leaves a half-written file (training chapter).

    :func:`helpers.files.atomic_write_json`, durable (file and folder flushed to disk).
    """
    return atomic_write_json(path, obj, indent=indent)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read one JSON file (results chapter)."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def parse_json(data: bytes | str) -> Any:
    """Parse a record's JSON from bytes or text already read (e.g. a member of a device run's
    archive); ValueError when it is not UTF-8 JSON."""
    return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)


def _record_files(folder: Path) -> Iterable[Path]:
    for p in sorted(folder.rglob("*.json")):
        rel = p.relative_to(folder).parts
        if any(part.startswith(".") for part in rel):  # temp files, .ipynb_checkpoints
            continue
        yield p


def load_records(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All run records found recursively under ``folder`` (the results chapter results).

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
# Failed runs
# --------------------------------------------------------------------------------------------


def error_info(exc: BaseException) -> dict[str, str]:
    """``{type, message, traceback}`` of an exception for a failed record (training chapter)."""
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
    """A ``status: "failed"`` run record for ``params`` with the error (the training chapter sweep)."""
    rec: dict[str, Any] = {
        "schema": SCHEMA,
        "run_id": run_id(params),
        "status": "failed",
        "params": canonical_params(params),
        "error": error_info(exc),
        "timing": {"wall_s": wall_s},
        "provenance": dict(prov) if prov is not None else provenance(None, None),
    }
    history = getattr(exc, "history", None)  # attached by helpers.training.run
    if isinstance(history, Mapping):
        rec["history"] = to_jsonable(history)  # the epochs before the failure (e.g. a NaN)
    run_warnings = getattr(exc, "run_warnings", None)
    if run_warnings:
        rec["warnings"] = [str(w) for w in run_warnings]
    rec["provenance"]["finished_at"] = utc_now()
    return rec
