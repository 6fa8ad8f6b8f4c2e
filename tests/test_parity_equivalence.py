"""bf16 parity as equivalence, not as "no detectable difference" (issue 25, item 2)."""

from __future__ import annotations

import numpy as np

from helpers.chapters import precision_parity as parity


def _record(seed: int, precision: str, labels: np.ndarray, probs: np.ndarray,
            resolution: int = 128) -> dict:
    params = {"model": "mobilenet", "resolution": resolution, "regime": "full",
              "preprocessing": "unit", "seed": seed, "epochs": 20}
    if precision != "float32":
        params["precision"] = precision
    ids = [f"img{i:05d}" for i in range(len(labels))]
    return {"run_id": f"r{resolution}-{seed}-{precision}", "status": "ok", "params": params,
            "predictions": {"test": {"ids": ids, "labels": labels.tolist(),
                                     "probs": probs.tolist()}},
            "timing": {"wall_s": 100.0}}


def _cell(n: int, shift: float, resolution: int = 128, seeds: int = 3,
          noise: float = 0.05) -> list[dict]:
    """Seeds whose bf16 twin scores positives ``shift`` logits higher, plus ``noise`` (a
    different draw of the model when large; 0 shift and small noise: the same model)."""
    recs = []
    labels = (np.arange(n) % 4 == 0).astype(int)
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        score = 1.0 * labels + rng.normal(0, 1, n)
        bf16 = score + shift * labels + rng.normal(0, noise, n)
        recs += [_record(seed, "float32", labels, 1 / (1 + np.exp(-score)), resolution),
                 _record(seed, "mixed_bfloat16", labels, 1 / (1 + np.exp(-bf16)), resolution)]
    return recs


def test_near_identical_twins_on_many_images_are_equivalent():
    cells = parity.parity_by_cell(_cell(4000, 0.0))
    row = cells.iloc[0]
    assert row["verdict"] == "equivalent" and row["equivalent"]
    assert -0.02 < row["eq_lo"] < row["or_delta_auc"] < row["eq_hi"] < 0.02


def test_a_real_shift_is_higher_and_few_images_are_inconclusive():
    cells = parity.parity_by_cell(_cell(4000, 0.8, resolution=128)
                                   + _cell(80, 0.0, 64, noise=1.0))
    by_px = cells.set_index("resolution")
    assert by_px.loc[128, "verdict"] == "higher"
    # another draw of the model on 80 images: "does not differ", but equivalence not shown
    assert by_px.loc[64, "verdict"] == "inconclusive"
    assert (cells["or_p_holm"] >= cells["or_p"]).all()  # Holm over the chapter's cells
    text = parity.equivalence_verdict(cells)
    assert "0 of 2 configurations are shown equivalent" in text and "1 higher" in text


def test_cell_values_carry_the_equivalence_verdict():
    values = parity.cell_values(parity.parity_by_cell(_cell(4000, 0.0)), "par")
    assert values["par_mobilenet_128_unit_eq_verdict"] == "equivalent"
    assert values["par_mobilenet_128_unit_eq_lo"] < values["par_mobilenet_128_unit_eq_hi"]
