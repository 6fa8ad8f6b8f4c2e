"""helpers.stats.operating: thresholds on hand-worked examples, a brute-force check, and run records."""

from __future__ import annotations

import math

import numpy as np
import pytest
from record_factory import make_record

from helpers.stats.metrics import binary_metrics
from helpers.stats.operating import (
    operating_points,
    sensitivity_at_specificity,
    specificity_at_sensitivity,
    threshold_for_sensitivity,
    threshold_for_specificity,
    youden_threshold,
)

# Example A: 4 positives (0.3, 0.5, 0.7, 0.8), 4 negatives (0.1, 0.2, 0.4, 0.6).
# Predict positive when p >= t. By hand:
#   t    tp fp  sens  spec  J
#   0.1  4  4   1     0     0
#   0.2  4  3   1     .25   .25
#   0.3  4  2   1     .5    .5
#   0.4  3  2   .75   .5    .25
#   0.5  3  1   .75   .75   .5
#   0.6  2  1   .5    .75   .25
#   0.7  2  0   .5    1     .5
#   0.8  1  0   .25   1     .25
# J is maximal (0.5) at 0.3, 0.5 and 0.7; ties go to the highest, 0.7.
P_A = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
Y_A = [0, 0, 1, 0, 1, 0, 1, 1]


def test_youden_hand_example_ties_to_highest():
    assert youden_threshold(Y_A, P_A) == 0.7


@pytest.mark.parametrize(("target", "expected"), [(0.9, 0.3), (1.0, 0.3), (0.75, 0.5), (0.5, 0.7), (0.25, 0.8)])
def test_threshold_for_sensitivity_hand(target, expected):
    # highest t in the table with sens >= target
    assert threshold_for_sensitivity(Y_A, P_A, target) == expected


@pytest.mark.parametrize(("target", "expected"), [(0.9, 0.7), (1.0, 0.7), (0.75, 0.5), (0.5, 0.3), (0.0, 0.1)])
def test_threshold_for_specificity_hand(target, expected):
    # lowest t in the table with spec >= target
    assert threshold_for_specificity(Y_A, P_A, target) == expected


def test_roc_summaries_hand():
    # spec >= 0.9 first reached at t = 0.7 where sens = 0.5; spec >= 0.75 at t = 0.5, sens 0.75
    assert sensitivity_at_specificity(Y_A, P_A, 0.9) == 0.5
    assert sensitivity_at_specificity(Y_A, P_A, 0.75) == 0.75
    # sens >= 0.9 needs sens = 1: highest such t = 0.3, spec 0.5; sens >= 0.75 at t = 0.5, spec 0.75
    assert specificity_at_sensitivity(Y_A, P_A, 0.9) == 0.5
    assert specificity_at_sensitivity(Y_A, P_A, 0.75) == 0.75


def test_tied_scores():
    # p: 0.2 0.2 0.5 0.5 0.9, y: 0 0 0 1 1 (2 positives, 3 negatives). By hand:
    #   t=0.2: tp 2 fp 3 -> J 0;  t=0.5: tp 2 fp 1 -> J = 1 + 2/3 - 1 = 2/3;  t=0.9: tp 1 fp 0 -> J .5
    p = [0.2, 0.2, 0.5, 0.5, 0.9]
    y = [0, 0, 0, 1, 1]
    assert youden_threshold(y, p) == 0.5
    assert threshold_for_sensitivity(y, p, 0.9) == 0.5  # sens 1 at 0.5, 0.5 at 0.9
    assert threshold_for_specificity(y, p, 0.9) == 0.9  # spec 2/3 at 0.5, 1 at 0.9
    assert sensitivity_at_specificity(y, p, 0.9) == 0.5
    assert specificity_at_sensitivity(y, p, 0.9) == pytest.approx(2 / 3)


def test_exact_rates_not_float_rounding():
    # 10 positives at 0.1..1.0 and 3 negatives at 0.05: sens(t=0.4) = 7/10 exactly.
    # 0.7 * 10 = 7.000000000000001 in floats; the rule must still accept 7 of 10.
    p = np.r_[np.arange(1, 11) / 10, [0.05] * 3]
    y = np.r_[np.ones(10, int), np.zeros(3, int)]
    assert threshold_for_sensitivity(y, p, 0.7) == 0.4


def test_top_score_negative_needs_threshold_above_max():
    # p 0.1 (positive), 0.9 (negative): spec is 0 at both observed scores, 1 only above 0.9.
    y, p = [1, 0], [0.1, 0.9]
    t = threshold_for_specificity(y, p, 1.0)
    assert t > 0.9 and t == np.nextafter(0.9, 1.0)
    assert sensitivity_at_specificity(y, p, 0.9) == 0.0
    with pytest.warns(RuntimeWarning, match="do not separate"):
        assert youden_threshold(y, p) == 0.1  # J: 0 at 0.1, -1 at 0.9


def test_constant_probabilities():
    y, p = [0, 1, 0, 1], [0.3] * 4
    with pytest.warns(RuntimeWarning, match="do not separate"):
        assert youden_threshold(y, p) == 0.3
    assert threshold_for_sensitivity(y, p, 0.9) == 0.3
    assert threshold_for_specificity(y, p, 0.9) > 0.3
    assert sensitivity_at_specificity(y, p, 0.9) == 0.0
    assert specificity_at_sensitivity(y, p, 0.9) == 0.0


