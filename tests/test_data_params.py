"""The data chapter's parameters: task=None = the data set's default, validation, the folder case;
and the ISIC load report and fingerprint the book prints stay as they were (chapter 01)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from data_fixtures import isic_rows, make_folder, make_isic

from helpers.data import load_dataset, validate_data_params

ROOT = Path(__file__).resolve().parents[1]
REAL = os.environ.get("RESBOOK_DATA_DIR", "")
needs_real = pytest.mark.skipif(
    not REAL or not (Path(REAL) / "isic2017-256" / "labels.csv").is_file(),
    reason="RESBOOK_DATA_DIR is unset or has no isic2017-256/ (real-data test)")
ISIC_FINGERPRINT = "a36902c6dcaf56c4"  # printed in book/chapters/01_data.ipynb and 03_train.ipynb


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))


def test_task_none_is_each_datasets_default(tmp_path):
    make_isic(tmp_path, isic_rows(4))
    assert load_dataset("isic2017", task=None, resolution=8, data_root=tmp_path).task == "melanoma"
    root = make_folder(tmp_path / "acne", {"Acne": 6, "Normal": 6})
    assert load_dataset("folder", task=None, resolution=8, data_root=root).task == "Normal"


def test_notebook_default_task_is_none():
    src = (ROOT / "notebooks" / "01_data.py").read_text()
    params = src.split('# %% tags=["parameters"]', 1)[1].split("# %%", 1)[0]
    ns: dict = {}
    exec(params, ns)  # noqa: S102 - the notebook's own parameters cell
    assert ns["task"] is None and ns["dataset"] == "isic2017"
    validate_data_params(ns["dataset"], ns["task"], ns["resolutions"], ns["seed"],
                         ns["data_root"], ns["balanced_eval"])
    for ds in ("kermany", "pneumoniamnist", "folder"):  # the default task suits every data set
        validate_data_params(ds, ns["task"], ns["resolutions"], ns["seed"])


@pytest.mark.parametrize("kw,name", [
    (dict(resolutions=[]), "resolutions"), (dict(resolutions=64), "resolutions"),
    (dict(resolutions=[64, 0]), "resolutions"), (dict(resolutions=[64.0]), "resolutions"),
    (dict(resolutions=[True]), "resolutions"), (dict(seed=-1), "seed"), (dict(seed=1.5), "seed"),
    (dict(dataset="isic"), "dataset"), (dict(task="acne"), "task"), (dict(task=3), "task"),
    (dict(balanced_eval="yes"), "balanced_eval"), (dict(data_root=3), "data_root"),
])
def test_validate_data_params_names_the_bad_parameter(kw, name):
    args = dict(dataset="isic2017", task=None, resolutions=[64, 128], seed=0)
    args.update(kw)
    with pytest.raises(ValueError, match=rf"^parameter {name}="):
        validate_data_params(**args)


def test_validate_data_params_accepts_and_normalises():
    import numpy as np

    got = validate_data_params("folder", "acne", (np.int64(32), 64), np.int64(3))
    assert got["resolutions"] == [32, 64] and got["seed"] == 3 and got["task"] == "acne"
    assert validate_data_params("isic2017", "nevus", [8], 0)["task"] == "nevus"


def test_load_dataset_rejects_negative_seed(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 4, "b": 4})
    with pytest.raises(ValueError, match="seed"):
        load_dataset("folder", resolution=8, data_root=root, seed=-1)


def test_notebook_runs_on_a_user_folder(tmp_path):
    """01 with dataset='folder' and the default task: no 'unknown task melanoma' (papermill)."""
    pm = pytest.importorskip("papermill")
    jupytext = pytest.importorskip("jupytext")
    root = make_folder(tmp_path / "photos", {"Acne": 10, "Normal": 10})
    (root / "Acne" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    out = tmp_path / "01_folder.ipynb"
    pm.execute_notebook(jupytext.read(ROOT / "notebooks" / "01_data.py"), str(out),
                        parameters=dict(dataset="folder", resolutions=[16, 32], data_root=str(root)),
                        kernel_name="python3", cwd=str(ROOT), progress_bar=False)
    text = out.read_text()
    assert "task **Normal**" in text and "Acne/.DS_Store" in text
    bad = tmp_path / "01_bad.ipynb"
    with pytest.raises(pm.PapermillExecutionError, match="parameter resolutions=\\[\\]"):
        pm.execute_notebook(jupytext.read(ROOT / "notebooks" / "01_data.py"), str(bad),
                            parameters=dict(dataset="folder", resolutions=[], data_root=str(root)),
                            kernel_name="python3", cwd=str(ROOT), progress_bar=False)


@needs_real
def test_isic_report_and_fingerprint_unchanged(recwarn):
    ds = load_dataset("isic2017", task="melanoma", resolution=8, data_root=REAL)
    assert ds.fingerprint.startswith(ISIC_FINGERPRINT)
    assert load_dataset("isic2017", resolution=8, data_root=REAL).fingerprint == ds.fingerprint
    rep = ds.report
    assert rep.counts == {"train": (1608, 366), "val": (118, 30), "test": (480, 117)}
    assert len(rep.removed_ids) == 31 and rep.skipped == [] and rep.warnings == []
    assert rep.skipped_frame().empty and list(rep.skipped_frame().columns) == ["path", "reason"]
    assert not [w for w in recwarn if "isic2017" in str(w.message)]
