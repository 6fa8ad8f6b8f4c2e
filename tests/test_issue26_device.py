"""Issue 26: the GPU path (``scripts/device_sweep.py``) is an executor of the sweep, not a second one.

* prepare plans with the sweep's own steps (:func:`helpers.sweep.plan_sweep`,
  :func:`helpers.sweep.skip_finished`): the device's run ids are the sweep's planned ones;
* :class:`helpers.sweep.device.DeviceExecutor` has the sweep executors' interface;
* prepare → run → collect on this CPU (Keras on JAX, as on the device) files records the sweep
  then skips as done.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from data_fixtures import make_folder
from train_fixtures import parameters_cell

from helpers import sweep as S
from helpers.data import data_fingerprint
from helpers.runs import provenance as P
from helpers.runs import records as R
from helpers.sweep import locks
from helpers.sweep.device import DeviceExecutor, run_job
from helpers.sweep.device_archive import collect_archive
from helpers.sweep.device_job import plan_runs, prepare_job, read_job

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("device_sweep", ROOT / "scripts" / "device_sweep.py")
ds = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ds)

NB = parameters_cell(dataset="folder", task="Normal", output_dir="results") + """
# %%
from helpers.runs import records

params = {k: globals()[k] for k in records.IDENTITY_KEYS}
rid = records.run_id(params)
records.write_json_atomic(records.record_path(output_dir, rid), {
    "schema": 1, "run_id": rid, "status": "ok", "params": records.canonical_params(params)})