def test_against_brute_force():
    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.2).astype(int)
    p = np.round(1 / (1 + np.exp(-(rng.normal(size=300) + 1.5 * y))), 2)  # with ties
    ts = np.unique(p)
    ms = [binary_metrics(y, p, t) for t in ts]
    sens = np.array([m["sensitivity"] for m in ms])
    spec = np.array([m["specificity"] for m in ms])
    j = sens + spec - 1
    assert youden_threshold(y, p) == ts[np.flatnonzero(np.isclose(j, j.max()))[-1]]
    for target in (0.5, 0.8, 0.9, 0.95):
        assert threshold_for_sensitivity(y, p, target) == ts[sens >= target][-1]
        assert threshold_for_specificity(y, p, target) == ts[spec >= target][0]
        assert specificity_at_sensitivity(y, p, target) == spec[sens >= target].max()
        assert sensitivity_at_specificity(y, p, target) == sens[spec >= target].max()


@pytest.mark.parametrize("func", [youden_threshold, threshold_for_sensitivity, threshold_for_specificity,
                                  sensitivity_at_specificity, specificity_at_sensitivity])
def test_input_errors(func):
    with pytest.raises(ValueError, match="one class"):
        func([1, 1, 1], [0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match="one class"):
        func([0, 0], [0.1, 0.5])
    with pytest.raises(ValueError, match="NaN"):
        func([0, 1], [0.1, math.nan])
    with pytest.raises(ValueError, match="differ in length"):
        func([0, 1], [0.1])
    with pytest.raises(ValueError, match="0/1"):
        func([0, 2], [0.1, 0.2])


def test_target_out_of_range():
    with pytest.raises(ValueError, match="target"):
        threshold_for_sensitivity(Y_A, P_A, 1.2)
    with pytest.raises(ValueError, match="spec"):
        sensitivity_at_specificity(Y_A, P_A, -0.1)


def _record(val=(Y_A, P_A), test=None):
    # test split, by hand: negatives 0.1, 0.35, 0.65; positives 0.75, 0.2, 0.9
    test = test or ([0, 0, 0, 1, 1, 1], [0.1, 0.35, 0.65, 0.75, 0.2, 0.9])
    return make_record(run_id="r1", test=test, val=val)


def test_operating_points_hand():
    out = operating_points(_record())
    assert set(out["rules"]) == {"0.5", "youden", "sens90"}
    r = out["rules"]
    # youden from val = 0.7 -> test positives called: 0.75, 0.9 (both true) -> tp2 fp0 fn1 tn3
    y = r["youden"]
    assert y["threshold"] == 0.7
    assert (y["tp"], y["fp"], y["fn"], y["tn"]) == (2, 0, 1, 3)
    assert y["sensitivity"] == pytest.approx(2 / 3)
    assert y["specificity"] == 1.0
    assert y["accuracy"] == pytest.approx(5 / 6)
    assert y["ppv"] == 1.0 and y["npv"] == 0.75
    assert y["val_sensitivity"] == 0.5
    # sens90 from val = 0.3 -> called positive: 0.35, 0.65, 0.75, 0.9 -> tp2 fp2 fn1 tn1
    s = r["sens90"]
    assert s["threshold"] == 0.3
    assert (s["tp"], s["fp"], s["fn"], s["tn"]) == (2, 2, 1, 1)
    assert s["specificity"] == pytest.approx(1 / 3)
    assert s["accuracy"] == 0.5 and s["ppv"] == 0.5 and s["npv"] == 0.5
    assert s["val_sensitivity"] == 1.0
    # 0.5 -> called positive: 0.65, 0.75, 0.9 -> tp2 fp1 fn1 tn2
    h = r["0.5"]
    assert (h["tp"], h["fp"], h["fn"], h["tn"]) == (2, 1, 1, 2)
    assert h["ppv"] == pytest.approx(2 / 3) and h["npv"] == pytest.approx(2 / 3)
    # test ROC: spec 1 first at t = 0.75 (max negative 0.65) -> sens 2/3;
    # sens 1 needs t <= 0.2 -> negatives >= 0.2 are 0.35, 0.65 -> spec 1/3
    assert out["sens_at_spec90"] == pytest.approx(2 / 3)
    assert out["spec_at_sens90"] == pytest.approx(1 / 3)
    assert out["n_val"] == 8 and out["n_test"] == 6 and out["test_prevalence"] == 0.5


def test_operating_points_overconfident_nan_ppv():
    # every test probability far below 0.5: nothing called positive, PPV undefined (NaN)
    test = ([0, 0, 1, 1, 0], [1e-5, 2e-4, 3e-3, 1e-3, 5e-5])
    val = ([0, 1, 0, 1], [1e-5, 2e-3, 1e-4, 5e-4])
    r = operating_points(_record(val=val, test=test))["rules"]
    assert r["0.5"]["sensitivity"] == 0.0 and math.isnan(r["0.5"]["ppv"])
    assert r["youden"]["threshold"] == 5e-4  # val: J = 1 at 5e-4 (tp 2, fp 0), 0.5 at 2e-3
    assert r["youden"]["sensitivity"] == 1.0  # test positives 3e-3, 1e-3 >= 5e-4


def test_operating_points_errors():
    with pytest.raises(ValueError, match=r"run r1 has no predictions\.val"):
        operating_points(_record(val=None))
    with pytest.raises(ValueError, match=r"predictions\.test has only one class"):
        operating_points(_record(test=([0, 0, 0], [0.1, 0.2, 0.3])))
    with pytest.raises(ValueError, match=r"predictions\.val has only one class"):
        operating_points(_record(val=([1, 1], [0.1, 0.2])))
    with pytest.raises(ValueError, match=r"predictions\.val: probs contain 1 NaN"):
        operating_points(_record(val=([0, 1], [0.1, math.nan])))
