"""No silent wrong results: litter, nested folders, empty and odd images in a user folder (chapter 01)."""

from __future__ import annotations

import numpy as np
import pytest
from data_fixtures import (
    grey16_image,
    load_folder,
    make_folder,
    make_mixed_folder,
    random_image,
    save_image,
    truncated_jpeg_bytes,
)
from PIL import Image

from helpers.data import DataError

pytestmark = pytest.mark.usefixtures("folder_env")  # conftest.py


def _n_images(ds) -> int:
    return sum(len(s) for s in ds.splits.values())


# -- item 2: the paper's layout, positive class named by the user --------------------------------
def test_acne_normal_mixed_sizes_and_formats(tmp_path):
    root = make_mixed_folder(tmp_path / "photos", n=14)
    ds = load_folder(root, task="Acne", seed=5)
    assert ds.task == "Acne" and ds.class_names == ("Normal", "Acne")
    assert _n_images(ds) == 28 and ds.report.skipped == [] and ds.report.warnings == []
    assert ds.report.split_strategy == "stratified"
    for s in ds.splits.values():  # stratified: both classes in every split, equal here
        n0, n1 = s.class_counts()
        assert n0 == n1 > 0
        assert s.images.shape[1:] == (16, 16, 3) and s.images.dtype == np.uint8
        acne = s.labels == 1
        assert all(i.startswith("Acne/") for i in s.ids[acne])
        assert all(i.startswith("Normal/") for i in s.ids[~acne])
    again = load_folder(root, task="Acne", seed=5)
    assert again.fingerprint == ds.fingerprint
    assert all((again.splits[s].ids == ds.splits[s].ids).all() for s in ds.splits)
    other = load_folder(root, task="Acne", seed=6)
    assert any(set(other.splits[s].ids) != set(ds.splits[s].ids) for s in ds.splits)
    # default task (None) = second class folder in sorted order, same as before
    assert load_folder(root, task=None).task == "Normal"
    # an RGBA PNG is composited on white; a greyscale one has equal channels
    i = list(ds.splits["train"].ids).index("Acne/acne_02") if "Acne/acne_02" in ds.splits[
        "train"].ids else None
    if i is not None:
        img = ds.splits["train"].images[i]
        assert (img[..., 0] == img[..., 1]).all() and (img[..., 1] == img[..., 2]).all()


def test_unknown_positive_class_names_the_folders(tmp_path):
    root = make_folder(tmp_path / "f", {"Acne": 4, "Normal": 4})
    with pytest.raises(DataError, match=r"unknown task 'acne'.*\['Normal', 'Acne'\]"):
        load_folder(root, task="acne")


# -- item 3: litter folders skipped and counted; other nested folders refused ---------------------
def test_litter_folders_are_skipped_and_counted(tmp_path):
    root = make_folder(tmp_path / "f", {"Acne": 8, "Normal": 8})
    for cls in ("Acne", "Normal"):
        save_image(root / cls / "@eaDir" / "acne_000.jpg" / "SYNOPHOTO_THUMB_S.jpg",
                   random_image(900), "JPEG")
        save_image(root / cls / "@eaDir" / "acne_000.jpg" / "SYNOPHOTO_THUMB_M.jpg",
                   random_image(901), "JPEG")
    save_image(root / "Acne" / ".thumbnails" / "t.png", random_image(902))
    save_image(root / "__MACOSX" / "Acne" / "._acne_x_000.jpg", random_image(903), "JPEG")
    with pytest.warns(UserWarning, match="skipped 4 file"):
        ds = load_folder(root)
    assert _n_images(ds) == 16  # no thumbnail became an image of a class
    skipped = dict(ds.report.skipped)
    assert set(skipped) == {"Acne/@eaDir/", "Normal/@eaDir/", "Acne/.thumbnails/", "__MACOSX/"}
    assert "2 file(s) not used" in skipped["Acne/@eaDir/"]
    assert ds.report.skipped_counts() == {"litter folder @eaDir": 2, "litter folder .thumbnails": 1,
                                          "litter folder __MACOSX": 1}
    assert "skipped files: 4 (litter folder @eaDir: 2" in str(ds.report)


@pytest.mark.parametrize("split_layout", [False, True])
def test_other_nested_folder_is_an_error_naming_it(tmp_path, split_layout):
    root = make_folder(tmp_path / "f", {"Acne": 3, "Normal": 3}, splits=split_layout)
    cls_dir = root / "train" / "Acne" if split_layout else root / "Acne"
    save_image(cls_dir / "more" / "x.jpg", random_image(904), "JPEG")
    rel = ("train/Acne/more/" if split_layout else "Acne/more/")
    with pytest.raises(DataError, match=rf"sub-folder 'more/' \('{rel}'\).*move the images"):
        load_folder(root)


