"""The words of the precision-parity appendix: twin tables for reading, glued values with their
p-value text, and the parity verdict (chapter "bf16 parity").

The numbers come from :mod:`helpers.analysis.parity`, whose public names this module re-exports,
so the chapter imports one module (``from helpers.chapters import precision_parity as parity``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from helpers.analysis.parity import *  # noqa: F403  (one import for the chapter: numbers and words)
from helpers.chapters.formatting import ci_text, format_p, p_text, plural
from helpers.stats.equivalence import MARGIN_AUC


def twin_table(twins: pd.DataFrame) -> pd.DataFrame:
    """:func:`machine_pairs` for reading: one ``run`` label per row, formatted columns."""
    label = (twins["model"] + " " + twins["resolution"].astype(str) + " px, "
             + twins["preprocessing"] + ", "
             + twins["precision"].replace({"mixed_bfloat16": "bf16"})
             + ", seed " + twins["seed"].astype(str))
    return pd.DataFrame({
        "run": label, "machine A": twins["machine_a"], "machine B": twins["machine_b"],
        "AUC A": twins["auc_a"], "AUC B": twins["auc_b"],
        "ΔAUC": twins["delta_auc"].map("{:+.3f}".format),
        "p": twins["p_delong"].map(format_p),
        "same label": twins["label_agreement"].map("{:.1%}".format),
    })


def cell_table(cells: pd.DataFrame) -> pd.DataFrame:
    """:func:`parity_by_cell` for reading: one ``configuration`` label per row, the declared
    rule's columns (mean ΔAUC, float32 seed SD, ensemble p, parity) and the seed-aware
    equivalence test's (difference with its 90 % interval, Holm p, verdict), formatted."""
    return pd.DataFrame({
        "configuration": cells["model"] + " " + cells["resolution"].astype(str) + " px, "
        + cells["preprocessing"],
        "mean ΔAUC": cells["mean_delta_auc"].map("{:+.3f}".format),
        "seed SD (fp32)": cells["seed_sd_ref"].map("{:.3f}".format),
        "p (ensembles)": cells["ensemble_p"].map(format_p),
        "parity": cells["holds"].map({True: "holds", False: "no"}),
        "seed-aware Δ [90 % CI]": [ci_text(d, lo, hi, sign=True) for d, lo, hi in
                                   zip(cells["or_delta_auc"], cells["eq_lo"], cells["eq_hi"],
                                       strict=True)],
        "p (Holm)": cells["or_p_holm"].map(format_p),
        f"verdict (±{MARGIN_AUC:g})": cells["verdict"],
        "bf16 runs on": cells["cand_devices"],
    })


def parity_values(pairs: pd.DataFrame, cells: pd.DataFrame) -> dict[str, Any]:
    """Numbers the appendix glues about its seed pairs (:func:`precision_pairs`) and cells
    (:func:`parity_by_cell`): counts of pairs, test images, cells, cells where parity holds and
    cells shown equivalent; the margin; the largest per-seed |ΔAUC| and smallest DeLong p (and
    ``parity_min_p_txt``, it for prose; NaN until bf16 and float32 runs of one cell exist); and
    ResNet50's gate (its bf16 runs, and how many of them ran on the GPU)."""
    nan = float("nan")
    gate = cells[cells["model"] == "resnet50"]  # block 3b of configs/paper.yaml: ResNet50's gate
    return {
        "parity_n_pairs": len(pairs),
        "parity_n_images": int(pairs["n_images"].max()) if len(pairs) else 0,
        "parity_n_cells": len(cells),
        "parity_n_hold": int(cells["holds"].sum()),
        "parity_margin": MARGIN_AUC,
        "parity_n_equiv": int((cells["verdict"] == "equivalent").sum()),
        "parity_max_abs_delta": float(pairs["delta_auc"].abs().max()) if len(pairs) else nan,
        "parity_min_p": float(pairs["p_delong"].min()) if len(pairs) else nan,
        "parity_min_p_txt": p_text(pairs["p_delong"].min() if len(pairs) else nan),
        "parity_gate_n": int(gate["n_seeds"].sum()),
        "parity_gate_n_gpu": int(gate["n_cand_gpu"].sum()),
    }


