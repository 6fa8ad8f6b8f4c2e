"""One sweep run: a papermill execution of the training notebook → a summary dict (training chapter).

:func:`execute_run` is a picklable top-level function taking and returning plain dicts of
absolute paths, so any ``concurrent.futures``-like executor can run it in another process. The
notebook writes ``<output_dir>/records/<run_id>.json``; a run that fails (an exception in the
notebook, or no record written) gets a ``status: "failed"`` record written here instead.

:func:`execute_run_detached` is the variant for workers that do not share the client's file
system (the Dask executors): it runs into a worker-local temporary folder and returns the record
and the executed notebook in its result; :func:`store_detached` writes them, atomically, into
the output folder on the client.

The kernel's own stderr (C++ and absl log lines of TensorFlow, oneDNN notices, Jupyter's
start-up warnings) goes to ``<output_dir>/logs/<run_id>.stderr.log`` in full; the sweep's
stderr shows only the lines that are not known noise (:data:`KERNEL_NOISE`), each prefixed
with the run id. On a Dask worker (detached runs) the log stays in the worker's temporary folder
and is lost with it, and the lines that are not noise reach the worker's stderr, not the
client's terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helpers import config as hconfig
from helpers.files import in_progress_path
from helpers.runs.records import (
    failure_record,
    provenance,
    read_json,
    record_matches,
    record_path,
    utc_now,
    write_json_atomic,
)
from helpers.sweep.config import _rel

KERNEL_NAME = "python3"

_LOG_HEAD = (r"(?:[IWE]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ "  # absl: I0000 00:00:17.1  64
             r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] )\S+:\d+\] ")  # TF: 2024-.. I
KERNEL_NOISE = re.compile(
    r"^(?:WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions: .*rebuild TensorFlow"  # cpu_feature_guard, line 2
    r"|\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption"
    r"|\d+\.\d+s - "  # pydevd: "0.00s - Debugger warning: ... frozen modules"
    r"|(?:I\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ |\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: I )"
    r"\S+:\d+\] "  # every C++ info line (oneDNN, cpu_feature_guard, ...)
    rf"|{_LOG_HEAD}(?:Unable to register cu\w+ factory|computation placer already registered"
    r"|TF-TRT Warning: Could not find TensorRT|failed call to cuInit|Could not find cuda drivers"
    r"|oneDNN custom operations are on|This TensorFlow binary is optimized))"
)
"""Lines of a kernel's stderr that every run prints and that say nothing about the run: kept
in the run's ``.stderr.log``, not shown. C++ warnings and errors other than these are shown."""


class _KernelStderr:
    """The kernel's stderr through a pipe: every line to a log file, the rest of the noise out.

    Use as a context manager around the notebook execution; :attr:`manager_class` is the
    kernel manager class that starts the kernel with this pipe as its stderr (papermill passes
    it on to nbclient). Lines not matching :data:`KERNEL_NOISE` go to this process's stderr,
    prefixed with ``prefix``.
    """

    def __init__(self, log_path: Path, prefix: str) -> None:
        self.log_path, self.prefix = log_path, prefix
        self.hidden = 0

    def __enter__(self) -> _KernelStderr:
        from jupyter_client.manager import AsyncKernelManager

        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed in __exit__
        self.log.write(f"--- {utc_now()}: kernel stderr of {self.prefix.strip(' :')}\n")
        self.log.flush()
        read_fd, self.write_fd = os.pipe()
        self.thread = threading.Thread(target=self._pump, args=(read_fd,), daemon=True)
        self.thread.start()
        write_fd = self.write_fd

        class _Manager(AsyncKernelManager):
            async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
                kw.setdefault("stderr", write_fd)
                await super().start_kernel(**kw)

        self.manager_class = _Manager
        return self

    def _pump(self, read_fd: int) -> None:
        with open(read_fd, encoding="utf-8", errors="replace") as pipe:
            for line in pipe:
                with contextlib.suppress(ValueError):  # the log closed after a join timeout
                    self.log.write(line)
                    self.log.flush()
                if KERNEL_NOISE.match(line):
                    self.hidden += 1
                else:
                    sys.stderr.write(f"{self.prefix}{line}" if line.endswith("\n")
                                     else f"{self.prefix}{line}\n")
                    sys.stderr.flush()

    def __exit__(self, *exc: object) -> None:
        os.close(self.write_fd)  # the kernel has exited: the pipe ends once its copy closes
        self.thread.join(timeout=10)
        self.log.close()


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


