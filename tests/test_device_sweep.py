"""scripts/device_sweep.py: a sweep's runs on a machine without Jupyter or git (chapter 05)."""

from __future__ import annotations

import importlib.util
import io
import json
import operator
import os
import subprocess
import tarfile
from functools import partial
from pathlib import Path

import pytest

from helpers.runs import records
from helpers.runs.provenance import git_state
from helpers.sweep import device_archive as DA
from helpers.sweep import device_job as DJ
from helpers.sweep.device import run_pool
from helpers.training.params import TrainParams

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("device_sweep", ROOT / "scripts" / "device_sweep.py")
ds = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ds)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=a@b", "-c", "user.name=a", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text("x = 1\n")
    (tmp_path / "README.md").write_text("hello\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "x")
    return tmp_path


def test_blob_ids_are_gits_own(repo: Path) -> None:
    data = (repo / "src" / "m.py").read_bytes()
    assert DJ.git_blob_id(data) == git(repo, "hash-object", "src/m.py").strip()


def test_a_copy_is_verified_file_by_file_and_a_dirty_checkout_refused(repo: Path) -> None:
    manifest = DJ.tree_manifest(repo)
    assert manifest["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert not manifest["dirty"] and set(manifest["files"]) == {"README.md", "src/m.py"}
    assert DJ.verify_tree(repo, manifest) == []
    (repo / "src" / "m.py").write_text("x = 2\n")
    assert DJ.verify_tree(repo, manifest) == ["src/m.py"]
    with pytest.raises(SystemExit, match="uncommitted"):
        DJ.tree_manifest(repo)
    assert DJ.tree_manifest(repo, allow_dirty=True)["dirty"]
    (repo / "README.md").unlink()
    assert "README.md (missing)" in DJ.verify_tree(repo, manifest)


def _tar(path: Path, recs: list[dict]) -> None:
    with tarfile.open(path, "w") as tar:
        for rec in recs:
            data = json.dumps(rec).encode()
            info = tarfile.TarInfo(f"records/{rec['run_id']}.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_collect_checks_identity_files_duplicates_apart_and_corrects_a_stale_commit(
        tmp_path: Path) -> None:
    params = TrainParams(model="resnet50", resolution=64, seed=0).identity()
    other = TrainParams(model="resnet50", resolution=64, seed=1).identity()
    rid, rid_other = records.run_id(params), records.run_id(other)
    job = tmp_path / "job"
    job.mkdir()
    commit = "c" * 40
    (job / "runs.json").write_text(json.dumps(
        {"commit": commit, "runs": [{"run_id": rid, "params": params}]}))

    def rec(r: str, p: dict, started: str) -> dict:
        return {"run_id": r, "params": p, "status": "ok",
                "provenance": {"git_commit": "0" * 40, "git_dirty": True, "gpu": ["cuda:0"],
                               "started_at": started, "host": "h"}}

    archive = tmp_path / "a.tar"
    _tar(archive, [rec(rid, params, "t1"), rec(rid_other, other, "t1")])
    log = tmp_path / "run.log"
    log.write_text(f"tree verified: commit {commit[:10]}, 2 files\n")
    into, dups = tmp_path / "results" / "paper", tmp_path / "results" / "dup"
    args = [str(archive), str(job), "--into", str(into), "--duplicates-dir", str(dups),
            "--verified-log", str(log)]
    assert ds.main(["collect", *args]) == 1  # the unplanned run is refused
    filed = json.loads(records.record_path(into, rid).read_text())
    assert filed["provenance"]["git_commit"] == commit and filed["provenance"]["git_dirty"] is False
    assert filed["provenance"]["device_git"]["git_commit"] == "0" * 40
    assert not records.record_path(into, rid_other).exists()
    ds.main(["collect", *args])  # the same archive again: nothing new
    assert not records.record_path(dups, rid).exists()
    _tar(archive, [rec(rid, params, "t2")])  # the same run made again elsewhere
    assert ds.main(["collect", *args]) == 0
    assert records.record_path(dups, rid).is_file()
    log.write_text("tree differs\n")
    with pytest.raises(SystemExit, match="tree verified"):
        ds.main(["collect", *args])


def test_a_copy_that_fails_the_check_names_no_commit(repo: Path, monkeypatch) -> None:
    monkeypatch.setenv("RESBOOK_VERIFIED_COMMIT", "")  # check_copy sets it; restored after
    manifest = DJ.tree_manifest(repo)
    info = DJ.check_copy(manifest, repo)
    assert info["verified"] and info["n_differs"] == 0
    assert git_state(ROOT) == (manifest["commit"], False)
    (repo / "src" / "m.py").write_text("x = 2\n")
    info = DJ.check_copy(manifest, repo)
    assert not info["verified"] and info["differs"] == ["src/m.py"]
    # not what git says in the copy (here: this project's own checkout): no commit at all
    assert git_state(ROOT) == (None, None)
    (repo / "src" / "m.py").write_text("x = 1\n")
    info = DJ.check_copy({**manifest, "dirty": True}, repo)
    assert not info["verified"] and git_state(ROOT) == (None, None)


def _tar_with(path: Path, recs: list[dict], verification: dict | None) -> None:
    _tar(path, recs)
    if verification is not None:
        with tarfile.open(path, "a") as tar:
            data = json.dumps(verification).encode()
            info = tarfile.TarInfo(f"logs/{DA.VERIFICATION}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_collect_trusts_the_archives_own_verification_and_replaces_a_failed_record(
        tmp_path: Path) -> None:
    params = TrainParams(model="resnet50", resolution=64, seed=0).identity()
    rid = records.run_id(params)
    job = tmp_path / "job"
    job.mkdir()
    commit = "c" * 40
    (job / "runs.json").write_text(json.dumps(
        {"commit": commit, "runs": [{"run_id": rid, "params": params}]}))
    rec = {"run_id": rid, "params": params, "status": "ok",
           "provenance": {"git_commit": "0" * 40, "git_dirty": True,
                          "started_at": "t1", "host": "h"}}
    into = tmp_path / "results" / "paper"
    # a failed record of the same run here: the ok run replaces it (not a duplicate)
    records.write_json_atomic(records.record_path(into, rid),
                              {"run_id": rid, "params": params, "status": "failed"})
    archive = tmp_path / "a.tar"
    _tar_with(archive, [rec], {"commit": commit, "verified": True})
    args = [str(archive), str(job), "--into", str(into),
            "--duplicates-dir", str(tmp_path / "dup")]
    assert ds.main(["collect", *args]) == 0
    filed = json.loads(records.record_path(into, rid).read_text())
    assert filed["status"] == "ok" and filed["provenance"]["git_commit"] == commit
    assert not records.record_path(tmp_path / "dup", rid).exists()
    # an unverified copy: the record keeps what it names
    records.record_path(into, rid).unlink()
    _tar_with(archive, [rec], {"commit": commit, "verified": False, "n_differs": 3})
    ds.main(["collect", *args])
    assert json.loads(records.record_path(into, rid).read_text())["provenance"][
        "git_commit"] == "0" * 40
    # an archive of another job's commit is refused outright
    _tar_with(archive, [rec], {"commit": "d" * 40, "verified": True})
    with pytest.raises(SystemExit, match="matching job folder"):
        ds.main(["collect", *args])


def test_a_record_without_a_start_time_is_never_the_same_run(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"provenance": {"started_at": None, "host": None}}))
    assert not DA.same_run({"provenance": {"started_at": None, "host": None}}, path)
    path.write_text(json.dumps({"provenance": {"started_at": "t", "host": "h"}}))
    assert DA.same_run({"provenance": {"started_at": "t", "host": "h"}}, path)


