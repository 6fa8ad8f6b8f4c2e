"""Which runs of a sweep's grid have records, which are still to run, and their cost (results chapter).

A results folder written by ``python -m helpers sweep CONFIG`` holds ``sweep.json``, which names
its config. :func:`grid_status` expands that config (as the sweep does: the *current* file, so
blocks added since the last sweep count as planned) and looks up each run's record: ``ok``,
``failed`` or ``not run``, with the record's wall time and the device that trained it. :func:`coverage_table` counts them per
model × set-up × input size, so a reader sees how much of the grid the chapter rests on and
what it cost, and :func:`still_to_run` names what is missing with the command that resumes it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.chapters.formatting import MISSING, styled
from helpers.runs.records import OMITTED_AT_DEFAULT, read_json, record_matches, record_path, run_id

#: Identity keys that can make up the set-up of a cell; only those the grid varies are shown.
SETUP_KEYS = ("dataset", "task", "regime", "preprocessing", "precision")


class NoSweepError(FileNotFoundError):
    """The results folder has no ``sweep.json`` naming its config, or the config is gone."""


def sweep_config_path(results_dir: str | os.PathLike[str]) -> Path:
    """The config file named by ``<results_dir>/sweep.json`` (relative to the repository root)."""
    from helpers.config import find_root

    folder = Path(results_dir)
    meta = folder / "sweep.json"
    shown = f"{folder.name}/sweep.json"  # messages end up on pages: no machine's absolute path
    if not meta.is_file():
        raise NoSweepError(f"{shown}: no such file (`python -m helpers sweep CONFIG` writes it)")
    name = read_json(meta).get("config")
    if not name:
        raise NoSweepError(f"{shown}: names no config")
    path = Path(name)
    if not path.is_absolute():
        path = find_root(folder) / path
    if not path.is_file():
        raise NoSweepError(f"{shown}: its config {name} does not exist any more")
    return path


def grid_status(results_dir: str | os.PathLike[str],
                config: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """One row per run of the sweep config: identity params, ``status`` and ``wall_s`` (results chapter).

    ``config`` defaults to the one named by ``sweep.json``. ``status`` is the record's (``ok``,
    ``failed``), ``other params`` for an ok record made with other parameters (the sweep would
    run it again) or ``not run`` when there is no record; ``wall_s`` is :func:`run_wall_s` of the
    record (NaN when not run or not timed), ``device`` ``cpu`` or ``gpu`` (``provenance.gpu``),
    ``started_at`` the record's start time (ISO 8601), ``epochs_run`` and ``train_images_per_s``
    the record's (NaN when absent). Keys a run id omits at their default
    (``precision: float32``, ...) are filled in, so every row can be grouped by them.
    """
    from helpers.sweep.config import expand, load_config

    path = Path(config) if config else sweep_config_path(results_dir)
    rows: list[dict[str, Any]] = []
    for params in expand(load_config(path)):
        rid = run_id(params)
        rec_file = record_path(results_dir, rid)
        status, wall, device, started = "not run", float("nan"), None, None
        epochs = speed = float("nan")
        if rec_file.is_file():
            rec = read_json(rec_file)
            started = (rec.get("provenance") or {}).get("started_at")
            status = str(rec.get("status", "ok"))
            if status == "ok" and not record_matches(rec, params):
                status = "other params"  # the sweep would run it again, as here
            timing = rec.get("timing") or {}
            wall = run_wall_s(timing)
            epochs = float(timing.get("epochs_run") or "nan")
            speed = float(timing.get("train_images_per_s") or "nan")
            device = "gpu" if (rec.get("provenance") or {}).get("gpu") else "cpu"
        rows.append({**OMITTED_AT_DEFAULT, **params, "run_id": rid, "status": status,
                     "wall_s": wall, "device": device, "started_at": started,
                     "epochs_run": epochs, "train_images_per_s": speed})
    df = pd.DataFrame(rows)
    df.attrs["config"] = _shown(path)  # as a reader types it: relative to the repository root
    return df


def run_wall_s(timing: dict[str, Any]) -> float:
    """A run's wall time in seconds, including the epochs of earlier sessions if it resumed.

    ``timing.wall_s`` covers the last session only; a run resumed from a checkpoint at epoch k
    also spent ``sum(timing.epoch_s[:k])`` seconds training before (``epoch_s`` holds every
    epoch). NaN when the record has no wall time.
    """
    wall = timing.get("wall_s")
    if wall is None:
        return float("nan")
    k = int(timing.get("resumed_from_epoch") or 0)
    return float(wall) + float(sum((timing.get("epoch_s") or [])[:k]))


def _shown(path: Path) -> str:
    from helpers.config import find_root

    path = path.resolve()
    try:
        return path.relative_to(find_root(path.parent)).as_posix()
    except ValueError:  # outside any project: its name only, never a machine's absolute path
        return path.name


def _setup_keys(status: pd.DataFrame) -> list[str]:
    return [k for k in SETUP_KEYS if k in status and status[k].astype(str).nunique() > 1]


def _label(value: Any) -> str:
    return {"mixed_bfloat16": "bf16"}.get(str(value), str(value))


def coverage_table(status: pd.DataFrame) -> pd.DataFrame:
    """Runs with a successful record / runs planned, per model, set-up and input size (results chapter).

    Rows are model × set-up (the keys the grid varies among :data:`SETUP_KEYS`, joined:
    "full, native, bf16"; no set-up column when the grid varies none); columns are input sizes with "done/planned" ("—": not in the
    grid), then the wall hours of the successful runs on the CPU and, where any ran on one, on a
    GPU (hours on different machines are not added up).
    """
    keys = _setup_keys(status)
    table = status.assign(
        ok=status["status"] == "ok",
        setup=[", ".join(_label(r[k]) for k in keys) for _, r in status.iterrows()],
    )
    rows = ["model", "setup"]
    cells = table.groupby([*rows, "resolution"]).agg(ok=("ok", "sum"), planned=("ok", "size"))
    cells["cell"] = [f"{o}/{p}" for o, p in zip(cells["ok"], cells["planned"], strict=True)]
    wide = cells["cell"].unstack("resolution", fill_value=MISSING)
    wide.columns = [f"{int(c)} px" for c in wide.columns]
    device = table.get("device", pd.Series("cpu", index=table.index)).fillna("cpu")
    for dev, col in (("cpu", "wall h"), ("gpu", "GPU h")):
        done = table[table["ok"] & (device == dev)]
        if dev == "gpu" and done.empty:
            continue
        hours = done.groupby(rows)["wall_s"].sum(min_count=1) / 3600.0
        wide[col] = hours.reindex(wide.index).round(2 if dev == "gpu" else 1)
    wide = wide.reset_index().rename(columns={"setup": "set-up"})
    return wide if keys else wide.drop(columns="set-up")


def still_to_run(status: pd.DataFrame) -> list[str]:
    """Run ids of the grid without a successful record, in the sweep's order (results chapter)."""
    return [str(r) for r in status.loc[status["status"] != "ok", "run_id"]]


