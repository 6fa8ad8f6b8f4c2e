"""ISIC 2017 loader: labels.csv validation, real images, the known duplicate pairs (chapter 01)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from data_fixtures import isic_rows, make_isic
from PIL import Image

from helpers.data import DataError, load_dataset

REAL = os.environ.get("RESBOOK_DATA_DIR", "")
needs_real = pytest.mark.skipif(
    not REAL or not (Path(REAL) / "isic2017-256" / "labels.csv").is_file(),
    reason="RESBOOK_DATA_DIR is unset or has no isic2017-256/ (real-data test)")
KNOWN_PAIRS = [("ISIC_0012175", "ISIC_0015982"), ("ISIC_0012970", "ISIC_0012127"),
               ("ISIC_0012221", "ISIC_0016002"), ("ISIC_0012271", "ISIC_0016018"),
               ("ISIC_0012216", "ISIC_0016001"), ("ISIC_0012152", "ISIC_0015979")]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))


def _load(root, **kw):
    kw.setdefault("resolution", 16)
    return load_dataset("isic2017", data_root=root, **kw)


def test_tasks_and_official_splits(tmp_path):
    make_isic(tmp_path, isic_rows(4))
    mel = _load(tmp_path)
    assert mel.task == "melanoma" and mel.class_names == ("benign", "melanoma")
    assert mel.report.counts == {"train": (3, 1), "val": (3, 1), "test": (3, 1)}
    sk = _load(tmp_path, task="seborrheic_keratosis")
    assert sk.report.counts["train"] == (3, 1)
    nev = _load(tmp_path, task="nevus")
    assert nev.report.counts["train"] == (2, 2) and nev.class_names == ("other", "nevus")
    assert len({mel.fingerprint, sk.fingerprint, nev.fingerprint}) == 3
    assert mel.report.source == "<data root>/isic2017-256/"


def _edit_csv(folder: Path, fn) -> None:
    df = pd.read_csv(folder / "labels.csv", dtype=str, keep_default_na=False)
    fn(df).to_csv(folder / "labels.csv", index=False)


@pytest.mark.parametrize("edit,match", [
    (lambda d: d.drop(columns=["split"]), "missing columns"),
    (lambda d: d.drop(columns=["diagnosis", "melanoma"]), "missing columns"),
    (lambda d: d.assign(split=["train"] * 11 + ["holdout"]), r"unknown split values \['holdout'\]"),
    (lambda d: d.assign(melanoma=["2.0"] + list(d.melanoma[1:])), "must be 0 or 1"),
    (lambda d: d.assign(melanoma=["1.0"] * 12), "diagnosis' disagrees|both melanoma"),
    (lambda d: pd.concat([d, d.iloc[:1]]), "more than once"),
    (lambda d: d.iloc[1:], r"not listed, e.g. 'isic2017-256/ISIC-2017_Training_Data/ISIC_0000000"),
    (lambda d: d.assign(path=["nowhere/x.jpg"] + list(d.path[1:])), r"no file, e.g. 'isic2017-256/nowhere/x.jpg'"),
    (lambda d: d.iloc[:0], "no rows"),
])
def test_labels_csv_problems(tmp_path, edit, match):
    folder = make_isic(tmp_path, isic_rows(4))
    _edit_csv(folder, edit)
    with pytest.raises(DataError, match=match):
        _load(tmp_path)


def test_diagnosis_only_csv_and_bad_diagnosis(tmp_path):
    folder = make_isic(tmp_path, isic_rows(4))
    _edit_csv(folder, lambda d: d.drop(columns=["melanoma", "seborrheic_keratosis"]))
    assert _load(tmp_path).report.counts["test"] == (3, 1)
    _edit_csv(folder, lambda d: d.assign(diagnosis=["wart"] + list(d.diagnosis[1:])))
    with pytest.raises(DataError, match="unknown diagnosis"):
        _load(tmp_path)


def test_missing_data_error_says_what_to_do(tmp_path):
    with pytest.raises(DataError) as err:
        _load(tmp_path)
    msg = str(err.value)
    assert "isic2017-256/labels.csv" in msg and "RESBOOK_DATA_DIR" in msg
    assert "download('isic2017')" in msg
    (tmp_path / "isic2017-256").mkdir()
    with pytest.raises(DataError, match="labels.csv' not found"):
        _load(tmp_path)


def test_corrupt_listed_image_is_skipped_or_raises(tmp_path):
    folder = make_isic(tmp_path, isic_rows(4) + [("ISIC_0000099", "train", "nevus")])
    (folder / "ISIC-2017_Training_Data/ISIC_0000099.jpg").write_text("not a jpeg")
    with pytest.warns(UserWarning, match="ISIC_0000099"):
        ds = _load(tmp_path)
    assert ds.report.skipped[0][0] == "isic2017-256/ISIC-2017_Training_Data/ISIC_0000099.jpg"
    with pytest.raises(DataError, match="ISIC_0000099.jpg"):
        _load(tmp_path, on_unreadable="raise")


@needs_real
def test_real_subset_of_eight_images(tmp_path):
    src = Path(REAL) / "isic2017-256"
    df = pd.read_csv(src / "labels.csv", dtype=str, keep_default_na=False)
    pick = pd.concat([df[(df.split == s) & (df.diagnosis == d)].head(1 if s != "train" else 2)
                      for s in ("train", "val", "test") for d in ("melanoma", "nevus")]).head(8)
    assert len(pick) == 8
    dst = tmp_path / "isic2017-256"
    for p in pick.path:
        (dst / p).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / p, dst / p)
    pick.to_csv(dst / "labels.csv", index=False)
    ds = _load(tmp_path, resolution=64)
    assert ds.report.counts == {"train": (2, 2), "val": (1, 1), "test": (1, 1)}
    tr = ds.splits["train"]
    assert tr.images.shape == (4, 64, 64, 3) and tr.images.dtype == np.uint8
    i = 0
    want = np.asarray(Image.open(dst / pick.set_index("image_id").loc[tr.ids[i], "path"])
                      .convert("RGB").resize((64, 64), Image.BILINEAR))
    np.testing.assert_array_equal(tr.images[i], want)
    full = _load(tmp_path, resolution=256)
    raw = np.asarray(Image.open(dst / pick.set_index("image_id").loc[tr.ids[0], "path"]))
    np.testing.assert_array_equal(full.splits["train"].images[0], raw)  # stored size: no resize


@needs_real
def test_known_isic_duplicate_pairs_found_and_removed():
    ds = load_dataset("isic2017", resolution=8, data_root=REAL)
    exact = {frozenset(g.ids) for g in ds.report.duplicates if g.kind == "exact"}
    assert exact == {frozenset(p) for p in KNOWN_PAIRS}
    ids = set(np.concatenate([s.ids for s in ds.splits.values()]))
    for a, b in KNOWN_PAIRS:
        assert (a in ids) != (b in ids)  # exactly one copy of each pair survives
    split_of = {i: s for s, sp in ds.splits.items() for i in sp.ids}
    assert split_of["ISIC_0015982"] == "test" and "ISIC_0012175" not in ids  # eval copy kept
    assert split_of["ISIC_0012127"] == "val"
    total = {s: sum(v) for s, v in ds.report.counts.items()}
    assert total["test"] <= 600 - 2 and total["train"] <= 2000 - 3
    near = [g for g in ds.report.duplicates if g.kind == "near"]
    assert all(g.max_distance <= 6 for g in near)
    assert ds.report.counts["test"][1] == 117  # no test melanoma lost
