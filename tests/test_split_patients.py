"""helpers.analysis.split_patients: do the Kermany test ids name training children? (findings chapter)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.analysis.split_patients import split_patient_overlap


def _image(path: Path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (40, 40), dtype=np.uint8)).save(path)


def _folders(tmp_path: Path, same_child: bool) -> Path:
    root = tmp_path / "kermany-224"
    for k in range(12):
        _image(root / "train/PNEUMONIA" / f"person{k}_bacteria_{k}.jpeg", k)
        # test person k: the very same radiograph (same child) or another one (renumbered)
        _image(root / "test/PNEUMONIA" / f"person{k}_virus_{k}.png", k if same_child else 100 + k)
        _image(root / "test/PNEUMONIA" / f"person{k}_virus_{50 + k}.png", k if same_child else 100 + k)
    _image(root / "val/NORMAL" / "IM-0999-0001.jpeg", 999)
    return root


def test_renumbered_ids_look_like_random_children(tmp_path: Path) -> None:
    out = split_patient_overlap(_folders(tmp_path, same_child=False))
    assert out["shared_ids"] == 12 and out["images"] == {"train": 12, "val": 1, "test": 24}
    assert out["patients"]["test"] == 12 and out["train_val_shared_ids"] == 0
    assert out["same_id"]["share_alike"] == 0.0
    assert out["within_test"]["median"] == pytest.approx(1.0)  # two copies of one test image
    assert out["same_vs_random_p"] > 0.05


def test_the_same_children_are_found(tmp_path: Path) -> None:
    out = split_patient_overlap(_folders(tmp_path, same_child=True))
    assert out["same_id"]["share_alike"] == 1.0
    assert out["same_id"]["median"] == pytest.approx(1.0, abs=0.01)
    assert out["same_vs_random_p"] < 0.001


def test_refuses_a_folder_that_is_not_kermany(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="train/, val/ and test/"):
        split_patient_overlap(tmp_path)
    root = _folders(tmp_path, same_child=False)
    _image(root / "test/NORMAL/scan_01.jpeg", 7)
    with pytest.raises(ValueError, match="scan_01.jpeg: no Kermany patient id"):
        split_patient_overlap(root)
