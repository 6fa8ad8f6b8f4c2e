"""Part II statistics (helpers.stats.ratios): OR-Hillis rates, weighted AUC, AUC ratios and their difference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.stats import ratios as xray
from helpers.stats.delong import fast_delong


def _scores(rng, y, shift, noise=1.0):
    return rng.normal(size=y.size) * noise + shift * y


def test_weighted_auc_matches_delong_and_counts_weights():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(40), np.ones(30)].astype(int)
    s = np.round(_scores(rng, y, 1.0), 1)  # ties on purpose
    assert xray.weighted_auc(y, s)[0] == pytest.approx(fast_delong(y, s)[0], abs=1e-12)
    w = np.ones(y.size)
    w[5] = 3.0  # weight 3 = the image three times
    dup = np.r_[np.arange(y.size), 5, 5]
    assert xray.weighted_auc(y, s, w[None])[0] == pytest.approx(
        fast_delong(y[dup], s[dup])[0], abs=1e-12)


def test_or_hillis_rate_one_seed_is_binomial_and_seeds_add_variance():
    hits = np.r_[np.ones(80), np.zeros(20)][None, :]
    one = xray.or_hillis_rate(hits)
    assert one["rate"] == 0.8 and one["se"] == pytest.approx(math.sqrt(0.8 * 0.2 / 100))
    rng = np.random.default_rng(1)
    same = np.repeat(hits, 3, axis=0)  # three identical seeds: no seed variance
    assert xray.or_hillis_rate(same)["se"] == pytest.approx(math.sqrt(0.8 * 0.2 / 99), rel=1e-9)
    varied = (rng.random((3, 100)) < np.array([[0.6], [0.8], [0.95]])).astype(int)
    res = xray.or_hillis_rate(varied)
    assert res["ci_low"] < res["rate"] < res["ci_high"] and res["df"] < 100


def test_or_hillis_rate_uses_the_hillis_single_test_of_mrmc():
    from helpers.stats.mrmc import hillis_single

    rng = np.random.default_rng(2)
    hits = (rng.random((4, 120)) < np.array([[0.6], [0.7], [0.8], [0.9]])).astype(int)
    res = xray.or_hillis_rate(hits)
    se, df, ms_r, cov2 = hillis_single(hits.mean(axis=1), np.cov(hits, ddof=1) / 120)
    assert (res["se"], res["df"], res["ms_r"], res["cov2"]) == (se, df, ms_r, cov2)


def test_seed_rates_thresholds_per_seed():
    y = np.array([0, 0, 1, 1])
    p = np.array([[0.1, 0.6, 0.7, 0.9], [0.1, 0.6, 0.7, 0.9]])
    half = xray.seed_rates(y, p, 0.5)
    assert half["accuracy"]["rate"] == 0.75 and half["sensitivity"]["rate"] == 1.0
    tuned = xray.seed_rates(y, p, [0.65, 0.5])
    assert tuned["specificity"]["rate"] == 0.75


def test_auc_ratio_of_identical_resolutions_is_one():
    rng = np.random.default_rng(2)
    y = np.r_[np.zeros(60), np.ones(60)].astype(int)
    s = np.stack([_scores(rng, y, 1.5) for _ in range(3)])
    res = xray.auc_ratio(y, s, s, n_boot=200)
    assert res["ratio"] == pytest.approx(1.0) and res["sd"] == pytest.approx(0.0, abs=1e-12)
    worse = xray.auc_ratio(y, np.stack([_scores(rng, y, 0.3) for _ in range(3)]), s, n_boot=300)
    assert worse["ratio"] < 0.9 and 0 < worse["sd_images"] < 0.1 and worse["sd_seeds"] > 0


def test_ratio_difference_detects_a_finding_that_needs_resolution():
    rng = np.random.default_rng(3)
    ids = np.array([f"im{i:03d}" for i in range(300)])
    y = (np.arange(300) % 2).astype(int)
    hi = np.stack([_scores(rng, y, 2.0) for _ in range(3)])
    easy = (ids, y, np.stack([_scores(rng, y, 2.0) for _ in range(3)]), hi)
    sub = slice(0, 200)  # the second finding's images are a subset, like bacterial vs viral
    hard = (ids[sub], y[sub], np.stack([_scores(rng, y[sub], 0.2) for _ in range(3)]), hi[:, sub])
    res = xray.ratio_difference({"easy": easy, "hard": hard}, n_boot=400)
    assert res["diff"] < -0.2 and res["p"] < 0.001 and res["names"] == ["easy", "hard"]
    null = xray.ratio_difference({"a": easy, "b": easy}, n_boot=200)
    assert null["diff"] == 0.0 and null["p"] == 1.0
    with pytest.raises(ValueError, match="exactly two"):
        xray.ratio_difference({"a": easy}, n_boot=10)