def wall_hours(status: pd.DataFrame, **where: Any) -> float:
    """Sum of ``timing.wall_s`` (hours) of the successful runs matching ``where`` (results chapter).

    Only runs on the CPU unless ``device="gpu"`` is given: hours on two machines are not added.
    """
    sel = status["status"] == "ok"
    if "device" in status and "device" not in where:
        sel &= status["device"].fillna("cpu") == "cpu"  # CPU hours unless a device is named
    for key, value in where.items():
        sel &= status[key] == value
    return float(status.loc[sel, "wall_s"].sum()) / 3600.0


def cpu_cost_table(status: pd.DataFrame, regime: str = "full") -> pd.DataFrame:
    """What the successful CPU runs of one regime cost, per cell of the grid (findings chapter).

    One row per task (when the grid has several: their training sets differ in size), network,
    input size and precision. Columns: ``runs`` (successful CPU runs), ``timed`` (those with a
    wall time, which the next columns average), ``epochs`` (mean epochs trained; early stopping
    can end a run before the configured number), ``minutes`` (mean wall time per run),
    ``longest (min)`` and ``train img/s`` (mean training throughput; NaN for records older
    than that field). Measured on whatever machine wrote each record, alongside whatever else it
    ran then: a rough guide, not a benchmark. Empty when no run fits.
    """
    keys = [k for k in ("task", "model", "resolution", "precision") if k in status
            and (k != "task" or status[k].nunique(dropna=False) > 1)]
    cols = [*keys, "runs", "timed", "epochs", "minutes", "longest (min)", "train img/s"]
    device = status.get("device", pd.Series("cpu", index=status.index)).fillna("cpu")
    regimes = status.get("regime", pd.Series(None, index=status.index, dtype=object))
    sel = status.loc[(status["status"] == "ok") & (regimes == regime) & (device == "cpu")]
    if sel.empty:
        return pd.DataFrame(columns=cols)
    out = (sel.assign(minutes=sel["wall_s"] / 60.0)
           .groupby(keys, sort=True, dropna=False)
           .agg(runs=("run_id", "size"), timed=("wall_s", "count"),
                epochs=("epochs_run", "mean"), minutes=("minutes", "mean"),
                longest=("minutes", "max"), speed=("train_images_per_s", "mean"))
           .reset_index()
           .rename(columns={"longest": "longest (min)", "speed": "train img/s"}))
    return out[cols]


