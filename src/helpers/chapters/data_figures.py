"""Fig. 1 and the reading tables of the data chapter (data chapter).

:func:`sample_grid` draws the same images at each resolution side by side; :func:`duplicate_summary`
and :func:`duplicates_table` arrange a load report's duplicate groups for the page.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from helpers.data.core import DataReport
from helpers.data.loader import load_dataset


def duplicate_summary(report: DataReport) -> pd.DataFrame:
    """Per kind of duplicate (exact, near): the number of groups and of images removed (data chapter)."""
    dups = report.duplicates_frame()
    removed = dups["removed"].map(lambda ids: 0 if ids == "-" else len(ids.split()))
    return (dups.assign(images_removed=removed).groupby("kind")
            .agg(groups=("ids", "size"), images_removed=("images_removed", "sum")))


def duplicates_table(report: DataReport) -> pd.DataFrame:
    """One row per duplicate group, indexed by its images: kind, splits, pHash distance, kept copy.

    The columns a reader needs; the full record (labels, removed ids, reason) is
    ``report.duplicates_frame()``. The removed images are the group's other ids.
    """
    dups = report.duplicates_frame()
    table = dups.set_index("ids")[["kind", "splits", "max_distance", "kept"]]
    table.index.name = "images"
    return table.rename(columns={"max_distance": "distance"})


def sample_grid(dataset_name: str, *, task: str | None = None,
                resolutions: Sequence[int] = (64, 128, 224, 256), n_per_class: int = 2,
                split: str = "train", seed: int = 0,
                data_root: str | os.PathLike[str] | None = None,
                cache_dir: str | os.PathLike[str] | None = None, panel_inches: float = 1.6
                ) -> Figure:
    """Samples of each class (rows) at each resolution (columns), same physical size (data chapter).

    The pictures are the loader's own arrays at each resolution (bilinear downsampling), drawn
    with nearest-neighbour display so that the pixelation of the small sizes stays visible.
    """
    loaded = {r: load_dataset(dataset_name, task=task, resolution=int(r), data_root=data_root,
                              cache_dir=cache_dir, seed=seed) for r in resolutions}
    first = loaded[resolutions[0]]
    sp = first.splits[split]
    rng = np.random.default_rng([seed, 7])
    picks = []
    for c in (0, 1):
        idx = np.flatnonzero(sp.labels == c)
        picks += [(c, sp.ids[i]) for i in np.sort(rng.choice(idx, min(n_per_class, len(idx)),
                                                             replace=False))]
    fig, axes = plt.subplots(len(picks), len(resolutions), squeeze=False,
                             figsize=(panel_inches * len(resolutions), panel_inches * len(picks)))
    for j, r in enumerate(resolutions):
        s = loaded[r].splits[split]
        pos = {i: k for k, i in enumerate(s.ids)}
        for row, (c, ident) in enumerate(picks):
            ax = axes[row, j]
            ax.imshow(s.images[pos[ident]], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"{r} px", fontsize=10)
            if j == 0:
                ax.set_ylabel(first.class_names[c], fontsize=9)
    fig.suptitle(f"{dataset_name} / {first.task}: {split} samples at each input size", fontsize=10)
    fig.tight_layout()
    return fig
