#!/usr/bin/env python
"""Deployment sweep: what each trained model costs on a phone-class CPU (deployment chapter).

For every (model, resolution, preprocessing, seed) of the frozen regime (the head trains in
seconds on cached base features) this re-trains the configuration with
``helpers.training.run_training(params, on_model=...)`` to get the full Keras model (base + head),
exports it to LiteRT in each format (:mod:`helpers.deploy.export`), measures it and writes one
deployment record per format: ``<output>/records/<run_id>-<format>.json`` (default output
``results/deploy``). Finished records are skipped, so an interrupted sweep resumes.

    python scripts/deploy_sweep.py                       # MobileNet/ResNet50 × 64/128/224/256
    python scripts/deploy_sweep.py --models mobilenet --resolutions 128 --formats float32 int8
    python scripts/deploy_sweep.py --quick               # CI: MobileNet 64 px, 2 formats, few images

Three more modes read or extend what the sweep left:

    python scripts/deploy_sweep.py --save-models           # keep the .tflite files (cache, not repo)
    python scripts/deploy_sweep.py --latency-only          # quiet pass: re-time the kept files
    python scripts/deploy_sweep.py --mismatch --models mobilenet   # train/test size matrix
    python scripts/deploy_sweep.py --table [--write-readme]        # README benchmark table

With ``--save-models``, a configuration whose records exist but whose ``.tflite`` is missing
is re-trained and converted again and only the file is written; its sha256 is compared with the
committed record's (that is how to get a model the book describes without committing it).

``--latency-only`` re-measures latency (1 thread and all threads: median and p90 after warm-up)
and peak memory of every record whose ``.tflite`` was kept (``--save-models``; the files live in
``$RESBOOK_CACHE_DIR/deploy-models``, never in the repository) and rewrites the record in place
(atomically) with ``latency_ms.measured_quiet``, the load average (``os.getloadavg()``) and the
share of the CPU other processes used just before. Run it while nothing else computes: the book's
lead pauses the training sweep with ``kill -STOP`` and resumes it with ``kill -CONT`` afterwards.
A record timed while the CPU was busy keeps ``measured_quiet: false`` and the exit status is 1.

``--mismatch`` (Touvron et al. 2019) re-trains each configuration, evaluates the same model at
every size of ``--eval-sizes`` on the test set (images loaded by ``helpers.data.load_dataset``
at each size) and writes ``<output>/mismatch/<run_id>.json``: AUC with DeLong CI at each size and
the paired ΔAUC against the trained size.

``--from-records DIR`` deploys the models that training runs *kept* (``python -m helpers sweep
CONFIG --save-models`` writes ``<cache>/models/<run_id>.keras``; :mod:`helpers.training.kept`)
instead of re-training the frozen grid: that is how the fully fine-tuned and Part II models are
deployed, since re-training them costs hours. ``--models/--resolutions/--preprocessing/--seeds``
and ``--regime`` select the runs; a run that kept no model is skipped and named, with the command
that makes it again.

    python scripts/deploy_sweep.py --from-records results/paper/records --regime full \
        --preprocessing native unit --seeds 0 1 2 --save-models

``--untrained`` skips training and deploys ``build_model`` (ImageNet base) with its random head
(a synthetic source run whose id starts with ``untrained-``): it proves the export/record path
where ``run_training`` has no ``on_model`` hook yet; ``--quick`` falls back to it automatically.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

DEFAULT_MODELS = ("mobilenet", "resnet50")
DEFAULT_RESOLUTIONS = (64, 128, 224, 256)
MODES = {  # the modes other than the sweep itself, at most one per call: flag -> help
    "--latency-only": "re-measure latency and memory of records whose .tflite was kept",
    "--describe": "add the XNNPACK delegation summary to records whose .tflite was kept "
                  "(no timing; any CPU)",
    "--mismatch": "evaluate each trained model at every --eval-sizes (no export)",
    "--table": "print the int8/float benchmark table (Markdown) from the records",
}


def parse_args(argv=None) -> argparse.Namespace:
    from helpers.deploy.export import FORMATS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="isic2017")
    ap.add_argument("--task", default="melanoma")
    # selection: unset means the frozen grid's defaults, or any run with --from-records
    ap.add_argument("--models", nargs="+", default=None, help="default: mobilenet resnet50")
    ap.add_argument("--resolutions", nargs="+", type=int, default=None,
                    help="default: 64 128 224 256")
    ap.add_argument("--preprocessing", nargs="+", default=None, help="default: native")
    ap.add_argument("--seeds", nargs="+", type=int, default=None, help="default: 0")
    ap.add_argument("--formats", nargs="+", default=list(FORMATS), choices=list(FORMATS))
    ap.add_argument("--epochs", type=int, default=None, help="default: TrainParams.epochs")
    ap.add_argument("--max-images", type=int, default=None, help="images per split (identity)")
    ap.add_argument("--representative", type=int, default=200,
                    help="training images for int8 calibration")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed invokes per latency (default 50; 100 with --latency-only)")
    ap.add_argument("--warmup", type=int, default=None,
                    help="untimed invokes first (default 5; 10 with --latency-only)")
    ap.add_argument("--threads-all", type=int, default=None, help="default: usable cores")
    ap.add_argument("--output-dir", default=None, help="default: results/deploy")
    ap.add_argument("--save-models", action="store_true",
                    help="also keep the .tflite files (under --models-dir, never in the repo)")
    ap.add_argument("--models-dir", default=None,
                    help="where --save-models writes and --latency-only reads the .tflite files "
                         "(default: $RESBOOK_CACHE_DIR/deploy-models)")
    ap.add_argument("--untrained", action="store_true",
                    help="deploy build_model (ImageNet base, random head) untrained (path check)")
    ap.add_argument("--quick", action="store_true",
                    help="CI: mobilenet 64 px, float32+int8, 40 images per split")
    ap.add_argument("--force", action="store_true", help="rewrite existing records")
    ap.add_argument("--from-records", default=None, metavar="DIR",
                    help="deploy the models kept by the runs recorded in DIR (e.g. "
                         "results/paper/records; sweep --save-models) instead of re-training "
                         "the frozen grid; --models/--resolutions/--preprocessing/--seeds select")
    ap.add_argument("--regime", default=None, help="with --from-records: only this regime")
    mode = ap.add_mutually_exclusive_group()
    for flag, text in MODES.items():
        mode.add_argument(flag, action="store_true", help=text)
    ap.add_argument("--eval-sizes", nargs="+", type=int, default=list(DEFAULT_RESOLUTIONS))
    ap.add_argument("--quiet-threshold", type=float, default=0.25,
                    help="--latency-only: CPU share used by others below which a pass is quiet")
    ap.add_argument("--quiet-wait", type=float, default=60.0,
                    help="--latency-only: seconds to wait for a quiet CPU before each model")
    ap.add_argument("--runs-dir", default="results/paper", metavar="DIR",
                    help="with --table: the sweep whose run records the deployed models came "
                         "from; the model to ship is chosen on their validation AUC")
    ap.add_argument("--write-readme", action="store_true",
                    help="--table: replace the table between README.md's deploy-table markers")
    args = ap.parse_args(argv)
    if args.from_records and (args.untrained or args.quick or args.mismatch):
        ap.error("--from-records deploys trained runs' kept models: not with --untrained, "
                 "--quick or --mismatch")
    if args.regime and not args.from_records:
        ap.error("--regime selects runs of --from-records DIR (the grid is the frozen regime)")
    if not args.from_records:  # the frozen grid's defaults; with --from-records: any
        for name, default in (("models", DEFAULT_MODELS), ("resolutions", DEFAULT_RESOLUTIONS),
                              ("preprocessing", ("native",)), ("seeds", (0,))):
            if getattr(args, name) is None:
                setattr(args, name, list(default))
    if args.repeats is None:
        args.repeats = 100 if args.latency_only else 50
    if args.warmup is None:
        args.warmup = 10 if args.latency_only else 5
    if args.quick:
        args.models, args.resolutions, args.formats = ["mobilenet"], [64], ["float32", "int8"]
        args.seeds, args.preprocessing = args.seeds[:1], args.preprocessing[:1]
        args.max_images = args.max_images or 40
        args.epochs = args.epochs or 2
        args.representative = min(args.representative, 16)
        args.repeats, args.warmup = min(args.repeats, 10), min(args.warmup, 2)
    return args


def has_on_model() -> bool:
    from helpers.training import run_training

    return "on_model" in inspect.signature(run_training).parameters


def output_dir(args) -> Path:
    from helpers import config
    from helpers.deploy.records import deploy_dir

    if args.output_dir:
        return Path(args.output_dir)
    if args.quick:
        return Path(config.cache_dir()) / "deploy-quick"
    return deploy_dir()


def models_dir(args) -> Path:
    """Folder of the kept ``.tflite`` files: ``--models-dir`` or ``<cache>/deploy-models``."""
    from helpers import config

    if args.models_dir:
        return Path(args.models_dir)
    return Path(config.cache_dir()) / ("deploy-models-quick" if args.quick else "deploy-models")


def model_path(args, deploy_id: str) -> Path:
    return models_dir(args) / f"{deploy_id}.tflite"


def train_params(args, model: str, res: int, prep: str, seed: int) -> dict:
    p = {"dataset": args.dataset, "task": args.task, "model": model, "resolution": res,
         "regime": "frozen", "preprocessing": prep, "seed": seed, "weights": "imagenet"}
    if args.epochs is not None:
        p["epochs"] = args.epochs
    if args.max_images is not None:
        p["max_images"] = args.max_images
    return p


def trained_model(params: dict, dataset, untrained: bool):
    """(run record, full Keras model) for one configuration."""
    from helpers.deploy.runtime import keras_probs
    from helpers.runs import records as rec_mod
    from helpers.training import run_training, validate_params

    if untrained:
        import keras

        from helpers.training.models import build_model

        p = validate_params(params)
        keras.utils.set_random_seed(p.seed)
        model = build_model(p.model, p.resolution, weights=p.weights, weights_dir=p.weights_dir,
                            preprocessing=p.preprocessing)
        te = dataset.splits["test"]
        run = {"schema": rec_mod.SCHEMA, "run_id": "untrained-" + rec_mod.run_id(p.identity()),
               "status": "ok", "params": p.identity(),
               "predictions": {"test": {"ids": te.ids.tolist(), "labels": te.labels.tolist(),
                                        "probs": keras_probs(model, te.images).tolist()}},
               "provenance": rec_mod.provenance(dataset.fingerprint, None)}
        return run, model
    holder: list = []
    run = run_training(params, dataset=dataset, on_model=holder.append, measure=False)
    if not holder:
        raise RuntimeError("run_training did not call on_model with the trained model")
    return run, holder[-1]


def grid_items(args: argparse.Namespace,
               untrained: bool) -> Iterator[tuple[str, Callable[[], tuple]]]:
    """(run id, model getter) of each configuration of the frozen grid (re-trained)."""
    from helpers.data import load_dataset
    from helpers.runs import records as rec_mod
    from helpers.training import validate_params

    for model_name in args.models:
        for res in args.resolutions:
            for prep in args.preprocessing:
                for seed in args.seeds:
                    params = train_params(args, model_name, res, prep, seed)
                    rid = rec_mod.run_id(validate_params(params).identity())

                    def get(params=params, res=res, seed=seed):
                        ds = load_dataset(args.dataset, task=args.task, resolution=res,
                                          seed=seed, max_images=args.max_images)
                        return (*trained_model(params, ds, untrained), ds)

                    yield ("untrained-" + rid) if untrained else rid, get


def kept_items(args: argparse.Namespace) -> Iterator[tuple[str, Callable[[], tuple]]]:
    """(run id, model getter) of each selected run in ``--from-records`` whose model
    was kept (``python -m helpers sweep CONFIG --save-models``): nothing is re-trained.

    Failed and unselected records are counted and reported; a getter raises
    :class:`~helpers.training.kept.KeptModelError` (a counted skip) when the model was not kept
    or when the test images loaded now are not the ones the record was scored on.
    """
    from helpers.runs import records as rec_mod
    from helpers.training import validate_params
    from helpers.training.kept import KeptModelError, load_kept_model
    from helpers.training.run import load_data

    recs = rec_mod.load_records(args.from_records)
    runs = [r for r in recs if r.get("status") == "ok"]
    chosen = [r for r in runs if selected(args, {"params": r["params"], "format": args.formats[0]})
              and (args.regime is None or r["params"].get("regime") == args.regime)]
    print(f"{args.from_records}: {len(recs)} records, {len(recs) - len(runs)} not ok, "
          f"{len(runs) - len(chosen)} not selected, {len(chosen)} selected", flush=True)
    for run in sorted(chosen, key=lambda r: r["run_id"]):

        def get(run=run):
            model = load_kept_model(run)
            ds = load_data(validate_params(dict(run["params"])))
            if ds.splits["test"].ids.tolist() != run["predictions"]["test"]["ids"]:
                raise KeptModelError(f"run {run['run_id']}: the test images loaded now are not "
                                     "the ones its record was scored on (data changed?)")
            return run, model, ds

        yield run["run_id"], get


def deploy_formats(args: argparse.Namespace, out: Path, run: dict, model: Any, ds: Any,
                   todo: list[str], untrained: bool, t0: float) -> int:
    """Export ``model`` to each format of ``todo``, measure it, write its record; how many."""
    from helpers.deploy.export import (
        FULL_INT8,
        output_kind,
        representative_sample,
        to_litert,
        write_litert,
    )
    from helpers.deploy.records import deployment_path, deployment_record, save_deployment_record
    from helpers.deploy.runtime import LiteRTModel, delegation_summary, keras_probs, parity_stats
    from helpers.runs import records as rec_mod

    rid, seed = run["run_id"], int(run["params"]["seed"])
    te = ds.splits["test"]
    kp = keras_probs(model, te.images)
    test = run["predictions"]["test"]  # a TTA run's plain probabilities are the model's own
    agree = parity_stats(test.get("probs_plain", test["probs"]), kp)
    rep = representative_sample(ds.splits["train"].images, args.representative, seed)
    print(f"{rid}: model ready in {time.perf_counter() - t0:.0f} s (Keras full "
          f"model vs run record: max |Δp| {agree['max_abs_diff']:.2e})", flush=True)
    n_done = 0
    for fmt in todo:
        t = time.perf_counter()
        data = to_litert(model, fmt, rep if fmt in FULL_INT8 else None)
        conv_s = time.perf_counter() - t
        old = deployment_path(out, rid, fmt)
        if old.exists() and not args.force:  # only the model file was missing
            kept = write_litert(data, model_path(args, f"{rid}-{fmt}"))
            same = (hashlib.sha256(data).hexdigest()
                    == rec_mod.read_json(old)["file"]["sha256"])
            how = "identical to" if same else "DIFFERS from"
            print(f"  {fmt:>12}: → {kept} ({how} the file its committed record "
                  "describes)", flush=True)
            continue
        lm = LiteRTModel(data, num_threads=1, output=output_kind(fmt))
        rec = deployment_record(
            run, fmt, lm, te.images, kp, repeats=args.repeats,
            warmup=args.warmup, threads_all=args.threads_all,
            extra={"conversion_s": conv_s, "untrained": untrained,
                   "representative": {"n": int(len(rep)), "seed": seed,
                                      "split": "train"} if fmt in FULL_INT8 else None,
                   "keras_vs_run_record": agree,
                   "delegation": delegation_summary(data)})
        if args.save_models:  # the model first: a record implies its file
            write_litert(data, model_path(args, f"{rid}-{fmt}"))
        path = save_deployment_record(rec, out)
        m, lat = rec["metrics"]["test"], rec["latency_ms"]
        print(f"  {fmt:>12}: {rec['file']['size_mb']:7.2f} MB  AUC "
              f"{m['auc']:.3f} (Keras {m['keras_auc']:.3f}, Δ {m['delta_auc']:+.4f}"
              f" p={m['delta_p']:.2f})  max|Δp| {m['parity']['max_abs_diff']:.1e}"
              f"  1T {lat['threads_1']['median_ms']:.2f} ms  "
              f"{rec['threads_all']}T {lat['threads_all']['median_ms']:.2f} ms  "
              f"mem +{rec['memory_mb']['delta_mb']:.0f} MiB  "
              f"[{conv_s:.0f} s convert] → {path.name}", flush=True)
        n_done += 1
    return n_done


def selected(args: argparse.Namespace, rec: dict) -> bool:
    """Whether a record's params match the selection options (an unset option matches any)."""
    p = rec.get("params", {})

    def ok(value: Any, allowed: list | None) -> bool:
        return allowed is None or value in allowed

    return (ok(p.get("model"), args.models) and ok(int(p.get("resolution", -1)), args.resolutions)
            and ok(rec.get("format"), args.formats) and ok(p.get("seed"), args.seeds)
            and ok(p.get("preprocessing"), args.preprocessing))


