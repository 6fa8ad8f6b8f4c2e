"""The GPU grids of issues 23 and 24: what they plan, in which order (configs/*-gpu.yaml)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from helpers.sweep.device import pack_runs
from helpers.sweep.plan import plan_sweep

ROOT = Path(__file__).resolve().parents[1]


def _runs(name: str) -> list[dict]:
    plan = plan_sweep(ROOT / "configs" / name, root=ROOT, allow_dirty=True,
                      external_root="external-images-folder")  # not read when planning
    return [{"run_id": s["run_id"], "params": dict(s["params"])} for s in plan.runs]


def _cell(p: dict) -> tuple:
    return tuple(p.get(k) for k in ("task", "model", "resolution", "preprocessing"))


def test_the_paper_regime_grid_is_one_precision_five_seeds_and_ordered_by_value() -> None:
    runs = _runs("paper-gpu.yaml")
    params = [r["params"] for r in runs]
    assert len(runs) == 80 and len({r["run_id"] for r in runs}) == 80
    assert {(p["regime"], p.get("precision", "float32"), p.get("external")) for p in params} == {
        ("full", "float32", "ph2")}  # float32 is the default, so the params may leave it out
    seeds = Counter(_cell(p) for p in params)
    assert len(seeds) == 16 and set(seeds.values()) == {5}  # 2 models x 4 sizes x 2 preprocessings
    first = params[:18]
    assert all(p["model"] == "resnet50" and p["resolution"] >= 128 and p["seed"] <= 2 for p in first)
    assert all(p["seed"] >= 3 for p in params[48:]) and all(p["seed"] <= 2 for p in params[:48])
    assert all(len({_cell(r["params"]) for r in pack}) == 1 for pack in pack_runs(runs, 3))
    assert len(pack_runs(runs, 3)) == 32  # every cell's seeds 0-2 together, then 3-4 together


def test_the_chest_grid_matches_the_cpu_training_and_puts_224_px_first() -> None:
    runs = _runs("kermany-gpu.yaml")
    params = [r["params"] for r in runs]
    assert len(runs) == 48
    assert Counter(_cell(p) for p in params).most_common()[-1][1] == 3
    assert {(p["regime"], p.get("precision", "float32")) for p in params} == {("full", "float32")}
    assert all(p["model"] == "mobilenetv2" and p["resolution"] == 224 for p in params[:6])
    assert all(p["model"] == "resnet50" for p in params[6:30])
    cpu = {_cell(r["params"]) + (r["params"]["seed"],): r for r in _runs("kermany-resolution.yaml")
           if r["params"]["regime"] == "full"}
    twin = cpu[_cell(params[0]) + (0,)]["params"]  # the CPU cell of the same training
    differs = {k for k in set(twin) | set(params[0]) if twin.get(k) != params[0].get(k)}
    assert differs <= {"precision"}  # the same training; only the precision policy may differ
