"""External test set: internal test AUC beside the AUC on another site's images (results chapter).

Runs made with ``external=<name>`` (``--external-root`` in the sweep) store the predictions on
every image of that folder as the record's split ``external``. For each configuration the
seed-averaged predictions are scored on both sets, each AUC with its DeLong 95 % interval
(:func:`helpers.stats.delong.fast_delong`); no test between the two: they are different images.
"""

from __future__ import annotations

import pandas as pd

from helpers.analysis.compare import align_predictions
from helpers.chapters.formatting import ci_text
from helpers.runs.frames import cell_groups, config_columns
from helpers.stats import delong as stats


def has_external(runs: pd.DataFrame) -> bool:
    """True when any run scored an external test set (results chapter)."""
    return "pred_external" in runs and bool(runs["pred_external"].notna().any())


def _auc_text(labels, probs, level: float) -> tuple[float, str]:
    auc, var = stats.fast_delong(labels, probs)
    lo, hi = stats.delong_ci(auc, var, level)
    return auc, ci_text(auc, lo, hi)


def external_table(runs: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per model × resolution (× set-up): test and external AUC [DeLong CI] of the seed
    ensemble, and the external images per class; empty without external runs (results chapter)."""
    if not has_external(runs):
        return pd.DataFrame()
    sub_runs = runs[runs["pred_external"].notna()]
    rows = []
    for where, sub in cell_groups(sub_runs, config_columns(sub_runs)):
        row = {**where, "seeds": len(sub)}
        for split, head in (("test", "test AUC [95% CI]"), ("external", "external AUC [95% CI]")):
            _, labels, probs = align_predictions(sub, split)
            row[f"{split}_auc"], row[head] = _auc_text(labels, probs.mean(axis=0), level)
        row["external n (neg/pos)"] = f"{int((labels == 0).sum())}/{int((labels == 1).sum())}"
        rows.append(row)
    out = pd.DataFrame(rows)
    return out.set_index([c for c in config_columns(sub_runs) if c in out])


def external_section(runs: pd.DataFrame):
    """The results chapter's external-set section: nothing without external runs (results chapter)."""
    from IPython.display import Markdown, display

    if not has_external(runs):
        return None
    table = external_table(runs)
    name = ", ".join(sorted(set(runs["external"].dropna().astype(str))))
    display(Markdown(
        f"## External test set: {name}\n\nEvery image of the external folder scored at each "
        "run's input size; AUC of the seed-averaged predictions with its DeLong 95 % interval, "
        "beside the internal test AUC (different images: no paired test)."))
    return table.drop(columns=["test_auc", "external_auc"])
