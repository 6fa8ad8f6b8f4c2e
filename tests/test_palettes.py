"""Colours a reader with deuteranopia can tell apart (issue 27, item 4).

Each palette the book's figures use is passed through a simulation of deuteranopia (Machado,
Oliveira & Fernandes 2009, severity 1, in linear RGB) and every pair of its colours must stay
at least ``MIN_DELTA_E`` apart in CIE Lab (ΔE*ab 1976; about 10 is "clearly different").
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

MIN_DELTA_E = 10.0
DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968],
                         [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])
SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                        [0.0193, 0.1192, 0.9505]])


def _linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _gamma(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0, 1)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def _lab(rgb: np.ndarray) -> np.ndarray:
    t = (SRGB_TO_XYZ @ _linear(rgb)) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def deuteranope_sees(rgb) -> np.ndarray:
    return _gamma(DEUTERANOPIA @ _linear(np.asarray(rgb, dtype=float)[:3]))


def closest_pair(colors) -> float:
    labs = [_lab(deuteranope_sees(c)) for c in colors]
    return min(float(np.linalg.norm(a - b)) for a, b in itertools.combinations(labs, 2))


def _palettes() -> dict[str, list]:
    from helpers.chapters import plots
    from helpers.chapters.deployment import format_colors
    from helpers.chapters.separable_cost import LAYER_KIND_COLORS

    return {
        "models (results, intro, external site)":
            list(plots.model_colors(["mobilenet", "resnet50", "mobilenetv2"]).values()),
        "export formats (deployment Pareto plot)": list(format_colors().values()),
        "layer kinds (separable cost)": list(LAYER_KIND_COLORS.values()),
    }


@pytest.mark.parametrize("name", sorted(_palettes()))
def test_palette_colours_stay_apart_under_deuteranopia(name: str) -> None:
    assert closest_pair(_palettes()[name]) >= MIN_DELTA_E, name


def test_the_simulation_merges_red_and_green() -> None:
    """The check can fail: pure red and green look alike to a deuteranope."""
    assert closest_pair([(0.8, 0.2, 0.1), (0.35, 0.55, 0.1)]) < MIN_DELTA_E
    assert closest_pair([(0.8, 0.2, 0.1), (0.1, 0.3, 0.8)]) >= MIN_DELTA_E
