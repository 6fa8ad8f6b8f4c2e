"""Resumable sweeps: a YAML grid → one papermill run of the training notebook per cell (ch. 03).

Config format (see ``configs/paper.yaml`` for a commented example)::

    name: paper                          # used in messages; default output folder results/<name>
    notebook: notebooks/03_train.py      # jupytext py:percent notebook, run with papermill
    output_dir: results/paper            # records/, notebooks/, logs/ and sweep.json below it
    grid:                                # cartesian product of these lists
      dataset: [isic2017]
      model: [mobilenet, resnet50]
      resolution: [64, 128, 224, 256]
      seed: [0, 1, 2]
    fixed: {epochs: 30, batch_size: 32, lr: 0.001, weights: imagenet}
    include:                             # optional extra blocks, each run in addition
      - grid: {regime: [full], resolution: [64, 128]}   # overrides/extends the top-level grid
        fixed: {epochs: 10}                             # overrides the top-level fixed values
    validate: true                       # check every run with helpers.train.validate_params

Rules. Relative paths (``notebook``, ``output_dir``) are relative to the repository root: the
nearest folder above the config file holding ``pyproject.toml`` (else the current folder). A key
may not be both in ``grid`` and ``fixed`` of one block. An ``include`` block starts from the
top-level grid and fixed values; a key it names in ``grid`` or ``fixed`` replaces the top-level
one. Parameters the config does not set take the notebook's defaults (its ``parameters`` cell).
Runs that come out identical in two blocks are run once. Locations (``data_root``,
``weights_dir``, ``cache_dir``) are *not* config keys: they come from CLI options or the
``RESBOOK_*`` environment variables, are passed to the notebook as paths relative to the
repository root, and never enter a run's identity (:mod:`helpers.records`).

Each run executes the notebook into ``<output_dir>/notebooks/<run_id>.ipynb``; the notebook writes
``<output_dir>/records/<run_id>.json``. A run whose record exists with status ``ok`` and the same
identity params is skipped, so an interrupted sweep resumes where it stopped. A failing run gets a
``status: "failed"`` record (error type, message, traceback) and the sweep goes on; the next sweep
retries it. Runs go through any ``concurrent.futures.Executor``-like object (``submit(fn, spec)``
→ a future with ``done()``/``result()``), e.g. a Dask ``distributed.Client`` or its
``client.get_executor()``; :func:`execute_run` is a picklable top-level function taking a plain
dict of absolute paths, so workers must see the same file system (data, repository, output).

CLI: ``python -m helpers sweep CONFIG [--data-root P] [--weights-dir P] [--cache-dir P]
[--output-dir P] [--dry-run] [--only SUBSTRING] [--workers N] [--max-runs N]``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import itertools
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helpers import config as hconfig
from helpers.records import (
    IDENTITY_KEYS,
    LOCATION_KEYS,
    canonical_params,
    failure_record,
    provenance,
    read_json,
    record_matches,
    record_path,
    run_id,
    utc_now,
    write_json_atomic,
)

CONFIG_KEYS = {"name", "notebook", "output_dir", "grid", "fixed", "include", "validate"}
BLOCK_KEYS = {"grid", "fixed"}
KERNEL_NAME = "python3"


class SweepConfigError(ValueError):
    """A sweep config that cannot be expanded; the message names the file and the fix."""


# --------------------------------------------------------------------------------------------
# Config → runs
# --------------------------------------------------------------------------------------------


def find_root(start: str | os.PathLike[str]) -> Path:
    """Nearest folder at or above ``start`` holding ``pyproject.toml``, else cwd (chapter 03)."""
    p = Path(start).resolve()
    for cand in [p, *p.parents]:
        if (cand / "pyproject.toml").is_file():
            return cand
    return Path.cwd().resolve()


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a sweep YAML; adds ``_source`` and ``_root`` (repository root) keys (chapter 03)."""
    path = Path(path)
    if not path.is_file():
        raise SweepConfigError(f"sweep config {path} does not exist")
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SweepConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(cfg, dict):
        raise SweepConfigError(f"{path}: expected a mapping with name/notebook/grid/fixed keys")
    cfg["_source"] = str(path)
    cfg["_root"] = str(find_root(path.parent))
    return cfg


