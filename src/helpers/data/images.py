"""Image decoding: any PIL mode to RGB, bilinear resize to a square, perceptual hash (chapter 01).

Conventions (documented in the data chapter):
* Alpha (RGBA, LA, P with transparency) is composited on a white background, then dropped.
* 16-bit and 32-bit grey images (I;16, I, F) are mapped linearly from 0..65535 to 0..255
  when their values exceed 255 (values already within 0..255 are kept); CMYK, YCbCr, L, 1, P
  use Pillow's own conversion to RGB.
* EXIF orientation (phone photos) is applied before resizing.
* Resizing uses Pillow's bilinear filter (``Image.BILINEAR``), the method of the paper's Keras
  pipeline; the aspect ratio is not kept (a non-square image is stretched to a square).
"""

from __future__ import annotations

import io
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image, ImageOps

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
PHASH_GREY_SIZE = 64  # images are reduced to a 64x64 grey picture before the 8x8 DCT hash


def is_image_name(name: str) -> bool:
    """True when a file name has an image extension (chapter 01)."""
    return Path(name).suffix.lower() in IMAGE_EXTENSIONS


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB, compositing transparency on white (chapter 01)."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        if arr.size and arr.max() > 255:
            arr = arr / 257.0
        arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        return Image.fromarray(arr, mode="L").convert("RGB")
    if mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def prepare(img: Image.Image, resolution: int) -> np.ndarray:
    """Orient, convert to RGB and bilinear-resize one opened image to (s, s, 3) uint8 (chapter 01)."""
    img.load()
    if img.getexif().get(0x0112, 1) != 1:  # EXIF orientation tag (phone photos)
        img = ImageOps.exif_transpose(img)
    img = to_rgb(img)
    if img.size != (resolution, resolution):
        img = img.resize((resolution, resolution), Image.BILINEAR)
    arr = np.asarray(img, dtype=np.uint8)
    if arr.shape != (resolution, resolution, 3):  # pragma: no cover - defensive
        raise ValueError(f"unexpected decoded shape {arr.shape}")
    return arr


def decode_file(path: str | Path, resolution: int) -> np.ndarray:
    """Decode one image file to a (s, s, 3) uint8 RGB array with bilinear resizing (chapter 01)."""
    with Image.open(path) as img:
        return prepare(img, resolution)


def decode_bytes(data: bytes, resolution: int) -> np.ndarray:
    """Decode encoded image bytes like :func:`decode_file` (chapter 01)."""
    with Image.open(io.BytesIO(data)) as img:
        return prepare(img, resolution)


THUMB_SIZE = 32  # grey thumbnail used to confirm near-duplicate candidates


def fingerprint_image(img: Image.Image) -> tuple[int, np.ndarray]:
    """64-bit pHash and a 32x32 grey thumbnail of an image, for near-duplicate search (chapter 01).

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
    """Pairwise Hamming distances between two uint64 hash vectors (chapter 01)."""
    x = np.bitwise_xor(a.astype(np.uint64)[:, None], b.astype(np.uint64)[None, :])
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int32)
    bits = np.unpackbits(x.view(np.uint8), axis=-1)  # pragma: no cover - numpy < 2
    return bits.reshape(x.shape[0], x.shape[1], 64).sum(axis=-1, dtype=np.int32)
