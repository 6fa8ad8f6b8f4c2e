"""helpers.sweep.device_travel: a GPU job's inputs in per-call parts, and a slim checkout (issue 23)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from helpers.sweep import device_job as DJ
from helpers.sweep.device_travel import (
    MiB,
    job_inputs,
    pack_inputs,
    slim,
    travel_bytes,
    unpack_inputs,
    unslim,
)


def _tree(root: Path) -> dict[str, Path]:
    (root / "data" / "isic2017-256" / "images").mkdir(parents=True)
    (root / "data" / "isic2017-256" / "images" / "a.jpg").write_bytes(bytes(range(256)) * 900)
    (root / "data" / "isic2017-256" / "labels.csv").write_text("image_id,split\n")
    (root / "w").mkdir()
    (root / "w" / "big.h5").write_bytes(b"\1" * (300 * 1024))
    return {"data/isic2017-256": root / "data" / "isic2017-256", "weights/big.h5": root / "w" / "big.h5"}


def test_inputs_round_trip_through_parts_dealt_into_calls(tmp_path: Path) -> None:
    items = _tree(tmp_path / "here")
    info = pack_inputs(items, tmp_path / "carry", budget=200 * 1024, part_bytes=64 * 1024)
    assert len(info["folders"]) >= 3  # ~530 KiB in calls of under 200 KiB
    for folder in info["folders"]:
        size = sum(p.stat().st_size for p in (tmp_path / "carry" / folder).glob("part-*"))
        assert size <= 200 * 1024
    folders = [tmp_path / "carry" / f for f in info["folders"]]
    unpack_inputs(folders, tmp_path / "there")
    for name, src in items.items():
        got = tmp_path / "there" / name
        if src.is_file():
            assert got.read_bytes() == src.read_bytes()
        else:
            assert (got / "images" / "a.jpg").read_bytes() == (src / "images" / "a.jpg").read_bytes()
    with pytest.raises(SystemExit, match="is not here: carry that folder"):
        unpack_inputs(folders[1:], tmp_path / "again")
    part = next(folders[0].glob("part-*"))
    part.write_bytes(b"x" + part.read_bytes()[1:])
    with pytest.raises(SystemExit, match="differs from the part pack-inputs wrote"):
        unpack_inputs(folders, tmp_path / "again")
    again = pack_inputs(items, tmp_path / "carry", budget=400 * 1024, part_bytes=300 * 1024)
    assert sorted(p.name for p in (tmp_path / "carry").glob("c*")) == again["folders"]  # no stale c3
    with pytest.raises(ValueError, match="must fit the per-call budget"):
        pack_inputs(items, tmp_path / "c2", budget=200 * 1024, part_bytes=200 * 1024)
    one = pack_inputs(items, tmp_path / "c3", budget=200 * 1024, part_bytes=136 * 1024)
    assert all(any(p["folder"] == f for p in one["parts"]) for f in one["folders"])  # none empty


def test_unpack_refuses_a_member_outside_the_destination(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"evil"
        m = tarfile.TarInfo("../escape.txt")
        m.size = len(data)
        tar.addfile(m, io.BytesIO(data))
    raw = buf.getvalue()
    d = tmp_path / "c1"
    d.mkdir()
    (d / "part-000").write_bytes(raw)
    sha = hashlib.sha256(raw).hexdigest()
    (d / "inputs.json").write_text(json.dumps({"items": {}, "tar_sha256": sha, "parts": [
        {"name": "part-000", "bytes": len(raw), "sha256": sha, "folder": "c1"}]}))
    with pytest.raises(SystemExit, match="refusing member '../escape.txt'"):
        unpack_inputs([d], tmp_path / "there")
    assert not (tmp_path / "escape.txt").exists()


def test_job_inputs_lists_what_the_runs_read(tmp_path: Path) -> None:
    from helpers.training.weights import WEIGHT_FILES

    items = _tree(tmp_path)
    for m in ("mobilenet", "resnet50"):
        (tmp_path / "w" / WEIGHT_FILES[m]).write_bytes(b"w")
    (tmp_path / "ph2" / "images").mkdir(parents=True)
    runs = [{"params": {"dataset": "isic2017", "model": "mobilenet", "external": "ph2"}},
            {"params": {"dataset": "isic2017", "model": "resnet50"}}]
    loc = {"data_root": str(tmp_path / "data"), "weights_dir": str(tmp_path / "w"),
           "external_root": str(tmp_path / "ph2" / "images")}
    got = job_inputs(runs, loc)
    assert got["data/isic2017-256"] == items["data/isic2017-256"]
    assert set(got) == {"data/isic2017-256", "external/images",
                        *(f"weights/{WEIGHT_FILES[m]}" for m in ("mobilenet", "resnet50"))}
    with pytest.raises(SystemExit, match="need --weights-dir"):
        job_inputs(runs, {**loc, "weights_dir": None})
    with pytest.raises(SystemExit, match="need --external-root"):
        job_inputs(runs, {**loc, "external_root": str(tmp_path / "nowhere")})


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=a@b", "-c", "user.name=a", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


def test_slim_keeps_results_and_book_home_and_unslim_restores_the_index(tmp_path: Path) -> None:
    for rel, size in (("src/m.py", 10), ("results/r.json", 5000), ("book/b.ipynb", 3000)):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x" * size)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "x")
    assert travel_bytes(tmp_path) == 8010
    manifest = DJ.tree_manifest(tmp_path, leave_out=("results", "book"))  # prepare --code-only
    assert set(manifest["files"]) == {"src/m.py"}
    assert slim(tmp_path) == 10
    assert (tmp_path / "results" / "r.json").is_file()  # still on disk, only not sent
    assert DJ.verify_tree(tmp_path, manifest) == []
    with pytest.raises(SystemExit, match="slim already"):
        slim(tmp_path)
    unslim(tmp_path)
    assert travel_bytes(tmp_path) == 8010
    assert _git(tmp_path, "status", "--porcelain") == ""
    assert "device_sweep slim" not in (tmp_path / ".git" / "info" / "exclude").read_text()
    (tmp_path / "src" / "m.py").write_text("changed")
    with pytest.raises(SystemExit, match="commit them"):
        slim(tmp_path)
    assert MiB == 1 << 20