"""
FIXED = {"dataset": "folder", "task": "Normal", "model": "mobilenet", "resolution": 32,
         "epochs": 1, "batch_size": 4, "weights": None, "regime": "full"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=a@b", "-c", "user.name=a", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture()
def project(tmp_path: Path, monkeypatch) -> dict[str, Any]:
    """A committed checkout with a sweep config, its notebook and two data folders beside it."""
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    for var in ("RESBOOK_DATA_DIR", "RESBOOK_WEIGHTS_DIR"):
        monkeypatch.delenv(var, raising=False)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text("")
    (repo / "nb.py").write_text(NB)
    (repo / "sweep.yaml").write_text(
        "name: dev\nnotebook: nb.py\noutput_dir: out\ngrid: {seed: [0, 1, 2, 3, 4]}\n"
        "fixed: {" + ", ".join(f"{k}: {'null' if v is None else v}" for k, v in FIXED.items())
        + "}\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "x")
    a = make_folder(tmp_path / "A", {"Acne": 8, "Normal": 8}, seed0=0)
    b = make_folder(tmp_path / "B", {"Acne": 8, "Normal": 8}, seed0=100)
    return {"repo": repo, "config": repo / "sweep.yaml", "out": repo / "out", "a": a, "b": b,
            "tmp": tmp_path}


def _ok(rid: str, params: dict, fingerprint: str | None) -> dict:
    return {"schema": 1, "run_id": rid, "status": "ok", "params": params,
            "provenance": {"data_fingerprint": fingerprint}}


def _sweep_planned(config: Path, data_root: Path) -> list[str]:
    """The run ids ``python -m helpers sweep --dry-run`` would run."""
    summary = S.run_sweep(config, data_root=data_root, dry_run=True)
    return [row["run_id"] for row in summary.runs if row["status"] == "planned"]


def test_the_device_plans_the_sweeps_runs_by_the_sweeps_skip_rule(project: dict) -> None:
    cfg, out, a, b = project["config"], project["out"], project["a"], project["b"]
    plan = S.plan_sweep(cfg, data_root=a)
    ids = [spec["run_id"] for spec in plan.runs]
    params = {spec["run_id"]: spec["params"] for spec in plan.runs}
    fa0 = data_fingerprint("folder", "Normal", a, seed=0)  # made on A, as the runs now
    fb1 = data_fingerprint("folder", "Normal", b, seed=1)  # made on B
    R.write_json_atomic(R.record_path(out, ids[0]), _ok(ids[0], params[ids[0]], fa0))  # done
    R.write_json_atomic(R.record_path(out, ids[1]), _ok(ids[1], params[ids[1]], fb1))  # other data
    R.write_json_atomic(R.record_path(out, ids[2]), {"run_id": ids[2], "params": params[ids[2]],
                                                     "status": "failed"})
    got, _ = locks.acquire(locks.lock_path(out, ids[3]))  # a live sweep is running it
    assert got
    expected = _sweep_planned(cfg, a)
    assert expected == [ids[1], ids[2], ids[4]]  # the old device rule kept ids[1] as done
    runs, folder = plan_runs(str(cfg), locations={"data_root": str(a)})
    assert [r["run_id"] for r in runs] == expected and folder == out
    assert all(r["params"] == params[r["run_id"]] for r in runs)
    # its own options: any of --only, --rerun of a skipped run, seed 0 of every cell first
    runs, _ = plan_runs(str(cfg), only=["-s1-", "-s4-"], locations={"data_root": str(a)})
    assert [r["run_id"] for r in runs] == [ids[1], ids[4]]
    runs, _ = plan_runs(str(cfg), rerun=["-s0-", "-s3-"], seed0_first=True,
                        locations={"data_root": str(a)})
    assert [r["run_id"] for r in runs] == [ids[0], ids[1], ids[2], ids[4]]
    # on the other data folder the first record is the one made elsewhere
    assert [r["run_id"] for r in plan_runs(str(cfg), locations={"data_root": str(b)})[0]] == \
        _sweep_planned(cfg, b) == [ids[0], ids[2], ids[4]]


def test_prepare_writes_the_sweeps_plan_and_the_checkouts_manifest(project: dict) -> None:
    repo, cfg, a = project["repo"], project["config"], project["a"]
    job = project["tmp"] / "job"
    assert prepare_job(str(cfg), job, root=repo, locations={"data_root": str(a)}) == 0
    written = read_job(job)
    assert [r["run_id"] for r in written["runs"]] == _sweep_planned(cfg, a)
    assert written["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert written["output_dir"] == "out"
    # the script's prepare: the same plan (this checkout's manifest, tried out with changes)
    cli_job = project["tmp"] / "cli-job"
    assert ds.main(["prepare", str(cfg), "--to", str(cli_job), "--data-root", str(a),
                    "--allow-dirty"]) == 0
    assert read_job(cli_job)["runs"] == written["runs"]
    (repo / "nb.py").write_text(NB + "\n")
    with pytest.raises(SystemExit, match="uncommitted"):
        prepare_job(str(cfg), job, root=repo)


@pytest.mark.heavy
def test_the_device_executor_has_the_sweeps_executor_interface(project: dict) -> None:
    """submit → a future, each call in a fresh process; drive_runs can take it (papermill here)."""
    ex = DeviceExecutor(2)
    try:
        assert ex._max_workers == 2 and ex.lost_together
        pids = [ex.submit(os.getpid).result(timeout=60) for _ in range(3)]
    finally:
        ex.shutdown()
    assert len(set(pids)) == 3 and os.getpid() not in pids  # one process per call
    cfg = S.load_config(project["config"])
    cfg["grid"] = {"seed": [0]}
    summary = S.run_sweep(cfg, executor=DeviceExecutor(1), data_root=project["a"])
    assert [row["status"] for row in summary.runs] == ["ok"]


@pytest.fixture()
def on_cpu_jax(monkeypatch) -> None:
    """The device's environment on this CPU, undone after the test (device_env sets only
    what is unset); no copy check left behind."""
    for var, value in {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
                       "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
                       "XLA_PYTHON_CLIENT_MEM_FRACTION": "0.1",
                       "XLA_FLAGS": "--xla_gpu_deterministic_ops=true",
                       "JAX_DEFAULT_MATMUL_PRECISION": "highest", "PYTHONHASHSEED": "0",
                       P.ENV_VERIFIED_COMMIT: ""}.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setattr(P, "_copy_check", None, raising=False)


@pytest.mark.heavy
def test_prepare_run_collect_files_records_the_sweep_then_skips(project: dict,
                                                                 on_cpu_jax) -> None:
    pytest.importorskip("jax")
    repo, cfg, a, tmp = project["repo"], project["config"], project["a"], project["tmp"]
    job, device_out, tar = tmp / "job", tmp / "device" / "out", tmp / "records.tar"
    prepare_job(str(cfg), job, root=repo, only=["-s0-"], locations={"data_root": str(a)})
    assert run_job(job, device_out, root=repo, workers=1, archive=tar,
                   locations={"data_root": str(a), "cache_dir": str(tmp / "cache")}) == 0
    assert collect_archive(str(tar), job, repo / "out") == 0
    (rec,) = R.load_records(repo / "out")
    assert [rec["run_id"]] == [r["run_id"] for r in read_job(job)["runs"]]
    assert rec["status"] == "ok" and rec["provenance"]["keras_backend"] == "jax"
    assert rec["provenance"]["git_commit"] == read_job(job)["commit"]  # the copy was verified
    summary = S.run_sweep(cfg, data_root=a, dry_run=True)
    status = {row["run_id"]: row["status"] for row in summary.runs}
    assert status.pop(rec["run_id"]) == "skipped"  # filed here: the sweep counts it as done
    assert set(status.values()) == {"planned"}
