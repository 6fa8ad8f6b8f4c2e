"""Seeds as readers: Obuchowski–Rockette AUC comparisons with Hillis degrees of freedom (results chapter).

Why over 450 lines: one published method (OR–Hillis for one configuration and for two) with
its formulas and references in the docstrings, which are most of the length.

Why training seeds are "readers"
--------------------------------
A configuration (architecture, loss, data pipeline) is a *training procedure*; each training seed
draws one classifier from it, much as a reader study draws radiologists from a population of
readers. Two sources of randomness then separate a reported AUC from the procedure's true AUC:

* **case (image) variance** — the test images are a sample of the image population; DeLong's
  covariance (or a jackknife over images) measures it;
* **seed (reader) variance** — another seed gives another classifier with another AUC, even on the
  same images.

The question "is configuration A better than configuration B?" is a question about procedures, so
both sources are random: this is the random-reader random-case (RRRC) multi-reader multi-case
(MRMC) problem, and the Obuchowski–Rockette (OR) model with Hillis' denominator degrees of freedom
is its standard analysis (Obuchowski & Rockette 1995; Hillis 2007; Hillis, Berbaum & Metz 2008).
The test images are shared by every seed of both configurations, so the AUC errors are correlated;
the OR model keeps these correlations as three averaged covariances estimated from the DeLong
covariance matrix of all AUCs:

* ``Cov1`` — different configurations, same seed index (seed j is "reader j" in both);
* ``Cov2`` — same configuration, different seeds;
* ``Cov3`` — different configurations, different seeds.

When the ensemble DeLong test is the right question instead
-----------------------------------------------------------
If the object of the claim is one *fixed* classifier — e.g. the ensemble that averages the
probabilities of the seeds actually trained, which is what would be deployed — the seeds are no
longer a sample: they are part of the classifier's definition. Only the images are random, and
the paired DeLong test on the ensemble scores (``helpers.stats.delong.delong_paired_test``) answers the
question exactly. That test ignores seed variance, so it is *not* a test of the training
procedures: with large seed-to-seed variation it rejects a true "same procedure" null far more
often than its nominal level (``tests/test_mrmc.py`` shows this by simulation).

With one seed per configuration there is no information on seed variance at all; the functions
then fall back to the DeLong analysis of that one classifier per configuration, and the result
should be read as a statement about those trained models, not about the procedures.

References
----------
* Obuchowski NA, Rockette HE (1995). Hypothesis testing of diagnostic accuracy for multiple
  readers and multiple tests: an ANOVA approach with dependent observations. Commun Stat Simul
  Comput 24(2):285–308.
* Hillis SL (2007). A comparison of denominator degrees of freedom methods for multiple observer
  ROC analysis. Stat Med 26(3):596–619.
* Hillis SL, Berbaum KS, Metz CE (2008). Recent developments in the Dorfman-Berbaum-Metz
  procedure for multireader ROC study analysis. Acad Radiol 15(5):647–661.
* Hillis SL, Obuchowski NA, Berbaum KS (2011). Power estimation for multireader ROC methods: an
  updated and unified approach. Acad Radiol 18(2):129–142 (eq. 9: the estimate of σ²_TR).
* Hillis SL (2014). A marginal-mean ANOVA approach for analyzing multireader multicase
  radiological imaging data. Stat Med 33(2):330–360.
* DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
  correlated ROC curves: a nonparametric approach. Biometrics 44(3):837–845.

Few seeds: the constraint σ²_TR ≥ 0 (``constrain_tr=True``)
-----------------------------------------------------------
With 2–3 seeds MS(T×R) has 1–2 degrees of freedom and can fall far below what image sampling
alone implies; Hillis' ddf then becomes large exactly when the denominator is small, and the test
rejects a true null more often than its level (issue 25: the findings chapter's pneumonia 64 vs 128 px,
MS(T×R) = 1.9e-6 on 1 df, F ≈ 97). ``constrain_tr=True`` (off by default) keeps the
treatment × seed variance component non-negative, so the denominator never falls below the
fixed-seed (image sampling only) denominator; see :func:`or_hillis_f`. Its size under the OR
model, from covariances of the book's records, is measured by :mod:`helpers.stats.mrmc_size`
(``scripts/or_hillis_size.py`` → ``results/stats/or_hillis_size.json``): it removes the excess
rejections when σ²_TR is near 0 (the test is then conservative, about 3–5 %), but it is not an
exact test: with fine-tuned covariances (Cov2 − Cov3 small against Var − Cov1) and a large
σ²_TR it still rejects up to about 11 % at 2 seeds and 7 % at 3 (Hillis' ddf, not the floor).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

from helpers.stats.delong import _check_inputs, _components, delong_covariance, paired_auc_test
from helpers.stats.delong_clustered import clustered_delong_covariance

__all__ = [
    "auc_covariance",
    "has_clusters",
    "hillis_single",
    "or_hillis_compare",
    "or_hillis_f",
    "or_hillis_single",
]

CovMethod = Literal["delong", "jackknife"]

_OR_PARTS: tuple[str, ...] = ("var", "cov1", "cov2", "cov3", "ms_t", "ms_tr", "denominator")
"""The OR ingredients :func:`or_hillis_compare` reports (NaN with one seed)."""


def _cov_name(cov: CovMethod, clusters: ArrayLike | None) -> str:
    """How a result names its covariance: DeLong / jackknife, "patient-clustered DeLong"."""
    name = "DeLong" if cov == "delong" else "jackknife"
    return f"patient-clustered {name}" if has_clusters(clusters) else name


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")


def has_clusters(clusters: ArrayLike | None) -> bool:
    """True when ``clusters`` (one id per image, or None) groups at least two images together."""
    if clusters is None:
        return False
    c = np.asarray(clusters).ravel()
    return np.unique(c).size < c.size


def auc_covariance(
    labels: ArrayLike,
    scores_matrix: ArrayLike,
    cov: CovMethod = "delong",
    clusters: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """AUCs (k,) and their case-sampling covariance (k, k) for k score rows on the same images (results chapter).

    ``clusters`` (one id per image, e.g. the patient; the pneumonia and findings chapters) makes
    the cluster, not the image, the unit of sampling: Obuchowski's (1997) clustered DeLong
    covariance (:func:`helpers.stats.delong_clustered.clustered_delong_covariance`). When every
    image is its own cluster that estimator is DeLong's up to a factor within 1 % of one, so then
    the image-level estimator below is used unchanged. Only with ``cov="delong"``: a clustered
    jackknife is not implemented (ValueError).

    ``cov="delong"`` is the DeLong et al. (1988) estimator (``helpers.stats.delong.delong_covariance``).
    ``cov="jackknife"`` deletes one image at a time (positives and negatives alike) and returns
    ``(N-1)/N · Σ_c (θ_(c) − θ̄)(θ_(c) − θ̄)ᵀ`` over the N images, the estimator used by
    Hillis (2007) and by the OR-DBM MRMC / RJafroc / MRMCaov software. The leave-one-out AUCs are
    exact: removing positive i gives (m·AUC − V10_i)/(m − 1), removing negative j gives
    (n·AUC − V01_j)/(n − 1), with V10, V01 the DeLong structural components.
    """
    if has_clusters(clusters):
        if cov != "delong":
            raise ValueError(f"clusters need cov='delong' (no clustered {cov!r} estimator here)")
        return clustered_delong_covariance(labels, scores_matrix, np.asarray(clusters))
    if clusters is not None and np.asarray(clusters).size != np.asarray(labels).size:
        raise ValueError(f"clusters ({np.asarray(clusters).size}) and labels "
                         f"({np.asarray(labels).size}) must describe the same images")
    if cov == "delong":
        return delong_covariance(labels, scores_matrix)
    if cov != "jackknife":
        raise ValueError(f"cov must be 'delong' or 'jackknife'; got {cov!r}")
    y, s = _check_inputs(labels, scores_matrix)
    aucs, v10, v01 = _components(y, s)
    m, n = v10.shape[1], v01.shape[1]
    loo_pos = (m * aucs[:, None] - v10) / (m - 1)  # (k, m): AUC without positive i
    loo_neg = (n * aucs[:, None] - v01) / (n - 1)  # (k, n): AUC without negative j
    loo = np.concatenate([loo_pos, loo_neg], axis=1)  # (k, N)
    big_n = loo.shape[1]
    centred = loo - loo.mean(axis=1, keepdims=True)
    return aucs, (big_n - 1) / big_n * (centred @ centred.T)


def _as_seed_matrix(scores: ArrayLike, name: str) -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    if s.ndim == 1:
        s = s[np.newaxis, :]
    if s.ndim != 2 or s.shape[0] < 1:
        raise ValueError(f"{name} must have shape (seeds, images); got {s.shape}")
    return s


def _t_ci(est: float, se: float, df: float, level: float) -> tuple[float, float]:
    q = (
        float(_st.norm.ppf(0.5 + level / 2))
        if math.isinf(df)
        else float(_st.t.ppf(0.5 + level / 2, df))
    )
    return est - q * se, est + q * se


def _f_sf(f_stat: np.ndarray, ndf: int, ddf: np.ndarray) -> np.ndarray:
    """P(F(ndf, ddf) > f_stat), elementwise; ddf = inf is the χ²_ndf / ndf limit (scipy's F gives NaN)."""
    inf = np.isinf(ddf)
    finite = _st.f.sf(f_stat, ndf, np.where(inf, 1.0, ddf))
    return np.where(inf, _st.chi2.sf(f_stat * ndf, ndf), finite)


def or_hillis_f(
    theta: ArrayLike,
    var: ArrayLike,
    cov1: ArrayLike,
    cov2: ArrayLike,
    cov3: ArrayLike,
    *,
    constrain_tr: bool = False,
) -> dict[str, np.ndarray]:
    """OR–Hillis F test of two configurations from AUCs ``theta[..., 2, r]`` and OR covariances (the results chapter, 08).

    Vectorised over leading axes (the covariances broadcast against them); the one formula that
    :func:`or_hillis_compare` (``constrain_tr=True``) and the size simulation
    (:mod:`helpers.stats.mrmc_size`) share. With c⁺ = max(Cov2 − Cov3, 0) and t = 2:

    * MS(T), MS(T×R) as in :func:`or_hillis_compare`; D = MS(T×R) + r c⁺;
      ddf_H = D² / (MS(T×R)² / ((t − 1)(r − 1)))  (Hillis 2007; Hillis, Berbaum & Metz 2008).

    ``constrain_tr=True``: under the OR model E[MS(T×R)] = σ²_TR + Var − Cov1 − (Cov2 − Cov3)
    and, under H0, E[MS(T)] = σ²_TR + Var − Cov1 + (r − 1)(Cov2 − Cov3) (Obuchowski & Rockette
    1995; Hillis 2007), so the moment estimate σ̂²_TR = MS(T×R) − Var + Cov1 + c⁺ (Hillis,
    Obuchowski & Berbaum 2011, eq. 9, with Hillis' truncation of Cov2 − Cov3) is negative
    whenever MS(T×R) is below what image sampling alone implies. Constraining σ²_TR ≥ 0 (the
    truncation commonly applied to σ̂²_TR when it feeds sample-size calculations) gives

    * floor = Var − Cov1 − c⁺,  MS*(T×R) = max(MS(T×R), floor),
      D* = MS*(T×R) + r c⁺ = max(D, D_FR), with D_FR = Var − Cov1 + (r − 1) c⁺ the
      fixed-reader (FRRC) denominator of the OR test (Hillis 2007; Hillis, Berbaum & Metz 2008);
    * where the floor binds, D* = D_FR is made of covariance estimates only (hundreds of images),
      so the reference is the FRRC one, F(1, ∞) = χ²₁ (``ddf`` = inf); elsewhere D* = D and ddf_H.

    So F* ≤ F always, and F* = F where the floor does not bind. Where it binds after a small
    ddf_H, p* can still be below p (a smaller F on a reference with more df).

    Returns arrays ms_t, ms_tr, floor (= Var − Cov1 − c⁺), var_tr (σ̂²_TR, unconstrained),
    denominator, F, ddf, p, floor_binds (all False without the constraint).
    """
    th = np.asarray(theta, dtype=float)
    if th.ndim < 2 or th.shape[-2] != 2 or th.shape[-1] < 2:
        raise ValueError(f"theta must have shape (..., 2, r) with r >= 2 seeds; got {th.shape}")
    t, r = 2, th.shape[-1]
    cfg_means = th.mean(axis=-1)
    seed_means = th.mean(axis=-2)
    grand = th.mean(axis=(-2, -1))
    ms_t = r * np.sum((cfg_means - grand[..., None]) ** 2, axis=-1) / (t - 1)
    resid = th - cfg_means[..., :, None] - seed_means[..., None, :] + grand[..., None, None]
    ms_tr = np.sum(resid**2, axis=(-2, -1)) / ((t - 1) * (r - 1))
    c_plus = np.maximum(np.asarray(cov2, float) - np.asarray(cov3, float), 0.0)
    floor = np.asarray(var, float) - np.asarray(cov1, float) - c_plus
    with np.errstate(divide="ignore", invalid="ignore"):
        ddf_h = (ms_tr + r * c_plus) ** 2 / (ms_tr**2 / ((t - 1) * (r - 1)))
    ddf = np.where(ms_tr > 0, ddf_h, np.inf)
    binds = (floor > ms_tr) if constrain_tr else np.zeros(np.shape(ms_tr), dtype=bool)
    denom = np.where(binds, floor, ms_tr) + r * c_plus
    ddf = np.where(binds, np.inf, ddf)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_stat = ms_t / denom
    return {
        "ms_t": ms_t,
        "ms_tr": ms_tr,
        "floor": floor * np.ones_like(ms_tr),
        "var_tr": ms_tr - floor,
        "denominator": denom,
        "F": f_stat,
        "ddf": ddf,
        "p": _f_sf(f_stat, t - 1, ddf),
        "floor_binds": binds,
    }


def or_hillis_compare(
    labels: ArrayLike,
    scores_a: ArrayLike,
    scores_b: ArrayLike,
    cov: CovMethod = "delong",
    level: float = 0.95,
    *,
    constrain_tr: bool = False,
    clusters: ArrayLike | None = None,
) -> dict[str, Any]:
    """OR–Hillis random-seed random-image test of AUC(a) = AUC(b), seeds paired by index (results chapter).

    Model (Obuchowski & Rockette 1995): for configuration i = a, b and seed j = 1..r,
    θ̂_ij = μ + τ_i + R_j + (τR)_ij + ε_ij, with R_j ~ N(0, σ²_R) the seed ("reader") effect,
    (τR)_ij ~ N(0, σ²_τR) the configuration × seed interaction, and ε_ij the image-sampling error
    of the AUC whose covariance is Var (same i, j), Cov1 (different i, same j), Cov2 (same i,
    different j), Cov3 (different i and j). Var and the Cov's are averages over the matching
    entries of the DeLong (or jackknife, ``cov="jackknife"``) covariance matrix of all 2r AUCs on
    the shared test images.

    Test (Hillis 2007, Stat Med 26:596; Hillis, Berbaum & Metz 2008, Acad Radiol 15:647), t = 2:

    * MS(T) = r Σ_i (θ̄_i· − θ̄_··)² / (t − 1),
      MS(T×R) = Σ_ij (θ_ij − θ̄_i· − θ̄_·j + θ̄_··)² / ((t − 1)(r − 1));
    * D = MS(T×R) + r · max(Cov2 − Cov3, 0);  F = MS(T) / D ~ F(t − 1, ddf_H),
      ddf_H = D² / (MS(T×R)² / ((t − 1)(r − 1)));
    * CI for θ̄_a· − θ̄_b·: diff ± t_{1−α/2; ddf_H} · sqrt(2 D / r)  (so F = (diff / se)²).

    Seeds must be paired: row j of ``scores_a`` and row j of ``scores_b`` are "reader j". That
    pairing is meaningful when seed j fixes things the two configurations share (initialisation,
    data order, split); when it does not, the pairing is arbitrary and the test stays valid (the
    seed effect then moves into the interaction term). Unequal seed counts raise ``ValueError``:
    the factorial OR model needs every reader in every configuration, and the readers-nested-in-
    test design that would allow it is not implemented here.

    With one seed per configuration (r = 1) the seed variance cannot be estimated; the function
    returns the paired DeLong z-test of the two trained models (``delong_paired_test``; exact
    same numbers), with F = z², ddf = inf and ``method = "DeLong (one seed)"`` — a statement about
    those two classifiers, not about the procedures. With ``cov="jackknife"`` the same z-test uses
    the jackknife covariance.

    ``constrain_tr=True`` (default False: the published OR–Hillis test above) constrains the
    configuration × seed variance σ²_TR to be non-negative, so the denominator never falls below
    the fixed-seed one that image sampling alone implies: D* = max(MS(T×R), Var − Cov1 − c⁺) + r c⁺
    with c⁺ = max(Cov2 − Cov3, 0), and ddf = inf (reference χ²₁) where the floor binds
    (:func:`or_hillis_f` gives the formulas and their sources). It matters with few seeds
    (issue 25); with one seed it changes nothing. The result then also holds ms_tr_floor
    (Var − Cov1 − c⁺), var_tr (σ̂²_TR before the constraint), floor_binds, and F_hillis,
    ddf_hillis, p_hillis (the unconstrained test), with " σ²_TR ≥ 0" added to ``method``.

    ``clusters`` (one id per image, e.g. the patient): the covariances are taken with the cluster
    as the unit (:func:`auc_covariance`), and ``method`` says "patient-clustered" when it groups
    images.

    Returns auc_a, auc_b (seed means), diff (a − b), se, t (= diff / se), F, ddf, p, ci_low,
    ci_high, level, n_seeds, cov, method, and the OR ingredients var, cov1, cov2, cov3, ms_t,
    ms_tr, denominator (NaN where undefined); with one seed also z (= t).
    """
    _check_level(level)
    a = _as_seed_matrix(scores_a, "scores_a")
    b = _as_seed_matrix(scores_b, "scores_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"scores_a has {a.shape[1]} images but scores_b has {b.shape[1]}: "
            "both configurations must be scored on the same test images"
        )
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"scores_a has {a.shape[0]} seeds but scores_b has {b.shape[0]}: the paired OR model "
            "treats seed j as reader j in both configurations, so it needs the same seeds for "
            "both; pass the seeds common to both configurations (or use a readers-nested-within-"
            "configuration analysis, not implemented here)"
        )
    r = a.shape[0]
    aucs, c = auc_covariance(labels, np.vstack([a, b]), cov=cov, clusters=clusters)
    name = _cov_name(cov, clusters)

    if r == 1:  # the paired z-test of the two models (= delong_paired_test for cov="delong")
        one = paired_auc_test(aucs, c)
        auc_a, auc_b, diff, se = one["auc_a"], one["auc_b"], one["diff"], one["se"]
        t_stat, p = one["z"], one["p"]
        f_stat, ddf, method = t_stat**2, math.inf, f"{name} (one seed)"
        parts = dict.fromkeys(_OR_PARTS, math.nan)
    else:
        t = 2
        theta = aucs.reshape(t, r)  # rows: configuration, columns: seed
        same_seed = np.tile(np.eye(r, dtype=bool), (t, t))
        same_cfg = np.kron(np.eye(t, dtype=bool), np.ones((r, r), dtype=bool))
        cov2 = float(c[~same_seed & same_cfg].mean())
        cov3 = float(c[~same_seed & ~same_cfg].mean())

        cfg_means = theta.mean(axis=1)
        seed_means = theta.mean(axis=0)
        grand = float(theta.mean())
        ms_t = float(r * np.sum((cfg_means - grand) ** 2) / (t - 1))
        resid = theta - cfg_means[:, None] - seed_means[None, :] + grand
        ms_tr = float(np.sum(resid**2) / ((t - 1) * (r - 1)))
        denom = ms_tr + r * max(cov2 - cov3, 0.0)

        auc_a, auc_b = float(cfg_means[0]), float(cfg_means[1])
        diff = float(cfg_means[0] - cfg_means[1])
        se = math.sqrt(2.0 * denom / r)
        if denom > 0:
            f_stat = ms_t / denom
            ddf = denom**2 / (ms_tr**2 / ((t - 1) * (r - 1))) if ms_tr > 0 else math.inf
            p = float(_st.f.sf(f_stat, t - 1, ddf))
            t_stat = diff / se
        else:  # identical AUC vectors up to a constant shift and no image variance
            f_stat = 0.0 if abs(diff) < 1e-12 else math.inf
            ddf = math.inf
            p = 1.0 if f_stat == 0.0 else 0.0
            t_stat = 0.0 if f_stat == 0.0 else math.copysign(math.inf, diff)
        method = f"Obuchowski-Rockette-Hillis ({name} covariance)"
        parts = {
            "var": float(np.mean(np.diag(c))),
            "cov1": float(c[same_seed & ~same_cfg].mean()),
            "cov2": cov2,
            "cov3": cov3,
            "ms_t": ms_t,
            "ms_tr": ms_tr,
            "denominator": denom,
        }
        if constrain_tr:  # σ²_TR ≥ 0 (or_hillis_f); the unconstrained test kept beside it
            con = or_hillis_f(theta, parts["var"], parts["cov1"], cov2, cov3, constrain_tr=True)
            parts.update({"ms_tr_floor": float(con["floor"]), "var_tr": float(con["var_tr"]),
                          "floor_binds": bool(con["floor_binds"]), "F_hillis": f_stat,
                          "ddf_hillis": ddf, "p_hillis": p})  # fmt: skip
            if float(con["denominator"]) > 0:  # else: no image variance, the answer above
                denom = parts["denominator"] = float(con["denominator"])
                f_stat, ddf, p = float(con["F"]), float(con["ddf"]), float(con["p"])
                se = math.sqrt(2.0 * denom / r)
                t_stat = diff / se
            method += " σ²_TR ≥ 0"
    lo, hi = _t_ci(diff, se, ddf, level)
    out = {
        "auc_a": auc_a,
        "auc_b": auc_b,
        "diff": diff,
        "se": se,
        "t": t_stat,
        "F": f_stat,
        "ddf": ddf,
        "p": p,
        "ci_low": lo,
        "ci_high": hi,
        "level": level,
        "n_seeds": r,
        "cov": cov,
        "method": method,
        **parts,
    }
    return out if r > 1 else {**one, **out}  # one seed: the z-test's keys (with z) first


