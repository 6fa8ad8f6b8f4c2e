"""The multiplicity counts the reproducibility page's table cites (issue 25, item 3)."""

from __future__ import annotations

import math

import pandas as pd

from helpers.chapters.multiplicity import family_counts, family_values


def test_reference_rows_are_not_tests_and_families_follow_the_keys():
    table = pd.DataFrame({"model": ["a", "a", "a", "b", "b"],
                          "px": [64, 128, 224, 64, 128],
                          "p": [0.01, math.nan, 0.2, math.nan, 0.03]})
    assert family_counts(table, ["model"]) == (2, 3)
    assert family_counts(table, []) == (1, 3)  # no keys: one family
    assert family_values("res", table, ["model"]) == {"mult_res_families": 2,
                                                      "mult_res_tests": 3}


def test_nothing_run_is_no_family():
    assert family_counts(pd.DataFrame(), ["model"]) == (0, 0)
    assert family_counts(pd.DataFrame({"p": [math.nan]}), []) == (0, 0)