def cost_values(cost: pd.DataFrame, task: str, model: str,
                precision: str = "float32") -> dict[str, float]:
    """Smallest and largest measured size of one network from :func:`cpu_cost_table` (findings chapter).

    ``cost_small_px``, ``cost_small_ips`` (training images/s), ``cost_large_px``,
    ``cost_large_ips`` and ``cost_large_min`` (mean minutes per run); NaN unless at least two
    sizes have run. ``task`` is ignored when the table has no task column.
    """
    sel = cost.get("model", pd.Series(dtype=object)) == model
    if "task" in cost:
        sel &= cost["task"] == task
    if "precision" in cost:
        sel &= cost["precision"] == precision
    rows = cost.loc[sel].sort_values("resolution") if len(cost) else cost
    if len(rows) < 2:
        return {k: float("nan") for k in ("cost_small_px", "cost_small_ips", "cost_large_px",
                                          "cost_large_ips", "cost_large_min")}
    small, large = rows.iloc[0], rows.iloc[-1]
    return {"cost_small_px": float(small["resolution"]),
            "cost_small_ips": float(small["train img/s"]),
            "cost_large_px": float(large["resolution"]),
            "cost_large_ips": float(large["train img/s"]),
            "cost_large_min": float(large["minutes"])}


def todo_full_counts(status: pd.DataFrame | None, expensive_px: int = 224,
                     heavy_model: str = "resnet50") -> dict[str, float]:
    """Full-regime runs without a successful record, by kind (findings chapter); NaN without a grid.

    ``todo_full`` (all), ``todo_full_224`` (at ``expensive_px``), ``todo_full_resnet50`` (of
    ``heavy_model``), ``todo_full_224_resnet50`` (both) and ``todo_full_cheap`` (neither).
    """
    keys = ("todo_full", "todo_full_224", "todo_full_resnet50", "todo_full_224_resnet50",
            "todo_full_cheap")
    if status is None:
        return {k: float("nan") for k in keys}
    todo = status[(status["status"] != "ok") & (status["regime"] == "full")]
    big, heavy = todo["resolution"] == expensive_px, todo["model"] == heavy_model
    counts = (len(todo), big.sum(), heavy.sum(), (big & heavy).sum(), (~big & ~heavy).sum())
    return {k: float(v) for k, v in zip(keys, counts, strict=True)}


def cost_table_shown(cost: pd.DataFrame) -> pd.DataFrame:
    """:func:`cpu_cost_table` with short labels, so it fits the page column (findings chapter).

    The ``timed`` column is dropped when every run was timed (it then repeats ``runs``).
    """
    shown = cost.rename(columns={"task": "finding", "resolution": "px", "precision": "prec.",
                                 "longest (min)": "max (min)", "train img/s": "img/s"})
    if not len(shown):
        return shown
    shown = shown.assign(**{"prec.": shown["prec."].replace({"float32": "fp32",
                                                               "mixed_bfloat16": "bf16"})})
    if "finding" in shown:
        shown["finding"] = shown["finding"].replace({"bacterial_vs_viral": "bact./viral"})
    if (shown["timed"] == shown["runs"]).all():
        shown = shown.drop(columns="timed")
    return shown


