"""Resume compares the inputs too: a finished run on other data or other weights is re-run.

The same params with ``--data-root A`` and then ``--data-root B`` used to say "already done"
and keep A's record. The sweep now compares each ok record's ``provenance.data_fingerprint``
(:func:`helpers.data.data_fingerprint`, no decoding with a warm index cache) and
``provenance.weights_sha256`` with what the run would use today.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from data_fixtures import make_folder, random_image, save_jpeg
from train_fixtures import parameters_cell

from helpers import sweep as S
from helpers.data import data_fingerprint, load_dataset
from helpers.runs import records as R

FOLDER_FIXED = {"dataset": "folder", "task": "Normal"}
"""What a sweep of :data:`NB` fixes: a sweep takes every parameter its config leaves out from
TrainParams (dataset isic2017), not from the notebook's parameters cell."""

NB = parameters_cell(
    dataset="folder", task="Normal", resolution=16, regime="frozen", epochs=1, batch_size=8,
    patience_es=3, output_dir="results") + """
# %%
from helpers.runs import records
from helpers.data import data_fingerprint
from helpers.training.weights import file_sha256, resolve_weights

params = {k: globals()[k] for k in records.IDENTITY_KEYS}
prov = records.provenance(data_fingerprint(dataset, task, data_root, cache_dir, seed=seed), None)
w = resolve_weights(model, weights, weights_dir)
prov["weights_sha256"] = file_sha256(w.path, cache_dir) if w.path else None
if external:
    from helpers.data import external_fingerprint

    prov["external_fingerprint"] = external_fingerprint(external_root, task, cache_dir)
rid = records.run_id(params)
records.write_json_atomic(records.record_path(output_dir, rid), {
    "schema": 1, "run_id": rid, "status": "ok", "params": records.canonical_params(params),
    "provenance": prov})
"""


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "nb.py").write_text(NB)
    a = make_folder(tmp_path / "A", {"Acne": 6, "Normal": 6}, seed0=0)
    b = make_folder(tmp_path / "B", {"Acne": 6, "Normal": 6}, seed0=100)
    wdir = tmp_path / "weights"
    wdir.mkdir()
    (wdir / "mobilenet_1_0_224_tf_no_top.h5").write_bytes(b"weights v1")
    cfg = {"name": "inputs", "notebook": "nb.py", "output_dir": "out",
           "grid": {"seed": [0]}, "fixed": {"model": "mobilenet", **FOLDER_FIXED},
           "_root": str(tmp_path)}
    return cfg, a, b, wdir


def test_data_fingerprint_matches_load_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    root = make_folder(tmp_path / "photos", {"Acne": 12, "Normal": 12})
    for kw in ({}, {"seed": 1}, {"seed": 2, "split_seed": 0}, {"max_images": 4, "seed": 1},
               {"balanced_eval": True, "task": "Acne"}):
        ds = load_dataset("folder", resolution=8, data_root=root, **kw)
        assert data_fingerprint("folder", data_root=root, **kw) == ds.fingerprint, kw
    # split_seed: one split for every training seed
    assert (load_dataset("folder", resolution=8, data_root=root, seed=1, split_seed=0).fingerprint
            == load_dataset("folder", resolution=8, data_root=root, seed=0).fingerprint)


def test_other_data_root_is_rerun_not_skipped(setup, capsys):
    cfg, a, b, wdir = setup
    kw = dict(validator=None, allow_dirty=True, weights_dir=wdir)
    first = S.run_sweep(cfg, data_root=a, **kw)
    assert [r["status"] for r in first.runs] == ["ok"]
    assert [r["status"] for r in S.run_sweep(cfg, data_root=a, **kw).runs] == ["skipped"]
    capsys.readouterr()
    again = S.run_sweep(cfg, data_root=b, **kw)
    out = capsys.readouterr().out
    fa, fb = (data_fingerprint("folder", "Normal", r) for r in (a, b))
    assert f"data changed: fingerprint {fa[:4]}\u2026 \u2192 {fb[:4]}\u2026; re-running" in out
    assert [r["status"] for r in again.runs] == ["ok"]
    rec = R.load_records(Path(cfg["_root"]) / "out")[0]
    assert rec["provenance"]["data_fingerprint"] == fb


def test_other_weights_file_is_rerun(setup, capsys):
    cfg, a, _, wdir = setup
    kw = dict(validator=None, allow_dirty=True, weights_dir=wdir, data_root=a)
    assert [r["status"] for r in S.run_sweep(cfg, **kw).runs] == ["ok"]
    (wdir / "mobilenet_1_0_224_tf_no_top.h5").write_bytes(b"weights v2, another file")
    capsys.readouterr()
    again = S.run_sweep(cfg, **kw)
    assert "weights changed: mobilenet sha256" in capsys.readouterr().out
    assert [r["status"] for r in again.runs] == ["ok"]
    assert [r["status"] for r in S.run_sweep(cfg, **kw).runs] == ["skipped"]


def test_external_set_needs_its_folder_and_is_checked_on_resume(setup, capsys):
    cfg, a, b, wdir = setup
    cfg = {**cfg, "fixed": {**cfg["fixed"], "external": "hosp"}}
    kw = dict(validator=None, allow_dirty=True, weights_dir=wdir, data_root=a)
    with pytest.raises(S.SweepConfigError, match="--external-root"):
        S.run_sweep(cfg, **kw)
    assert [r["status"] for r in S.run_sweep(cfg, external_root=b, **kw).runs] == ["ok"]
    assert [r["status"] for r in S.run_sweep(cfg, external_root=b, **kw).runs] == ["skipped"]
    save_jpeg(b / "Acne" / "new.jpg", random_image(900))  # one more positive image
    capsys.readouterr()
    again = S.run_sweep(cfg, external_root=b, **kw)
    assert "external test set changed: fingerprint" in capsys.readouterr().out
    assert [r["status"] for r in again.runs] == ["ok"]
