"""Kermany patient-level split and PneumoniaMNIST loading (chapter 01)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import random_image, save_jpeg

from helpers.data import DataError, load_dataset
from helpers.data.sources import KermanySource, kermany_patient
from helpers.data.splits import patient_split

REAL = os.environ.get("RESBOOK_DATA_DIR", "")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))


def make_kermany(root: Path) -> Path:
    """Tiny kermany-224 tree; several patients have 2-3 images."""
    seed = 0
    spec = {"train": (12, 16), "val": (2, 2), "test": (3, 4)}
    for split, (n_norm, n_pneu) in spec.items():
        for k in range(n_norm):
            off = {"train": 1000, "val": 2000, "test": 3000}[split]
            name = (f"IM-{off + k // 2:04d}-000{k % 2 + 1}.jpeg" if k % 3
                    else f"NORMAL2-IM-{off + k:04d}-0001.jpeg")
            save_jpeg(root / "kermany-224" / split / "NORMAL" / name, random_image(seed))
            seed += 1
        for k in range(n_pneu):
            kind = "bacteria" if k % 2 else "virus"
            pid = {"train": 100, "val": 500, "test": 900}[split] + k // 3
            save_jpeg(root / "kermany-224" / split / "PNEUMONIA" / f"person{pid}_{kind}_{k}.jpeg",
                      random_image(seed))
            seed += 1
    return root


def test_patient_names():
    assert kermany_patient("person1000_bacteria_2931.jpeg") == "person1000"
    assert kermany_patient("IM-0115-0001.jpeg") == "IM-0115"
    assert kermany_patient("NORMAL2-IM-1427-0001.jpeg") == "NORMAL2-IM-1427"
    assert kermany_patient("IM-0011-0001-0002.jpeg") == "IM-0011"
    assert kermany_patient("scan.jpeg") is None


def _patients(ds, split):
    return {kermany_patient(i.split("/")[-1]) or i for i in ds.splits[split].ids}


def test_patient_level_resplit(tmp_path):
    root = make_kermany(tmp_path)
    ds = load_dataset("kermany", data_root=root, resolution=8, seed=0)
    assert ds.report.split_strategy == "patient" and ds.class_names == ("normal", "pneumonia")
    assert not _patients(ds, "train") & _patients(ds, "val")
    assert ds.report.counts["test"] == (3, 4)  # official test kept
    assert sum(map(sum, (ds.report.counts["train"], ds.report.counts["val"]))) == 32
    assert min(ds.report.counts["val"]) >= 1
    official = load_dataset("kermany", data_root=root, resolution=8, split_strategy="official")
    assert official.report.counts["val"] == (2, 2)
    bv = load_dataset("kermany", data_root=root, resolution=8, task="bacterial_vs_viral")
    assert bv.class_names == ("bacterial", "viral")
    assert all("PNEUMONIA" in i for s in bv.splits.values() for i in s.ids)
    assert all(("virus" in i) == bool(y) for s in bv.splits.values()
               for i, y in zip(s.ids, s.labels, strict=True))


def test_kermany_layout_errors(tmp_path):
    with pytest.raises(DataError, match="Mendeley") as err:
        load_dataset("kermany", data_root=tmp_path, resolution=8)
    assert "kermany-224/train/NORMAL" in str(err.value) and "RESBOOK_DATA_DIR" in str(err.value)
    root = make_kermany(tmp_path)
    (root / "kermany-224/val/COVID").mkdir()
    with pytest.raises(DataError, match="exactly the class folders"):
        load_dataset("kermany", data_root=root, resolution=8)


@pytest.mark.skipif(not REAL or not (Path(REAL) / "kermany-224").is_dir(),
                    reason="RESBOOK_DATA_DIR is unset or has no kermany-224/ (real-data test)")
def test_real_kermany_patient_split_has_no_shared_patient():
    src = KermanySource(Path(REAL))
    entries = [e for e in src.entries() if e.split != "test"]
    labels = np.array([e.cls == "PNEUMONIA" for e in entries], dtype=np.int64)
    groups = [e.group for e in entries]
    assert len(entries) == 5232 and len(set(groups)) > 2500
    for seed in (0, 1):
        val = patient_split(labels, groups, 0.10, seed)
        g = np.array(groups)
        assert not set(g[val]) & set(g[~val])
        for c in (0, 1):
            share = val[labels == c].mean()
            assert 0.09 <= share <= 0.12
    assert (patient_split(labels, groups, 0.1, 0) != patient_split(labels, groups, 0.1, 1)).any()


def test_pneumoniamnist_from_npz(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {}
    for s, n in (("train", 10), ("val", 4), ("test", 6)):
        arrays[f"{s}_images"] = rng.integers(0, 255, (n, 28, 28), dtype=np.uint8)
        arrays[f"{s}_labels"] = (np.arange(n) % 2).reshape(-1, 1).astype(np.uint8)
    (tmp_path / "pneumoniamnist").mkdir()
    np.savez(tmp_path / "pneumoniamnist/pneumoniamnist.npz", **arrays)
    ds = load_dataset("pneumoniamnist", data_root=tmp_path, resolution=56)
    assert ds.report.counts == {"train": (5, 5), "val": (2, 2), "test": (3, 3)}
    im = ds.splits["val"].images
    assert im.shape == (4, 56, 56, 3) and (im[..., 0] == im[..., 2]).all()
    assert list(ds.splits["val"].ids) == ["val_00000", "val_00001", "val_00002", "val_00003"]
    arrays["val_labels"][0] = 3
    np.savez(tmp_path / "pneumoniamnist/pneumoniamnist.npz", **arrays)
    with pytest.raises(DataError, match="0/1 label"):
        load_dataset("pneumoniamnist", data_root=tmp_path, resolution=28)
    with pytest.raises(DataError, match="download\\('pneumoniamnist'\\)"):
        load_dataset("pneumoniamnist", data_root=tmp_path / "none", resolution=28)