def wait_for_quiet(args) -> float | None:
    """Share of the CPU others use, sampled until below the threshold or --quiet-wait is over."""
    from helpers.deploy.latency import cpu_busy_fraction

    deadline = time.monotonic() + args.quiet_wait
    while True:
        busy = cpu_busy_fraction(1.0)
        if busy is None or busy < args.quiet_threshold or time.monotonic() > deadline:
            return busy
        print(f"  waiting: other processes use {busy:.0%} of the CPU", flush=True)
        time.sleep(4.0)


def describe(args) -> int:
    """Add ``delegation`` (which operators XNNPACK runs) to records whose .tflite was kept."""
    from helpers.deploy.records import load_deployment_records, save_deployment_record
    from helpers.deploy.runtime import delegation_summary

    out, n = output_dir(args), 0
    for rec in load_deployment_records(out):
        path = model_path(args, rec["deploy_id"])
        if not selected(args, rec) or not path.exists() or ("delegation" in rec and not args.force):
            continue
        rec["delegation"] = delegation_summary(path)
        save_deployment_record(rec, out)
        n += 1
        print(f"{rec['deploy_id']}: {rec['delegation']['partitions']} XNNPACK partition(s), "
              f"outside: {rec['delegation']['outside_delegate']}", flush=True)
    print(f"done: {n} record(s) described", flush=True)
    return 0


