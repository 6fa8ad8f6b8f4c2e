"""helpers.stats.metrics against scikit-learn on realistic and edge-case inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from helpers.stats.metrics import binary_arrays, binary_metrics, roc_auc


def _realistic(seed: int, n: int = 600, prevalence: float = 0.2):
    """Imbalanced labels with overlapping, partly tied scores (like a melanoma test set)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    logits = rng.normal(0, 1, n) + 1.2 * y
    p = 1 / (1 + np.exp(-logits))
    p = np.round(p, 2)  # create ties, as a saturated sigmoid does
    return y, p


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_matches_sklearn(seed, threshold):
    y, p = _realistic(seed)
    m = binary_metrics(y, p, threshold)
    pred = (p >= threshold).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    assert (m["tn"], m["fp"], m["fn"], m["tp"], m["n"]) == (tn, fp, fn, tp, len(y))
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert m["sensitivity"] == pytest.approx(skm.recall_score(y, pred))
    assert m["specificity"] == pytest.approx(skm.recall_score(1 - y, 1 - pred))
    assert m["auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert "note" not in m


def test_auc_known_values():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5  # a tie counts one half


def test_one_class_gives_nan_with_note():
    m = binary_metrics([0, 0, 0], [0.1, 0.7, 0.2])
    assert math.isnan(m["auc"]) and math.isnan(m["sensitivity"])
    assert m["specificity"] == pytest.approx(2 / 3)
    assert "no positive examples" in m["note"]
    m = binary_metrics([1, 1], [0.9, 0.2])
    assert math.isnan(m["auc"]) and math.isnan(m["specificity"])
    assert m["sensitivity"] == 0.5
    assert "no negative examples" in m["note"]


def test_bad_input_is_an_error():
    with pytest.raises(ValueError, match="differ in length"):
        binary_metrics([0, 1], [0.5])
    with pytest.raises(ValueError, match="0/1"):
        binary_metrics([0, 2], [0.5, 0.5])
    with pytest.raises(ValueError, match="NaN"):
        binary_metrics([0, 1], [0.5, float("nan")])
    with pytest.raises(ValueError, match=r"^run r1: predictions\.val: probs contain 2 NaN"):
        binary_arrays([0, 1, 1], [0.5, math.nan, math.inf], where="run r1: predictions.val")
    y, p = binary_arrays([[1], [0]], [0.25, 1])  # flattened; one class or none is the caller's call
    assert y.dtype == np.int64 and p.dtype == np.float64 and y.tolist() == [1, 0]
