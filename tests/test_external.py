"""External test set: a run scores every image of another labelled folder (split "external").

``external`` (a name) is part of the run's identity and left out at None (run ids unchanged);
``external_root`` (the folder) is a location. The record gets the per-image predictions,
metrics, the folder's counts and its fingerprint; the results chapter's helper puts the external
AUC beside the internal test AUC with DeLong intervals, and shows nothing without one.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import make_folder, random_image, save_image

from helpers.chapters import results
from helpers.data import external_fingerprint, load_external
from helpers.runs import records as R
from helpers.training import run_training, save_record, validate_params


@pytest.fixture
def folders(tmp_path, monkeypatch):
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    photos = make_folder(tmp_path / "photos", {"Acne": 10, "Normal": 10})
    ext = make_folder(tmp_path / "Hospital B", {"Acne": 3, "Normal": 3}, seed0=500)
    save_image(ext / "Normal" / "big.png", random_image(777, size=150))  # any size and format
    return photos, ext


def test_identity_and_location():
    base = dict(dataset="folder", task="Acne", model="mobilenet", resolution=32, regime="frozen",
                seed=0)
    plain = validate_params(base).identity()
    assert "external" not in plain and "split_seed" not in plain
    ext = validate_params({**base, "external": "hosp", "external_root": "/x/y"}).identity()
    assert ext["external"] == "hosp" and "external_root" not in ext
    assert R.run_id(ext) != R.run_id(plain)
    with pytest.raises(ValueError, match="external"):
        validate_params({**base, "external": ""})


def test_load_external_every_image(folders):
    _, ext = folders
    split, names, fp = load_external(ext, "Acne", 32)
    assert names == ("Normal", "Acne") and len(split) == 7 and split.class_counts() == (4, 3)
    assert split.images.shape == (7, 32, 32, 3) and fp == external_fingerprint(ext, "Acne")
    with pytest.raises(Exception, match="no class folder 'Melanoma'"):
        load_external(ext, "Melanoma", 32)


def test_run_scores_external_and_results_table(folders, tmp_path):
    photos, ext = folders
    p = validate_params(dict(
        dataset="folder", task="Acne", model="mobilenet", resolution=32, regime="frozen",
        epochs=1, batch_size=8, weights=None, seed=0, split_seed=0, external="hospital_b",
        external_root=str(ext), data_root=str(photos), output_dir=str(tmp_path / "out")))
    rec = run_training(p, verbose=0, measure=False)
    pred = rec["predictions"]["external"]
    assert len(pred["ids"]) == len(pred["probs"]) == 7 and rec["metrics"]["external"]["n"] == 7
    assert rec["data"]["external"] == {"name": "hospital_b", "class_names": ["Normal", "Acne"],
                                       "counts": [4, 3], "geometries": ["squash", "crop", "pad"]}
    assert rec["provenance"]["external_fingerprint"] == external_fingerprint(ext, "Acne")
    save_record(rec, p.output_dir)
    other = copy.deepcopy(rec)  # a second seed on the same images
    other["params"]["seed"] = 1
    other["run_id"] = R.run_id(other["params"])
    for split in ("test", "external"):
        probs = np.asarray(other["predictions"][split]["probs"])
        other["predictions"][split]["probs"] = np.clip(probs[::-1] * 0.5 + 0.25, 0, 1).tolist()
    save_record(other, p.output_dir)
    runs = results.load_runs(p.output_dir, dataset="folder", task="Acne")
    table = results.external_table(runs)
    assert list(table.index) == [("mobilenet", 32)] and table["seeds"].tolist() == [2]
    assert table["external n (neg/pos)"].tolist() == ["4/3"]
    assert table["external AUC [95% CI]"].str.match(r"^\d\.\d{3} \[").all()
    assert 0.0 <= table["external_auc"].iloc[0] <= 1.0


def test_results_show_nothing_without_external(tmp_path):
    paper = Path(__file__).resolve().parents[1] / "results" / "paper"
    runs = results.load_runs(paper, dataset="isic2017", task="melanoma")
    assert not results.has_external(runs) and "pred_external" not in runs
    assert results.external_section(runs) is None and results.external_table(runs).empty
