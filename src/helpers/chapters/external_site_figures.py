"""The figures of the external-site chapter ("Another hospital's images"): AUC by input size, reliability.

Every number comes from :mod:`helpers.analysis.external_site` (the AUC figure draws its
:func:`~helpers.analysis.external_site.site_table`); the reliability figure pools each cell's
seeds (:func:`reliability_by_set`). Seaborn's colour-blind palette, one colour per model as in
the results chapter. Each figure function returns None when there is nothing to draw yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from helpers.analysis.external_site import SETS, cell_keys
from helpers.chapters import reliability
from helpers.runs.frames import model_label
from helpers.stats import calibration


def auc_figure(site: pd.DataFrame, label: str) -> Figure | None:
    """AUC vs input size per network on ISIC test and on the external set, 95 % CIs (external-site chapter).

    One panel per set (rows: regimes); colour = model (colour-blind palette), line style =
    preprocessing. Returns None when there is nothing to draw.
    """
    import matplotlib.pyplot as plt

    from helpers.chapters import plots

    if site.empty:
        return None
    regimes = sorted(map(str, site["regime"].unique()))
    colors = plots.model_colors(sorted(site["model"].unique()))
    styles = dict(zip(sorted(map(str, site["preprocessing"].unique())), ["-", "--", ":", "-."],
                      strict=False))
    with plots._theme():
        fig, axes = plt.subplots(len(regimes), 2, figsize=(9.0, 3.8 * len(regimes)),
                                 sharey=True, squeeze=False, layout="constrained")
        for i, regime in enumerate(regimes):
            for j, split in enumerate(SETS):
                _panel(axes[i, j], site[site["regime"] == regime], split, colors, styles)
                name = "ISIC 2017 test" if split == "test" else label
                axes[i, j].set_title(f"{name} ({regime})", fontsize="medium")
        axes[0, 0].legend(fontsize="x-small", loc="lower right")
    return fig


def _panel(ax: Any, site: pd.DataFrame, split: str, colors: Mapping[str, Any],
           styles: Mapping[str, str]) -> None:
    for (model, prep), sub in site.groupby(["model", "preprocessing"], sort=True):
        sub = sub.sort_values("resolution")
        auc = sub[f"{split}_auc"].to_numpy()
        err = np.vstack([auc - sub[f"{split}_lo"].to_numpy(), sub[f"{split}_hi"].to_numpy() - auc])
        ax.errorbar(sub["resolution"], auc, yerr=err, color=colors[model], ls=styles[str(prep)],
                    marker="o", capsize=3, lw=1.8, label=f"{model_label(model)}, {prep}")
    ax.set_xticks(sorted(site["resolution"].unique()))
    ax.set(xlabel="Input size (px per side)", ylabel="AUC, seed ensemble (95 % CI)")


def reliability_figure(runs: pd.DataFrame, cells: pd.DataFrame, label: str) -> Figure | None:
    """Reliability on ISIC test and the external set, one panel per given cell (external-site chapter)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from helpers.chapters import plots

    if cells.empty:
        return None
    pal = sns.color_palette("colorblind")
    keys = [k for k in cell_keys(cells) if k in cells]
    with plots._theme():
        fig, axes = plt.subplots(1, len(cells), figsize=(4.4 * len(cells), 4.4), squeeze=False,
                                 layout="constrained")
        for ax, (_, cell) in zip(axes[0], cells.iterrows(), strict=True):
            table = reliability_by_set(runs, {k: cell[k] for k in keys})
            for split, color in zip(SETS, (pal[0], pal[3]), strict=True):
                part = table[table["set"] == split]
                reliability.plot_reliability(ax, part, label="ISIC test" if split == "test"
                                             else label, color=color)
            ax.set_title(f"{model_label(cell['model'])} {int(cell['resolution'])} px",
                         fontsize="medium")
    return fig


def reliability_by_set(runs: pd.DataFrame, where: Mapping[str, Any], n_bins: int = 10,
                       strategy: str = "quantile") -> pd.DataFrame:
    """Reliability table of one cell on each set, its seeds' predictions pooled (external-site chapter).

    :func:`helpers.stats.calibration.reliability_table` with a ``set`` column; empty when the cell
    has no runs.
    """
    sub = runs
    for key, value in where.items():
        sub = sub[sub[key] == value] if key in sub else sub
    parts = []
    for split in SETS:
        if sub.empty:
            break
        y = np.concatenate([run[f"pred_{split}"]["labels"] for _, run in sub.iterrows()])
        p = np.concatenate([run[f"pred_{split}"]["probs"] for _, run in sub.iterrows()])
        table = calibration.reliability_table(y, p, n_bins=n_bins, strategy=strategy)
        parts.append(table.assign(set=split))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
