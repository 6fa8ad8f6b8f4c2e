"""How was the book's ISIC 2017 copy made square? Evidence from the images themselves.

Why over 450 lines: one measurement (field of view, lesion box, padding bars) and the verdict
rule drawn from it; split, the rule would no longer sit beside what it reads.

Chapter "Another hospital's images" (``scripts/isic_geometry.py`` writes
``results/ph2/isic-geometry.json``). The 256 x 256 ISIC copy was squared from larger, mostly
4:3 originals by an unknown method; three traces tell squash, centre crop and pad apart:

* the dermoscope's field of view (:func:`fov_ellipse`): a round bright disc on a dark
  background. Squashing a 4:3 original to a square makes it an upright ellipse with
  height / width = 4/3; a centre crop keeps it round (ratio 1). Measured only on images whose
  four corners are dark (:func:`corner_dark_shares`), by fitting an axis-aligned ellipse to the
  disc's edge away from the image frame;
* the lesions (:func:`lesion_ratio`): a simple dark-lesion segmentation (Otsu threshold inside
  the central region), ``sqrt(var_y / var_x)`` of its pixels. Lesions have no preferred
  orientation, so over many images the median is about 1 natively and about 4/3 after a 4:3
  squash;
* padding (:func:`constant_bars`): rows/columns of one constant colour along the edges.

PH2 (765 x 574, with lesion masks) is the control: measured natively and after a known squash,
centre crop or pad (:func:`squash`, :func:`centre_crop`, :func:`pad`), the same measures must
recover what was done. :func:`verdict` states the decision rule and applies it to the
summaries (:func:`summarise`) of :func:`measure_folder`'s rows. NumPy, SciPy and Pillow only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from helpers.data.resize import to_square

DARK_GREY = 70.0  # a "dark" pixel: grey below min(DARK_GREY, DARK_SHARE * centre median)
DARK_SHARE = 0.35
CORNER_DARK_MIN = 0.5  # a dark corner: more than this share of its square is dark
MIN_ARCS = 4  # the disc's edge must be seen in at least this many of 8 octants
RESID_MAX = 0.02  # an ellipse fit counts when its median relative edge residual is below this
BAR_TOL = 4.0  # a constant line: per-channel std and distance to the first line below this
BAR_MAX = 40  # lines looked at from each edge
BAR_MIN = 20  # a padding bar: at least this many constant lines
TOLERANCE = 0.05  # verdict: how close a median ratio must be to its expected value
PAD_SHARE = 0.5  # verdict: share of images with two opposite bars that means "padded"
SQUASH_RATIO = 4 / 3  # a 4:3 original squashed to a square

Transform = Callable[[Image.Image], Image.Image]


# --------------------------------------------------------------------------------------------
# Resizing the controls
# --------------------------------------------------------------------------------------------


def squash(image: Image.Image, n: int = 256) -> Image.Image:
    """The whole image resized to n x n, bilinear (chapter: Another hospital's images)."""
    return to_square(image, n, "squash")


def centre_crop(image: Image.Image, n: int = 256) -> Image.Image:
    """The largest centred square, resized to n x n, bilinear (chapter: Another hospital's images)."""
    return to_square(image, n, "crop")


def pad(image: Image.Image, n: int = 256) -> Image.Image:
    """Padded black to a centred square, resized to n x n, bilinear (chapter: Another hospital's images)."""
    return to_square(image, n, "pad")


# --------------------------------------------------------------------------------------------
# Measures of one image
# --------------------------------------------------------------------------------------------


def grey(rgb: np.ndarray) -> np.ndarray:
    """Mean of the three channels as float32 (chapter: Another hospital's images)."""
    return np.asarray(rgb, dtype=np.float32).mean(axis=2)


def dark_threshold(g: np.ndarray) -> float:
    """Grey level below which a pixel is dark: min(70, 0.35 x centre median) (chapter: Another hospital's images)."""
    h, w = g.shape
    return min(DARK_GREY, DARK_SHARE * float(np.median(g[h // 4:3 * h // 4, w // 4:3 * w // 4])))


def corner_dark_shares(g: np.ndarray) -> list[float]:
    """Share of dark pixels in each corner square (side h/16, at least 4) (chapter: Another hospital's images)."""
    h = g.shape[0]
    k = max(4, h // 16)
    t = dark_threshold(g)
    corners = (g[:k, :k], g[:k, -k:], g[-k:, :k], g[-k:, -k:])
    return [float((c < t).mean()) for c in corners]


def _largest_component(mask: np.ndarray) -> np.ndarray | None:
    """The largest connected component of a boolean mask, None when empty."""
    lab, n = ndi.label(mask)
    if n == 0:
        return None
    sizes = ndi.sum(mask, lab, range(1, n + 1))
    return lab == 1 + int(np.argmax(sizes))


def _fov_edge(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(field-of-view mask, edge rows, edge columns) of the bright disc, edge off the frame."""
    h, w = g.shape
    m = _largest_component(ndi.binary_opening(g > dark_threshold(g), iterations=2))
    if m is None:
        return None
    m = ndi.binary_fill_holes(m)
    by, bx = np.nonzero(m & ~ndi.binary_erosion(m))
    keep = (by > 2) & (by < h - 3) & (bx > 2) & (bx < w - 3)
    return m, by[keep].astype(float), bx[keep].astype(float)


def _fit_ellipse(by: np.ndarray, bx: np.ndarray, shape: tuple[int, int]) -> dict[str, float] | None:
    """Least-squares axis-aligned ellipse A x^2 + B y^2 + C x + D y = 1 through edge points."""
    h, w = shape
    s = float(max(h, w))
    x, y = bx / s - 0.5 * w / s, by / s - 0.5 * h / s  # centred: the constant term is negative
    design = np.stack([x * x, y * y, x, y], axis=1)
    (a, b, c, d), *_ = np.linalg.lstsq(design, np.ones_like(x), rcond=None)
    if a * b <= 0:
        return None
    x0, y0 = -c / (2 * a), -d / (2 * b)
    f = 1 + a * x0 * x0 + b * y0 * y0
    if f / a <= 0:
        return None
    semi_x, semi_y = float(np.sqrt(f / a) * s), float(np.sqrt(f / b) * s)
    r = np.sqrt((a * (x - x0) ** 2 + b * (y - y0) ** 2) / f)
    return {"ratio": semi_y / semi_x, "semi_x": semi_x, "semi_y": semi_y,
            "cx": float(x0 * s + w / 2), "cy": float(y0 * s + h / 2),
            "resid": float(np.median(np.abs(r - 1)))}


def fov_ellipse(g: np.ndarray, min_arcs: int = MIN_ARCS) -> dict[str, float] | None:
    """Height/width of the field-of-view disc from an ellipse fit to its edge (chapter: Another hospital's images).

    None when the disc is not found, its edge off the frame has fewer than 40 pixels or shows
    (more than 5 edge pixels) in fewer than ``min_arcs`` of the 8 octants around the disc's
    centroid, or no ellipse fits. ``resid``: median |r - 1| of the edge pixels' normalised
    radius (0 for a perfect ellipse); callers keep fits with ``resid < RESID_MAX``. On a padded
    image the dark bars count as dark corners and their straight edges fit as a flat ellipse
    (ratio far below 1): a result that is neither 1 nor 4/3, as PH2 padded shows.
    """
    found = _fov_edge(g)
    if found is None:
        return None
    m, by, bx = found
    if len(bx) < 40:
        return None
    ys, xs = np.nonzero(m)
    angle = np.arctan2(by - ys.mean(), bx - xs.mean())
    arcs = int((np.histogram(angle, bins=8, range=(-np.pi, np.pi))[0] > 5).sum())
    if arcs < min_arcs:
        return None
    fit = _fit_ellipse(by, bx, g.shape)
    if fit is not None:
        fit.update(arcs=arcs, edge_pixels=len(bx))
    return fit


def _otsu(values: np.ndarray, bins: int = 128) -> float:
    """Otsu's threshold over a 128-bin histogram (the bin's lower edge)."""
    hist, edges = np.histogram(values, bins)
    p = hist / hist.sum()
    w = np.cumsum(p)
    mu = np.cumsum(p * edges[:-1])
    between = (mu[-1] * w - mu) ** 2 / (w * (1 - w) + 1e-12)
    return float(edges[np.argmax(between)])


def _central_component(m: np.ndarray) -> np.ndarray | None:
    """The component (>= 1 % of the image) maximising size x (1 - distance to the centre)."""
    h, w = m.shape
    lab, n = ndi.label(m)
    if n == 0:
        return None
    idx = np.arange(1, n + 1)
    sizes = ndi.sum(m, lab, idx)
    centres = ndi.center_of_mass(m, lab, idx)
    best, best_score = None, -1.0
    for i, size, (cy, cx) in zip(idx, sizes, centres, strict=True):
        if size < 0.01 * h * w:
            continue
        score = size * (1 - np.hypot((cy - h / 2) / h, (cx - w / 2) / w))
        if score > best_score:
            best, best_score = int(i), float(score)
    return None if best is None else ndi.binary_fill_holes(lab == best)


def lesion_mask(g: np.ndarray) -> np.ndarray | None:
    """Dark-lesion segmentation: Otsu inside the central 3/4, the central blob (chapter: Another hospital's images).

    Pixels darker than Otsu's threshold of the smoothed (Gaussian sigma 2) central region's
    non-black (> 30) pixels, opened twice; the component of at least 1 % of the image that is
    largest and nearest the centre, holes filled. None when nothing qualifies or the blob
    touches the image frame (vignette leaking in).
    """
    h, w = g.shape
    gg = ndi.gaussian_filter(g, 2)
    inner = gg[h // 8:7 * h // 8, w // 8:7 * w // 8]
    values = inner[inner > 30]
    if len(values) < 100:
        return None
    m = ndi.binary_opening((gg < _otsu(values)) & (gg > 30), iterations=2)
    blob = _central_component(m)
    if blob is None:
        return None
    ys, xs = np.nonzero(blob)
    if ys.min() == 0 or xs.min() == 0 or ys.max() == h - 1 or xs.max() == w - 1:
        return None
    return blob


def mask_ratio(mask: np.ndarray) -> float | None:
    """sqrt(var_y / var_x) of a boolean mask's pixels; None when empty or flat (chapter: Another hospital's images)."""
    ys, xs = np.nonzero(mask)
    if len(xs) < 2 or xs.var() == 0:
        return None
    return float(np.sqrt(ys.var() / xs.var()))


def lesion_ratio(g: np.ndarray) -> float | None:
    """Height/width of the segmented dark lesion, sqrt(var_y / var_x) (chapter: Another hospital's images)."""
    blob = lesion_mask(g)
    return None if blob is None else mask_ratio(blob)


def _leading_constant(lines: np.ndarray) -> int:
    """Number of leading lines (axis 0; each (length, 3)) constant and equal to the first."""
    std = lines.std(axis=1).max(axis=1)
    mean = lines.mean(axis=1)
    ok = (std < BAR_TOL) & (np.abs(mean - mean[0]).max(axis=1) < BAR_TOL)
    return len(ok) if ok.all() else int(np.argmin(ok))


def constant_bars(rgb: np.ndarray, max_lines: int = BAR_MAX) -> dict[str, int]:
    """Constant lines from each edge (top, bottom, left, right), at most 40 (chapter: Another hospital's images).

    A line counts when each channel's standard deviation along it is below 4 and its mean
    colour is within 4 of the edge line's: a padding bar is a run of such lines. A dermoscope's
    black surround reaching the edge counts too, so only bars in a large share of the images
    (:data:`PAD_SHARE`) point to padding.
    """
    a = np.asarray(rgb, dtype=np.float32)
    k = min(max_lines, a.shape[0], a.shape[1])
    cols = a.transpose(1, 0, 2)
    return {"top": _leading_constant(a[:k]), "bottom": _leading_constant(a[::-1][:k]),
            "left": _leading_constant(cols[:k]), "right": _leading_constant(cols[::-1][:k])}


def measure_image(rgb: np.ndarray, mask: np.ndarray | None = None,
                  min_arcs: int = MIN_ARCS) -> dict[str, Any]:
    """All measures of one RGB image (and its lesion mask, if any) as a flat dict (chapter: Another hospital's images).

    Keys: ``corner_min`` (darkest corner's dark share), ``fov_ratio``/``fov_resid`` (None
    unless all four corners are dark and an ellipse fits), ``lesion_ratio``, ``mask_ratio``
    (None without a mask), ``bar_top``/``bar_bottom``/``bar_left``/``bar_right``.
    """
    g = grey(rgb)
    corner_min = min(corner_dark_shares(g))
    fit = fov_ellipse(g, min_arcs) if corner_min > CORNER_DARK_MIN else None
    row: dict[str, Any] = {
        "corner_min": corner_min,
        "fov_ratio": None if fit is None else fit["ratio"],
        "fov_resid": None if fit is None else fit["resid"],
        "lesion_ratio": lesion_ratio(g),
        "mask_ratio": None if mask is None else mask_ratio(np.asarray(mask) > 127),
    }
    row.update({f"bar_{side}": n for side, n in constant_bars(rgb).items()})
    return row


def _load(path: Path, mode: str, transform: Transform | None) -> np.ndarray:
    """An image file converted to ``mode``, transformed, as an array."""
    with Image.open(path) as im:
        im = im.convert(mode)
        return np.asarray(transform(im) if transform is not None else im)


def measure_folder(
    folder: str | os.PathLike[str],
    files: Sequence[str],
    masks: Sequence[str | None] | None = None,
    transform: Transform | None = None,
) -> list[dict[str, Any]]:
    """:func:`measure_image` of each file under ``folder`` (chapter: Another hospital's images).

    ``files``: paths relative to ``folder``; ``masks``: the lesion mask of each (or None), also
    relative; ``transform``: applied to image and mask alike before measuring (e.g.
    :func:`squash`). One row per file, ``{"file": ..., **measures}``; a file that cannot be
    read gives ``{"file": ..., "error": "<type>: <message>"}`` instead, counted by
    :func:`summarise`.
    """
    root = Path(folder)
    if masks is not None and len(masks) != len(files):
        raise ValueError(f"masks has {len(masks)} entries for {len(files)} files: give one "
                         "mask path (or None) per file")
    rows: list[dict[str, Any]] = []
    for i, rel in enumerate(files):
        mask_rel = None if masks is None else masks[i]
        try:
            rgb = _load(root / rel, "RGB", transform)
            mask = None if mask_rel is None else _load(root / mask_rel, "L", transform)
            rows.append({"file": rel, **measure_image(rgb, mask)})
        except (OSError, ValueError) as exc:
            rows.append({"file": rel, "error": f"{type(exc).__name__}: {exc}"})
    return rows


# --------------------------------------------------------------------------------------------
# Summaries and the verdict
# --------------------------------------------------------------------------------------------


def describe(values: Sequence[float | None]) -> dict[str, Any]:
    """n, median, quartiles, 10th/90th percentiles and share above 1 (chapter: Another hospital's images).

    None values are left out; all statistics are None when nothing is left.
    """
    x = np.array([v for v in values if v is not None], dtype=float)
    if len(x) == 0:
        return {"n": 0, "median": None, "q1": None, "q3": None, "p10": None, "p90": None,
                "share_above_1": None}
    p10, q1, med, q3, p90 = (float(v) for v in np.percentile(x, [10, 25, 50, 75, 90]))
    return {"n": int(len(x)), "median": med, "q1": q1, "q3": q3, "p10": p10, "p90": p90,
            "share_above_1": float((x > 1).mean())}


def near_counts(values: Sequence[float], tol: float = TOLERANCE) -> dict[str, int]:
    """How many ratios lie within tol of 3/4, 1 and 4/3, and how many elsewhere (chapter: Another hospital's images).

    A 4:3 landscape original squashed gives 4/3, a 3:4 portrait one 3/4, a centre crop 1.
    """
    targets = {"3/4": 0.75, "1": 1.0, "4/3": SQUASH_RATIO}
    out = {name: sum(1 for v in values if abs(v - t) <= tol) for name, t in targets.items()}
    out["other"] = len(values) - sum(out.values())
    return out


def _bar_counts(rows: Sequence[Mapping[str, Any]], bar_min: int) -> dict[str, Any]:
    """Images with padding-like bars: on two opposite sides, on any side."""
    def both(a: str, b: str, k: int) -> int:
        return sum(1 for r in rows if r[f"bar_{a}"] >= k and r[f"bar_{b}"] >= k)

    tb, lr = both("top", "bottom", bar_min), both("left", "right", bar_min)
    opposite = sum(1 for r in rows if (r["bar_top"] >= bar_min and r["bar_bottom"] >= bar_min)
                   or (r["bar_left"] >= bar_min and r["bar_right"] >= bar_min))
    sides = ("top", "bottom", "left", "right")
    any_side = sum(1 for r in rows if any(r[f"bar_{s}"] >= bar_min for s in sides))
    return {"min_lines": bar_min, "top_and_bottom": tb, "left_and_right": lr,
            "opposite_sides": opposite, "any_side": any_side,
            "opposite_share": opposite / len(rows) if rows else None}


def summarise(rows: Sequence[Mapping[str, Any]], resid_max: float = RESID_MAX,
              bar_min: int = BAR_MIN) -> dict[str, Any]:
    """Counts and ratio statistics of :func:`measure_folder` rows (chapter: Another hospital's images).

    ``fov_ratio`` counts only fits with ``fov_resid < resid_max`` (``fov_ratio_near``: how
    many lie near 3/4, 1, 4/3); ``bars`` counts images with
    at least ``bar_min`` constant lines on two opposite sides (``opposite_share`` of the
    readable images) and on any side; ``errors`` lists unreadable files.
    """
    ok = [r for r in rows if "error" not in r]
    fits = [r["fov_ratio"] for r in ok
            if r["fov_ratio"] is not None and r["fov_resid"] < resid_max]
    return {
        "n_files": len(rows),
        "n_read": len(ok),
        "errors": [f"{r['file']}: {r['error']}" for r in rows if "error" in r],
        "n_four_dark_corners": sum(1 for r in ok if r["corner_min"] > CORNER_DARK_MIN),
        "fov_ratio": describe(fits),
        "fov_ratio_near": near_counts(fits),
        "lesion_ratio": describe([r["lesion_ratio"] for r in ok]),
        "mask_ratio": describe([r["mask_ratio"] for r in ok]),
        "bars": _bar_counts(ok, bar_min),
    }


VERDICT_RULE = (
    "Medians of height/width ratios, tolerance {tol}. Controls (PH2, 765x574, whose field of "
    "view is round): the native field of view must measure within tol of 1, PH2 squashed "
    "to 256x256 within tol of 4/3, and at least {pad:.0%} of PH2 padded to 256x256 must show "
    "constant bars of >= {bars} lines on two opposite sides; otherwise 'undecided'. Then "
    "'pad' if at least {pad:.0%} of "
    "the ISIC images show constant bars of >= {bars} lines on two opposite sides; else "
    "'squash' if the ISIC field of view lies within tol of 4/3 and the ISIC lesion ratio within "
    "tol of PH2-squashed's; else 'centre_crop' if the ISIC field of view lies within tol of 1 "
    "and the ISIC lesion ratio within tol of PH2-centre-cropped's; else 'undecided'."
)


def _near(value: float | None, target: float | None, tol: float) -> bool:
    """True when both are numbers and |value - target| <= tol."""
    return value is not None and target is not None and abs(value - target) <= tol


def _check(name: str, value: float | None, target: float | None, tol: float) -> dict[str, Any]:
    """One line of the verdict: measured value, what it is compared with, passed or not."""
    return {"check": name, "value": value, "target": target, "tolerance": tol,
            "passed": _near(value, target, tol)}


def _share_check(name: str, summary: Mapping[str, Any], minimum: float) -> dict[str, Any]:
    """Verdict line: share of images with bars on two opposite sides is at least ``minimum``."""
    share = summary["bars"]["opposite_share"]
    return {"check": f"{name} >= {minimum}", "value": share, "target": minimum,
            "passed": share is not None and share >= minimum}


def verdict(isic: Mapping[str, Any], ph2: Mapping[str, Mapping[str, Any]],
            tol: float = TOLERANCE, pad_share: float = PAD_SHARE) -> dict[str, Any]:
    """How the ISIC copy was squared, by :data:`VERDICT_RULE` (chapter: Another hospital's images).

    ``isic``: :func:`summarise` of the ISIC copy; ``ph2``: summaries keyed ``native``,
    ``squashed``, ``centre_crop`` and ``padded``. Returns the rule in words, every check with its numbers
    and the outcome: ``squash``, ``centre_crop``, ``pad`` or ``undecided``.
    """
    fov, les = isic["fov_ratio"]["median"], isic["lesion_ratio"]["median"]
    checks = {
        "control_native": _check("PH2 native field of view ~ 1",
                                 ph2["native"]["fov_ratio"]["median"], 1.0, tol),
        "control_squashed": _check("PH2 squashed field of view ~ 4/3",
                                   ph2["squashed"]["fov_ratio"]["median"], SQUASH_RATIO, tol),
        "squash_fov": _check("ISIC field of view ~ 4/3", fov, SQUASH_RATIO, tol),
        "squash_lesion": _check("ISIC lesion ~ PH2 squashed lesion", les,
                                ph2["squashed"]["lesion_ratio"]["median"], tol),
        "crop_fov": _check("ISIC field of view ~ 1", fov, 1.0, tol),
        "crop_lesion": _check("ISIC lesion ~ PH2 centre-cropped lesion", les,
                              ph2["centre_crop"]["lesion_ratio"]["median"], tol),
    }
    checks["control_padded"] = _share_check("PH2 padded: share with opposite bars",
                                            ph2["padded"], pad_share)
    checks["pad"] = _share_check("ISIC: share with opposite bars", isic, pad_share)
    return {"rule": VERDICT_RULE.format(tol=tol, pad=pad_share, bars=isic["bars"]["min_lines"]),
            "checks": checks, "outcome": _outcome(checks)}


def _outcome(checks: Mapping[str, Mapping[str, Any]]) -> str:
    """The verdict's outcome from its checks, in the order the rule states."""
    def ok(*names: str) -> bool:
        return all(checks[n]["passed"] for n in names)

    if not ok("control_native", "control_squashed", "control_padded"):
        return "undecided"
    if ok("pad"):
        return "pad"
    if ok("squash_fov", "squash_lesion"):
        return "squash"
    if ok("crop_fov", "crop_lesion"):
        return "centre_crop"
    return "undecided"
