"""Tests for helpers.stats.delong: DeLong AUC, variance, covariance, paired test, CIs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from helpers.stats import delong as stats


def _psi(x: float, y: float) -> float:
    """Mann–Whitney kernel: 1 if the positive scores higher, ½ on a tie."""
    return 1.0 if x > y else (0.5 if x == y else 0.0)


def _slow_delong(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """O(k·m·n) reference: DeLong 1988 structural components from all positive/negative pairs."""
    scores = np.atleast_2d(scores)
    pos_idx = np.flatnonzero(labels == 1)
    neg_idx = np.flatnonzero(labels == 0)
    m, n = len(pos_idx), len(neg_idx)
    k = scores.shape[0]
    v10 = np.zeros((k, m))
    v01 = np.zeros((k, n))
    for r in range(k):
        for a, i in enumerate(pos_idx):
            for b, j in enumerate(neg_idx):
                p = _psi(scores[r, i], scores[r, j])
                v10[r, a] += p / n
                v01[r, b] += p / m
    aucs = v10.mean(axis=1)
    d10 = v10 - aucs[:, None]
    d01 = v01 - aucs[:, None]
    cov = d10 @ d10.T / ((m - 1) * m) + d01 @ d01.T / ((n - 1) * n)
    return aucs, cov


def _random_data(rng: np.random.Generator, size: int, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, 2, size=size)
    labels[:2], labels[2:4] = 1, 0  # at least two of each class
    # few distinct values -> many ties, within and across classes
    scores = np.round(rng.normal(size=(k, size)) + 0.8 * labels, 1)
    return labels, scores


def test_midrank_averages_ties() -> None:
    np.testing.assert_allclose(stats.midrank([3.0, 1.0, 3.0, 2.0, 3.0]), [4.0, 1.0, 4.0, 2.0, 4.0])


def test_auc_equals_brute_force_mann_whitney_with_ties() -> None:
    rng = np.random.default_rng(0)
    for size in (10, 37, 120):
        labels, scores = _random_data(rng, size)
        pos, neg = scores[0, labels == 1], scores[0, labels == 0]
        brute = np.mean([_psi(x, y) for x in pos for y in neg])
        auc, _ = stats.fast_delong(labels, scores[0])
        assert auc == pytest.approx(brute, abs=1e-12)
        assert auc == pytest.approx(roc_auc_score(labels, scores[0]), abs=1e-12)


def test_variance_hand_checked_3x3() -> None:
    # Positives X = (0.9, 0.6, 0.4), negatives Y = (0.7, 0.4, 0.1).
    # psi(X_i, Y_j) table (rows X, cols Y):  0.9: 1 1 1 | 0.6: 0 1 1 | 0.4: 0 ½ 1
    # V10 = row means = (1, 2/3, 1/2);  AUC = (1 + 2/3 + 1/2) / 3 = 13/18
    # V01 = col means = (1/3, 5/6, 1)   (mean also 13/18)
    # S10 = [(5/18)^2 + (-1/18)^2 + (-4/18)^2] / 2 = (25 + 1 + 16) / 324 / 2 = 7/108
    # S01 = [(-7/18)^2 + (2/18)^2 + (5/18)^2] / 2 = (49 + 4 + 25) / 324 / 2 = 13/108
    # Var = S10/3 + S01/3 = (7/108 + 13/108) / 3 = 20/324 = 5/81
    labels = np.array([1, 1, 1, 0, 0, 0])
    scores = np.array([0.9, 0.6, 0.4, 0.7, 0.4, 0.1])
    auc, var = stats.fast_delong(labels, scores)
    assert auc == pytest.approx(13 / 18, abs=1e-12)
    assert var == pytest.approx(5 / 81, abs=1e-12)
    # order of the images must not matter
    perm = np.array([3, 0, 5, 1, 4, 2])
    assert stats.fast_delong(labels[perm], scores[perm]) == pytest.approx((13 / 18, 5 / 81))


def test_covariance_matches_slow_reference() -> None:
    rng = np.random.default_rng(1)
    for size, k in ((12, 1), (40, 3), (90, 2)):
        labels, scores = _random_data(rng, size, k)
        aucs, cov = stats.delong_covariance(labels, scores)
        ref_aucs, ref_cov = _slow_delong(labels, scores)
        np.testing.assert_allclose(aucs, ref_aucs, atol=1e-12)
        np.testing.assert_allclose(cov, ref_cov, atol=1e-12)
        assert cov.shape == (k, k)


def test_paired_test_identical_scores() -> None:
    rng = np.random.default_rng(2)
    labels, scores = _random_data(rng, 50)
    res = stats.delong_paired_test(labels, scores[0], scores[0])
    assert res["diff"] == 0 and res["z"] == 0 and res["p"] == 1


def test_paired_test_matches_slow_reference_and_detects_difference() -> None:
    rng = np.random.default_rng(3)
    labels = np.repeat([0, 1], 150)
    good = labels * 1.5 + rng.normal(size=300)
    bad = labels * 0.2 + rng.normal(size=300)
    res = stats.delong_paired_test(labels, good, bad)
    aucs, cov = _slow_delong(labels, np.vstack([good, bad]))
    se = math.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    assert res["auc_a"] == pytest.approx(aucs[0]) and res["auc_b"] == pytest.approx(aucs[1])
    assert res["se"] == pytest.approx(se) and res["z"] == pytest.approx((aucs[0] - aucs[1]) / se)
    assert res["p"] < 1e-6
    swapped = stats.delong_paired_test(labels, bad, good)
    assert swapped["z"] == pytest.approx(-res["z"]) and swapped["p"] == pytest.approx(res["p"])


def test_paired_auc_test_is_the_z_test_of_delong_paired_test() -> None:
    """delong_paired_test = delong_covariance + paired_auc_test, to the bit."""
    rng = np.random.default_rng(4)
    labels, scores = _random_data(rng, 60, 2)
    aucs, cov = stats.delong_covariance(labels, scores)
    assert stats.paired_auc_test(aucs, cov) == stats.delong_paired_test(labels, *scores)
    # zero standard error: no difference, or a certain one
    zero = np.zeros((2, 2))
    assert stats.paired_auc_test([0.7, 0.7], zero) == {
        "auc_a": 0.7, "auc_b": 0.7, "diff": 0.0, "se": 0.0, "z": 0.0, "p": 1.0}
    certain = stats.paired_auc_test([0.6, 0.8], zero)
    assert certain["z"] == -math.inf and certain["p"] == 0.0


def test_delong_ci_and_bad_input() -> None:
    lo, hi = stats.delong_ci(0.8, 0.0025)
    assert (lo, hi) == pytest.approx((0.8 - 1.959964 * 0.05, 0.8 + 1.959964 * 0.05), abs=1e-6)
    assert stats.delong_ci(0.99, 0.01)[1] == 1.0
    with pytest.raises(ValueError, match="at least 2 positives"):
        stats.fast_delong([1, 0, 0], [0.3, 0.2, 0.1])
    with pytest.raises(ValueError, match="0/1"):
        stats.fast_delong([2, 0, 2, 0], [0.3, 0.2, 0.1, 0.0])
    with pytest.raises(ValueError, match="same images"):
        stats.fast_delong([1, 0, 1, 0], [0.3, 0.2, 0.1])


def test_mean_ci() -> None:
    mean, lo, hi = stats.mean_ci([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t(0.975, df=2) * sd / sqrt(n)
    assert (mean, lo, hi) == pytest.approx((2.0, 2.0 - half, 2.0 + half))
    one = stats.mean_ci([0.7])
    assert one[0] == 0.7 and math.isnan(one[1]) and math.isnan(one[2])
    with pytest.raises(ValueError):
        stats.mean_ci([])


def test_holm_adjust() -> None:
    # sorted p = (0.01, 0.02, 0.04) -> (3*0.01, max(0.03, 2*0.02), max(0.04, 1*0.04)) = (.03, .04, .04)
    adj = stats.holm_adjust([0.04, 0.01, math.nan, 0.02])
    np.testing.assert_allclose(adj[[0, 1, 3]], [0.04, 0.03, 0.04])
    assert math.isnan(adj[2])
    assert stats.holm_adjust([0.6, 0.9]).tolist() == [1.0, 1.0]
