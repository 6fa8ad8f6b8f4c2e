"""Equivalence of two AUCs: two one-sided tests (TOST) instead of "no detectable difference".

A non-significant difference test says only that the data could not tell two configurations
apart; with few seeds or few test images that is the expected outcome even when they differ by
more than anyone would accept. A claim that two configurations are *the same* (results chapter,
precision-parity appendix, deployment chapter: sameness claims) needs an equivalence test with
a margin declared in advance: the two one-sided tests of Schuirmann (1987) reject both
H0⁻: Δ ≤ −margin and H0⁺: Δ ≥ +margin at level α each, which is the same as the (1 − 2α)
confidence interval of Δ lying inside (−margin, +margin). The size of the procedure is at most
α (the intersection-union principle; Berger & Hsu 1996).

The functions here are pure numerics: they take a difference and its standard error
(:func:`tost`), or labels and scores (:func:`delong_tost` for two fixed classifiers,
:func:`or_hillis_tost` for two training procedures with seeds as readers), and return numbers;
:func:`verdict_word` turns a difference test and a TOST into the one word the book prints.

References
----------
* Schuirmann DJ (1987). A comparison of the two one-sided tests procedure and the power approach
  for assessing the equivalence of average bioavailability. J Pharmacokinet Biopharm
  15(6):657–680.
* Walker E, Nowacki AS (2011). Understanding equivalence and noninferiority testing. J Gen
  Intern Med 26(2):192–196.
* Berger RL, Hsu JC (1996). Bioequivalence trials, intersection-union tests and equivalence
  confidence sets. Stat Sci 11(4):283–319.
* Liu J-P et al. (2006). Tests of equivalence and non-inferiority for diagnostic accuracy based
  on the paired areas under ROC curves. Stat Med 25(7):1219–1238 (TOST on the paired
  nonparametric ΔAUC, the construction of :func:`delong_tost`).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import special as _sp

from helpers.stats.delong import delong_covariance, paired_auc_test
from helpers.stats.mrmc import or_hillis_compare

__all__ = [
    "MARGIN_AUC",
    "tost",
    "verdict_word",
    "delong_tost",
    "or_hillis_tost",
]

MARGIN_AUC: float = 0.02
"""Declared equivalence margin for a difference of two AUCs: |ΔAUC| < 0.02 counts as "the same".

Why 0.02, fixed before any comparison is run:

