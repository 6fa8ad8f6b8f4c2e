"""Size of the OR–Hillis seed-aware test at 2, 3 and 5 seeds, covariances from the book's records (issue 25).

Estimates the Obuchowski–Rockette covariances (Var, Cov1, Cov2, Cov3) of real comparisons with
:func:`helpers.stats.mrmc.or_hillis_compare` (the book's own estimates, DeLong covariance): ISIC 2017
MobileNet 64 vs 128 px in both regimes and preprocessings (chapter 04, ``results/paper``) and
Kermany pneumonia MobileNetV2 64 vs 128 px, frozen and fine-tuned (chapter 08,
``results/kermany-resolution``; the fine-tuned pair is the issue's failing case). The
configuration × seed variance σ²_TR is unknown, so each source is simulated at σ²_TR = 0, at its
own estimate (Hillis, Obuchowski & Berbaum 2011, eq. 9, truncated at 0), at the estimate pooled
over every pair of input sizes of its family, and at 4 × the floor Var − Cov1 − max(Cov2 − Cov3, 0)
(seed interaction four times the image-sampling part). For each setting and 2, 3 and 5 seeds,
:func:`helpers.stats.mrmc_size.or_size` draws null AUC matrices and covariance estimates (the source's
own number of test images) and counts rejections at alpha for the published test, for its
σ²_TR ≥ 0 version and for the generalized p-value. Writes one JSON record atomically; a few
minutes on one core (the generalized p-value integrates over 1,000 nodes per replicate).

    python scripts/or_hillis_size.py [--reps 20000] [--seed 2025] [--out results/stats/or_hillis_size.json]
"""

from __future__ import annotations

import argparse
import itertools
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from helpers import config  # noqa: E402
from helpers.analysis import chest_xray as XR  # noqa: E402
from helpers.analysis import inference  # noqa: E402
from helpers.chapters import results  # noqa: E402
from helpers.files import atomic_write_json  # noqa: E402
from helpers.runs import records  # noqa: E402
from helpers.runs.provenance import git_state, package_versions, utc_now  # noqa: E402
from helpers.stats import mrmc  # noqa: E402
from helpers.stats.mrmc_size import or_size  # noqa: E402

DEFAULT_OUT = Path("results/stats/or_hillis_size.json")
READERS = (2, 3, 5)
LOW, HIGH = 64, 128
SOURCES: tuple[dict[str, Any], ...] = tuple(
    [{"chapter": "04", "dataset": "isic2017", "task": "melanoma", "results_dir": "results/paper",
      "model": "mobilenet", "regime": g, "preprocessing": p}
     for g in ("frozen", "full") for p in ("native", "unit")]
    + [{"chapter": "08", "dataset": "kermany", "task": "pneumonia",
        "results_dir": "results/kermany-resolution", "model": "mobilenetv2", "regime": g,
        "preprocessing": "unit"} for g in ("frozen", "full")]
)  # fmt: skip
"""The comparisons whose covariances are used: one family (all input sizes) per entry."""


def _name(src: dict[str, Any]) -> str:
    return "-".join(str(src[k]) for k in ("dataset", "model", "regime", "preprocessing"))


def family(src: dict[str, Any]) -> dict[int, Any]:
    """{input size: that cell's runs} of one source family (ISIC: DataFrame rows; Kermany: records)."""
    where = {k: src[k] for k in ("model", "regime", "preprocessing")}
    folder = ROOT / src["results_dir"]  # the committed records, whatever the working directory
    if src["dataset"] == "isic2017":
        runs = results.load_runs(folder, dataset=src["dataset"], task=src["task"])
        keep = runs["precision"] == "float32"
        for k, v in where.items():
            keep &= runs[k] == v
        sel = runs[keep]
        return {int(r): sel[sel["resolution"] == r].sort_values("seed")
                for r in sorted(sel["resolution"].unique())}  # fmt: skip
    recs = [r for r in records.load_records(config.results_dir(folder))
            if r.get("status") == "ok"]  # fmt: skip
    by: dict[int, list[Any]] = {}
    for r in XR.select(recs, dataset=src["dataset"], task=src["task"], **where):
        by.setdefault(int(r["params"]["resolution"]), []).append(r)
    return dict(sorted(by.items()))


