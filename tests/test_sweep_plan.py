"""A sweep's three steps (plan, skip rule, drive) and its one source of defaults (chapter 03).

* :func:`helpers.sweep.plan.plan_sweep`: the config → the planned runs with their ids, every
  check done before anything is read from or written to the results folder;
* :func:`helpers.sweep.skip.skip_finished`: which planned runs are skipped and why the others run;
* :func:`helpers.sweep.runner.drive_runs`: the runs handed to the executor.

Defaults: a parameter a sweep config leaves out takes ``TrainParams``' default, not the value in
the notebook's ``parameters`` cell; the sweep reads only the cell's names (issue 26).
"""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from train_fixtures import parameters_cell

from helpers import sweep as S
from helpers.runs import records as R
from helpers.training.params import TrainParams

BODY = """
# %%
from helpers.runs import records

params = {k: globals()[k] for k in records.IDENTITY_KEYS}
rid = records.run_id(params)
records.write_json_atomic(records.record_path(output_dir, rid), {
    "schema": 1, "run_id": rid, "status": "ok", "params": records.canonical_params(params)})
"""

DRIFTED = {"resolution": 64, "regime": "frozen", "epochs": 1, "batch_size": 8, "lr": 0.01,
           "max_images": 16, "geometry": "pad"}
"""Defaults of a stand-in notebook's parameters cell that differ from TrainParams'."""


def _project(tmp_path: Path, cell: str, **cfg: Any) -> dict[str, Any]:
    """A sweep config (a dict) under tmp_path running a notebook with this parameters cell."""
    (tmp_path / "nb.py").write_text(cell + BODY)
    return {"name": "p", "notebook": "nb.py", "output_dir": "out", "grid": {"seed": [0]},
            "_root": str(tmp_path), **cfg}


class _Record(S.SequentialExecutor):
    """Runs nothing: each submitted spec is kept and reported ok at once."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def submit(self, fn, spec):  # type: ignore[override]  # noqa: ANN001
        self.seen.append(spec)
        fut: Future = Future()
        fut.set_result({"run_id": spec["run_id"], "status": "ok", "wall_s": 1.0})
        return fut


# ------------------------------------------------------------------ one source of defaults


def test_the_sweep_takes_trainparams_defaults_not_the_notebooks(tmp_path: Path) -> None:
    """The notebook's cell says resolution=64, batch_size=8, ...: the runs get TrainParams'."""
    cfg = _project(tmp_path, parameters_cell(**DRIFTED, output_dir="results"))
    (params,) = S.expand(cfg, validator=None)
    defaults = {f.name: f.default for f in dataclasses.fields(TrainParams)}
    for name in DRIFTED:
        assert params.get(name, defaults[name]) == defaults[name], name
    assert params == R.canonical_params({**defaults, "seed": 0})
    assert S.train_defaults() == defaults
    # with the default validator too (validate_params would fill TrainParams' anyway)
    assert S.expand(cfg) == [R.canonical_params(S.default_validator()({**params}))]


def test_a_sweep_run_is_told_trainparams_defaults(tmp_path: Path) -> None:
    """A real papermill run: the injected values, not the cell's, make the record and its id."""
    cfg = _project(tmp_path, parameters_cell(**DRIFTED, output_dir="results"))
    summary = S.run_sweep(cfg, validator=None)
    (row,) = summary.runs
    assert row["status"] == "ok", row
    assert "-128-full-" in row["run_id"]  # TrainParams: 128 px, regime full
    (rec,) = R.load_records(tmp_path / "out" / "records")
    assert rec["run_id"] == row["run_id"]
    assert (rec["params"]["batch_size"], rec["params"]["epochs"], rec["params"]["lr"]) == (
        32, 20, 1e-3)
    assert "max_images" in rec["params"] and rec["params"]["max_images"] is None
    assert "geometry" not in rec["params"]  # squash, TrainParams' default: left out of the id
    nb = json.loads((tmp_path / "out" / "notebooks" / f"{row['run_id']}.ipynb").read_text())
    (injected,) = [c for c in nb["cells"] if "injected-parameters" in c["metadata"]["tags"]]
    assert 'geometry = "squash"' in "".join(injected["source"])  # told, though not in the id


