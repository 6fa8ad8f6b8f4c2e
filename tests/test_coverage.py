"""helpers.chapters.coverage: planned vs recorded runs of a sweep grid (chapter 04)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from record_factory import make_record, write_record

from helpers.chapters import coverage

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_train.py"


@pytest.fixture()
def sweep_dir(tmp_path: Path) -> Path:
    """A project with a 2 models x 2 sizes x 2 seeds config and its sweep.json, no records."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "x.yaml").write_text(
        f"name: x\nnotebook: {NOTEBOOK}\noutput_dir: results/x\n"
        "grid: {model: [mobilenet, resnet50], resolution: [64, 128], seed: [0, 1]}\n"
        "fixed: {dataset: isic2017, task: melanoma, regime: frozen, epochs: 1}\n"
    )
    out = tmp_path / "results" / "x"
    (out / "records").mkdir(parents=True)
    (out / "sweep.json").write_text(json.dumps({"config": "configs/x.yaml"}))
    return out


def _record(out: Path, rid: str, status: str, wall_s: float, **change) -> None:
    """A record of run ``rid`` with the params the grid gives it (``change`` alters them)."""
    from helpers.runs.records import run_id
    from helpers.sweep.config import expand, load_config

    grid = {run_id(p): p for p in expand(load_config(out.parents[1] / "configs" / "x.yaml"))}
    write_record(out, make_record(grid[rid], run_id=rid, status=status, wall_s=wall_s, **change))


def test_counts_done_failed_and_missing_runs(sweep_dir: Path) -> None:
    status = coverage.grid_status(sweep_dir)
    assert len(status) == 8 and set(status["status"]) == {"not run"}
    ids = list(status["run_id"])
    mobilenet_64 = [r for r in ids if "-mobilenet-64-" in r]
    _record(sweep_dir, mobilenet_64[0], "ok", 1800.0)
    _record(sweep_dir, mobilenet_64[1], "ok", 5400.0)
    _record(sweep_dir, ids[-1], "failed", 99.0)

    status = coverage.grid_status(sweep_dir)
    assert status["status"].value_counts().to_dict() == {"not run": 5, "ok": 2, "failed": 1}
    table = coverage.coverage_table(status)
    row = table[table["model"] == "mobilenet"].iloc[0]
    assert (row["64 px"], row["128 px"], row["wall h"]) == ("2/2", "0/2", 2.0)
    assert table[table["model"] == "resnet50"].iloc[0]["128 px"] == "0/2"  # failed is not done
    assert coverage.still_to_run(status) == [r for r in ids if r not in mobilenet_64]
    assert coverage.wall_hours(status, model="mobilenet") == 2.0
    assert coverage.wall_hours(status, model="resnet50") == 0.0
    assert status["precision"].eq("float32").all()  # omitted-at-default keys filled in
    assert status.attrs["config"] == "configs/x.yaml"  # as typed, not a machine's absolute path
    _record(sweep_dir, mobilenet_64[1], "ok", 5400.0, epochs=2)  # made with other params
    assert coverage.grid_status(sweep_dir).set_index("run_id").loc[
        mobilenet_64[1], "status"] == "other params"


def test_set_up_shows_only_what_the_grid_varies(sweep_dir: Path) -> None:
    table = coverage.coverage_table(coverage.grid_status(sweep_dir))
    assert list(table.columns) == ["model", "64 px", "128 px", "wall h"]
    status = coverage.grid_status(sweep_dir).assign(regime=["frozen"] * 4 + ["full"] * 4)
    assert set(coverage.coverage_table(status)["set-up"]) == {"frozen", "full"}


def test_missing_sweep_json_or_config_is_named(sweep_dir: Path) -> None:
    (sweep_dir.parents[1] / "configs" / "x.yaml").unlink()
    with pytest.raises(coverage.NoSweepError, match="configs/x.yaml does not exist"):
        coverage.grid_status(sweep_dir)
    (sweep_dir / "sweep.json").unlink()
    with pytest.raises(coverage.NoSweepError, match="sweep.json"):
        coverage.grid_status(sweep_dir)


