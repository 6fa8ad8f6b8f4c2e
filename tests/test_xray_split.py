"""Part II (chest X-rays): the documented 80/20 patient-level split option (``val_fraction``)."""

from __future__ import annotations

import pytest
from test_data_kermany_mnist import _patients, make_kermany

from helpers.data import DataError, load_dataset
from helpers.runs import records as R
from helpers.training.params import validate_params


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))


def test_val_fraction_moves_more_patients_to_validation(tmp_path):
    root = make_kermany(tmp_path)
    ten = load_dataset("kermany", data_root=root, resolution=8, seed=0)
    twenty = load_dataset("kermany", data_root=root, resolution=8, seed=0, val_fraction=0.2)
    assert sum(twenty.report.counts["val"]) > sum(ten.report.counts["val"])
    assert not _patients(twenty, "train") & _patients(twenty, "val")
    assert twenty.report.counts["test"] == ten.report.counts["test"]  # official test kept
    assert any("20% of each class to val" in n for n in twenty.report.notes)
    same = load_dataset("kermany", data_root=root, resolution=8, seed=0, val_fraction=0.1)
    assert same.fingerprint == ten.fingerprint  # 0.1 is the default split, image for image


def test_val_fraction_rejected_where_it_means_nothing(tmp_path):
    root = make_kermany(tmp_path)
    with pytest.raises(DataError, match="split_strategy='patient' only"):
        load_dataset("kermany", data_root=root, resolution=8, split_strategy="official",
                     val_fraction=0.2)
    with pytest.raises(ValueError, match="val_fraction"):
        load_dataset("kermany", data_root=root, resolution=8, val_fraction=1.5)


def test_val_fraction_parameter_keeps_earlier_run_ids():
    p = validate_params({})
    assert p.val_fraction is None and "val_fraction" not in p.identity()
    q = validate_params({"val_fraction": 0.2})
    assert q.identity()["val_fraction"] == 0.2 and R.run_id(q.identity()) != R.run_id(p.identity())
    for bad in (0, 1, "0.2", True):
        with pytest.raises(ValueError, match="val_fraction"):
            validate_params({"val_fraction": bad})


def test_run_training_refuses_a_dataset_loaded_with_another_split(tmp_path):
    from helpers.training.run import load_data

    root = make_kermany(tmp_path)
    ds = load_dataset("kermany", data_root=root, resolution=32, seed=0)
    p = validate_params({"dataset": "kermany", "task": "pneumonia", "resolution": 32,
                         "val_fraction": 0.2})
    with pytest.raises(ValueError, match="val_fraction=0.2 but the dataset"):
        load_data(p, ds)
    ok = load_dataset("kermany", data_root=root, resolution=32, seed=0, val_fraction=0.2)
    assert load_data(p, ok) is ok
