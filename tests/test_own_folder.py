"""The whole book on a user's folder of photos: `python -m helpers own-folder` end to end.

A folder in the paper's layout (Acne/, Normal/; JPEG and PNG of mixed sizes, real ISIC photos
standing in) goes through the data chapter, a frozen-regime sweep and the results chapter into
its own output tree; the ISIC book's chapters and records are left untouched.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from data_fixtures import folder_from_isic, make_folder

from helpers.build import ownfolder, ownfolder_checks
from helpers.data import DataError

ROOT = Path(__file__).resolve().parents[1]
REAL = os.environ.get("RESBOOK_DATA_DIR", "")


def _tree_digest(*folders: Path) -> str:
    h = hashlib.sha256()
    for folder in folders:
        for f in sorted(p for p in folder.rglob("*") if p.is_file()):
            h.update(f.relative_to(ROOT).as_posix().encode())
            h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def test_sweep_config_and_checks(tmp_path):
    root = make_folder(tmp_path / "photos", {"Acne": 3, "Normal": 3})
    assert ownfolder_checks.check_folder(root, "Acne") == ("Normal", "Acne")
    with pytest.raises(DataError, match="class folders are \\['Acne', 'Normal'\\]"):
        ownfolder_checks.check_folder(root, "acne")
    cfg = ownfolder.sweep_config("own-photos", tmp_path / "out", "Acne")
    assert cfg["grid"] == {"model": ["mobilenet", "resnet50"], "resolution": [64, 128, 224, 256],
                           "seed": [0, 1, 2]}
    assert cfg["fixed"]["regime"] == "frozen" and cfg["fixed"]["split_seed"] == 0
    assert ownfolder.sweep_config("x", tmp_path, "Acne", regime="full")["fixed"]["regime"] == "full"
    with pytest.raises(ValueError, match="inside results/paper"):
        ownfolder._check_out((ROOT / "results" / "paper" / "x").resolve(), ROOT)
    with pytest.raises(ValueError, match="inside book"):
        ownfolder._check_out((ROOT / "book" / "chapters").resolve(), ROOT)


def test_own_folder_end_to_end(tmp_path):
    """Data chapter, 2 runs (both models, 64 px, 1 seed, 1 epoch), results chapter, table.

    About 2 minutes on a busy 2-core CPU, so not marked slow."""
    for var in ("RESBOOK_DATA_DIR", "RESBOOK_WEIGHTS_DIR"):
        if not os.environ.get(var):
            pytest.skip(f"{var} is not set: this test trains on real photos and weights")
    if not (Path(REAL) / "isic2017-256" / "labels.csv").is_file():
        pytest.skip("RESBOOK_DATA_DIR has no isic2017-256/")
    photos = folder_from_isic(Path(REAL), tmp_path / "My photos", n_per_class=40)
    (photos / "Acne" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # litter is skipped, listed
    before = _tree_digest(ROOT / "results" / "paper", ROOT / "book" / "chapters")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "helpers", "own-folder", "--folder", str(photos),
           "--positive", "Acne", "--resolutions", "64", "--seeds", "0", "--epochs", "1",
           "--out", str(out), "--allow-dirty"]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    recs = sorted((out / "records").glob("*.json"))
    assert [r.name.split("-s0-")[0] for r in recs] == [
        "folder-Acne-mobilenet-64-frozen-unit", "folder-Acne-resnet50-64-frozen-unit"]
    for name in ("sweep.yaml", "01_data.ipynb", "04_results.ipynb", "11_beyond_auc.ipynb",
                 "table1_auc.csv"):
        assert (out / name).is_file(), name
    assert len(list((out / "notebooks").glob("*.ipynb"))) == 2
    assert "task **Acne**" in (out / "01_data.ipynb").read_text()
    # both results chapters read the folder's 2 runs, not the book's records
    for name in ("04_results.ipynb", "11_beyond_auc.ipynb"):
        assert "2 ok runs, 0 failed" in (out / name).read_text(), name
    tail = res.stdout[res.stdout.index("Table I (short form)"):]
    assert "test AUC [95% CI]" in tail and "64 px" in tail
    assert "mobilenet" in tail and "resnet50" in tail
    assert _tree_digest(ROOT / "results" / "paper", ROOT / "book" / "chapters") == before