def _where(cfg: Mapping[str, Any]) -> str:
    return str(cfg.get("_source", "sweep config"))


def _as_list(key: str, value: Any, where: str) -> list[Any]:
    if isinstance(value, list):
        if not value:
            raise SweepConfigError(f"{where}: grid key {key!r} has an empty list; give values")
        return value
    if isinstance(value, dict):
        raise SweepConfigError(f"{where}: grid key {key!r} must be a list, not a mapping")
    return [value]


def _check_keys(keys: Sequence[str], where: str, block: str) -> None:
    for k in keys:
        if k in LOCATION_KEYS:
            raise SweepConfigError(
                f"{where}: {block} sets {k!r}, a location; pass it with --{k.replace('_', '-')}"
                " or the RESBOOK_* environment variables instead (locations are not run params)"
            )


def _blocks(cfg: Mapping[str, Any]) -> list[tuple[dict[str, list[Any]], dict[str, Any]]]:
    where = _where(cfg)
    unknown = set(cfg) - CONFIG_KEYS - {"_source", "_root"}
    if unknown:
        raise SweepConfigError(
            f"{where}: unknown top-level keys {sorted(unknown)}; allowed: {sorted(CONFIG_KEYS)}"
        )
    grid_raw = cfg.get("grid") or {}
    fixed = dict(cfg.get("fixed") or {})
    if not isinstance(grid_raw, dict) or not isinstance(fixed, dict):
        raise SweepConfigError(f"{where}: 'grid' and 'fixed' must be mappings of param: value(s)")
    grid = {k: _as_list(k, v, where) for k, v in grid_raw.items()}
    both = set(grid) & set(fixed)
    if both:
        raise SweepConfigError(f"{where}: {sorted(both)} appear in both 'grid' and 'fixed'")
    _check_keys([*grid, *fixed], where, "the top level")
    blocks = [(grid, fixed)] if grid or fixed else []
    include = cfg.get("include") or []
    if not isinstance(include, list):
        raise SweepConfigError(f"{where}: 'include' must be a list of {{grid, fixed}} blocks")
    for i, blk in enumerate(include):
        if not isinstance(blk, dict) or set(blk) - BLOCK_KEYS:
            raise SweepConfigError(
                f"{where}: include[{i}] must be a mapping with only 'grid' and/or 'fixed'"
            )
        g_over = {k: _as_list(k, v, where) for k, v in (blk.get("grid") or {}).items()}
        f_over = dict(blk.get("fixed") or {})
        both = set(g_over) & set(f_over)
        if both:
            raise SweepConfigError(f"{where}: include[{i}] has {sorted(both)} in grid and fixed")
        _check_keys([*g_over, *f_over], where, f"include[{i}]")
        g = {k: v for k, v in grid.items() if k not in f_over} | g_over
        f = {k: v for k, v in fixed.items() if k not in g_over} | f_over
        blocks.append((g, f))
    if not blocks:
        raise SweepConfigError(f"{where}: no 'grid', 'fixed' or 'include': nothing to run")
    return blocks


def notebook_defaults(notebook: str | os.PathLike[str]) -> dict[str, Any]:
    """Literal defaults in the notebook's ``parameters`` cell (chapter 03 sweep)."""
    import jupytext

    nb = jupytext.read(str(notebook))
    out: dict[str, Any] = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" not in cell.metadata.get("tags", []):
            continue
        for node in ast.parse(cell.source).body:
            target = value = None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            if isinstance(target, ast.Name) and value is not None:
                # a computed default (not a literal) is left to the notebook
                with contextlib.suppress(ValueError):
                    out[target.id] = ast.literal_eval(value)
    return out


def default_validator() -> Callable[[dict[str, Any]], Any] | None:
    """``helpers.train.validate_params`` when that module imports, else None (chapter 03)."""
    try:
        from helpers.train import validate_params
    except ImportError:
        return None
    return validate_params


def _resolve(root: Path, p: str | os.PathLike[str]) -> Path:
    q = Path(p).expanduser()
    return (q if q.is_absolute() else root / q).resolve()


