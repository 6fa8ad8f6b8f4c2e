"""Benchmarks of the training input pipeline and of a frozen-regime sweep (`make bench`).

Prints numbers, asserts nothing (reproducibility page, chapter 03). Two parts:

1. Pipeline: training images/s of ``model.fit`` (regime ``full`` by default) at each model and
   resolution, fed by
   * ``synthetic``: one in-memory batch of the same shape repeated (no input cost at all);
   * ``project``: :func:`helpers.training.array_batches` over the real ISIC-2017 arrays from
     :func:`helpers.data.load_dataset` (what ``run_training`` uses);
   * ``directory``: ``keras.utils.image_dataset_from_directory`` over the JPEGs (a temporary
     class-folder tree of symlinks built from ``labels.csv``), decoding and resizing on the fly,
     with ``prefetch(AUTOTUNE)``.
   A fixed number of steps is timed after warm-up steps (graph tracing excluded).
   Goals: project within 10% of synthetic; project >= 1.3x directory at 64 px.
2. Precision (``--precision``): training and inference images/s of every model and
   resolution in float32 and in bf16 mixed precision (``mixed_bfloat16``), synthetic input,
   all layers trained, batch 32. bf16 is fast only where the hardware computes it
   (``helpers.training.precision``: AVX512-BF16/AMX CPUs, GPUs); elsewhere it is emulated and slower.
3. Sweep: wall time of ``configs/frozen-bench.yaml`` (2 models x 4 resolutions x 5 seeds,
   frozen regime) into a temporary output folder; goal under 10 minutes. ``--sweep-cache cold``
   (default) uses an empty temporary cache folder, so decoding and feature extraction are
   included; ``warm`` uses the configured ``RESBOOK_CACHE_DIR``.

Usage::

    python scripts/benchmark.py                       # everything (tens of minutes on 2 cores)
    python scripts/benchmark.py --quick               # MobileNet at 64 px, few steps, no sweep
    python scripts/benchmark.py --models resnet50 --resolutions 64 128 --steps 10 --no-sweep
    python scripts/benchmark.py --out bench.json      # also write the numbers as JSON
    python scripts/benchmark.py --precision --no-pipeline --no-sweep   # float32 vs bf16 only
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
ISIC_FOLDER = "isic2017-256"


def _timer_callback(n_batches: int):
    import keras

    class BatchTimer(keras.callbacks.Callback):
        """Records the end time of each training batch; stops after ``n_batches``."""

        def __init__(self) -> None:
            super().__init__()
            self.times: list[float] = []

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            self.times.append(time.perf_counter())
            if len(self.times) >= n_batches:
                self.model.stop_training = True

    return BatchTimer()


def time_fit(model: Any, data: Any, *, warmup: int, steps: int, batch_size: int) -> float:
    """Training images/s over ``steps`` batches after ``warmup`` batches (chapter 03 bench)."""
    timer = _timer_callback(warmup + steps)
    model.fit(
        data, epochs=1, steps_per_epoch=warmup + steps, callbacks=[timer], verbose=0, shuffle=False
    )
    if len(timer.times) < warmup + steps:
        raise RuntimeError(
            f"the pipeline gave only {len(timer.times)} batches; need {warmup + steps}"
        )
    t = timer.times
    return steps * batch_size / (t[warmup + steps - 1] - t[warmup - 1])


def bench_precision(
    model_name: str, resolution: int, precision: str, *, steps: int, warmup: int, batch_size: int
) -> dict[str, Any]:
    """Training and inference images/s in one precision, synthetic input (chapter 03 bench)."""
    import keras
    import numpy as np

    from helpers.training import precision as prec
    from helpers.training.models import build_model, set_regime

    with prec.policy(precision):
        keras.utils.set_random_seed(0)
        model = build_model(model_name, resolution, weights=None)
        set_regime(model, "full")
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (batch_size, resolution, resolution, 3)).astype("float32")
        y = (rng.random((batch_size, 1)) < 0.2).astype("float32")

        def batches():
            while True:
                yield x, y

        train = time_fit(model, batches(), warmup=warmup, steps=steps, batch_size=batch_size)
        for _ in range(warmup):
            model.predict_on_batch(x)
        t = time.perf_counter()
        for _ in range(steps):
            model.predict_on_batch(x)
        infer = steps * batch_size / (time.perf_counter() - t)
    return {"model": model_name, "resolution": resolution, "precision": precision,
            "train_img_s": train, "infer_img_s": infer}


def precision_markdown(rows: list[dict[str, Any]]) -> str:
    """float32 vs bf16 table, one row per model and resolution (chapter 03 bench)."""
    by = {(r["model"], r["resolution"], r["precision"]): r for r in rows}
    out = ["| model | px | train fp32 img/s | train bf16 img/s | ratio | infer fp32 img/s "
           "| infer bf16 img/s | ratio |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for (model, res, precision), f in by.items():
        b = by.get((model, res, "mixed_bfloat16"))
        if precision != "float32" or b is None:
            continue
        out.append(f"| {model} | {res} | {f['train_img_s']:.1f} | {b['train_img_s']:.1f} "
                   f"| {b['train_img_s'] / f['train_img_s']:.2f}x | {f['infer_img_s']:.1f} "
                   f"| {b['infer_img_s']:.1f} | {b['infer_img_s'] / f['infer_img_s']:.2f}x |")
    return "\n".join(out)


def _shown(path: Path) -> str:
    """``path`` as the README shows it: relative to the repository when inside it."""
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return path.name


def precision_table(path: Path, readme: Path | None = None) -> int:
    """Print the precision table of a JSON file of ``--out`` (and put it in ``readme``)."""
    from helpers.files import replace_marked_block

    result = json.loads(path.read_text(encoding="utf-8"))
    if not result.get("precision"):
        raise SystemExit(f"{path}: no precision rows (made with --precision --out FILE?)")
    cpu, bf16 = result.get("cpu", {}), result.get("bf16_hardware", {})
    md = (precision_markdown(result["precision"]) + f"\n\nCPU: {cpu.get('model', '?')}, "
          f"{cpu.get('usable_cores', '?')} usable cores, bf16 in hardware: "
          f"{bf16.get('cpu_bf16', '?')}; numbers from `{_shown(path)}`.")
    print(md)
    if readme is not None:
        print(f"→ {replace_marked_block(readme, 'precision-table', md)}")
    return 0


def isic_labels(data_root: Path) -> list[dict[str, str]]:
    """Rows of ISIC-2017 ``labels.csv`` (chapter 03 bench)."""
    path = data_root / ISIC_FOLDER / "labels.csv"
    if not path.is_file():
        raise SystemExit(
            f"{path} not found: set RESBOOK_DATA_DIR (or --data-root) to the folder holding "
            f"{ISIC_FOLDER}/"
        )
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def symlink_tree(data_root: Path, dest: Path, split: str = "train") -> int:
    """Class-folder tree (0_other/, 1_melanoma/) of symlinks to the split's JPEGs (bench)."""
    n = 0
    for row in isic_labels(data_root):
        if row["split"] != split:
            continue
        cls = "1_melanoma" if float(row["melanoma"]) >= 0.5 else "0_other"
        src = (data_root / ISIC_FOLDER / row["path"]).resolve()
        (dest / cls).mkdir(parents=True, exist_ok=True)
        (dest / cls / f"{row['image_id']}.jpg").symlink_to(src)
        n += 1
    return n


