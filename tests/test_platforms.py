"""One platform per canonical cell (issue 23): helpers.analysis.platforms and the GPU folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.analysis.platforms import mixed_cells, platform
from helpers.runs import records

ROOT = Path(__file__).resolve().parents[1]


def _rec(rid: str, seed: int, gpu: bool, backend: str, precision: str | None = None) -> dict:
    params = {"model": "resnet50", "resolution": 64, "seed": seed}
    if precision:
        params["precision"] = precision
    return {"run_id": rid, "status": "ok", "params": params,
            "provenance": {"gpu": ["cuda:0 (NVIDIA H200)"] if gpu else None,
                           "keras_backend": backend}}


def test_a_cell_from_two_machines_or_precisions_is_found() -> None:
    same = [_rec("a", 0, True, "jax"), _rec("b", 1, True, "jax")]
    assert mixed_cells(same) == {}
    mixed = mixed_cells([*same, _rec("c", 2, False, "tensorflow")])
    (cell, by), = mixed.items()
    assert by == {"GPU (cuda:0 (NVIDIA H200)), jax, float32": ["a", "b"],
                  "CPU, tensorflow, float32": ["c"]}
    # precision is a parameter: bf16 runs form their own cell, never mixed into float32 seeds
    assert mixed_cells([*same, _rec("d", 2, True, "jax", "mixed_bfloat16")]) == {}
    assert platform(_rec("d", 2, True, "jax", "mixed_bfloat16")).endswith("mixed_bfloat16")


@pytest.mark.parametrize("folder", ["paper-gpu", "kermany-gpu"])
def test_the_canonical_gpu_folders_never_mix_platforms(folder: str) -> None:
    path = ROOT / "results" / folder
    if not path.exists():
        pytest.skip(f"results/{folder} has no records yet (the GPU grid has not run)")
    assert mixed_cells(records.load_records(path)) == {}


def test_the_results_chapter_names_the_machine_of_every_paper_regime_cell() -> None:
    from helpers.chapters import reading, results

    runs = results.load_runs(ROOT / "results" / "paper", dataset="isic2017", task="melanoma")
    table = results.table_one(runs, split="test", auc_interval="or_hillis")
    machines = reading.machines_by_size(runs, table)
    row = machines.loc[("MobileNet", "full · unit · fp32")]
    assert list(row) == ["CPU 3", "CPU 3", "GPU 3", "GPU 3"]  # sizes from two machines
    assert machines.loc[("ResNet50", "full · unit · bf16"), "64 px"] == "CPU 2 + GPU 1"
    values = reading.machine_values(machines)
    assert values["plat_cells_mixed"] == 1 and values["plat_rows_split"] >= 2
    assert machines.index.isin(reading.auc_by_size(table).index).all()  # Table I's rows


def test_the_machine_sentence_follows_the_counts() -> None:
    import pandas as pd

    from helpers.chapters import reading

    assert "no run of the paper's regime" in reading.machines_text(pd.DataFrame())
    one = pd.DataFrame({"64 px": ["GPU 5"], "128 px": ["GPU 5"]})
    assert reading.machines_text(one).startswith("Every row here comes from one machine")
    two = pd.DataFrame({"64 px": ["CPU 3", "CPU 2 + GPU 1"], "128 px": ["GPU 3", "—"]})
    text = reading.machines_text(two)
    assert text.startswith("In 1 of these 2 rows") and "1 cell mixes machines" in text