def test_a_killed_worker_is_reported_and_a_new_pool_runs_the_rest() -> None:
    results: list[tuple] = []
    # os._exit kills its worker outright (as the OOM killer would): the pool breaks
    calls = [partial(abs, -1), partial(os._exit, 3), partial(abs, -4)]
    started = run_pool(operator.call, calls, 1, log=lambda m: None,
                          on_result=lambda item, res: results.append((item.args[0], res)))
    assert started == 3
    assert results[0] == (-1, 1) and results[2] == (-4, 4)
    assert results[1][0] == 3 and results[1][1]["status"] == "worker died"


# ----------------------------------------------------------------- the packed executor (issue 23)
def _run(rid: str, seed: int, **params) -> dict:
    return {"run_id": rid, "params": {"model": "m", "resolution": 64, **params, "seed": seed}}


def test_packs_are_consecutive_seeds_of_one_cell_in_the_jobs_order() -> None:
    from helpers.sweep.device import pack_runs

    runs = [_run("a0", 0), _run("a1", 1), _run("a2", 2), _run("b0", 0, resolution=128),
            _run("a3", 3), _run("a4", 4)]
    ids = [[r["run_id"] for r in p] for p in pack_runs(runs, 2)]
    assert ids == [["a0", "a1"], ["a2"], ["b0"], ["a3", "a4"]]  # order kept, never merged across b0
    assert [len(p) for p in pack_runs(runs, 1)] == [1] * 6
    with pytest.raises(ValueError, match="at least 1"):
        pack_runs(runs, 0)