# -- item 4: empty, unreadable and truncated files are named ----------------------------------------
def test_empty_and_broken_files_name_the_file(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 6, "b": 6})
    (root / "a" / "zero.jpg").write_bytes(b"")
    (root / "b" / "garbage.png").write_bytes(b"not a png at all")
    (root / "b" / "cut.jpg").write_bytes(truncated_jpeg_bytes())
    with pytest.warns(UserWarning, match="skipped 3 file"):
        ds = load_folder(root)
    skipped = dict(ds.report.skipped)
    assert skipped["a/zero.jpg"] == "empty file (0 bytes)"
    assert "BytesIO" not in str(ds.report) and "0x" not in str(ds.report)
    assert "garbage.png" in skipped["b/garbage.png"]
    assert skipped["b/cut.jpg"].startswith("unreadable image")
    assert ds.report.skipped_counts() == {"unreadable image": 2, "empty file": 1}
    assert str(tmp_path) not in str(ds.report)
    with pytest.raises(DataError, match=r"unreadable image\(s\), e\.g\. 'a/zero\.jpg': empty file"):
        load_folder(root, on_unreadable="raise")


# -- item 5: system litter files are counted, never read as images ----------------------------------
def test_system_litter_files_counted_per_reason(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 6, "b": 6})
    (root / "a" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "b" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "a" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (root / "b" / "desktop.ini").write_text("[.ShellClassInfo]\n")
    (root / "a" / "._a_x_000.jpg").write_bytes(b"\0\5\26\7AppleDouble")  # looks like a jpg by name
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # top level too
    (root / "README.txt").write_text("my photos")
    with pytest.warns(UserWarning, match="skipped 7 file"):
        ds = load_folder(root)
    assert _n_images(ds) == 12
    counts = ds.report.skipped_counts()
    assert counts == {"system file .DS_Store": 3, "AppleDouble file": 1, "not an image file": 1,
                      "system file Thumbs.db": 1, "system file desktop.ini": 1}
    assert not any(r.startswith("unreadable") for _, r in ds.report.skipped)
    assert "a/._a_x_000.jpg" in dict(ds.report.skipped)


# -- item 6: constant and 16-bit images kept with a warning; 16-bit scaled, not clipped ------------
def test_constant_and_16bit_images_warned_and_kept(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 6, "b": 6})
    save_image(root / "a" / "black.png", Image.new("RGB", (30, 20), (0, 0, 0)))
    save_image(root / "b" / "grey.jpg", Image.new("L", (30, 30), 128), "JPEG")
    save_image(root / "a" / "xray16.png", grey16_image(111))
    dark16 = Image.fromarray((np.arange(400).reshape(20, 20) * 250 // 399).astype(np.uint16))
    assert dark16.mode == "I;16"
    save_image(root / "b" / "dark16.tif", dark16)
    with pytest.warns(UserWarning, match="4 image\\(s\\) loaded with a warning"):
        ds = load_folder(root, resolution=20)
    assert _n_images(ds) == 16  # kept
    warned = dict(ds.report.warnings)
    assert set(warned) == {"a/black.png", "b/grey.jpg", "a/xray16.png", "b/dark16.tif"}
    assert "(0, 0, 0)" in warned["a/black.png"] and "(128, 128, 128)" in warned["b/grey.jpg"]
    assert "mode I;16" in warned["a/xray16.png"] and "1/257" in warned["a/xray16.png"]
    assert ds.report.warning_counts() == {"16-bit image": 2, "constant image": 2}
    assert "images kept with warnings: 4" in str(ds.report)
    assert list(ds.report.warnings_frame().columns) == ["path", "warning"]
    assert ds.report.skipped == []

    def image(ident):
        for s in ds.splits.values():
            if ident in s.ids:
                return s.images[list(s.ids).index(ident)].astype(int)
        raise KeyError(ident)

    ref = np.asarray(random_image(111, 40, "L").resize((20, 20), Image.BILINEAR)).astype(int)
    assert np.abs(image("a/xray16")[..., 0] - ref).max() <= 2  # full range kept, not clipped
    dark = image("b/dark16")  # 0..250 of 65535 is nearly black: the fixed 1/257 scale
    assert dark.min() == 0 and dark.max() == 1


def test_valid_folder_has_no_warnings_or_skips(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 5, "b": 5})
    ds = load_folder(root)
    assert ds.report.skipped == [] and ds.report.warnings == []
    assert ds.report.skipped_counts() == {} and ds.report.warning_counts() == {}
    assert "skipped files: 0" in str(ds.report) and "warnings" not in str(ds.report)
