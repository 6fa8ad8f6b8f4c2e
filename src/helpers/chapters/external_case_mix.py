"""ISIC's case mix against PH2's: melanoma vs nevi on both sets (Another hospital's images).

ISIC 2017's melanoma task counts nevi *and* seborrheic keratoses as negatives; PH2 has nevi
only, so its AUC is not comparable with ISIC's as it stands. This module scores ISIC's test
split on melanomas vs nevi alone (diagnoses from ``scripts/isic_test_diagnoses.py``) beside
PH2, and gives the chapter its reading table and glue strings.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from helpers.analysis.external_ablations import check_labels, read_subgroups
from helpers.analysis.external_site import (
    aligned,
    auc_ci,
    cell_groups,
    cell_keys,
    cell_name,
    result_frame,
    unpaired_difference,
)
from helpers.chapters.formatting import MISSING
from helpers.chapters.reading import ci_text, for_reading

NA = MISSING
__all__ = ["case_mix_table", "case_mix_reading", "case_mix_values", "case_mix_sentence",
           "read_subgroups"]


def case_mix_table(runs: pd.DataFrame, isic_diagnoses: pd.Series, positive: str = "melanoma",
                   negative: str = "nevus", level: float = 0.95) -> pd.DataFrame:
    """ISIC test AUC on ``positive`` vs ``negative`` alone beside the external AUC, per cell.

    ISIC 2017's melanoma task counts seborrheic keratoses as negatives too; PH2 has only nevi.
    Scoring ISIC's test split on melanomas vs nevi alone compares like with like (Another
    hospital's images). Seed ensembles, DeLong CIs; the difference external − ISIC (nevi only)
    has independent parts (:func:`unpaired_difference`). ``attrs["unmatched"]``: ISIC test ids
    absent from ``isic_diagnoses`` (left out).
    """
    rows, left, unmatched = [], [], set()
    for where, sub in cell_groups(runs, cell_keys(runs)):
        try:
            ids, labels, probs = aligned(sub, "test")
            _, ext_labels, ext_probs = aligned(sub, "external")
        except ValueError as exc:
            left.append(f"{cell_name(where)}: {exc}")
            continue
        diag = isic_diagnoses.reindex(ids).to_numpy()
        unmatched |= set(ids[pd.isna(diag)].tolist())
        check_labels(ids, labels, diag, positive)
        keep = (diag == positive) | (diag == negative)
        try:
            isic = auc_ci(labels[keep], probs[:, keep].mean(axis=0), level)
            ext = auc_ci(ext_labels, ext_probs.mean(axis=0), level)
        except ValueError as exc:
            left.append(f"{cell_name(where)}: {exc}")
            continue
        rows.append({**where, "n_seeds": len(sub), "n_pos": int((diag == positive).sum()),
                     "n_neg": int((diag == negative).sum()),
                     "isic_auc": isic["auc"], "isic_lo": isic["lo"], "isic_hi": isic["hi"],
                     "external_auc": ext["auc"], "external_lo": ext["lo"], "external_hi": ext["hi"],
                     **unpaired_difference(ext["auc"], ext["var"], isic["auc"], isic["var"],
                                           level)})
    return result_frame(rows, left, unmatched=sorted(unmatched))


def case_mix_reading(cm: pd.DataFrame, label: str) -> pd.DataFrame | None:
    """ISIC test (melanoma vs nevi) and external AUC with CIs and their difference (external-site chapter)."""
    if cm.empty:
        return None
    out = cm.assign(
        isic_text=[ci_text("auc", a, lo, hi) for a, lo, hi in
                   cm[["isic_auc", "isic_lo", "isic_hi"]].to_numpy()],
        ext_text=[ci_text("auc", a, lo, hi) for a, lo, hi in
                  cm[["external_auc", "external_lo", "external_hi"]].to_numpy()],
        diff_text=[f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]" for d, lo, hi in
                   cm[["diff", "diff_lo", "diff_hi"]].to_numpy()])
    columns = {"isic_text": "ISIC test AUC, melanoma vs nevi",
               "ext_text": f"{label} AUC (melanoma vs nevi)",
               "diff_text": f"{label} − ISIC, nevi only"}
    keys = [k for k in ("model", "preprocessing", "resolution") if k in cm.columns]
    return for_reading(out, columns, setup_keys=keys)


def case_mix_values(cm: pd.DataFrame, site: pd.DataFrame) -> dict[str, str]:
    """Glue strings: external − ISIC with ISIC's nevi only, and how much ISIC's AUC rises."""
    keys = ("mix_n", "mix_diff_min", "mix_diff_max", "mix_diff_median", "mix_n_above",
            "mix_n_below", "mix_isic_gain_median", "mix_n_neg")
    if cm.empty:
        return dict.fromkeys(keys, NA)
    d = cm["diff"]
    on = [k for k in cell_keys(cm) if k in site.columns]
    both = cm.merge(site[[*on, "test_auc"]], on=on, how="inner")
    gain = (both["isic_auc"] - both["test_auc"]).median() if len(both) else float("nan")
    return {"mix_n": str(len(cm)), "mix_diff_min": f"{d.min():+.3f}",
            "mix_diff_max": f"{d.max():+.3f}", "mix_diff_median": f"{d.median():+.3f}",
            "mix_n_above": str(int((cm["diff_lo"] > 0).sum())),
            "mix_n_below": str(int((cm["diff_hi"] < 0).sum())),
            "mix_isic_gain_median": NA if pd.isna(gain) else f"{round(gain, 3) + 0.0:+.3f}",
            "mix_n_neg": str(int(cm["n_neg"].iloc[0]))}


def case_mix_sentence(v: Mapping[str, str], label: str) -> str:
    """The findings' case-mix sentence (Another hospital's images), worded by the glued numbers; "" when not computed."""
    if not str(v.get("mix_n", NA)).isdigit():
        return ""
    n, above, below = int(v["mix_n"]), int(v["mix_n_above"]), int(v["mix_n_below"])
    if above > n / 2:
        side = f"the external AUC is higher in {above} of {n} cells"
    elif below > n / 2:
        side = f"the external AUC is lower in {below} of {n} cells"
    else:
        side = f"the interval lies above zero in {above} and below zero in {below} of {n} cells"
    return (f" Scored on melanomas vs nevi alone (the negatives {label} has), ISIC's AUC moves by "
            f"a median {v['mix_isic_gain_median']}; then {label} − ISIC ranges from "
            f"{v['mix_diff_min']} to {v['mix_diff_max']} (median {v['mix_diff_median']}), and "
            f"{side}.")


def learnt_families(site: pd.DataFrame, chance: float = 0.5) -> set[tuple[str, str]]:
    """(model, preprocessing) families whose every cell beat chance on ISIC test (lower CI > 0.5).

    A family at chance on its own test split (ResNet50 fed [0, 1] inputs, the results chapter) says
    nothing about another hospital: its rows stay in the chapter's tables but are left out of
    its counts and medians (Another hospital's images).
    """
    if site.empty:
        return set()
    ok = site.groupby(["model", "preprocessing"])["test_lo"].min() > chance
    return {key for key, good in ok.items() if good}


def only_learnt(table: pd.DataFrame, families: set[tuple[str, str]]) -> pd.DataFrame:
    """Rows of ``table`` from learnt families; a table without ``model`` (a model comparison)
    keeps the preprocessings whose every model learnt (Another hospital's images)."""
    if table.empty or "preprocessing" not in table:
        return table
    if "model" in table:
        keep = [(m, p) in families for m, p in zip(table["model"], table["preprocessing"],
                                                       strict=True)]
        return table[keep]
    models = {m for m, _ in families} | {m for m, _ in _all(table)}
    good = {p for p in set(table["preprocessing"]) if all((m, p) in families for m in models)}
    return table[table["preprocessing"].isin(good)]


def _all(table: pd.DataFrame) -> set[tuple[str, str]]:
    """(model, preprocessing) pairs named by a model comparison's AUC columns."""
    models = [c.removeprefix("auc_") for c in table.columns
              if c.startswith("auc_") and c not in ("auc_sd", "auc_best", "auc_declared")]
    return {(m, p) for m in models for p in set(table["preprocessing"])}


def excluded_text(site: pd.DataFrame, families: set[tuple[str, str]]) -> str:
    """'ResNet50 with [0, 1] inputs' for the families left out of the counts, or 'none'."""
    from helpers.runs.frames import model_label

    out = sorted({(m, p) for m, p in zip(site["model"], site["preprocessing"], strict=True)}
                 - families) if len(site) else []
    names = [f"{model_label(m)} with {'[0, 1]' if p == 'unit' else 'native'} inputs"
             for m, p in out]
    return " and ".join(names) if names else "none"
