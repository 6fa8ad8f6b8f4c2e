"""Calibration of predicted probabilities: Brier score, ECE, reliability tables, temperature scaling.

Results chapter. A high AUC says the model ranks images well; calibration says whether a predicted
0.3 means "30 % of such images are melanoma". Fully fine-tuned models are very over-confident,
and temperature scaling (Guo et al., ICML 2017) is the one-parameter repair: divide the logit by
T > 1 fitted on VALIDATION log-loss, which leaves the ranking (AUC) unchanged.

Bins: ``"uniform"`` bins split [0, 1] into ``n_bins`` equal intervals, left-closed, the last one
closed (so 0.1 falls in the second of ten bins and 1.0 in the last). ``"quantile"`` bins split the
images sorted by probability into ``n_bins`` groups of equal size (sizes differ by at most one;
tied probabilities may straddle a boundary; the sort is stable, so the split is deterministic).
Over-confident models put nearly every image in the lowest uniform bin, so the quantile
strategy is the more informative one for them. Empty bins are dropped from tables and the ECE.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, special
from scipy.stats import norm

__all__ = [
    "brier_score",
    "expected_calibration_error",
    "reliability_table",
    "fit_temperature",
    "apply_temperature",
    "wilson_interval",
]

EPS = 1e-7  # probabilities are clipped to [EPS, 1 - EPS] before taking logits
_LOG_T_BOUNDS = (math.log(1e-2), math.log(1e3))


def _check(labels: ArrayLike, probs: ArrayLike, name: str = "probs") -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).reshape(-1)
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    if y.shape != p.shape:
        raise ValueError(f"labels and {name} differ in length: {y.size} vs {p.size}")
    if y.size == 0:
        raise ValueError(f"labels and {name} are empty")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be 0/1; got values {sorted(set(np.unique(y).tolist()))[:5]}")
    if not np.isfinite(p).all():
        raise ValueError(f"{name} contain {int((~np.isfinite(p)).sum())} NaN or infinite values")
    if p.min() < 0 or p.max() > 1:
        raise ValueError(f"{name} must lie in [0, 1]; got range [{p.min():g}, {p.max():g}]")
    return y.astype(np.int64), p


def brier_score(labels: ArrayLike, probs: ArrayLike) -> float:
    """Mean squared difference between probability and 0/1 label; lower is better (results chapter)."""
    y, p = _check(labels, probs)
    return float(np.mean((p - y) ** 2))


def wilson_interval(successes: ArrayLike, n: ArrayLike, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for binomial proportions k / n, elementwise (results chapter)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    k = np.asarray(successes, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    if np.any(m <= 0) or np.any(k < 0) or np.any(k > m):
        raise ValueError("wilson_interval needs 0 <= successes <= n and n > 0")
    z = float(norm.ppf(0.5 + level / 2))
    z2 = z * z
    centre = (k + z2 / 2) / (m + z2)
    half = z / (m + z2) * np.sqrt(k * (m - k) / m + z2 / 4)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _bin_index(p: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer; got {n_bins!r}")
    if strategy == "uniform":
        inner = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
        return np.searchsorted(inner, p, side="right")
    if strategy == "quantile":
        order = np.argsort(p, kind="stable")
        idx = np.empty(p.size, dtype=np.int64)
        for b, members in enumerate(np.array_split(order, n_bins)):
            idx[members] = b
        return idx
    raise ValueError(f"strategy must be 'uniform' or 'quantile'; got {strategy!r}")


def reliability_table(
    labels: ArrayLike,
    probs: ArrayLike,
    n_bins: int = 10,
    strategy: str = "uniform",
    level: float = 0.95,
) -> pd.DataFrame:
    """Per-bin count, mean prediction, observed positive rate and its Wilson CI (results chapter).

    Columns: ``bin`` (0-based index), ``lower``/``upper`` (bin edges for uniform bins; smallest
    and largest probability in the bin for quantile bins), ``n``, ``mean_predicted``,
    ``observed_rate``, ``ci_low``, ``ci_high``. Only non-empty bins appear.
    """
    y, p = _check(labels, probs)
    idx = _bin_index(p, n_bins, strategy)
    rows = []
    for b in np.unique(idx):
        sel = idx == b
        pb = p[sel]
        if strategy == "uniform":
            lower, upper = b / n_bins, (b + 1) / n_bins
        else:
            lower, upper = float(pb.min()), float(pb.max())
        rows.append({
            "bin": int(b),
            "lower": float(lower),
            "upper": float(upper),
            "n": int(sel.sum()),
            "mean_predicted": float(pb.mean()),
            "positives": int(y[sel].sum()),
        })
    table = pd.DataFrame(rows)
    table["observed_rate"] = table["positives"] / table["n"]
    lo, hi = wilson_interval(table["positives"].to_numpy(), table["n"].to_numpy(), level)
    table["ci_low"] = lo
    table["ci_high"] = hi
    return table[["bin", "lower", "upper", "n", "mean_predicted", "observed_rate", "ci_low", "ci_high"]]


def expected_calibration_error(
    labels: ArrayLike, probs: ArrayLike, n_bins: int = 10, strategy: str = "uniform"
) -> float:
    """Bin-size-weighted mean of |observed rate - mean prediction| over non-empty bins (results chapter).

    Expect a small positive value even for a perfectly calibrated model (sampling noise in each
    bin); compare models with the same bins and a similar number of images.
    """
    t = reliability_table(labels, probs, n_bins=n_bins, strategy=strategy)
    w = t["n"].to_numpy() / t["n"].sum()
    return float(np.sum(w * np.abs(t["observed_rate"] - t["mean_predicted"]).to_numpy()))


def _logits(p: np.ndarray) -> np.ndarray:
    return special.logit(np.clip(p, EPS, 1 - EPS))


def fit_temperature(labels_val: ArrayLike, probs_val: ArrayLike) -> float:
    """Temperature T minimising validation log-loss of ``sigmoid(logit(p) / T)`` (results chapter).

    T > 1 softens an over-confident model, T < 1 sharpens an under-confident one. The fit is a
    bounded 1-D search over log T in [log 0.01, log 1000] (the loss is unimodal in log T);
    probabilities are clipped to [1e-7, 1 - 1e-7] first, so exact 0/1 outputs get a finite logit.
    A ``RuntimeWarning`` flags a fit at a bound (e.g. validation classes perfectly separated).
    """
    y, p = _check(labels_val, probs_val, name="probs_val")
    if y.min() == y.max():
        raise ValueError(f"labels_val hold one class only (all {int(y[0])}): the temperature is not identified")
    z = _logits(p)

    def loss(log_t: float) -> float:
        a = z / math.exp(log_t)
        return float(np.mean(np.logaddexp(0.0, a) - y * a))  # mean binary log-loss, stable

    res = optimize.minimize_scalar(loss, bounds=_LOG_T_BOUNDS, method="bounded", options={"xatol": 1e-6})
    log_t = float(res.x)
    if min(abs(log_t - b) for b in _LOG_T_BOUNDS) < 1e-3:
        warnings.warn(
            f"temperature fit stopped at the search bound T = {math.exp(log_t):.3g}: the validation "
            "loss keeps falling (are the classes perfectly separated?)",
            RuntimeWarning,
            stacklevel=2,
        )
    return math.exp(log_t)


def apply_temperature(probs: ArrayLike, T: float) -> np.ndarray:
    """``sigmoid(logit(clip(p)) / T)``: temperature-scaled probabilities; ranking unchanged (results chapter)."""
    t = float(T)
    if not (math.isfinite(t) and t > 0):
        raise ValueError(f"T must be a positive finite temperature; got {T}")
    p = np.asarray(probs, dtype=np.float64)
    if not np.isfinite(p).all():
        raise ValueError("probs contain NaN or infinite values")
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"probs must lie in [0, 1]; got range [{p.min():g}, {p.max():g}]")
    return special.expit(_logits(p) / t)