def test_a_notebook_older_than_a_parameter_left_out_at_default_still_runs(tmp_path: Path) -> None:
    """No ``tta`` in its cell: the runs leave tta at 0, so nothing is told and nothing refused."""
    cell = parameters_cell(output_dir="results").replace("tta = 0\n", "")
    ex = _Record()
    S.run_sweep(_project(tmp_path, cell), validator=None, executor=ex)
    (spec,) = ex.seen
    assert "tta" not in spec["defaults"] and spec["defaults"]["geometry"] == "squash"
    with pytest.raises(S.SweepConfigError, match=r"unknown parameter\(s\) 'tta'"):
        S.run_sweep(_project(tmp_path, cell, fixed={"tta": 2, "aug_hflip": True}),
                    validator=None, dry_run=True)


def test_a_notebook_without_a_parameter_a_run_passes_is_refused(tmp_path: Path) -> None:
    """Its cell lacks ``batch_size``: the runs would be told batch_size=32, which it ignores.

    The sweep reads the cell's names only to check this; the config need not set the name.
    """
    cell = parameters_cell(output_dir="results").replace("batch_size = 32\n", "")
    cfg = _project(tmp_path, cell)
    with pytest.raises(S.SweepConfigError, match=r"unknown parameter\(s\) 'batch_size'"):
        S.run_sweep(cfg, validator=None, dry_run=True)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ step 1: plan


def test_plan_lists_every_run_with_its_id_and_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    from helpers.sweep.plan import plan_sweep

    for var in ("RESBOOK_DATA_DIR", "RESBOOK_WEIGHTS_DIR", "RESBOOK_CACHE_DIR"):  # `make` sets some
        monkeypatch.delenv(var, raising=False)

    cfg = _project(tmp_path, parameters_cell(output_dir="results"),
                   grid={"seed": [0, 1], "resolution": [64, 128]})
    plan = plan_sweep(cfg, validator=None, save_models=True, data_root=tmp_path / "data")
    assert plan.out == tmp_path / "out" and plan.notebook == tmp_path / "nb.py"
    assert [s["run_id"] for s in plan.runs] == [R.run_id(p) for p in S.expand(cfg, validator=None)]
    assert len({s["run_id"] for s in plan.runs}) == 4
    spec = plan.runs[0]
    assert spec["locations"] == {"output_dir": "out", "data_root": "data"}  # relative to root
    assert spec["options"] == {"save_model": True} and spec["kernel_name"] == S.KERNEL_NAME
    # identity params left out of the id at their default are still told to the notebook
    assert spec["defaults"] == {k: v for k, v in S.train_defaults().items()
                                if k in R.OMITTED_AT_DEFAULT}
    assert not set(spec["defaults"]) & set(spec["params"])
    assert spec["record"] == str(R.record_path(tmp_path / "out", spec["run_id"]))
    assert spec["notebook_out"] == str(tmp_path / "out" / "notebooks" / f"{spec['run_id']}.ipynb")
    assert json.loads(json.dumps(spec)) == spec  # a plain dict: any executor can ship it
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        ({"grid": {"resoluton": [64]}}, {}, "resoluton"),
        ({"fixed": {"external": "hosp"}}, {}, "--external-root"),
        ({}, {"external_masks": "masks"}, "--external-masks belongs to an external set"),
        ({"notebook": None}, {}, "'notebook' is missing"),
    ],
)
def test_plan_refuses_a_bad_sweep_up_front(tmp_path: Path, change: dict, kwargs: dict,
                                           match: str) -> None:
    from helpers.sweep.plan import plan_sweep

    cfg = {**_project(tmp_path, parameters_cell(output_dir="results")), **change}
    with pytest.raises(S.SweepConfigError, match=match):
        plan_sweep(cfg, validator=None, **kwargs)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ step 2: skip rule


