"""The book's wording rules for a comparison: which words a test result earns (results chapter).

One place decides the words, from the adjusted p-value alone, so every chapter says the same
thing for the same evidence.
"""

from __future__ import annotations

import math

from helpers.analysis.inference import ALPHA
from helpers.chapters.formatting import p_text


def verdict(
    name_a: str, name_b: str, auc_a: float, auc_b: float, p_adj: float, alpha: float = ALPHA
) -> str:
    """The chapter's one wording rule for a comparison, driven by the Holm-adjusted p (ch. 04).

    ``p_adj < alpha``: "A: AUC higher/lower than B (adjusted p = …)"; otherwise "A: AUC does
    not differ detectably from B (adjusted p = …)". No other phrasings are used.
    """
    if p_adj is None or not math.isfinite(p_adj):
        return f"{name_a} vs {name_b}: no common seed, not compared"
    shown = p_text(p_adj).removeprefix("p ")
    if p_adj < alpha:
        word = "higher" if auc_a > auc_b else "lower"
        return f"{name_a}: AUC {word} than {name_b} (adjusted p {shown})"
    return f"{name_a}: AUC does not differ detectably from {name_b} (adjusted p {shown})"