def bench_pipeline(
    model_name: str,
    resolution: int,
    *,
    steps: int,
    warmup: int,
    batch_size: int,
    regime: str,
    data_root: Path,
    tree: Path,
) -> dict[str, Any]:
    """images/s for synthetic, project and directory pipelines at one cell (chapter 03 bench)."""
    import keras
    import numpy as np
    import tensorflow as tf

    from helpers.data import load_dataset
    from helpers.training import array_batches, models, seed_everything

    seed_everything(0)
    t = time.perf_counter()
    ds = load_dataset("isic2017", task="melanoma", resolution=resolution, data_root=data_root)
    load_s = time.perf_counter() - t
    x, y = ds.splits["train"].images, ds.splits["train"].labels
    n_batches = len(x) // batch_size
    if warmup + steps > n_batches:
        raise SystemExit(
            f"--warmup + --steps = {warmup + steps} exceeds the {n_batches} full batches of one "
            "epoch of the training split; use fewer steps"
        )

    model = models.build_model(model_name, resolution, weights="imagenet")
    models.set_regime(model, regime)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")

    rows: dict[str, Any] = {"model": model_name, "resolution": resolution, "load_s": load_s}
    xb = np.asarray(x[:batch_size], dtype=np.float32)
    yb = np.asarray(y[:batch_size], dtype=np.float32).reshape(-1, 1)
    synthetic = tf.data.Dataset.from_tensors((xb, yb)).repeat()
    rows["synthetic"] = time_fit(
        model, synthetic, warmup=warmup, steps=steps, batch_size=batch_size
    )
    project = array_batches(x, y, batch_size, shuffle=True, seed=0)
    rows["project"] = time_fit(model, project, warmup=warmup, steps=steps, batch_size=batch_size)
    directory = (
        keras.utils.image_dataset_from_directory(
            tree,
            labels="inferred",
            label_mode="binary",
            image_size=(resolution, resolution),
            batch_size=batch_size,
            shuffle=True,
            seed=0,
            verbose=False,
        )
        .repeat()
        .prefetch(tf.data.AUTOTUNE)
    )
    rows["directory"] = time_fit(
        model, directory, warmup=warmup, steps=steps, batch_size=batch_size
    )
    rows["overhead_pct"] = 100.0 * (1.0 - rows["project"] / rows["synthetic"])
    rows["speedup_vs_directory"] = rows["project"] / rows["directory"]
    keras.backend.clear_session()
    return rows