def hillis_single(estimates: ArrayLike, cov: ArrayLike) -> tuple[float, float, float, float]:
    """(se, df, MS(R), Cov2) of the seed mean of r >= 2 per-seed estimates (the results, pneumonia and findings chapters).

    Hillis single-test variance (Hillis 2007; Hillis, Berbaum & Metz 2008) from the r per-seed
    estimates (AUCs in :func:`or_hillis_single`, rates in :func:`helpers.stats.ratios.or_hillis_rate`) and
    their r × r image-sampling covariance: MS(R) = Σ_j (θ_j − θ̄)² / (r − 1), Cov2 the mean
    off-diagonal covariance, var(θ̄) = MS(R) / r + max(Cov2, 0) and
    df = (MS(R) + r · max(Cov2, 0))² / (MS(R)² / (r − 1)) (inf when MS(R) = 0).
    """
    est = np.asarray(estimates, dtype=float)
    c = np.asarray(cov, dtype=float)
    r = est.size
    if r < 2 or c.shape != (r, r):
        raise ValueError(
            f"need r >= 2 estimates and their r × r covariance; got shapes {est.shape}, {c.shape}"
        )
    ms_r = float(np.var(est, ddof=1))
    cov2 = float(c[~np.eye(r, dtype=bool)].mean())
    num = ms_r + r * max(cov2, 0.0)
    se = math.sqrt(num / r)
    df = num**2 / (ms_r**2 / (r - 1)) if ms_r > 0 else math.inf
    return se, df, ms_r, cov2


