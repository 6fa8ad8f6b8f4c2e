"""Tables, figures and sentences of the separable-cost chapter (separable-cost chapter), built from helpers.training.costs.

The chapter's code cells show the method (the cost formulas, the layer walk, the profiler); the
table building, plotting and prose formatting that would otherwise repeat in every cell live here.
Every table is indexed by something meaningful (model, resolution, layer name, block number ...)
and has short headers, so that it reads well in the book's ~700 px content column. The numbers
are exactly those of :mod:`helpers.training.costs`; only their arrangement is decided here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from helpers.model_names import MODEL_LABELS
from helpers.training import costs

if TYPE_CHECKING:  # keras and matplotlib are imported lazily so that importing stays cheap
    import keras
    from matplotlib.figure import Figure

#: Display names of the models of the book (the one table, :data:`helpers.model_names.MODEL_LABELS`).
LABEL: dict[str, str] = MODEL_LABELS

#: One colour per kind of layer, from seaborn's colour-blind palette (``tests/test_palettes.py``).
LAYER_KIND_COLORS: dict[str, tuple[float, float, float]] = {
    "standard": (0.0, 0.447, 0.698), "depthwise": (0.902, 0.624, 0.0),
    "pointwise": (0.0, 0.62, 0.451)}

#: Columns of the per-layer table, renamed for reading.
LAYER_VIEW: dict[str, str] = {
    "kind": "kind",
    "kernel": "kernel",
    "stride": "stride",
    "M": "M",
    "N": "N",
    "out_h": "D_F",
    "macs": "MACs",
    "params_keras": "params",
}

Tables = Mapping[tuple[str, int], pd.DataFrame]


def reduction_table(
    ratio: Any, d_k: Any, n: Any, kernel_size: int, widths: Iterable[int]
) -> pd.DataFrame:
    """Exact (sympy) ratio r, its float, helpers.training.costs.separable_ratio and 1/r per output width N."""
    rows = []
    for width in widths:
        exact = ratio.subs({d_k: kernel_size, n: width})
        rows.append(
            {
                "N": width,
                "r (exact)": str(exact),
                "r": float(exact),
                "r (helpers.training.costs)": costs.separable_ratio(kernel_size, width),
                "1/r": 1 / float(exact),
            }
        )
    return pd.DataFrame(rows).set_index("N")


def reduction_grid(
    kernel_size: int, in_widths: Iterable[int], out_widths: Sequence[int], feature_size: int
) -> pd.DataFrame:
    """Standard / separable MACs for every (M, N) at a D_F = feature_size map: rows M, columns N."""
    grid = pd.DataFrame(
        [
            {
                "M": m,
                "N": n,
                "reduction": costs.standard_conv_cost(kernel_size, m, n, feature_size)
                / costs.separable_conv_cost(kernel_size, m, n, feature_size),
            }
            for m in in_widths
            for n in out_widths
        ]
    )
    return grid.pivot(index="M", columns="N", values="reduction")


def plot_reduction_curves(kernels: Iterable[int], n_min: int = 8, n_max: int = 2048) -> Figure:
    """Reduction factor 1/(1/N + 1/D_K²) against N (log-log), one curve per kernel, limits dotted."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    kernels = sorted(set(kernels))
    n_axis = np.unique(np.geomspace(n_min, n_max, 64).round().astype(int))
    curves = pd.DataFrame(
        [
            {
                "N (output channels)": n,
                "reduction factor": 1 / costs.separable_ratio(k, n),
                "kernel": f"{k}×{k}",
            }
            for k in kernels
            for n in n_axis
        ]
    )
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.lineplot(data=curves, x="N (output channels)", y="reduction factor", hue="kernel", ax=ax)
    for k in kernels:
        ax.axhline(k * k, ls=":", lw=1, color="grey")
    ax.axhspan(8, 9, color="tab:orange", alpha=0.15, label='paper: "8 to 9 times"')
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    limits = sorted({k * k for k in kernels} | {4, 8})
    ax.set_yticks(limits, [str(v) for v in limits])
    ax.minorticks_off()
    ax.set_title("Standard / separable cost = 1 / (1/N + 1/D_K²); dotted: the limit D_K²")
    ax.legend(loc="upper left", fontsize=9)
    return fig


def params_check(tables: Tables) -> pd.DataFrame:
    """Per (model, resolution): layer count, parameters by the formulas and by Keras, disagreements."""
    rows = [
        {
            "model": LABEL[name],
            "resolution": s,
            "layers": len(df),
            "params (formulas)": int(df["params_formula"].sum()),
            "params (Keras)": int(df["params_keras"].sum()),
            "disagree": int((df["params_formula"] != df["params_keras"]).sum()),
        }
        for (name, s), df in tables.items()
    ]
    return pd.DataFrame(rows).set_index(["model", "resolution"])


def layer_table(layers: pd.DataFrame) -> pd.DataFrame:
    """The key columns of a :func:`helpers.training.costs.layer_costs` table, indexed by layer name."""
    return layers.set_index("name")[list(LAYER_VIEW)].rename(columns=LAYER_VIEW)


