"""helpers.chapters.found_values: the numbers the "What we found" sections cite."""

from __future__ import annotations

import pandas as pd

from helpers.chapters.found_values import external_found


def test_external_found_reads_numbers_and_leaves_out_what_was_not_computed():
    counts = pd.DataFrame({"regime": ["frozen", "full"], "runs_external": [30, 2]})
    found = external_found({"diff_min": "+0.037", "thr_sens_test": "77%", "n_site": "1,200",
                            "geo_higher": "—"}, counts)
    assert found == {"found_diff_min": 0.037, "found_thr_sens_test": 77.0,
                     "found_n_site": 1200.0, "found_n_full_runs": 2}
    assert external_found({}, counts[counts["regime"] == "frozen"]) == {"found_n_full_runs": 0}
