"""The one wording rule with equivalence (issue 25, item 2): higher / lower, equivalent within
±0.02, inconclusive — never "the same" from a test that did not reject."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.analysis.inference import _with_holm
from helpers.chapters.verdicts import verdict


def test_the_words_follow_the_adjusted_p_then_the_equivalence_test():
    assert verdict("128 px", "256 px", 0.70, 0.75, 0.01, equivalent=True).startswith(
        "128 px: AUC lower than 256 px")  # a difference wins over equivalence
    assert "equivalent to 256 px within ±0.02" in verdict("224 px", "256 px", 0.75, 0.751, 0.6,
                                                          equivalent=True)
    text = verdict("224 px", "256 px", 0.74, 0.75, 0.6, equivalent=False)
    assert text.startswith("224 px: inconclusive against 256 px") and "not shown" in text
    assert "does not differ detectably" in verdict("a", "b", 0.7, 0.7, 0.6)  # no TOST made
    assert "not compared" in verdict("a", "b", 0.7, 0.7, math.nan, equivalent=False)


def test_holm_runs_over_the_equivalence_p_values_of_a_family_too():
    table = pd.DataFrame({"family": ["f", "f", "f", "g"],
                          "diff": [-0.001, -0.1, 0.0, 0.002],
                          "p": [0.9, 1e-6, math.nan, 0.8],
                          "tost_p": [0.03, 0.99, math.nan, 0.001]})
    out = _with_holm(table)
    # family f: TOST p 0.03 alone would be "equivalent"; Holm over its two tests doubles it
    assert np.isclose(out.loc[0, "tost_p_holm"], 0.06) and out.loc[0, "verdict"] == "inconclusive"
    assert out.loc[1, "verdict"] == "lower" and out.loc[2, "verdict"] == ""  # the reference row
    assert out.loc[3, "verdict"] == "equivalent"  # family g: one test, p 0.001


def test_the_direction_follows_the_tested_difference_when_given():
    """Resolution rows show all-seed means but test the paired seeds: the word follows the test."""
    assert "higher than" in verdict("a", "b", 0.70, 0.72, 0.01, equivalent=False, diff=0.01)
    assert "lower than" in verdict("a", "b", 0.70, 0.72, 0.01, equivalent=False)