def latency_only(args) -> int:
    """Quiet pass: re-time every selected record whose .tflite was kept; rewrite it in place."""
    from helpers.deploy.records import (
        load_deployment_records,
        remeasure_latency,
        save_deployment_record,
    )

    out, kept = output_dir(args), models_dir(args)
    recs = [r for r in load_deployment_records(out) if selected(args, r)]
    print(f"{len(recs)} record(s) in {out / 'records'}; models from {kept}", flush=True)
    missing, busy_ones, differs, n = [], [], [], 0
    for rec in recs:
        lat = rec.get("latency_ms") or {}
        if lat.get("measured_quiet") and not args.force:
            continue
        path = model_path(args, rec["deploy_id"])
        if not path.exists():
            missing.append(rec["deploy_id"])
            continue
        busy = wait_for_quiet(args)
        try:
            new = remeasure_latency(rec, path, repeats=args.repeats, warmup=args.warmup,
                                    threads_all=args.threads_all, busy_before=busy,
                                    quiet_threshold=args.quiet_threshold)
        except ValueError as exc:  # the kept file is not the one the record describes
            print(f"{rec['deploy_id']}: skipped: {exc}", flush=True)
            differs.append(rec["deploy_id"])
            continue
        save_deployment_record(new, out)
        n += 1
        lat, la = new["latency_ms"], new["latency_ms"]["loadavg"] or {}
        if not lat["measured_quiet"]:
            busy_ones.append(rec["deploy_id"])
        print(f"{rec['deploy_id']}: 1T {lat['threads_1']['median_ms']:.2f} ms (p90 "
              f"{lat['threads_1']['p90_ms']:.2f})  {new['threads_all']}T "
              f"{lat['threads_all']['median_ms']:.2f} ms  mem +"
              f"{new['memory_mb']['delta_mb']:.0f} MiB  others {busy if busy is None else f'{busy:.0%}'}"
              f"  load {la.get('1min', float('nan')):.2f}  quiet={lat['measured_quiet']}",
              flush=True)
    print(f"done: {n} record(s) re-measured; {len(missing)} without a kept model file "
          f"(`--save-models` rebuilds them): {missing}", flush=True)
    if differs:
        print(f"kept file differs from its record (rewrite with --save-models --force): "
              f"{differs}", flush=True)
    if busy_ones:
        print(f"NOT quiet (others used >= {args.quiet_threshold:.0%} of the CPU): {busy_ones}",
              flush=True)
    return 1 if busy_ones or differs else 0


