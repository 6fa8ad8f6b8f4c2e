"""Image decoding: any PIL mode to RGB, resize to a square, perceptual hash (data chapter).

Conventions (documented in the data chapter):
* Alpha (RGBA, LA, P with transparency) is composited on a white background, then dropped.
* 16-bit grey images (I;16, I;16B, ...) are scaled by a fixed 1/257 (0..65535 -> 0..255,
  rounded), whatever their own maximum: the same stored value always gives the same grey, and
  nothing is clipped. 32-bit grey images (I, F), whose bit depth is not known from the mode:
  values within 0..255 are kept, values within 0..65535 are scaled by 1/257 as 16-bit data,
  anything else (negative values, or above 65535) is scaled linearly from the image's min..max
  to 0..255. CMYK, YCbCr, L, 1, P use Pillow's own conversion to RGB. The loader warns about
  every such image in ``report.warnings``.
* EXIF orientation (phone photos) is applied before resizing.
* Resizing uses Pillow's bilinear filter (``Image.BILINEAR``), the method of the paper's Keras
  pipeline; the aspect ratio is not kept (a non-square image is stretched to a square). These
  are the defaults of a run's ``geometry`` (``squash``) and ``resample`` (``bilinear``); the
  other choices (centre crop, black padding, lesion box; area, plain bilinear, nearest) are in
  :mod:`helpers.data.resize`.
"""

from __future__ import annotations

import io
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image, ImageOps

from .resize import DEFAULT_GEOMETRY, DEFAULT_RESAMPLE, lesion_box, to_square

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
PHASH_GREY_SIZE = 64  # images are reduced to a 64x64 grey picture before the 8x8 DCT hash


def is_image_name(name: str) -> bool:
    """True when a file name has an image extension (data chapter)."""
    return Path(name).suffix.lower() in IMAGE_EXTENSIONS


GREY16_MODES = ("I;16", "I;16B", "I;16L", "I;16N")


def high_bit_depth(mode: str) -> str | None:
    """A warning text for a 16- or 32-bit grey image mode (converted to 8 bit), else None."""
    if mode in GREY16_MODES:
        return f"16-bit image (mode {mode}; converted to 8 bit by the fixed scale 1/257)"
    if mode in ("I", "F"):
        return (f"32-bit image (mode {mode}; converted to 8 bit: kept if within 0..255, "
                "else 1/257 if within 0..65535, else its min..max to 0..255)")
    return None


def constant_colour(arr: np.ndarray) -> tuple[int, ...] | None:
    """The colour of an (h, w, c) image whose pixels are all equal, else None (data chapter)."""
    flat = np.asarray(arr).reshape(-1, arr.shape[-1])
    if flat.shape[0] and (flat == flat[0]).all():
        return tuple(int(v) for v in flat[0])
    return None


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB, compositing transparency on white (data chapter)."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in GREY16_MODES or mode in ("I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        if mode in GREY16_MODES:
            arr = arr / 257.0
        elif arr.size and (arr.min() < 0 or arr.max() > 65535):
            lo, hi = float(arr.min()), float(arr.max())
            arr = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        elif arr.size and arr.max() > 255:
            arr = arr / 257.0
        arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)  # clip only guards rounding
        return Image.fromarray(arr, mode="L").convert("RGB")
    if mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def prepare(img: Image.Image, resolution: int, geometry: str = DEFAULT_GEOMETRY,
            resample: str = DEFAULT_RESAMPLE, mask: np.ndarray | None = None) -> np.ndarray:
    """Orient, convert to RGB and resize one opened image to (s, s, 3) uint8 (data chapter).

    ``geometry`` and ``resample``: :func:`helpers.data.resize.to_square` (the defaults squash
    the whole image with Pillow's bilinear filter); ``lesion_box`` needs the image's lesion
    ``mask``, of the image's size (ValueError otherwise).
    """
    img.load()
    if img.getexif().get(0x0112, 1) != 1:  # EXIF orientation tag (phone photos)
        img = ImageOps.exif_transpose(img)
    box = None
    if geometry == "lesion_box":
        if mask is None or mask.shape[:2] != (img.height, img.width):
            got = "no mask" if mask is None else f"a {mask.shape[1]}x{mask.shape[0]} mask"
            raise ValueError(f"lesion mask does not fit: {got} for a {img.width}x{img.height} "
                             "image")
        box = lesion_box(mask)
    img = to_square(to_rgb(img), resolution, geometry, resample, box)
    arr = np.asarray(img, dtype=np.uint8)
    if arr.shape != (resolution, resolution, 3):  # pragma: no cover - defensive
        raise ValueError(f"unexpected decoded shape {arr.shape}")
    return arr


def decode_file(path: str | Path, resolution: int, geometry: str = DEFAULT_GEOMETRY,
                resample: str = DEFAULT_RESAMPLE) -> np.ndarray:
    """Decode one image file to a (s, s, 3) uint8 RGB array (default: bilinear squash) (data chapter)."""
    with Image.open(path) as img:
        return prepare(img, resolution, geometry, resample)


def decode_bytes(data: bytes, resolution: int, geometry: str = DEFAULT_GEOMETRY,
                 resample: str = DEFAULT_RESAMPLE) -> np.ndarray:
    """Decode encoded image bytes like :func:`decode_file` (data chapter)."""
    with Image.open(io.BytesIO(data)) as img:
        return prepare(img, resolution, geometry, resample)


