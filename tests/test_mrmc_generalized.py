"""The generalized p-value companion of the OR–Hillis test (issue 25): its two exact limits,
its integral, and the inputs it refuses."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from helpers.stats.mrmc_generalized import generalized_p


def test_without_image_covariance_it_is_the_f_test_on_the_seeds() -> None:
    # b = Cov2 - Cov3 = 0: p = P(chi2_1 / (W / (r-1)) >= F) = the F(1, r-1) tail
    for r in (2, 3, 5):
        ms_t, ms_tr = 0.004, 0.0005
        p = float(generalized_p(ms_t, ms_tr, 0.0002, 0.0002, r, nodes=20_000))
        assert p == pytest.approx(stats.f.sf(ms_t / ms_tr, 1, r - 1), abs=5e-4)


def test_without_seed_interaction_it_is_the_fixed_seed_chi2_test() -> None:
    ms_t, b, r = 0.003, 0.0004, 3
    p = float(generalized_p(ms_t, 0.0, 0.0009, 0.0009 - b, r))
    assert p == pytest.approx(stats.chi2.sf(ms_t / (r * b), 1), rel=1e-9)


def test_matches_the_integral_over_the_fiducial_seed_variance() -> None:
    ms_t, ms_tr, cov2, cov3, r = 0.002, 0.0003, 0.0007, 0.0005, 3

    def integrand(w: float) -> float:
        lam = (r - 1) * ms_tr / w
        return stats.chi2.sf(ms_t / (lam + r * (cov2 - cov3)), 1) * stats.chi2.pdf(w, r - 1)

    exact, _ = integrate.quad(integrand, 0, np.inf, limit=200)
    assert float(generalized_p(ms_t, ms_tr, cov2, cov3, r)) == pytest.approx(exact, abs=1e-3)


def test_is_never_below_the_published_test_when_seeds_disagree_little() -> None:
    """With MS(T×R) small against r·b, Hillis' ddf is large and his p near the χ²₁ one; the
    generalized p integrates over how large the seed interaction could be: it is larger."""
    from helpers.stats.mrmc import or_hillis_f

    theta = np.array([[0.80, 0.81, 0.79], [0.77, 0.78, 0.765]])
    var, cov1, cov2, cov3 = 0.0009, 0.0006, 0.0008, 0.0005
    h = or_hillis_f(theta, var, cov1, cov2, cov3)
    g = generalized_p(h["ms_t"], h["ms_tr"], cov2, cov3, 3)
    assert float(g) > float(h["p"])


def test_vectorised_and_refuses_bad_input() -> None:
    p = generalized_p(np.array([0.0, 0.001, 0.01]), np.array([0.0004] * 3), 0.0006, 0.0004, 3)
    assert p.shape == (3,) and p[0] == pytest.approx(1.0) and p[0] > p[1] > p[2] > 0
    assert float(generalized_p(0.0, 0.0, 0.0005, 0.0005, 3)) == pytest.approx(1.0)
    assert np.isnan(generalized_p(np.nan, 0.0004, 0.0006, 0.0004, 3))  # a failed fit stays NaN
    assert np.isnan(generalized_p(0.001, 0.0004, np.nan, 0.0004, 3))
    with pytest.raises(ValueError, match="n_seeds must be >= 2"):
        generalized_p(0.01, 0.001, 0.0006, 0.0004, 1)
    with pytest.raises(ValueError, match="mean squares must be >= 0"):
        generalized_p(-0.01, 0.001, 0.0006, 0.0004, 3)