def test_a_folder_without_sweep_json_gives_no_grid_not_an_error(tmp_path: Path, capsys) -> None:
    assert coverage.load(tmp_path) is None
    out = capsys.readouterr().out
    assert f"{tmp_path.name}/sweep.json: no such file" in out and str(tmp_path) not in out
    values = coverage.summary_values(None)
    assert set(values) >= {"grid_n_planned", "grid_bf16_wall_h"}
    assert all(v != v for v in values.values())  # NaN: nothing to claim
    coverage.show(None, "x")  # displays nothing
    assert "not written by `python -m helpers sweep" in coverage.todo_text(None)


def test_todo_text_names_the_config_and_every_missing_run(sweep_dir: Path) -> None:
    status = coverage.grid_status(sweep_dir)
    lines = coverage.todo_text(status).split("\n  ")
    assert "python -m helpers sweep configs/x.yaml" in lines[0] and lines[0].startswith("8 runs")
    assert lines[1:] == list(status["run_id"])


def test_run_wall_time_adds_the_epochs_of_earlier_sessions() -> None:
    assert coverage.run_wall_s({"wall_s": 100.0, "epoch_s": [10.0] * 5}) == 100.0
    resumed = {"wall_s": 100.0, "epoch_s": [30.0, 40.0, 5.0], "resumed_from_epoch": 2}
    assert coverage.run_wall_s(resumed) == 170.0
    assert coverage.run_wall_s({}) != coverage.run_wall_s({})  # NaN


def test_gpu_runs_are_counted_and_timed_apart_from_cpu_runs(sweep_dir: Path) -> None:
    ids = list(coverage.grid_status(sweep_dir)["run_id"])
    _record(sweep_dir, ids[0], "ok", 3600.0)
    _record(sweep_dir, ids[1], "ok", 360.0)
    rec_file = sweep_dir / "records" / f"{ids[1]}.json"
    rec = json.loads(rec_file.read_text())
    rec["provenance"] = {"gpu": ["cuda:0"]}
    rec_file.write_text(json.dumps(rec))
    status = coverage.grid_status(sweep_dir)
    assert list(status.set_index("run_id").loc[[ids[0], ids[1]], "device"]) == ["cpu", "gpu"]
    row = coverage.coverage_table(status).iloc[0]
    assert (row["wall h"], row["GPU h"]) == (1.0, 0.1)  # hours on two machines are not added
    assert coverage.wall_hours(status) == 1.0
    assert coverage.wall_hours(status, device="gpu") == pytest.approx(0.1)
    values = coverage.summary_values(status)
    assert values["grid_gpu_n_ok"] == 1 and values["grid_gpu_wall_h"] == pytest.approx(0.1)
    assert values["grid_n_ok"] == 2
    assert values["grid_gpu_max_parallel"] != values["grid_gpu_max_parallel"]  # no start: NaN


def test_concurrency_counts_the_runs_in_flight_at_once() -> None:
    starts = pd.Series(["2026-01-01T00:00:00+00:00", "2026-01-01T00:01:00+00:00",
                        "2026-01-01T00:10:00+00:00", None])
    walls = pd.Series([300.0, 300.0, 60.0, 10.0])  # the third starts after both ended
    peak, span_h = coverage.concurrency(starts, walls)
    assert peak == 2 and span_h == pytest.approx(11 / 60)
    # one ends exactly when the next starts: not in flight together
    peak, _ = coverage.concurrency(pd.Series(["2026-01-01T00:00:00+00:00",
                                              "2026-01-01T00:05:00+00:00"]),
                                   pd.Series([300.0, 60.0]))
    assert peak == 1
    nan_peak, nan_span = coverage.concurrency(pd.Series([None]), pd.Series([1.0]))
    assert nan_peak != nan_peak and nan_span != nan_span


