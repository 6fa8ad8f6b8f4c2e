"""Run records → the tables of Part II (chest X-rays, the pneumonia and findings chapters).

Seeds are "readers" (:mod:`helpers.stats.mrmc`) wherever they were evaluated on the same images: the
official Kermany test set is shared by every seed, so test AUCs get the Obuchowski–Rockette–
Hillis interval and test rates :func:`helpers.stats.ratios.or_hillis_rate`. The validation sets are
*not* shared (the patient-level split is seeded: each seed validates on other patients), so a
validation metric is the mean over seeds with a Student-t interval over the seeds (whose spread
then holds both the image and the seed variance; clipped to [0, 1]); with one seed, the DeLong /
Wald interval.

The child is the unit of sampling (issue 24): the Kermany test set holds several radiographs of
many children, so every AUC covariance, rate variance and bootstrap here clusters the images by
patient (:func:`patients`: the patient id in a Kermany file name; an image without one, e.g. a
PneumoniaMNIST or ISIC image, is its own cluster, which gives the image-level numbers
unchanged). :func:`patient_widening` reports how much wider that makes each run's interval.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import norm

from helpers.data.sources import kermany_patient
from helpers.runs.align import align
from helpers.stats import delong as stats
from helpers.stats import mrmc
from helpers.stats import ratios as xray
from helpers.stats.delong_clustered import clustered_delong_covariance
from helpers.stats.equivalence import MARGIN_AUC, tost, verdict_word
from helpers.stats.operating import youden_threshold

__all__ = ["GRADCAM_COLUMNS", "METRICS", "curve", "gradcam_finetuned_values", "gradcam_runs", "mean_share", "paired", "patient_of", "SKIN_CHEST_PAIRS", "Unit", "skin_chest_table", "unit_comparison", "patient_widening", "patients", "ratio", "ratio_comparison", "ratio_test", "seed_matrix", "select", "test_metrics", "val_metrics", "val_thresholds"]

METRICS = ("auc", "accuracy", "sensitivity", "specificity")

Unit = Literal["patient", "image"]
"""The unit of sampling of the test images: the child (default) or the image."""


def patient_of(image_id: str) -> str:
    """The cluster of one image: its Kermany patient id, or the image id itself when it has none."""
    return kermany_patient(str(image_id)) or str(image_id)


def patients(ids: Iterable[str], unit: Unit = "patient") -> list[str] | None:
    """:func:`patient_of` for every image id (the ``clusters=`` of :mod:`helpers.stats`); None
    for ``unit="image"`` (every image independent: the image-level numbers, for comparison)."""
    if unit not in ("patient", "image"):
        raise ValueError(f"unit must be 'patient' or 'image'; got {unit!r}")
    return [patient_of(i) for i in ids] if unit == "patient" else None


def select(recs: Iterable[Mapping[str, Any]], **params: Any) -> list[Mapping[str, Any]]:
    """The ``ok`` records whose params have every given value, sorted by seed.

    ``precision`` None and "float32" are the same (the default is left out of a record's
    params by some writers and spelt out by others)."""
    def same(key: str, have: Any, want: Any) -> bool:
        if key == "precision":
            return (have or "float32") == (want or "float32")
        return have == want

    out = [r for r in recs if r.get("status") == "ok"
           and all(same(k, r["params"].get(k), v) for k, v in params.items())]
    return sorted(out, key=lambda r: r["params"]["seed"])


def paired(a: list[Mapping[str, Any]], b: list[Mapping[str, Any]]
           ) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The records of two cells restricted to the seeds both have, in seed order, so a paired
    comparison pairs seed *s* with seed *s* (not the *i*-th record of one cell with the *i*-th of
    the other, which differ when one cell lacks a seed)."""
    common = {r["params"]["seed"] for r in a} & {r["params"]["seed"] for r in b}
    def keep(rs: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return sorted((r for r in rs if r["params"]["seed"] in common),
                      key=lambda r: r["params"]["seed"])
    return keep(a), keep(b)


def seed_matrix(recs: list[Mapping[str, Any]], split: str = "test",
                order: list[str] | None = None) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(ids, labels, probs seeds × images) in the image order ``order`` (default: the first
    record's); every record must have predictions for exactly these images
    (:func:`helpers.runs.align.align`)."""
    preds = [(r["run_id"], *(r["predictions"][split][k] for k in ("ids", "labels", "probs")))
             for r in recs]
    ids, labels, probs = align(preds, split, order="first" if order is None else order)
    return ids.tolist(), labels.astype(int), probs


def test_metrics(recs: list[Mapping[str, Any]], thresholds: np.ndarray | float,
                 unit: Unit = "patient") -> dict[str, tuple[float, float, float]]:
    """Seed-mean test metrics with OR–Hillis intervals: {metric: (estimate, low, high)}."""
    ids, y, p = seed_matrix(recs, "test")
    units = patients(ids, unit)
    auc = mrmc.or_hillis_single(y, p, clusters=units)
    out = {"auc": (auc["auc"], auc["ci_low"], auc["ci_high"])}
    for k, v in xray.seed_rates(y, p, thresholds, clusters=units).items():
        out[k] = (v["rate"], v["ci_low"], v["ci_high"])
    return out


def val_metrics(recs: list[Mapping[str, Any]], thresholds: np.ndarray | float
                ) -> dict[str, tuple[float, float, float]]:
    """Seed-mean validation metrics, t-interval over seeds (one seed: DeLong / Wald, by patient)."""
    per: dict[str, list[float]] = {m: [] for m in METRICS}
    t = np.broadcast_to(np.asarray(thresholds, float).reshape(-1), (len(recs),))
    for r, th in zip(recs, t, strict=True):
        y = np.asarray(r["predictions"]["val"]["labels"], int)
        p = np.asarray(r["predictions"]["val"]["probs"], float)
        per["auc"].append(stats.fast_delong(y, p)[0])
        for k, v in xray.seed_rates(y, p[None], th).items():
            per[k].append(v["rate"])
    if len(recs) > 1:  # Student-t over seeds, clipped to [0, 1] like the other intervals
        return {m: (e, max(lo, 0.0), min(hi, 1.0))
                for m, (e, lo, hi) in ((m, stats.mean_ci(v)) for m, v in per.items())}
    r = recs[0]["predictions"]["val"]
    y, p = np.asarray(r["labels"], int), np.asarray(r["probs"], float)
    units = patients(r["ids"])
    one = mrmc.or_hillis_single(y, p, clusters=units)  # one seed: DeLong, patient-clustered
    out = {"auc": (one["auc"], one["ci_low"], one["ci_high"])}
    for k, v in xray.seed_rates(y, p[None], t[0], clusters=units).items():
        out[k] = (v["rate"], v["ci_low"], v["ci_high"])
    return out


def val_thresholds(recs: list[Mapping[str, Any]]) -> np.ndarray:
    """Each seed's Youden threshold on its own validation predictions."""
    return np.array([youden_threshold(r["predictions"]["val"]["labels"],
                                      r["predictions"]["val"]["probs"]) for r in recs])




def curve(recs: Iterable[Mapping[str, Any]], unit: Unit = "patient", **params: Any
          ) -> pd.DataFrame:
    """AUC vs resolution for one finding × model × regime: seed-mean AUC, its SE (OR–Hillis;
    DeLong with one seed), and the test against the best resolution on the seeds both cells have
    (:func:`paired`; NaN when they share none), Holm-adjusted; and the equivalence with the
    best size (TOST at ±0.02, Holm-adjusted: ``tost_p_holm``) with its ``verdict`` word
    (lower / equivalent / inconclusive; empty for the best size). ``unit``: the child (default)
    or the image as the unit of the test images (:func:`patients`)."""
    recs = list(recs)
    by_res = {}
    for r in select(recs, **params):
        by_res.setdefault(r["params"]["resolution"], []).append(r)
    rows = []
    for res in sorted(by_res):
        ids, y, p = seed_matrix(by_res[res])
        s = mrmc.or_hillis_single(y, p, clusters=patients(ids, unit))
        rows.append({"resolution": res, "auc": s["auc"], "se": s["se"], "n_seeds": len(p)})
    df = pd.DataFrame(rows, columns=["resolution", "auc", "se", "n_seeds"])
    if df.empty:
        return df.assign(p=[], p_holm=[], tost_p_holm=[], verdict=[], best=[])
    best = int(df.loc[df["auc"].idxmax(), "resolution"])
    pvals, tost_ps, diffs = [], [], []
    for res in df["resolution"]:
        cell, top = paired(by_res[res], by_res[best]) if res != best else ([], [])
        if not cell:  # the best size, or no seed in common: nothing to pair
            pvals.append(np.nan)
            tost_ps.append(np.nan)
            diffs.append(np.nan)
            continue
        ids, y, pb = seed_matrix(top)
        _, _, pr = seed_matrix(cell, order=ids)
        cmp = mrmc.or_hillis_compare(y, pr, pb, clusters=patients(ids, unit))
        pvals.append(cmp["p"])
        diffs.append(cmp["diff"])
        # equivalence with the best size: TOST at ±MARGIN_AUC on the same SE and ddf
        tost_ps.append(tost(float(cmp["diff"]), float(cmp["se"]), MARGIN_AUC,
                            df=float(cmp["ddf"]))["p"])
    p_holm = stats.holm_adjust(pvals)
    tost_holm = stats.holm_adjust(tost_ps)
    verdicts = [verdict_word(d, p, {"equivalent": bool(t < 0.05)}) if np.isfinite(p) else ""
                for d, p, t in zip(diffs, p_holm, tost_holm, strict=True)]
    return df.assign(p=pvals, p_holm=p_holm, tost_p_holm=tost_holm, verdict=verdicts,
                     best=df["resolution"] == best)


def unit_comparison(by_patient: Mapping[Any, pd.DataFrame], by_image: Mapping[Any, pd.DataFrame]
                    ) -> pd.DataFrame:
    """The tests of :func:`curve` with the child and with the image as the unit, side by side
    (findings chapter): one row per cell key × size other than the best, with the seed-aware SE,
    the Holm-adjusted p and the verdict word of each, and ``changed`` (the verdict word differs).

    ``by_patient`` and ``by_image`` map the same keys (e.g. finding, model, regime) to
    :func:`curve` tables of the same records; a key whose best size differs between them is
    compared size by size all the same (its best row is left out on either side).
    """
    rows = []
    for key, pat in by_patient.items():
        img = by_image[key].set_index("resolution")
        for _, r in pat.iterrows():
            res = r["resolution"]
            if r["best"] or res not in img.index or bool(img.loc[res, "best"]):
                continue
            i = img.loc[res]
            rows.append({"cell": key, "resolution": int(res),
                         "se image": float(i["se"]), "se patient": float(r["se"]),
                         "p (Holm) image": float(i["p_holm"]), "p (Holm) patient": float(r["p_holm"]),
                         "verdict image": i["verdict"], "verdict patient": r["verdict"]})  # fmt: skip
    cols = ["cell", "resolution", "se image", "se patient", "p (Holm) image", "p (Holm) patient",
            "verdict image", "verdict patient"]
    out = pd.DataFrame(rows, columns=cols)
    return out.assign(changed=out["verdict image"] != out["verdict patient"])


def ratio(recs: Iterable[Mapping[str, Any]], low: int = 64, high: int = 224, n_boot: int = 2000,
          unit: Unit = "patient", **params: Any) -> dict[str, Any] | None:
    """AUC(low)/AUC(high) (:func:`helpers.stats.ratios.auc_ratio`, bootstrap over children by
    default, ``unit="image"`` over images) or None when a resolution is missing."""
    recs = list(recs)
    lo, hi = paired(select(recs, resolution=low, **params),
                    select(recs, resolution=high, **params))
    if not lo:
        return None
    ids, y, pl = seed_matrix(lo)
    _, _, ph = seed_matrix(hi, order=ids)
    return xray.auc_ratio(y, pl, ph, n_boot=n_boot, clusters=patients(ids, unit))


def ratio_test(recs: Iterable[Mapping[str, Any]], tasks: tuple[str, str], low: int = 64,
               high: int = 224, n_boot: int = 2000, unit: Unit = "patient", **params: Any
               ) -> dict[str, Any] | None:
    """Difference of two findings' ratios (:func:`helpers.stats.ratios.ratio_difference`,
    children resampled unless ``unit="image"``), or None."""
    recs = list(recs)
    parts = {}
    for task in tasks:
        lo, hi = paired(select(recs, task=task, resolution=low, **params),
                        select(recs, task=task, resolution=high, **params))
        if not lo:
            return None
        ids, y, pl = seed_matrix(lo)
        _, _, ph = seed_matrix(hi, order=ids)
        parts[task] = (ids, y, pl, ph)
    return xray.ratio_difference(parts, n_boot=n_boot,
                                 cluster_of=patient_of if unit == "patient" else None)




def ratio_comparison(recs: Iterable[Mapping[str, Any]], findings: Mapping[str, str], low: int,
                     high: int, n_boot: int, regimes: Iterable[str] = ("frozen", "full"),
                     **params: Any) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Per regime: each finding's ``low``/``high`` px AUCs and ratio, and their difference (findings chapter).

    ``findings`` maps task → label (its first two are compared, as in :func:`ratio_test`).
    Returns the table (regime, finding, seeds, both AUCs, ratio, SD; one row per cell that has
    run) and ``{regime: ratio_test(...)}`` for the regimes where both findings have run.
    """
    recs = list(recs)
    rows, tests = [], {}
    for g in regimes:
        for task, label in findings.items():
            r = ratio(recs, low, high, n_boot, task=task, regime=g, **params)
            if r is not None:
                rows.append({"regime": g, "finding": label, "seeds": r["n_seeds"],
                             f"AUC {low} px": r["auc_low"], f"AUC {high} px": r["auc_high"],
                             "ratio": r["ratio"], "SD": r["sd"]})
        d = ratio_test(recs, tuple(findings)[:2], low, high, n_boot, regime=g, **params)
        if d is not None:
            tests[g] = d
    return pd.DataFrame(rows), tests




SKIN_CHEST_PAIRS: tuple[tuple[str, str, bool, dict[str, Any], dict[str, Any], int, int], ...] = (
    ("like", "frozen ResNet50 on both, [0, 1] pixels", True,
     {"model": "resnet50", "regime": "frozen", "preprocessing": "unit"},
     {"model": "resnet50", "regime": "frozen", "preprocessing": "unit"}, 64, 224),
    ("mob_frozen", "frozen MobileNet (skin) vs MobileNetV2 (chest), [0, 1] pixels", False,
     {"model": "mobilenet", "regime": "frozen", "preprocessing": "unit"},
     {"model": "mobilenetv2", "regime": "frozen", "preprocessing": "unit"}, 64, 224),
    ("mob_full", "all layers trained, MobileNet (skin) vs MobileNetV2 (chest), each its "
     "paper's training", False, {"model": "mobilenet", "regime": "full", "preprocessing": "unit"},
     {"model": "mobilenetv2", "regime": "full", "preprocessing": "unit"}, 64, 128),
)
"""The skin-vs-chest comparisons the records allow: (key, label, like for like, skin cell,
chest cell, low px, high px). Like for like means the same network and regime on both; the
MobileNet rows compare two networks (and, fine-tuned, two training recipes), so they cannot
carry a lesson about the tasks. Float32 cells only."""


def skin_chest_table(skin: Iterable[Mapping[str, Any]], chest: Iterable[Mapping[str, Any]],
                     n_boot: int, finding: str = "pneumonia") -> pd.DataFrame:
    """Each of :data:`SKIN_CHEST_PAIRS` with both ratios (:func:`ratio`) and their z-test (findings chapter).

    Skin: ISIC 2017 melanoma (no patient ids: the image is the unit); chest: Kermany
    ``finding`` (the child is the unit). The two sets share no image, so the variances add:
    z = (skin − chest) / sqrt(SD² + SD²), two-sided p. A pair one side has not run is left
    out; the ``key`` column names each row (:data:`SKIN_CHEST_PAIRS`).
    """
    skin, chest = list(skin), list(chest)
    rows = []
    for key, label, like, s_cell, c_cell, low, high in SKIN_CHEST_PAIRS:
        s = ratio(skin, low, high, n_boot, dataset="isic2017", task="melanoma", precision=None,
                  **s_cell)
        c = ratio(chest, low, high, n_boot, dataset="kermany", task=finding, precision=None,
                  **c_cell)
        if s is None or c is None:
            continue
        z = (s["ratio"] - c["ratio"]) / float(np.hypot(s["sd"], c["sd"]))
        rows.append({"key": key, "comparison": label, "like for like": like,
                     "sizes": f"{low}/{high} px",
                     "skin AUC low": s["auc_low"], "skin AUC high": s["auc_high"],
                     "skin ratio": s["ratio"], "skin SD": s["sd"],
                     "chest AUC low": c["auc_low"], "chest AUC high": c["auc_high"],
                     "chest ratio": c["ratio"], "chest SD": c["sd"], "z": z,
                     "p": float(2 * norm.sf(abs(z)))})  # fmt: skip
    return pd.DataFrame(rows)


GRADCAM_COLUMNS = ["run", "seed", "layer", "map", "lung share", "corner share"]


def gradcam_runs(gradcam: Mapping[str, Any]) -> pd.DataFrame:
    """One row per kept fine-tuned run and layer of ``gradcam.json``'s ``by_run`` (pneumonia chapter).

    Columns: :data:`GRADCAM_COLUMNS` ("last" is the last feature map, "early" the stride-8
    layer). Empty (with those columns) when no run was mapped.
    """
    rows = []
    for _rid, e in sorted(gradcam.get("by_run", {}).items()):
        for tag, d in (("last", e), ("early", e["early"])):
            rows.append({"run": f"{e['regime']}, {e['resolution']} px", "seed": e["seed"],
                         "layer": tag, "map": f"{d['feature_map_px']}×{d['feature_map_px']}",
                         "lung share": d["lung_share_mean"],
                         "corner share": d["corner_share_mean"]})
    return pd.DataFrame(rows, columns=GRADCAM_COLUMNS)


def mean_share(table: pd.DataFrame, layer: str, column: str) -> float:
    """Mean of ``column`` over the rows of ``layer`` in :func:`gradcam_runs` (NaN if none)."""
    sel = table.loc[table["layer"] == layer, column]
    return float(sel.mean()) if len(sel) else float("nan")


def gradcam_finetuned_values(table: pd.DataFrame) -> dict[str, float]:
    """Last-layer lung and corner shares of the fine-tuned runs: mean, min and max over the
    seeds (glued by the pneumonia chapter as ``gc_ft_*``; NaN when none was mapped)."""
    last = table[table["layer"] == "last"]
    nan = float("nan")
    out: dict[str, float] = {"gc_ft_n": float(len(last))}
    for key, col in (("lung", "lung share"), ("corner", "corner share")):
        sel = last[col].astype(float)
        out.update({f"gc_ft_{key}": float(sel.mean()) if len(sel) else nan,
                    f"gc_ft_{key}_min": float(sel.min()) if len(sel) else nan,
                    f"gc_ft_{key}_max": float(sel.max()) if len(sel) else nan})
    return out


def patient_widening(recs: Iterable[Mapping[str, Any]], dataset: str = "kermany",
                     split: str = "test") -> pd.DataFrame:
    """Image-level vs patient-level DeLong SE of every run's AUC, per cell (findings chapter).

    Only ``dataset``'s records (patient ids are read from Kermany file names). One row per finding × model × regime × input size: images, patients (the Kermany patient id of
    each test image, :func:`helpers.data.sources.kermany_patient`; an image without one is its own
    patient), the mean over seeds of the image-level DeLong SE (``se_image``) and of the
    patient-level one (``se_patient``, :func:`helpers.stats.delong_clustered.
    clustered_delong_covariance`), and their ratio (how much wider a patient-level interval is).
    """
    cells: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for r in recs:
        if r.get("status", "ok") != "ok" or r["params"].get("dataset") != dataset:
            continue
        prm = r["params"]
        key = (prm["task"], prm["model"], prm["regime"], int(prm["resolution"]))
        cells.setdefault(key, []).append(r)
    rows = []
    for (task, model, regime, res), runs in sorted(cells.items()):
        se_i, se_p, n_pat, n_img = [], [], 0, 0
        for r in runs:
            ids, y, p = seed_matrix([r], split=split)
            units = patients(ids)
            _, cov_i = stats.delong_covariance(y, p)
            _, cov_p = clustered_delong_covariance(y, p, units)
            se_i.append(float(np.sqrt(cov_i[0, 0])))
            se_p.append(float(np.sqrt(cov_p[0, 0])))
            n_img, n_pat = len(ids), len(set(units))
        rows.append({"finding": task, "model": model, "regime": regime, "resolution": res,
                     "images": n_img, "patients": n_pat, "seeds": len(runs),
                     "se_image": float(np.mean(se_i)), "se_patient": float(np.mean(se_p))})  # fmt: skip
    out = pd.DataFrame(rows, columns=["finding", "model", "regime", "resolution", "images",
                                      "patients", "seeds", "se_image", "se_patient"])  # fmt: skip
    return out.assign(ratio=out["se_patient"] / out["se_image"])
