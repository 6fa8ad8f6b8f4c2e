"""Run records → the tables of Part II (chest X-rays, chapters 07 and 08).

Seeds are "readers" (:mod:`helpers.stats.mrmc`) wherever they were evaluated on the same images: the
official Kermany test set is shared by every seed, so test AUCs get the Obuchowski–Rockette–
Hillis interval and test rates :func:`helpers.stats.ratios.or_hillis_rate`. The validation sets are
*not* shared (the patient-level split is seeded: each seed validates on other patients), so a
validation metric is the mean over seeds with a Student-t interval over the seeds (whose spread
then holds both the image and the seed variance; clipped to [0, 1]); with one seed, the DeLong /
Wald interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from helpers.chapters.formatting import MISSING
from helpers.stats import delong as stats
from helpers.stats import mrmc
from helpers.stats import ratios as xray
from helpers.stats.operating import youden_threshold

METRICS = ("auc", "accuracy", "sensitivity", "specificity")


def select(recs: Iterable[Mapping[str, Any]], **params: Any) -> list[Mapping[str, Any]]:
    """The ``ok`` records whose params have every given value, sorted by seed."""
    out = [r for r in recs if r.get("status") == "ok"
           and all(r["params"].get(k) == v for k, v in params.items())]
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
    record's); every record must have predictions for exactly these images."""
    first = recs[0]["predictions"][split]
    lab = dict(zip(first["ids"], first["labels"], strict=True))
    ids = list(first["ids"]) if order is None else list(order)
    labels = np.asarray([lab[i] for i in ids], int)
    rows = []
    for r in recs:
        pr = r["predictions"][split]
        where = dict(zip(pr["ids"], pr["probs"], strict=True))
        if set(where) != set(ids):
            raise ValueError(f"{r['run_id']}: its {split} images differ from {recs[0]['run_id']}")
        rows.append([where[i] for i in ids])
    return ids, labels, np.asarray(rows, float)


def _fmt(est: float, lo: float, hi: float, pct: bool) -> str:
    if not math.isfinite(est):
        return MISSING
    f = (lambda v: f"{100 * v:.1f}") if pct else (lambda v: f"{v:.3f}")
    ci = f" ({f(lo)}–{f(hi)})" if math.isfinite(lo) and math.isfinite(hi) else ""
    return f"{f(est)}{ci}"


def test_metrics(recs: list[Mapping[str, Any]], thresholds: np.ndarray | float
                 ) -> dict[str, tuple[float, float, float]]:
    """Seed-mean test metrics with OR–Hillis intervals: {metric: (estimate, low, high)}."""
    _, y, p = seed_matrix(recs, "test")
    auc = mrmc.or_hillis_single(y, p)
    out = {"auc": (auc["auc"], auc["ci_low"], auc["ci_high"])}
    for k, v in xray.seed_rates(y, p, thresholds).items():
        out[k] = (v["rate"], v["ci_low"], v["ci_high"])
    return out


def val_metrics(recs: list[Mapping[str, Any]], thresholds: np.ndarray | float
                ) -> dict[str, tuple[float, float, float]]:
    """Seed-mean validation metrics, t-interval over seeds (one seed: DeLong / Wald)."""
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
    auc, var = stats.fast_delong(y, p)
    out = {"auc": (auc, *stats.delong_ci(auc, var))}
    for k, v in xray.seed_rates(y, p[None], t[0]).items():
        out[k] = (v["rate"], v["ci_low"], v["ci_high"])
    return out


def val_thresholds(recs: list[Mapping[str, Any]]) -> np.ndarray:
    """Each seed's Youden threshold on its own validation predictions."""
    return np.array([youden_threshold(r["predictions"]["val"]["labels"],
                                      r["predictions"]["val"]["probs"]) for r in recs])


