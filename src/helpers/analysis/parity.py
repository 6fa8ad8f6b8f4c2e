"""Do two numeric precisions give the same results? (appendix chapter "bf16 parity").

A *pair* is two run records with the same identity apart from ``precision`` (same model,
resolution, regime, preprocessing, seed, data): the float32 reference and the candidate
(``mixed_bfloat16``). For each pair, :func:`precision_pairs` compares the test AUCs, the test
predictions image by image, and tests the AUC difference with the paired DeLong test (same
test images, correlated scores). :func:`parity_by_cell` then asks the question that decides
whether bf16 runs may stand beside float32 runs in one table: per configuration, is the mean
AUC change across seeds smaller than the seed-to-seed spread of the float32 runs, and do the
two *seed ensembles* (mean probability over seeds) differ by the paired DeLong test?
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from helpers.runs.align import align
from helpers.stats.delong import delong_paired_test, holm_adjust
from helpers.stats.equivalence import MARGIN_AUC, or_hillis_tost, verdict_word

CELL_KEYS: tuple[str, ...] = ("model", "resolution", "regime", "preprocessing")
"""What makes a configuration (a table cell); seeds are repetitions of it."""


__all__ = ["CELL_KEYS", "device_of", "emulation_cost", "machine_pairs", "parity_by_cell", "precision_pairs", "speed_table", "speed_values", "with_twins"]


def _precision(rec: Mapping[str, Any]) -> str:
    return str(rec["params"].get("precision", "float32"))


def device_of(rec: Mapping[str, Any]) -> str:
    """``"GPU"`` when the record's run saw a GPU (``provenance.gpu``), else ``"CPU"``."""
    return "GPU" if (rec.get("provenance") or {}).get("gpu") else "CPU"


def _key(rec: Mapping[str, Any]) -> tuple:
    params = {k: v for k, v in rec["params"].items() if k != "precision"}
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


