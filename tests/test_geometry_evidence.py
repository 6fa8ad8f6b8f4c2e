"""helpers.analysis.geometry_evidence on synthetic dermoscope-like images (chapter: Another hospital's images).

A bright round field of view with a round dark lesion in the middle, drawn on a black 4:3 (or
3:4) canvas: squashing to a square must measure 4/3 (3/4 for portrait), a centre crop 1, and
padding must show constant bars. No real data.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from PIL import Image, ImageDraw

from helpers.analysis import geometry_evidence as ge

TOL = 0.05


def dermoscope(w: int = 400, h: int = 300, radius: int = 140, lesion: int = 50) -> Image.Image:
    """A white disc (field of view) with a grey round lesion, centred on a black w x h canvas."""
    im = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(im)
    cx, cy = w / 2, h / 2
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(235, 225, 215))
    draw.ellipse((cx - lesion, cy - lesion, cx + lesion, cy + lesion), fill=(90, 60, 50))
    return im


def lesion_mask_image(w: int = 400, h: int = 300, lesion: int = 50) -> Image.Image:
    """The lesion of :func:`dermoscope` as an 8-bit mask (255 inside)."""
    im = Image.new("L", (w, h))
    ImageDraw.Draw(im).ellipse((w / 2 - lesion, h / 2 - lesion, w / 2 + lesion, h / 2 + lesion),
                               fill=255)
    return im


def textured(w: int = 400, h: int = 300) -> Image.Image:
    """A noisy photo-like image with no constant line anywhere."""
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(40, 220, size=(h, w, 3), dtype=np.uint8))


def measure(im: Image.Image) -> dict:
    return ge.measure_image(np.asarray(im))


def test_native_field_of_view_is_round():
    row = measure(dermoscope())
    assert row["fov_ratio"] == pytest.approx(1.0, abs=TOL)
    assert row["lesion_ratio"] == pytest.approx(1.0, abs=TOL)


def test_squashed_landscape_measures_four_thirds():
    row = measure(ge.squash(dermoscope(), 256))
    assert row["corner_min"] > ge.CORNER_DARK_MIN
    assert row["fov_resid"] < ge.RESID_MAX
    assert row["fov_ratio"] == pytest.approx(4 / 3, abs=TOL)
    assert row["lesion_ratio"] == pytest.approx(4 / 3, abs=TOL)


def test_centre_cropped_landscape_stays_round():
    row = measure(ge.centre_crop(dermoscope(), 256))
    assert row["fov_ratio"] == pytest.approx(1.0, abs=TOL)
    assert row["lesion_ratio"] == pytest.approx(1.0, abs=TOL)


def test_squashed_portrait_measures_three_quarters():
    row = measure(ge.squash(dermoscope(w=300, h=400), 256))
    assert row["fov_ratio"] == pytest.approx(0.75, abs=TOL)
    assert row["lesion_ratio"] == pytest.approx(0.75, abs=TOL)


def test_padding_bars_are_detected_and_photos_have_none():
    bars = ge.constant_bars(np.asarray(ge.pad(textured(), 256)))
    # 400x300 padded to 400x400: 50 rows above and below, 32 after resizing to 256
    assert 30 <= bars["top"] <= 33 and 30 <= bars["bottom"] <= 33
    assert bars["left"] == bars["right"] == 0
    assert max(ge.constant_bars(np.asarray(ge.squash(textured(), 256))).values()) == 0
    portrait = ge.constant_bars(np.asarray(ge.pad(textured(300, 400), 256)))
    assert portrait["left"] >= 30 and portrait["right"] >= 30 and portrait["top"] == 0


def test_bright_corners_give_no_field_of_view():
    im = Image.new("RGB", (256, 256), (200, 190, 180))
    ImageDraw.Draw(im).ellipse((90, 90, 166, 166), fill=(80, 50, 40))
    row = measure(im)
    assert row["corner_min"] == 0.0 and row["fov_ratio"] is None
    assert row["lesion_ratio"] == pytest.approx(1.0, abs=TOL)


def test_measure_folder_squashes_mask_with_image_and_counts_unreadable(tmp_path):
    dermoscope().save(tmp_path / "a.png")
    lesion_mask_image().save(tmp_path / "a_mask.png")
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    rows = ge.measure_folder(tmp_path, ["a.png", "broken.jpg", "missing.jpg"],
                             ["a_mask.png", None, None], lambda im: ge.squash(im, 128))
    assert rows[0]["file"] == "a.png"
    assert rows[0]["mask_ratio"] == pytest.approx(4 / 3, abs=TOL)
    assert rows[0]["fov_ratio"] == pytest.approx(4 / 3, abs=TOL)
    assert [r["file"] for r in rows if "error" in r] == ["broken.jpg", "missing.jpg"]
    summary = ge.summarise(rows)
    assert (summary["n_files"], summary["n_read"], len(summary["errors"])) == (3, 1, 2)
    assert summary["fov_ratio"]["n"] == 1 and summary["fov_ratio_near"]["4/3"] == 1
    assert summary["mask_ratio"]["share_above_1"] == 1.0


def test_measure_folder_rejects_mask_list_of_other_length(tmp_path):
    with pytest.raises(ValueError, match="one mask path"):
        ge.measure_folder(tmp_path, ["a.png", "b.png"], ["a_mask.png"])


def test_summarise_counts_bars_and_drops_poor_fits():
    base = {"corner_min": 1.0, "lesion_ratio": 1.3, "mask_ratio": None,
            "bar_top": 0, "bar_bottom": 0, "bar_left": 0, "bar_right": 0}
    rows = [{**base, "fov_ratio": 1.33, "fov_resid": 0.005},
            {**base, "fov_ratio": 0.2, "fov_resid": 0.5},  # poor fit: left out
            {**base, "fov_ratio": 0.75, "fov_resid": 0.01, "bar_left": 25, "bar_right": 21},
            {**base, "fov_ratio": None, "fov_resid": None, "bar_top": 30}]
    s = ge.summarise(rows)
    assert s["fov_ratio"]["n"] == 2
    assert s["fov_ratio_near"] == {"3/4": 1, "1": 0, "4/3": 1, "other": 0}
    assert s["bars"]["opposite_sides"] == 1 and s["bars"]["any_side"] == 2
    assert s["bars"]["opposite_share"] == 0.25
    assert ge.describe([None])["median"] is None


def summary(fov: float | None, lesion: float | None, opposite_share: float = 0.0) -> dict:
    """A hand-made :func:`summarise` output with only what :func:`verdict` reads."""
    return {"fov_ratio": {"median": fov}, "lesion_ratio": {"median": lesion},
            "bars": {"opposite_share": opposite_share, "min_lines": ge.BAR_MIN}}


PH2 = {"native": summary(0.98, 0.99), "squashed": summary(1.29, 1.32),
       "centre_crop": summary(None, 1.02), "padded": summary(0.12, 1.0, 1.0)}


@pytest.mark.parametrize(("isic", "outcome"), [
    (summary(1.336, 1.326), "squash"),
    (summary(1.01, 1.0), "centre_crop"),
    (summary(0.3, 1.0, 0.9), "pad"),
    (summary(1.336, 1.0), "undecided"),  # field of view and lesions disagree
    (summary(1.15, 1.15), "undecided"),  # neither 4/3 nor 1
    (summary(None, 1.326), "undecided"),  # no image with four dark corners
])
def test_verdict_outcomes(isic, outcome):
    v = ge.verdict(isic, PH2)
    assert v["outcome"] == outcome
    assert "4/3" in v["rule"] and "0.05" in v["rule"]


@pytest.mark.parametrize(("variant", "key", "value"), [
    ("native", "fov_ratio", 1.2),  # the control disc does not measure round natively
    ("squashed", "fov_ratio", 1.1),  # a known squash is not recovered
    ("padded", "bars", 0.1),  # the bar detector misses known padding
])
def test_verdict_undecided_when_a_control_fails(variant, key, value):
    ph2 = copy.deepcopy(PH2)
    if key == "bars":
        ph2[variant]["bars"]["opposite_share"] = value
    else:
        ph2[variant][key]["median"] = value
    v = ge.verdict(summary(1.336, 1.326), ph2)
    assert v["outcome"] == "undecided"
    assert not all(c["passed"] for n, c in v["checks"].items() if n.startswith("control"))
