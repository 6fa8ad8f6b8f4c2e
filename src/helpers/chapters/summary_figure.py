"""The book's one summary figure: AUC against input size per network and regime, the paper's
numbers marked (results chapter; the landing page pastes it from there).

:func:`auc_vs_size_points` takes Table I; :func:`auc_vs_size` draws it; :func:`auc_vs_size_alt`
writes its alt text in words; :class:`AltFigure` glues the figure with that alt text.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from helpers.chapters import results
from helpers.chapters.plots import _models, _theme, model_colors, select

_REGIME_TITLES = {"frozen": "Frozen ImageNet base", "full": "Every layer fine-tuned"}


_PREP_STYLE = {"unit": ("-", "o", "[0, 1] inputs"), "native": ("--", "s", "native inputs")}


def auc_vs_size_points(table1: pd.DataFrame) -> pd.DataFrame:
    """Table I's seed-mean AUC and 95 % interval per model × regime × preprocessing × size (results chapter).

    ``table1`` is :func:`helpers.chapters.results.table_one`. Where a cell was run in float32 and in bf16
    (the bf16-parity appendix's parity cells) the float32 row is kept; a cell run only in bf16 keeps its bf16
    row, and its ``precision`` says so. A parameter the table does not vary has no column there:
    its value is then ``""`` (one panel, one line per model). Raises a ValueError (from :func:`select`) when another
    parameter than these varies.
    """
    rows = select(table1, allow=("regime", "preprocessing", "precision")).copy()
    for key, default in (("regime", ""), ("preprocessing", ""), ("precision", "float32")):
        rows[key] = rows[key].fillna(default) if key in rows else default
    rows["_bf16"] = rows["precision"] != "float32"
    keys = ["model", "regime", "preprocessing", "resolution"]
    rows = rows.sort_values([*keys, "_bf16"]).drop_duplicates(keys).drop(columns="_bf16")
    cols = [*keys, "precision", "n_seeds", "auc", "auc_lo", "auc_hi"]
    return rows[cols].reset_index(drop=True)


def auc_vs_size_values(points: pd.DataFrame) -> dict[str, float | int]:
    """Glue values of the summary figure: ``fig_auc_<regime>_<model>_<prep>[_bf16]_<px>`` with
    ``_lo``, ``_hi`` and ``_n_seeds`` (the intro's findings quote them; the results chapter)."""
    out: dict[str, float | int] = {}
    for r in points.itertuples():
        tag = "" if r.precision == "float32" else "bf16"
        parts = ("fig_auc", r.regime, r.model, r.preprocessing, tag, str(int(r.resolution)))
        name = "_".join(p for p in parts if p)
        out |= {name: r.auc, f"{name}_lo": r.auc_lo, f"{name}_hi": r.auc_hi,
                f"{name}_n_seeds": int(r.n_seeds)}  # fmt: skip
    return out


def auc_vs_size(
    points: pd.DataFrame, paper: pd.DataFrame | None = None, paper_regime: str = "full"
) -> Figure:
    """AUC vs input size, one panel per regime, one line per network × preprocessing (results chapter).

    ``points`` from :func:`auc_vs_size_points`: seed-mean AUC with its 95 % OR–Hillis interval;
    colour = network, line style and marker = preprocessing (so colour is never the only cue),
    hollow marker = a bf16 cell. ``paper`` (:func:`helpers.chapters.results.paper_table_one`) is marked
    with crosses in the ``paper_regime`` panel, the regime the paper trained in.
    """
    regimes = [r for r in ("frozen", "full") if r in set(points["regime"])] or sorted(
        set(points["regime"]))
    models = _models(points)
    colors = model_colors(models)
    known = list(_PREP_STYLE)  # the paper's [0, 1] inputs first
    preps = sorted(set(points["preprocessing"]),
                   key=lambda p: (known.index(p) if p in known else len(known), p))
    with _theme():
        fig, axes = plt.subplots(1, len(regimes), figsize=(4.0 * len(regimes), 4.4), sharey=True,
                                 squeeze=False, layout="constrained")  # fmt: skip
        for ax, regime in zip(axes[0], regimes, strict=True):
            for model in models:
                for i, prep in enumerate(preps):
                    ls, marker, prep_label = _PREP_STYLE.get(prep, ("-.", "D", prep))
                    _auc_line(ax, points, (regime, model, prep), colors[model], (ls, marker),
                              f"{results.model_label(model)}, {prep_label}",
                              offset=6.0 * (i - (len(preps) - 1) / 2))  # fmt: skip
                if paper is not None and regime == paper_regime and model in set(paper["model"]):
                    ref = paper[paper["model"] == model].sort_values("resolution")
                    ax.plot(ref["resolution"], ref["auc"], ls=":", marker="X", ms=9, lw=1.2,
                            color=colors[model], markeredgecolor="k", markeredgewidth=0.6,
                            label=f"{results.model_label(model)}: paper")  # fmt: skip
            ax.axhline(0.5, color="0.4", ls=":", lw=1)
            ax.set_xticks(sorted(points["resolution"].astype(int).unique()))
            ax.set(title=_REGIME_TITLES.get(regime, f"regime: {regime}" if regime else ""),
                   xlabel="Input image size (px per side)")  # fmt: skip
        axes[0][0].set_ylabel("Test AUC (seed mean, 95 % CI)")
        axes[0][0].set_ylim(0.4, 1.0)
        handles, labels, ncol = _auc_vs_size_legend(points, axes[0])
        fig.legend(handles, labels, loc="outside lower center", ncol=ncol, fontsize="small",
                   frameon=False)  # fmt: skip
    return fig


def _auc_vs_size_legend(points: pd.DataFrame, axes: Sequence[Any]) -> tuple[list, list[str], int]:
    """Legend entries, one column per network (its lines, then the paper's), then what a hollow
    marker means; returns (handles, labels, ncol) of the summary figure."""
    found: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(label, handle)
    columns: dict[str, list[str]] = {}
    for label in sorted(found, key=lambda lb: "paper" in lb):
        columns.setdefault(label.split(",")[0].split(":")[0], []).append(label)
    handles = {lb: found[lb] for labels in columns.values() for lb in labels}
    bf16 = points[points["precision"] != "float32"]
    if len(bf16):
        seeds = sorted(set(bf16["n_seeds"].astype(int)))
        n = "–".join(map(str, (seeds[0], seeds[-1]) if len(seeds) > 1 else seeds))
        label = f"hollow: bf16 cell ({n} seed{'s' if seeds[-1] > 1 else ''})"
        handles[label] = plt.Line2D([], [], ls="none", marker="o", ms=7, color="0.3",
                                    markerfacecolor="white", markeredgewidth=1.5)  # fmt: skip
        columns["bf16"] = [label]
    rows = max(len(v) for v in columns.values())
    blank = plt.Line2D([], [], alpha=0)
    out_h, out_l = [], []
    for labels in columns.values():  # pad every column to the same height
        out_h += [handles[lb] for lb in labels] + [blank] * (rows - len(labels))
        out_l += labels + [""] * (rows - len(labels))
    return out_h, out_l, len(columns)


def _auc_line(ax: Any, points: pd.DataFrame, cell: tuple[str, str, str], color: Any,
              style: tuple[str, str], label: str, offset: float) -> None:  # fmt: skip
    """One line of the summary figure: (regime, model, preprocessing), bars shifted by offset."""
    regime, model, prep = cell
    ls, marker = style
    sub = points[(points["regime"] == regime) & (points["model"] == model)
                 & (points["preprocessing"] == prep)].sort_values("resolution")  # fmt: skip
    if sub.empty:
        return
    x = sub["resolution"].to_numpy(float) + offset  # the preprocessings' bars side by side
    y = sub["auc"].to_numpy()
    err = np.vstack([y - sub["auc_lo"].to_numpy(), sub["auc_hi"].to_numpy() - y])
    ax.errorbar(x, y, yerr=err, color=color, ls=ls, lw=1.8, capsize=3, marker="none")
    ax.plot([], [], color=color, ls=ls, lw=1.8, marker=marker, ms=7, label=label)  # legend entry
    bf16 = (sub["precision"] != "float32").to_numpy()
    for hollow in (False, True):
        keep = bf16 == hollow
        ax.plot(x[keep], y[keep], ls="none", marker=marker, ms=7, color=color,
                markerfacecolor="white" if hollow else color, markeredgewidth=1.5)  # fmt: skip


def auc_vs_size_alt(points: pd.DataFrame, paper: pd.DataFrame | None = None) -> str:
    """The summary figure in words (its alt text): every line's AUCs, size by size (results chapter)."""
    parts = ["Test AUC (seed mean) against input size, one panel per training regime."]
    for regime, by_regime in points.groupby("regime", sort=True):
        lines = []
        for (model, prep), sub in by_regime.groupby(["model", "preprocessing"], sort=True):
            sub = sub.sort_values("resolution")
            name = " ".join(filter(None, (results.model_label(model),
                                          _PREP_STYLE.get(prep, ("", "", prep))[2])))  # fmt: skip
            vals = ", ".join(f"{a:.2f} at {int(r)} px"
                             for r, a in zip(sub["resolution"], sub["auc"], strict=True))  # fmt: skip
            lines.append(f"{name}: {vals}")
        title = _REGIME_TITLES.get(regime, f"regime {regime}" if regime else "")
        parts.append((f"{title}: " if title else "") + "; ".join(lines) + ".")
    if paper is not None:
        ref = "; ".join(f"{results.model_label(m)} " + ", ".join(
            f"{a:.2f}" for a in sub.sort_values("resolution")["auc"])
            for m, sub in paper.groupby("model", sort=True))  # fmt: skip
        parts.append(f"The paper's AUCs (Acne vs Normal, fine-tuned), same sizes: {ref}.")
    return " ".join(parts)


class AltFigure:
    """A rendered figure with its alt text in words, for pasting on another page (intro, the results chapter).

    Glued, it carries a 2× PNG and an HTML ``<img>`` of the same PNG with the alt text: a page
    that pastes it from the chapter (``{glue}`` with ``doc::key``) gets the words, not a path.
    """

    def __init__(self, fig: Figure, alt: str, dpi: int = 200) -> None:
        from PIL import Image

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        plt.close(fig)
        buf.seek(0)  # 128 colours, no dithering: a quarter of the bytes, the same picture
        image = Image.open(buf).convert("RGB").quantize(128, Image.Quantize.FASTOCTREE,
                                                        dither=Image.Dither.NONE)  # fmt: skip
        out = io.BytesIO()
        image.save(out, format="png", optimize=True)
        self.png, self.alt = out.getvalue(), alt
        self.width = round(fig.get_figwidth() * 96)  # CSS px: 2× sharp on a high-density screen

    def _repr_png_(self) -> bytes:
        return self.png

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        return (f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.alt)}" '
                f'width="{self.width}" style="max-width: 100%; height: auto;" />')  # fmt: skip

    def __repr__(self) -> str:
        return f"figure: {self.alt[:70]}"