def twin_values(twins: pd.DataFrame, cells: pd.DataFrame) -> dict[str, Any]:
    """Numbers the appendix glues about :func:`machine_pairs`: count, largest |ΔAUC|, smallest
    p (and ``twin_min_p_txt``, it for prose) and label agreement, and the largest difference against its cell's float32 seed SD
    (from :func:`parity_by_cell`); NaN (and run "none") without twins."""
    nan = float("nan")
    if twins.empty:
        return {"twin_n": 0, "twin_max_abs_delta": nan, "twin_min_p": nan,
                "twin_min_p_txt": p_text(nan), "twin_min_agree": nan, "twin_worst_run": "none", "twin_worst_seed_sd": nan,
                "twin_worst_in_sd": nan}
    worst = twins.loc[twins["delta_auc"].abs().idxmax()]
    same = cells[(cells["model"] == worst["model"]) & (cells["resolution"] == worst["resolution"])
                 & (cells["preprocessing"] == worst["preprocessing"])]
    sd = float(same["seed_sd_ref"].iloc[0]) if len(same) else nan
    return {
        "twin_n": len(twins),
        "twin_max_abs_delta": float(twins["delta_auc"].abs().max()),
        "twin_min_p": float(twins["p_delong"].min()),
        "twin_min_p_txt": p_text(float(twins["p_delong"].min())),
        "twin_min_agree": float(twins["label_agreement"].min()),
        "twin_worst_run": twin_table(twins).loc[worst.name, "run"],
        "twin_worst_seed_sd": sd,
        "twin_worst_in_sd": abs(float(worst["delta_auc"])) / sd,
    }


def verdict(cells: pd.DataFrame) -> str:
    """One sentence that states the parity result per cell, from :func:`parity_by_cell`."""
    if cells.empty:
        return ("No configuration has run in both precisions yet, so bf16 parity is not "
                "established and no bf16 run enters the results.")
    held = int(cells["holds"].sum())
    parts = []
    for _, c in cells.iterrows():
        parts.append(
            f"{c['model']} {c['resolution']} px {c['regime']}/{c['preprocessing']}: mean ΔAUC "
            f"{c['mean_delta_auc']:+.3f} vs seed SD {c['seed_sd_ref']:.3f}, ensemble DeLong "
            f"{p_text(c['ensemble_p'])} ({'holds' if c['holds'] else 'does not hold'})")
    n = plural(len(cells), "configuration")
    head = f"Parity holds in {held} of {n}" if held < len(cells) else f"Parity holds in all {n}"
    return head + ": " + "; ".join(parts) + ". " + equivalence_verdict(cells)


def equivalence_verdict(cells: pd.DataFrame) -> str:
    """What the seed-aware equivalence test says of the same cells (``verdict`` column of
    :func:`parity_by_cell`): how many are equivalent within the margin, and which are not."""
    if cells.empty or "verdict" not in cells:
        return ""
    counts = cells["verdict"].value_counts()
    n_eq = int(counts.get("equivalent", 0))
    n = plural(len(cells), "configuration")
    margin = f"±{MARGIN_AUC:g}"
    if n_eq == len(cells):
        return f"By the equivalence test all {n} are equivalent within {margin}."
    others = ", ".join(f"{int(k)} {w}" for w, k in counts.items() if w != "equivalent")
    return (f"By the seed-aware equivalence test (TOST, {margin} in AUC, Holm over the "
            f"{len(cells)} cells) {n_eq} of {n} are shown equivalent ({others}): with "
            f"{int(cells['n_seeds'].min())}–{int(cells['n_seeds'].max())} seeds per cell the "
            "data cannot show that bf16 changes the AUC by less than the margin.")


def cell_values(cells: pd.DataFrame, prefix: str) -> dict[str, float | str]:
    """Glue values of :func:`parity_by_cell` rows: ``<prefix>_<model>_<resolution>_<prep>_``
    ``mean_delta``, ``_seed_sd``, ``_holds`` (1.0 or 0.0) and ``_verdict`` ("holds" / "does
    not hold"), for prose that cites a cell's verdict (bf16-parity appendix)."""
    out: dict[str, float | str] = {}
    for _, row in cells.iterrows():
        key = f"{prefix}_{row['model']}_{int(row['resolution'])}_{row['preprocessing']}"
        out[f"{key}_mean_delta"] = float(row["mean_delta_auc"])
        out[f"{key}_seed_sd"] = float(row["seed_sd_ref"])
        out[f"{key}_holds"] = float(bool(row["holds"]))
        out[f"{key}_verdict"] = "holds" if row["holds"] else "does not hold"
        if "verdict" in row:
            out[f"{key}_eq_verdict"] = str(row["verdict"])
            out[f"{key}_eq_lo"] = float(row["eq_lo"])
            out[f"{key}_eq_hi"] = float(row["eq_hi"])
    return out