def pair(src: dict[str, Any], cells: dict[int, Any], a: int, b: int) -> tuple[Any, ...] | None:
    """(labels, probs_a, probs_b, run ids, clusters) on the seeds cells a and b share, paired by
    seed as the chapters pair them; None with fewer than 2 common seeds. ``clusters``: the
    patient of each Kermany test image (the findings chapter's unit), None for ISIC (no
    patient ids: the image is the unit)."""
    if src["dataset"] == "isic2017":
        both = pd.concat([cells[a], cells[b]])
        labels, pa, pb, common = inference.seed_matrices(both, cells[a], cells[b])
        ids = [rid for c in (a, b) for rid, s in zip(cells[c]["run_id"], cells[c]["seed"],
                                                      strict=True) if s in common]  # fmt: skip
        return (labels, pa, pb, ids, None) if len(common) >= 2 else None
    ra, rb = XR.paired(cells[a], cells[b])
    if len(ra) < 2:
        return None
    img, labels, pb = XR.seed_matrix(rb)
    _, _, pa = XR.seed_matrix(ra, order=img)
    return labels, pa, pb, [r["run_id"] for r in (*ra, *rb)], XR.patients(img)


def estimate(src: dict[str, Any]) -> dict[str, Any]:
    """The source's OR covariances (64 vs 128 px), its σ̂²_TR and the family-pooled σ̂²_TR."""
    cells = family(src)
    got = pair(src, cells, LOW, HIGH)
    if got is None:
        raise SystemExit(
            f"{_name(src)}: {LOW} and {HIGH} px share fewer than 2 seeds in "
            f"{src['results_dir']}; run the sweep that makes them first"
        )
    labels, pa, pb, ids, clusters = got
    res = mrmc.or_hillis_compare(labels, pa, pb, constrain_tr=True, clusters=clusters)
    pooled = []
    for a, b in itertools.combinations(cells, 2):
        other = pair(src, cells, a, b)
        if other is not None:
            pooled.append(mrmc.or_hillis_compare(*other[:3], constrain_tr=True,
                                                 clusters=other[4])["var_tr"])
    return {
        "name": _name(src), "chapter": src["chapter"], "results_dir": src["results_dir"],
        "comparison": f"{LOW} vs {HIGH} px", "run_ids": ids, "n_seeds": int(res["n_seeds"]),
        "n_images": int(labels.size), "n_pos": int(labels.sum()),
        "unit": "image" if clusters is None else "patient",
        "n_units": int(labels.size if clusters is None else len(set(clusters))),
        **{k: float(res[k]) for k in ("var", "cov1", "cov2", "cov3", "ms_t", "ms_tr",
                                      "ms_tr_floor", "var_tr")},
        "var_tr_pooled": float(np.mean(pooled)), "n_pairs_pooled": len(pooled),
        "test_as_run": {"p_hillis": float(res["p_hillis"]), "p_constrained": float(res["p"]),
                        "F_hillis": float(res["F_hillis"]), "F_constrained": float(res["F"])},
    }  # fmt: skip


def sigma2_grid(est: dict[str, Any]) -> dict[str, float]:
    """The σ²_TR values simulated for one source (labels → value)."""
    return {
        "zero": 0.0,
        "own estimate (truncated at 0)": max(est["var_tr"], 0.0),
        "family-pooled estimate (truncated at 0)": max(est["var_tr_pooled"], 0.0),
        "4 x floor": 4.0 * max(est["ms_tr_floor"], 0.0),
    }


