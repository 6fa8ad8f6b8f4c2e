"""Run a sweep's missing training runs on a machine without Jupyter or git, e.g. a lent GPU.

The GPU path of ``python -m helpers sweep``: the same config, run ids and skip rule, with the
runs trained by the training chapter's own ``run_training``/``save_record`` in worker processes
(Keras on JAX by default) instead of papermill. The logic is in the package
(:mod:`helpers.sweep.device`, which says why ``drive_runs`` cannot drive it;
:mod:`helpers.sweep.device_job`, :mod:`helpers.sweep.device_archive`); this is its CLI, three steps:

here (the checkout, clean)::

    python scripts/device_sweep.py prepare configs/paper.yaml --only=-224-full- \\
        --only=-256-full- --seed0-first --to .gpu/job

writes ``.gpu/job/runs.json`` (the sweep's planned runs that it would not skip, in order, with
their run ids; ``--data-root`` etc. as for the sweep, for its skip rule) and
``.gpu/job/manifest.json`` (HEAD and the git blob id of every tracked file).

there (a copy of the tree, the data, the weights; the folders given as options)::

    python scripts/device_sweep.py run .gpu/job --output-dir .gpu/results/paper \\
        --data-root … --weights-dir … --cache-dir … --workers 6 --pack 5 --monitor \\
        --archive $OUT/records.tar

checks the copy file by file against the manifest (only then do the records name the commit;
the outcome travels in the archive as ``logs/verification.json``), trains the runs in worker
processes, each taking a pack of up to ``--pack`` consecutive runs of one cell (its seeds: the
shapes compile once, into a JAX compilation cache the workers share), and re-writes the
archive after every pack and every 20 s, so a call cut short still returns what finished.
``--stop-after S`` starts no run after S seconds. A worker killed outright (out of
memory) is reported and a fresh process pool takes the runs not yet started.

here again::

    python scripts/device_sweep.py bench records.tar --label "…" --dmon logs/gpu-dmon.log \\
        --out results/benchmarks/device-….json
    python scripts/device_sweep.py collect records.tar .gpu/job --into results/paper \\
        --duplicates-dir results/device-parity

checks every record against its planned identity and run id, recomputes its metrics from its
predictions (a record whose stored metrics differ is not filed) and files it (replacing a failed
record of the run, or one of other params); members it cannot read or check are listed with the
reason, the others filed all the same, and it exits 1. A record whose run already has an ok
record here goes to ``--duplicates-dir`` (the same cell on two machines: chapter 05 compares them).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # the device's copy of the tree need not be installed

from helpers.sweep.device_job import LOCATIONS  # noqa: E402


def cmd_prepare(args: argparse.Namespace) -> int:
    from helpers.sweep.device_job import prepare_job
    from helpers.sweep.device_travel import SLIM_AWAY

    return prepare_job(args.config, args.to, root=ROOT, only=args.only,
                       output_dir=args.output_dir, rerun=args.rerun,
                       seed0_first=args.seed0_first, allow_dirty=args.allow_dirty,
                       leave_out=SLIM_AWAY if args.code_only else (),
                       locations={k: getattr(args, k) for k in LOCATIONS})


def cmd_run(args: argparse.Namespace) -> int:
    from helpers.sweep.device import run_job

    return run_job(args.job, args.output_dir, root=ROOT,
                   locations={k: getattr(args, k) for k in LOCATIONS}, workers=args.workers,
                   mem_fraction=args.mem_fraction, archive=args.archive,
                   stop_after=args.stop_after, only=args.only, pack=args.pack,
                   compile_cache=args.compile_cache, monitor=args.monitor)


def _bench_records(source: str) -> list[dict]:
    """Records of a results folder or of an archive ``run --archive`` wrote."""
    from helpers.runs import records
    from helpers.sweep.device_archive import archive_members, member_json, open_archive

    if Path(source).is_dir():
        return records.load_records(source)
    out, bad = [], []
    with open_archive(source) as tar:
        for m in archive_members(tar, bad):
            if m.isfile() and m.name.startswith("records/") and m.name.endswith(".json"):
                out.append(member_json(tar, m))
    for name, why in bad:
        print(f"warning: {name}: {why}", file=sys.stderr)
    return out


def cmd_bench(args: argparse.Namespace) -> int:
    from helpers.files import atomic_write_json
    from helpers.runs.provenance import git_state, utc_now
    from helpers.sweep.device_bench import batch_summary, dmon_summary, gpu_records, run_row

    recs = [r for src in args.sources
            for r in gpu_records(_bench_records(src), include_cpu=args.include_cpu)]
    if args.since:
        recs = [r for r in recs if r["provenance"]["started_at"] >= args.since]
    rows = sorted((run_row(r) for r in recs), key=lambda r: (r["started_at"], r["run_id"]))
    summary = batch_summary(rows)
    if args.gpu_name:
        summary["gpu_name"] = args.gpu_name
    if args.dmon:
        summary["utilisation"] = dmon_summary(Path(args.dmon).read_text())
    commit, dirty = git_state(ROOT)
    out = {"what": "GPU batch benchmark (scripts/device_sweep.py bench; helpers.sweep.device_bench)",
           "label": args.label, "sources": args.sources, "since": args.since,
           "summary": summary, "runs": rows,
           "provenance": {"commit": commit, "dirty": dirty, "created": utc_now()}}
    atomic_write_json(args.out, out)
    print(f"{args.out}: {summary['runs']} runs in {summary['span_s'] / 60:.1f} min = "
          f"{summary['runs_per_gpu_minute']:.2f} runs per GPU-minute, up to "
          f"{summary['most_at_once']} at once; first epochs are "
          f"{100 * summary['first_epoch_share_of_run_time']:.0f} % of run time")
    return 0


def cmd_bench_table(args: argparse.Namespace) -> int:
    import json

    from helpers.files import replace_marked_block
    from helpers.sweep.device_bench import bench_markdown

    files = sorted(Path(args.folder).glob("device-*.json"))
    md = bench_markdown([(str(f.relative_to(ROOT) if f.is_relative_to(ROOT) else f),
                          json.loads(f.read_text())) for f in files])
    print(md)
    if args.write_readme:
        print(f"-> {replace_marked_block(ROOT / 'README.md', 'device-bench', md)}")
    return 0


DEVICE_WHEELS = ("keras==3.15.1", "namex", "optree", "imagehash", "pywavelets")
"""What the GPU machine lacks for a training run (it has JAX, h5py, numpy, pandas, scipy, …)."""


def cmd_fetch_wheels(args: argparse.Namespace) -> int:
    import subprocess

    Path(args.to).mkdir(parents=True, exist_ok=True)
    plat = [x for p in ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64",
                        "manylinux_2_17_x86_64", "manylinux2014_x86_64") for x in ("--platform", p)]
    for pkg in args.packages or DEVICE_WHEELS:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--only-binary=:all:", "--python-version", args.python, "--implementation",
                        "cp", *plat, "-d", args.to, pkg], check=True)
    print(f"wheels for Python {args.python} in {args.to}: "
          + ", ".join(sorted(p.name for p in Path(args.to).glob("*.whl"))))
    return 0


def cmd_pack_inputs(args: argparse.Namespace) -> int:
    from helpers.sweep.device_job import read_job
    from helpers.sweep.device_travel import MiB, job_inputs, pack_inputs, travel_bytes

    runs = [r for job in args.jobs for r in read_job(job)["runs"]]  # one set for all the jobs
    items = job_inputs(runs, {k: getattr(args, k) for k in LOCATIONS}, wheels=args.wheels)
    tree = travel_bytes(ROOT)
    budget = int(args.call_mib * MiB) - tree - int(args.margin_mib * MiB)
    if budget < 8 * MiB:
        raise SystemExit(f"pack-inputs: the checkout alone sends {tree / MiB:.1f} MiB per call, "
                         f"which leaves {budget / MiB:.1f} MiB of {args.call_mib} MiB for the "
                         "inputs; run 'device_sweep.py slim on' first (after prepare)")
    room = budget - 64 * 1024  # what pack_inputs leaves for parts in one call
    part = room if args.part_mib is None else min(int(args.part_mib * MiB), room)
    info = pack_inputs(items, Path(args.to), budget=budget, part_bytes=part)
    print(f"{len(runs)} runs read {len(items)} inputs: {info['tar_bytes'] / MiB:.1f} MiB in "
          f"{len(info['parts'])} parts, {len(info['folders'])} calls of at most "
          f"{budget / MiB:.1f} MiB each (the checkout adds {tree / MiB:.1f} MiB to every call):")
    for i, folder in enumerate(info["folders"], start=1):
        size = sum(p["bytes"] for p in info["parts"] if p["folder"] == folder)
        print(f"  call {i}: carry {Path(args.to) / folder} ({size / MiB:.1f} MiB)")
    return 0


def cmd_unpack_inputs(args: argparse.Namespace) -> int:
    from helpers.sweep.device_travel import unpack_inputs

    info = unpack_inputs([Path(f) for f in args.folders], Path(args.to))
    print(f"{len(info['items'])} inputs in {args.to}: " + ", ".join(sorted(info["items"])))
    return 0


def cmd_slim(args: argparse.Namespace) -> int:
    from helpers.sweep.device_travel import MiB, slim, travel_bytes, unslim

    if args.state == "on":
        print(f"the checkout now sends {slim(ROOT) / MiB:.1f} MiB per call "
              "(results/ and book/ out of the index and excluded; 'slim off' puts them back). "
              "Commit nothing until then: a commit now would delete them from the branch.")
    else:
        unslim(ROOT)
        print(f"back as HEAD has it: {travel_bytes(ROOT) / MiB:.1f} MiB per call")
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    from helpers.sweep.device_archive import collect_archive

    return collect_archive(args.archive, args.job, args.into,
                           duplicates_dir=args.duplicates_dir, verified_log=args.verified_log)


def add_locations(p: argparse.ArgumentParser, why: str) -> None:
    p.add_argument("--data-root", help=f"data folder{why}")
    p.add_argument("--weights-dir", help=f"local ImageNet weights{why}")
    p.add_argument("--cache-dir", help=f"array/feature cache{why}")
    p.add_argument("--external-root", help="folder of class folders scored by runs with "
                   f"external=<name> (e.g. PH2's images/){why}")
    p.add_argument("--external-masks", help=f"its lesion masks (e.g. PH2's masks/){why}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="plan the missing runs and write the tree manifest")
    p.add_argument("config")
    p.add_argument("--only", action="append", default=[],
                   help="keep run ids containing this substring (repeatable: any of them)")
    p.add_argument("--output-dir", help="records folder to skip done runs from "
                   "(default: the config's output_dir)")
    p.add_argument("--rerun", action="append", default=[],
                   help="also plan done runs whose id contains this (repeatable)")
    p.add_argument("--seed0-first", action="store_true",
                   help="seed 0 of every cell first, then the other seeds")
    p.add_argument("--allow-dirty", action="store_true",
                   help="try it out from a checkout with changes (records name no commit)")
    p.add_argument("--to", required=True, help="folder for runs.json and manifest.json")
    p.add_argument("--code-only", action="store_true",
                   help="leave results/ and book/ out of the manifest: the copy travels without "
                        "them ('slim on') and the device verifies the code it runs")
    add_locations(p, " (optional here: the sweep's skip rule compares records with it)")
    p.set_defaults(fn=cmd_prepare)
    r = sub.add_parser("run", help="train the planned runs (on the device)")
    r.add_argument("job", help="folder with runs.json and manifest.json")
    r.add_argument("--output-dir", required=True, help="where records and run logs go")
    add_locations(r, "")
    r.add_argument("--only", action="append", default=[],
                   help="run ids containing this substring (repeatable)")
    r.add_argument("--workers", type=int, default=1, help="runs in parallel (processes)")
    r.add_argument("--mem-fraction", type=float, default=0.08,
                   help="share of the GPU's memory each JAX process may take")
    r.add_argument("--archive", help="tar re-written with every finished record and log")
    r.add_argument("--stop-after", type=float, help="start no run after this many seconds")
    r.add_argument("--pack", type=int, default=1,
                   help="up to this many consecutive runs of one cell (its seeds) per process: "
                        "compiled once, decoded once (default 1)")
    r.add_argument("--compile-cache",
                   help="JAX's persistent compilation cache, shared by the workers "
                        "(default: <output-dir>/jax-cache)")
    r.add_argument("--monitor", action="store_true",
                   help="log GPU utilisation every 5 s (nvidia-smi dmon) into the archive")
    r.set_defaults(fn=cmd_run)
    c = sub.add_parser("collect", help="file the records of an archive (here)")
    c.add_argument("archive")
    c.add_argument("job", help="the folder prepare wrote (runs.json)")
    c.add_argument("--into", required=True, help="sweep results folder, e.g. results/paper")
    c.add_argument("--duplicates-dir",
                   help="where a record of a run already recorded here goes")
    c.add_argument("--verified-log",
                   help="for archives without logs/verification.json (made before it existed): "
                        "the run's log, whose 'tree verified: commit …' line lets records that "
                        "name another commit (a stale .git in the copy) name the verified one")
    c.set_defaults(fn=cmd_collect)
    b = sub.add_parser("bench", help="runs per GPU-minute and images/s per run of a GPU batch")
    b.add_argument("sources", nargs="+", help="results folders or archives holding its records")
    b.add_argument("--out", required=True, help="JSON to write, e.g. results/benchmarks/device-….json")
    b.add_argument("--label", required=True, help="what the batch was (machine, executor)")
    b.add_argument("--since", help="only runs started at or after this ISO time (one batch)")
    b.add_argument("--gpu-name", help="the card, where the records name only cuda:0")
    b.add_argument("--dmon", help="the batch's nvidia-smi dmon log (logs/gpu-dmon.log)")
    b.add_argument("--include-cpu", action="store_true",
                   help="CPU records too (the dry run on a CPU; not a GPU benchmark)")
    b.set_defaults(fn=cmd_bench)
    w = sub.add_parser("fetch-wheels", help="download the wheels the GPU machine lacks (here)")
    w.add_argument("--to", default=str(ROOT / ".whl"))
    w.add_argument("--python", default="3.12", help="the GPU machine's Python")
    w.add_argument("packages", nargs="*", help=f"default: {' '.join(DEVICE_WHEELS)}")
    w.set_defaults(fn=cmd_fetch_wheels)
    k = sub.add_parser("pack-inputs", help="jobs' data, weights and wheels in per-call parts")
    k.add_argument("jobs", nargs="+", help="the folders prepare wrote (several jobs of one "
                   "session share one set of inputs: the ResNet50 weights travel once)")
    k.add_argument("--to", required=True, help="folder for c1, c2, … and inputs.json (ignored by git)")
    add_locations(k, " (what the runs read)")
    k.add_argument("--wheels", help="folder of wheels to carry too (fetch-wheels)")
    k.add_argument("--call-mib", type=float, default=64.0, help="what one call may carry in all")
    k.add_argument("--margin-mib", type=float, default=1.5)
    k.add_argument("--part-mib", type=float, default=None,
                   help="size of one part (default: what one call can carry)")
    k.set_defaults(fn=cmd_pack_inputs)
    u = sub.add_parser("unpack-inputs", help="check and extract the parts (on the device)")
    u.add_argument("folders", nargs="+", help="the carried folders c1, c2, …")
    u.add_argument("--to", required=True, help="where data/, weights/, external/, wheels/ go")
    u.set_defaults(fn=cmd_unpack_inputs)
    sl = sub.add_parser("slim", help="keep results/ and book/ from travelling to the device")
    sl.add_argument("state", choices=("on", "off"))
    sl.set_defaults(fn=cmd_slim)
    t = sub.add_parser("bench-table", help="the README's table of GPU batches")
    t.add_argument("--folder", default=str(ROOT / "results" / "benchmarks"))
    t.add_argument("--write-readme", action="store_true")
    t.set_defaults(fn=cmd_bench_table)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    raise SystemExit(main())