def load(results_dir: str | os.PathLike[str]) -> pd.DataFrame | None:
    """:func:`grid_status`, or None (with the reason printed) when the folder names no sweep."""
    try:
        return grid_status(results_dir)
    except NoSweepError as exc:
        print(f"No grid to compare with: {exc}.")
        return None


def show(status: pd.DataFrame | None, uuid: str) -> None:
    """Display :func:`coverage_table` (the results and findings chapters); nothing when there is no grid."""
    if status is None:
        return
    from IPython.display import display

    note = f"{MISSING} not in the grid, or no successful run timed."
    display(styled(coverage_table(status), uuid, precision=1, note=note))


def todo_text(status: pd.DataFrame | None) -> str:
    """The runs still to run, one per line, after the command that runs them (the results and findings chapters)."""
    if status is None:
        return "No grid: the records were not written by `python -m helpers sweep CONFIG`."
    todo = still_to_run(status)
    head = (f"{len(todo)} runs without a successful record; `python -m helpers sweep "
            f"{status.attrs.get('config', 'CONFIG')}` runs them in this order:")
    return "\n  ".join([head, *todo])


def concurrency(started_at: pd.Series, wall_s: pd.Series) -> tuple[float, float]:
    """(most runs in flight at once, hours from the first start to the last end) (results chapter).

    From each run's start time and wall time; runs without either are left out. (NaN, NaN)
    when none is left. For a resumed run only its last session counts (its start time is that
    session's).
    """
    start = pd.to_datetime(started_at, utc=True, errors="coerce")
    wall = pd.to_numeric(wall_s, errors="coerce")
    keep = start.notna() & wall.notna()
    if not keep.any():
        return float("nan"), float("nan")
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    t0 = (start[keep] - epoch).dt.total_seconds().to_numpy(dtype=float)
    t1 = t0 + wall[keep].to_numpy(dtype=float)
    # sweep over the start (+1) and end (-1) events; an end sorts before a start at one instant
    events = sorted([(t, 1) for t in t0] + [(t, -1) for t in t1], key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return float(peak), float((t1.max() - t0.min()) / 3600.0)


def summary_values(status: pd.DataFrame | None) -> dict[str, float]:
    """Numbers the results chapter glues about the grid: runs planned, done, to do, hours (results chapter).

    ``grid_bf16_*`` count the successful bf16 runs of the full regime (the paper's regime in bf16
    mixed precision: the bf16-parity appendix) and their summed wall time; ``grid_gpu_*`` the runs trained on
    a GPU and their hours there, ``grid_gpu_max_parallel`` how many shared it at most and
    ``grid_gpu_span_h`` the hours from the first GPU start to the last GPU end
    (:func:`concurrency`). Other hours are CPU hours. NaN without a grid.
    """
    if status is None:
        keys = ("n_planned", "n_ok", "n_todo", "full_n_ok", "full_wall_h", "bf16_n_ok",
                "bf16_wall_h", "gpu_n_ok", "gpu_wall_h", "gpu_max_parallel", "gpu_span_h")
        return {f"grid_{k}": float("nan") for k in keys}
    ok = status["status"] == "ok"
    device = status.get("device", pd.Series("cpu", index=status.index)).fillna("cpu")
    on_gpu = ok & (device == "gpu")
    bf16 = ok & (status["regime"] == "full") & (status["precision"] == "mixed_bfloat16") \
        & ~on_gpu
    return {
        "grid_n_planned": float(len(status)),
        "grid_n_ok": float(ok.sum()),
        "grid_n_todo": float((~ok).sum()),
        "grid_full_n_ok": float((ok & (status["regime"] == "full") & ~on_gpu).sum()),
        "grid_full_wall_h": wall_hours(status, regime="full"),
        "grid_bf16_n_ok": float(bf16.sum()),
        "grid_bf16_wall_h": float(status.loc[bf16, "wall_s"].sum()) / 3600.0,
        "grid_gpu_n_ok": float(on_gpu.sum()),
        "grid_gpu_wall_h": float(status.loc[on_gpu, "wall_s"].sum()) / 3600.0,
        **dict(zip(("grid_gpu_max_parallel", "grid_gpu_span_h"),
                   concurrency(status.loc[on_gpu].get("started_at", pd.Series(dtype=object)),
                               status.loc[on_gpu, "wall_s"]), strict=True)),
    }