def _aligned_test(recs: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """(labels, probs[run, image]) of ``recs`` on the test split, joined by image id."""
    _, labels, probs = align([(r["run_id"], *(r["predictions"]["test"][k]
                                              for k in ("ids", "labels", "probs")))
                              for r in recs], "test")
    return labels.astype(int), probs


def _aligned(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    labels, probs = _aligned_test([a, b])
    return labels, probs[0], probs[1]


def precision_pairs(
    records: Iterable[Mapping[str, Any]],
    *,
    reference: str = "float32",
    candidate: str = "mixed_bfloat16",
) -> pd.DataFrame:
    """One row per seed that ran in both precisions (appendix chapter "bf16 parity").

    Columns: the cell keys, ``seed``, ``auc_ref``, ``auc_cand``, ``delta_auc`` (cand − ref),
    ``p_delong`` (paired DeLong on the test images), ``mean_abs_dprob`` (mean |Δ probability|
    per image), ``label_agreement`` (share of test images given the same label at 0.5),
    ``n_images`` (test images both runs scored) and both ``wall_s``. Only ``status == "ok"``
    records count.
    """
    ok = [r for r in records if r.get("status") == "ok"]
    refs = {_key(r): r for r in ok if _precision(r) == reference}
    rows = []
    for cand in ok:
        if _precision(cand) != candidate or _key(cand) not in refs:
            continue
        ref = refs[_key(cand)]
        y, p_ref, p_cand = _aligned(ref, cand)
        test = delong_paired_test(y, p_ref, p_cand)
        rows.append({
            **{k: cand["params"][k] for k in CELL_KEYS},
            "seed": cand["params"]["seed"],
            "auc_ref": test["auc_a"],
            "auc_cand": test["auc_b"],
            "delta_auc": test["auc_b"] - test["auc_a"],
            "p_delong": test["p"],
            "mean_abs_dprob": float(np.mean(np.abs(p_cand - p_ref))),
            "label_agreement": float(np.mean((p_cand >= 0.5) == (p_ref >= 0.5))),
            "n_images": len(y),
            "device_ref": device_of(ref),
            "device_cand": device_of(cand),
            "wall_s_ref": ref.get("timing", {}).get("wall_s"),
            "wall_s_cand": cand.get("timing", {}).get("wall_s"),
        })
    cols = [*CELL_KEYS, "seed", "auc_ref", "auc_cand", "delta_auc", "p_delong",
            "mean_abs_dprob", "label_agreement", "n_images", "device_ref", "device_cand",
            "wall_s_ref", "wall_s_cand"]
    return pd.DataFrame(rows, columns=cols).sort_values([*CELL_KEYS, "seed"]).reset_index(
        drop=True)


def _ensemble(recs: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    labels, probs = _aligned_test(recs)
    return labels, np.mean(probs, axis=0)


def parity_by_cell(
    records: Iterable[Mapping[str, Any]],
    *,
    reference: str = "float32",
    candidate: str = "mixed_bfloat16",
    margin: float = MARGIN_AUC,
) -> pd.DataFrame:
    """Per configuration: mean ΔAUC vs the seed spread, the seed ensembles' DeLong test, and the
    seed-aware equivalence test.

    ``within_seed_spread`` is True when |mean ΔAUC| is at most the sample SD of the float32
    seeds' AUCs; ``holds`` adds that the ensembles do not differ at the 0.05 level (the rule
    declared before the runs). Because "does not differ" gets easier to pass with fewer seeds,
    each cell also gets OR–Hillis (seeds as readers) ``or_delta_auc`` = bf16 − float32, its
    ``or_p``, Holm's ``or_p_holm`` over the cells shown (one family), the TOST ``tost_p`` and
    90 % interval ``eq_lo``/``eq_hi`` against ±``margin``, and ``verdict``
    (:func:`helpers.stats.equivalence.verdict_word`: lower / higher / equivalent /
    inconclusive). Only seeds that ran in both precisions enter (paired design).
    """
    recs = [r for r in records if r.get("status") == "ok"]
    pairs = precision_pairs(recs, reference=reference, candidate=candidate)
    rows = []
    for cell, grp in pairs.groupby(list(CELL_KEYS), sort=True):
        seeds = set(grp["seed"])

        def pick(prec: str, cell: tuple = cell, seeds: set = seeds) -> list[Mapping[str, Any]]:
            return [r for r in recs if _precision(r) == prec and r["params"]["seed"] in seeds
                    and tuple(r["params"][k] for k in CELL_KEYS) == cell]

        y_ref, e_ref = _ensemble(pick(reference))
        y_cand, e_cand = _ensemble(pick(candidate))
        if not np.array_equal(y_ref, y_cand):
            raise ValueError(f"cell {cell}: the two precisions saw different test images")
        ens = delong_paired_test(y_ref, e_ref, e_cand)
        eq = _seed_tost(pick(reference), pick(candidate), margin)
        spread = float(np.std(grp["auc_ref"], ddof=1)) if len(grp) > 1 else float("nan")
        mean_delta = float(grp["delta_auc"].mean())
        within = bool(abs(mean_delta) <= spread) if np.isfinite(spread) else False
        devices = grp["device_cand"].value_counts()
        # Wall times compare precisions only on one machine: NaN when any pair spans two.
        same_machine = bool((grp["device_ref"] == grp["device_cand"]).all())
        rows.append({
            **dict(zip(CELL_KEYS, cell, strict=True)),
            "n_seeds": len(grp),
            "cand_devices": ", ".join(f"{n} {d}" for d, n in sorted(devices.items())),
            "mean_auc_ref": float(grp["auc_ref"].mean()),
            "mean_auc_cand": float(grp["auc_cand"].mean()),
            "mean_delta_auc": mean_delta,
            "seed_sd_ref": spread,
            "within_seed_spread": within,
            "ensemble_auc_ref": ens["auc_a"],
            "ensemble_auc_cand": ens["auc_b"],
            "ensemble_p": ens["p"],
            "holds": within and ens["p"] >= 0.05,
            "or_delta_auc": eq["diff"], "or_p": eq["p_difference"], "tost_p": eq["p"],
            "eq_lo": eq["ci_low"], "eq_hi": eq["ci_high"], "equivalent": bool(eq["equivalent"]),
            "n_cand_gpu": int((grp["device_cand"] == "GPU").sum()),
            "speedup": float(np.nanmean(grp["wall_s_ref"].astype(float))
                             / np.nanmean(grp["wall_s_cand"].astype(float)))
            if same_machine else float("nan"),
        })
    cols = [*CELL_KEYS, "n_seeds", "cand_devices", "n_cand_gpu", "mean_auc_ref", "mean_auc_cand", "mean_delta_auc",
            "seed_sd_ref", "within_seed_spread", "ensemble_auc_ref", "ensemble_auc_cand",
            "ensemble_p", "holds", "or_delta_auc", "or_p", "tost_p", "eq_lo", "eq_hi",
            "equivalent", "speedup"]  # equivalent: replaced by the Holm-adjusted TOST below
    out = pd.DataFrame(rows, columns=cols)
    # the chapter's cells are one family: Holm over their seed-aware p, then the verdict word
    out["or_p_holm"] = holm_adjust(out["or_p"].to_numpy(dtype=float)) if len(out) else []
    # the book's one policy: Holm over the family for the equivalence test too
    out["tost_p_holm"] = holm_adjust(out["tost_p"].to_numpy(dtype=float)) if len(out) else []
    out["equivalent"] = out["tost_p_holm"] < 0.05
    out["verdict"] = [verdict_word(d, p, {"equivalent": bool(e)}) if np.isfinite(p) else ""
                      for d, p, e in zip(out["or_delta_auc"], out["or_p_holm"],
                                         out["equivalent"], strict=True)]
    return out


def _seed_tost(ref: Sequence[Mapping[str, Any]], cand: Sequence[Mapping[str, Any]],
               margin: float) -> dict[str, Any]:
    """OR–Hillis TOST of AUC(candidate) − AUC(reference), the seeds paired by seed number."""
    ref = sorted(ref, key=lambda r: r["params"]["seed"])
    cand = sorted(cand, key=lambda r: r["params"]["seed"])
    y, probs = _aligned_test([*ref, *cand])
    return or_hillis_tost(y, probs[len(ref):], probs[:len(ref)], margin)


def machine_pairs(here: Iterable[Mapping[str, Any]],
                  other: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The same run (same run id: same identity, seed, precision) trained on two machines.

    ``here`` are the sweep's records, ``other`` the second machine's records of runs the sweep
    had already (``scripts/device_sweep.py collect --duplicates-dir``). One row per run id in
    both: each side's device and Keras backend, test AUCs, ΔAUC (other − here), paired DeLong
    p, share of test images with the same label at 0.5 (appendix chapter, section 4).
    """
    ok_here = {r["run_id"]: r for r in here if r.get("status") == "ok"}
    rows = []
    for rec in other:
        ref = ok_here.get(rec.get("run_id"))
        if rec.get("status") != "ok" or ref is None:
            continue
        y, p_ref, p_oth = _aligned(ref, rec)
        test = delong_paired_test(y, p_ref, p_oth)
        rows.append({
            **{k: rec["params"][k] for k in CELL_KEYS},
            "precision": _precision(rec),
            "seed": rec["params"]["seed"],
            "machine_a": f"{device_of(ref)} ({(ref.get('provenance') or {}).get('keras_backend')})",
            "machine_b": f"{device_of(rec)} ({(rec.get('provenance') or {}).get('keras_backend')})",
            "auc_a": test["auc_a"],
            "auc_b": test["auc_b"],
            "delta_auc": test["auc_b"] - test["auc_a"],
            "p_delong": test["p"],
            "label_agreement": float(np.mean((p_oth >= 0.5) == (p_ref >= 0.5))),
        })
    cols = [*CELL_KEYS, "precision", "seed", "machine_a", "machine_b", "auc_a", "auc_b",
            "delta_auc", "p_delong", "label_agreement"]
    return pd.DataFrame(rows, columns=cols).sort_values([*CELL_KEYS, "seed"]).reset_index(
        drop=True)








def speed_table(benchmark: Mapping[str, Any]) -> pd.DataFrame:
    """bf16 / float32 images-per-second ratios per model and size from ``benchmark.py
    --precision --out FILE`` (bf16-parity appendix): training (all layers) and inference."""
    rows = benchmark.get("precision") or []
    by = {(r["model"], int(r["resolution"]), r["precision"]): r for r in rows}
    out = []
    for (model, res, prec), f in sorted(by.items()):
        b = by.get((model, res, "mixed_bfloat16"))
        if prec != "float32" or b is None:
            continue
        out.append({"model": model, "px": res,
                    "train fp32 img/s": f["train_img_s"], "train bf16 / fp32":
                    b["train_img_s"] / f["train_img_s"],
                    "infer bf16 / fp32": b["infer_img_s"] / f["infer_img_s"]})
    return pd.DataFrame(out, columns=["model", "px", "train fp32 img/s", "train bf16 / fp32",
                                      "infer bf16 / fp32"])


def speed_values(table: pd.DataFrame,
                 models: Iterable[str] = ("mobilenet", "resnet50")) -> dict[str, float]:
    """Smallest and largest training speed-up of bf16 per model (``bf16_train_min_<model>``,
    ``bf16_train_max_<model>``), for the prose of the bf16-parity appendix and the reproducibility page; NaN
    for a model of ``models`` the benchmark did not time (the prose then shows "nan")."""
    out: dict[str, float] = {}
    for model in dict.fromkeys([*models, *table["model"]]):
        grp = table.loc[table["model"] == model, "train bf16 / fp32"]
        out[f"bf16_train_min_{model}"] = float(grp.min()) if len(grp) else float("nan")
        out[f"bf16_train_max_{model}"] = float(grp.max()) if len(grp) else float("nan")
    return out


def emulation_cost(benchmark: Mapping[str, Any], recs: Iterable[Mapping[str, Any]],
                   model: str = "resnet50", resolution: int = 128) -> dict[str, float]:
    """What one full fine-tuning run of ``model`` at ``resolution`` costs on the benchmark's CPU
    (the bf16-parity appendix: why the remaining bf16 cells wait for bf16 hardware).

    The training images of one run (epochs × training images, from ``timing.train_s`` ×
    ``timing.train_images_per_s`` of a full-regime record of that model and size; the median
    over such records) divided by the benchmark's training images/s in float32 and in
    ``mixed_bfloat16``. Keys (glued as they are): ``emu_fp32_img_s``, ``emu_bf16_img_s``,
    ``emu_train_ratio`` (bf16 / float32), ``emu_run_h_fp32``, ``emu_run_h_bf16`` (hours of
    training alone, evaluation not counted) and ``emu_cpu_bf16`` (1.0 when the benchmark's CPU
    computes bf16 in hardware). Raises ``ValueError`` naming what is missing: the benchmark's
    rows or a record to size a run with.
    """
    rows = {r["precision"]: r for r in benchmark.get("precision") or []
            if r["model"] == model and int(r["resolution"]) == resolution}
    if not {"float32", "mixed_bfloat16"} <= set(rows):
        raise ValueError(f"the benchmark has no float32 and mixed_bfloat16 rows for {model} at "
                         f"{resolution} px: run scripts/benchmark.py --precision --models "
                         f"{model} --resolutions {resolution}")
    sizes = [r["timing"]["train_s"] * r["timing"]["train_images_per_s"] for r in recs
             if r.get("status") == "ok" and r["params"].get("model") == model
             and r["params"].get("resolution") == resolution
             and r["params"].get("regime") == "full"
             and (r.get("timing") or {}).get("train_images_per_s")]
    if not sizes:
        raise ValueError(f"no ok full-regime record of {model} at {resolution} px to size a run")
    images = float(np.median(sizes))
    fp32, bf16 = rows["float32"]["train_img_s"], rows["mixed_bfloat16"]["train_img_s"]
    hw = benchmark.get("bf16_hardware") or {}
    return {"emu_fp32_img_s": float(fp32), "emu_bf16_img_s": float(bf16),
            "emu_train_ratio": float(bf16 / fp32),
            "emu_run_h_fp32": images / fp32 / 3600, "emu_run_h_bf16": images / bf16 / 3600,
            "emu_cpu_bf16": float(bool(hw.get("cpu_bf16")))}


def with_twins(here: Iterable[Mapping[str, Any]],
               other: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``here`` with every ok record replaced by its ``other``-machine twin (same run id) where
    one exists (the bf16-parity appendix, section 4: would the parity verdict stand with the other machine's
    draws of the same seeds?)."""
    twins = {r["run_id"]: r for r in other if r.get("status") == "ok"}
    return [twins.get(r.get("run_id"), r) if r.get("status") == "ok" else r for r in here]


