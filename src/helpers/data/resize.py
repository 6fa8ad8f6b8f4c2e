"""How an image of any shape becomes N x N: geometry and resampling (the data, training and external-site chapters).

Two run parameters (:class:`helpers.training.params.TrainParams`), each left out of the run id
at its default, what the project did before they existed:

* ``geometry`` (:data:`GEOMETRIES`): ``"squash"`` resizes the whole image to N x N (the aspect
  ratio is not kept); ``"crop"`` takes the largest centred square first; ``"pad"`` pads the
  short side with black (0, 0, 0) to a centred square first. An external set with lesion masks
  is also scored with ``"lesion_box"`` (:func:`lesion_box`, :data:`EXTERNAL_GEOMETRIES`).
* ``resample`` (:data:`RESAMPLES`): ``"bilinear"`` (Pillow's BILINEAR, antialiased when
  shrinking), ``"area"`` (Pillow's BOX), ``"bilinear_plain"`` (:func:`bilinear_plain`: the 4
  nearest source pixels of each target pixel centre, no antialiasing, like
  ``tf.image.resize(antialias=False)`` or OpenCV's INTER_LINEAR) and ``"nearest"``.

A square image is left whole by ``squash``, ``crop`` and ``pad``; an image already N x N is not
resampled.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

GEOMETRIES: tuple[str, ...] = ("squash", "crop", "pad")
"""A run's ``geometry`` values; the first is the default."""
EXTERNAL_GEOMETRIES: tuple[str, ...] = (*GEOMETRIES, "lesion_box")
"""The geometries an external set is scored with (``lesion_box`` only with lesion masks)."""
RESAMPLES: tuple[str, ...] = ("bilinear", "area", "bilinear_plain", "nearest")
"""A run's ``resample`` values; the first is the default."""
DEFAULT_GEOMETRY, DEFAULT_RESAMPLE = GEOMETRIES[0], RESAMPLES[0]
LESION_MARGIN = 0.10  # lesion_box: share of the box's longer side added on every side

_PIL_FILTERS = {"bilinear": Image.BILINEAR, "area": Image.BOX, "nearest": Image.NEAREST}

Box = tuple[int, int, int]  # (left, top, side) of a square in image pixels, may leave the image


def is_default(geometry: str, resample: str) -> bool:
    """True for squash + bilinear, the way every image was resized before issue 29."""
    return geometry == DEFAULT_GEOMETRY and resample == DEFAULT_RESAMPLE


def variant_tag(geometry: str, resample: str) -> str:
    """``""`` at the defaults, else ``"-<geometry>-<resample>"`` (cache file names)."""
    return "" if is_default(geometry, resample) else f"-{geometry}-{resample}"


def check(geometry: str, resample: str, *, external: bool = False) -> None:
    """ValueError naming a geometry or resample that is not one of the known ones."""
    allowed = EXTERNAL_GEOMETRIES if external else GEOMETRIES
    if geometry not in allowed:
        raise ValueError(f"geometry={geometry!r} is invalid: expected one of {list(allowed)}")
    if resample not in RESAMPLES:
        raise ValueError(f"resample={resample!r} is invalid: expected one of {list(RESAMPLES)}")


def square_box(size: tuple[int, int], geometry: str) -> Box | None:
    """The square (left, top, side) that ``crop`` or ``pad`` takes from an image of ``size``.

    None for ``squash`` and for an image that is already square. ``crop``: the largest
    centred square inside; ``pad``: the smallest centred square around it. An odd difference
    leaves the extra column or row on the right/bottom: cut off by ``crop``, black by ``pad``.
    """
    w, h = size
    if geometry == "squash" or w == h:
        return None
    side = min(w, h) if geometry == "crop" else max(w, h)
    # crop: floor((w - side) / 2) inside; pad: floor((side - w) / 2) of black before the image
    return (w - side) // 2 if w >= side else -((side - w) // 2), (
        (h - side) // 2 if h >= side else -((side - h) // 2)), side


