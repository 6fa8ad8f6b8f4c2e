"""Tables, words and figures of the deployment chapter, built only from deployment/mismatch
records (the numbers come from :mod:`helpers.analysis.deployment`, re-exported here).

* :func:`benchmark_markdown` — the README's int8 / float32 table (``deploy_sweep.py --table``);
* :func:`pareto_figure`, :func:`mismatch_heatmap` — the chapter's figures (seaborn);
* the chapter's reading tables and :func:`chapter_numbers`, the values it glues.

Nothing here measures or converts: the chapter runs on CPU in CI from committed JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from helpers.analysis.deployment import *  # noqa: F403  (one import for the chapter: numbers and words)
from helpers.analysis.deployment import (
    FORMAT_ORDER,
    int8_tests,
    mismatch_matrix,
    pareto_front,
    recommend,
    speedups,
)
from helpers.chapters import formatting
from helpers.chapters.formatting import MISSING, format_p
from helpers.chapters.formatting import (
    styled as styled,  # the book's table style, as the deployment chapter calls it
)
from helpers.model_names import MODEL_LABELS
from helpers.stats.equivalence import MARGIN_AUC

FORMAT_LABEL: dict[str, str] = {"float32": "float32", "float16": "float16",
                                "dynamic_int8": "dynamic-range int8", "int8": "full int8",
                                "int8_logit": "full int8, logit out"}






def ci_text(est: float, lo: float, hi: float) -> str:
    """A ΔAUC with its interval, ``+0.001 [-0.004, +0.006]`` (:func:`formatting.ci_text`)."""
    return formatting.ci_text(est, lo, hi, sign=True)




def benchmark_markdown(df: pd.DataFrame, val_auc: Mapping[str, float] | None = None) -> str:
    """README table: per model × resolution, float32 and full-int8 size, 1-thread latency, AUC.

    With ``val_auc`` (run id → validation AUC, :func:`validation_aucs`) it names the model to
    ship, chosen on validation AUC among the full-int8 files under 50 ms (never on test)."""
    if df.empty:
        return "_No deployment records yet: run `python scripts/deploy_sweep.py --save-models`._"
    lines = ["| model | px | float32 MB | int8 MB | float32 ms | int8 ms | int8 speed-up | "
             "AUC float32 → int8 (ΔAUC [95 % CI]) |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    quiet_all = True
    for (model, res), sub in df.groupby(["model", "resolution"], sort=True):
        f = sub[sub["format"] == "float32"]
        q = sub[sub["format"] == "int8"]
        if f.empty or q.empty:
            continue
        f, q = f.iloc[0], q.iloc[0]
        quiet_all &= bool(f["quiet"]) and bool(q["quiet"])
        lines.append(
            f"| {MODEL_LABELS.get(model, model)} | {res} | {f['size_mb']:.1f} | {q['size_mb']:.1f}"
            f" | {f['lat1_ms']:.2f} | {q['lat1_ms']:.2f} | {f['lat1_ms'] / q['lat1_ms']:.1f}× | "
            f"{f['auc']:.3f} → {q['auc']:.3f} "
            f"({ci_text(q['delta_auc'], q['delta_lo'], q['delta_hi'])}) |")
    note = ("Latency: median of batch-1 `invoke()` on one thread (XNNPACK), "
            + ("all measured on a quiet CPU (`--latency-only` pass)." if quiet_all else
               "**some rows were timed while a training sweep shared the CPU** (run "
               "`python scripts/deploy_sweep.py --latency-only` on a quiet CPU)."))
    rec = recommend(df, val_auc) if val_auc else None
    if rec is not None:
        note += (f"\n\nRecommended (the full-int8 model whose network has the best validation AUC "
                 f"under 50 ms on one thread; the test set plays no part in the choice): "
                 f"**{MODEL_LABELS.get(rec['model'], rec['model'])} "
                 f"{rec['resolution']} px**, validation AUC {rec['val_auc']:.3f}, test AUC "
                 f"{rec['auc']:.3f}, {rec['size_mb']:.1f} MB, "
                 f"{rec['lat1_ms']:.2f} ms. Build its file with `python scripts/deploy_sweep.py "
                 f"--models {rec['model']} --resolutions {rec['resolution']} --formats int8 "
                 "--save-models`.")
    return "\n".join(lines) + "\n\n" + note












def format_colors() -> dict[str, tuple[float, float, float]]:
    """One colour per export format, from seaborn's colour-blind palette (told apart under
    simulated deuteranopia: ``tests/test_palettes.py``)."""
    import seaborn as sns

    pal = sns.color_palette("colorblind")
    return {FORMAT_LABEL[f]: pal[i] for i, f in enumerate(FORMAT_ORDER)}


def pareto_figure(df: pd.DataFrame, *, claim_ms: float | None = None,
                  claim_speedup: float | None = None):
    """Two panels: AUC vs 1-thread latency (log x) and AUC vs file size (log x), seaborn."""
    import matplotlib.pyplot as plt
    import matplotlib.ticker as mticker
    import seaborn as sns

    d = df.assign(Model=df["model"].map(MODEL_LABELS), Format=df["format"].map(FORMAT_LABEL),
                  px=df["resolution"].astype(str))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3), sharey=True, layout="constrained")
    for ax, x, label in ((axes[0], "lat1_ms", "1-thread latency, batch 1 (ms, log scale)"),
                         (axes[1], "size_mb", "file size (MB, log scale)")):
        sns.scatterplot(data=d, x=x, y="auc", hue="Format", style="Model", size="resolution",
                        sizes=(30, 160), hue_order=[FORMAT_LABEL[f] for f in FORMAT_ORDER],
                        palette=format_colors(), ax=ax, legend=ax is axes[1])
        front = pareto_front(d[x], d["auc"])
        pf = d[front].sort_values(x)
        ax.plot(pf[x], pf["auc"], color="0.4", lw=1, ls="--", zorder=0, label="Pareto front")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(mticker.NullFormatter())
        ax.set_xlabel(label)
        ax.set_ylabel("test AUC (ISIC-2017 melanoma)")
        ax.grid(alpha=0.3)
    if claim_ms is not None:
        axes[0].axvline(claim_ms, color="crimson", lw=1)
        axes[0].annotate(f"paper: < {claim_ms:g} ms on a phone", (claim_ms, 0.5),
                         xycoords=("data", "axes fraction"), ha="left", va="center",
                         rotation=90, color="crimson", fontsize=9, xytext=(3, 0),
                         textcoords="offset points")
    if claim_speedup is not None:
        ref = d[(d["format"] == "float32")]
        for _, r in ref.iterrows():
            axes[0].plot([r["lat1_ms"], r["lat1_ms"] / claim_speedup], [r["auc"]] * 2,
                         color="darkorange", lw=0.8, alpha=0.6)
        axes[0].plot([], [], color="darkorange", lw=0.8, label="float32 latency ÷ 1.6")
        axes[0].legend(loc="upper left", fontsize=9)
    if not d["quiet"].all():
        axes[0].set_title(f"{int((~d['quiet']).sum())} of {len(d)} latencies timed while the "
                          "training sweep shared the CPU", fontsize=9)
    axes[1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)
    return fig


def mismatch_heatmap(df: pd.DataFrame, models: Iterable[str]):
    """Train × test resolution AUC heatmap per model (diagonal = trained size)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    models = [m for m in models if (df["model"] == m).any()]
    fig, axes = plt.subplots(1, len(models), figsize=(5.2 * len(models), 4.2), squeeze=False,
                             layout="constrained")
    for ax, m in zip(axes[0], models, strict=True):
        mat = mismatch_matrix(df, m)
        sns.heatmap(mat, annot=True, fmt=".3f", cmap="viridis", cbar_kws={"label": "test AUC"},
                    ax=ax, square=True, vmin=float(df["auc"].min()), vmax=float(df["auc"].max()))
        for i, tr in enumerate(mat.index):
            if tr in list(mat.columns):
                j = list(mat.columns).index(tr)
                ax.add_patch(plt.Rectangle((j, i), 1, 1, fill=False, ec="white", lw=2.5))
        ax.set_title(f"{MODEL_LABELS.get(m, m)} (frozen, native, seed 0)")
        ax.set_xlabel("test-time input size (px)")
        ax.set_ylabel("trained at (px)")
    return fig


