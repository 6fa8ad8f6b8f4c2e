"""helpers.stats.calibration on hand examples and seeded synthetic data (calibrated vs over-confident)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit, logit

from helpers.chapters.reliability import plot_reliability
from helpers.stats.calibration import (
    apply_temperature,
    brier_score,
    expected_calibration_error,
    fit_temperature,
    reliability_table,
    wilson_interval,
)


@pytest.fixture(scope="module")
def calibrated():
    """n = 5000, p = sigmoid(N(0, 1.5)), labels ~ Bernoulli(p): calibrated by construction."""
    rng = np.random.default_rng(20240501)
    z = rng.normal(0.0, 1.5, 5000)
    p = expit(z)
    y = (rng.random(p.size) < p).astype(int)
    return y, p


def test_brier_hand():
    # (0.9-1)^2 + (0.2-0)^2 + (0.6-0)^2 + (0.5-1)^2 = 0.01 + 0.04 + 0.36 + 0.25 = 0.66; / 4 = 0.165
    assert brier_score([1, 0, 0, 1], [0.9, 0.2, 0.6, 0.5]) == pytest.approx(0.165)
    assert brier_score([0, 1], [0.0, 1.0]) == 0.0


def test_ece_and_table_hand():
    # uniform, 10 bins: 0.05, 0.05 -> bin 0 (mean .05, obs 0/2);  0.95, 0.85 -> bins 9 and 8.
    # bin 0: |0 - .05| = .05 (w .5); bin 8: obs 1 vs .85 -> .15 (w .25); bin 9: obs 0 vs .95 (w .25)
    # ECE = .5*.05 + .25*.15 + .25*.95 = .025 + .0375 + .2375 = .3
    y, p = [0, 0, 1, 0], [0.05, 0.05, 0.85, 0.95]
    t = reliability_table(y, p)
    assert t["bin"].tolist() == [0, 8, 9]
    assert t["n"].tolist() == [2, 1, 1]
    assert t["observed_rate"].tolist() == [0.0, 1.0, 0.0]
    assert expected_calibration_error(y, p) == pytest.approx(0.3)
    # bin edges: 0.1 belongs to the second bin, 1.0 to the last
    t2 = reliability_table([0, 1], [0.1, 1.0])
    assert t2["bin"].tolist() == [1, 9]


def test_wilson_known_value():
    # 8 of 10, z = 1.95996: centre (8 + 1.9207)/13.8415 = .71674, half = .2207 -> (.4902, .9433)
    lo, hi = wilson_interval(8, 10)
    assert float(lo) == pytest.approx(0.4902, abs=1e-4)
    assert float(hi) == pytest.approx(0.9433, abs=1e-4)
    lo0, hi0 = wilson_interval(0, 5)
    assert float(lo0) == 0.0 and 0 < float(hi0) < 0.5


def test_calibrated_data(calibrated):
    y, p = calibrated
    for strategy in ("uniform", "quantile"):
        assert expected_calibration_error(y, p, strategy=strategy) < 0.05
    # E[(p - y)^2 | p] = p (1 - p)
    assert brier_score(y, p) == pytest.approx(np.mean(p * (1 - p)), abs=0.01)
    t = reliability_table(y, p, strategy="quantile")
    inside = (t["ci_low"] <= t["mean_predicted"]) & (t["mean_predicted"] <= t["ci_high"])
    assert inside.sum() >= 8  # 95 % intervals: expect ~9.5 of 10 to cover


def test_overconfident_and_temperature(calibrated):
    y, p = calibrated
    q = expit(3 * logit(p))  # over-confident: logits tripled
    assert expected_calibration_error(y, q) > expected_calibration_error(y, p) + 0.05
    t = fit_temperature(y, q)
    assert t == pytest.approx(3.0, rel=0.10)
    repaired = apply_temperature(q, t)
    assert expected_calibration_error(y, repaired) < 0.05
    np.testing.assert_array_equal(np.argsort(repaired, kind="stable"), np.argsort(q, kind="stable"))
    assert fit_temperature(y, p) == pytest.approx(1.0, rel=0.10)


def test_quantile_bins_equal_counts(calibrated):
    y, p = calibrated
    t = reliability_table(y, p, n_bins=10, strategy="quantile")
    assert t["n"].tolist() == [500] * 10
    assert (np.diff(t["mean_predicted"]) > 0).all()
    t7 = reliability_table(y[:103], p[:103], n_bins=7, strategy="quantile")
    assert t7["n"].max() - t7["n"].min() <= 1 and t7["n"].sum() == 103


def test_apply_temperature():
    p = np.array([0.0, 0.2, 0.5, 0.9, 1.0])
    out = apply_temperature(p, 1.0)
    np.testing.assert_allclose(out, np.clip(p, 1e-7, 1 - 1e-7))
    # T = 2 halves the logit: logit(0.9) = ln 9 -> ln 3 -> 0.75
    assert apply_temperature([0.9], 2.0)[0] == pytest.approx(0.75)
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="T must be"):
            apply_temperature(p, bad)


def test_input_errors():
    with pytest.raises(ValueError, match="NaN"):
        brier_score([0, 1], [0.2, math.nan])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        expected_calibration_error([0, 1], [0.2, 1.5])
    with pytest.raises(ValueError, match="strategy"):
        reliability_table([0, 1], [0.2, 0.4], strategy="equal")
    with pytest.raises(ValueError, match="n_bins"):
        reliability_table([0, 1], [0.2, 0.4], n_bins=0)
    with pytest.raises(ValueError, match="labels_val"):
        fit_temperature([1, 1, 1], [0.2, 0.4, 0.9])
    with pytest.raises(ValueError, match="probs_val"):
        fit_temperature([0, 1], [0.2, math.nan])


def test_temperature_bound_warning():
    # perfectly separated classes: log-loss keeps falling as T -> 0
    with pytest.warns(RuntimeWarning, match="bound"):
        fit_temperature([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])


def _errorbars(ax) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, points (n, 2), vertical bars (n, 2): low, high) of each errorbar on ``ax``."""
    from matplotlib.container import ErrorbarContainer

    out = []
    for c in ax.containers:
        if isinstance(c, ErrorbarContainer):
            data_line, _, (bars,) = c.lines
            segments = np.array([seg[:, 1] for seg in bars.get_segments()])
            out.append((c.get_label(), np.asarray(data_line.get_xydata()), segments))
    return out