# Markers that may end a scan of a JPEG file (tables, comments, APPn, DNL, the next scan, EOI).
_SCAN_END = frozenset({0xC4, 0xCC, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xFE, *range(0xE0, 0xF0)})
_NO_LENGTH = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RST0-7 carry no length field
GREY_FILL = "the decoder fills the rest of the picture with grey"


def _scan_end(data: bytes, i: int) -> tuple[int, str | None]:
    """Walk one scan's entropy-coded data from byte ``i``: (position of its end marker, problem)."""
    rst = 0
    while True:
        j = data.find(b"\xff", i)
        if j < 0 or j + 1 >= len(data):
            return len(data), None  # no end marker: Pillow reports a truncated file itself
        b = data[j + 1]
        if b in (0x00, 0xFF):  # stuffed 0xFF data byte, or fill bytes before a marker
            i = j + (2 if b == 0x00 else 1)
        elif 0xD0 <= b <= 0xD7:
            if b - 0xD0 != rst:
                return j, f"restart marker RST{b - 0xD0} at byte {j} where RST{rst} was due"
            rst, i = (rst + 1) % 8, j + 2
        elif b not in _SCAN_END:
            return j, f"marker 0xFF{b:02X} inside the compressed image data at byte {j}"
        else:
            return j, None


def jpeg_stream_problem(data: bytes) -> str | None:
    """Why a JPEG file's bytes are damaged although Pillow decodes them, else None (data chapter).

    libjpeg (through Pillow) decodes a scan that meets a stray marker, a restart marker out of
    order or an early end-of-image marker up to that point and fills the rest of the picture
    with grey, silently. This walks the marker segments and the scans' entropy-coded bytes
    (no decoding) and names the first such fault. Bytes damaged without forming a marker
    decode to wrong pixels that no structural check can see. Not a JPEG (no SOI): None.
    """
    n, i, scanned = len(data), 2, False
    if data[:2] != b"\xff\xd8":
        return None
    while True:
        if scanned and data[i:i + 1] != b"\xff":  # Pillow decoded it: not a plain truncation
            return (f"a marker inside the compressed image data ends a scan early (no marker "
                    f"follows its segment, at byte {i}); {GREY_FILL}")
        i = data.find(b"\xff", i)  # bytes between header segments are skipped, as libjpeg does
        while 0 <= i < n and data[i] == 0xFF:
            i += 1
        if not 0 <= i < n:
            return None  # no end-of-image marker: Pillow reports a truncated file itself
        m, i = data[i], i + 1
        if m == 0xD9:  # end of image
            break
        if m in _NO_LENGTH:
            continue
        i += int.from_bytes(data[i:i + 2], "big")
        if m == 0xDA:  # start of scan: its header, then entropy-coded data up to a marker
            i, problem = _scan_end(data, i)
            scanned = True
            if problem:
                return f"{problem}; {GREY_FILL}"
    tail = data[i:].rstrip(b"\0")  # after the first end-of-image marker
    if (tail.endswith(b"\xff\xd9") and b"\xff\xd8" not in tail  # no embedded (MPF) picture
            and tail.replace(b"\xff\xd9", b"").strip(b"\0")):
        return (f"end-of-image marker at byte {i - 2}, but {n - i} more bytes of image data "
                f"follow up to a second one; {GREY_FILL}")
    return None


THUMB_SIZE = 32  # grey thumbnail used to confirm near-duplicate candidates


def fingerprint_image(img: Image.Image) -> tuple[int, np.ndarray]:
    """64-bit pHash and a 32x32 grey thumbnail of an image, for near-duplicate search (data chapter).

    Both come from a fixed-size 64x64 grey version (JPEGs are reduced in the DCT domain).
    """
    if img.format == "JPEG":
        img.draft("L", (PHASH_GREY_SIZE, PHASH_GREY_SIZE))  # fast DCT-domain downscale
    img.load()
    grey = to_rgb(img).convert("L").resize((PHASH_GREY_SIZE, PHASH_GREY_SIZE), Image.BILINEAR)
    bits = imagehash.phash(grey).hash.flatten()
    ph = int(np.packbits(bits.astype(np.uint8)).view(">u8")[0])
    thumb = np.asarray(grey.resize((THUMB_SIZE, THUMB_SIZE), Image.BILINEAR), dtype=np.uint8)
    return ph, thumb


def grey_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two grey thumbnails (1.0 = same picture up to brightness/contrast)."""
    x = a.astype(np.float64).ravel()
    y = b.astype(np.float64).ravel()
    x, y = x - x.mean(), y - y.mean()
    den = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / den) if den > 0 else float(np.array_equal(a, b))


def hamming_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances between two uint64 hash vectors (data chapter)."""
    x = np.bitwise_xor(a.astype(np.uint64)[:, None], b.astype(np.uint64)[None, :])
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int32)
    bits = np.unpackbits(x.view(np.uint8), axis=-1)  # pragma: no cover - numpy < 2
    return bits.reshape(x.shape[0], x.shape[1], 64).sum(axis=-1, dtype=np.int32)