def cost_by_kind(tables: Tables, model_names: Iterable[str], resolution: int) -> pd.DataFrame:
    """Per (model, layer kind) at one resolution: layers, MMACs, % of MACs, params, % of params."""
    parts = {}
    for name in model_names:
        df = tables[(name, resolution)]
        by_kind = df.groupby("kind").agg(
            layers=("name", "size"), macs=("macs", "sum"), params=("params_keras", "sum")
        )
        parts[LABEL[name]] = pd.DataFrame(
            {
                "layers": by_kind["layers"],
                "MMACs": by_kind["macs"] / 1e6,
                "% MACs": 100 * by_kind["macs"] / by_kind["macs"].sum(),
                "params": by_kind["params"],
                "% params": 100 * by_kind["params"] / by_kind["params"].sum(),
            }
        )
    return pd.concat(parts, names=["model", "kind"])


def separable_blocks(mobilenet_layers: pd.DataFrame, n_blocks: int = 13) -> pd.DataFrame:
    """MobileNet's separable blocks: MMACs spent (depthwise + pointwise) vs a standard conv's.

    ``spent`` comes from the layer table, ``formula`` from :func:`helpers.training.costs.separable_conv_cost`
    with the block's own D_K, M, N and D_F (the chapter asserts that the two agree).
    """
    mob = mobilenet_layers.set_index("name")
    blocks = []
    for k in range(1, n_blocks + 1):
        dw, pw = mob.loc[f"conv_dw_{k}"], mob.loc[f"conv_pw_{k}"]
        m, n, d_f = int(dw["M"]), int(pw["N"]), int(dw["out_h"])
        d_k = int(dw["kernel"].split("x")[0])  # MobileNet's depthwise kernels are 3×3
        blocks.append(
            {
                "block": k,
                "stride": dw["stride"],
                "M": m,
                "N": n,
                "D_F": d_f,
                "spent": int(dw["macs"] + pw["macs"]),
                "formula": costs.separable_conv_cost(d_k, m, n, d_f),
                "sep. MMACs": int(dw["macs"] + pw["macs"]) / 1e6,
                "std MMACs": costs.standard_conv_cost(d_k, m, n, d_f) / 1e6,
                "reduction": 1 / costs.separable_ratio(d_k, n),
            }
        )
    return pd.DataFrame(blocks).set_index("block")


def blocks_summary(blocks: pd.DataFrame) -> str:
    """One sentence: the blocks' MACs together, separable vs standard, and the overall factor."""
    sep, std = blocks["sep. MMACs"].sum(), blocks["std MMACs"].sum()
    return (
        f"{len(blocks)} blocks together: {sep:.1f} MMACs spent vs {std:.1f} MMACs as standard "
        f"convs -> {std / sep:.2f}x fewer"
    )


