"""Issue 28, rows 8-10: the GPU path's provenance and ``device_sweep.py collect`` (chapter 05)."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest
import record_factory as RF

from helpers.files import json_text
from helpers.runs import provenance as P
from helpers.runs import records
from helpers.sweep import device_archive as DA
from helpers.sweep.device import train_one
from helpers.training.params import TrainParams

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("device_sweep", ROOT / "scripts" / "device_sweep.py")
ds = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ds)
COMMIT = "c" * 40


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=a@b", "-c", "user.name=a", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture()
def dirty_repo(tmp_path: Path) -> Path:
    """A git checkout with one committed file, then changed (a dirty tree)."""
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "m.py").write_text("x = 1\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "x")
    (repo / "src" / "m.py").write_text("x = 2\n")
    return repo


@pytest.fixture()
def fresh_process(monkeypatch) -> None:
    """No copy check in this process; whatever the test sets is undone after it."""
    monkeypatch.setenv(P.ENV_VERIFIED_COMMIT, "")  # (delenv of an unset one restores nothing)
    monkeypatch.setattr(P, "_copy_check", None, raising=False)


# ---------------------------------------------------------------------------- row 8
def test_row08_a_hand_set_verified_commit_does_not_name_a_dirty_tree_clean(
        dirty_repo: Path, fresh_process, monkeypatch) -> None:
    head = git(dirty_repo, "rev-parse", "HEAD").strip()
    monkeypatch.setenv(P.ENV_VERIFIED_COMMIT, "deadbeef")
    with pytest.warns(UserWarning, match="RESBOOK_VERIFIED_COMMIT='deadbeef' is ignored"):
        assert P.git_state(dirty_repo / "src") == (head, True)
    with pytest.warns(UserWarning, match="ignored"):
        assert P.provenance(None, None)["git_commit"] != "deadbeef"


def test_row08_the_verified_commit_reaches_a_worker_only_explicitly(
        dirty_repo: Path, fresh_process, monkeypatch, tmp_path: Path) -> None:
    """The GPU path: the commit check_copy verified is handed to train_one, which stamps it."""
    import helpers.training

    def fake_training(params: dict, verbose: int) -> dict:
        commit, dirty = P.git_state(dirty_repo / "src")  # a stale .git in the copy
        return {"run_id": "r", "status": "ok", "provenance": {"git_commit": commit,
                                                                "git_dirty": dirty}}

    monkeypatch.setattr(helpers.training, "run_training", fake_training)
    out = tmp_path / "out"
    where = {"output_dir": str(out)}

    def stamped(verified: str | None) -> dict:
        train_one({"run_id": "r", "params": {}}, where, str(tmp_path), verified)
        return records.read_json(records.record_path(out, "r"))["provenance"]

    assert stamped(COMMIT) == {"git_commit": COMMIT, "git_dirty": False}
    assert stamped(None) == {"git_commit": None, "git_dirty": None}  # the check failed
    # a worker that inherited the variable but was handed no commit: git decides
    monkeypatch.setattr(P, "_copy_check", None, raising=False)
    monkeypatch.setenv(P.ENV_VERIFIED_COMMIT, COMMIT)
    with pytest.warns(UserWarning, match="ignored"):
        assert P.git_state(dirty_repo / "src")[1] is True


# ---------------------------------------------------------------------------- rows 9, 10
def make_record(seed: int) -> dict:
    """An ok record of a planned run whose metrics are those of its predictions."""
    rng = np.random.default_rng(seed)
    val = (np.zeros(10, int), rng.random(10))  # one class: its AUC is NaN, written as null
    test = ((np.arange(24) % 3 == 0).astype(int), rng.random(24))
    rec = RF.make_record(TrainParams(model="resnet50", resolution=64, seed=seed).identity(),
                         val=val, test=test, metrics=True,
                         provenance={"git_commit": COMMIT, "git_dirty": False,
                                     "started_at": f"t{seed}", "host": "h"})
    return RF.as_written(rec)  # as written by save_record


def write_tar(path: Path, members: list[tuple[str, bytes]]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def member(rec: dict) -> tuple[str, bytes]:
    return f"records/{rec['run_id']}.json", json_text(rec).encode()


def job_of(tmp_path: Path, recs: list[dict]) -> Path:
    job = tmp_path / "job"
    job.mkdir(exist_ok=True)
    runs = [{"run_id": r["run_id"], "params": r["params"]} for r in recs]
    (job / "runs.json").write_text(json.dumps({"commit": COMMIT, "runs": runs}))
    return job


def collect(tmp_path: Path, archive: Path, job: Path) -> tuple[int, Path]:
    into = tmp_path / "results" / "paper"
    return ds.main(["collect", str(archive), str(job), "--into", str(into)]), into


def test_row09_collect_refuses_a_record_whose_metrics_were_edited(tmp_path: Path, capsys) -> None:
    honest, edited, plain = make_record(0), make_record(1), make_record(2)
    edited["metrics"]["test"]["accuracy"] = 0.99
    plain["metrics_plain"] = {"test": {**plain["metrics"]["test"], "auc": 0.97}}
    plain["predictions"]["test"]["probs_plain"] = plain["predictions"]["test"]["probs"]
    archive = tmp_path / "a.tar"
    write_tar(archive, [member(r) for r in (honest, edited, plain)])
    rc, into = collect(tmp_path, archive, job_of(tmp_path, [honest, edited, plain]))
    assert rc == 1
    assert records.record_path(into, honest["run_id"]).is_file()
    assert not records.record_path(into, edited["run_id"]).exists()
    assert not records.record_path(into, plain["run_id"]).exists()
    err = capsys.readouterr().err
    assert "metrics.test.accuracy: stored 0.99" in err and "metrics_plain.test.auc" in err


def test_row09_metrics_without_predictions_to_check_them_by_are_listed() -> None:
    rec = make_record(0)
    assert DA.metric_mismatches(rec) == []
    del rec["predictions"]["val"]
    rec["metrics"]["test"]["tp"] += 1
    rec["metrics"]["test"]["extra"] = 1.0
    wrong = DA.metric_mismatches(rec)
    assert wrong[0].startswith("metrics.val: no predictions.val.probs")
    assert any(w.startswith("metrics.test.tp: stored") for w in wrong)
    assert any(w.startswith("metrics.test.extra: stored 1.0") for w in wrong)


def test_row10_collect_files_the_good_members_and_lists_an_invalid_json_one(
        tmp_path: Path, capsys) -> None:
    good = make_record(0)
    archive = tmp_path / "a.tar"
    write_tar(archive, [("records/broken.json", b'{"run_id": '), ("records/list.json", b"[1]"),
                        member(good)])
    rc, into = collect(tmp_path, archive, job_of(tmp_path, [good]))
    assert rc == 1 and records.record_path(into, good["run_id"]).is_file()
    err = capsys.readouterr().err
    assert "NOT FILED records/broken.json: not valid JSON" in err
    assert "NOT FILED records/list.json: not a JSON object" in err


def test_row10_a_damaged_verification_is_listed_and_the_records_still_filed(
        tmp_path: Path, capsys) -> None:
    good = make_record(0)
    archive = tmp_path / "a.tar"
    write_tar(archive, [member(good), (f"logs/{DA.VERIFICATION}", b"{not json")])
    rc, into = collect(tmp_path, archive, job_of(tmp_path, [good]))
    assert rc == 1 and records.record_path(into, good["run_id"]).is_file()
    assert f"NOT FILED logs/{DA.VERIFICATION}: not valid JSON" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"this is not a tar archive\n" * 40, b""])
def test_row10_a_file_that_is_not_a_tar_gets_a_clear_error(tmp_path: Path,
                                                           content: bytes) -> None:
    archive = tmp_path / "records.tar"
    archive.write_bytes(content)
    with pytest.raises(SystemExit, match=r"records\.tar is not a readable tar archive"):
        collect(tmp_path, archive, job_of(tmp_path, [make_record(0)]))
    with pytest.raises(SystemExit, match=r"missing\.tar: no such file"):
        collect(tmp_path, tmp_path / "missing.tar", job_of(tmp_path, [make_record(0)]))


@pytest.mark.parametrize("cut", ["data", "header"])
def test_row10_a_cut_short_archive_files_what_it_can_and_says_so(tmp_path: Path, capsys,
                                                                 cut: str) -> None:
    first, second = make_record(0), make_record(1)
    archive = tmp_path / "a.tar"
    write_tar(archive, [member(first), member(second)])
    with tarfile.open(archive) as tar:
        second_info = tar.getmembers()[1]
    # cut inside the second record's data, or inside its header
    end = second_info.offset_data + 100 if cut == "data" else second_info.offset + 300
    archive.write_bytes(archive.read_bytes()[:end])
    rc, into = collect(tmp_path, archive, job_of(tmp_path, [first, second]))
    assert rc == 1
    assert records.record_path(into, first["run_id"]).is_file()
    assert not records.record_path(into, second["run_id"]).exists()
    assert "damaged or cut short" in capsys.readouterr().err


def test_metrics_of_each_external_geometry_are_recomputed() -> None:
    """Issue 29's records hold metrics per geometry of the external set: each is checked."""
    from helpers.stats.metrics import binary_metrics

    rec = make_record(0)
    pred = {"ids": ["a", "b", "c", "d"], "labels": [0, 1, 0, 1], "probs": [0.1, 0.8, 0.3, 0.6]}
    rec["predictions"]["external_geometry"] = {"squash": pred, "crop": dict(pred)}
    rec["metrics"]["external_geometry"] = {
        g: binary_metrics(pred["labels"], pred["probs"]) for g in ("squash", "crop")}
    assert DA.metric_mismatches(rec) == []
    rec["metrics"]["external_geometry"]["crop"]["auc"] = 0.99
    wrong = DA.metric_mismatches(rec)
    assert len(wrong) == 1 and wrong[0].startswith("metrics.external_geometry.crop.auc: stored")
    del rec["predictions"]["external_geometry"]["crop"]
    assert DA.metric_mismatches(rec)[0].startswith(
        "metrics.external_geometry.crop: no predictions.external_geometry.crop.probs")
