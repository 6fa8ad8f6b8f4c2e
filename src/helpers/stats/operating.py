"""Operating points of a binary classifier: thresholds chosen on validation, judged on test.

Results chapter. The paper reports sensitivity and specificity at a fixed threshold of 0.5. Fully
fine-tuned models are very over-confident (median test probability around 1e-3), so at 0.5 they
flag almost nothing and sensitivity collapses even when the AUC is high. The honest alternative is
to choose the threshold on the VALIDATION split, by a stated rule, and apply it unchanged to TEST:

* ``youden``: maximise Youden's J = sensitivity + specificity - 1;
* ``sens90``: the highest threshold that still reaches 90 % sensitivity (a screening rule).

Conventions, shared with :func:`helpers.stats.metrics.binary_metrics`: label 1 is the positive class and
an image is called positive when ``prob >= threshold``. Candidate thresholds are the observed
scores (each distinct score gives one ROC point); the rules that may need to call nothing positive
(a specificity target, or a sensitivity target of 0) also consider the smallest float above the
highest score. Ties and rates are computed in integers, so ``0.7`` means exactly 7 of 10.

Single-set ROC summaries (:func:`sensitivity_at_specificity`, :func:`specificity_at_sensitivity`)
report the best achievable ROC point at or above the target, without interpolating between
points; they describe the test ROC curve, not a deployable rule (their threshold is tuned on test).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from helpers.stats.metrics import binary_arrays, binary_metrics

__all__ = [
    "youden_threshold",
    "threshold_for_sensitivity",
    "threshold_for_specificity",
    "sensitivity_at_specificity",
    "specificity_at_sensitivity",
    "operating_points",
]

_TOL = 1e-12  # rates are exact ratios of integers; this only absorbs decimal-literal rounding


def _check(labels: ArrayLike, probs: ArrayLike, where: str = "labels") -> tuple[np.ndarray, np.ndarray]:
    """:func:`helpers.stats.metrics.binary_arrays`, with both classes required."""
    y, p = binary_arrays(labels, probs, where)
    n_pos = int(y.sum())
    n_neg = int(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            f"{where} has only one class ({n_pos} positives, {n_neg} negatives): sensitivity and "
            "specificity need both, so no threshold can be chosen or judged on it"
        )
    return y, p


def _check_target(target: float, name: str) -> float:
    t = float(target)
    if not (0.0 <= t <= 1.0):
        raise ValueError(f"{name} must be a rate in [0, 1]; got {target}")
    return t


def _roc(y: np.ndarray, p: np.ndarray, above_max: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Thresholds (ascending) with the true- and false-positive counts of ``p >= t``."""
    thr = np.unique(p)  # ascending distinct scores
    if above_max:
        thr = np.append(thr, np.nextafter(thr[-1], np.inf))
    pos = np.sort(p[y == 1])
    neg = np.sort(p[y == 0])
    tp = pos.size - np.searchsorted(pos, thr, side="left")
    fp = neg.size - np.searchsorted(neg, thr, side="left")
    return thr, tp, fp, int(pos.size), int(neg.size)


def youden_threshold(labels: ArrayLike, probs: ArrayLike) -> float:
    """Observed score maximising sensitivity + specificity - 1; ties go to the highest (results chapter).

    Choose it on validation data and apply it unchanged to test. When the scores do not separate
    the classes (J <= 0 everywhere, e.g. constant probabilities) a ``RuntimeWarning`` is issued;
    the tie rule still applies, so constant scores return the constant (everything positive).
    """
    y, p = _check(labels, probs)
    thr, tp, fp, n_pos, n_neg = _roc(y, p, above_max=False)
    j_scaled = tp * n_neg - fp * n_pos  # J * n_pos * n_neg, exact in integers
    best = j_scaled.max()
    if best <= 0:
        warnings.warn(
            "Youden's J is <= 0 at every threshold: the scores do not separate the classes",
            RuntimeWarning,
            stacklevel=2,
        )
    return float(thr[np.flatnonzero(j_scaled == best)[-1]])


def threshold_for_sensitivity(labels: ArrayLike, probs: ArrayLike, target: float = 0.90) -> float:
    """Highest threshold whose sensitivity on these data is >= ``target`` (results chapter).

    Sensitivity only falls as the threshold rises, so this is the most specific rule that still
    catches the target fraction of positives here. Choose it on validation, apply it to test.
    """
    target = _check_target(target, "target")
    y, p = _check(labels, probs)
    thr, tp, _, n_pos, _ = _roc(y, p, above_max=True)
    ok = np.flatnonzero(tp / n_pos >= target - _TOL)
    return float(thr[ok[-1]])  # the lowest observed score always gives sensitivity 1