def expand(
    config: Mapping[str, Any],
    *,
    validator: Callable[[dict[str, Any]], Any] | None | str = "default",
    defaults: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every run of a sweep config as canonical identity params, validated (chapter 03).

    ``validator="default"`` uses :func:`default_validator` unless the config says
    ``validate: false``; ``defaults`` (else the notebook's parameters cell) fill unset params.
    """
    where = _where(config)
    blocks = _blocks(config)
    if defaults is None:
        nb = config.get("notebook")
        root = Path(config.get("_root") or Path.cwd())
        defaults = {}
        if nb:
            nb_path = _resolve(root, nb)
            if not nb_path.is_file():
                raise SweepConfigError(f"{where}: notebook {nb} not found (under {root.name}/)")
            defaults = notebook_defaults(nb_path)
    base = {k: v for k, v in defaults.items() if k in IDENTITY_KEYS}
    if validator == "default":
        validator = default_validator() if config.get("validate", True) else None
    runs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for grid, fixed in blocks:
        keys = list(grid)
        for combo in itertools.product(*(grid[k] for k in keys)):
            raw = {**base, **fixed, **dict(zip(keys, combo, strict=True))}
            if validator is None:
                unknown = sorted(set(raw) - set(IDENTITY_KEYS))
                if unknown:
                    raise SweepConfigError(
                        f"{where}: unknown parameter(s) {unknown}; known: {list(IDENTITY_KEYS)}"
                    )
                params = canonical_params(raw)
            else:
                try:
                    params = canonical_params(validator(dict(raw)))
                except Exception as exc:  # the validator's own message says what is wrong
                    raise SweepConfigError(
                        f"{where}: invalid run {canonical_params(raw)}: {exc}"
                    ) from exc
            if params.get("weights") not in (None, "imagenet"):
                raise SweepConfigError(
                    f"{where}: weights={raw.get('weights')!r}: a sweep takes weights 'imagenet' "
                    "or null; put local ImageNet files in --weights-dir / $RESBOOK_WEIGHTS_DIR"
                )
            try:
                rid = run_id(params)
            except KeyError as exc:
                raise SweepConfigError(
                    f"{where}: {exc.args[0]}; set them in grid or fixed"
                ) from exc
            if rid not in seen:
                seen.add(rid)
                runs.append(params)
    return runs


# --------------------------------------------------------------------------------------------
# Executing one run (picklable, plain-dict in and out)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------------------------


@dataclass
class SweepSummary:
    """Outcome of one sweep invocation (chapter 03)."""

    name: str
    output_dir: Path
    runs: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0

    def count(self, status: str) -> int:
        """Number of runs with this status (ok, failed, skipped, not_run, planned)."""
        return sum(r["status"] == status for r in self.runs)

    @property
    def ok(self) -> bool:
        """True when no run failed in this invocation."""
        return self.count("failed") == 0


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "?"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else (f"{m}m{sec:02d}s" if m else f"{sec}s")


class _Eta:
    """Remaining-time estimate from mean wall times per (regime, model, resolution)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self.times: dict[tuple[Any, ...], list[float]] = {}
        self.all: list[float] = []

    @staticmethod
    def key(params: Mapping[str, Any]) -> tuple[Any, ...]:
        return (params.get("regime"), params.get("model"), params.get("resolution"))

    def add(self, params: Mapping[str, Any], wall: float) -> None:
        self.times.setdefault(self.key(params), []).append(wall)
        self.all.append(wall)

    def estimate(self, remaining: Sequence[Mapping[str, Any]]) -> float | None:
        if not self.all:
            return None
        mean_all = sum(self.all) / len(self.all)
        total = 0.0
        for p in remaining:
            t = self.times.get(self.key(p))
            total += sum(t) / len(t) if t else mean_all
        return total / self.workers


def _rel(path: Path, root: Path) -> str:
    try:
        return os.path.relpath(path, root)
    except ValueError:  # another drive on Windows
        return str(path)


def run_sweep(
    config: Mapping[str, Any] | str | os.PathLike[str],
    *,
    executor: Any = None,
    data_root: str | os.PathLike[str] | None = None,
    weights_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    only: str | None = None,
    max_runs: int | None = None,
    max_in_flight: int | None = None,
    root: str | os.PathLike[str] | None = None,
    validator: Callable[[dict[str, Any]], Any] | None | str = "default",
    log: Callable[[str], None] | None = None,
) -> SweepSummary:
    """Run every missing or failed run of a sweep config; resumable (chapter 03)."""
    cfg = load_config(config) if isinstance(config, str | os.PathLike) else dict(config)
    root_p = Path(root or cfg.get("_root") or Path.cwd()).resolve()
    cfg.setdefault("_root", str(root_p))
    name = str(cfg.get("name") or "sweep")
    if not cfg.get("notebook"):
        raise SweepConfigError(f"{_where(cfg)}: 'notebook' is missing (e.g. notebooks/03_train.py)")
    nb_path = _resolve(root_p, cfg["notebook"])
    out = (
        _resolve(root_p, output_dir)
        if output_dir
        else _resolve(root_p, cfg["output_dir"])
        if cfg.get("output_dir")
        else hconfig.results_dir() / name
    )
    runs = expand(cfg, validator=validator)

    locations: dict[str, str] = {"output_dir": _rel(out, root_p)}
    for key, explicit, env in (
        ("data_root", data_root, hconfig.ENV_DATA_DIR),
        ("weights_dir", weights_dir, hconfig.ENV_WEIGHTS_DIR),
        ("cache_dir", cache_dir, hconfig.ENV_CACHE_DIR),
    ):
        value = explicit or os.environ.get(env, "").strip() or None
        if value:
            locations[key] = _rel(Path(value).expanduser().resolve(), root_p)

    logs_dir = out / "logs"
    if not dry_run:
        logs_dir.mkdir(parents=True, exist_ok=True)

    def say(msg: str) -> None:
        print(msg, flush=True)
        if log is not None:
            log(msg)
        if not dry_run:
            with open(logs_dir / "sweep.log", "a", encoding="utf-8") as fh:
                fh.write(f"{utc_now()} {msg}\n")

    started_at = utc_now()
    summary = SweepSummary(name=name, output_dir=out)
    todo: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (spec, summary row)
    for params in runs:
        rid = run_id(params)
        rec_path = record_path(out, rid)
        row: dict[str, Any] = {"run_id": rid, "status": "planned", "wall_s": None}
        summary.runs.append(row)
        done = _record_ok(rec_path, params)
        if done is not None:
            row["status"] = "skipped"
            timing = done.get("timing")
            row["wall_s"] = timing.get("wall_s") if isinstance(timing, dict) else None
            continue
        if only and only not in rid:
            row["status"] = "not_run"
            continue
        if max_runs is not None and len(todo) >= max_runs:
            row["status"] = "not_run"
            continue
        spec = {
            "run_id": rid,
            "params": params,
            "locations": locations,
            "notebook": str(nb_path),
            "notebook_out": str(out / "notebooks" / f"{rid}.ipynb"),
            "record": str(rec_path),
            "cwd": str(root_p),
            "kernel_name": KERNEL_NAME,
        }
        todo.append((spec, row))

    n_total = len(runs)
    say(
        f"sweep {name}: {n_total} runs, {summary.count('skipped')} already done, "
        f"{len(todo)} to run, {summary.count('not_run')} filtered out -> {_rel(out, root_p)}"
    )
    if dry_run:
        for spec, _row in todo:
            print(f"  would run {spec['run_id']}", flush=True)
        return summary

    own_executor = executor is None
    executor = SequentialExecutor() if executor is None else executor
    limit = max_in_flight or getattr(executor, "_max_workers", None) or max(1, len(todo))
    eta = _Eta(int(limit))
    t_start = time.perf_counter()
    index = {spec["run_id"]: i for i, (spec, _row) in enumerate(todo, start=1)}
    queue = list(todo)
    pending: dict[Future, tuple[dict[str, Any], dict[str, Any]]] = {}

    def finish(spec: dict[str, Any], row: dict[str, Any], res: dict[str, Any]) -> None:
        row.update(status=res["status"], wall_s=res.get("wall_s"))
        if res.get("error"):
            row["error"] = res["error"]
        if res.get("wall_s") is not None:
            eta.add(spec["params"], float(res["wall_s"]))
        left = [s["params"] for s, _ in queue] + [s["params"] for s, _ in pending.values()]
        msg = (
            f"[{index[spec['run_id']]}/{len(todo)}] {res['status']} {spec['run_id']} "
            f"in {_fmt_s(res.get('wall_s'))}; ETA {_fmt_s(eta.estimate(left) if left else 0)}"
        )
        if res.get("error"):
            msg += f"\n    {res['error'].splitlines()[0][:300]}"
        if res.get("warning"):
            msg += f"\n    warning: {res['warning']}"
        say(msg)

    try:
        while queue or pending:
            while queue and len(pending) < limit:
                spec, row = queue.pop(0)
                left = [s["params"] for s, _ in queue] + [spec["params"]]
                est = eta.estimate(left)
                say(
                    f"[{index[spec['run_id']]}/{len(todo)}] start {spec['run_id']}"
                    + (f" (ETA {_fmt_s(est)})" if est is not None else "")
                )
                row["status"] = "running"
                fut = executor.submit(execute_run, spec)
                pending[fut] = (spec, row)
            done = _wait_any(list(pending))
            for fut in done:
                spec, row = pending.pop(fut)
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001 - e.g. a worker process died
                    rec = failure_record(spec["params"], exc, provenance(None, None))
                    rec["run_id"] = spec["run_id"]
                    write_json_atomic(spec["record"], rec)
                    res = {
                        "run_id": spec["run_id"],
                        "status": "failed",
                        "wall_s": None,
                        "error": f"{rec['error']['type']}: {rec['error']['message']}",
                    }
                finish(spec, row, res)
    finally:
        for row in summary.runs:
            if row["status"] in {"planned", "running"}:
                row["status"] = "not_run"
        summary.wall_s = time.perf_counter() - t_start
        if own_executor:
            executor.shutdown()
        write_json_atomic(
            out / "sweep.json",
            {
                "name": name,
                "config": _rel(Path(cfg["_source"]).resolve(), root_p)
                if "_source" in cfg
                else None,
                "started_at": started_at,
                "finished_at": utc_now(),
                "wall_s": summary.wall_s,  # this invocation; runs[].wall_s: each run's own
                "counts": {s: summary.count(s) for s in ("ok", "failed", "skipped", "not_run")},
                "runs": summary.runs,
            },
        )
    say(
        f"sweep {name} done in {_fmt_s(summary.wall_s)}: {summary.count('ok')} ok, "
        f"{summary.count('failed')} failed, {summary.count('skipped')} skipped, "
        f"{summary.count('not_run')} not run"
    )
    return summary


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers sweep",
        description="Run a YAML grid of training runs with papermill; resumable (chapter 03).",
    )
    p.add_argument("config", help="sweep YAML, e.g. configs/smoke.yaml")
    p.add_argument("--data-root", default=None, help="data folder (default: $RESBOOK_DATA_DIR)")
    p.add_argument("--weights-dir", default=None, help="local weights ($RESBOOK_WEIGHTS_DIR)")
    p.add_argument("--cache-dir", default=None, help="array/feature cache ($RESBOOK_CACHE_DIR)")
    p.add_argument("--output-dir", default=None, help="override the config's output_dir")
    p.add_argument("--dry-run", action="store_true", help="list the runs, execute nothing")
    p.add_argument("--only", default=None, metavar="SUBSTRING", help="only run ids containing it")
    p.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    p.add_argument("--max-runs", type=int, default=None, help="stop after starting N runs")
    return p


def process_executor(workers: int) -> ProcessPoolExecutor | None:
    """A spawn-based process pool for ``workers`` > 1, else None (sequential; chapter 03 sweep)."""
    if workers <= 1:
        return None
    import multiprocessing

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers sweep CONFIG ...``: 0 when no run failed, 1 otherwise (chapter 03)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sweep":
        argv = argv[1:]
    args = _parser().parse_args(argv)
    if args.workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return 2
    executor = process_executor(args.workers)
    try:
        summary = run_sweep(
            args.config,
            executor=executor,
            data_root=args.data_root,
            weights_dir=args.weights_dir,
            cache_dir=args.cache_dir,
            output_dir=args.output_dir,
            dry_run=args.dry_run,
            only=args.only,
            max_runs=args.max_runs,
        )
    except SweepConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if executor is not None:
            executor.shutdown()
    return 0 if summary.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