def simulate(sources: list[dict[str, Any]], reps: int, seed: int, alpha: float) -> list[dict]:
    """One row per source × σ²_TR × seeds: rejection rates of both tests with their MC SE.

    The covariance estimates are drawn with as many cases as the source has sampling units:
    test images for ISIC, children for Kermany (its covariances are clustered by child)."""
    rows = []
    for i, est in enumerate(sources):
        for j, (label, s2) in enumerate(sigma2_grid(est).items()):
            for r in READERS:
                ss = np.random.SeedSequence([seed, i, j, r])
                out = or_size(s2, est["var"], est["cov1"], est["cov2"], est["cov3"], r,
                              n_cases=est["n_units"], n_reps=reps, alpha=alpha, seed=ss)  # fmt: skip
                rows.append({"source": est["name"], "sigma2_tr_from": label, **out})
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per number of seeds: the lowest and highest rate of each test over all settings."""
    out = {}
    for r in READERS:
        sel = [x for x in rows if x["n_readers"] == r]
        out[str(r)] = {t: {"min": min(x[t]["rate"] for x in sel), "max": max(x[t]["rate"] for x in sel)}
                       for t in ("hillis", "constrained", "generalized")}  # fmt: skip
    return out


def build_record(reps: int, seed: int, alpha: float) -> dict[str, Any]:
    """Covariances, settings, rates and provenance."""
    started, t0 = utc_now(), time.perf_counter()
    sources = [estimate(s) for s in SOURCES]
    rows = simulate(sources, reps, seed, alpha)
    commit, dirty = git_state()
    return {
        "schema": 1,
        "what": "null rejection rate (size) of the OR–Hillis test, as published and with the "
                "configuration x seed variance constrained >= 0, and of the generalized p-value, "
                "at 2, 3 and 5 seeds (issue 25)",
        "command": f"python scripts/or_hillis_size.py --reps {reps} --seed {seed}",
        "simulation": {
            "model": "theta (2 x r AUCs) ~ MVN(0, sigma2_tr I + Sigma_OR(Var, Cov1, Cov2, Cov3)) "
                     "under H0; covariance estimates ~ Wishart(Sigma_OR / (n-1), n-1), n = the "
                     "source's test images; tests: helpers.stats.mrmc.or_hillis_f",
            "hillis": "F = MS(T) / (MS(TR) + r max(Cov2-Cov3, 0)), ddf_H (Hillis 2007)",
            "constrained": "MS(TR) floored at Var - Cov1 - max(Cov2-Cov3, 0) (sigma2_TR >= 0); "
                           "ddf = inf (chi2_1 reference) where the floor binds",
            "generalized": "p = E_W chi2_1.sf(MS(T) / ((r-1) MS(TR) / W + r max(Cov2-Cov3, 0))), "
                           "W ~ chi2_(r-1) (Tsui & Weerahandi 1989; helpers.stats.mrmc_generalized)",
            "n_reps": reps, "alpha": alpha, "seed": seed, "readers": list(READERS),
        },
        "sources": sources,
        "results": rows,
        "summary": summary(rows),
        "provenance": {
            "numpy": np.__version__, "packages": package_versions(("numpy", "scipy", "pandas")),
            "python": platform.python_version(), "git_commit": commit, "git_dirty": dirty,
            "started_at": started, "wall_s": round(time.perf_counter() - t0, 2),
        },
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Estimate, simulate, write the record and print the rates (issue 25)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=20_000, help="replicates per setting")
    ap.add_argument("--seed", type=int, default=2025, help="seed of the random draws")
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = ap.parse_args(argv)
    record = build_record(args.reps, args.seed, args.alpha)
    atomic_write_json(args.out, record)
    for x in record["results"]:
        h, c, g = x["hillis"], x["constrained"], x["generalized"]
        print(f"{x['source']:42s} {x['sigma2_tr_from']:40s} r={x['n_readers']}  "
              f"hillis {h['rate']:.4f} ± {h['mc_se']:.4f}  constrained {c['rate']:.4f} ± "
              f"{c['mc_se']:.4f}  generalized {g['rate']:.4f}  floor binds {x['floor_binds']:.2f}")  # fmt: skip
    print(f"{args.out}: {len(record['results'])} settings, {record['provenance']['wall_s']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