def mismatch(args) -> int:
    """Each trained model at every --eval-sizes: <output>/mismatch/<run_id>.json."""
    from helpers.data import load_dataset
    from helpers.deploy.mismatch import evaluate_at_sizes
    from helpers.deploy.records import runtime_versions
    from helpers.runs import records as rec_mod
    from helpers.training import validate_params

    out = output_dir(args) / "mismatch"
    sizes = sorted(set(args.eval_sizes))
    for model_name in args.models:
        for seed in args.seeds:
            tests = {}
            for res in args.resolutions:
                for prep in args.preprocessing:
                    params = train_params(args, model_name, res, prep, seed)
                    rid = rec_mod.run_id(validate_params(params).identity())
                    path = out / f"{rid}.json"
                    if path.exists() and not args.force:
                        print(f"skip {rid}: {path} exists", flush=True)
                        continue
                    for s_ in sizes:
                        if s_ not in tests:
                            ds_s = load_dataset(args.dataset, task=args.task, resolution=s_,
                                                seed=seed, max_images=args.max_images)
                            tests[s_] = ds_s.splits["test"]
                    t0 = time.perf_counter()
                    ds = load_dataset(args.dataset, task=args.task, resolution=res, seed=seed,
                                      max_images=args.max_images)
                    run, model = trained_model(params, ds, False)
                    te = ds.splits["test"]
                    for s_, split in tests.items():
                        if list(split.ids) != list(te.ids):
                            raise RuntimeError(f"test ids at {s_} px differ from {res} px")
                    df, probs = evaluate_at_sizes(model, {s_: tests[s_].images for s_ in sizes},
                                                  te.labels, train_res=res, return_probs=True)
                    prov = rec_mod.provenance(ds.fingerprint, None)
                    prov["runtime"] = runtime_versions()
                    record = {"schema": 1, "kind": "resolution_mismatch", "run_id": rid,
                              "params": run["params"], "train_res": res, "eval_sizes": sizes,
                              "rows": df.to_dict(orient="records"),
                              "run_record_test_auc": run["metrics"]["test"]["auc"]
                              if "metrics" in run else None,
                              "predictions": {"ids": [str(i) for i in te.ids],
                                              "labels": [int(v) for v in te.labels],
                                              "probs": {str(k): [float(v) for v in p]
                                                        for k, p in probs.items()}},
                              "wall_s": time.perf_counter() - t0, "provenance": prov}
                    rec_mod.write_json_atomic(path, record)
                    print(f"{rid}: " + "  ".join(f"{r['eval_res']}px {r['auc']:.3f}"
                                                 f" ({r['delta_auc']:+.3f})" for r in record["rows"])
                          + f"  [{record['wall_s']:.0f} s] → {path}", flush=True)
                    del model
                    import keras

                    keras.backend.clear_session()
    return 0


