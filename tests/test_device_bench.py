"""helpers.sweep.device_bench: runs per GPU-minute and images/s from a batch's records (issue 23)."""

from __future__ import annotations

import pytest

from helpers.sweep.device_bench import (
    batch_summary,
    bench_markdown,
    dmon_summary,
    gpu_records,
    run_row,
)


def _rec(rid: str, start: str, end: str, epochs: list[float], gpu: bool = True, **params) -> dict:
    return {"run_id": rid, "status": "ok",
            "params": {"model": "mobilenet", "resolution": 224, "seed": 0, **params},
            "timing": {"wall_s": 100.0, "epoch_s": epochs},
            "data": {"counts": {"train": [1600, 400]}},
            "provenance": {"gpu": ["cuda:0 (NVIDIA H200)"] if gpu else None,
                           "keras_backend": "jax", "started_at": f"2026-12-01T00:{start}+00:00",
                           "finished_at": f"2026-12-01T00:{end}+00:00"}}  # fmt: skip


def test_a_batch_is_measured_from_its_records() -> None:
    recs = [_rec("a", "00:00", "02:00", [50, 4, 4, 5]), _rec("b", "01:00", "03:00", [40, 2, 2]),
            _rec("c", "03:00", "04:00", [10, 1], resolution=64),
            _rec("cpu", "00:00", "09:00", [5, 5], gpu=False)]
    rows = [run_row(r) for r in gpu_records(recs)]
    assert [r["run_id"] for r in rows] == ["a", "b", "c"]  # the CPU record is not a GPU run
    assert rows[0]["steady_epoch_s"] == 4 and rows[0]["compile_overhead_s"] == 46
    assert rows[0]["steady_images_per_s"] == pytest.approx(2000 / 4)
    s = batch_summary(rows)
    assert s["span_s"] == 240 and s["runs_per_gpu_minute"] == pytest.approx(3 / 4)
    assert s["most_at_once"] == 2  # a and b overlap; c starts as b ends
    assert s["mean_at_once"] == pytest.approx((120 + 120 + 60) / 240)
    assert s["by_cell"]["mobilenet 224 px float32"]["runs"] == 2
    md = bench_markdown([("results/benchmarks/device-x.json", {"label": "x", "summary": s})])
    assert "| x | 3 | 4.0 min | 0.75 | 2 |" in md and "not logged" in md
    with pytest.raises(ValueError, match="no GPU run"):
        batch_summary([])
    bad = _rec("d", "00:00", "01:00", [1, 1])
    del bad["data"]
    with pytest.raises(ValueError, match="'d' lacks"):
        run_row(bad)


def test_dmon_log_is_summarised() -> None:
    log = """#Time        gpu    sm   mem   enc   dec   jpg   ofa    fb  bar1  ccpm
#HH:MM:SS    Idx     %     %     %     %     %     %    MB    MB    MB
 00:32:15      0    40    10     0     0     -     -  2000     3     0
 00:32:20      0    80    30     0     0     -     -  9000     3     0
 00:32:25      0     -     -     0     0     -     -  9000     3     0
"""
    s = dmon_summary(log)
    assert s["samples"] == 2 and s["sm_mean_pct"] == 60 and s["fb_max_mb"] == 9000
    assert dmon_summary("no such GPU") == {"samples": 0}
