"""Grad-CAM across resolutions for the frozen-proxy MobileNetV2 pneumonia models (Part II, chapter 07).

For each resolution the frozen-regime head of ``configs/kermany-resolution.yaml`` (MobileNetV2,
pneumonia vs normal, seed 0; the same run id as the sweep's record, so its cached base features
are reused) is re-trained with :func:`helpers.train.run_training` and handed over through
``on_model``; Grad-CAM (:mod:`helpers.gradcam`) is computed on the *same* test images at every
resolution, on the last feature map ``out_relu`` (stride 32: one cell at 32 px) and on the
stride-8 map ``block_6_expand_relu`` (the montage shows the latter); the share of each map's
mass inside the central lung-field ellipse and inside the four corner squares (20 % of the
side: where Kermany images carry text markers) is written to ``results/xray/gradcam.json`` with a small PNG montage.

    python scripts/xray_gradcam.py [--resolutions 32 64 128 224] [--n-images 64]

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
    from helpers import gradcam, records
    from helpers.data import load_dataset
    from helpers.train import run_training, validate_params

    p = validate_params({**BASE, "resolution": res})
    ds = load_dataset("kermany", task="pneumonia", resolution=res, seed=p.seed)
    box: dict = {}
    rec = run_training(p, dataset=ds, measure=False, verbose=0,
                       on_model=lambda m: box.setdefault("model", m))
    test = ds.splits["test"]
    where = {i: k for k, i in enumerate(test.ids.tolist())}
    x = test.images[[where[i] for i in ids_wanted]]
    base = box["model"].get_layer("base")
    last = gradcam.feature_layer(box["model"])
    maps = {k: gradcam.gradcam(box["model"], x, layer=k) for k in (last, EARLY)}
    info = {"run_id": records.run_id(p.identity()), "test_auc": rec["metrics"]["test"]["auc"],
            "layers": {k: int(base.get_layer(k).output.shape[1]) for k in maps}}
    return x, maps, info


def shares(maps: np.ndarray, res: int) -> dict:
    from helpers import gradcam

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), len(res_list), figsize=(1.5 * len(res_list),
                                                                 1.5 * len(rows)), dpi=72)
    for r, (label, cells) in enumerate(rows):
        for c, (img, cam) in enumerate(cells):
            ax = axes[r, c]
            ax.imshow(img, extent=(0, 1, 0, 1), interpolation="nearest")
            ax.imshow(cam, cmap="jet", alpha=0.4, extent=(0, 1, 0, 1), vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"{res_list[c]} px", fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=7)
    fig.tight_layout(pad=0.2)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolutions", type=int, nargs="+", default=[32, 64, 128, 224])
    ap.add_argument("--n-images", type=int, default=64)
    ap.add_argument("--out", default=str(ROOT / "results" / "xray"))
    a = ap.parse_args(argv)
    from helpers.data import load_dataset

    ref = load_dataset("kermany", task="pneumonia", resolution=min(a.resolutions), seed=0)
    labels = ref.splits["test"].labels
    idx = pick(labels, a.n_images)
    ids = ref.splits["test"].ids[idx].tolist()
    show = [ids[k] for k in (0, 1)] + [ids[-2], ids[-1]]  # 2 normal, 2 pneumonia
    out, t0, cells = {"images": ids, "by_resolution": {}}, time.time(), {i: [] for i in show}
    for res in a.resolutions:
        x, maps, info = heatmaps(res, ids)
        last, early = list(maps)
        out["by_resolution"][str(res)] = {**info, "layer": last,
                                          "feature_map_px": info["layers"][last],
                                          **shares(maps[last], res),
                                          "early": {"layer": early,
                                                    "feature_map_px": info["layers"][early],
                                                    **shares(maps[early], res)}}
        for i in show:
            k = ids.index(i)
            cells[i].append((x[k], maps[early][k]))
        print(res, out["by_resolution"][str(res)], flush=True)
    names = {0: "normal", 1: "pneumonia"}
    lab = dict(zip(ids, labels[idx].tolist(), strict=True))
    dest = Path(a.out)
    dest.mkdir(parents=True, exist_ok=True)
    montage([(names[lab[i]], cells[i]) for i in show], a.resolutions, dest / "gradcam_montage.png")
    out.update({"montage": "gradcam_montage.png", "montage_images": show, "montage_layer": EARLY,
                "params": BASE, "masks": {"lung": "central ellipse 70 % x 80 % "
                                          "(helpers.gradcam.lung_field_mask)",
                                          "corner": "4 corner squares, 20 % of the side"},
                "wall_s": round(time.time() - t0, 1)})
    (dest / "gradcam.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
