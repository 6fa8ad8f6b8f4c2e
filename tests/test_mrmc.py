"""Tests for helpers.stats.mrmc: Obuchowski–Rockette–Hillis analysis with seeds as readers (results chapter).

The worked example uses the Van Dyke et al. (1993) reader study (tests/data/vandyke.csv: 114 cases,
5 readers, 2 modalities). Source of the ratings: the ``VanDyke`` data of the R package MRMCaov
(https://github.com/brian-j-smith/MRMCaov, GPL-3), as exported to CSV in
https://github.com/PeePeeJay/BayBacMRMC (data/vandyke.csv); same data as RJafroc ``dataset02``.
Published reference numbers: Smith & Hillis, "MRMCaov: Multi-Reader Multi-Case ANOVA Software for
R" (MRMCaov repository, docs/jss/MRMCaov.tex), ``summary(mrmc(empirical_auc(truth, rating),
treatment, reader, case, data = VanDyke, cov = DeLong))`` and the jackknife variance components
of the same data (fixed-reader run, which prints them), which give the RJafroc / OR-DBM MRMC
jackknife result F = 4.456, ddf = 15.26, p = 0.0517.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from helpers.stats.delong import delong_ci, delong_paired_test, fast_delong, paired_auc_test
from helpers.stats.mrmc import auc_covariance, hillis_single, or_hillis_compare, or_hillis_single

VANDYKE = Path(__file__).parent / "data" / "vandyke.csv"


@pytest.fixture(scope="module")
def vandyke() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = pd.read_csv(VANDYKE, comment="#")
    y = d["truth"].to_numpy()
    t1 = np.vstack([d[f"r{j}_t1"].to_numpy(float) for j in range(1, 6)])
    t2 = np.vstack([d[f"r{j}_t2"].to_numpy(float) for j in range(1, 6)])
    return y, t1, t2


def _toy(rng: np.random.Generator, r: int, n_pos: int = 40, n_neg: int = 60):
    y = np.r_[np.ones(n_pos, int), np.zeros(n_neg, int)]
    a = y[None, :] * 1.0 + rng.normal(size=(r, y.size))
    b = y[None, :] * 0.8 + rng.normal(size=(r, y.size))
    return y, a, b


# --- one seed: exact reduction to DeLong ------------------------------------------------------


def test_one_seed_compare_is_paired_delong() -> None:
    y, a, b = _toy(np.random.default_rng(1), r=1)
    got = or_hillis_compare(y, a, b)
    ref = delong_paired_test(y, a[0], b[0])
    for key in ("auc_a", "auc_b", "diff", "se", "z", "p"):
        assert got[key] == ref[key], key
    assert got["F"] == pytest.approx(ref["z"] ** 2, rel=1e-12)
    assert math.isinf(got["ddf"]) and got["n_seeds"] == 1
    assert got["method"] == "DeLong (one seed)"
    q = st.norm.ppf(0.975)
    assert got["ci_low"] == pytest.approx(ref["diff"] - q * ref["se"], abs=1e-15)
    assert got["ci_high"] == pytest.approx(ref["diff"] + q * ref["se"], abs=1e-15)
    # 1-D input (one model per configuration) is accepted as one seed
    assert or_hillis_compare(y, a[0], b[0])["p"] == ref["p"]


def test_one_seed_jackknife_compare_is_the_z_test_on_the_jackknife_covariance() -> None:
    y, a, b = _toy(np.random.default_rng(11), r=1)
    got = or_hillis_compare(y, a, b, cov="jackknife")
    ref = paired_auc_test(*auc_covariance(y, np.vstack([a, b]), cov="jackknife"))
    assert {k: got[k] for k in ref} == ref
    assert got["t"] == ref["z"] and got["F"] == ref["z"] ** 2
    assert got["method"] == "jackknife (one seed)" and math.isnan(got["denominator"])
    # the one-seed result lists the z-test's keys first, then the OR keys (as it always did)
    assert list(got)[:8] == ["auc_a", "auc_b", "diff", "se", "z", "p", "t", "F"]
    assert "z" not in or_hillis_compare(*_toy(np.random.default_rng(12), r=2))


def test_hillis_single_is_the_interval_of_or_hillis_single() -> None:
    y, a, _ = _toy(np.random.default_rng(13), r=4)
    aucs, c = auc_covariance(y, a)
    se, df, ms_r, cov2 = hillis_single(aucs, c)
    got = or_hillis_single(y, a)
    assert (got["se"], got["df"], got["ms_r"], got["cov2"]) == (se, df, ms_r, cov2)
    assert se**2 == pytest.approx(ms_r / 4 + max(cov2, 0.0), rel=1e-12)
    assert hillis_single([0.5, 0.5, 0.5], np.full((3, 3), 1e-4))[1] == math.inf  # MS(R) = 0
    with pytest.raises(ValueError, match="r >= 2"):
        hillis_single([0.7], np.ones((1, 1)))


def test_one_seed_single_is_delong_ci() -> None:
    y, a, _ = _toy(np.random.default_rng(2), r=1)
    got = or_hillis_single(y, a)
    auc, var = fast_delong(y, a[0])
    assert got["auc"] == auc
    assert got["se"] == pytest.approx(math.sqrt(var), rel=1e-15)
    assert math.isinf(got["df"]) and got["n_seeds"] == 1
    lo, hi = delong_ci(auc, var)
    assert not got["clipped"]
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((lo, hi), abs=1e-15)


def test_ci_clipping_is_flagged() -> None:
    y = np.r_[np.ones(5, int), np.zeros(5, int)]
    s = np.r_[np.linspace(0.6, 1.0, 5), np.linspace(0.0, 0.65, 5)]  # one overlap: AUC = 0.96
    got = or_hillis_single(y, s)
    assert got["clipped"] and got["ci_high"] == 1.0 and got["ci_low"] < got["auc"]
    assert not or_hillis_single(*_toy(np.random.default_rng(3), r=3)[:2])["clipped"]


# --- input checks -----------------------------------------------------------------------------


def test_unequal_or_misaligned_seeds_raise() -> None:
    y, a, b = _toy(np.random.default_rng(4), r=3)
    with pytest.raises(ValueError, match="same seeds"):
        or_hillis_compare(y, a, b[:2])
    with pytest.raises(ValueError, match="same test images"):
        or_hillis_compare(y, a, b[:, :-1])
    with pytest.raises(ValueError, match="cov must be"):
        or_hillis_compare(y, a, b, cov="bootstrap")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="level"):
        or_hillis_single(y, a, level=95)


# --- algebra -----------------------------------------------------------------------------------


def test_jackknife_matches_brute_force_leave_one_out() -> None:
    y, a, b = _toy(np.random.default_rng(5), r=2, n_pos=12, n_neg=15)
    a[0, :4] = a[0, 4:8]  # ties across classes
    s = np.vstack([a, b])
    aucs, cov = auc_covariance(y, s, cov="jackknife")
    n = y.size
    loo = np.array([auc_covariance(np.delete(y, k), np.delete(s, k, axis=1))[0] for k in range(n)])
    c = loo - loo.mean(axis=0)
    np.testing.assert_allclose(cov, (n - 1) / n * c.T @ c, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(aucs, auc_covariance(y, s)[0], rtol=0, atol=0)


def test_compare_internal_consistency() -> None:
    y, a, b = _toy(np.random.default_rng(6), r=4)
    res = or_hillis_compare(y, a, b)
    assert res["F"] == pytest.approx(res["t"] ** 2, rel=1e-12)
    assert res["p"] == pytest.approx(2 * st.t.sf(abs(res["t"]), res["ddf"]), rel=1e-10)
    q = st.t.ppf(0.975, res["ddf"])
    assert res["ci_high"] - res["diff"] == pytest.approx(q * res["se"], rel=1e-12)
    swapped = or_hillis_compare(y, b, a)
    assert swapped["diff"] == pytest.approx(-res["diff"], abs=1e-15)
    assert swapped["p"] == pytest.approx(res["p"], rel=1e-12)
    assert swapped["ddf"] == pytest.approx(res["ddf"], rel=1e-12)


# --- worked example: Van Dyke et al. (1993), published OR-Hillis results -----------------------


def test_vandyke_reader_aucs(vandyke) -> None:
    y, t1, t2 = vandyke
    assert y.size == 114 and int(y.sum()) == 45
    aucs, _ = auc_covariance(y, np.vstack([t1, t2]))
    published = [0.9196457, 0.8587762, 0.9038647, 0.9731079, 0.8297907,
                 0.9478261, 0.9053140, 0.9217391, 0.9993559, 0.9299517]  # fmt: skip
    np.testing.assert_allclose(aucs, published, atol=5e-8)


def test_vandyke_delong_matches_mrmcaov(vandyke) -> None:
    y, t1, t2 = vandyke
    res = or_hillis_compare(y, t1, t2, cov="delong")
    expected = {
        "auc_a": 0.8970370,
        "auc_b": 0.9408374,
        "diff": -0.04380032,
        "se": 0.0206825,
        "var": 0.0007921325,
        "cov1": 0.0003420090,
        "cov2": 0.0003395265,
        "cov3": 0.0002358497,
        "ms_t": 0.004796171,
        "ms_tr": 0.0005510306,
        "denominator": 0.001069415,
        "F": 4.484854,
        "ddf": 15.06611,
        "p": 0.05123303,
        "ci_low": -0.0878671960,
        "ci_high": 0.0002665519,
    }
    for key, value in expected.items():
        assert res[key] == pytest.approx(value, rel=2e-6, abs=1e-9), key
    for scores, auc, se, df, lo, hi in (
        (t1, 0.8970370, 0.03307642, 12.59597, 0.8253461, 0.9687280),
        (t2, 0.9408374, 0.02150464, 12.56530, 0.8942155, 0.9874592),
    ):
        single = or_hillis_single(y, scores, cov="delong")
        got = (single["auc"], single["se"], single["df"], single["ci_low"], single["ci_high"])
        assert got == pytest.approx((auc, se, df, lo, hi), rel=2e-6)
        assert not single["clipped"]


def test_vandyke_jackknife_matches_published(vandyke) -> None:
    y, t1, t2 = vandyke
    res = or_hillis_compare(y, t1, t2, cov="jackknife")
    # jackknife variance components as printed by MRMCaov for the same data
    assert res["var"] == pytest.approx(0.0008022883, rel=5e-7)
    assert res["cov1"] == pytest.approx(0.0003466137, rel=5e-7)
    assert res["cov2"] == pytest.approx(0.0003440748, rel=5e-7)
    assert res["cov3"] == pytest.approx(0.0002390284, rel=5e-7)
    # OR-Hillis RRRC result (RJafroc / OR-DBM MRMC): F = 4.456, ddf = 15.26, p = 0.0517
    assert res["F"] == pytest.approx(4.4563, abs=5e-4)
    assert res["ddf"] == pytest.approx(15.26, abs=5e-3)
    assert res["p"] == pytest.approx(0.0517, abs=5e-5)
    assert res["ci_low"] < 0 < res["ci_high"]  # p > 0.05, so the 95% CI covers 0
    single = or_hillis_single(y, t1, cov="jackknife")
    assert single["cov2"] == pytest.approx(0.0004839618, rel=5e-7)


# --- simulation: size under a true null, power, and why seed variance matters -------------------


def _simulate(
    rng: np.random.Generator,
    n_sims: int,
    delta: float,
    r: int = 3,
    n_pos: int = 150,
    n_neg: int = 150,
) -> tuple[float, float]:
    """Rejection rates (alpha = 0.05) of OR-Hillis and of the ensemble DeLong test.

    Score of image k under configuration i, seed j:
    (1.2 + delta_i + R_j + S_ij) * y_k + C_k + G_jk + E_ijk, with R_j ~ N(0, 0.15²) (seed effect shared
    by both configurations), S_ij ~ N(0, 0.25²) (configuration x seed), C_k ~ N(0, 1) (image),
    G_jk ~ N(0, 0.5²) (image x seed, shared by configurations), E_ijk ~ N(0, 0.5²). With delta = 0
    the two configurations are exchangeable: the training procedures have equal expected AUC.
    Typical values: seed-mean AUC ≈ 0.75, SD of AUC across seeds ≈ 0.047, DeLong SE of one AUC ≈ 0.028
    (seed variance larger than image variance).
    """
    y = np.r_[np.ones(n_pos, int), np.zeros(n_neg, int)]
    n = y.size
    rej_or = rej_ens = 0
    for _ in range(n_sims):
        image = rng.normal(size=n)
        seed = rng.normal(0.0, 0.15, size=r)
        image_seed = rng.normal(0.0, 0.5, size=(r, n))
        a, b = (
            (1.2 + shift + seed + rng.normal(0.0, 0.25, size=r))[:, None] * y
            + image
            + image_seed
            + rng.normal(0.0, 0.5, size=(r, n))
            for shift in (0.0, delta)
        )
        rej_or += or_hillis_compare(y, a, b)["p"] < 0.05
        rej_ens += delong_paired_test(y, a.mean(axis=0), b.mean(axis=0))["p"] < 0.05
    return rej_or / n_sims, rej_ens / n_sims


@pytest.fixture(scope="module")
def null_rates() -> tuple[float, float]:
    return _simulate(np.random.default_rng(20261130), n_sims=400, delta=0.0)


def test_or_hillis_size_under_null(null_rates) -> None:
    # 400 data sets: binomial SE at the nominal 0.05 is sqrt(0.05*0.95/400) = 0.011, so the band
    # [0.02, 0.09] is about -2.7 to +3.7 SE around 0.05 (a little wider above, because OR-Hillis
    # with 3 readers can be mildly liberal or conservative depending on the variance components).
    rate_or, _ = null_rates
    assert 0.02 <= rate_or <= 0.09, rate_or


def test_ensemble_delong_over_rejects_when_seed_variance_is_large(null_rates) -> None:
    # Same null data sets: the ensemble DeLong test treats the 3 trained seeds as fixed, so it tests
    # "these two ensembles differ" and rejects the procedure-level null far too often (~0.6 here).
    rate_or, rate_ens = null_rates
    assert rate_ens > 0.25, rate_ens
    assert rate_ens > rate_or + 0.15


def test_or_hillis_power_exceeds_size(null_rates) -> None:
    power_or, _ = _simulate(np.random.default_rng(7), n_sims=200, delta=0.6)
    assert power_or > 0.2
    assert power_or > null_rates[0] + 0.1