def or_hillis_single(
    labels: ArrayLike,
    scores: ArrayLike,
    cov: CovMethod = "delong",
    level: float = 0.95,
    *,
    clusters: ArrayLike | None = None,
) -> dict[str, Any]:
    """Seed-mean AUC of one configuration with a CI over both seeds and images (results chapter).

    Model (Obuchowski & Rockette 1995, one test): θ̂_j = μ + R_j + ε_j for seeds j = 1..r, with
    R_j ~ N(0, σ²_R) the seed ("reader") effect and ε_j the image-sampling error, Var(ε_j) = Var,
    Cov(ε_j, ε_j') = Cov2 (shared test images), estimated by averaging the DeLong (or jackknife)
    covariance matrix of the r AUCs.

    Hillis single-test interval (Hillis 2007, Stat Med 26:596; Hillis, Berbaum & Metz 2008, Acad
    Radiol 15:647): with MS(R) = Σ_j (θ_j − θ̄)² / (r − 1),

    * var(θ̄) = MS(R) / r + max(Cov2, 0),
    * df = (MS(R) + r · max(Cov2, 0))² / (MS(R)² / (r − 1)),
    * CI = θ̄ ± t_{1−α/2; df} · sqrt(var(θ̄)).

    With one seed (r = 1) the seed variance is unknown and the CI reduces to the normal DeLong
    interval of that one model (df = inf): it covers image variance only.

    ``clusters`` (one id per image, e.g. the patient) takes the covariances with the cluster as
    the unit (:func:`auc_covariance`).

    The interval is not clipped silently: if an end falls outside [0, 1] it is clipped and
    ``clipped`` is True. Returns auc, se, df, ci_low, ci_high, clipped, level, n_seeds, cov,
    method, ms_r, cov2.
    """
    _check_level(level)
    s = _as_seed_matrix(scores, "scores")
    r = s.shape[0]
    aucs, c = auc_covariance(labels, s, cov=cov, clusters=clusters)
    auc = float(aucs.mean())
    name = _cov_name(cov, clusters)
    if r == 1:
        se = math.sqrt(max(float(c[0, 0]), 0.0))
        df = math.inf
        ms_r = math.nan
        cov2 = math.nan
        method = f"{name} (one seed)"
    else:
        se, df, ms_r, cov2 = hillis_single(aucs, c)
        method = f"Obuchowski-Rockette-Hillis single test ({name} covariance)"
    lo, hi = _t_ci(auc, se, df, level)
    clipped = lo < 0.0 or hi > 1.0
    return {
        "auc": auc,
        "se": se,
        "df": df,
        "ci_low": max(lo, 0.0),
        "ci_high": min(hi, 1.0),
        "clipped": clipped,
        "level": level,
        "n_seeds": r,
        "cov": cov,
        "method": method,
        "ms_r": ms_r,
        "cov2": cov2,
    }