def profiler_check(
    models: Mapping[tuple[str, int], keras.Model], tables: Tables, op_resolution: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """TensorFlow profiler's FLOPs next to 2·MACs of the formulas, per (model, resolution).

    Returns the comparison table and the FLOPs per TensorFlow op (rows ``op``, columns model) of
    the models at ``op_resolution``, as a % of each model's total.
    """
    rows, by_op_rows = [], []
    for (name, s), model in models.items():
        total, by_op = costs.profiler_counts(model, s)
        macs = int(tables[(name, s)]["macs"].sum())
        conv = sum(by_op.get(op, 0) for op in ("Conv2D", "DepthwiseConv2dNative", "MatMul"))
        rows.append(
            {
                "model": LABEL[name],
                "resolution": s,
                "2·MACs": 2 * macs,
                "prof. conv+matmul": conv,
                "prof. total": total,
                "excess %": 100 * (total / (2 * macs) - 1),
            }
        )
        if s == op_resolution:
            by_op_rows += [{"model": LABEL[name], "op": op, "FLOPs": v} for op, v in by_op.items()]
    return pd.DataFrame(rows).set_index(["model", "resolution"]), op_shares(by_op_rows)


def op_shares(by_op_rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """% of each model's profiler FLOPs per TensorFlow op: rows op, columns model, largest first."""
    ops = pd.DataFrame(list(by_op_rows), columns=["model", "op", "FLOPs"])
    ops["% of total"] = 100 * ops["FLOPs"] / ops.groupby("model")["FLOPs"].transform("sum")
    return (
        ops.pivot(index="op", columns="model", values="% of total")
        .fillna(0)
        .sort_values(by=list(ops["model"].unique()), ascending=False)
    )


def resolution_summary(
    models: Mapping[tuple[str, int], keras.Model], tables: Tables
) -> pd.DataFrame:
    """Per (model, resolution): GMACs, GFLOPs, params, trainable, float32 MB, conv MACs per pixel."""
    rows = []
    for (name, s), model in models.items():
        c = costs.count_model_costs(model)
        df = tables[(name, s)]
        conv_macs = int(df.loc[df["kind"] != "dense", "macs"].sum())
        rows.append(
            {
                "model": LABEL[name],
                "resolution": s,
                "GMACs": c["macs"] / 1e9,
                "GFLOPs": c["flops"] / 1e9,
                "params (M)": c["params"] / 1e6,
                "trainable (M)": c["trainable_params"] / 1e6,
                "MB (fp32)": c["size_mb_float32"],
                "MACs / px": conv_macs / s**2,
            }
        )
    return pd.DataFrame(rows).set_index(["model", "resolution"])


def loglog_slopes(summary: pd.DataFrame, column: str = "GMACs") -> dict[str, float]:
    """Slope of log(column) against log(resolution), per model, of a :func:`resolution_summary`."""
    wide = summary[column].unstack("model")
    return {
        model: float(
            np.polyfit(np.log(wide.index.to_numpy(dtype=float)), np.log(wide[model]), 1)[0]
        )
        for model in wide.columns
    }


def plot_cost_vs_resolution(summary: pd.DataFrame, kinds: pd.DataFrame, resolution: int) -> Figure:
    """Left: GMACs against input side (log-log); right: MACs per layer kind at one resolution."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    flat = summary.reset_index()
    resolutions = sorted(flat["resolution"].unique())
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    sns.lineplot(data=flat, x="resolution", y="GMACs", hue="model", marker="o", ax=axes[0])
    axes[0].set_xscale("log", base=2)
    axes[0].set_yscale("log", base=10)
    axes[0].set_xticks(resolutions, [str(s) for s in resolutions])
    axes[0].set_title("MACs per image grow as resolution² (slope 2)")
    axes[0].set_xlabel("input side (px)")
    stack = kinds["MMACs"].unstack("kind").drop(columns="dense", errors="ignore")
    stack = stack.fillna(0) / 1e3  # the head's dense unit (~1e-6 G) would be invisible
    colors = LAYER_KIND_COLORS
    stack.plot(kind="bar", stacked=True, ax=axes[1], rot=0, color=colors)
    axes[1].set_ylabel("GMACs")
    axes[1].set_title(f"Where the MACs are, at {resolution} px")
    axes[1].legend(title="layer kind", fontsize=9)
    fig.tight_layout()
    return fig


def headline(summary: pd.DataFrame) -> str:
    """MobileNet at 128 px vs ResNet50 at 224 px (the paper's picks), in GMACs per image."""
    g = summary["GMACs"]
    mob, res = g["MobileNet", 128], g["ResNet50", 224]
    return (
        f"MobileNet at 128 px (the paper's pick): {mob:.3f} GMACs per image\n"
        f"ResNet50 at 224 px (its best setting in the paper): {res:.3f} GMACs per image, "
        f"{res / mob:.1f}x more"
    )


def size_table(
    models: Mapping[tuple[str, int], keras.Model],
    model_names: Iterable[str],
    resolution: int,
    paper_mb: Mapping[str, float],
) -> pd.DataFrame:
    """Per model: parameter counts, weights ×4 bytes in MB and MiB, saved file sizes, the paper's MB."""
    from helpers.training.models import build_model

    rows = []
    for name in model_names:
        model = models.get((name, resolution))
        if model is None:
            model = build_model(name, resolution, weights=None)
        c = costs.count_model_costs(model)
        row = {
            "model": LABEL[name],
            "params": c["params"],
            "trainable": c["trainable_params"],
            "BN stats": c["params"] - c["trainable_params"],
            "params×4 (MB)": costs.model_size_mb(model, "MB"),
            "params×4 (MiB)": costs.model_size_mb(model, "MiB"),
        }
        for suffix in (".keras", ".h5", ".weights.h5"):
            row[f"{suffix} (MiB)"] = costs.saved_file_bytes(model, suffix) / 2**20
        row["paper (MB)"] = paper_mb.get(LABEL[name], np.nan)
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


def adam_state_sizes(model_names: Iterable[str], resolution: int) -> pd.DataFrame:
    """Per model: the .keras file size (MiB) of a compiled model whose Adam optimiser is built."""
    import keras

    from helpers.training.models import build_model

    rows = []
    for name in model_names:
        model = build_model(name, resolution, weights=None)
        model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy")
        model.optimizer.build(model.trainable_variables)
        rows.append(
            {
                "model": LABEL[name],
                ".keras with Adam state (MiB)": costs.saved_file_bytes(model, ".keras") / 2**20,
            }
        )
    return pd.DataFrame(rows).set_index("model")


def quoted_counts(ours: Mapping[str, keras.Model], tops: Mapping[str, keras.Model]) -> pd.DataFrame:
    """Per model: GMACs of the base, with the paper's head and with the 1000-class top; params."""
    rows = []
    for name, model in ours.items():
        df = costs.layer_costs(model)
        top = costs.count_model_costs(tops[name])
        rows.append(
            {
                "model": LABEL[name],
                "base only GMACs": int(df.loc[df["kind"] != "dense", "macs"].sum()) / 1e9,
                "with paper's head GMACs": int(df["macs"].sum()) / 1e9,
                "with 1000-class top GMACs": top["macs"] / 1e9,
                "with 1000-class top GFLOPs": top["flops"] / 1e9,
                "params with top (M)": top["params"] / 1e6,
                "params with paper's head (M)": model.count_params() / 1e6,
            }
        )
    return pd.DataFrame(rows).set_index("model")