# --------------------------------------------------------------------------- chapter tables
def _labels(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(Model=[MODEL_LABELS.get(m, m) for m in df["model"]], px=df["resolution"],
                     format=df["format"].map(FORMAT_LABEL))


def int8_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per model × resolution: full-int8 size, float32 and int8 AUC, ΔAUC [95 % CI], its p raw
    and Holm-adjusted over the int8 family, and the verdict (:func:`int8_tests`)."""
    d = _labels(int8_tests(df))
    return pd.DataFrame({
        "Model": d["Model"], "px": d["px"], "int8 MB": d["size_mb"].map("{:.2f}".format),
        "AUC float": d["keras_auc"].map("{:.3f}".format), "AUC int8": d["auc"].map("{:.3f}".format),
        "ΔAUC [95 % CI]": [ci_text(*v) for v in d[["delta_auc", "delta_lo", "delta_hi"]].values],
        "p": d["delta_p"].map(format_p), "p (Holm)": d["p_holm"].map(format_p),
        f"verdict (±{MARGIN_AUC:g})": d["verdict"]})


def kept_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per kept (fine-tuned or Part II) run: data, regime, the Keras model's AUC, and the ΔAUC
    of its float32 file and of its full-int8 file against it [95 % CI] (deployment chapter).

    A bf16-trained model is exported through a float32 twin (:func:`helpers.deploy.export.
    float32_copy`), so its float32 file's ΔAUC is what the change of arithmetic costs.
    """
    keys = ["run_id"]
    f32 = df[df["format"] == "float32"].set_index(keys)
    d = _labels(df[df["format"] == "int8"]).sort_values(["dataset", "model", "regime",
                                                          "resolution", "seed"])
    f = f32.reindex(d["run_id"])
    logit = df[df["format"] == "int8_logit"].set_index(keys).reindex(d["run_id"])
    extra = {}
    if logit["delta_auc"].notna().any():  # the logit-out int8 file, where it was made
        extra["ΔAUC int8, logit out"] = [
            ci_text(*v)
            for v in logit[["delta_auc", "delta_lo", "delta_hi"]].values]
    return pd.DataFrame({
        "Model": [f"{m}, {r}, {pp}" + (", bf16" if pr == "mixed_bfloat16" else "")
                  for m, r, pp, pr in zip(d["Model"], d["regime"], d["preprocessing"],
                                          d["precision"], strict=True)],
        "data": [f"{a}/{b}" for a, b in zip(d["dataset"], d["task"], strict=True)],
        "px · seed": [f"{x} · {s}" for x, s in zip(d["px"], d["seed"], strict=True)],
        "AUC Keras": d["keras_auc"].map("{:.3f}".format).tolist(),
        "ΔAUC float32 file": [ci_text(*v)
                              for v in f[["delta_auc", "delta_lo", "delta_hi"]].values],
        "ΔAUC int8 [95 % CI]": [ci_text(*v) for v in
                                d[["delta_auc", "delta_lo", "delta_hi"]].values],
        "p (int8)": d["delta_p"].map(format_p).tolist(), **extra})






def saturation_values(sat: pd.DataFrame, frozen: pd.DataFrame) -> dict[str, float]:
    """Numbers the deployment chapter glues from :func:`int8_saturation` (NaN where a table is empty).

    From ``sat`` (the fine-tuned networks): the min/max (``_min``, ``_max``) of
    ``sat_share``, ``sat_auc_f32``, ``sat_auc_grid``, ``sat_auc_int8`` and ``sat_auc_logit``;
    from ``frozen`` (the frozen models): ``sat_frozen_max`` (largest saturated share) and
    ``sat_frozen_grid_cost_max`` (largest |AUC change| from the 1/256 grid alone).
    """
    nan = float("nan")
    out: dict[str, float] = {}
    for key, col in (("sat_share", "saturated"), ("sat_auc_f32", "auc_float32"),
                     ("sat_auc_grid", "auc_float32_on_int8_grid"), ("sat_auc_int8", "auc_int8"),
                     ("sat_auc_logit", "auc_int8_logit")):
        vals = sat[col].astype(float) if len(sat) else pd.Series(dtype=float)
        out[f"{key}_min"] = float(vals.min()) if len(vals) else nan
        out[f"{key}_max"] = float(vals.max()) if len(vals) else nan
    out["sat_frozen_max"] = float(frozen["saturated"].max()) if len(frozen) else nan
    out["sat_frozen_grid_cost_max"] = (
        float((frozen["auc_float32"] - frozen["auc_float32_on_int8_grid"]).abs().max())
        if len(frozen) else nan)
    return out


def saturation_table(sat: pd.DataFrame) -> pd.DataFrame:
    """:func:`int8_saturation` for the page: short labels, shares in %, AUCs to 3 decimals."""
    return pd.DataFrame({
        "model · data": [f"{MODEL_LABELS.get(m, m)} {r} px, {d}" for m, r, d in
                         zip(sat["model"], sat["resolution"], sat["dataset"], strict=True)],
        "seed": sat["seed"],
        "saturated": sat["saturated"].map("{:.0%}".format),
        "AUC float32": sat["auc_float32"].map("{:.3f}".format),
        "on int8 grid": sat["auc_float32_on_int8_grid"].map("{:.3f}".format),
        "int8": sat["auc_int8"].map("{:.3f}".format),
        "int8, logit out": sat["auc_int8_logit"].map(
            lambda v: MISSING if not np.isfinite(v) else f"{v:.3f}")})


def size_accuracy_table(df: pd.DataFrame) -> pd.DataFrame:
    """Every record: size, AUC [CI], ΔAUC vs Keras float [CI], share of same labels at 0.5."""
    d = _labels(df)
    return pd.DataFrame({
        "Model": d["Model"], "px": d["px"], "format": d["format"],
        "MB": d["size_mb"].map("{:.2f}".format),
        "AUC [95 % CI]": [f"{a:.3f} [{lo:.3f}, {hi:.3f}]"
                          for a, lo, hi in d[["auc", "auc_lo", "auc_hi"]].values],
        "ΔAUC [95 % CI]": [ci_text(*v) for v in d[["delta_auc", "delta_lo", "delta_hi"]].values],
        "same label": d["agreement"].map("{:.1%}".format)})


def latency_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per model × resolution: 1-thread median latency (ms) of each format, int8 speed-up."""
    wide = df.pivot_table(index=["model", "resolution"], columns="format", values="lat1_ms")
    wide = wide.reindex(columns=[f for f in FORMAT_ORDER if f in wide.columns]).reset_index()
    out = pd.DataFrame({"Model": wide["model"].map(MODEL_LABELS), "px": wide["resolution"]})
    short = {"dynamic_int8": "dyn. int8"}
    for f in FORMAT_ORDER:
        if f in wide:
            out[short.get(f, f)] = wide[f].map("{:.2f}".format)
    if {"float32", "int8"} <= set(wide.columns):
        out["int8 speed-up"] = (wide["float32"] / wide["int8"]).map("{:.1f}×".format)
    return out


def latency_full(df: pd.DataFrame) -> pd.DataFrame:
    """Every record: 1-thread median and p90, all-threads median, memory, quiet or not."""
    d = _labels(df)
    return pd.DataFrame({
        "Model": d["Model"], "px": d["px"], "format": d["format"],
        "1T median ms": d["lat1_ms"].map("{:.2f}".format),
        "1T p90 ms": d["lat1_p90_ms"].map("{:.2f}".format),
        "all-T ms": d["latall_ms"].map("{:.2f}".format) + " (" + d["threads_all"].astype(str)
        + "T)",
        "quiet": d["quiet"].map({True: "yes", False: "no"})})


def density_table(df: pd.DataFrame, paper: Mapping[str, float]) -> pd.DataFrame:
    """Accuracy points per MB for float32 and int8, beside the paper's float density (128 px)."""
    d = _labels(df[df["format"].isin(["float32", "int8"])])
    paper_col = [paper.get(m, np.nan) if r == 128 and f == "float32" else np.nan
                 for m, r, f in d[["Model", "px", "format"]].values]
    return pd.DataFrame({
        "Model": d["Model"], "px": d["px"], "format": d["format"],
        "Acc. %": d["accuracy_pct"].map("{:.1f}".format), "MB": d["size_mb"].map("{:.2f}".format),
        "Acc./MB": d["acc_per_mb"].map("{:.2f}".format),
        "paper Acc./MB": pd.Series(paper_col, index=d.index).map(
            lambda v: "" if np.isnan(v) else f"{v:.2f}")})


def per_ms_table(df: pd.DataFrame) -> pd.DataFrame:
    """Accuracy points per millisecond (1 thread), float32 and int8."""
    wide = df.pivot_table(index=["model", "resolution"], columns="format", values="acc_per_ms")
    wide = wide.reset_index()
    out = pd.DataFrame({"Model": wide["model"].map(MODEL_LABELS), "px": wide["resolution"]})
    for f in ("float32", "int8"):
        if f in wide:
            out[f"{f} Acc./ms"] = wide[f].map("{:.1f}".format)
    return out


def delegation_table(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """XNNPACK partitions and operators left outside, per model × format (sizes that agree merged)."""
    rows = []
    for r in records:
        dg = r.get("delegation")
        if not dg:
            continue
        fmt = lambda c: ", ".join(f"{n} {op}" for op, n in sorted(c.items())) or "none"  # noqa: E731
        rows.append({"Model": MODEL_LABELS.get(r["params"]["model"], r["params"]["model"]),
                     "px": int(r["params"]["resolution"]),
                     "format": FORMAT_LABEL.get(r["format"], r["format"]),
                     "partitions": dg["partitions"],
                     "outside XNNPACK": fmt(dg["outside_delegate"]),
                     "int8 weights, float input": fmt(dg["int8_weight_ops"])})
    if not rows:
        return pd.DataFrame(rows)
    d = pd.DataFrame(rows)
    d["order"] = d["format"].map({FORMAT_LABEL[f]: i for i, f in enumerate(FORMAT_ORDER)})
    keys = ["Model", "order", "format", "partitions", "outside XNNPACK",
            "int8 weights, float input"]
    g = d.groupby(keys, sort=True)["px"].agg(lambda v: ", ".join(str(x) for x in sorted(v)))
    g = g.reset_index().drop(columns="order")
    return g[["Model", "px", *[k for k in keys if k not in ("Model", "order")]]]


def mismatch_table(mdf: pd.DataFrame) -> pd.DataFrame:
    """Long mismatch table: trained and tested size, AUC [CI], ΔAUC vs trained size [CI], p."""
    return pd.DataFrame({
        "Model": mdf["model"].map(MODEL_LABELS), "trained px": mdf["train_res"],
        "tested px": mdf["eval_res"],
        "AUC [95 % CI]": [f"{a:.3f} [{lo:.3f}, {hi:.3f}]"
                          for a, lo, hi in mdf[["auc", "auc_lo", "auc_hi"]].values],
        "ΔAUC vs trained [95 % CI]": [ci_text(*v) for v in
                                      mdf[["delta_auc", "delta_lo", "delta_hi"]].values],
        "p": mdf["p"].map(format_p)})




def chapter_numbers(df: pd.DataFrame, mdf: pd.DataFrame, claim_ms: float = 50.0,
                    val_auc: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The numbers the deployment chapter's prose cites (glued); NaN where records are missing.

    ``val_auc`` (run id → validation AUC) chooses the model to ship (``rec_*``); the int8
    family's tests (``int8_n_sig`` raw, ``int8_n_sig_holm`` after Holm, ``int8_n_equiv`` within
    ±``int8_margin``, ``int8_n_inconclusive``) come from :func:`int8_tests`."""
    nan = float("nan")
    sp = speedups(df) if not df.empty else pd.DataFrame(columns=["speedup", "shrink"])
    q = df[df["format"] == "int8"]
    sig = q[(q["delta_hi"] < 0) | (q["delta_lo"] > 0)]
    tests = int8_tests(df) if len(q) else q.assign(p_holm=[], verdict=[])
    dyn = speedups(df, "dynamic_int8") if not df.empty else pd.DataFrame(columns=["speedup"])
    mob = dyn[dyn["model"] == "mobilenet"]["speedup"] if len(dyn) else pd.Series(dtype=float)
    v: dict[str, Any] = {
        "n_records": len(df), "n_quiet": int(df["quiet"].sum()) if len(df) else 0,
        "n_configs": len(df.groupby(["model", "resolution"])) if len(df) else 0,
        "int8_speedup_min": float(sp["speedup"].min()) if len(sp) else nan,
        "int8_speedup_max": float(sp["speedup"].max()) if len(sp) else nan,
        "int8_shrink": float(sp["shrink"].median()) if len(sp) else nan,
        "int8_max_abs_delta": float(q["delta_auc"].abs().max()) if len(q) else nan,
        "int8_n": len(q), "int8_n_sig": len(sig),
        "int8_n_sig_holm": int(tests["verdict"].isin(["lower", "higher"]).sum()),
        "int8_n_equiv": int((tests["verdict"] == "equivalent").sum()),
        "int8_n_inconclusive": int((tests["verdict"] == "inconclusive").sum()),
        "int8_margin": MARGIN_AUC,
        "dyn_over_float_mobilenet": float((1 / mob).median()) if len(mob) else nan,
        "dyn_over_float_resnet50": float((1 / dyn[dyn["model"] == "resnet50"]["speedup"])
                                         .median()) if len(dyn) else nan,
        "n_under_claim": int((df["lat1_ms"] <= claim_ms).sum()) if len(df) else 0,
        "slowest_ms": float(df["lat1_ms"].max()) if len(df) else nan,
        "n_test": int(df["n_test"].max()) if len(df) else 0,
        "n_rep": int(q["n_rep"].max()) if len(q) else 0,
        "retrain_max_dp": float(df["retrain_max_dp"].max()) if len(df) else nan,
        "float32_max_dp": float(df.loc[df["format"] == "float32", "max_abs_dp"].max()),
        "float16_max_dp": float(df.loc[df["format"] == "float16", "max_abs_dp"].max()),
        "cpu": ", ".join(sorted({str(c) for c in df["cpu"]})) if len(df) else "",
    }
    rec = recommend(df, val_auc, claim_ms) if len(df) and val_auc else None
    v.update(rec_model=MODEL_LABELS.get(rec["model"], "none") if rec is not None else "none",
             rec_px=int(rec["resolution"]) if rec is not None else 0,
             rec_auc=float(rec["auc"]) if rec is not None else nan,
             rec_val_auc=float(rec["val_auc"]) if rec is not None else nan,
             rec_ms=float(rec["lat1_ms"]) if rec is not None else nan,
             rec_mb=float(rec["size_mb"]) if rec is not None else nan)
    off = mdf[mdf["train_res"] != mdf["eval_res"]] if len(mdf) else mdf
    v.update(mm_n_trained=int(mdf["train_res"].nunique()) if len(mdf) else 0,
             mm_mean_off=float(off["delta_auc"].mean()) if len(off) else nan,
             mm_worst_off=float(off["delta_auc"].min()) if len(off) else nan,
             mm_n_off_better=int(((off["delta_lo"] > 0)).sum()) if len(off) else 0,
             mm_n_off_worse=int(((off["delta_hi"] < 0)).sum()) if len(off) else 0,
             mm_n_off=len(off))
    up = off[off["eval_res"] > off["train_res"]] if len(off) else off
    down = off[off["eval_res"] < off["train_res"]] if len(off) else off
    v.update(mm_up_mean=float(up["delta_auc"].mean()) if len(up) else nan,
             mm_up_best=float(up["delta_auc"].max()) if len(up) else nan,
             mm_up_n_better=int((up["delta_lo"] > 0).sum()) if len(up) else 0,
             mm_up_n=len(up),
             mm_down_mean=float(down["delta_auc"].mean()) if len(down) else nan,
             mm_down_worst=float(down["delta_auc"].min()) if len(down) else nan,
             mm_down_n_worse=int((down["delta_hi"] < 0).sum()) if len(down) else 0,
             mm_down_n=len(down))
    for m in ("mobilenet", "resnet50"):
        v[f"mm_rows_{m}"] = int(mdf.loc[mdf["model"] == m, "train_res"].nunique()) if len(mdf) else 0
    for tr, ev in ((224, 256), (256, 224)):  # MobileNet's neighbouring large sizes
        cell = mdf[(mdf["model"] == "mobilenet") & (mdf["train_res"] == tr)
                   & (mdf["eval_res"] == ev)] if len(mdf) else mdf
        v[f"mm_{tr}_{ev}"] = float(cell["delta_auc"].iloc[0]) if len(cell) else nan
        v[f"mm_{tr}_{ev}_p"] = float(cell["p"].iloc[0]) if len(cell) else nan
    return v
