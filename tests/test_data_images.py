"""Image decoding: every mode becomes RGB, bilinear resize, shapes and dtypes (chapter 01)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from data_fixtures import random_image
from PIL import Image

from helpers.data.images import decode_bytes, decode_file, grey_correlation, hamming_matrix, to_rgb


def _encode(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("mode,fmt", [("L", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("RGBA", "PNG"),
                                      ("CMYK", "JPEG"), ("RGB", "JPEG"), ("1", "PNG"),
                                      ("I;16", "PNG"), ("I", "TIFF"), ("F", "TIFF")])
def test_any_mode_becomes_rgb_uint8(mode: str, fmt: str) -> None:
    if mode in ("I;16", "I", "F"):
        grey = np.asarray(random_image(1, 40, "L"), dtype=np.uint16) * 257
        dtype = {"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode]
        img = Image.fromarray(grey.astype(dtype))
        assert img.mode == mode
    else:
        img = random_image(1, 40, mode)
    arr = decode_bytes(_encode(img, fmt), 24)
    assert arr.shape == (24, 24, 3) and arr.dtype == np.uint8
    if mode in ("I;16", "I", "F"):  # 16-bit range mapped to 0..255, not clipped to white
        ref = np.asarray(random_image(1, 40, "L").resize((24, 24), Image.BILINEAR))
        assert np.abs(arr[..., 0].astype(int) - ref.astype(int)).max() <= 2
        assert 0 < arr.mean() < 250


def test_rgba_composited_on_white() -> None:
    img = Image.new("RGBA", (8, 8), (255, 0, 0, 0))  # fully transparent red
    img.putpixel((0, 0), (0, 0, 255, 255))
    rgb = np.asarray(to_rgb(img))
    assert tuple(rgb[0, 0]) == (0, 0, 255)
    assert tuple(rgb[4, 4]) == (255, 255, 255)


def test_palette_with_transparency_composited() -> None:
    img = Image.new("P", (4, 4), 0)
    img.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    img.info["transparency"] = 0
    img.putpixel((1, 1), 1)
    rgb = np.asarray(to_rgb(img))
    assert tuple(rgb[0, 0]) == (255, 255, 255) and tuple(rgb[1, 1]) == (200, 100, 50)


@pytest.mark.parametrize("res", [7, 16, 64, 100])
def test_resize_is_pil_bilinear(tmp_path, res: int) -> None:
    src = random_image(3, 80)
    path = tmp_path / "a.png"
    src.save(path)
    got = decode_file(path, res)
    want = np.asarray(Image.open(path).convert("RGB").resize((res, res), Image.BILINEAR))
    assert got.shape == (res, res, 3) and got.dtype == np.uint8
    np.testing.assert_array_equal(got, want)
    nearest = np.asarray(Image.open(path).convert("RGB").resize((res, res), Image.NEAREST))
    assert not np.array_equal(got, nearest)


def test_non_square_is_stretched(tmp_path) -> None:
    path = tmp_path / "wide.png"
    random_image(4, 60).resize((90, 30)).save(path)
    assert decode_file(path, 32).shape == (32, 32, 3)


def test_exif_orientation_applied(tmp_path) -> None:
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 clockwise for display
    path = tmp_path / "rot.jpg"
    img.save(path, exif=exif.tobytes(), quality=95)
    with Image.open(path) as im:
        assert im.size == (40, 20)
    arr = decode_file(path, 20)  # after transpose the picture is 20 wide, 40 high -> squeezed
    assert arr.shape == (20, 20, 3)
    top, bottom = arr[:5].mean(axis=(0, 1)), arr[-5:].mean(axis=(0, 1))
    assert top[2] > 200 and bottom[0] > 200  # blue half rotated to the top


def test_hamming_and_correlation() -> None:
    a = np.array([0, 0xFF, 2**64 - 1], dtype=np.uint64)
    d = hamming_matrix(a, a)
    assert d.tolist() == [[0, 8, 64], [8, 0, 56], [64, 56, 0]]
    x = np.arange(64, dtype=np.uint8).reshape(8, 8)
    assert grey_correlation(x, x // 2 + 10) == pytest.approx(1.0, abs=1e-2)
    assert grey_correlation(x, x[::-1]) < 0


def test_16bit_uses_fixed_scale_whatever_the_image_max() -> None:
    # a dark 16-bit image (all values <= 255) is nearly black, not read as if it were 8-bit
    dark = Image.fromarray((np.arange(400).reshape(20, 20) * 250 // 399).astype(np.uint16))
    assert dark.mode == "I;16"
    arr = decode_bytes(_encode(dark, "PNG"), 20)
    assert arr.min() == 0 and arr.max() == 1
    full = Image.fromarray(np.array([[0, 257, 65535, 32896]], dtype=np.uint16))
    assert np.asarray(to_rgb(full))[0, :, 0].tolist() == [0, 1, 255, 128]


def test_32bit_out_of_range_is_scaled_not_clipped() -> None:
    big = Image.fromarray(np.array([[0, 100_000, 200_000]], dtype=np.int32))
    assert big.mode == "I"
    assert np.asarray(to_rgb(big))[0, :, 0].tolist() == [0, 128, 255]  # min..max, no clipping
    neg = Image.fromarray(np.array([[-1.0, 0.0, 1.0]], dtype=np.float32))
    assert np.asarray(to_rgb(neg))[0, :, 0].tolist() == [0, 128, 255]
    small = Image.fromarray(np.array([[0, 7, 255]], dtype=np.int32))  # 8-bit values kept
    assert np.asarray(to_rgb(small))[0, :, 0].tolist() == [0, 7, 255]


def test_warning_helpers() -> None:
    from helpers.data.images import constant_colour, high_bit_depth

    assert constant_colour(np.zeros((4, 5, 3), np.uint8)) == (0, 0, 0)
    a = np.full((4, 4, 3), 7, np.uint8)
    a[1, 2, 0] = 8
    assert constant_colour(a) is None
    assert high_bit_depth("I;16B").startswith("16-bit image") and high_bit_depth("RGB") is None
