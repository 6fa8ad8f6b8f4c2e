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

Clustered images (several radiographs of one child): every function takes the cluster (the
patient) as the unit when given one id per image (``clusters=``; ``cluster_of=`` for
:func:`ratio_difference`). Rates then use the cluster-robust (sandwich) variance of a mean,
I / (I − 1) · Σ_c (Σ_{i∈c} (h_i − p))² / n² over the I clusters; the bootstrap resamples clusters
with all their images (a cluster bootstrap), drawing the clusters in the order they first
appear, so that with one image per cluster every number equals the image-level one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

from helpers.stats.mrmc import has_clusters, hillis_single

__all__ = ["auc_ratio", "or_hillis_rate", "ratio_difference", "seed_rates", "weighted_auc"]


def _t_ci(est: float, se: float, df: float, level: float) -> tuple[float, float]:
    q = _st.norm.ppf(0.5 + level / 2) if math.isinf(df) else _st.t.ppf(0.5 + level / 2, df)
    return est - q * se, est + q * se


def _cluster_ids(clusters: ArrayLike, n: int) -> tuple[np.ndarray, int]:
    """Cluster index per image (0..I−1 in order of first appearance) and I; ValueError on length."""
    c = np.asarray(clusters).ravel()
    if c.size != n:
        raise ValueError(f"clusters ({c.size}) must give one id per image ({n})")
    _, first, inv = np.unique(c, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))  # sorted-unique position → first-appearance rank
    return order[inv.ravel()], first.size


def _clustered_rate_cov(h: np.ndarray, clusters: ArrayLike) -> np.ndarray:
    """Cluster-robust covariance (r × r) of the r rates ``h.mean(axis=1)`` (module docstring)."""
    r, n = h.shape
    cid, k = _cluster_ids(clusters, n)
    if k < 2:
        raise ValueError("need at least 2 clusters for a clustered variance")
    dev = h - h.mean(axis=1, keepdims=True)
    sums = np.stack([np.bincount(cid, weights=dev[j], minlength=k) for j in range(r)])
    return k / (k - 1) * (sums @ sums.T) / n**2


def or_hillis_rate(hits: ArrayLike, level: float = 0.95,
                   clusters: ArrayLike | None = None) -> dict[str, Any]:
    """Seed-mean rate of 0/1 ``hits`` (r seeds × n images, same images) with an OR–Hillis CI.

    var(mean) = MS(R) / r + max(Cov2, 0) and df = (MS(R) + r·max(Cov2, 0))² / (MS(R)² / (r − 1))
    (Hillis 2007), Cov2 the mean image covariance of two different seeds' rates. With one seed
    the interval is the normal (Wald) binomial interval. Ends are clipped to [0, 1].
    ``clusters`` (one id per image, e.g. the patient): the image covariances are cluster-robust
    (module docstring); with one seed the Wald interval uses that variance.
    """
    h = np.atleast_2d(np.asarray(hits, dtype=np.float64))
    if h.ndim != 2 or h.shape[1] < 2:
        raise ValueError(f"hits must be (seeds, images) with >= 2 images, got {h.shape}")
    r, n = h.shape
    rates = h.mean(axis=1)
    est = float(rates.mean())
    clustered = has_clusters(clusters)
    c = _clustered_rate_cov(h, clusters) if clustered else np.atleast_2d(np.cov(h, ddof=1)) / n
    if r == 1:
        var1 = float(c[0, 0]) if clustered else est * (1 - est) / n
        se, df, ms_r, cov2 = math.sqrt(max(var1, 0.0)), math.inf, math.nan, math.nan
    else:
        se, df, ms_r, cov2 = hillis_single(rates, c)
    lo, hi = _t_ci(est, se, df, level)
    return {"rate": est, "se": se, "df": df, "ci_low": max(lo, 0.0), "ci_high": min(hi, 1.0),
            "n_seeds": r, "n_images": n, "ms_r": ms_r, "cov2": cov2, "level": level}


def seed_rates(labels: ArrayLike, probs: ArrayLike, thresholds: ArrayLike | float = 0.5,
               level: float = 0.95, clusters: ArrayLike | None = None
               ) -> dict[str, dict[str, Any]]:
    """Accuracy, sensitivity, specificity (:func:`or_hillis_rate`) of r seeds × n images.

    ``thresholds``: one per seed (e.g. chosen on each seed's validation set) or one for all;
    an image is called positive when its probability is >= the threshold. ``clusters``: one id
    per image (the patient), passed on to :func:`or_hillis_rate` for every rate.
    """
    y = np.asarray(labels).astype(int).ravel()
    p = np.atleast_2d(np.asarray(probs, dtype=np.float64))
    t = np.broadcast_to(np.asarray(thresholds, dtype=np.float64).reshape(-1, 1), (p.shape[0], 1))
    if p.shape[1] != y.size:
        raise ValueError(f"probs {p.shape} do not match {y.size} labels")
    hits = (p >= t).astype(int) == y[None, :]
    c = None if clusters is None else np.asarray(clusters).ravel()
    if c is not None and c.size != y.size:
        raise ValueError(f"clusters ({c.size}) must give one id per image ({y.size})")
    def part(mask: np.ndarray) -> dict[str, Any]:
        return or_hillis_rate(hits[:, mask], level, None if c is None else c[mask])
    return {"accuracy": part(np.ones(y.size, bool)), "sensitivity": part(y == 1),
            "specificity": part(y == 0)}


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