def lesion_box(mask: np.ndarray, margin: float = LESION_MARGIN) -> Box:
    """The square around a lesion mask's bounding box (``lesion_box`` geometry, the external-site chapter).

    The bounding box of the mask's foreground (pixels above half the mask's maximum), widened
    by ``margin`` of its longer side on every side, made square around its centre by growing
    the shorter side. It may leave the image: :func:`take_box` pads that part black.
    ValueError for a mask without foreground.
    """
    m = np.asarray(mask)
    if m.ndim == 3:
        m = m.max(axis=-1)
    if not m.size or m.max() <= 0:
        raise ValueError("empty lesion mask (no foreground pixel)")
    rows, cols = np.flatnonzero((m > m.max() / 2).any(axis=1)), np.flatnonzero(
        (m > m.max() / 2).any(axis=0))
    x0, x1, y0, y1 = cols[0], cols[-1] + 1, rows[0], rows[-1] + 1
    longer = max(x1 - x0, y1 - y0)
    side = max(1, _round(longer * (1 + 2 * margin)))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return _round(cx - side / 2), _round(cy - side / 2), side


def _round(v: float) -> int:
    """Half up (Python's round() goes half to even)."""
    return int(np.floor(v + 0.5))


def take_box(img: Image.Image, box: Box) -> Image.Image:
    """The square ``box`` of ``img``; the part outside the image is black (0, 0, 0)."""
    left, top, side = box
    return img.crop((left, top, left + side, top + side))  # Pillow fills outside with 0


def bilinear_plain(img: Image.Image, size: int) -> Image.Image:
    """Bilinear interpolation without antialiasing to ``size`` x ``size`` (``bilinear_plain``).

    Each target pixel centre maps to source coordinates ``(i + 0.5) * scale - 0.5`` (clamped
    to the image) and takes the weighted mean of its 4 nearest source pixels, as
    ``tf.image.resize(..., antialias=False)`` and OpenCV's INTER_LINEAR do: when shrinking,
    most source pixels are never looked at (aliasing), unlike Pillow's BILINEAR.
    """
    src = np.asarray(img, dtype=np.float32)
    h, w = src.shape[:2]

    def axis(n_src: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = np.clip((np.arange(size) + 0.5) * (n_src / size) - 0.5, 0, n_src - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, n_src - 1)
        return lo, hi, (pos - lo).astype(np.float32)

    y0, y1, fy = axis(h)
    x0, x1, fx = axis(w)
    fx = fx[None, :, None] if src.ndim == 3 else fx[None, :]
    top = src[y0][:, x0] * (1 - fx) + src[y0][:, x1] * fx
    bottom = src[y1][:, x0] * (1 - fx) + src[y1][:, x1] * fx
    fy = fy[:, None, None] if src.ndim == 3 else fy[:, None]
    out = top * (1 - fy) + bottom * fy
    return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8), mode=img.mode)


def resize_square(img: Image.Image, size: int, resample: str = DEFAULT_RESAMPLE) -> Image.Image:
    """``img`` resized to ``size`` x ``size`` with the named ``resample`` (no-op at that size)."""
    if img.size == (size, size):
        return img
    if resample == "bilinear_plain":
        return bilinear_plain(img, size)
    return img.resize((size, size), _PIL_FILTERS[resample])


def to_square(img: Image.Image, size: int, geometry: str = DEFAULT_GEOMETRY,
              resample: str = DEFAULT_RESAMPLE, box: Box | None = None) -> Image.Image:
    """An RGB image brought to ``size`` x ``size`` by ``geometry`` and ``resample`` (the data chapter, 03).

    ``geometry="lesion_box"`` needs ``box`` (:func:`lesion_box` of the image's mask).
    """
    check(geometry, resample, external=True)
    if geometry == "lesion_box":
        if box is None:
            raise ValueError("geometry='lesion_box' needs the lesion's box (from its mask)")
    else:
        box = square_box(img.size, geometry)
    if box is not None:
        img = take_box(img, box)
    return resize_square(img, size, resample)


def read_mask(path) -> np.ndarray:
    """A lesion mask file as an (h, w) uint8 array (any mode converted to grey) (external-site chapter)."""
    with Image.open(path) as m:
        return np.asarray(m.convert("L"), dtype=np.uint8)
