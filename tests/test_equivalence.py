"""Tests for helpers.stats.equivalence: TOST of |ΔAUC| < margin (results chapter, sameness claims).

Reference values are computed by hand: the normal p-values are Φ at round numbers, and for the
Student-t case df = 2 is used because its CDF and quantile have closed forms,
F(t) = 1/2 + t / (2 sqrt(2 + t²)) and t_p = (2p − 1) / sqrt(2 p (1 − p)).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from sklearn.metrics import roc_auc_score

from helpers.stats.delong import delong_paired_test
from helpers.stats.equivalence import (
    MARGIN_AUC,
    delong_tost,
    or_hillis_tost,
    tost,
    verdict_word,
)
from helpers.stats.mrmc import or_hillis_compare

VANDYKE = Path(__file__).parent / "data" / "vandyke.csv"


def _t2_cdf(t: float) -> float:
    return 0.5 + t / (2.0 * math.sqrt(2.0 + t * t))


def _t2_ppf(p: float) -> float:
    return (2.0 * p - 1.0) / math.sqrt(2.0 * p * (1.0 - p))


# --- tost: hand computations ------------------------------------------------------------------


def test_margin_is_declared_with_its_reasons() -> None:
    import helpers.stats.equivalence as eq

    assert MARGIN_AUC == 0.02
    assert "Schuirmann" in eq.__doc__ and "Walker" in eq.__doc__


def test_tost_normal_matches_hand_computation() -> None:
    # diff 0.005, se 0.01, margin 0.02: z_lower = 2.5, z_upper = -1.5
    got = tost(0.005, 0.01, 0.02)
    assert got["p_lower"] == pytest.approx(0.006209665325776132, rel=1e-12)  # Φ(-2.5)
    assert got["p_upper"] == pytest.approx(0.06680720126885807, rel=1e-12)  # Φ(-1.5)
    assert got["p"] == got["p_upper"]
    q = 1.6448536269514722  # Φ⁻¹(0.95)
    assert got["ci_low"] == pytest.approx(0.005 - q * 0.01, abs=1e-15)
    assert got["ci_high"] == pytest.approx(0.005 + q * 0.01, abs=1e-15)
    assert got["level"] == pytest.approx(0.90)
    assert got["equivalent"] is False and got["df"] is None
    # a smaller se puts the 90 % interval inside the margin
    tight = tost(0.005, 0.005, 0.02)
    assert tight["p_upper"] == pytest.approx(st.norm.cdf(-3.0), rel=1e-12)
    assert tight["equivalent"] is True


def test_tost_student_t_matches_closed_form_df2() -> None:
    # diff −0.004, se 0.005, margin 0.02, df 2: t_lower = 3.2, t_upper = −4.8
    got = tost(-0.004, 0.005, 0.02, df=2)
    assert got["p_lower"] == pytest.approx(1.0 - _t2_cdf(3.2), rel=1e-10)  # 0.0426...
    assert got["p_upper"] == pytest.approx(_t2_cdf(-4.8), rel=1e-10)  # 0.0203...
    assert got["p"] == pytest.approx(0.04267, abs=1e-5)
    q = _t2_ppf(0.95)  # 2.919986
    assert q == pytest.approx(2.919986, abs=1e-6)
    assert got["ci_low"] == pytest.approx(-0.004 - q * 0.005, rel=1e-10)
    assert got["ci_high"] == pytest.approx(-0.004 + q * 0.005, rel=1e-10)
    assert got["equivalent"] is True and got["df"] == 2.0
    # the t reference is wider than the normal: same numbers at alpha 0.04 are not equivalent
    assert tost(-0.004, 0.005, 0.02, df=2, alpha=0.04)["equivalent"] is False
    # df = inf is the normal reference
    inf = tost(-0.004, 0.005, 0.02, df=math.inf)
    norm = tost(-0.004, 0.005, 0.02)
    for key in ("p_lower", "p_upper", "p", "ci_low", "ci_high"):
        assert inf[key] == norm[key], key


def test_ci_inside_margin_iff_equivalent() -> None:
    rng = np.random.default_rng(7)
    n_eq = 0
    for _ in range(2000):
        diff = float(rng.uniform(-0.05, 0.05))
        se = float(rng.uniform(0.0005, 0.02))
        df = None if rng.random() < 0.5 else float(rng.uniform(1.0, 60.0))
        alpha = float(rng.choice([0.01, 0.05, 0.1]))
        got = tost(diff, se, MARGIN_AUC, df=df, alpha=alpha)
        inside = got["ci_low"] > -MARGIN_AUC and got["ci_high"] < MARGIN_AUC
        assert got["equivalent"] == inside, (diff, se, df, alpha)
        assert got["p"] == max(got["p_lower"], got["p_upper"])
        n_eq += inside
    assert 100 < n_eq < 1900  # both outcomes were exercised


def test_se_zero_is_deterministic() -> None:
    inside = tost(0.01, 0.0, 0.02)
    assert inside["equivalent"] is True
    assert inside["p_lower"] == 0.0 and inside["p_upper"] == 0.0 and inside["p"] == 0.0
    assert inside["ci_low"] == inside["ci_high"] == 0.01
    outside = tost(-0.03, 0.0, 0.02, df=4)
    assert outside["equivalent"] is False and outside["p_lower"] == 1.0 and outside["p"] == 1.0
    for edge in (0.02, -0.02):  # on the boundary: H0 holds, not equivalent
        got = tost(edge, 0.0, 0.02)
        assert got["p"] == 0.5 and got["equivalent"] is False
    assert tost(0.0, 0.0, 0.02, df=3)["equivalent"] is True


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"margin": 0.0}, "margin must be finite and > 0"),
        ({"margin": -0.02}, "margin must be finite and > 0"),
        ({"margin": math.nan}, "margin must be finite and > 0"),
        ({"se": -0.01}, "se must be finite and >= 0"),
        ({"se": math.inf}, "se must be finite and >= 0"),
        ({"se": math.nan}, "se must be finite and >= 0"),
        ({"se": "big"}, "se must be a number"),
        ({"alpha": 0.0}, r"alpha must be in \(0, 0.5\)"),
        ({"alpha": 0.5}, r"alpha must be in \(0, 0.5\)"),
        ({"alpha": 0.95}, r"alpha must be in \(0, 0.5\)"),
        ({"diff": math.nan}, "diff must be finite"),
        ({"df": 0.0}, "df must be None"),
    ],
)
def test_tost_validates_inputs(kwargs: dict, message: str) -> None:
    args = {"diff": 0.0, "se": 0.01, "margin": 0.02, **kwargs}
    with pytest.raises(ValueError, match=message):
        tost(**args)


def test_tost_accepts_numpy_scalars() -> None:
    got = tost(np.float32(0.005), np.float64(0.01), np.float64(0.02), df=np.int64(10))
    ref = tost(float(np.float32(0.005)), 0.01, 0.02, df=10)
    assert got == ref


# --- verdict_word -----------------------------------------------------------------------------


def test_verdict_word_four_outcomes_and_precedence() -> None:
    eq = tost(0.001, 0.005, 0.02)
    wide = tost(0.001, 0.05, 0.02)
    assert eq["equivalent"] and not wide["equivalent"]
    assert verdict_word(0.001, 0.8, eq) == "equivalent"
    assert verdict_word(0.001, 0.8, wide) == "inconclusive"
    big = tost(0.08, 0.01, 0.02)
    assert verdict_word(0.08, 1e-9, big) == "higher"
    assert verdict_word(-0.08, 1e-9, tost(-0.08, 0.01, 0.02)) == "lower"
    # precedence: a significant difference inside the margin is "higher", not "equivalent"
    small = tost(0.01, 0.002, 0.02)
    p_diff = float(2 * st.norm.sf(0.01 / 0.002))
    assert small["equivalent"] and p_diff < 0.05
    assert verdict_word(0.01, p_diff, small) == "higher"
    assert verdict_word(-0.01, p_diff, tost(-0.01, 0.002, 0.02)) == "lower"
    # the threshold is p < alpha, at the caller's alpha
    assert verdict_word(0.03, 0.05, wide) == "inconclusive"
    assert verdict_word(0.03, 0.05, wide, alpha=0.1) == "higher"
    # se = 0: a deterministic difference outside the margin is a difference
    assert verdict_word(0.05, 0.0, tost(0.05, 0.0, 0.02)) == "higher"
    assert verdict_word(0.0, 1.0, tost(0.0, 0.0, 0.02)) == "equivalent"


def test_verdict_word_validates() -> None:
    eq = tost(0.0, 0.005, 0.02)
    with pytest.raises(ValueError, match="p_difference must be in"):
        verdict_word(0.0, 1.5, eq)
    with pytest.raises(ValueError, match="p_difference must be in"):
        verdict_word(0.0, math.nan, eq)
    with pytest.raises(ValueError, match="tost_result"):
        verdict_word(0.0, 0.5, {"p": 0.01})
    with pytest.raises(ValueError, match="alpha"):
        verdict_word(0.0, 0.5, eq, alpha=0.7)


# --- size of the TOST at the margin -----------------------------------------------------------


def test_tost_size_at_the_margin_normal_and_t() -> None:
    rng = np.random.default_rng(2024)
    alpha, margin, se, n = 0.05, MARGIN_AUC, 0.01, 20_000
    for true in (margin, -margin):
        est = rng.normal(true, se, size=n)
        rate = np.mean([tost(float(d), se, margin, alpha=alpha)["equivalent"] for d in est])
        assert rate <= alpha + 0.01, (true, rate)
        assert rate >= alpha - 0.01, (true, rate)  # not trivially conservative either
    # t model: estimated se with df degrees of freedom (chi-square), exact size alpha
    df = 5
    est = rng.normal(margin, se, size=n)
    se_hat = se * np.sqrt(rng.chisquare(df, size=n) / df)
    rate = np.mean(
        [
            tost(float(d), float(s), margin, df=df)["equivalent"]
            for d, s in zip(est, se_hat, strict=True)
        ]
    )
    assert alpha - 0.01 <= rate <= alpha + 0.01, rate


# --- delong_tost ------------------------------------------------------------------------------


def _pair(rng: np.random.Generator, n: int, shift_b: float = 0.0, noise: float = 0.3):
    """Two correlated scores with the same distribution (shift_b = 0) on n images."""
    y = (np.arange(n) < n // 2).astype(int)
    latent = y * 1.2 + rng.normal(size=n)
    a = latent + noise * rng.normal(size=n)
    b = latent + noise * rng.normal(size=n) + shift_b * y
    return y, a, b


def _brute_delong(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """ΔAUC and its DeLong se from the O(m n) structural components (DeLong et al. 1988)."""
    comps = []
    for s in (a, b):
        pos, neg = s[y == 1], s[y == 0]
        psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        comps.append((psi.mean(axis=1), psi.mean(axis=0)))
    v10 = np.vstack([c[0] for c in comps])
    v01 = np.vstack([c[1] for c in comps])
    cov = np.cov(v10) / v10.shape[1] + np.cov(v01) / v01.shape[1]
    w = np.array([1.0, -1.0])
    return float(v10[0].mean() - v10[1].mean()), float(math.sqrt(w @ cov @ w))


def test_delong_tost_matches_independent_computations() -> None:
    rng = np.random.default_rng(3)
    y, a, b = _pair(rng, 300, shift_b=0.2)
    a, b = np.round(a, 1), np.round(b, 1)  # ties, so midranks matter
    got = delong_tost(y, a, b)
    ref_diff = roc_auc_score(y, a) - roc_auc_score(y, b)
    assert got["diff"] == pytest.approx(ref_diff, abs=1e-12)
    assert got["auc_a"] == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    assert got["auc_b"] == pytest.approx(roc_auc_score(y, b), abs=1e-12)
    brute_diff, brute_se = _brute_delong(y, a, b)
    assert got["diff"] == pytest.approx(brute_diff, abs=1e-12)
    assert got["se"] == pytest.approx(brute_se, rel=1e-10)
    paired = delong_paired_test(y, a, b)
    assert got["diff"] / got["se"] == pytest.approx(paired["z"], rel=1e-12)
    assert got["p_difference"] == pytest.approx(paired["p"], rel=1e-12)
    ref = tost(ref_diff, brute_se, MARGIN_AUC)
    for key in ("p_lower", "p_upper", "p", "ci_low", "ci_high", "equivalent"):
        assert got[key] == pytest.approx(ref[key], rel=1e-9, abs=1e-15), key
    assert got["df"] is None and got["margin"] == MARGIN_AUC
    assert got["verdict"] == verdict_word(got["diff"], got["p_difference"], got)


def test_delong_tost_identical_scores_is_equivalent_with_zero_se() -> None:
    rng = np.random.default_rng(5)
    y, a, _ = _pair(rng, 60)
    got = delong_tost(y, a, a.copy())
    assert got["diff"] == 0.0 and got["se"] == 0.0
    assert got["equivalent"] is True and got["verdict"] == "equivalent"


def test_delong_tost_rejects_misaligned_scores() -> None:
    with pytest.raises(ValueError, match="aligned"):
        delong_tost([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3])


def test_delong_tost_power_grows_with_n() -> None:
    """Same score distributions: many images reach equivalence, few images stay inconclusive."""
    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        big = delong_tost(*_pair(rng, 4000))
        assert big["equivalent"] is True, (seed, big["ci_low"], big["ci_high"])
        assert big["verdict"] == "equivalent"
        small = delong_tost(*_pair(rng, 30))
        assert small["equivalent"] is False, (seed, small["ci_low"], small["ci_high"])
        assert small["verdict"] == "inconclusive"
    # and a real difference of 0.1 in AUC is found with many images, not called equivalent
    rng = np.random.default_rng(9)
    y, a, b = _pair(rng, 4000, shift_b=-0.6)
    shifted = delong_tost(y, a, b)
    assert shifted["diff"] > 0.05 and shifted["verdict"] == "higher"
    assert shifted["equivalent"] is False


# --- or_hillis_tost ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vandyke() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = pd.read_csv(VANDYKE, comment="#")
    y = d["truth"].to_numpy()
    t1 = np.vstack([d[f"r{j}_t1"].to_numpy(float) for j in range(1, 6)])
    t2 = np.vstack([d[f"r{j}_t2"].to_numpy(float) for j in range(1, 6)])
    return y, t1, t2


@pytest.mark.parametrize("alpha", [0.05, 0.025])
@pytest.mark.parametrize("margin", [MARGIN_AUC, 0.1])
def test_or_hillis_tost_matches_or_hillis_compare(vandyke, alpha: float, margin: float) -> None:
    y, t1, t2 = vandyke
    got = or_hillis_tost(y, t1, t2, margin=margin, alpha=alpha)
    cmp = or_hillis_compare(y, t1, t2, level=1 - 2 * alpha)
    assert 1 < cmp["ddf"] < math.inf
    assert got["df"] == got["ddf"] == cmp["ddf"]
    assert got["diff"] == cmp["diff"] and got["se"] == cmp["se"]
    assert got["se"] == pytest.approx(math.sqrt(2 * cmp["denominator"] / 5), rel=1e-12)
    assert got["ci_low"] == pytest.approx(cmp["ci_low"], rel=1e-10)
    assert got["ci_high"] == pytest.approx(cmp["ci_high"], rel=1e-10)
    assert got["p_difference"] == pytest.approx(or_hillis_compare(y, t1, t2)["p"], rel=1e-12)
    t_lo = (cmp["diff"] + margin) / cmp["se"]
    t_hi = (cmp["diff"] - margin) / cmp["se"]
    assert got["p_lower"] == pytest.approx(st.t.sf(t_lo, cmp["ddf"]), rel=1e-9)
    assert got["p_upper"] == pytest.approx(st.t.cdf(t_hi, cmp["ddf"]), rel=1e-9)
    inside = -margin < cmp["ci_low"] and cmp["ci_high"] < margin
    assert got["equivalent"] == inside
    assert got["n_seeds"] == 5 and got["method"] == cmp["method"]
    assert got["verdict"] == verdict_word(got["diff"], got["p_difference"], got, alpha)


def test_or_hillis_tost_vandyke_verdicts(vandyke) -> None:
    # Van Dyke: ΔAUC ≈ −0.044, F-test p ≈ 0.051; inconclusive at 0.02, equivalent at a loose 0.15
    y, t1, t2 = vandyke
    assert or_hillis_tost(y, t1, t2)["verdict"] == "inconclusive"
    loose = or_hillis_tost(y, t1, t2, margin=0.15)
    assert loose["equivalent"] is True and loose["verdict"] == "equivalent"


def test_or_hillis_tost_constrain_tr_and_one_seed() -> None:
    rng = np.random.default_rng(11)
    y = np.r_[np.ones(40, int), np.zeros(60, int)]
    a = y[None, :] * 1.0 + rng.normal(size=(2, y.size))
    b = y[None, :] * 0.9 + rng.normal(size=(2, y.size))
    for constrain in (False, True):
        got = or_hillis_tost(y, a, b, constrain_tr=constrain)
        cmp = or_hillis_compare(y, a, b, level=0.9, constrain_tr=constrain)
        assert got["ddf"] == cmp["ddf"] and got["se"] == cmp["se"]
        assert got["ci_low"] == pytest.approx(cmp["ci_low"], rel=1e-10)
        assert got["ci_high"] == pytest.approx(cmp["ci_high"], rel=1e-10)
    # one seed: the paired DeLong analysis, normal reference, same numbers as delong_tost
    one = or_hillis_tost(y, a[0], b[0])
    ref = delong_tost(y, a[0], b[0])
    assert math.isinf(one["ddf"]) and one["n_seeds"] == 1
    for key in ("diff", "se", "p_lower", "p_upper", "p", "p_difference"):
        assert one[key] == pytest.approx(ref[key], rel=1e-12), key
    assert one["verdict"] == ref["verdict"]
    with pytest.raises(ValueError, match="margin"):
        or_hillis_tost(y, a, b, margin=0.0)