def test_skip_rule_says_which_runs_are_skipped_and_why_the_others_run(tmp_path: Path) -> None:
    import os
    import socket

    from helpers.sweep import locks
    from helpers.sweep.plan import plan_sweep
    from helpers.sweep.skip import skip_finished

    cfg = _project(tmp_path, parameters_cell(output_dir="results"), grid={"seed": [0, 1, 2, 3]})
    plan = plan_sweep(cfg, validator=None)
    s0, s1, s2, s3 = plan.runs
    R.write_json_atomic(s0["record"], {"run_id": s0["run_id"], "status": "ok",
                                       "params": s0["params"], "timing": {"wall_s": 7.5}})
    R.write_json_atomic(s1["record"], {"run_id": s1["run_id"], "status": "failed",
                                       "params": s1["params"]})  # a failed run is retried
    R.write_json_atomic(s2["record"], {"run_id": s2["run_id"], "status": "ok",
                                       "params": {**s2["params"], "epochs": 3}})  # other params
    lock = locks.lock_path(plan.out, s3["run_id"])
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))  # a live sweep
    said: list[str] = []
    todo, summary = skip_finished(plan, said.append)
    assert [spec["run_id"] for spec, _row in todo] == [s1["run_id"], s2["run_id"]]
    assert [(r["status"], r["wall_s"], r.get("note")) for r in summary.runs] == [
        ("skipped", 7.5, None), ("planned", None, None), ("planned", None, None),
        ("not_run", None, "running elsewhere")]
    assert said[-1].startswith("sweep p: 4 runs, 1 already done, 2 to run, 1 filtered out")
    assert any(f"{s3['run_id']}: running elsewhere" in line for line in said)

    todo, summary = skip_finished(plan, said.append, only="-s2-")
    assert [spec["run_id"] for spec, _row in todo] == [s2["run_id"]]
    todo, summary = skip_finished(plan, said.append, max_runs=1)
    assert [spec["run_id"] for spec, _row in todo] == [s1["run_id"]]
    assert summary.count("not_run") == 2


# ------------------------------------------------------------------ step 3: drive


def test_drive_hands_the_runs_to_the_executor_and_writes_sweep_json(tmp_path: Path) -> None:
    from helpers.sweep.plan import plan_sweep
    from helpers.sweep.runner import drive_runs
    from helpers.sweep.skip import skip_finished

    cfg = _project(tmp_path, parameters_cell(output_dir="results"), grid={"seed": [0, 1]})
    plan = plan_sweep(cfg, validator=None)
    said: list[str] = []

    class Log:  # the log drive_runs writes to: a callable with open()
        def __call__(self, msg: str) -> None:
            said.append(msg)

        def open(self) -> None:
            pass

    todo, summary = skip_finished(plan, Log())
    ex = _Record()
    got = drive_runs(plan, todo, summary, Log(), executor=ex)
    assert got is summary and [s["run_id"] for s in ex.seen] == [s["run_id"] for s in plan.runs]
    assert [(r["status"], r["wall_s"]) for r in summary.runs] == [("ok", 1.0), ("ok", 1.0)]
    sweep_json = json.loads((plan.out / "sweep.json").read_text())
    assert sweep_json["counts"] == {"ok": 2, "failed": 0, "skipped": 0, "not_run": 0}
    assert sweep_json["started_at"] == plan.started_at
    assert said[-1].startswith("sweep p done in")
    assert not list((plan.out / "locks").glob("*.lock"))  # each run's lock released

    ex = _Record()  # a dry run hands nothing over
    drive_runs(plan, todo, summary, Log(), executor=ex, dry_run=True)
    assert ex.seen == []