def _relativise_notebook_paths(nb_path: Path, root: Path, output: Path | None = None) -> None:
    """Papermill stores absolute input/output paths in the notebook metadata: make them relative.

    ``output``: the notebook's final place, when papermill wrote it elsewhere (its running file).
    """
    try:
        nb = read_json(nb_path)
        meta = nb["metadata"]["papermill"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    changed = False
    if output is not None:
        meta["output_path"] = str(output)
    for key in ("input_path", "output_path"):
        value = meta.get(key)
        if isinstance(value, str) and os.path.isabs(value):
            meta[key] = _rel(Path(value), root)
            changed = True
    if changed or output is not None:
        write_json_atomic(nb_path, nb)


def _put_notebook_in_place(running: Path, nb_out: Path, root: Path) -> None:
    """Move a finished (or failed) run's notebook from its running file to ``nb_out`` (training chapter).

    A run killed before this point leaves ``nb_out`` as it was (the last run's notebook) and a
    hidden running file, which the run's next execution replaces.
    """
    if not running.is_file():
        return
    _relativise_notebook_paths(running, root, output=nb_out.resolve())
    os.replace(running, nb_out)


def execute_run(run_spec: dict[str, Any]) -> dict[str, Any]:
    """Run one notebook execution described by a plain dict; return its summary (training chapter).

    ``run_spec`` keys: ``run_id``, ``params`` (identity), ``locations`` (papermill parameters,
    relative to ``cwd``), ``notebook``, ``notebook_out``, ``record``, ``cwd``, optional
    ``options`` (papermill parameters outside the identity, e.g. ``save_model``), ``defaults``
    (identity parameters at their default, left out of ``params`` and the run id but told to
    the notebook: :mod:`helpers.sweep.plan`) and ``kernel_name``. Never raises for a failed
    run: it writes a failed record instead.
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
    stderr_log = nb_out.parent.parent / "logs" / f"{rid}.stderr.log"
    running = in_progress_path(nb_out)  # papermill saves after every cell: never over nb_out
    for stale in nb_out.parent.glob(f".{nb_out.name}.running-*.ipynb"):
        stale.unlink(missing_ok=True)  # left by a killed execution of this run (its lock is ours)
    try:
        nb = jupytext.read(run_spec["notebook"])
        with _KernelStderr(stderr_log, f"  {rid}: ") as kernel_stderr:
            pm.execute_notebook(
                nb,
                str(running),
                parameters={**run_spec.get("defaults", {}), **params,
                            **run_spec.get("locations", {}), **run_spec.get("options", {})},
                kernel_name=run_spec.get("kernel_name", KERNEL_NAME),
                language="python",
                cwd=run_spec["cwd"],
                log_output=False,
                progress_bar=False,
                kernel_manager_class=kernel_stderr.manager_class,
            )
    except Exception as exc:  # noqa: BLE001 - every failure becomes a failed record
        error = exc
    wall = time.perf_counter() - t0
    _put_notebook_in_place(running, nb_out, Path(run_spec["cwd"]))
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


# --------------------------------------------------------------------------------------------
# Detached runs: the worker returns the files, the client writes them
# --------------------------------------------------------------------------------------------


def _worker_root(client_root: Path) -> Path:
    """The client's repository root if this machine has it, else this checkout's root."""
    if client_root.is_dir():
        return client_root
    here = hconfig.project_root(Path(__file__).parent, markers=("pyproject.toml",))
    return here if here is not None else Path.cwd().resolve()


def _json_str(s: str) -> str:
    return json.dumps(s)[1:-1]


def execute_run_detached(run_spec: dict[str, Any]) -> dict[str, Any]:
    """:func:`execute_run` in a worker-local folder; the files come back in the result (training chapter).

    ``run_spec`` is :func:`execute_run`'s, plus ``notebook_text`` (the client's notebook, so the
    worker runs the same version). The run executes with the client's repository root as working
    folder when this machine has it, else this checkout's root; locations that do not exist
    there are dropped, so the notebook falls back to this machine's ``RESBOOK_*`` variables. The
    output folder is a temporary one, removed afterwards; in the record and the executed notebook
    its path is replaced by the client's. Adds ``record_json``, ``record_name`` and
    ``notebook_json`` (None if no notebook was written) to the summary.
    """
    rid = run_spec["run_id"]
    client_root = Path(run_spec["cwd"])
    cwd = _worker_root(client_root)
    locations = dict(run_spec.get("locations", {}))
    client_out = locations.pop("output_dir", "results")
    if cwd != client_root:
        locations = {k: v for k, v in locations.items() if (cwd / v).exists()}
    with tempfile.TemporaryDirectory(prefix="resbook-run-") as tmp:
        tmp_p = Path(tmp)
        out = tmp_p / "out"
        nb_in = Path(run_spec["notebook"])
        if "notebook_text" in run_spec:
            nb_in = tmp_p / nb_in.name
            nb_in.write_text(run_spec["notebook_text"], encoding="utf-8")
        local = {
            **{k: v for k, v in run_spec.items() if k != "notebook_text"},
            "notebook": str(nb_in),
            "cwd": str(cwd),
            "locations": {**locations, "output_dir": _rel(out, cwd)},
            "record": str(record_path(out, rid)),
            "notebook_out": str(out / "notebooks" / f"{rid}.ipynb"),
        }
        res = execute_run(local)
        # worker-local paths → the client's (longest first: the relative form ends in the others)
        client_abs = os.path.normpath(client_root / client_out)
        swaps = [(local["locations"]["output_dir"], client_out)]
        for p in {str(out), os.path.realpath(out)}:
            swaps.append((p, client_abs))
        if nb_in != Path(run_spec["notebook"]):
            for p in {str(nb_in), os.path.realpath(nb_in)}:
                swaps.append((p, run_spec["notebook"]))

        def restore(path: Path) -> Any:
            text = path.read_text(encoding="utf-8")
            for old, new in swaps:
                text = text.replace(_json_str(old), _json_str(new))
            return json.loads(text)

        rec_file = Path(res.pop("record"))
        nb_out = Path(local["notebook_out"])
        for key in ("error", "warning"):
            if isinstance(res.get(key), str):
                for old, new in swaps:
                    res[key] = res[key].replace(old, new)
        return {
            **res,
            "record_name": rec_file.name,
            "record_json": restore(rec_file),
            "notebook_json": restore(nb_out) if nb_out.is_file() else None,
        }


def store_detached(run_spec: Mapping[str, Any], res: Mapping[str, Any]) -> dict[str, Any]:
    """Write a detached run's record and notebook into the client's output folder (training chapter).

    Both are written with :func:`helpers.runs.records.write_json_atomic`; the notebook's papermill
    metadata gets the client's paths, relative to the repository root, as :func:`execute_run`
    writes them. Returns the summary with ``record`` set to the record's path here.
    """
    res = dict(res)
    rec = res.pop("record_json", None)
    name = Path(res.pop("record_name", None) or f"{run_spec['run_id']}.json").name
    nb = res.pop("notebook_json", None)
    root = Path(run_spec["cwd"])
    if rec is not None:
        path = write_json_atomic(Path(run_spec["record"]).parent / name, rec)
        res["record"] = str(path)
    if isinstance(nb, dict):
        meta = nb.get("metadata", {}).get("papermill")
        if isinstance(meta, dict):
            meta["input_path"] = _rel(Path(run_spec["notebook"]), root)
            meta["output_path"] = _rel(Path(run_spec["notebook_out"]), root)
        write_json_atomic(run_spec["notebook_out"], nb)
    return res
