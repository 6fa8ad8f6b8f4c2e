"""The numbers the "What we found" sections cite, computed where they can be tested (the data,
separable-cost, training and external-site chapters).

Each function returns ``{glue name: value}``; the chapter glues them unchanged, and the book's
claim checks (:mod:`helpers.chapters.chapter_claims`) read them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from helpers.chapters.formatting import ci_text, number_text
from helpers.chapters.separable_cost import loglog_slopes
from helpers.model_names import model_label
from helpers.stats.delong import delong_ci, fast_delong


def data_found(report: Any, balanced_report: Any) -> dict[str, Any]:
    """Split sizes, prevalence, duplicates and skips of the data chapter's report (``data_*``).

    ``report`` is the official-split :class:`helpers.data.DataReport` after duplicate removal,
    ``balanced_report`` that of the paper-style balanced evaluation set.
    """
    n_neg = {s: report.counts[s][0] for s in report.counts}
    n_pos = {s: report.counts[s][1] for s in report.counts}
    n_split = {s: n_neg[s] + n_pos[s] for s in report.counts}
    crossing = [g for g in report.duplicates
                if "train" in g.splits and {"val", "test"} & set(g.splits)]
    return {
        "data_n_train": n_split["train"], "data_n_val": n_split["val"],
        "data_n_test": n_split["test"], "data_n_test_pos": n_pos["test"],
        "data_pct_pos_train": 100.0 * n_pos["train"] / n_split["train"],
        "data_pct_pos_test": 100.0 * n_pos["test"] / n_split["test"],
        "data_majority_test": n_neg["test"] / n_split["test"],  # accuracy of "always benign"
        "data_n_groups": len(report.duplicates),
        "data_n_exact_groups": sum(g.kind == "exact" for g in report.duplicates),
        "data_n_near_groups": sum(g.kind == "near" for g in report.duplicates),
        "data_n_cross": len(crossing),  # groups joining a training image to a val/test image
        "data_n_bal_test": sum(balanced_report.counts["test"]),
        "data_n_bal_val": sum(balanced_report.counts["val"]),
        "data_n_skipped": len(report.skipped),
    }


def cost_found(n_for_8: int, check: pd.DataFrame, summary: pd.DataFrame, sizes: pd.DataFrame,
               adam_sizes: pd.DataFrame, paper_mb: Mapping[str, float],
               blocks: pd.DataFrame | None = None,
               profiled: pd.DataFrame | None = None) -> dict[str, Any]:
    """The separable-cost chapter's findings (``cost_*``), from its tables.

    ``n_for_8`` is the narrowest output width with an 8-fold saving; ``check``
    (:func:`~helpers.chapters.separable_cost.params_check`) gives the layer counts and
    disagreements; ``summary`` (:func:`~helpers.chapters.separable_cost.resolution_summary`) the
    log-log slopes and, where it has both MobileNet and ResNet50, their MAC ratio per size, with
    ``sizes`` (:func:`~helpers.chapters.separable_cost.size_table`), ``adam_sizes`` and the
    paper's MB (``paper_mb``, per model label) for the model-size values. ``blocks``
    (:func:`~helpers.chapters.separable_cost.separable_blocks`, MobileNet) and ``profiled``
    (:func:`~helpers.chapters.separable_cost.profiler_check`) are ``None`` where not computed;
    their values are then left out.
    """
    slopes = loglog_slopes(summary)
    found: dict[str, Any] = {
        "cost_n_for_8": int(n_for_8),
        "cost_n_layers": int(check["layers"].sum()),
        "cost_n_disagree": int(check["disagree"].sum()),
        "cost_slope_dev": max(abs(float(v) - 2) for v in slopes.values()),
        "cost_slope_max": max(float(v) for v in slopes.values())}
    if blocks is not None:
        rest = blocks["reduction"].iloc[1:]
        found |= {"cost_red_first": float(blocks["reduction"].iloc[0]),
                  "cost_red_rest_min": float(rest.min()), "cost_red_rest_max": float(rest.max()),
                  "cost_red_overall": float(blocks["std MMACs"].sum() / blocks["sep. MMACs"].sum())}
    if profiled is not None:
        found |= {"cost_prof_conv_mismatch": int((profiled["prof. conv+matmul"]
                                                  != profiled["2·MACs"]).sum()),
                  "cost_prof_excess_min": float(profiled["excess %"].min()),
                  "cost_prof_excess_max": float(profiled["excess %"].max())}
    labels = {key: model_label(key) for key in ("mobilenet", "resnet50")}
    if not set(labels.values()) <= set(summary.index.get_level_values("model")):
        return found
    wide = summary["GMACs"].unstack("model")
    ratio_by_size = wide["ResNet50"] / wide["MobileNet"]
    adam = adam_sizes.iloc[:, 0]
    found |= {"cost_ratio_rn_mn": float(ratio_by_size.mean()),
              "cost_ratio_spread": float(ratio_by_size.max() - ratio_by_size.min())}
    for key, m in labels.items():
        found |= {f"cost_paper_mb_{key}": float(paper_mb[m]),
                  f"cost_h5_mib_{key}": float(sizes.loc[m, ".h5 (MiB)"]),
                  f"cost_mb_{key}": float(sizes.loc[m, "params×4 (MB)"]),
                  f"cost_adam_mib_{key}": float(adam[m])}
    found["cost_h5_gap_max"] = max(abs(found[f"cost_h5_mib_{k}"] - found[f"cost_paper_mb_{k}"])
                                   for k in labels)
    found["cost_mb_gap_min"] = min(abs(found[f"cost_mb_{k}"] - found[f"cost_paper_mb_{k}"])
                                   for k in labels)
    found["cost_ratio_spread_txt"] = number_text(found["cost_ratio_spread"])  # never 1e-05
    return found


def train_found(record: Mapping[str, Any], history: pd.DataFrame, cost: Mapping[str, Any],
                params: Any) -> dict[str, Any]:
    """One training run, read back from its record (``train_*``): its model, cost, test and
    validation metrics (the test AUC with its DeLong interval), and its learning-rate cuts and
    validation loss from ``history`` (columns ``val_loss`` and ``lr``, one row per epoch)."""
    m_test, m_val = record["metrics"]["test"], record["metrics"]["val"]
    test_pred = record["predictions"]["test"]
    auc, var = fast_delong(test_pred["labels"], test_pred["probs"])
    auc_lo, auc_hi = delong_ci(auc, var)
    majority = (m_test["tn"] + m_test["fp"]) / m_test["n"]  # accuracy of "always negative"
    val_loss = history["val_loss"]
    lrs = history["lr"].to_numpy()
    return {
        "train_model": model_label(params.model), "train_resolution": params.resolution,
        "train_regime": params.regime, "train_seed": params.seed,
        "train_epochs": record["timing"]["epochs_run"],
        "train_params": cost["params"], "train_trainable": cost["trainable_params"],
        "train_gmacs": cost["macs"] / 1e9 if cost["macs"] is not None else float("nan"),
        "train_size_mb": cost["model_size_mb"],
        "train_test_auc": m_test["auc"], "train_test_auc_lo": auc_lo, "train_test_auc_hi": auc_hi,
        "train_test_auc_ci": ci_text(m_test["auc"], auc_lo, auc_hi),
        "train_val_auc": m_val["auc"], "train_n_test": m_test["n"],
        "train_test_acc": m_test["accuracy"], "train_test_majority": majority,
        "train_test_acc_gain": m_test["accuracy"] - majority,
        "train_test_sens": m_test["sensitivity"], "train_test_spec": m_test["specificity"],
        "train_test_tp": m_test["tp"], "train_test_pos": m_test["tp"] + m_test["fn"],
        "train_n_lr_cuts": int((lrs[1:] < lrs[:-1]).sum()),
        "train_val_loss_min": float(val_loss.min()),
        "train_val_loss_best_epoch": int(val_loss.idxmin()),
        "train_val_loss_last": float(val_loss.iloc[-1]),
    }


EXTERNAL_FOUND_KEYS = (
    "diff_min", "n_diff_below", "n_site", "mix_n_above", "mix_n_below", "mix_n", "n_same_best",
    "n_res_families", "thr_sens_test", "thr_sens_external", "thr_spec_test", "thr_spec_external",
    "geo_higher", "geo_lower", "geo_nodiff", "geo_tested", "sub_common_nevus",
    "sub_atypical_nevus", "n_sub_harder", "n_sub")
"""The external-site chapter's text values that its findings also cite as numbers."""


def _number(text: Any) -> float | None:
    try:
        return float(str(text).replace(",", "").rstrip("%"))
    except ValueError:  # "—": not computed
        return None


def external_found(values: Mapping[str, Any], counts: pd.DataFrame) -> dict[str, float]:
    """The external-site findings as numbers (``found_*``; the chapter glues them as text):
    those of :data:`EXTERNAL_FOUND_KEYS` that could be computed, and ``found_n_full_runs``, the
    fully fine-tuned runs that scored the external set (``counts`` per regime)."""
    found = {f"found_{k}": _number(values[k]) for k in EXTERNAL_FOUND_KEYS if k in values}
    full_rows = counts[counts["regime"] == "full"]
    found["found_n_full_runs"] = int(full_rows["runs_external"].sum()) if len(full_rows) else 0
    return {k: v for k, v in found.items() if v is not None}