def reproduction_table(recs: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows: split × threshold rule; columns: AUC, accuracy, sensitivity, specificity with CIs."""
    rows = []
    rules = {"0.5": 0.5, "Youden on val": val_thresholds(recs)}
    for split, fn in (("validation", val_metrics), ("test", test_metrics)):
        for rule, th in rules.items():
            m = fn(recs, th)
            rows.append({"split": split, "threshold": rule, "AUC": _fmt(*m["auc"], pct=False),
                         **{k: _fmt(*m[k], pct=True) for k in METRICS[1:]}})
    return pd.DataFrame(rows)


def curve(recs: Iterable[Mapping[str, Any]], **params: Any) -> pd.DataFrame:
    """AUC vs resolution for one finding × model × regime: seed-mean AUC, its SE (OR–Hillis;
    DeLong with one seed), and the test against the best resolution on the seeds both cells have
    (:func:`paired`; NaN when they share none), Holm-adjusted."""
    recs = list(recs)
    by_res = {}
    for r in select(recs, **params):
        by_res.setdefault(r["params"]["resolution"], []).append(r)
    rows = []
    for res in sorted(by_res):
        _, y, p = seed_matrix(by_res[res])
        s = mrmc.or_hillis_single(y, p)
        rows.append({"resolution": res, "auc": s["auc"], "se": s["se"], "n_seeds": len(p)})
    df = pd.DataFrame(rows, columns=["resolution", "auc", "se", "n_seeds"])
    if df.empty:
        return df.assign(p=[], p_holm=[], best=[])
    best = int(df.loc[df["auc"].idxmax(), "resolution"])
    pvals = []
    for res in df["resolution"]:
        if res == best:
            pvals.append(np.nan)
            continue
        cell, top = paired(by_res[res], by_res[best])
        if not cell:  # no seed in common: nothing to pair
            pvals.append(np.nan)
            continue
        ids, y, pb = seed_matrix(top)
        _, _, pr = seed_matrix(cell, order=ids)
        pvals.append(mrmc.or_hillis_compare(y, pr, pb)["p"])
    return df.assign(p=pvals, p_holm=stats.holm_adjust(pvals), best=df["resolution"] == best)


def ratio(recs: Iterable[Mapping[str, Any]], low: int = 64, high: int = 224, n_boot: int = 2000,
          **params: Any) -> dict[str, Any] | None:
    """AUC(low)/AUC(high) (:func:`helpers.stats.ratios.auc_ratio`) or None when a resolution is missing."""
    recs = list(recs)
    lo, hi = paired(select(recs, resolution=low, **params),
                    select(recs, resolution=high, **params))
    if not lo:
        return None
    ids, y, pl = seed_matrix(lo)
    _, _, ph = seed_matrix(hi, order=ids)
    return xray.auc_ratio(y, pl, ph, n_boot=n_boot)


def ratio_test(recs: Iterable[Mapping[str, Any]], tasks: tuple[str, str], low: int = 64,
               high: int = 224, n_boot: int = 2000, **params: Any) -> dict[str, Any] | None:
    """Difference of two findings' ratios (:func:`helpers.stats.ratios.ratio_difference`), or None."""
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
    return xray.ratio_difference(parts, n_boot=n_boot)


def ratio_verdict(d: Mapping[str, Any] | None, *, missing: str = "has not run",
                  same: str = "does not detectably lose more or less") -> str:
    """How the second finding's ratio compares with the first's, from :func:`ratio_test` (ch. 08).

    ``same`` when p ≥ 0.05, else ``loses less`` (positive difference) or ``loses more``;
    ``missing`` when there was nothing to test.
    """
    if d is None:
        return missing
    if d["p"] >= 0.05:
        return same
    return "loses less" if d["diff"] > 0 else "loses more"


def ratio_comparison(recs: Iterable[Mapping[str, Any]], findings: Mapping[str, str], low: int,
                     high: int, n_boot: int, regimes: Iterable[str] = ("frozen", "full"),
                     **params: Any) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Per regime: each finding's ``low``/``high`` px AUCs and ratio, and their difference (ch. 08).

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


def ratio_comparison_values(tests: Mapping[str, Mapping[str, Any]], findings: Iterable[str],
                            regimes: Iterable[str] = ("frozen", "full"), tag: str = "",
                            ) -> dict[str, float | str]:
    """Numbers chapter 08 glues from :func:`ratio_comparison` (NaN / "has not run" if missing).

    Keys per regime ``g`` and finding ``t``: ``r{tag}_{t}_{g}``, ``r{tag}_sd_{t}_{g}``; per
    regime: ``d{tag}_diff_{g}``, ``d{tag}_sd_{g}``, ``d{tag}_p_{g}``, ``d{tag}_seeds_{g}`` (fewest
    seeds of a cell) and ``d{tag}_verdict_{g}`` (:func:`ratio_verdict`).
    """
    nan = float("nan")
    out: dict[str, float | str] = {}
    for g in regimes:
        d = tests.get(g)
        for t in findings:
            f = d["findings"][t] if d else {}
            out[f"r{tag}_{t}_{g}"] = float(f.get("ratio", nan))
            out[f"r{tag}_sd_{t}_{g}"] = float(f.get("sd", nan))
        for k in ("diff", "sd", "p"):
            out[f"d{tag}_{k}_{g}"] = float(d[k]) if d else nan
        out[f"d{tag}_seeds_{g}"] = (float(min(v["n_seeds"] for v in d["findings"].values()))
                               if d else nan)
        out[f"d{tag}_verdict_{g}"] = ratio_verdict(d)
    return out


GRADCAM_COLUMNS = ["run", "seed", "layer", "map", "lung share", "corner share"]


def gradcam_runs(gradcam: Mapping[str, Any]) -> pd.DataFrame:
    """One row per kept fine-tuned run and layer of ``gradcam.json``'s ``by_run`` (chapter 07).

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
    seeds (glued by chapter 07 as ``gc_ft_*``; NaN when none was mapped)."""
    last = table[table["layer"] == "last"]
    nan = float("nan")
    out: dict[str, float] = {"gc_ft_n": float(len(last))}
    for key, col in (("lung", "lung share"), ("corner", "corner share")):
        sel = last[col].astype(float)
        out.update({f"gc_ft_{key}": float(sel.mean()) if len(sel) else nan,
                    f"gc_ft_{key}_min": float(sel.min()) if len(sel) else nan,
                    f"gc_ft_{key}_max": float(sel.max()) if len(sel) else nan})
    return out


def gradcam_finetuned_md(table: pd.DataFrame, frozen_lung: float, frozen_corner: float,
                         skipped: Iterable[str] = (), *, lung_area: float | None = None,
                         corner_area: float | None = None) -> str:
    """The chapter 07 sentence comparing fine-tuned and frozen-proxy Grad-CAM at 224 px.

    ``table`` is :func:`gradcam_runs`; ``skipped`` the run ids that kept no model (named, so a
    missing network is never silent). With several seeds the sentence gives their range; with
    ``lung_area``/``corner_area`` (a uniform map's shares) it says how many seeds' maps are
    lung-centred (lung share above the uniform map's and corner share below it).
    """
    skipped = list(skipped)
    tail = (f" {len(skipped)} run(s) kept no model and are not mapped: "
            + ", ".join(f"`{r}`" for r in skipped) + "." if skipped else "")
    if table.empty:
        return ("No fine-tuned network has been mapped yet, so this comparison waits for the "
                "paper's protocol runs (the command is above the table)." + tail)
    n = len(table[["run", "seed"]].drop_duplicates())
    runs = sorted(set(table["run"]))
    what = runs[0] if len(runs) == 1 else "; ".join(runs)
    v = gradcam_finetuned_values(table)

    def share(key: str, fmt: str) -> str:
        mean = format(v[f"gc_ft_{key}"], fmt)
        if n < 2:
            return mean
        return (f"{mean} (seeds {format(v[f'gc_ft_{key}_min'], fmt)}–"
                f"{format(v[f'gc_ft_{key}_max'], fmt)})")

    text = (f"For the {n} fine-tuned network{'s' if n > 1 else ''} ({what}) "
            f"{share('lung', '.2f')} of the last-layer Grad-CAM mass lies in the lung-field "
            f"ellipse and {share('corner', '.3f')} in the corners, against {frozen_lung:.2f} and "
            f"{frozen_corner:.3f} for the frozen proxy at 224 px.")
    if lung_area is not None and corner_area is not None:
        last = table[table["layer"] == "last"]
        centred = int(((last["lung share"] > lung_area)
                       & (last["corner share"] < corner_area)).sum())
        text += (f" {centred} of {len(last)} fine-tuned map sets are lung-centred by this "
                 f"measure (lung share above a uniform map's {lung_area:.2f} and corner share "
                 f"below its {corner_area:.2f}).")
    return text + tail