def threshold_for_specificity(labels: ArrayLike, probs: ArrayLike, target: float = 0.90) -> float:
    """Lowest threshold whose specificity on these data is >= ``target`` (results chapter).

    If only calling nothing positive reaches the target (a negative holds the highest score and
    the target is 1), the result is the smallest float above the highest score.
    """
    target = _check_target(target, "target")
    y, p = _check(labels, probs)
    thr, _, fp, _, n_neg = _roc(y, p, above_max=True)
    ok = np.flatnonzero((n_neg - fp) / n_neg >= target - _TOL)
    return float(thr[ok[0]])  # above the highest score specificity is 1


def sensitivity_at_specificity(labels: ArrayLike, probs: ArrayLike, spec: float = 0.90) -> float:
    """Best sensitivity among ROC points with specificity >= ``spec``, no interpolation (results chapter)."""
    t = threshold_for_specificity(labels, probs, _check_target(spec, "spec"))
    return float(binary_metrics(labels, probs, t)["sensitivity"])


def specificity_at_sensitivity(labels: ArrayLike, probs: ArrayLike, sens: float = 0.90) -> float:
    """Best specificity among ROC points with sensitivity >= ``sens``, no interpolation (results chapter)."""
    t = threshold_for_sensitivity(labels, probs, _check_target(sens, "sens"))
    return float(binary_metrics(labels, probs, t)["specificity"])


def _split(record: Mapping[str, Any], split: str) -> tuple[np.ndarray, np.ndarray]:
    rid = record.get("run_id", "<no run_id>") if isinstance(record, Mapping) else "<not a mapping>"
    preds = record.get("predictions") if isinstance(record, Mapping) else None
    block = preds.get(split) if isinstance(preds, Mapping) else None
    if not isinstance(block, Mapping) or "labels" not in block or "probs" not in block:
        raise ValueError(
            f"run {rid} has no predictions.{split} (labels and probs): thresholds are chosen on "
            "validation and judged on test, so the record needs both splits"
        )
    return _check(block["labels"], block["probs"], where=f"run {rid}: predictions.{split}")


def _at(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    m = binary_metrics(y, p, threshold)
    tp, fp, tn, fn = m["tp"], m["fp"], m["tn"], m["fn"]
    return {
        "threshold": float(threshold),
        "sensitivity": m["sensitivity"],
        "specificity": m["specificity"],
        "accuracy": m["accuracy"],
        "ppv": tp / (tp + fp) if tp + fp else math.nan,  # NaN: nothing called positive
        "npv": tn / (tn + fn) if tn + fn else math.nan,  # NaN: nothing called negative
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
    }


def _pct(rate: float) -> str:
    return f"{round(100 * rate)}"


def operating_points(record: Mapping[str, Any], target: float = 0.90) -> dict[str, Any]:
    """Test performance at thresholds chosen on validation, for one run record (results chapter).

    Rules (keys of ``"rules"``): ``"0.5"`` (the paper's fixed threshold), ``"youden"`` and
    ``"sens90"`` (for ``target=0.90``), the latter two chosen on ``predictions.val`` and applied
    unchanged to ``predictions.test``. Each rule gives its threshold and the test sensitivity,
    specificity, accuracy, PPV, NPV (NaN when nothing is called positive, resp. negative) and
    confusion counts. ``"sens_at_spec90"`` and ``"spec_at_sens90"`` summarise the test ROC curve
    itself (thresholds tuned on test: an upper bound, not a rule). ``"val_sensitivity"`` under
    each rule shows what the rule achieved on the split that chose it.

    Raises ValueError naming the run and split when ``val`` or ``test`` predictions are missing,
    contain NaN, or hold one class only.
    """
    target = _check_target(target, "target")
    y_val, p_val = _split(record, "val")
    y_test, p_test = _split(record, "test")
    k = _pct(target)
    thresholds = {
        "0.5": 0.5,
        "youden": youden_threshold(y_val, p_val),
        f"sens{k}": threshold_for_sensitivity(y_val, p_val, target),
    }
    rules = {}
    for name, t in thresholds.items():
        rules[name] = _at(y_test, p_test, t)
        rules[name]["val_sensitivity"] = binary_metrics(y_val, p_val, t)["sensitivity"]
    return {
        "run_id": record.get("run_id"),
        "n_val": int(y_val.size),
        "n_test": int(y_test.size),
        "test_prevalence": float(y_test.mean()),
        "rules": rules,
        f"sens_at_spec{k}": sensitivity_at_specificity(y_test, p_test, target),
        f"spec_at_sens{k}": specificity_at_sensitivity(y_test, p_test, target),
    }
