"""OR–Hillis with few seeds (issue 25): the σ²_TR ≥ 0 option of helpers.stats.mrmc and its simulated size.

The size checks re-simulate the settings of ``results/stats/or_hillis_size.json`` (covariances
estimated from the book's records by ``scripts/or_hillis_size.py``) with their own fixed seed:
20,000 replicates each (Monte Carlo SE ≈ 0.0015 at a rate of 0.05), a few seconds in all.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.stats import mrmc
from helpers.stats.mrmc import or_hillis_compare, or_hillis_f
from helpers.stats.mrmc_size import or_covariance, or_size

ROOT = Path(__file__).resolve().parents[1]
SIZE_JSON = ROOT / "results" / "stats" / "or_hillis_size.json"
VANDYKE = Path(__file__).parent / "data" / "vandyke.csv"
REPS = 20_000

# Chapter 08, pneumonia vs normal, MobileNetV2 fine-tuned, 64 vs 128 px on the two common seeds
# (0 and 1; results/kermany-resolution): per-seed AUCs and the OR covariances of the book's run.
CH08_THETA = np.array([[0.91559001, 0.90582458], [0.96106133, 0.94856651]])
CH08_COV = (1.4054506478132476e-04, 7.593077725864357e-05, 8.967805011185888e-05,
            8.05567138721197e-05)  # fmt: skip


def _data(rng: np.random.Generator, r: int, interaction: float, n: int = 300):
    """Scores of two configurations × r seeds on n shared images; ``interaction``: SD of the
    configuration × seed effect on the score separation (large → the floor does not bind)."""
    y = np.r_[np.ones(n // 2, int), np.zeros(n - n // 2, int)]
    image = rng.normal(size=n)
    a, b = (
        (1.0 + rng.normal(0.0, interaction, size=r))[:, None] * y + image
        + rng.normal(0.0, 0.7, size=(r, n))
        for _ in range(2)
    )  # fmt: skip
    return y, a, b


def _sources() -> dict[str, dict]:
    if not SIZE_JSON.is_file():
        pytest.fail(f"{SIZE_JSON} is missing: run `python scripts/or_hillis_size.py` to make it")
    return {s["name"]: s for s in json.loads(SIZE_JSON.read_text())["sources"]}


def _size(src: dict, sigma2_tr: float, r: int, seed: int) -> dict:
    return or_size(sigma2_tr, src["var"], src["cov1"], src["cov2"], src["cov3"], r,
                   n_cases=src["n_images"], n_reps=REPS, seed=seed)  # fmt: skip


# --- the option: same test where the floor does not bind, never a larger F --------------------


def test_constrained_equals_hillis_when_the_floor_does_not_bind() -> None:
    y, a, b = _data(np.random.default_rng(3), r=3, interaction=0.4)
    plain = or_hillis_compare(y, a, b)
    con = or_hillis_compare(y, a, b, constrain_tr=True)
    assert not con["floor_binds"] and con["ms_tr"] > con["ms_tr_floor"]
    for key in ("F", "ddf", "p", "se", "t", "ci_low", "ci_high", "denominator"):
        assert con[key] == pytest.approx(plain[key], rel=1e-12), key
    assert con["p_hillis"] == plain["p"] and con["F_hillis"] == plain["F"]
    assert set(plain) < set(con)  # the default result keeps its keys; the option only adds


def test_default_is_unchanged_and_one_seed_ignores_the_option() -> None:
    y, a, b = _data(np.random.default_rng(4), r=1, interaction=0.0)
    assert or_hillis_compare(y, a, b, constrain_tr=True) == or_hillis_compare(y, a, b)
    y, a, b = _data(np.random.default_rng(5), r=3, interaction=0.0)
    assert "floor_binds" not in or_hillis_compare(y, a, b)


def test_constrained_F_is_never_larger_and_denominator_is_the_larger_of_rrrc_and_frrc() -> None:
    rng = np.random.default_rng(11)
    n, r = 5000, 3
    theta = rng.normal(0.8, 0.01, size=(n, 2, r))
    var = rng.uniform(2e-4, 8e-4, n)
    cov1 = var * rng.uniform(0.2, 0.95, n)
    cov2 = cov1 * rng.uniform(0.2, 1.0, n)
    cov3 = cov2 * rng.uniform(0.5, 1.1, n)  # Cov3 > Cov2 in some draws: c⁺ truncated at 0
    plain = or_hillis_f(theta, var, cov1, cov2, cov3)
    con = or_hillis_f(theta, var, cov1, cov2, cov3, constrain_tr=True)
    assert np.all(con["F"] <= plain["F"] * (1 + 1e-12))
    binds = con["floor_binds"]
    assert 0.05 < binds.mean() < 0.95  # both branches exercised
    assert np.array_equal(con["F"][~binds], plain["F"][~binds])
    assert np.all(np.isinf(con["ddf"][binds]))
    c_plus = np.maximum(cov2 - cov3, 0.0)
    fixed_reader = var - cov1 + (r - 1) * c_plus  # Hillis' FRRC denominator
    np.testing.assert_allclose(con["denominator"], np.maximum(plain["denominator"], fixed_reader))
    np.testing.assert_allclose(con["var_tr"], plain["ms_tr"] - var + cov1 + c_plus)


def test_or_hillis_f_reproduces_or_hillis_compare_on_van_dyke() -> None:
    d = pd.read_csv(VANDYKE, comment="#")
    y = d["truth"].to_numpy()
    t1 = np.vstack([d[f"r{j}_t1"].to_numpy(float) for j in range(1, 6)])
    t2 = np.vstack([d[f"r{j}_t2"].to_numpy(float) for j in range(1, 6)])
    ref = or_hillis_compare(y, t1, t2)  # matches MRMCaov (tests/test_mrmc.py)
    aucs, _ = mrmc.auc_covariance(y, np.vstack([t1, t2]))
    covs = tuple(ref[k] for k in ("var", "cov1", "cov2", "cov3"))
    got = or_hillis_f(aucs.reshape(2, 5), *covs)
    for key in ("ms_t", "ms_tr", "denominator", "F", "ddf", "p"):
        assert float(got[key]) == pytest.approx(ref[key], rel=1e-10), key
    con = or_hillis_f(aucs.reshape(2, 5), *covs, constrain_tr=True)  # 5 readers: no floor here
    assert not bool(con["floor_binds"]) and float(con["p"]) == pytest.approx(ref["p"], rel=1e-10)


def test_expected_mean_squares_are_the_or_model_ones() -> None:
    # E[MS(T×R)] = σ²_TR + Var − Cov1 − (Cov2 − Cov3); under H0
    # E[MS(T)] = σ²_TR + Var − Cov1 + (r − 1)(Cov2 − Cov3): the floor is E[MS(T×R)] at σ²_TR = 0
    var, cov1, cov2, cov3, s2, r = 6e-4, 3e-4, 4e-4, 2.5e-4, 1e-4, 3
    sigma = or_covariance(var, cov1, cov2, cov3, r) + s2 * np.eye(2 * r)
    rng = np.random.default_rng(8)
    theta = rng.multivariate_normal(np.zeros(2 * r), sigma, size=200_000).reshape(-1, 2, r)
    res = or_hillis_f(theta, var, cov1, cov2, cov3)
    assert res["ms_tr"].mean() == pytest.approx(s2 + var - cov1 - (cov2 - cov3), rel=0.02)
    assert res["ms_t"].mean() == pytest.approx(s2 + var - cov1 + (r - 1) * (cov2 - cov3), rel=0.02)


# --- chapter 08's failing case ------------------------------------------------------------------


def test_chapter08_pneumonia_64_vs_128_is_no_longer_p_1e16() -> None:
    plain = or_hillis_f(CH08_THETA, *CH08_COV)
    con = or_hillis_f(CH08_THETA, *CH08_COV, constrain_tr=True)
    assert float(plain["ms_tr"]) == pytest.approx(1.862e-6, rel=1e-3)
    assert float(plain["F"]) == pytest.approx(96.76, rel=1e-3) and float(plain["p"]) < 1e-15
    assert bool(con["floor_binds"]) and math.isinf(float(con["ddf"]))
    assert float(con["floor"]) == pytest.approx(5.549e-5, rel=1e-3)  # 30 × MS(T×R)
    assert float(con["F"]) == pytest.approx(26.38, rel=1e-3)
    assert float(con["p"]) == pytest.approx(2.80e-7, rel=1e-2)  # still < 0.05, by image sampling


# --- size under the OR model, covariances from the records (the CI check) -----------------------

FROZEN = ("isic2017-mobilenet-frozen-native", "isic2017-mobilenet-frozen-unit",
          "kermany-mobilenetv2-frozen-unit")  # fmt: skip
FINE_TUNED = ("isic2017-mobilenet-full-native", "isic2017-mobilenet-full-unit",
              "kermany-mobilenetv2-full-unit")  # fmt: skip


@pytest.mark.parametrize("r", [3, 5])
@pytest.mark.parametrize("name", FROZEN)
def test_size_within_band_at_3_and_5_seeds_frozen_regime(name: str, r: int) -> None:
    src = _sources()[name]
    for k, s2 in enumerate((0.0, max(src["var_tr"], 0.0))):
        rate = _size(src, s2, r, seed=100 + 10 * r + k)["constrained"]["rate"]
        assert 0.04 <= rate <= 0.06, (name, r, s2, rate)


@pytest.mark.parametrize("name", FINE_TUNED)
def test_size_fine_tuned_issue_failure_reproduced_and_removed_at_zero_interaction(name) -> None:
    # σ²_TR = 0: the published test is liberal at 2 seeds (the issue's 7–12 %); with the floor the
    # F denominator is never below E[MS(T)], so the test is not liberal at any number of seeds.
    src = _sources()[name]
    for r in (2, 3, 5):
        out = _size(src, 0.0, r, seed=200 + r)
        se = math.sqrt(0.05 * 0.95 / REPS)
        assert out["constrained"]["rate"] <= 0.05 + 3 * se, (name, r, out)
        assert out["constrained"]["rate"] < out["hillis"]["rate"], (name, r, out)
        if r == 2:
            assert out["hillis"]["rate"] > 0.07, (name, out)


@pytest.mark.xfail(strict=True, reason="issue 25 not met by σ²_TR ≥ 0 alone: with fine-tuned "
                   "covariances (Cov2 − Cov3 small against Var − Cov1) the size at 3 seeds is "
                   "≈ 0.033 at σ²_TR = 0 and ≈ 0.07 at the family-pooled σ²_TR "
                   "(results/stats/or_hillis_size.json)")  # fmt: skip
@pytest.mark.parametrize("which", ["zero", "pooled"])
def test_size_within_band_at_3_seeds_fine_tuned_pneumonia(which: str) -> None:
    src = _sources()["kermany-mobilenetv2-full-unit"]
    s2 = 0.0 if which == "zero" else max(src["var_tr_pooled"], 0.0)
    rate = _size(src, s2, 3, seed=300)["constrained"]["rate"]
    assert 0.04 <= rate <= 0.06, rate


def test_size_record_is_complete() -> None:
    record = json.loads(SIZE_JSON.read_text())
    assert {s["name"] for s in record["sources"]} == set(FROZEN + FINE_TUNED)
    assert record["simulation"]["n_reps"] >= 20_000 and record["simulation"]["readers"] == [2, 3, 5]
    assert len(record["results"]) == 6 * 4 * 3
    for row in record["results"]:
        for test in ("hillis", "constrained", "generalized"):
            rate, se = row[test]["rate"], row[test]["mc_se"]
            assert se == pytest.approx(math.sqrt(rate * (1 - rate) / row["n_reps"]))
    assert {"numpy", "wall_s", "git_commit"} <= set(record["provenance"])


def test_generalized_p_is_not_liberal_at_3_and_5_seeds_in_any_recorded_setting() -> None:
    """The few-seed companion (helpers.stats.mrmc_generalized): in all 24 settings × 3 and 5 seeds
    of the committed simulation its size stays at or below 0.05 within Monte Carlo error, where
    the published test reaches about 0.08 at 3 seeds."""
    record = json.loads(SIZE_JSON.read_text())
    limit = 0.05 + 3 * math.sqrt(0.05 * 0.95 / REPS)
    rows = [r for r in record["results"] if r["n_readers"] in (3, 5)]
    assert len(rows) == 48
    worst = max(rows, key=lambda r: r["generalized"]["rate"])
    assert worst["generalized"]["rate"] <= limit, worst
    assert max(r["hillis"]["rate"] for r in rows if r["n_readers"] == 3) > 0.06


def test_generalized_p_holds_where_the_published_test_is_liberal() -> None:
    """The issue's failing case re-simulated: Kermany fine-tuned, 3 seeds, the family-pooled σ²_TR.
    On the same draws the published test is liberal and the generalized p-value is not."""
    src = _sources()["kermany-mobilenetv2-full-unit"]
    out = _size(src, max(src["var_tr_pooled"], 0.0), 3, seed=301)
    assert out["hillis"]["rate"] > 0.06, out
    assert 0.02 <= out["generalized"]["rate"] <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / REPS), out


def test_or_size_rejects_impossible_settings() -> None:
    with pytest.raises(ValueError, match="n_readers must be >= 2"):
        or_size(0.0, 1e-3, 5e-4, 4e-4, 3e-4, 1)
    with pytest.raises(ValueError, match="not a covariance matrix"):
        or_size(0.0, 1e-4, 5e-4, 4e-4, 3e-4, 3)  # Cov1 > Var
    with pytest.raises(ValueError, match="sigma2_tr"):
        or_size(-1e-5, 1e-3, 5e-4, 4e-4, 3e-4, 3)
    with pytest.raises(ValueError, match="pass n_cases too"):
        or_size(0.0, 1e-3, 5e-4, 4e-4, 3e-4, 3, cases_ref=600)
