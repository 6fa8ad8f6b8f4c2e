"""The book's wording rules for a comparison: which words a test result earns (results chapter).

One place decides the words, from the adjusted p-value alone, so every chapter says the same
thing for the same evidence.
"""

from __future__ import annotations

import math

from helpers.analysis.inference import ALPHA
from helpers.chapters.formatting import p_text
from helpers.stats.equivalence import MARGIN_AUC


def verdict(
    name_a: str, name_b: str, auc_a: float, auc_b: float, p_adj: float, alpha: float = ALPHA,
    *, equivalent: bool | None = None, margin: float = MARGIN_AUC, diff: float | None = None,
) -> str:
    """The book's one wording rule for a comparison, driven by Holm-adjusted p-values (results chapter).

    ``p_adj < alpha``: "A: AUC higher/lower than B (adjusted p = …)". Otherwise the equivalence
    test decides (``equivalent``: its Holm-adjusted TOST p below alpha): "A: AUC equivalent to B
    within ±margin (adjusted p = …)" or "A: inconclusive against B: no detectable difference,
    equivalence within ±margin not shown (adjusted p = …)". Without an equivalence test
    (``equivalent=None``) the last reads "A: AUC does not differ detectably from B" — never
    "the same". ``diff`` (the tested a − b, on the seeds the test paired) sets the direction of
    "higher"/"lower" when the AUCs shown are means over other seeds. No other phrasings are used.
    """
    if p_adj is None or not math.isfinite(p_adj):
        return f"{name_a} vs {name_b}: no common seed, not compared"
    shown = p_text(p_adj).removeprefix("p ")
    if p_adj < alpha:
        # the direction of the tested difference (``diff``, a − b on the paired seeds) when
        # given, else of the two AUCs shown
        word = "higher" if (diff if diff is not None else auc_a - auc_b) > 0 else "lower"
        return f"{name_a}: AUC {word} than {name_b} (adjusted p {shown})"
    if equivalent is None:
        return f"{name_a}: AUC does not differ detectably from {name_b} (adjusted p {shown})"
    if equivalent:
        return f"{name_a}: AUC equivalent to {name_b} within ±{margin:g} (adjusted p {shown})"
    return (f"{name_a}: inconclusive against {name_b}: no detectable difference, equivalence "
            f"within ±{margin:g} not shown (adjusted p {shown})")