def test_a_pack_starts_no_run_after_its_deadline(monkeypatch) -> None:
    import sys
    import time
    import types

    from helpers.sweep import device

    monkeypatch.setitem(sys.modules, "keras", types.SimpleNamespace(
        backend=types.SimpleNamespace(clear_session=lambda: None)))
    monkeypatch.setattr(device, "train_one", lambda spec, *a: {"run_id": spec["run_id"],
                                                                "status": "ok"})
    runs = [_run("a0", 0), _run("a1", 1)]
    assert [r["status"] for r in device.train_pack(runs, {}, "", None)] == ["ok", "ok"]
    late = device.train_pack(runs, {}, "", None, deadline=time.time() - 1)
    assert [r["status"] for r in late] == ["not started", "not started"]


def test_the_executor_ticks_while_a_long_call_runs() -> None:
    import time

    ticks: list[float] = []
    results: list = []
    run_pool(time.sleep, [1.2], 1, log=lambda m: None,
             on_result=lambda item, res: results.append(res))
    from helpers.sweep.device import DeviceExecutor

    ex = DeviceExecutor(1)
    try:
        ex.map_runs(time.sleep, [1.2], on_result=lambda i, r: results.append(r),
                    log=lambda m: None, on_tick=lambda: ticks.append(1.0), tick_s=0.2)
    finally:
        ex.shutdown(wait=True)
    assert results == [None, None] and len(ticks) >= 2


def test_device_env_shares_a_compilation_cache_and_keeps_what_is_set(tmp_path: Path) -> None:
    from helpers.sweep.device import device_env

    env: dict[str, str] = {"JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "5"}
    device_env(env, 0.1, tmp_path / "jax-cache")
    assert env["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "jax-cache")
    assert env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "5"  # the caller's choice stays
    assert env["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] == "0"
    assert env["KERAS_BACKEND"] == "jax" and "xla_gpu_deterministic_ops=true" in env["XLA_FLAGS"]
    bare: dict[str, str] = {}
    device_env(bare, 0.1)
    assert "JAX_COMPILATION_CACHE_DIR" not in bare


def test_the_gpu_monitor_says_so_where_there_is_no_nvidia_smi(tmp_path: Path, monkeypatch) -> None:
    from helpers.sweep import device

    said: list[str] = []
    monkeypatch.setattr(device.shutil, "which", lambda name: None)
    with device.gpu_monitor(tmp_path / "dmon.log", enabled=True, log=said.append):
        pass
    assert said == ["no nvidia-smi here: GPU utilisation is not logged"]
    assert not (tmp_path / "dmon.log").exists()


def test_a_second_call_does_not_run_again_what_has_an_ok_record(tmp_path: Path) -> None:
    from helpers.sweep.device import _ok_record

    recs = tmp_path / "records"
    recs.mkdir()
    def rec(status: str, commit: str | None) -> str:
        return json.dumps({"status": status, "provenance": {"git_commit": commit}})

    (recs / "a.json").write_text(rec("ok", "c1"))
    (recs / "b.json").write_text(rec("failed", "c1"))
    (recs / "c.json").write_text("{cut short")
    (recs / "e.json").write_text(rec("ok", "c0"))  # an earlier job's code: run again
    assert [_ok_record(recs, r, "c1") for r in "abcde"] == [True, False, False, False, False]
    assert _ok_record(recs, "e", "c0")


def test_a_gzip_archive_is_written_and_read_whole(tmp_path: Path) -> None:
    recs, logs = tmp_path / "records", tmp_path / "logs"
    recs.mkdir()
    logs.mkdir()
    (recs / "r.json").write_text(json.dumps({"run_id": "r", "probs": [0.123456789] * 5000}))
    (logs / "r.log").write_text("ok\n")
    plain, packed = tmp_path / "a.tar", tmp_path / "a.tar.gz"
    assert DA.write_archive(recs, logs, plain) == DA.write_archive(recs, logs, packed) == 1
    assert packed.read_bytes()[:2] == b"\x1f\x8b" and packed.stat().st_size < plain.stat().st_size / 3
    bad: list = []
    with DA.open_archive(str(packed)) as tar:
        names = [m.name for m in DA.archive_members(tar, bad)]
    assert names == ["records/r.json", "logs/r.log"] and bad == []