* it is of the order of the seed-to-seed standard deviation of the test AUC in the book's own
  records (57 configurations with 2–3 seeds in ``results/*/records`` when this was written:
  median SD ≈ 0.011, interquartile range ≈ 0.005–0.025). A difference smaller than the margin
  is therefore no larger than what retraining the *same* configuration with another seed
  produces, and it would not change which configuration anyone deploys;
* it is well below the ΔAUC of about 0.05 often used as a non-inferiority margin in imaging
  reader studies, so "equivalent" is not a euphemism for "somewhat worse";
* it is not tuned to the data: a margin chosen after seeing the confidence interval makes any
  result "equivalent" (Walker & Nowacki 2011). Change it only with a reason stated in the text,
  never per comparison.

The test is Schuirmann's (1987) two one-sided tests (TOST), as applied to paired AUCs by Liu et
al. (2006, Stat Med 25:1219); see :func:`tost`.
"""

Verdict = Literal["higher", "lower", "equivalent", "inconclusive"]


def _num(x: Any, name: str) -> float:
    """``x`` as a float (numpy scalars included), or ValueError naming the parameter."""
    try:
        return float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {x!r}") from None


def _check_alpha(alpha: float) -> None:
    if not 0.0 < _num(alpha, "alpha") < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5); got {alpha!r}")


def _check_margin(margin: float) -> None:
    m = _num(margin, "margin")
    if not (math.isfinite(m) and m > 0):
        raise ValueError(f"margin must be finite and > 0; got {margin!r}")


def _cdf(x: float, df: float | None) -> float:
    """P(T ≤ x) for the standard normal (df None or inf) or Student t with df degrees of freedom."""
    if df is None or math.isinf(df):
        return float(_sp.ndtr(x))
    return float(_sp.stdtr(df, x))


def _quantile(p: float, df: float | None) -> float:
    if df is None or math.isinf(df):
        return float(_sp.ndtri(p))
    return float(_sp.stdtrit(df, p))


def _z(num: float, se: float) -> float:
    """num / se, with se = 0 giving ±inf (or 0 when num is 0 too: the boundary itself)."""
    if se > 0:
        return num / se
    return 0.0 if num == 0 else math.copysign(math.inf, num)


def tost(
    diff: float, se: float, margin: float, df: float | None = None, alpha: float = 0.05
) -> dict[str, Any]:
    """Two one-sided tests of |Δ| < margin from an estimate and its standard error.

    Used by the results chapter, the precision-parity appendix and the deployment chapter for
    sameness claims (through :func:`delong_tost` and :func:`or_hillis_tost`).

    With T the reference distribution (standard normal when ``df`` is None or inf, Student t
    with ``df`` degrees of freedom otherwise):

    * p_lower = P(T ≥ (diff + margin) / se) tests H0⁻: Δ ≤ −margin;
    * p_upper = P(T ≤ (diff − margin) / se) tests H0⁺: Δ ≥ +margin;
    * p = max(p_lower, p_upper); ``equivalent`` = p < alpha, which is the (1 − 2α) interval
      diff ± q_{1−α} · se lying strictly inside (−margin, +margin) (Schuirmann 1987).

    ``se = 0`` (a deterministic difference) is allowed: the statistics are ±inf and the verdict
    is whether |diff| < margin; exactly on the boundary the p-value is 0.5 (not equivalent).

    Returns diff, se, margin, df (None for normal), alpha, p_lower, p_upper, p, ci_low, ci_high,
    level (= 1 − 2α), equivalent.
    """
    _check_alpha(alpha)
    _check_margin(margin)
    se_f, diff_f = _num(se, "se"), _num(diff, "diff")
    if not (math.isfinite(se_f) and se_f >= 0):
        raise ValueError(f"se must be finite and >= 0; got {se!r}")
    if not math.isfinite(diff_f):
        raise ValueError(f"diff must be finite; got {diff!r}")
    if df is not None and not _num(df, "df") > 0:
        raise ValueError(f"df must be None (normal) or > 0 (inf allowed); got {df!r}")
    diff, se, margin, alpha = diff_f, se_f, float(margin), float(alpha)
    p_lower = _cdf(-_z(diff + margin, se), df)  # P(T >= z) by symmetry, no 1 - cdf rounding
    p_upper = _cdf(_z(diff - margin, se), df)
    p = max(p_lower, p_upper)
    half = _quantile(1.0 - alpha, df) * se
    return {
        "diff": diff,
        "se": se,
        "margin": float(margin),
        "df": None if df is None else float(df),  # None: normal reference
        "alpha": float(alpha),
        "p_lower": p_lower,
        "p_upper": p_upper,
        "p": p,
        "ci_low": diff - half,
        "ci_high": diff + half,
        "level": 1.0 - 2.0 * alpha,
        "equivalent": bool(p < alpha),
    }


def verdict_word(
    diff: float, p_difference: float, tost_result: dict[str, Any], alpha: float = 0.05
) -> Verdict:
    """One word for a comparison of a with b: "higher", "lower", "equivalent" or "inconclusive".

    Used by the results chapter, the precision-parity appendix and the deployment chapter for
    sameness claims.

    * "higher" / "lower": the two-sided difference test rejects Δ = 0 (``p_difference < alpha``);
      the sign of ``diff`` (a − b) picks the word;
    * "equivalent": no significant difference and the TOST (``tost_result["equivalent"]``)
      puts the difference inside ±margin;
    * "inconclusive": neither — the data do not say whether the two differ.

    Precedence: a significant difference that also lies inside the margin (possible with many
    images: a tiny but precisely measured gap) is reported as "higher"/"lower", not
    "equivalent". The difference test answers "is there any difference?", and when it says yes,
    calling the two "equivalent" would hide a real, signed effect; the reader can still see
    from the interval that the effect is smaller than the margin. The book's sentences then
    never say "the same" about two configurations that are measurably different.
    """
    _check_alpha(alpha)
    if not 0.0 <= _num(p_difference, "p_difference") <= 1.0:
        raise ValueError(f"p_difference must be in [0, 1]; got {p_difference!r}")
    if math.isnan(_num(diff, "diff")):
        raise ValueError(f"diff must be a number; got {diff!r}")
    if "equivalent" not in tost_result:
        raise ValueError("tost_result must be a result of tost() (it has no 'equivalent' key)")
    if p_difference < alpha:
        if diff > 0:
            return "higher"
        if diff < 0:
            return "lower"
    if tost_result["equivalent"]:
        return "equivalent"
    return "inconclusive"


def delong_tost(
    labels: ArrayLike,
    scores_a: ArrayLike,
    scores_b: ArrayLike,
    margin: float = MARGIN_AUC,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """TOST of |AUC(a) − AUC(b)| < margin for two fixed classifiers on the same images.

    Used by the results chapter, the precision-parity appendix and the deployment chapter for
    sameness claims about trained models (e.g. one model in two precisions, or the deployed
    ensemble against its reference), where only the test images are random.

    diff = AUC_a − AUC_b and se = sqrt(Var_a + Var_b − 2 Cov_ab) from the paired DeLong
    covariance (:func:`helpers.stats.delong.delong_covariance`), then :func:`tost` with the
    normal reference (Liu et al. 2006). Also returns the two-sided DeLong difference test
    (z, p_difference; the numbers of :func:`helpers.stats.delong.delong_paired_test`) and
    ``verdict`` (:func:`verdict_word` at the same alpha).

    Returns auc_a, auc_b, diff, se, z, p_difference, verdict and the fields of :func:`tost`.
    """
    a = np.asarray(scores_a, dtype=float)
    b = np.asarray(scores_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"scores_a and scores_b must be 1-D and aligned; got {a.shape}, {b.shape}")
    aucs, cov = delong_covariance(labels, np.vstack([a, b]))
    one = paired_auc_test(aucs, cov)  # diff = AUC_a − AUC_b, se = sqrt(Va + Vb − 2 Cab), z, p
    res = tost(one["diff"], one["se"], margin, df=None, alpha=alpha)
    return {
        "auc_a": one["auc_a"],
        "auc_b": one["auc_b"],
        **res,
        "z": one["z"],
        "p_difference": one["p"],
        "verdict": verdict_word(one["diff"], one["p"], res, alpha),
    }


def or_hillis_tost(
    labels: ArrayLike,
    scores_a: ArrayLike,
    scores_b: ArrayLike,
    margin: float = MARGIN_AUC,
    alpha: float = 0.05,
    constrain_tr: bool = False,
    *,
    cov: Literal["delong", "jackknife"] = "delong",
) -> dict[str, Any]:
    """TOST of |θ̄_a − θ̄_b| < margin for two training procedures, seeds as readers.

    Used by the results chapter, the precision-parity appendix and the deployment chapter for
    sameness claims about configurations (training procedures), where both the seeds and the
    test images are random.

    Built on :func:`helpers.stats.mrmc.or_hillis_compare` (Obuchowski–Rockette with Hillis'
    denominator degrees of freedom; rows of ``scores_a``/``scores_b`` are paired seeds): its
    ``se`` is exactly sqrt(2 D / r) (D the OR–Hillis denominator; with ``constrain_tr`` the
    constrained D*), and its ``ddf`` (ddf_H, or inf where the σ²_TR ≥ 0 floor binds, or with
    one seed, where the analysis is the paired DeLong test) is the t reference of
    :func:`tost`. The (1 − 2α) interval returned is therefore the one ``or_hillis_compare``
    gives at ``level = 1 − 2α``.

    Returns auc_a, auc_b, diff, se, ddf, n_seeds, method, p_difference (the OR–Hillis F test),
    verdict, and the fields of :func:`tost` (its ``df`` is ddf).
    """
    _check_alpha(alpha)
    _check_margin(margin)
    cmp = or_hillis_compare(
        labels, scores_a, scores_b, cov=cov, level=1.0 - 2.0 * alpha, constrain_tr=constrain_tr
    )
    ddf = float(cmp["ddf"])
    res = tost(float(cmp["diff"]), float(cmp["se"]), margin, df=ddf, alpha=alpha)
    p_diff = float(cmp["p"])
    return {
        "auc_a": float(cmp["auc_a"]),
        "auc_b": float(cmp["auc_b"]),
        **res,
        "ddf": ddf,
        "n_seeds": int(cmp["n_seeds"]),
        "method": str(cmp["method"]),
        "p_difference": p_diff,
        "verdict": verdict_word(res["diff"], p_diff, res, alpha),
    }
