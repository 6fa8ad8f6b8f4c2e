"""bf16 parity analysis (helpers.analysis.parity) on hand-built run records."""

from __future__ import annotations

import numpy as np
import pytest
from record_factory import make_record, make_split

from helpers.chapters import precision_parity as parity

N = 200


def _record(seed: int, precision: str, probs: np.ndarray, labels: np.ndarray,
            wall: float = 100.0) -> dict:
    order = np.random.default_rng(seed).permutation(len(labels))  # stored order must not matter
    return make_record(model="mobilenet", resolution=128, regime="full", preprocessing="unit",
                       seed=seed, epochs=20, precision=precision, wall_s=wall,
                       test=make_split(labels, probs, prefix="img", order=order))


def _data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(100 + seed)
    labels = (np.arange(N) % 5 == 0).astype(int)
    score = labels * (1.2 + 0.05 * seed) + rng.normal(0, 1, N)
    return labels, 1 / (1 + np.exp(-score))


def test_identical_predictions_give_zero_difference_and_parity() -> None:
    recs = []
    for seed in range(3):
        y, p = _data(seed)
        recs += [_record(seed, "float32", p, y, 100.0), _record(seed, "mixed_bfloat16", p, y, 50.0)]
    pairs = parity.precision_pairs(recs)
    assert list(pairs["seed"]) == [0, 1, 2]
    assert np.allclose(pairs["delta_auc"], 0) and (pairs["label_agreement"] == 1).all()
    assert (pairs["n_images"] == N).all()
    cell = parity.parity_by_cell(recs).iloc[0]
    assert cell["n_seeds"] == 3 and cell["holds"] and cell["speedup"] == pytest.approx(2.0)
    assert cell["seed_sd_ref"] > 0 and cell["ensemble_p"] == pytest.approx(1.0)


def test_a_large_shift_breaks_parity() -> None:
    recs = []
    for seed in range(3):
        y, p = _data(seed)
        noisy = np.clip(p + np.random.default_rng(seed).normal(0, 0.6, N), 0, 1)
        recs += [_record(seed, "float32", p, y), _record(seed, "mixed_bfloat16", noisy, y)]
    cell = parity.parity_by_cell(recs).iloc[0]
    assert cell["mean_delta_auc"] < -0.05
    assert not cell["within_seed_spread"] and not cell["holds"]
    assert cell["ensemble_p"] < 0.05


def test_unpaired_and_failed_runs_are_left_out_and_mismatched_images_refused() -> None:
    y, p = _data(0)
    recs = [_record(0, "float32", p, y), _record(1, "mixed_bfloat16", p, y)]
    recs.append({**_record(2, "mixed_bfloat16", p, y), "status": "failed"})
    assert parity.precision_pairs(recs).empty
    other = _record(0, "mixed_bfloat16", p, y)
    other["predictions"]["test"]["ids"][0] = "someone-else"
    with pytest.raises(ValueError, match="different test images"):
        parity.precision_pairs([_record(0, "float32", p, y), other])


def test_no_pairs_yet_gives_empty_tables_and_says_so() -> None:
    y, p = _data(0)
    recs = [_record(0, "float32", p, y)]
    cells = parity.parity_by_cell(recs)
    assert cells.empty and "holds" in cells.columns
    assert "not established" in parity.verdict(cells)


def test_speed_table_and_values_from_a_benchmark_file() -> None:
    from helpers.chapters import precision_parity as parity

    rows = [{"model": m, "resolution": r, "precision": p, "train_img_s": t, "infer_img_s": i}
            for m, r, p, t, i in (("mobilenet", 64, "float32", 200.0, 900.0),
                                  ("mobilenet", 64, "mixed_bfloat16", 150.0, 900.0),
                                  ("resnet50", 64, "float32", 50.0, 180.0),
                                  ("resnet50", 64, "mixed_bfloat16", 70.0, 270.0),
                                  ("resnet50", 128, "float32", 20.0, 60.0))]  # no bf16 pair
    table = parity.speed_table({"precision": rows})
    assert list(table["model"]) == ["mobilenet", "resnet50"]
    assert table["train bf16 / fp32"].tolist() == [0.75, 1.4]
    assert table["infer bf16 / fp32"].tolist() == [1.0, 1.5]
    v = parity.speed_values(table)
    assert v == {"bf16_train_min_mobilenet": 0.75, "bf16_train_max_mobilenet": 0.75,
                 "bf16_train_min_resnet50": 1.4, "bf16_train_max_resnet50": 1.4}
    assert parity.speed_table({}).empty
    empty = parity.speed_values(parity.speed_table({}))
    assert set(empty) == set(v) and all(x != x for x in empty.values())  # NaN, not KeyError


