"""Issue 28, data rows: broken links, x.jpg + x.png ids, damaged JPEGs, in-place edits (ch. 01).

Row 4: a symbolic link loop or a dangling link in a class folder raised an uncaught OSError
from the cache key; now each is a counted skip ('cannot read file (...)') with its reason.
Row 5: ``x.jpg`` and ``x.png`` in one class folder both got the id ``<class>/x``; now they keep
their extensions in the id, and every other id is what it was.
Row 6: a JPEG whose bytes were overwritten mid-stream (an early end-of-image or restart marker)
decoded with a grey lower part and no word; now it is skipped as an unreadable image.
Row 19: an image rewritten with the same size and its old mtime put back kept the old file
hashes and decoded arrays (cache keyed by size and mtime); the key now has the change time.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import load_folder, make_folder, random_image, save_image
from PIL import Image

from helpers.data import DataError, data_fingerprint, load_external

pytestmark = pytest.mark.usefixtures("folder_env")  # conftest.py: private cache, no real data


def _ids(ds) -> list[str]:
    return [str(i) for s in ds.splits.values() for i in s.ids]


def _symlink(target: str, link: Path) -> None:
    try:
        os.symlink(target, link)
    except (OSError, NotImplementedError):  # pragma: no cover - Windows without the privilege
        pytest.skip("symbolic links not available")


# -- row 4 ---------------------------------------------------------------------------------------
def test_row04_symlink_loop_and_dangling_link_are_counted_skips(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 8, "b": 8})
    _symlink("loop.jpg", root / "a" / "loop.jpg")  # points at itself
    _symlink("missing.jpg", root / "b" / "gone.jpg")
    with pytest.warns(UserWarning, match="skipped 2 file"):
        ds = load_folder(root)
    reasons = dict(ds.report.skipped)
    assert reasons["a/loop.jpg"].startswith("cannot read file (symbolic link loop")
    assert reasons["b/gone.jpg"].startswith("cannot read file (broken symbolic link")
    assert ds.report.skipped_counts() == {"cannot read file": 2}
    assert len(_ids(ds)) == 16 and "gone.jpg" in str(ds.report)
    assert data_fingerprint("folder", data_root=root) == ds.fingerprint  # the sweep's path too
    with pytest.raises(DataError, match=r"unreadable image\(s\), e\.g\. 'a/loop\.jpg'"):
        load_folder(root, on_unreadable="raise")


# -- row 5 ---------------------------------------------------------------------------------------
def test_row05_same_name_other_extension_gets_distinct_ids(tmp_path):
    root = make_folder(tmp_path / "f", {"Acne": 8, "Normal": 8})
    save_image(root / "Acne" / "x.jpg", random_image(901, 40), "JPEG")
    save_image(root / "Acne" / "x.png", random_image(902, 40))
    ds = load_folder(root)
    ids = _ids(ds)
    assert len(ids) == len(set(ids)) == 18
    assert {"Acne/x.jpg", "Acne/x.png"} <= set(ids) and "Acne/x" not in ids
    assert "Acne/acne_x_000" in ids  # ids without a clash keep the extension-free form
    assert any("ids keep it" in n for n in ds.report.notes)
    assert data_fingerprint("folder", data_root=root) == ds.fingerprint
    ext_ids = [str(i) for i in load_external(root, "Normal", 16)[0].ids]
    assert len(ext_ids) == len(set(ext_ids)) == 18


def test_row05_clash_left_after_extensions_is_a_clear_error(tmp_path):
    root = make_folder(tmp_path / "f", {"Acne": 8, "Normal": 8})
    for k, name in enumerate(("x.jpg", "x.png", "x.jpg.png")):
        save_image(root / "Acne" / name, random_image(910 + k, 40),
                   "JPEG" if name.endswith(".jpg") else "PNG")
    with pytest.raises(DataError, match=r"'Acne/x\.jpg' and 'Acne/x\.jpg\.png'.*rename one"):
        load_folder(root)


# -- row 6 ---------------------------------------------------------------------------------------
def _damaged_jpeg(patch: bytes) -> bytes:
    """A 96 px JPEG with ``patch`` written over its bytes at 60 % (inside the compressed data)."""
    buf = io.BytesIO()
    random_image(7, 96).save(buf, "JPEG", quality=95)
    data = bytearray(buf.getvalue())
    pos = int(len(data) * 0.6)
    data[pos:pos + len(patch)] = patch
    return bytes(data)


@pytest.mark.parametrize("patch, why", [(b"\xff\xd9", "end-of-image marker at byte"),
                                         (b"\xff\xd5", "restart marker RST5")])
def test_row06_jpeg_overwritten_mid_stream_is_a_counted_skip(tmp_path, patch, why):
    data = _damaged_jpeg(patch)
    with Image.open(io.BytesIO(data)) as img:  # Pillow decodes it: grey lower rows, no error
        assert (np.asarray(img.convert("RGB"))[-8:] == 128).all()
    root = make_folder(tmp_path / "f", {"a": 8, "b": 8})
    (root / "a" / "damaged.jpg").write_bytes(data)
    with pytest.warns(UserWarning, match="skipped 1 file"):
        ds = load_folder(root)
    reason = dict(ds.report.skipped)["a/damaged.jpg"]
    assert reason.startswith("unreadable image (damaged JPEG data: ") and why in reason
    assert "grey" in reason and ds.report.skipped_counts() == {"unreadable image": 1}
    assert "a/damaged" not in _ids(ds) and len(_ids(ds)) == 16
    assert data_fingerprint("folder", data_root=root) == ds.fingerprint


def test_row06_valid_jpeg_variants_are_not_flagged():
    from helpers.data.images import jpeg_stream_problem

    img = random_image(3, 120)
    kinds = [{}, {"progressive": True}, {"optimize": True}, {"restart_marker_blocks": 2},
             {"progressive": True, "restart_marker_rows": 1}, {"subsampling": 0}]
    for mode in ("RGB", "L", "CMYK"):
        for kw in kinds:
            buf = io.BytesIO()
            img.convert(mode).save(buf, "JPEG", **kw)
            data = buf.getvalue()
            for tail in (b"", b"\0" * 64, data):  # zero padding, an embedded (MPF) picture
                assert jpeg_stream_problem(data + tail) is None, (mode, kw, len(tail))
    assert jpeg_stream_problem(b"\x89PNG\r\n\x1a\n") is None  # not a JPEG: Pillow decides
    assert "RST5" in jpeg_stream_problem(_damaged_jpeg(b"\xff\xd5"))


# -- row 19 --------------------------------------------------------------------------------------
def test_row19_same_size_edit_with_old_mtime_is_noticed(tmp_path):
    root = make_folder(tmp_path / "f", {"a": 8, "b": 8})
    bmp = save_image(root / "a" / "edited.bmp", random_image(920, 24))  # BMP: size = w x h
    before_fp = data_fingerprint("folder", data_root=root)
    before = load_folder(root)
    st = bmp.stat()
    save_image(bmp, random_image(921, 24))
    os.utime(bmp, ns=(st.st_atime_ns, st.st_mtime_ns))  # the old timestamp put back
    assert (bmp.stat().st_size, bmp.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert data_fingerprint("folder", data_root=root) != before_fp  # the sweep re-runs
    after = load_folder(root)
    assert after.fingerprint != before.fingerprint and after.report.cache["arrays"] == "miss"
    with Image.open(bmp) as img:
        want = np.asarray(img.convert("RGB").resize((16, 16), Image.BILINEAR))
    for s in after.splits.values():
        for i in np.flatnonzero(s.ids == "a/edited"):
            np.testing.assert_array_equal(s.images[i], want)  # new pixels, not the cached ones
    assert "a/edited" in _ids(after)
    assert load_folder(root).report.cache == {"index": "hit", "arrays": "hit"}  # still cached
