"""Statistics of Part II (chest X-rays): seed-aware intervals for rates, AUC ratios across resolutions.

* :func:`or_hillis_rate` — a rate that is a mean over images (accuracy, sensitivity,
  specificity at a threshold) for r seeds evaluated on the *same* test images, with the
  Obuchowski–Rockette–Hillis single-test interval of :func:`helpers.stats.mrmc.or_hillis_single`
  (seeds as readers; the same :func:`helpers.stats.mrmc.hillis_single` computes it); the image covariance of two seeds' rates is the sample covariance of
  their 0/1 hits divided by n (for one seed: the binomial variance ``p (1 − p) / n``).
* :func:`seed_rates` — accuracy, sensitivity and specificity of r seeds at per-seed thresholds.
* :func:`weighted_auc` — the Mann–Whitney AUC with case weights, for many weight vectors at
  once (ties count ½): the engine of the image bootstrap.
* :func:`auc_ratio` — Sabottke & Spieler's AUC performance ratio AUC(low) / AUC(high) of the
  seed-mean AUCs, and :func:`ratio_difference` — whether two findings lose different shares of
  their AUC at low resolution. Both use the **same** two variance components:

  - *images*: a bootstrap over the test images (B resamples; the AUC's of every seed and both
    resolutions are recomputed on each resample, so their correlations are kept; with two
    findings whose test images overlap, one resample of the union of image ids serves both);
  - *seeds*: the sample variance over seeds of the per-seed ratio (seed j at both resolutions)
    divided by r (seeds of the two findings are independent trainings, so these add).

  The SD is the square root of their sum; the test of a difference is a two-sided z-test.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

from helpers.stats.mrmc import hillis_single

__all__ = ["auc_ratio", "or_hillis_rate", "ratio_difference", "seed_rates", "weighted_auc"]


def _t_ci(est: float, se: float, df: float, level: float) -> tuple[float, float]:
    q = _st.norm.ppf(0.5 + level / 2) if math.isinf(df) else _st.t.ppf(0.5 + level / 2, df)
    return est - q * se, est + q * se


def or_hillis_rate(hits: ArrayLike, level: float = 0.95) -> dict[str, Any]:
    """Seed-mean rate of 0/1 ``hits`` (r seeds × n images, same images) with an OR–Hillis CI.

    var(mean) = MS(R) / r + max(Cov2, 0) and df = (MS(R) + r·max(Cov2, 0))² / (MS(R)² / (r − 1))
    (Hillis 2007), Cov2 the mean image covariance of two different seeds' rates. With one seed
    the interval is the normal (Wald) binomial interval. Ends are clipped to [0, 1].
    """
    h = np.atleast_2d(np.asarray(hits, dtype=np.float64))
    if h.ndim != 2 or h.shape[1] < 2:
        raise ValueError(f"hits must be (seeds, images) with >= 2 images, got {h.shape}")
    r, n = h.shape
    rates = h.mean(axis=1)
    est = float(rates.mean())
    c = np.atleast_2d(np.cov(h, ddof=1)) / n
    if r == 1:
        se, df, ms_r, cov2 = math.sqrt(max(est * (1 - est) / n, 0.0)), math.inf, math.nan, math.nan
    else:
        se, df, ms_r, cov2 = hillis_single(rates, c)
    lo, hi = _t_ci(est, se, df, level)
    return {"rate": est, "se": se, "df": df, "ci_low": max(lo, 0.0), "ci_high": min(hi, 1.0),
            "n_seeds": r, "n_images": n, "ms_r": ms_r, "cov2": cov2, "level": level}


def seed_rates(labels: ArrayLike, probs: ArrayLike, thresholds: ArrayLike | float = 0.5,
               level: float = 0.95) -> dict[str, dict[str, Any]]:
    """Accuracy, sensitivity, specificity (:func:`or_hillis_rate`) of r seeds × n images.

    ``thresholds``: one per seed (e.g. chosen on each seed's validation set) or one for all;
    an image is called positive when its probability is >= the threshold.
    """
    y = np.asarray(labels).astype(int).ravel()
    p = np.atleast_2d(np.asarray(probs, dtype=np.float64))
    t = np.broadcast_to(np.asarray(thresholds, dtype=np.float64).reshape(-1, 1), (p.shape[0], 1))
    if p.shape[1] != y.size:
        raise ValueError(f"probs {p.shape} do not match {y.size} labels")
    hits = (p >= t).astype(int) == y[None, :]
    return {"accuracy": or_hillis_rate(hits, level),
            "sensitivity": or_hillis_rate(hits[:, y == 1], level),
            "specificity": or_hillis_rate(hits[:, y == 0], level)}


def weighted_auc(labels: ArrayLike, scores: ArrayLike, weights: ArrayLike | None = None
                 ) -> np.ndarray:
    """AUC of ``scores`` (n,) with case ``weights`` (B, n) → (B,); unit weights without them."""
    y = np.asarray(labels).astype(int).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    w = np.ones((1, y.size)) if weights is None else np.atleast_2d(np.asarray(weights, float))
    uniq, inv = np.unique(s, return_inverse=True)
    onehot = np.zeros((y.size, uniq.size))
    onehot[np.arange(y.size), inv] = 1.0
    neg = (w * (y == 0)) @ onehot  # (B, U): negative weight at each distinct score
    below = np.cumsum(neg, axis=1) - neg
    pos_w = w * (y == 1)
    num = (pos_w * (below[:, inv] + 0.5 * neg[:, inv])).sum(axis=1)
    den = pos_w.sum(axis=1) * (w * (y == 0)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def _boot_weights(n: int, n_boot: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng([int(seed), 71])
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)


def _ratio_parts(labels, low, high, w) -> tuple[np.ndarray, np.ndarray]:
    """(bootstrap ratios of the seed-mean AUCs (B,), per-seed ratios on all images (r,))."""
    lo, hi = np.atleast_2d(low), np.atleast_2d(high)
    if lo.shape != hi.shape:
        raise ValueError(f"low {lo.shape} and high {hi.shape} need the same seeds and images")
    a_lo = np.mean([weighted_auc(labels, s, w) for s in lo], axis=0)
    a_hi = np.mean([weighted_auc(labels, s, w) for s in hi], axis=0)
    per_seed = np.array([weighted_auc(labels, a)[0] / weighted_auc(labels, b)[0]
                         for a, b in zip(lo, hi, strict=True)])
    return a_lo / a_hi, per_seed


def _summary(point: float, boot: np.ndarray, per_seed: np.ndarray) -> dict[str, Any]:
    var_img = float(np.nanvar(boot, ddof=1))
    r = per_seed.size
    var_seed = float(np.var(per_seed, ddof=1)) / r if r > 1 else 0.0
    return {"ratio": point, "sd": math.sqrt(var_img + var_seed), "sd_images": math.sqrt(var_img),
            "sd_seeds": math.sqrt(var_seed), "n_seeds": r}


def auc_ratio(labels: ArrayLike, low: ArrayLike, high: ArrayLike, n_boot: int = 2000,
              seed: int = 0) -> dict[str, Any]:
    """AUC(low)/AUC(high) of seed-mean AUCs (r × n scores each) with its SD (module docstring)."""
    y = np.asarray(labels).astype(int).ravel()
    lo, hi = np.atleast_2d(np.asarray(low, float)), np.atleast_2d(np.asarray(high, float))
    point = float(np.mean([weighted_auc(y, s)[0] for s in lo])
                  / np.mean([weighted_auc(y, s)[0] for s in hi]))
    boot, per_seed = _ratio_parts(y, lo, hi, _boot_weights(y.size, n_boot, seed))
    return {**_summary(point, boot, per_seed), "n_boot": n_boot,
            "auc_low": float(np.mean([weighted_auc(y, s)[0] for s in lo])),
            "auc_high": float(np.mean([weighted_auc(y, s)[0] for s in hi]))}


def ratio_difference(findings: Mapping[str, tuple[Sequence[str], ArrayLike, ArrayLike, ArrayLike]],
                     n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Ratio(b) − ratio(a) for two findings ``{name: (ids, labels, low, high)}``, z-test.

    One bootstrap resample of the union of the image ids serves both findings (their test
    images may overlap: the bacterial-vs-viral test images are the pneumonia images of the
    pneumonia-vs-normal test set), so the image covariance of the two ratios is kept.
    """
    if len(findings) != 2:
        raise ValueError("ratio_difference compares exactly two findings")
    names = list(findings)
    union = sorted(set().union(*(map(str, f[0]) for f in findings.values())))
    pos = {i: k for k, i in enumerate(union)}
    w_all = _boot_weights(len(union), n_boot, seed)
    out: dict[str, Any] = {}
    boots, seeds_var = [], 0.0
    for name in names:
        ids, labels, low, high = findings[name]
        y = np.asarray(labels).astype(int).ravel()
        w = w_all[:, [pos[str(i)] for i in ids]]
        boot, per_seed = _ratio_parts(y, np.asarray(low, float), np.asarray(high, float), w)
        point = auc_ratio(y, low, high, n_boot=2, seed=seed)["ratio"]
        out[name] = {**_summary(point, boot, per_seed)}
        boots.append(boot)
        seeds_var += out[name]["sd_seeds"] ** 2
    diff = out[names[1]]["ratio"] - out[names[0]]["ratio"]
    sd = math.sqrt(float(np.nanvar(boots[1] - boots[0], ddof=1)) + seeds_var)
    z = diff / sd if sd > 0 else math.copysign(math.inf, diff) if diff else 0.0
    return {"findings": out, "names": names, "diff": diff, "sd": sd, "z": z,
            "p": float(2 * _st.norm.sf(abs(z))), "n_boot": n_boot,
            "corr_images": float(np.corrcoef(boots[0], boots[1])[0, 1])}
