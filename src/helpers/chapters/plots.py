"""Seaborn figures of the results chapter, one function per figure, each returning a Figure.

Inputs are the frames of :mod:`helpers.chapters.results` (runs from ``load_runs`` or the tables built from
them), so every mark on a figure comes from run records. Colours come from seaborn's
colour-blind palette (one fixed colour per model) and a viridis ramp for resolutions.
The book's summary figure is in :mod:`helpers.chapters.summary_figure`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import roc_curve

from helpers.chapters import results
from helpers.chapters.reliability import plot_reliability
from helpers.stats import delong as stats

_MODEL_ORDER = ("mobilenet", "resnet50", "mobilenetv2")  # blue, orange, green


@contextlib.contextmanager
def _theme() -> Iterator[None]:
    with (
        sns.axes_style("whitegrid"),
        sns.plotting_context("notebook", font_scale=1.15),
        sns.color_palette("colorblind"),
    ):
        yield


def model_colors(models: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """A fixed colour-blind-safe colour per model (MobileNet blue, ResNet50 orange) (results chapter)."""
    pal = sns.color_palette("colorblind")
    known = {m: pal[i] for i, m in enumerate(_MODEL_ORDER)}
    extra = [m for m in sorted(set(models)) if m not in known]
    known.update({m: pal[len(_MODEL_ORDER) + i] for i, m in enumerate(extra)})
    return {m: known[m] for m in models}


def resolution_colors(resolutions: Sequence[int]) -> dict[int, tuple[float, float, float]]:
    """Viridis colours from low to high resolution (results chapter)."""
    res = sorted(set(int(r) for r in resolutions))
    pal = sns.color_palette("viridis", n_colors=max(len(res), 1))
    return dict(zip(res, pal, strict=True))


def _models(df: pd.DataFrame) -> list[str]:
    present = list(dict.fromkeys(df["model"]))
    return sorted(present, key=lambda m: (_MODEL_ORDER.index(m) if m in _MODEL_ORDER else 99, m))


def select(
    df: pd.DataFrame, variant: Mapping[str, Any] | None = None, allow: Sequence[str] = ()
) -> pd.DataFrame:
    """Rows matching ``variant`` (e.g. ``{"preprocessing": "unit"}``); one set-up per model (results chapter).

    Raises a ValueError naming the varying parameters when several set-ups would be mixed,
    except those in ``allow`` (a figure that tells them apart itself).
    """
    out = df
    for key, value in (variant or {}).items():
        if key not in out:
            raise KeyError(f"no column {key!r} to select on; columns: {list(out.columns)}")
        missing = value is None or (pd.api.types.is_scalar(value) and pd.isna(value))
        out = out[out[key].isna()] if missing else out[out[key] == value]
    if out.empty:
        raise ValueError(f"no rows match {dict(variant or {})}")
    varying = [
        c
        for c in results.PARAM_KEYS
        if c not in ("model", "resolution", "seed", *allow)
        and c in out
        and out[c].astype(str).nunique() > 1
    ]
    if varying:
        raise ValueError(
            f"the rows mix set-ups that differ in {varying}: pass variant={{...}} choosing one "
            f"value of each (present: { {c: sorted(out[c].astype(str).unique()) for c in varying} })"
        )
    return out


def _panels(n: int, width: float = 5.2, height: float = 4.4) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False, layout="constrained")
    return fig, axes[0]


def confusion_matrices(
    df: pd.DataFrame,
    resolution: int = 128,
    class_names: Sequence[str] | None = None,
    split: str = "test",
    variant: Mapping[str, Any] | None = None,
) -> Figure:
    """Confusion matrix per model at one resolution, mean counts over seeds (Figs 2–3, the results chapter).

    Rows are true classes, columns predicted ones; counts are the records' metrics (tn, fp, fn, tp).
    """
    if not (df["resolution"] == resolution).any():
        present = sorted(df["resolution"].unique().tolist())
        raise ValueError(f"no runs at {resolution} px; resolutions present: {present}")
    runs = select(df[df["resolution"] == resolution], variant)
    models = _models(runs)
    if class_names is None:  # from the records (data.class_names), else neutral names
        stored = runs["class_names"].dropna().unique() if "class_names" in runs else []
        class_names = str(stored[0]).split(" | ") if len(stored) == 1 else ("class 0", "class 1")
    with _theme():
        fig, axes = _panels(len(models), width=4.6, height=4.2)
        for ax, model in zip(axes, models, strict=True):
            sub = runs[runs["model"] == model]
            cols = [f"{split}_{k}" for k in ("tn", "fp", "fn", "tp")]
            tn, fp, fn, tp = sub[cols].astype(float).mean().to_numpy()
            counts = np.array([[tn, fp], [fn, tp]])
            fmt = ".0f" if len(sub) == 1 else ".1f"
            sns.heatmap(
                counts,
                annot=True,
                fmt=fmt,
                cmap="Blues",
                cbar=False,
                square=True,
                xticklabels=class_names,
                yticklabels=class_names,
                annot_kws={"size": 15},
                ax=ax,
            )
            seeds = f"mean of {len(sub)} seeds" if len(sub) > 1 else "1 seed"
            ax.set_title(f"{results.model_label(model)}, {resolution} px ({seeds})")
            ax.set_xlabel("Predicted class")
            ax.set_ylabel("True class")
    return fig


def roc_curves(
    df: pd.DataFrame, split: str = "test", variant: Mapping[str, Any] | None = None
) -> Figure:
    """ROC curve per resolution from seed-averaged probabilities, one panel per model (Fig 7, the results chapter)."""
    runs = select(df, variant)
    models = _models(runs)
    colors = resolution_colors(runs["resolution"].tolist())
    with _theme():
        fig, axes = _panels(len(models))
        for ax, model in zip(axes, models, strict=True):
            sub = runs[runs["model"] == model]
            for res, group in sub.groupby("resolution", sort=True):
                _, labels, probs = results.align_predictions(group, split)
                mean = probs.mean(axis=0)
                fpr, tpr, _ = roc_curve(labels, mean)
                auc, _ = stats.fast_delong(labels, mean)
                ax.plot(fpr, tpr, color=colors[int(res)], lw=2, label=f"{res} px (AUC {auc:.3f})")
            ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1, label="chance")
            ax.set(
                xlim=(0, 1),
                ylim=(0, 1.01),
                xlabel="False positive rate (1 − specificity)",
                ylabel="True positive rate (sensitivity)",
                title=f"{results.model_label(model)} ({split}, seed-averaged)",
            )
            ax.set_aspect("equal")
            ax.legend(loc="lower right", fontsize="small")
    return fig


def validation_loss(df: pd.DataFrame, variant: Mapping[str, Any] | None = None) -> Figure:
    """Validation loss per epoch for each resolution, mean ± SD over seeds (Fig 5, the results chapter)."""
    runs = select(df, variant)
    hist = results.history_long(runs)
    models = _models(runs)
    colors = resolution_colors(hist["resolution"].tolist())
    with _theme():
        fig, axes = _panels(len(models))
        for ax, model in zip(axes, models, strict=True):
            sub = hist[hist["model"] == model].copy()
            sub["resolution"] = sub["resolution"].astype(int)
            sns.lineplot(
                data=sub,
                x="epoch",
                y="val_loss",
                hue="resolution",
                palette=colors,
                errorbar="sd",
                marker="o",
                ax=ax,
            )
            ax.set(
                xlabel="Epoch",
                ylabel="Validation loss (binary cross-entropy)",
                title=results.model_label(model),
            )
            ax.legend(title="Input (px)", fontsize="small")
    return fig


def training_accuracy(
    df: pd.DataFrame, resolution: int, variant: Mapping[str, Any] | None = None
) -> Figure:
    """Training accuracy per epoch, one line per seed, against the majority-class share (results chapter).

    One panel per model at ``resolution``; colour tells the preprocessing apart when both were
    run. The dashed line is the accuracy of always answering the majority class. Where a size
    was run in both precisions (a bf16 parity cell), the float32 runs are drawn unless
    ``variant`` names a precision.
    """
    # the size first: other sizes may have been trained in another precision (bf16)
    at_size = df[df["resolution"].astype(int) == int(resolution)]
    if ("precision" in at_size and at_size["precision"].astype(str).nunique() > 1
            and "precision" not in (variant or {})):
        at_size = at_size[at_size["precision"].fillna("float32") == "float32"]
    runs = select(at_size if not at_size.empty else df, variant, allow=("preprocessing",))
    runs = runs[runs["resolution"].astype(int) == int(resolution)]
    if runs.empty:
        raise ValueError(f"no runs at {resolution} px for {dict(variant or {})}")
    hist = results.history_long(runs)
    if "accuracy" not in hist:
        raise ValueError("the records' histories have no training accuracy")
    hue = "preprocessing" if "preprocessing" in hist else None  # a column only when it varies
    low = min(0.7, float(hist["accuracy"].min()) - 0.02)
    models = _models(runs)
    with _theme():
        fig, axes = _panels(len(models))
        for ax, model in zip(axes, models, strict=True):
            sub = hist[hist["model"] == model]
            sns.lineplot(
                data=sub,
                x="epoch",
                y="accuracy",
                hue=hue,
                units="seed",
                estimator=None,
                marker=".",
                ax=ax,
            )
            share = runs.loc[runs["model"] == model, "train_majority_share"].dropna()
            if len(share):
                ax.axhline(float(share.iloc[0]), color="0.3", linestyle="--", linewidth=1,
                           label="majority class share")
            ax.set(
                xlabel="Epoch",
                ylabel="Training accuracy (running, dropout on)",
                title=f"{results.model_label(model)}, {int(resolution)} px",
                ylim=(low, 1.01),
            )
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(fontsize="small")
    return fig


def accuracy_vs_resolution(
    table: pd.DataFrame,
    metric: str = "accuracy",
    paper: pd.DataFrame | None = None,
    variant: Mapping[str, Any] | None = None,
) -> Figure:
    """Metric vs input size per model with 95 % CI error bars over seeds (Fig 6, the results chapter).

    ``table`` is :func:`helpers.chapters.results.table_one`; ``paper`` (optional) is
    :func:`helpers.chapters.results.paper_table_one`, drawn dashed for comparison.
    """
    rows = select(table, variant)
    scale = 100.0 if metric in results.PERCENT_METRICS else 1.0
    colors = model_colors(_models(rows))
    with _theme():
        fig, ax = plt.subplots(figsize=(7.0, 4.8), layout="constrained")
        for model in _models(rows):
            sub = rows[rows["model"] == model].sort_values("resolution")
            y = sub[metric].to_numpy() * scale
            lo = sub[f"{metric}_lo"].to_numpy() * scale
            hi = sub[f"{metric}_hi"].to_numpy() * scale
            err = np.vstack([y - lo, hi - y])
            err = None if np.isnan(err).all() else np.nan_to_num(err)
            n = int(sub["n_seeds"].min())
            ax.errorbar(
                sub["resolution"],
                y,
                yerr=err,
                color=colors[model],
                marker="o",
                lw=2,
                capsize=4,
                label=f"{results.model_label(model)} (ours, n={n} seeds)",
            )
            if paper is not None and model in set(paper["model"]):
                ref = paper[paper["model"] == model].sort_values("resolution")
                ax.plot(
                    ref["resolution"],
                    ref[metric] * scale,
                    color=colors[model],
                    ls="--",
                    marker="x",
                    alpha=0.8,
                    label=f"{results.model_label(model)} (paper, Acne vs Normal)",
                )
        ax.set_xticks(sorted(rows["resolution"].unique()))
        ax.set(
            xlabel="Input image size (px per side)",
            ylabel=results.METRIC_LABELS[metric],
            title=f"{results.METRIC_LABELS[metric].split(' (')[0]} vs input size (mean, 95 % CI)",
        )
        ax.legend(fontsize="small")
    return fig


def auc_vs_resolution(tests: pd.DataFrame, variant: Mapping[str, Any] | None = None) -> Figure:
    """Seed-averaged AUC ± DeLong SD vs input size, best resolution ringed (results chapter).

    ``tests`` is :func:`helpers.chapters.results.resolution_tests` (Sabottke & Spieler's Fig 2 style).
    """
    rows = select(tests, variant)
    colors = model_colors(_models(rows))
    with _theme():
        fig, ax = plt.subplots(figsize=(7.0, 4.8), layout="constrained")
        for model in _models(rows):
            sub = rows[rows["model"] == model].sort_values("resolution")
            ax.errorbar(
                sub["resolution"],
                sub["auc"],
                yerr=sub["auc_sd"],
                color=colors[model],
                marker="o",
                lw=2,
                capsize=4,
                label=results.model_label(model),
            )
            best = sub[sub["resolution"] == sub["best_resolution"]]
            ax.scatter(best["resolution"], best["auc"], s=220, facecolors="none", edgecolors="k")
        ax.set_xticks(sorted(rows["resolution"].unique()))
        ax.set(
            xlabel="Input image size (px per side)",
            ylabel="AUC (seed-averaged, ± DeLong SD)",
            title="AUC vs input size (ring: best resolution)",
        )
        ax.legend(fontsize="small")
    return fig


















def model_size(table2: pd.DataFrame, variant: Mapping[str, Any] | None = None) -> Figure:
    """Stored model size (MB) per model (Fig 8, the results chapter); ``table2`` from ``table_two``."""
    rows = select(table2, variant)
    sizes = rows.groupby("model")["model_size_mb"].mean()
    models = _models(rows)
    colors = model_colors(models)
    with _theme():
        fig, ax = plt.subplots(figsize=(5.5, 4.4), layout="constrained")
        labels = [results.model_label(m) for m in models]
        bars = ax.bar(labels, [sizes[m] for m in models], color=[colors[m] for m in models])
        ax.bar_label(bars, fmt="%.1f MB", padding=3)
        ax.set(ylabel="Model size (MB, float32 weights)", xlabel="Model", title="Model size")
        ax.margins(y=0.15)
    return fig


def efficiency(table2: pd.DataFrame, variant: Mapping[str, Any] | None = None) -> Figure:
    """Accuracy vs model size (MB) and vs compute (GFLOPs) per model × resolution (Fig 4, the results chapter)."""
    rows = select(table2, variant).copy()
    models = _models(rows)
    colors = model_colors(models)
    rows["Model"] = rows["model"].map(results.model_label)
    rows["Input (px)"] = rows["resolution"].astype(int)
    palette = {results.model_label(m): colors[m] for m in models}
    with _theme():
        fig, axes = _panels(2, width=5.6, height=4.6)
        for ax, x, xlabel in (
            (axes[0], "model_size_mb", "Model size (MB)"),
            (axes[1], "gflops", "Compute per image (GFLOPs, log scale)"),
        ):
            sns.scatterplot(
                data=rows,
                x=x,
                y="accuracy_pct",
                hue="Model",
                size="Input (px)",
                sizes=(40, 260),
                palette=palette,
                ax=ax,
            )
            ax.set(xlabel=xlabel, ylabel="Accuracy (%)")
        axes[1].set_xscale("log")
        axes[0].set_title("Accuracy vs storage")
        axes[1].set_title("Accuracy vs compute")
        axes[0].legend_.remove()
        axes[1].legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))
    return fig


def reliability(runs: pd.DataFrame, cells: pd.DataFrame, n_bins: int = 10) -> Figure:
    """Reliability diagrams, one panel per regime, one line per model × preprocessing (results chapter).

    ``cells``: the configurations to draw (rows with model, resolution and set-up columns, e.g.
    each family's best input size); every seed's test predictions are pooled, quantile bins.
    """
    from helpers.analysis import clinical

    keys = [k for k in ("model", "resolution", "regime", "preprocessing", "precision") if k in cells]
    regimes = sorted(cells["regime"].unique()) if "regime" in cells else [None]
    colors = model_colors(_models(cells))
    with _theme():
        fig, axes = _panels(len(regimes), width=4.6, height=4.6)
        for ax, regime in zip(axes, regimes, strict=True):
            sub = cells if regime is None else cells[cells["regime"] == regime]
            for _, row in sub.iterrows():
                table = clinical.pooled_reliability(runs, {k: row[k] for k in keys}, n_bins)
                obs = table["observed_rate"]  # Wilson ends can miss the rate by rounding
                table = table.assign(ci_low=np.minimum(table["ci_low"], obs),
                                     ci_high=np.maximum(table["ci_high"], obs))  # fmt: skip
                native = row.get("preprocessing") == "native"
                label = f"{results.model_label(row['model'])} {int(row['resolution'])} px " + (
                    str(row.get("preprocessing", "")))  # fmt: skip
                plot_reliability(ax, table, label=label, color=colors[row["model"]],
                                             fmt="o--" if native else "o-")  # fmt: skip
            ax.set_title(f"regime: {regime}" if regime is not None else "reliability")
            ax.legend(fontsize="x-small", loc="upper left", frameon=False)
    return fig