def test_emulation_cost_sizes_a_run_from_its_records() -> None:
    from helpers.chapters import precision_parity as parity

    bench = {"precision": [
        {"model": "resnet50", "resolution": 128, "precision": "float32", "train_img_s": 10.0,
         "infer_img_s": 50.0},
        {"model": "resnet50", "resolution": 128, "precision": "mixed_bfloat16",
         "train_img_s": 0.8, "infer_img_s": 28.0}], "bf16_hardware": {"cpu_bf16": False}}
    rec = {"status": "ok", "params": {"model": "resnet50", "resolution": 128, "regime": "full"},
           "timing": {"train_s": 120.0, "train_images_per_s": 300.0}}  # 36 000 images
    other = {**rec, "params": {**rec["params"], "resolution": 64},
             "timing": {"train_s": 1.0, "train_images_per_s": 1.0}}
    v = parity.emulation_cost(bench, [rec, other])
    assert v["emu_train_ratio"] == pytest.approx(0.08)
    assert v["emu_run_h_fp32"] == pytest.approx(1.0) and v["emu_run_h_bf16"] == 12.5
    assert v["emu_cpu_bf16"] == 0.0 and v["emu_bf16_img_s"] == 0.8
    with pytest.raises(ValueError, match="resnet50 at 224 px"):
        parity.emulation_cost(bench, [rec], resolution=224)
    with pytest.raises(ValueError, match="no ok full-regime record"):
        parity.emulation_cost(bench, [other])


def test_bf16_runs_name_their_device_and_machine_pairs_compare_one_run_on_two() -> None:
    y, p = _data(0)
    gpu = _record(0, "mixed_bfloat16", p, y)
    gpu["provenance"] = {"gpu": ["cuda:0"], "keras_backend": "jax"}
    pairs = parity.precision_pairs([_record(0, "float32", p, y), gpu])
    assert list(pairs[["device_ref", "device_cand"]].iloc[0]) == ["CPU", "GPU"]
    cell = parity.parity_by_cell([_record(0, "float32", p, y), gpu]).iloc[0]
    assert cell["cand_devices"] == "1 GPU" and cell["n_cand_gpu"] == 1
    assert np.isnan(cell["speedup"])  # wall times of two machines say nothing about precision
    cpu = _record(0, "mixed_bfloat16", p, y)
    cpu["provenance"] = {"gpu": None, "keras_backend": "tensorflow"}
    noisy = dict(gpu, predictions={"test": {**gpu["predictions"]["test"],
                                            "probs": list(np.clip(np.asarray(
                                                gpu["predictions"]["test"]["probs"]) * 0.5, 0, 1))}})
    rows = parity.machine_pairs([cpu], [noisy, {**gpu, "run_id": "not-here"}])
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["machine_a"] == "CPU (tensorflow)" and row["machine_b"] == "GPU (jax)"
    # halving every probability keeps the ranking (same AUC) but moves labels at 0.5
    assert row["delta_auc"] == pytest.approx(0.0) and row["label_agreement"] < 1


def test_parity_with_the_other_machines_draws_can_change_the_verdict() -> None:
    recs = []
    for seed in range(3):
        y, p = _data(seed)
        recs += [_record(seed, "float32", p, y), _record(seed, "mixed_bfloat16", p, y)]
    here = parity.cell_values(parity.parity_by_cell(recs), "par")
    assert here == {"par_mobilenet_128_unit_mean_delta": pytest.approx(0.0),
                    "par_mobilenet_128_unit_seed_sd": pytest.approx(
                        here["par_mobilenet_128_unit_seed_sd"]),
                    "par_mobilenet_128_unit_holds": 1.0,
                    "par_mobilenet_128_unit_verdict": "holds",
                    # identical predictions: the seed-aware difference is exactly 0
                    "par_mobilenet_128_unit_eq_verdict": "equivalent",
                    "par_mobilenet_128_unit_eq_lo": pytest.approx(0.0),
                    "par_mobilenet_128_unit_eq_hi": pytest.approx(0.0)}
    y, p = _data(0)
    worse = _record(0, "mixed_bfloat16", np.where(y == 1, p * 0.3, p), y)  # a much worse draw
    swapped = parity.with_twins(recs, [worse, {**worse, "run_id": "elsewhere"}])
    assert sum(r is worse for r in swapped) == 1 and len(swapped) == len(recs)
    other = parity.cell_values(parity.parity_by_cell(swapped), "gpu")
    assert other["gpu_mobilenet_128_unit_mean_delta"] < 0
    assert other["gpu_mobilenet_128_unit_holds"] == 0.0
    assert other["gpu_mobilenet_128_unit_verdict"] == "does not hold"


def test_twin_values_read_the_largest_difference_against_its_cells_seed_spread() -> None:
    import pandas as pd

    assert parity.twin_values(pd.DataFrame(columns=["delta_auc"]), pd.DataFrame())["twin_n"] == 0
    twins = pd.DataFrame({"model": ["resnet50"] * 2, "resolution": [64, 64],
                          "preprocessing": ["unit"] * 2, "precision": ["mixed_bfloat16"] * 2,
                          "seed": [0, 1], "machine_a": ["CPU (tensorflow)"] * 2,
                          "machine_b": ["GPU (jax)"] * 2, "auc_a": [0.7, 0.6], "auc_b": [0.6, 0.61],
                          "delta_auc": [-0.1, 0.01], "p_delong": [0.01, 0.8],
                          "label_agreement": [0.99, 1.0]})
    cells = pd.DataFrame({"model": ["resnet50"], "resolution": [64], "preprocessing": ["unit"],
                          "seed_sd_ref": [0.02]})
    v = parity.twin_values(twins, cells)
    assert v["twin_n"] == 2 and v["twin_worst_run"] == "resnet50 64 px, unit, bf16, seed 0"
    assert v["twin_worst_in_sd"] == pytest.approx(5.0) and v["twin_min_p"] == 0.01
