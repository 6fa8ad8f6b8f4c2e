"""Command line of the sweep: ``python -m helpers sweep CONFIG ...`` (training chapter).

``python -m helpers sweep CONFIG [--data-root P] [--weights-dir P] [--cache-dir P]
[--output-dir P] [--external-root P] [--external-masks P] [--dry-run] [--only SUBSTRING] [--max-runs N] [--allow-dirty]
[--executor {process,dask,dask-local}] [--workers N] [--scheduler ADDRESS]``; exit status 0
when no run failed, 1 when one did, 2 for a bad config or bad options (or uncommitted changes
in the notebook's checkout without ``--allow-dirty``, an input folder that ``--dry-run`` or, for
the external set, the sweep finds unusable, or a results folder it cannot write to while runs
are left to do).

Executors: ``process`` (default): this process, or a pool of ``--workers`` processes;
``dask-local``: a local Dask cluster of ``--workers`` processes; ``dask``: the Dask cluster whose
scheduler is at ``--scheduler`` (``--workers``, if given, caps the runs in flight).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from helpers.sweep.config import SweepConfigError
from helpers.sweep.executors import dask_executor, process_executor
from helpers.sweep.runner import run_sweep

EXECUTORS = ("process", "dask", "dask-local")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers sweep",
        description="Run a YAML grid of training runs with papermill; resumable (training chapter).",
    )
    p.add_argument("config", help="sweep YAML, e.g. configs/smoke.yaml")
    p.add_argument("--data-root", default=None, help="data folder (default: $RESBOOK_DATA_DIR)")
    p.add_argument("--weights-dir", default=None, help="local weights ($RESBOOK_WEIGHTS_DIR)")
    p.add_argument("--cache-dir", default=None, help="array/feature cache ($RESBOOK_CACHE_DIR)")
    p.add_argument("--output-dir", default=None, help="override the config's output_dir")
    p.add_argument("--external-root", default=None,
                   help="folder of class folders scored by runs with external=<name>")
    p.add_argument("--external-masks", default=None, metavar="PATH",
                   help="folder of lesion masks of the external set (<image stem>_*.png): its "
                   "images are also scored cropped to the lesion (lesion_box)")
    p.add_argument("--dry-run", action="store_true",
                   help="list the runs and their estimated time, check every input folder "
                   "(data, external set); execute nothing")
    p.add_argument("--only", default=None, metavar="SUBSTRING", help="only run ids containing it")
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="process",
        help="process (default): local processes; dask-local: a local Dask cluster; "
        "dask: the cluster at --scheduler",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="parallel processes (default 1); with --executor dask: most runs in flight",
    )
    p.add_argument(
        "--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler, e.g. tcp://h:8786"
    )
    p.add_argument("--max-runs", type=int, default=None, help="stop after starting N runs")
    p.add_argument("--save-models", action="store_true",
                   help="runs keep their trained model in the cache (<cache>/models/; "
                   "deployment and Grad-CAM load it instead of re-training)")
    p.add_argument(
        "--allow-dirty",
        action="store_true",
        help="run even with uncommitted changes (records store provenance.git_diff_sha256)",
    )
    return p


def _executor(args: argparse.Namespace) -> Any:
    """The executor the options ask for; None: run in this process."""
    if args.executor == "process" or args.dry_run:
        return process_executor(args.workers or 1)
    if args.executor == "dask-local":
        return dask_executor(workers=args.workers or 1)
    ex = dask_executor(args.scheduler)
    if args.workers:
        ex._max_workers = args.workers
    return ex


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers sweep CONFIG ...``: 0 when no run failed, 1 otherwise (training chapter)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sweep":
        argv = argv[1:]
    args = _parser().parse_args(argv)
    if args.workers is not None and args.workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return 2
    if args.max_runs is not None and args.max_runs < 0:
        print(f"--max-runs must be 0 or more, got {args.max_runs}", file=sys.stderr)
        return 2
    if (args.executor == "dask") != bool(args.scheduler):
        print("--executor dask needs --scheduler ADDRESS (and only it takes one)", file=sys.stderr)
        return 2
    try:
        executor = _executor(args)
    except ImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        summary = run_sweep(
            args.config,
            executor=executor,
            data_root=args.data_root,
            weights_dir=args.weights_dir,
            cache_dir=args.cache_dir,
            output_dir=args.output_dir,
            external_root=args.external_root,
            external_masks=args.external_masks,
            dry_run=args.dry_run,
            only=args.only,
            max_runs=args.max_runs,
            allow_dirty=args.allow_dirty,
            save_models=args.save_models,
        )
    except SweepConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if executor is not None:
            executor.shutdown()
    if summary.problems:
        print(f"error: {len(summary.problems)} input folder problem(s), listed above",
              file=sys.stderr)
        return 2
    return 0 if summary.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