def table(args) -> int:
    """The README's benchmark table (Markdown) from the deployment records."""
    from helpers import config
    from helpers.chapters.deployment import benchmark_markdown, deployment_frame, validation_aucs
    from helpers.deploy.records import load_deployment_records

    recs = [r for r in load_deployment_records(output_dir(args)) if selected(args, r)]
    df = deployment_frame(recs)
    # the model to ship is chosen on its run's validation AUC (the runs the models came from)
    runs_dir = config.results_dir(args.runs_dir)
    md = benchmark_markdown(df, validation_aucs(df["run_id"], runs_dir) if len(df) else {})
    print(md)
    if args.write_readme:
        from helpers.files import replace_marked_block

        readme = replace_marked_block(Path(__file__).resolve().parents[1] / "README.md",
                                      "deploy-table", md)
        print(f"→ {readme}", flush=True)
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.latency_only:
        return latency_only(args)
    if args.describe:
        return describe(args)
    if args.table:
        return table(args)
    if args.mismatch:
        return mismatch(args)
    from helpers.deploy.records import deployment_path
    from helpers.training.kept import KeptModelError

    untrained = args.untrained
    if not untrained and not has_on_model():
        if args.quick:
            print("note: helpers.training.run_training has no on_model= keyword yet; --quick "
                  "deploys build_model with an untrained head instead", flush=True)
            untrained = True
        else:
            print("error: helpers.training.run_training(params, on_model=callable) is needed to get "
                  "the trained Keras model (base + head); it is not available in this checkout. "
                  "Use --untrained to check the export/record path only.", file=sys.stderr)
            return 2
    out = output_dir(args)
    print(f"deployment records → {out / 'records'}", flush=True)
    n_done = n_skip = 0
    items = kept_items(args) if args.from_records else grid_items(args, untrained)
    for rid, get_model in items:
        todo = [f for f in args.formats
                if args.force or not deployment_path(out, rid, f).exists()
                or (args.save_models and not model_path(args, f"{rid}-{f}").exists())]
        if not todo:
            print(f"skip {rid}: all {len(args.formats)} records exist", flush=True)
            n_skip += 1
            continue
        t0 = time.perf_counter()
        try:
            run, model, ds = get_model()
        except KeptModelError as exc:  # counted and named, never a silent gap
            print(f"skip {rid}: {exc}", flush=True)
            n_skip += 1
            continue
        assert run["run_id"] == rid, (run["run_id"], rid)
        n_done += deploy_formats(args, out, run, model, ds, todo, untrained, t0)
        del model
        import keras

        keras.backend.clear_session()
    print(f"done: {n_done} record(s) written, {n_skip} configuration(s) skipped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