def test_cpu_cost_table_averages_successful_cpu_runs_only(sweep_dir: Path) -> None:
    assert coverage.cpu_cost_table(coverage.grid_status(sweep_dir), regime="frozen").empty
    ids = list(coverage.grid_status(sweep_dir)["run_id"])  # mobilenet 64 s0, s1, 128 s0, ...
    for rid, wall, epochs, speed in ((ids[0], 600.0, 10, 50.0), (ids[1], 1200.0, 20, 70.0)):
        _record(sweep_dir, rid, "ok", wall)
        _edit(sweep_dir, rid, lambda r, e=epochs, v=speed: r["timing"].update(
            epochs_run=e, train_images_per_s=v))
    _record(sweep_dir, ids[2], "failed", 60.0)  # not a cost of a result
    _record(sweep_dir, ids[3], "ok", 0.0)
    _edit(sweep_dir, ids[3], lambda r: r.update(timing={}))  # an old record: no timing at all
    _record(sweep_dir, ids[4], "ok", 36.0)
    _edit(sweep_dir, ids[4], lambda r: r.update(provenance={"gpu": ["cuda:0"]}))  # not CPU
    status = coverage.grid_status(sweep_dir)
    assert coverage.cpu_cost_table(status, regime="full").empty  # no full run in this grid
    table = coverage.cpu_cost_table(status, regime="frozen").set_index(["model", "resolution"])
    assert "task" not in table.columns  # one task in the grid: no column for it
    assert list(table.index) == [("mobilenet", 64), ("mobilenet", 128)]
    row = table.loc[("mobilenet", 64)]
    assert (row["runs"], row["timed"]) == (2, 2)
    assert (row["epochs"], row["minutes"], row["longest (min)"], row["train img/s"]) == \
        (15.0, 15.0, 20.0, 60.0)
    old = table.loc[("mobilenet", 128)]
    assert (old["runs"], old["timed"]) == (1, 0) and old["minutes"] != old["minutes"]  # NaN


def test_cpu_cost_table_keeps_tasks_apart(sweep_dir: Path) -> None:
    status = coverage.grid_status(sweep_dir).assign(
        status="ok", regime="full", wall_s=[60.0 * (i + 1) for i in range(8)],
        task=["a", "b"] * 4)  # two findings with different training sets
    table = coverage.cpu_cost_table(status)
    assert list(table.columns[:4]) == ["task", "model", "resolution", "precision"]
    assert len(table) == 8 and set(table["runs"]) == {1}


def test_cost_values_todo_counts_and_short_table(sweep_dir: Path) -> None:
    status = coverage.grid_status(sweep_dir).assign(
        regime="full", status=["ok", "ok", "ok", "ok", "not run", "ok", "not run", "not run"],
        wall_s=600.0, train_images_per_s=[40.0, 40.0, 20.0, 20.0, None, 9.0, None, None])
    cost = coverage.cpu_cost_table(status)
    v = coverage.cost_values(cost, task="ignored: one task", model="mobilenet")
    assert (v["cost_small_px"], v["cost_small_ips"]) == (64.0, 40.0)
    assert (v["cost_large_px"], v["cost_large_ips"], v["cost_large_min"]) == (128.0, 20.0, 10.0)
    one_size = coverage.cost_values(cost, task="x", model="resnet50")  # only 64 px has run
    assert all(x != x for x in one_size.values())  # NaN: no range from one size
    counts = coverage.todo_full_counts(status.assign(resolution=status["resolution"] * 2))
    assert counts == {"todo_full": 3.0, "todo_full_224": 0.0, "todo_full_resnet50": 3.0,
                      "todo_full_224_resnet50": 0.0, "todo_full_cheap": 0.0}
    assert coverage.todo_full_counts(status.replace({"resolution": {128: 224}}))[
        "todo_full_224_resnet50"] == 2.0
    assert all(x != x for x in coverage.todo_full_counts(None).values())
    shown = coverage.cost_table_shown(cost)
    assert "timed" not in shown and {"px", "prec.", "img/s"} <= set(shown.columns)
    assert set(shown["prec."]) == {"fp32"}


def _edit(out: Path, rid: str, change) -> None:
    """Apply ``change`` to the record of ``rid`` in place."""
    rec_file = out / "records" / f"{rid}.json"
    rec = json.loads(rec_file.read_text())
    change(rec)
    rec_file.write_text(json.dumps(rec))
