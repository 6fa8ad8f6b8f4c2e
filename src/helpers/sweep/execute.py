"""One sweep run: a papermill execution of the training notebook → a summary dict (ch. 03).

:func:`execute_run` is a picklable top-level function taking and returning plain dicts of
absolute paths, so any ``concurrent.futures``-like executor can run it in another process. The
notebook writes ``<output_dir>/records/<run_id>.json``; a run that fails (an exception in the
notebook, or no record written) gets a ``status: "failed"`` record written here instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helpers.records import (
    failure_record,
    provenance,
    read_json,
    record_matches,
    write_json_atomic,
)
from helpers.sweep.config import _rel

KERNEL_NAME = "python3"


def _record_ok(path: Path, params: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        rec = read_json(path)
    except (OSError, ValueError):
        return None
    if isinstance(rec, dict) and rec.get("status") == "ok" and record_matches(rec, params):
        return rec
    return None


def _find_matching_record(
    records_dir: Path, params: Mapping[str, Any], since: float
) -> Path | None:
    if not records_dir.is_dir():
        return None
    for p in sorted(records_dir.glob("*.json")):
        try:
            if p.stat().st_mtime < since:
                continue
            rec = read_json(p)
        except (OSError, ValueError):
            continue
        if isinstance(rec, dict) and record_matches(rec, params):
            return p
    return None


def _relativise_notebook_paths(nb_path: Path, root: Path) -> None:
    """Papermill stores absolute input/output paths in the notebook metadata: make them relative."""
    try:
        nb = read_json(nb_path)
        meta = nb["metadata"]["papermill"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    changed = False
    for key in ("input_path", "output_path"):
        value = meta.get(key)
        if isinstance(value, str) and os.path.isabs(value):
            meta[key] = _rel(Path(value), root)
            changed = True
    if changed:
        write_json_atomic(nb_path, nb)


def execute_run(run_spec: dict[str, Any]) -> dict[str, Any]:
    """Run one notebook execution described by a plain dict; return its summary (chapter 03).

    ``run_spec`` keys: ``run_id``, ``params`` (identity), ``locations`` (papermill parameters,
    relative to ``cwd``), ``notebook``, ``notebook_out``, ``record``, ``cwd``, optional
    ``kernel_name``. Never raises for a failed run: it writes a failed record instead.
    """
    import jupytext
    import papermill as pm

    rid = run_spec["run_id"]
    params = dict(run_spec["params"])
    record = Path(run_spec["record"])
    nb_out = Path(run_spec["notebook_out"])
    nb_out.parent.mkdir(parents=True, exist_ok=True)
    record.parent.mkdir(parents=True, exist_ok=True)
    start_wall = time.time()
    t0 = time.perf_counter()
    error: BaseException | None = None
    try:
        nb = jupytext.read(run_spec["notebook"])
        pm.execute_notebook(
            nb,
            str(nb_out),
            parameters={**params, **run_spec.get("locations", {})},
            kernel_name=run_spec.get("kernel_name", KERNEL_NAME),
            language="python",
            cwd=run_spec["cwd"],
            log_output=False,
            progress_bar=False,
        )
    except Exception as exc:  # noqa: BLE001 - every failure becomes a failed record
        error = exc
    wall = time.perf_counter() - t0
    _relativise_notebook_paths(nb_out, Path(run_spec["cwd"]))
    if error is None:
        if _record_ok(record, params) is not None:
            return {"run_id": rid, "status": "ok", "wall_s": wall, "record": str(record)}
        other = _find_matching_record(record.parent, params, start_wall - 1)
        if other is not None:
            if _record_ok(other, params) is not None:
                return {
                    "run_id": rid,
                    "status": "ok",
                    "wall_s": wall,
                    "record": str(other),
                    "warning": f"notebook named the run {other.stem}, the sweep expected {rid}",
                }
            record = other
        if record.is_file():
            try:
                rec = read_json(record)
            except (OSError, ValueError):
                rec = None
            if isinstance(rec, dict) and rec.get("status") == "failed":  # notebook's own record
                err = rec.get("error") or {}
                return {
                    "run_id": rid,
                    "status": "failed",
                    "wall_s": wall,
                    "record": str(record),
                    "error": f"{err.get('type')}: {err.get('message')}",
                }
        error = RuntimeError(
            f"notebook {run_spec['notebook']} finished without writing an ok record at {record}"
            " for these params: it must write records.record_path(output_dir, run_id(params))"
        )
    rec = failure_record(params, error, provenance(None, None), wall_s=wall)
    rec["run_id"] = rid
    write_json_atomic(record, rec)
    err = rec["error"]
    return {
        "run_id": rid,
        "status": "failed",
        "wall_s": wall,
        "record": str(record),
        "error": f"{err['type']}: {err['message']}",
    }
