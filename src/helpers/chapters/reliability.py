"""Reliability diagrams (results chapter; another hospital's images).

The numbers are :func:`helpers.stats.calibration.reliability_table`'s; this module draws them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def plot_reliability(ax: Any, table: pd.DataFrame, label: str | None = None, **kwargs: Any) -> Any:
    """Reliability diagram on ``ax`` from :func:`reliability_table`; returns ``ax`` (results chapter).

    Draws the diagonal (perfect calibration) once per Axes, so several models can share one
    diagram, and each bin as a point at (mean predicted, observed rate) with its Wilson CI as a
    vertical bar. Extra keyword arguments go to ``ax.errorbar``.
    """
    import matplotlib  # noqa: F401  (lazy: keep the import of this module light)

    missing = {"mean_predicted", "observed_rate", "ci_low", "ci_high"} - set(table.columns)
    if missing:
        raise ValueError(f"table lacks columns {sorted(missing)}: pass reliability_table(...) output")
    if not any(line.get_gid() == "reliability-diagonal" for line in ax.get_lines()):
        ax.plot([0, 1], [0, 1], ls="--", color="0.6", lw=1, gid="reliability-diagonal",
                label="perfect calibration")
    obs = table["observed_rate"].to_numpy(dtype=float)
    # Wilson bounds can miss the observed rate by a rounding error: bar lengths are >= 0
    yerr = np.clip(np.vstack([obs - table["ci_low"].to_numpy(dtype=float),
                              table["ci_high"].to_numpy(dtype=float) - obs]), 0.0, None)
    style = {"fmt": "o-", "ms": 4, "capsize": 2, "lw": 1}
    style.update(kwargs)
    ax.errorbar(table["mean_predicted"].to_numpy(dtype=float), obs, yerr=yerr, label=label, **style)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("Mean predicted probability")
    ax.set_ylabel("Observed positive rate")
    if label is not None:
        ax.legend(loc="upper left", frameon=False)
    return ax
