"""Folder data sets: layout, bad files, dedup policy, splits, cache (chapter 01)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from data_fixtures import load_folder, make_folder, random_image, save_jpeg, truncated_jpeg_bytes
from PIL import Image

import helpers.data.cache as cache_mod
from helpers.data import DataError, load_dataset

pytestmark = pytest.mark.usefixtures("folder_env")  # conftest.py


def test_unsplit_folder_stratified_and_reproducible(tmp_path):
    root = make_folder(tmp_path / "acne", {"Acne": 20, "Normal": 20})
    ds = load_folder(root)
    assert ds.class_names == ("Acne", "Normal") and ds.task == "Normal"  # 2nd sorted = positive
    assert ds.report.split_strategy == "stratified"
    assert {s: len(v) for s, v in ds.splits.items()} == {"train": 28, "val": 6, "test": 6}
    for s in ds.splits.values():
        assert s.images.dtype == np.uint8 and s.images.shape[1:] == (16, 16, 3)
        assert s.labels.dtype == np.int64 and s.class_counts()[0] == s.class_counts()[1]
    again = load_folder(root)
    assert again.fingerprint == ds.fingerprint
    other = load_folder(root, seed=1)
    assert other.fingerprint != ds.fingerprint
    all_ids = np.concatenate([s.ids for s in ds.splits.values()])
    assert len(set(all_ids)) == 40
    acne = load_folder(root, task="Acne")
    assert acne.class_names == ("Normal", "Acne")
    assert "/" not in ds.report.source.replace("<data root>", "").split("'")[0]
    assert str(tmp_path) not in str(ds.report)


def test_split_folders_are_used(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 3, "b": 2}, splits=True)
    ds = load_folder(root)
    assert ds.report.split_strategy == "official"
    assert ds.report.counts == {"train": (3, 2), "val": (3, 2), "test": (3, 2)}


def test_bad_layouts(tmp_path):
    with pytest.raises(DataError, match="exactly 2 class folders"):
        load_folder(make_folder(tmp_path / "three", {"a": 2, "b": 2, "c": 2}))
    with pytest.raises(DataError, match="not found"):
        load_folder(tmp_path / "missing")
    root = make_folder(tmp_path / "mixed", {"a": 2, "b": 2})
    (root / "train").mkdir()
    with pytest.raises(DataError, match="mixes split folders"):
        load_folder(root)
    root = make_folder(tmp_path / "loose", {"a": 2, "b": 2})
    random_image(5).save(root / "stray.png")
    with pytest.raises(DataError, match="top level.*stray.png"):
        load_folder(root)
    root = make_folder(tmp_path / "empty", {"a": 3})
    (root / "b").mkdir()
    with pytest.raises(DataError, match="'empty/b' contains no image files"):
        load_folder(root)


def test_non_image_and_broken_files_are_skipped_and_reported(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 10, "b": 10})
    (root / "a" / ".DS_Store").write_bytes(b"\0\1junk")
    (root / "b" / "notes.txt").write_text("hello")
    (root / "a" / "fake.jpg").write_text("this is not a jpeg")
    (root / "b" / "cut.jpg").write_bytes(truncated_jpeg_bytes())
    with pytest.warns(UserWarning, match="skipped 4 file"):
        ds = load_folder(root)
    reasons = dict(ds.report.skipped)
    assert set(reasons) == {"a/.DS_Store", "b/notes.txt", "a/fake.jpg", "b/cut.jpg"}
    assert "not an image" in reasons["b/notes.txt"]
    assert "unreadable" in reasons["a/fake.jpg"] and "unreadable" in reasons["b/cut.jpg"]
    assert sum(len(s) for s in ds.splits.values()) == 20
    assert "cut.jpg" in str(ds.report) and len(ds.report.skipped_frame()) == 4
    with pytest.raises(DataError, match=r"unreadable image.*(fake|cut)\.jpg"):
        load_folder(root, on_unreadable="raise")


def test_dedup_exact_and_near_policy(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 4, "b": 4}, splits=True)
    # byte-identical copy of a test image placed in train -> train copy dropped
    (root / "train/a/copy_of_test.jpg").write_bytes((root / "test/a/a_test_000.jpg").read_bytes())
    # re-encoded (near-identical) copy of a val image in train -> train copy dropped
    img = Image.open(root / "val/b/b_val_001.jpg")
    save_jpeg(root / "train/b/reencoded.jpg", img.resize((60, 60)), quality=60)
    # same picture with a disagreeing label -> every copy dropped
    (root / "train/b/wrong_label.jpg").write_bytes((root / "train/a/a_train_002.jpg").read_bytes())
    ds = load_folder(root)
    rep = ds.report
    kinds = sorted(g.kind for g in rep.duplicates)
    assert kinds == ["exact", "exact", "near"]
    removed = set(rep.removed_ids)
    assert removed == {"train/a/copy_of_test", "train/b/reencoded", "train/b/wrong_label",
                       "train/a/a_train_002"}
    ids = set(np.concatenate([s.ids for s in ds.splits.values()]))
    assert not removed & ids
    assert {"test/a/a_test_000", "val/b/b_val_001"} <= ids
    assert "labels disagree" in rep.duplicates_frame().to_string()
    # distinct generated images are not flagged
    assert all(len(g.ids) == 2 for g in rep.duplicates)


def test_cache_hit_avoids_decoding_and_change_invalidates(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "f", {"a": 6, "b": 6})
    first = load_folder(root)
    assert first.report.cache == {"index": "miss", "arrays": "miss"}

    def boom(*a, **k):
        raise AssertionError("decoder called on a cache hit")

    monkeypatch.setattr(cache_mod, "decode_entry", boom)
    monkeypatch.setattr(cache_mod, "fingerprint_image", boom)
    second = load_folder(root)
    assert second.report.cache == {"index": "hit", "arrays": "hit"}
    for s in first.splits:
        np.testing.assert_array_equal(first.splits[s].images, second.splits[s].images)
    monkeypatch.undo()
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    save_jpeg(root / "a" / "new.jpg", random_image(77))
    third = load_folder(root)
    assert third.report.cache["arrays"] == "miss"
    assert sum(len(s) for s in third.splits.values()) == 13
    assert not list((tmp_path / "cache" / "arrays").glob(".*tmp"))  # atomic writes leave no temp


def test_cached_arrays_equal_direct_bilinear(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 3, "b": 3}, splits=True)
    ds = load_folder(root, resolution=20)
    i = list(ds.splits["test"].ids).index("test/b/b_test_002")
    want = np.asarray(Image.open(root / "test/b/b_test_002.jpg").convert("RGB")
                      .resize((20, 20), Image.BILINEAR))
    np.testing.assert_array_equal(ds.splits["test"].images[i], want)


def test_balanced_eval_and_max_images(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 40, "b": 12})
    ds = load_folder(root, balanced_eval=True, seed=3)
    for s in ("val", "test"):
        n0, n1 = ds.splits[s].class_counts()
        assert n0 == n1 > 0
    assert ds.splits["train"].class_counts() == (28, 8)  # train untouched
    same = load_folder(root, balanced_eval=True, seed=3)
    assert all((same.splits[s].ids == ds.splits[s].ids).all() for s in ds.splits)
    other = load_folder(root, balanced_eval=True, seed=4)
    assert any(set(other.splits[s].ids) != set(ds.splits[s].ids) for s in ds.splits)
    small = load_folder(root, max_images=10, seed=1)
    assert len(small.splits["train"]) == 10 and min(small.splits["train"].class_counts()) >= 1
    assert set(small.splits["train"].ids) <= set(load_folder(root, seed=1).splits["train"].ids)


def test_unknown_names(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 4, "b": 4})
    with pytest.raises(DataError, match="unknown data set"):
        load_dataset("nope", resolution=8)
    with pytest.raises(DataError, match="unknown task"):
        load_folder(root, task="c")
    with pytest.raises(DataError, match="split_strategy 'patient'"):
        load_folder(root, split_strategy="patient")
    with pytest.raises(ValueError):
        load_folder(root, resolution=0)


def test_png_rgba_in_folder(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 5, "b": 5})
    buf = io.BytesIO()
    random_image(1009, 30, "RGBA").save(buf, "PNG")
    (root / "a" / "alpha.png").write_bytes(buf.getvalue())
    ds = load_folder(root)
    assert sum(len(s) for s in ds.splits.values()) == 11


def test_sample_grid_uses_loader_arrays(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from helpers.chapters.data_figures import sample_grid

    root = make_folder(tmp_path / "f", {"a": 4, "b": 4}, splits=True)
    fig = sample_grid("folder", data_root=root, resolutions=(8, 32), n_per_class=2)
    axes = fig.get_axes()
    assert len(axes) == 8 and axes[0].get_title() == "8 px" and axes[1].get_title() == "32 px"
    assert axes[0].get_images()[0].get_array().shape == (8, 8, 3)
    assert axes[1].get_images()[0].get_array().shape == (32, 32, 3)
    ds = load_folder(root, resolution=8)
    shown = np.asarray(axes[0].get_images()[0].get_array())
    assert any((shown == im).all() for im in ds.splits["train"].images)
