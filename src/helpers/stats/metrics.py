"""Binary classification metrics from labels and probabilities (training and results chapters).

The positive class is label 1. AUC is the Mann–Whitney rank statistic (ties count one half),
identical to the trapezoidal ROC area. When a set holds only one class, the quantities that
need both classes (AUC, and sensitivity or specificity) are NaN and ``note`` says why, rather
than silently returning 0 or 1.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata


def binary_arrays(
    labels: ArrayLike, probs: ArrayLike, where: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """0/1 int64 labels and finite float64 probs of equal length (training and results chapters).

    The one input check of :func:`binary_metrics`, :func:`roc_auc` and :mod:`helpers.stats.operating`.
    ``where`` (e.g. ``"run r1: predictions.val"``) starts every error message when given. A set
    with one class (or none) passes: the caller decides what that means.
    """
    lead = f"{where}: " if where else ""
    y = np.asarray(labels).reshape(-1)
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    if y.shape != p.shape:
        raise ValueError(f"{lead}labels and probs differ in length: {y.size} vs {p.size}")
    if y.size and not np.isin(y, (0, 1)).all():
        found = sorted(set(np.unique(y).tolist()))[:5]
        raise ValueError(f"{lead}labels must be 0/1; got values {found}")
    if not np.isfinite(p).all():
        raise ValueError(
            f"{lead}probs contain {int((~np.isfinite(p)).sum())} NaN or infinite values "
            "(did training diverge?)"
        )
    return y.astype(np.int64), p


def roc_auc(labels, probs) -> float:
    """Area under the ROC curve via the rank statistic; NaN for a one-class set (results chapter)."""
    y, p = binary_arrays(labels, probs)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(p)  # average ranks for ties
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _ratio(num: int, den: int) -> float:
    return num / den if den else math.nan


def binary_metrics(labels, probs, threshold: float = 0.5) -> dict:
    """accuracy, f1, sensitivity, specificity, auc, tn, fp, fn, tp, n at a threshold (training chapter)."""
    y, p = binary_arrays(labels, probs)
    pred = (p >= threshold).astype(np.int64)
    tp = int(((pred == 1) & (y == 1)).sum())
    tn = int(((pred == 0) & (y == 0)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    n = int(y.size)
    out = {
        "accuracy": _ratio(tp + tn, n),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "sensitivity": _ratio(tp, tp + fn),
        "specificity": _ratio(tn, tn + fp),
        "auc": roc_auc(y, p) if n else math.nan,
        "tn": tn,
        "fp": fp,
        "fn": fn,
        "tp": tp,
        "n": n,
        "threshold": float(threshold),
    }
    notes = []
    if n == 0:
        notes.append("empty set: every metric is NaN")
    elif tp + fn == 0:
        notes.append("no positive examples: sensitivity and AUC are undefined (NaN)")
    elif tn + fp == 0:
        notes.append("no negative examples: specificity and AUC are undefined (NaN)")
    if n and 2 * tp + fp + fn == 0:
        notes.append("no positives predicted or present: F1 is undefined (NaN)")
    if notes:
        out["note"] = "; ".join(notes)
    return out