def bench_sweep(config: Path, cache: str, workers: int = 1) -> dict[str, Any]:
    """Wall time of a sweep config run from scratch into a temporary folder (chapter 03 bench)."""
    from helpers.sweep import process_executor, run_sweep

    executor = process_executor(workers)
    with tempfile.TemporaryDirectory(prefix="resbook-bench-") as tmp:
        cache_dir = Path(tmp) / "cache" if cache == "cold" else None
        t = time.perf_counter()
        try:
            summary = run_sweep(
                config, output_dir=Path(tmp) / "out", cache_dir=cache_dir, executor=executor,
                allow_dirty=True,  # timing only: the records are thrown away
            )
        finally:
            if executor is not None:
                executor.shutdown()
        wall = time.perf_counter() - t
    return {
        "config": os.path.relpath(config, REPO),
        "cache": cache,
        "workers": workers,
        "runs": len(summary.runs),
        "ok": summary.count("ok"),
        "failed": summary.count("failed"),
        "wall_s": wall,
        "goal_s": 600,
    }


def markdown(rows: list[dict[str, Any]], sweep: dict[str, Any] | None) -> str:
    """The results as markdown tables (chapter 03 bench)."""
    out: list[str] = []
    if rows:
        out += [
            "| model | px | synthetic img/s | project img/s | overhead | directory img/s "
            "| project / directory |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in rows:
            out.append(
                f"| {r['model']} | {r['resolution']} | {r['synthetic']:.1f} "
                f"| {r['project']:.1f} | {r['overhead_pct']:+.1f}% | {r['directory']:.1f} "
                f"| {r['speedup_vs_directory']:.2f}x |"
            )
        out += ["", "Goals: overhead < 10%; project / directory >= 1.3x at 64 px."]
    if sweep is not None:
        out += [
            "",
            "| sweep | cache | workers | runs | ok | failed | wall | goal |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
            f"| {sweep['config']} | {sweep['cache']} | {sweep.get('workers', 1)} | {sweep['runs']} "
            f"| {sweep['ok']} "
            f"| {sweep['failed']} | {sweep['wall_s']:.0f} s ({sweep['wall_s'] / 60:.1f} min) | < 10 min |",
        ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print a markdown table (chapter 03 bench)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=["mobilenet", "resnet50"])
    p.add_argument("--resolutions", nargs="+", type=int, default=[64, 128, 224, 256])
    p.add_argument("--steps", type=int, default=20, help="timed batches per pipeline")
    p.add_argument("--warmup", type=int, default=3, help="untimed batches first (tracing)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--regime", default="full", choices=["full", "frozen"])
    p.add_argument("--data-root", default=None, help="default: $RESBOOK_DATA_DIR")
    p.add_argument("--quick", action="store_true", help="MobileNet, 64 px, 5 steps, no sweep")
    p.add_argument("--no-sweep", action="store_true", help="skip the sweep benchmark")
    p.add_argument("--no-pipeline", action="store_true", help="skip the pipeline benchmark")
    p.add_argument("--sweep-config", default=str(REPO / "configs" / "frozen-bench.yaml"))
    p.add_argument("--sweep-cache", choices=["cold", "warm"], default="cold")
    p.add_argument("--workers", type=int, default=1, help="parallel sweep runs (processes)")
    p.add_argument("--precision", action="store_true",
                   help="also time float32 vs bf16 mixed precision (synthetic input)")
    p.add_argument("--out", default=None, help="write the numbers as JSON to this file")
    p.add_argument("--precision-table", metavar="JSON", default=None,
                   help="only print the float32 vs bf16 table of an --out file (no timing)")
    p.add_argument("--write-readme", action="store_true",
                   help="with --precision-table: replace README.md's precision-table block")
    args = p.parse_args(argv)
    if args.precision_table:
        readme = REPO / "README.md" if args.write_readme else None
        return precision_table(Path(args.precision_table), readme)
    if args.quick:
        args.models, args.resolutions, args.steps, args.warmup = ["mobilenet"], [64], 5, 2
        args.no_sweep = True
    if args.warmup < 1 or args.steps < 1:
        p.error("--warmup and --steps must be at least 1")

    from helpers import config
    from helpers.runs.records import cpu_info, package_versions

    data_root = config.data_root(args.data_root)
    result: dict[str, Any] = {
        "args": {k: v for k, v in vars(args).items() if k not in {"data_root", "out"}},
        "cpu": cpu_info(),
        "packages": package_versions(),
        "pipeline": [],
        "precision": [],
        "sweep": None,
    }
    if args.precision:
        from helpers.training.precision import describe

        result["bf16_hardware"] = describe()
        for model_name in args.models:
            for res in args.resolutions:
                for precision in ("float32", "mixed_bfloat16"):
                    print(f"precision {model_name} {res}px {precision} ...", flush=True)
                    row = bench_precision(model_name, res, precision, steps=args.steps,
                                          warmup=args.warmup, batch_size=args.batch_size)
                    print(f"  train {row['train_img_s']:.1f} img/s, "
                          f"inference {row['infer_img_s']:.1f} img/s", flush=True)
                    result["precision"].append(row)
    if not args.no_pipeline:
        with tempfile.TemporaryDirectory(prefix="resbook-tree-") as tmp:
            n = symlink_tree(data_root, Path(tmp))
            print(f"directory tree: {n} training JPEGs", flush=True)
            for model_name in args.models:
                for res in args.resolutions:
                    print(f"pipeline {model_name} {res}px ...", flush=True)
                    row = bench_pipeline(
                        model_name,
                        res,
                        steps=args.steps,
                        warmup=args.warmup,
                        batch_size=args.batch_size,
                        regime=args.regime,
                        data_root=data_root,
                        tree=Path(tmp),
                    )
                    print(
                        "  "
                        + ", ".join(
                            f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in row.items()
                        ),
                        flush=True,
                    )
                    result["pipeline"].append(row)
    if not args.no_sweep:
        print(f"sweep {args.sweep_config} (cache {args.sweep_cache}) ...", flush=True)
        result["sweep"] = bench_sweep(
            Path(args.sweep_config).resolve(), args.sweep_cache, max(1, args.workers)
        )
    print()
    print(markdown(result["pipeline"], result["sweep"]))
    if result["precision"]:
        print()
        print(precision_markdown(result["precision"]))
    if args.out:
        text = json.dumps(result, indent=1, allow_nan=False, default=str)
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"\nwrote {args.out}")
    return 1 if result["sweep"] is not None and result["sweep"]["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
