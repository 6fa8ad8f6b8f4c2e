"""The results chapter's repeated blocks: compare → glue → table, as one call each (chapter 04).

Three sections of the chapter (preprocessing, regime, architecture) ask the same question of a
different parameter: do two of its values give different test AUCs? Each answers it twice, with
the seed-aware test (:mod:`helpers.analysis.inference`, the one the prose follows) and with the
earlier seed-blind ensemble DeLong test (kept, hidden, so that its glued numbers stay
available). These two functions are those blocks; the chapter shows what they return.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from helpers.analysis import inference
from helpers.analysis.compare import compare_if_run
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


def ensemble_block(
    runs: pd.DataFrame,
    variant: str,
    a: str,
    b: str,
    sentences: Callable[..., tuple[dict[str, Any], str]],
    *args: Any,
    split: str = "test",
) -> pd.DataFrame:
    """The seed-blind ensemble DeLong comparison of ``variant`` = ``a`` vs ``b``, glued through
    ``sentences(table, runs, *args)`` (e.g. :func:`helpers.chapters.results_prose.models`); its table."""
    table = compare_if_run(runs, variant, a, b, split=split)
    values, _ = sentences(table, runs, *args)
    prose.glue_values(values)
    return table