def test_plot_reliability_agg(calibrated):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y, p = calibrated
    tables = {"calibrated": reliability_table(y, p, strategy="quantile"),
              "over-confident": reliability_table(y, expit(3 * logit(p)))}
    fig, ax = plt.subplots()
    try:
        for label, table in tables.items():
            assert plot_reliability(ax, table, label=label) is ax
        # the diagonal (perfect calibration) once, from (0, 0) to (1, 1), though two tables share ax
        diagonals = [ln for ln in ax.get_lines() if ln.get_gid() == "reliability-diagonal"]
        assert len(diagonals) == 1
        np.testing.assert_array_equal(diagonals[0].get_xydata(), [[0, 0], [1, 1]])
        # one point per bin with data, at (mean predicted, observed rate), its Wilson CI as a bar
        drawn = _errorbars(ax)
        assert [label for label, _, _ in drawn] == list(tables)
        for (_, points, bars), table in zip(drawn, tables.values(), strict=True):
            assert len(points) == len(table) == int((table["n"] > 0).sum()) > 0
            np.testing.assert_allclose(points, table[["mean_predicted", "observed_rate"]])
            np.testing.assert_allclose(bars, table[["ci_low", "ci_high"]])
        assert len(drawn[0][1]) == 10  # quantile bins of 5000 probabilities: all ten hold data
        assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (0.0, 1.0)
        assert ax.get_xlabel() == "Mean predicted probability"
        assert ax.get_ylabel() == "Observed positive rate"
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == ["perfect calibration", "calibrated", "over-confident"]
        fig.canvas.draw()
        with pytest.raises(ValueError, match="columns"):
            plot_reliability(ax, reliability_table(y, p).drop(columns="ci_low"))
    finally:
        plt.close(fig)


def test_plot_reliability_tolerates_bounds_that_miss_the_rate_by_rounding() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    table = pd.DataFrame({"mean_predicted": [0.1, 0.5], "observed_rate": [0.2, 0.5],
                          "ci_low": [0.2000000001, 0.4], "ci_high": [0.3, 0.4999999999]})
    fig, ax = plt.subplots()
    try:
        plot_reliability(ax, table)
        ((_, points, bars),) = _errorbars(ax)
        np.testing.assert_allclose(points, [[0.1, 0.2], [0.5, 0.5]])
        # the bound beyond the rate is clipped to the rate (a bar of length 0), never inverted
        np.testing.assert_allclose(bars, [[0.2, 0.3], [0.4, 0.5]])
        assert (bars[:, 1] >= bars[:, 0]).all()
        assert ax.get_legend() is None  # no label, no legend
    finally:
        plt.close(fig)
