"""How well a GPU batch used the GPU: runs per GPU-minute and images per second per run (issue 23).

Read from the records a batch wrote (``provenance.gpu`` set), so the same numbers come from any
batch, past or future (``scripts/device_sweep.py bench`` → ``results/benchmarks/device-*.json``):

* per run: the model, input size, precision; wall time; the first epoch (which holds the XLA
  compilation) and the median of the later epochs ("steady"); the compilation overhead (first
  minus steady); steady training images per second (training images / steady epoch);
* per batch: runs per GPU-minute over the span from the first start to the last finish, how many
  runs trained at once (most, and on average over the span), the share of run time spent in first
  epochs, and the steady images per second per model × size (median over its runs).

An ``nvidia-smi dmon`` log (``run --monitor``) adds the GPU's utilisation over the batch.
Runs per GPU-minute over the span is the batch's own figure; the device minutes a session is
charged also hold the machine's start and the data's transfer, which the batch does not see.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

__all__ = ["batch_summary", "bench_markdown", "dmon_summary", "gpu_records", "run_row"]


def gpu_records(recs: Iterable[Mapping[str, Any]], *, include_cpu: bool = False
                ) -> list[Mapping[str, Any]]:
    """The ok records made on a GPU (``provenance.gpu`` set), with start and finish times;
    ``include_cpu``: CPU records too (the dry run of the GPU path on a CPU)."""
    return [r for r in recs if r.get("status") == "ok"
            and (include_cpu or (r.get("provenance") or {}).get("gpu"))
            and r["provenance"].get("started_at") and r["provenance"].get("finished_at")]


def _t(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def run_row(rec: Mapping[str, Any]) -> dict[str, Any]:
    """One run's timing (module docstring); ValueError naming the run when a field is missing."""
    try:
        p, t, pv = rec["params"], rec["timing"], rec["provenance"]
        epochs = [float(x) for x in t["epoch_s"]]
        n_train = int(sum(rec["data"]["counts"]["train"]))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"record {rec.get('run_id')!r} lacks {exc} needed for the benchmark") from exc
    steady = statistics.median(epochs[1:]) if len(epochs) > 1 else float("nan")
    return {
        "run_id": rec["run_id"], "dataset": p.get("dataset"), "model": p.get("model"),
        "resolution": p.get("resolution"), "regime": p.get("regime"),
        "preprocessing": p.get("preprocessing"), "seed": p.get("seed"),
        "precision": p.get("precision") or "float32",
        "gpu": ", ".join(pv["gpu"]) if pv.get("gpu") else "none (CPU)",
        "backend": pv.get("keras_backend"), "started_at": pv["started_at"],
        "finished_at": pv["finished_at"], "wall_s": float(t["wall_s"]),
        "epochs": len(epochs), "first_epoch_s": epochs[0] if epochs else float("nan"),
        "steady_epoch_s": steady, "compile_overhead_s": (epochs[0] - steady) if epochs else float("nan"),
        "train_images": n_train, "steady_images_per_s": n_train / steady if steady > 0 else float("nan"),
    }  # fmt: skip


def batch_summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Runs per GPU-minute, concurrency and per-cell throughput of a batch (module docstring)."""
    if not rows:
        raise ValueError("no GPU run to benchmark (no ok record with provenance.gpu and times)")
    spans = [(_t(r["started_at"]), _t(r["finished_at"])) for r in rows]
    t0, t1 = min(s for s, _ in spans), max(e for _, e in spans)
    span_s = max(t1 - t0, 1.0)
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    busy = sum(e - s for s, e in spans)
    by_cell: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_cell.setdefault(f"{r['model']} {r['resolution']} px {r['precision']}", []).append(r)
    cells = {k: {"runs": len(v),
                 "median_wall_s": statistics.median(x["wall_s"] for x in v),
                 "median_first_epoch_s": statistics.median(x["first_epoch_s"] for x in v),
                 "median_steady_images_per_s": statistics.median(x["steady_images_per_s"] for x in v)}
             for k, v in sorted(by_cell.items())}  # fmt: skip
    return {
        "runs": len(rows), "span_s": span_s, "runs_per_gpu_minute": len(rows) / (span_s / 60),
        "most_at_once": most, "mean_at_once": busy / span_s,
        "first_epoch_share_of_run_time": sum(r["first_epoch_s"] for r in rows)
        / sum(r["wall_s"] for r in rows),
        "median_compile_overhead_s": statistics.median(r["compile_overhead_s"] for r in rows),
        "gpus": sorted({r["gpu"] for r in rows}), "backends": sorted({str(r["backend"]) for r in rows}),
        "by_cell": cells,
    }  # fmt: skip


def dmon_summary(text: str) -> dict[str, Any]:
    """GPU utilisation from an ``nvidia-smi dmon -s um -o T`` log: samples, SM % mean/median,
    memory-controller % mean, most frame-buffer memory used (MB)."""
    header: list[str] = []
    sm, mem, fb = [], [], []
    for line in text.splitlines():
        parts = line.split()
        if line.startswith("#"):  # the first comment line names the columns ("# Time gpu sm …")
            if not header:
                header = [h.lower() for h in line.lstrip("#").split()]
            continue
        if not header or len(parts) != len(header):
            continue
        row = dict(zip(header, parts, strict=True))
        for key, out in (("sm", sm), ("mem", mem), ("fb", fb)):
            with contextlib.suppress(KeyError, ValueError):  # "-": not measured
                out.append(float(row[key]))
    if not sm:
        return {"samples": 0}
    return {"samples": len(sm), "sm_mean_pct": statistics.fmean(sm),
            "sm_median_pct": statistics.median(sm),
            "mem_mean_pct": statistics.fmean(mem) if mem else None,
            "fb_max_mb": max(fb) if fb else None}


def bench_markdown(benches: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """The README's table of GPU batches from ``(file name, bench JSON)`` pairs, oldest first."""
    head = ("| batch | runs | span | runs per GPU-minute | most at once | first epochs' share of "
            "run time | median compilation overhead | GPU utilisation (SM, mean) | record |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---|")
    rows = []
    for name, b in benches:
        s = b["summary"]
        util = (s.get("utilisation") or {}).get("sm_mean_pct")
        rows.append(f"| {b['label']} | {s['runs']} | {s['span_s'] / 60:.1f} min | "
                    f"{s['runs_per_gpu_minute']:.2f} | {s['most_at_once']} | "
                    f"{100 * s['first_epoch_share_of_run_time']:.0f} % | "
                    f"{s['median_compile_overhead_s']:.0f} s | "
                    f"{'not logged' if util is None else f'{util:.0f} %'} | `{name}` |")
    return "\n".join([head, *rows])
