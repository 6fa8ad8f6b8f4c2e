"""The "What we found" numbers of the separable-cost, bf16-parity and findings chapters, computed
in the package (helpers.chapters.found_values.cost_found, precision_parity.parity_values and
cell_table, chest_xray.ratio_values), on small synthetic tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from helpers.chapters import chest_xray as XR
from helpers.chapters import precision_parity as parity
from helpers.chapters.found_values import cost_found
from helpers.stats.equivalence import MARGIN_AUC


def _cost_tables(models=("MobileNet", "ResNet50")):
    check = pd.DataFrame({"layers": [29, 55], "disagree": [0, 1]})
    sides = [64, 128, 256]
    factor = {"MobileNet": 1e-5, "ResNet50": 7e-5}  # GMACs = factor · side²: slope 2, ratio 7
    summary = pd.DataFrame(
        [{"model": m, "resolution": s, "GMACs": factor[m] * s**2 * (1.01 if s == 256 and
                                                                      m == "ResNet50" else 1)}
         for m in models for s in sides]).set_index(["model", "resolution"])
    sizes = pd.DataFrame({".h5 (MiB)": [12.4, 90.4], "params×4 (MB)": [12.9, 94.4]},
                         index=pd.Index(["MobileNet", "ResNet50"], name="model")).loc[list(models)]
    adam = pd.DataFrame({".keras with Adam state (MiB)": [37.0, 270.0]},
                        index=pd.Index(["MobileNet", "ResNet50"], name="model")).loc[list(models)]
    return check, summary, sizes, adam, {"MobileNet": 12.5, "ResNet50": 90.5}


def test_cost_found_reads_every_table():
    check, summary, sizes, adam, paper_mb = _cost_tables()
    blocks = pd.DataFrame({"reduction": [7.9, 8.4, 8.8], "std MMACs": [79.0, 84.0, 88.0],
                           "sep. MMACs": [10.0, 10.0, 10.0]})
    profiled = pd.DataFrame({"prof. conv+matmul": [10, 20, 30], "2·MACs": [10, 21, 30],
                             "excess %": [0.5, 1.5, 1.0]})
    found = cost_found(72, check, summary, sizes, adam, paper_mb, blocks=blocks,
                       profiled=profiled)
    assert found["cost_n_for_8"] == 72
    assert (found["cost_n_layers"], found["cost_n_disagree"]) == (84, 1)
    assert found["cost_slope_dev"] < 0.01 and found["cost_slope_max"] > 2  # ResNet50's 1 % bend
    assert found["cost_red_first"] == 7.9
    assert (found["cost_red_rest_min"], found["cost_red_rest_max"]) == (8.4, 8.8)
    assert found["cost_red_overall"] == pytest.approx(251 / 30)
    assert found["cost_prof_conv_mismatch"] == 1
    assert (found["cost_prof_excess_min"], found["cost_prof_excess_max"]) == (0.5, 1.5)
    assert found["cost_ratio_rn_mn"] == pytest.approx(7 * (1 + 0.01 / 3))
    assert found["cost_ratio_spread"] == pytest.approx(0.07)
    assert found["cost_ratio_spread_txt"] == "0.070"
    assert found["cost_h5_mib_resnet50"] == 90.4 and found["cost_mb_mobilenet"] == 12.9
    assert found["cost_adam_mib_resnet50"] == 270.0 and found["cost_paper_mb_mobilenet"] == 12.5
    assert found["cost_h5_gap_max"] == pytest.approx(0.1)
    assert found["cost_mb_gap_min"] == pytest.approx(0.4)


def test_cost_found_leaves_out_what_was_not_computed():
    check, summary, sizes, adam, paper_mb = _cost_tables(models=("MobileNet",))
    found = cost_found(72, check, summary, sizes, adam, paper_mb)
    assert set(found) == {"cost_n_for_8", "cost_n_layers", "cost_n_disagree", "cost_slope_dev",
                          "cost_slope_max"}


def _parity_cells():
    return pd.DataFrame({
        "model": ["mobilenet", "resnet50", "resnet50"], "resolution": [128, 64, 64],
        "preprocessing": ["native", "unit", "native"], "mean_delta_auc": [-0.012, 0.004, 0.0],
        "seed_sd_ref": [0.003, 0.02, 0.01], "ensemble_p": [0.2, 0.0004, 0.5],
        "holds": [False, True, True], "or_delta_auc": [-0.012, 0.004, float("nan")],
        "eq_lo": [-0.03, -0.01, float("nan")], "eq_hi": [0.006, 0.018, float("nan")],
        "or_p_holm": [0.3, 0.9, float("nan")], "verdict": ["inconclusive", "equivalent", ""],
        "cand_devices": ["cpu", "gpu", "cpu, gpu"], "n_seeds": [3, 3, 2],
        "n_cand_gpu": [0, 3, 1]})


def test_parity_cell_table_formats_each_cell():
    table = parity.cell_table(_parity_cells())
    assert list(table["configuration"]) == ["mobilenet 128 px, native", "resnet50 64 px, unit",
                                            "resnet50 64 px, native"]
    assert list(table["mean ΔAUC"]) == ["-0.012", "+0.004", "+0.000"]
    assert list(table["p (ensembles)"]) == ["0.200", "<0.001", "0.500"]
    assert list(table["parity"]) == ["no", "holds", "holds"]
    assert table["seed-aware Δ [90 % CI]"].iloc[0] == "-0.012 [-0.030, +0.006]"
    assert list(table[f"verdict (±{MARGIN_AUC:g})"]) == ["inconclusive", "equivalent", ""]


def test_parity_values_count_pairs_cells_and_the_resnet50_gate():
    pairs = pd.DataFrame({"n_images": [600, 600, 598], "delta_auc": [0.01, -0.03, 0.002],
                          "p_delong": [0.4, 0.02, 0.9]})
    values = parity.parity_values(pairs, _parity_cells())
    assert values == {
        "parity_n_pairs": 3, "parity_n_images": 600, "parity_n_cells": 3, "parity_n_hold": 2,
        "parity_margin": MARGIN_AUC, "parity_n_equiv": 1, "parity_max_abs_delta": 0.03,
        "parity_min_p": 0.02, "parity_min_p_txt": "p = 0.0200", "parity_gate_n": 5,
        "parity_gate_n_gpu": 4}
    empty = parity.parity_values(pairs.iloc[:0], _parity_cells().iloc[:0])
    assert empty["parity_n_pairs"] == 0 and empty["parity_n_images"] == 0
    assert math.isnan(empty["parity_max_abs_delta"]) and math.isnan(empty["parity_min_p"])


def test_ratio_values_names_every_cell_and_fills_missing_ones_with_nan():
    cells = [("pneumonia", "mobilenetv2", "frozen"), ("pneumonia", "mobilenetv2", "full")]
    ratios = {cells[0]: {"ratio": 0.97, "sd": 0.01, "auc_low": 0.92, "auc_high": 0.95}}
    diffs = {("mobilenetv2", "frozen"): {"diff": -0.02, "sd": 0.01, "z": -2.0, "p": 0.0455,
                                         "p_holm": 0.091}}
    mnist = {"resnet50": pd.DataFrame({"resolution": [32], "auc": [0.91]})}
    values = XR.ratio_values(cells, ratios, diffs, mnist)
    assert values["fr_ratio_pneumonia_mobilenetv2_frozen"] == 0.97
    assert values["fr_ratio_sd_pneumonia_mobilenetv2_frozen"] == 0.01
    assert values["fr_auc64_pneumonia_mobilenetv2_frozen"] == 0.92
    assert values["fr_auc224_pneumonia_mobilenetv2_frozen"] == 0.95
    assert math.isnan(values["fr_ratio_pneumonia_mobilenetv2_full"])
    assert values["fr_d_z_mobilenetv2_frozen"] == -2.0
    assert values["fr_d_p_mobilenetv2_frozen_txt"] == "p = 0.0455"
    assert values["fr_d_p_holm_mobilenetv2_frozen_txt"] == "p = 0.0910"
    assert math.isnan(values["fr_d_diff_resnet50_full"])
    assert values["fr_d_p_resnet50_full_txt"] == "p = —"
    assert math.isnan(values["fr_mnist_auc_mobilenetv2"]) and values["fr_mnist_auc_resnet50"] == 0.91
    assert values["fr_d_n_tests"] == 1
    assert len(values) == 2 * 4 + 2 * 2 * 6 + 2 + 1
