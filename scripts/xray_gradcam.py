"""Grad-CAM across resolutions for the frozen-proxy MobileNetV2 pneumonia models (Part II, chapter 07).

For each resolution the frozen-regime head of ``configs/kermany-resolution.yaml`` (MobileNetV2,
pneumonia vs normal, seed 0; the same run id as the sweep's record, so its cached base features
are reused) is re-trained with :func:`helpers.training.run_training` and handed over through
``on_model``; Grad-CAM (:mod:`helpers.training.gradcam`) is computed on the *same* test images at every
resolution, on the last feature map ``out_relu`` (stride 32: one cell at 32 px) and on the
stride-8 map ``block_6_expand_relu`` (the montage shows the latter); the share of each map's
mass inside the central lung-field ellipse and inside the four corner squares (20 % of the
side: where Kermany images carry text markers) is written to ``results/xray/gradcam.json`` with a small PNG montage.

    python scripts/xray_gradcam.py [--resolutions 32 64 128 224] [--n-images 64]
    python scripts/xray_gradcam.py --kept-only --from-records results/kilaru/records --regime partial

The second form adds (``by_run``) the fine-tuned models that runs kept (``python -m helpers
sweep configs/kilaru.yaml --save-models``), on the same test images, without re-doing the rest.

Nothing but the JSON and the PNG is written (no model files). Takes a few minutes on a 2-core CPU
once the sweep has cached the base features.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BASE = dict(dataset="kermany", task="pneumonia", model="mobilenetv2", regime="frozen",
            preprocessing="unit", epochs=20, batch_size=32, lr=1e-3, seed=0, weights="imagenet")


def pick(labels: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of n test images, half of each class (seeded)."""
    rng = np.random.default_rng([seed, 7])
    out = [rng.choice(np.flatnonzero(labels == c), n // 2, replace=False) for c in (0, 1)]
    return np.sort(np.concatenate(out))


EARLY = "block_6_expand_relu"  # stride 8: 28x28 at 224 px, 4x4 at 32 px


def heatmaps(res: int, ids_wanted: list[str]) -> tuple[np.ndarray, dict, dict]:
    """(images, {layer: Grad-CAM maps}, info) at ``res`` px for the wanted test ids."""
    from helpers.data import load_dataset
    from helpers.runs import records
    from helpers.training import run_training, validate_params

    p = validate_params({**BASE, "resolution": res})
    ds = load_dataset("kermany", task="pneumonia", resolution=res, seed=p.seed)
    box: dict = {}
    rec = run_training(p, dataset=ds, measure=False, verbose=0,
                       on_model=lambda m: box.setdefault("model", m))
    test = ds.splits["test"]
    where = {i: k for k, i in enumerate(test.ids.tolist())}
    x = test.images[[where[i] for i in ids_wanted]]
    maps, layers = model_maps(box["model"], x)
    info = {"run_id": records.run_id(p.identity()), "test_auc": rec["metrics"]["test"]["auc"],
            "layers": layers}
    return x, maps, info


def model_maps(model, x: np.ndarray) -> tuple[dict, dict]:
    """Grad-CAM maps of ``x`` on the last feature map and on ``EARLY``; their sizes in cells."""
    from helpers.training import gradcam

    base = model.get_layer("base")
    last = gradcam.feature_layer(model)
    maps = {k: gradcam.gradcam(model, x, layer=k) for k in (last, EARLY)}
    return maps, {k: int(base.get_layer(k).output.shape[1]) for k in maps}


def kept_runs(folder: str, regime: str | None, ids: list[str]) -> tuple[dict, list[str]]:
    """Grad-CAM of every successful MobileNetV2 pneumonia run in ``folder`` that kept its model
    (``python -m helpers sweep CONFIG --save-models``), on the test images ``ids``: its entry by
    run id, and the run ids skipped because they kept no model (each printed with the reason)."""
    from helpers.runs import records
    from helpers.training import validate_params
    from helpers.training.kept import KeptModelError, load_kept_model
    from helpers.training.run import load_data

    out: dict[str, dict] = {}
    skipped: list[str] = []
    for run in sorted(records.load_records(folder), key=lambda r: r["run_id"]):
        p, rid = run["params"], run["run_id"]
        if (run.get("status") != "ok" or p.get("model") != "mobilenetv2"
                or p.get("task") != "pneumonia" or (regime and p.get("regime") != regime)):
            continue
        try:
            model = load_kept_model(run)
        except KeptModelError as exc:
            print(f"skip {rid}: {exc}", flush=True)
            skipped.append(rid)
            continue
        test = load_data(validate_params(dict(p))).splits["test"]
        where = {i: k for k, i in enumerate(test.ids.tolist())}
        x = test.images[[where[i] for i in ids]]
        maps, layers = model_maps(model, x)
        out[rid] = {"regime": p["regime"], "seed": p["seed"],
                    "test_auc": run["metrics"]["test"]["auc"],
                    **entry(maps, layers, int(p["resolution"]))}
        print(rid, out[rid], flush=True)
    return out, skipped


def entry(maps: dict, layers: dict, res: int) -> dict:
    """Mask shares of the last and the early layer's maps at ``res`` px (gradcam.json)."""
    last, early = list(maps)
    return {"resolution": res, "layer": last, "feature_map_px": layers[last],
            **shares(maps[last], res),
            "early": {"layer": early, "feature_map_px": layers[early], **shares(maps[early], res)}}


def shares(maps: np.ndarray, res: int) -> dict:
    from helpers.training import gradcam

    lung, corner = gradcam.lung_field_mask(res), gradcam.corner_mask(res)
    s_lung = np.asarray(gradcam.mass_share(maps, lung), float)
    s_corner = np.asarray(gradcam.mass_share(maps, corner), float)
    return {"lung_share_mean": float(np.nanmean(s_lung)),
            "lung_share_median": float(np.nanmedian(s_lung)),
            "corner_share_mean": float(np.nanmean(s_corner)),
            "outside_lung_share_mean": float(1 - np.nanmean(s_lung)),
            "lung_area": float(lung.mean()), "corner_area": float(corner.mean()),
            "n_maps": int(np.isfinite(s_lung).sum())}


def montage(rows: list[tuple[str, list[tuple[np.ndarray, np.ndarray]]]], res_list, path: Path):
    """The book's figure: one row per image, one column per size, a perceptual map with its bar.

    ``magma`` (perceptually uniform, readable under colour-vision deficiency and in greyscale)
    instead of a rainbow map; a colour bar says what the colours mean; labels are 9 pt or more;
    saved at 190 dpi: 2× the 700 CSS px the pneumonia chapter shows it at.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), len(res_list), figsize=(1.7 * len(res_list) + 0.9,
                                                                 1.7 * len(rows) + 0.3),
                             dpi=190, squeeze=False)  # fmt: skip
    shown = None
    for r, (label, cells) in enumerate(rows):
        for c, (img, cam) in enumerate(cells):
            ax = axes[r, c]
            ax.imshow(img, extent=(0, 1, 0, 1), interpolation="nearest")
            shown = ax.imshow(cam, cmap="magma", alpha=0.55, extent=(0, 1, 0, 1), vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"{res_list[c]} px", fontsize=10)
            if c == 0:
                ax.set_ylabel(label, fontsize=10)
    fig.tight_layout(pad=0.3, rect=(0, 0, 0.88, 1))
    bar = fig.colorbar(shown, ax=axes.ravel().tolist(), fraction=0.04, pad=0.02)
    bar.solids.set_alpha(1.0)
    bar.set_label("Grad-CAM weight (0 = none, 1 = the map's maximum)", fontsize=9)
    bar.ax.tick_params(labelsize=9)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolutions", type=int, nargs="+", default=[32, 64, 128, 224])
    ap.add_argument("--n-images", type=int, default=64)
    ap.add_argument("--out", default=str(ROOT / "results" / "xray"))
    ap.add_argument("--from-records", default=None, metavar="DIR",
                    help="also map the models kept by the runs recorded in DIR (e.g. "
                         "results/kilaru/records), on the same test images")
    ap.add_argument("--regime", default=None, help="with --from-records: only this regime")
    ap.add_argument("--kept-only", action="store_true",
                    help="keep the frozen maps of the existing gradcam.json; (re)do by_run only")
    a = ap.parse_args(argv)
    dest = Path(a.out)
    if a.kept_only:
        if not a.from_records:
            ap.error("--kept-only needs --from-records DIR")
        if not (dest / "gradcam.json").is_file():
            ap.error(f"{dest / 'gradcam.json'} does not exist: run without --kept-only first")
        out = json.loads((dest / "gradcam.json").read_text())
        out["by_run"], out["by_run_skipped"] = kept_runs(a.from_records, a.regime, out["images"])
        (dest / "gradcam.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
        return 0
    from helpers.data import load_dataset

    ref = load_dataset("kermany", task="pneumonia", resolution=min(a.resolutions), seed=0)
    labels = ref.splits["test"].labels
    idx = pick(labels, a.n_images)
    ids = ref.splits["test"].ids[idx].tolist()
    show = [ids[k] for k in (0, 1)] + [ids[-2], ids[-1]]  # 2 normal, 2 pneumonia
    out, t0, cells = {"images": ids, "by_resolution": {}}, time.time(), {i: [] for i in show}
    for res in a.resolutions:
        x, maps, info = heatmaps(res, ids)
        out["by_resolution"][str(res)] = {**info, **entry(maps, info["layers"], res)}
        for i in show:
            k = ids.index(i)
            cells[i].append((x[k], maps[EARLY][k]))
        print(res, out["by_resolution"][str(res)], flush=True)
    names = {0: "normal", 1: "pneumonia"}
    lab = dict(zip(ids, labels[idx].tolist(), strict=True))
    dest.mkdir(parents=True, exist_ok=True)
    montage([(names[lab[i]], cells[i]) for i in show], a.resolutions, dest / "gradcam_montage.png")
    out.update({"montage": "gradcam_montage.png", "montage_images": show, "montage_layer": EARLY,
                "params": BASE, "masks": {"lung": "central ellipse 70 % x 80 % "
                                          "(helpers.training.gradcam.lung_field_mask)",
                                          "corner": "4 corner squares, 20 % of the side"},
                "wall_s": round(time.time() - t0, 1)})
    if a.from_records:
        out["by_run"], out["by_run_skipped"] = kept_runs(a.from_records, a.regime, ids)
    (dest / "gradcam.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
