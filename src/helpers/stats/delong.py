"""AUC statistics for the results chapter: fast DeLong variance, paired tests, CIs over seeds.

The AUC variance and covariance follow DeLong, DeLong & Clarke-Pearson (Biometrics 1988) in the
O(n log n) midrank formulation of Sun & Xu (IEEE Signal Processing Letters 21(11), 2014):

* for positives X (m of them) and negatives Y (n of them), the structural components are
  V10(X_i) = P(score of a random negative < X_i) + ½ P(tie) and
  V01(Y_j) = P(score of a random positive > Y_j) + ½ P(tie);
* Sun & Xu obtain both from three midrank computations (within positives, within negatives, and
  over the pooled sample): V10 = (Tz_i - Tx_i) / n and V01 = 1 - (Tz_j - Ty_j) / m;
* AUC = mean(V10) and Cov(AUC) = S10 / m + S01 / n, with S10, S01 the sample covariance
  matrices (ddof = 1) of the components across models.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

__all__ = [
    "midrank",
    "fast_delong",
    "delong_covariance",
    "delong_paired_test",
    "paired_auc_test",
    "delong_ci",
    "mean_ci",
    "holm_adjust",
]


def midrank(x: ArrayLike) -> np.ndarray:
    """1-based ranks of ``x`` with ties given their average rank (results chapter, DeLong)."""
    values = np.asarray(x, dtype=float).ravel()
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    last_rank = np.cumsum(counts)  # rank of the last member of each tie group
    mid = last_rank - (counts - 1) / 2.0
    return mid[inverse]


def _check_inputs(labels: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=float)
    if s.ndim == 1:
        s = s[np.newaxis, :]
    if y.ndim != 1 or s.ndim != 2:
        raise ValueError(
            f"labels must be 1-D and scores 1-D or (models, samples); got shapes {y.shape}, {s.shape}"
        )
    if s.shape[1] != y.shape[0]:
        raise ValueError(
            f"scores have {s.shape[1]} samples but labels have {y.shape[0]}: "
            "pass the predictions and labels of the same images"
        )
    uniq = set(np.unique(y).tolist())
    if not uniq <= {0, 1}:
        raise ValueError(f"labels must be 0/1 (1 = positive class); found values {sorted(uniq)}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN or infinite values: check the model's predictions")
    y = y.astype(bool)
    m, n = int(y.sum()), int((~y).sum())
    if m < 2 or n < 2:
        raise ValueError(
            f"DeLong needs at least 2 positives and 2 negatives; got {m} positives, {n} negatives"
        )
    return y, s


def _components(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUCs and the structural components V10 (models × m) and V01 (models × n)."""
    pos, neg = s[:, y], s[:, ~y]
    m, n = pos.shape[1], neg.shape[1]
    v10 = np.empty_like(pos)
    v01 = np.empty_like(neg)
    for r in range(s.shape[0]):
        tx = midrank(pos[r])
        ty = midrank(neg[r])
        tz = midrank(np.concatenate([pos[r], neg[r]]))
        v10[r] = (tz[:m] - tx) / n
        v01[r] = 1.0 - (tz[m:] - ty) / m
    aucs = v10.mean(axis=1)
    return aucs, v10, v01


def delong_covariance(labels: ArrayLike, scores_matrix: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """AUCs (k,) and their DeLong covariance (k, k) for k models scored on the same images (results chapter)."""
    y, s = _check_inputs(labels, scores_matrix)
    aucs, v10, v01 = _components(y, s)
    m, n = v10.shape[1], v01.shape[1]
    s10 = np.atleast_2d(np.cov(v10, ddof=1))
    s01 = np.atleast_2d(np.cov(v01, ddof=1))
    return aucs, s10 / m + s01 / n


def fast_delong(labels: ArrayLike, scores: ArrayLike) -> tuple[float, float]:
    """AUC and its DeLong variance for one model's scores (results chapter)."""
    s = np.asarray(scores, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"fast_delong takes one model's scores (1-D); got shape {s.shape}")
    aucs, cov = delong_covariance(labels, s)
    return float(aucs[0]), float(cov[0, 0])


def paired_auc_test(aucs: ArrayLike, cov: ArrayLike) -> dict[str, float]:
    """Two-sided z-test of AUC(a) = AUC(b) from two AUCs and their 2 × 2 covariance (results chapter).

    The one z-test behind :func:`delong_paired_test` (DeLong covariance) and the one-seed path of
    :func:`helpers.stats.mrmc.or_hillis_compare` (DeLong or jackknife covariance). With a zero standard
    error the difference is either none (z = 0, p = 1) or certain (z = ±inf, p = 0).
    """
    aucs = np.asarray(aucs, dtype=float)
    cov = np.asarray(cov, dtype=float)
    diff = float(aucs[0] - aucs[1])
    var = float(cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1])
    se = math.sqrt(max(var, 0.0))
    if se > 0:
        z = diff / se
    elif abs(diff) < 1e-12:
        z = 0.0  # identical component vectors: no evidence of a difference
    else:
        z = math.copysign(math.inf, diff)
    p = float(2.0 * _st.norm.sf(abs(z)))
    return {
        "auc_a": float(aucs[0]),
        "auc_b": float(aucs[1]),
        "diff": diff,
        "se": se,
        "z": z,
        "p": p,
    }


def delong_paired_test(
    labels: ArrayLike, scores_a: ArrayLike, scores_b: ArrayLike
) -> dict[str, float]:
    """Two-sided DeLong z-test of AUC(a) = AUC(b) for two models on the same images (results chapter)."""
    a = np.asarray(scores_a, dtype=float)
    b = np.asarray(scores_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"scores_a and scores_b must be 1-D and aligned; got {a.shape}, {b.shape}")
    return paired_auc_test(*delong_covariance(labels, np.vstack([a, b])))


def delong_ci(auc: float, var: float, level: float = 0.95) -> tuple[float, float]:
    """Normal-approximation CI of an AUC from its DeLong variance, clipped to [0, 1] (results chapter)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    if var < 0 or not math.isfinite(var):
        raise ValueError(f"variance must be finite and >= 0; got {var}")
    half = float(_st.norm.ppf(0.5 + level / 2)) * math.sqrt(var)
    return max(0.0, auc - half), min(1.0, auc + half)


def mean_ci(values: Sequence[float] | ArrayLike, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t CI over seeds; with one value the bounds are NaN (results chapter)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("mean_ci needs at least one value")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"mean_ci got NaN or infinite values: {x.tolist()}")
    mean = float(x.mean())
    if x.size == 1:
        return mean, math.nan, math.nan
    half = (
        float(_st.t.ppf(0.5 + level / 2, df=x.size - 1)) * float(x.std(ddof=1)) / math.sqrt(x.size)
    )
    return mean, mean - half, mean + half


def holm_adjust(pvalues: Sequence[float] | ArrayLike) -> np.ndarray:
    """Holm step-down adjusted p-values for one family of tests; NaN entries stay NaN (results chapter)."""
    p = np.asarray(pvalues, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if ok.size == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    k = order.size
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (k - np.arange(k))))
    out[order] = adjusted
    return out
