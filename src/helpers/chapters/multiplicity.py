"""The book's one multiplicity policy, counted where the tests are made (the results, bf16-parity, deployment, pneumonia, findings and external-site chapters; the
table on the reproducibility page cites these counts).

Policy: every test belongs to one declared family; Holm's step-down adjustment runs within each
family; tables show the raw and the adjusted p; sentences are worded by the adjusted p alone.
Comparisons chosen after the results were seen are labelled exploratory and left out of every
family. Each chapter glues, per kind of family, how many families and tests it made:
``mult_<name>_families`` and ``mult_<name>_tests``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def family_counts(table: pd.DataFrame, keys: Sequence[str], p: str = "p") -> tuple[int, int]:
    """(families, tests) in ``table``: a test is a row with a finite ``p`` (the reference row of
    a family, e.g. the best input size, has none); a family is one value of ``keys`` (no keys:
    the whole table is one family)."""
    if table.empty or p not in table:
        return 0, 0
    tested = table[np.isfinite(pd.to_numeric(table[p], errors="coerce").astype(float))]
    if tested.empty:
        return 0, 0
    families = len(tested.groupby(list(keys), dropna=False)) if keys else 1
    return int(families), int(len(tested))


def family_values(name: str, table: pd.DataFrame, keys: Sequence[str],
                  p: str = "p") -> dict[str, int]:
    """``{"mult_<name>_families": …, "mult_<name>_tests": …}`` for a chapter to glue."""
    families, tests = family_counts(table, keys, p)
    return {f"mult_{name}_families": families, f"mult_{name}_tests": tests}
