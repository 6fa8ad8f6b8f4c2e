#!/usr/bin/env python
"""Deployment sweep: what each trained model costs on a phone-class CPU (deployment chapter).

For every (model, resolution, preprocessing, seed) of the frozen regime (the head trains in
seconds on cached base features) this re-trains the configuration with
``helpers.train.run_training(params, on_model=...)`` to get the full Keras model (base + head),
exports it to LiteRT in each format (:mod:`helpers.deploy.export`), measures it and writes one
deployment record per format: ``<output>/records/<run_id>-<format>.json`` (default output
``results/deploy``). Finished records are skipped, so an interrupted sweep resumes.

    python scripts/deploy_sweep.py                       # MobileNet/ResNet50 × 64/128/224/256
    python scripts/deploy_sweep.py --models mobilenet --resolutions 128 --formats float32 int8
    python scripts/deploy_sweep.py --quick               # CI: MobileNet 64 px, 2 formats, few images

``--untrained`` skips training and deploys ``build_model`` (ImageNet base) with its random head
(a synthetic source run whose id starts with ``untrained-``): it proves the export/record path
where ``run_training`` has no ``on_model`` hook yet; ``--quick`` falls back to it automatically.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from pathlib import Path

DEFAULT_MODELS = ("mobilenet", "resnet50")
DEFAULT_RESOLUTIONS = (64, 128, 224, 256)


def parse_args(argv=None) -> argparse.Namespace:
    from helpers.deploy.export import FORMATS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="isic2017")
    ap.add_argument("--task", default="melanoma")
    ap.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    ap.add_argument("--resolutions", nargs="+", type=int, default=list(DEFAULT_RESOLUTIONS))
    ap.add_argument("--preprocessing", nargs="+", default=["native"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--formats", nargs="+", default=list(FORMATS), choices=list(FORMATS))
    ap.add_argument("--epochs", type=int, default=None, help="default: TrainParams.epochs")
    ap.add_argument("--max-images", type=int, default=None, help="images per split (identity)")
    ap.add_argument("--representative", type=int, default=200,
                    help="training images for int8 calibration")
    ap.add_argument("--repeats", type=int, default=50, help="timed invokes per latency")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads-all", type=int, default=None, help="default: usable cores")
    ap.add_argument("--output-dir", default=None, help="default: results/deploy")
    ap.add_argument("--save-models", action="store_true", help="also keep the .tflite files")
    ap.add_argument("--untrained", action="store_true",
                    help="deploy build_model (ImageNet base, random head) untrained (path check)")
    ap.add_argument("--quick", action="store_true",
                    help="CI: mobilenet 64 px, float32+int8, 40 images per split")
    ap.add_argument("--force", action="store_true", help="rewrite existing records")
    args = ap.parse_args(argv)
    if args.quick:
        args.models, args.resolutions, args.formats = ["mobilenet"], [64], ["float32", "int8"]
        args.seeds, args.preprocessing = args.seeds[:1], args.preprocessing[:1]
        args.max_images = args.max_images or 40
        args.epochs = args.epochs or 2
        args.representative = min(args.representative, 16)
        args.repeats, args.warmup = min(args.repeats, 10), min(args.warmup, 2)
    return args


def has_on_model() -> bool:
    from helpers.train import run_training

    return "on_model" in inspect.signature(run_training).parameters


def output_dir(args) -> Path:
    from helpers import config
    from helpers.deploy.records import deploy_dir

    if args.output_dir:
        return Path(args.output_dir)
    if args.quick:
        return Path(config.cache_dir()) / "deploy-quick"
    return deploy_dir()


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
    from helpers import records as rec_mod
    from helpers.deploy.runtime import keras_probs
    from helpers.train import run_training, validate_params

    if untrained:
        import keras

        from helpers.models import build_model

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


def main(argv=None) -> int:
    args = parse_args(argv)
    from helpers import records as rec_mod
    from helpers.data import load_dataset
    from helpers.deploy.export import representative_sample, to_litert, write_litert
    from helpers.deploy.records import deployment_path, deployment_record, save_deployment_record
    from helpers.deploy.runtime import LiteRTModel, keras_probs, parity_stats
    from helpers.train import validate_params

    untrained = args.untrained
    if not untrained and not has_on_model():
        if args.quick:
            print("note: helpers.train.run_training has no on_model= keyword yet; --quick "
                  "deploys build_model with an untrained head instead", flush=True)
            untrained = True
        else:
            print("error: helpers.train.run_training(params, on_model=callable) is needed to get "
                  "the trained Keras model (base + head); it is not available in this checkout. "
                  "Use --untrained to check the export/record path only.", file=sys.stderr)
            return 2
    out = output_dir(args)
    print(f"deployment records → {out / 'records'}", flush=True)
    n_done = n_skip = 0
    for model_name in args.models:
        for res in args.resolutions:
            for prep in args.preprocessing:
                for seed in args.seeds:
                    params = train_params(args, model_name, res, prep, seed)
                    rid = rec_mod.run_id(validate_params(params).identity())
                    rid = ("untrained-" + rid) if untrained else rid
                    todo = [f for f in args.formats
                            if args.force or not deployment_path(out, rid, f).exists()]
                    if not todo:
                        print(f"skip {rid}: all {len(args.formats)} records exist", flush=True)
                        n_skip += 1
                        continue
                    t0 = time.perf_counter()
                    ds = load_dataset(args.dataset, task=args.task, resolution=res, seed=seed,
                                      max_images=args.max_images)
                    run, model = trained_model(params, ds, untrained)
                    assert run["run_id"] == rid, (run["run_id"], rid)
                    te = ds.splits["test"]
                    kp = keras_probs(model, te.images)
                    agree = parity_stats(run["predictions"]["test"]["probs"], kp)
                    rep = representative_sample(ds.splits["train"].images, args.representative,
                                                seed)
                    print(f"{rid}: model ready in {time.perf_counter() - t0:.0f} s (Keras full "
                          f"model vs run record: max |Δp| {agree['max_abs_diff']:.2e})",
                          flush=True)
                    for fmt in todo:
                        t = time.perf_counter()
                        data = to_litert(model, fmt, rep if fmt == "int8" else None)
                        conv_s = time.perf_counter() - t
                        lm = LiteRTModel(data, num_threads=1)
                        rec = deployment_record(
                            run, fmt, lm, te.images, kp, repeats=args.repeats,
                            warmup=args.warmup, threads_all=args.threads_all,
                            extra={"conversion_s": conv_s, "untrained": untrained,
                                   "representative": {"n": int(len(rep)), "seed": seed,
                                                      "split": "train"} if fmt == "int8" else None,
                                   "keras_vs_run_record": agree})
                        path = save_deployment_record(rec, out)
                        if args.save_models:
                            write_litert(data, out / "models" / f"{rid}-{fmt}.tflite")
                        m, lat = rec["metrics"]["test"], rec["latency_ms"]
                        print(f"  {fmt:>12}: {rec['file']['size_mb']:7.2f} MB  AUC "
                              f"{m['auc']:.3f} (Keras {m['keras_auc']:.3f}, Δ {m['delta_auc']:+.4f}"
                              f" p={m['delta_p']:.2f})  max|Δp| {m['parity']['max_abs_diff']:.1e}"
                              f"  1T {lat['threads_1']['median_ms']:.2f} ms  "
                              f"{rec['threads_all']}T {lat['threads_all']['median_ms']:.2f} ms  "
                              f"mem +{rec['memory_mb']['delta_mb']:.0f} MiB  "
                              f"[{conv_s:.0f} s convert] → {path.name}", flush=True)
                        n_done += 1
                    del model
                    import keras

                    keras.backend.clear_session()
    print(f"done: {n_done} record(s) written, {n_skip} configuration(s) skipped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
