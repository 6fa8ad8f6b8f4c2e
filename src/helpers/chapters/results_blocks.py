"""The results chapter's repeated block: compare → glue → table, as one call (results chapter).

Three sections of the chapter (preprocessing, regime, architecture) ask the same question of a
different parameter: do two of its values give different test AUCs? Each answers it with the
seed-aware test (:mod:`helpers.analysis.inference`; the seed-blind ensemble DeLong p stays a
column of its table, ``p_ensemble``, and a glued number, ``<key>_p_ens``). This function is that
block; the chapter shows what it returns.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers.analysis import inference
from helpers.chapters import comparison_prose, reading
from helpers.chapters import results_prose as prose


def seed_comparison_block(
    runs: pd.DataFrame,
    variant: str,
    a: str,
    b: str,
    *,
    name: str,
    labels: Sequence[str] = (),
    split: str = "test",
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Seed-aware comparison of ``variant`` = ``a`` vs ``b``; glues its numbers and the Markdown
    sentences as ``name``; returns (full table, reading table or None when nothing was run)."""
    table = inference.variant_comparisons(runs, variant, split=split)
    values, md = comparison_prose.seed_comparisons(variant, table, runs)
    prose.glue_values(values)
    prose.glue_md(name, md)
    if table.empty:
        print(md)
        return table, None
    return table, reading.seed_comparison(table, a, b, labels)