def _boot_weights(n: int, n_boot: int, seed: int, clusters: ArrayLike | None = None
                  ) -> np.ndarray:
    """(B, n) image weights of B bootstrap resamples: of the images, or (``clusters``, one id per
    image) of the clusters, each drawn cluster bringing all its images; the clusters are drawn
    in order of first appearance, so one image per cluster gives the image bootstrap exactly."""
    rng = np.random.default_rng([int(seed), 71])
    if clusters is None:
        return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)
    cid, k = _cluster_ids(clusters, n)
    return rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot).astype(np.float64)[:, cid]


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
              seed: int = 0, clusters: ArrayLike | None = None) -> dict[str, Any]:
    """AUC(low)/AUC(high) of seed-mean AUCs (r × n scores each) with its SD (module docstring);
    ``clusters`` (one id per image): the bootstrap resamples clusters."""
    y = np.asarray(labels).astype(int).ravel()
    lo, hi = np.atleast_2d(np.asarray(low, float)), np.atleast_2d(np.asarray(high, float))
    point = float(np.mean([weighted_auc(y, s)[0] for s in lo])
                  / np.mean([weighted_auc(y, s)[0] for s in hi]))
    boot, per_seed = _ratio_parts(y, lo, hi, _boot_weights(y.size, n_boot, seed, clusters))
    return {**_summary(point, boot, per_seed), "n_boot": n_boot,
            "auc_low": float(np.mean([weighted_auc(y, s)[0] for s in lo])),
            "auc_high": float(np.mean([weighted_auc(y, s)[0] for s in hi]))}


def ratio_difference(findings: Mapping[str, tuple[Sequence[str], ArrayLike, ArrayLike, ArrayLike]],
                     n_boot: int = 2000, seed: int = 0,
                     cluster_of: Callable[[str], str] | None = None) -> dict[str, Any]:
    """Ratio(b) − ratio(a) for two findings ``{name: (ids, labels, low, high)}``, z-test.

    One bootstrap resample of the union of the image ids serves both findings (their test
    images may overlap: the bacterial-vs-viral test images are the pneumonia images of the
    pneumonia-vs-normal test set), so the image covariance of the two ratios is kept.
    ``cluster_of`` (image id → cluster id, e.g. the patient) resamples clusters instead: one
    draw of the union's clusters serves both findings.
    """
    if len(findings) != 2:
        raise ValueError("ratio_difference compares exactly two findings")
    names = list(findings)
    union = sorted(set().union(*(map(str, f[0]) for f in findings.values())))
    pos = {i: k for k, i in enumerate(union)}
    w_all = _boot_weights(len(union), n_boot, seed,
                          None if cluster_of is None else [cluster_of(i) for i in union])
    out: dict[str, Any] = {}
    boots, seeds_var = [], 0.0
    for name in names:
        ids, labels, low, high = findings[name]
        y = np.asarray(labels).astype(int).ravel()
        w = w_all[:, [pos[str(i)] for i in ids]]
        boot, per_seed = _ratio_parts(y, np.asarray(low, float), np.asarray(high, float), w)
        point = float(np.mean([weighted_auc(y, s)[0] for s in np.atleast_2d(low)])
                      / np.mean([weighted_auc(y, s)[0] for s in np.atleast_2d(high)]))
        out[name] = {**_summary(point, boot, per_seed)}
        boots.append(boot)
        seeds_var += out[name]["sd_seeds"] ** 2
    diff = out[names[1]]["ratio"] - out[names[0]]["ratio"]
    sd = math.sqrt(float(np.nanvar(boots[1] - boots[0], ddof=1)) + seeds_var)
    z = diff / sd if sd > 0 else math.copysign(math.inf, diff) if diff else 0.0
    return {"findings": out, "names": names, "diff": diff, "sd": sd, "z": z,
            "p": float(2 * _st.norm.sf(abs(z))), "n_boot": n_boot,
            "corr_images": float(np.corrcoef(boots[0], boots[1])[0, 1])}
