# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # What a convolution costs: standard vs depthwise-separable
#
# **Purpose:** check the cost formulas behind the main paper's {cite}`achar2025resolution`
# claim, taken from the MobileNets paper {cite}`howard2017mobilenets`, that a depthwise-separable
# convolution is "8 to 9 times" cheaper, and measure what MobileNet and ResNet50
# {cite}`he2016resnet` cost at the study's input sizes.<br>
# **Parameters:** `kernel_size` ($D_K$), `in_channels` and `out_channels` ($M$, $N$ of the worked
# examples), `feature_size` ($D_F$), `resolutions`, `model_names`, `profile` (run the
# TensorFlow profiler cross-check) and `profiler_tolerance` (largest accepted excess of its
# count).<br>
# **Prerequisites:** none: costs do not depend on the weights, so every model is built with
# random weights (`weights=None`); no data set, no download.<br>
# **Time to run:** one to two minutes on a 2-core CPU.
#
# **What you will learn**
#
# * where "8 to 9 times" comes from: the two costs and their ratio, derived with sympy;
# * that the formulas reproduce every layer of the real Keras MobileNet and ResNet50 with the
#   paper's head, and TensorFlow's profiler's own count;
# * how the cost grows with the input resolution, and what the paper's model sizes measure.
#
# :::{admonition} Run it yourself
# :class: tip
# Execute `notebooks/02_separable_cost.py` with papermill (see
# [Reproducibility](../reproducibility.md)) and change `resolutions` or
# `model_names` (e.g. `["mobilenetv2"]`) to cost other networks and sizes, or `kernel_size` to
# redo the derivation for $5 \times 5$ kernels; `profile=False` skips the profiler.
# :::

# %% tags=["remove-cell"]
# On Colab: fetch the book's repository (its package, configurations and committed run records),
# install the package and work from the repository's root; elsewhere this does nothing.
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

if "google.colab" in sys.modules and not os.path.isfile("pyproject.toml"):
    REPOSITORY = "https://github.com/resolution-tradeoff-book/resolution-tradeoff-book"  # _config.yml's repository.url
    if not os.path.isdir("resolution-tradeoff-book"):
        subprocess.run(["git", "clone", "--depth", "1", REPOSITORY, "resolution-tradeoff-book"],
                       check=True)
    os.chdir("resolution-tradeoff-book")
    get_ipython().run_line_magic("pip", "install -q .[tf,book]")  # noqa: F821

# %% tags=["hide-input", "nbval-ignore-output"]
# %matplotlib inline
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # oneDNN kernels on AVX2-only CPUs too

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import sympy as sp
from IPython.display import display
from myst_nb import glue

from helpers import paper_reference
from helpers.chapters import separable_cost as costs_report
from helpers.chapters.figures import sharp_figures
from helpers.chapters.formatting import MISSING, styled
from helpers.chapters.found_values import cost_found
from helpers.training import costs
from helpers.training.models import build_model

sharp_figures()  # 2× PNG figures, sharp on high-density screens

print("Keras", keras.__version__, "backend", keras.backend.backend())

# %% tags=["parameters"]
kernel_size = 3
in_channels = [32, 64, 128, 256, 512, 1024]
out_channels = [32, 64, 128, 256, 512, 1024]
feature_size = 14
resolutions = [64, 128, 224, 256]
model_names = ["mobilenet", "resnet50"]
profile = True
profiler_tolerance = 0.02

# %% tags=["remove-input"]
pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)
sns.set_theme(style="whitegrid", context="notebook")
keras.utils.set_random_seed(0)
LABEL = costs_report.LABEL

# %% [markdown]
# (02_separable_cost-s1)=
# ## The two formulas, derived
#
# A convolution layer slides a small window of $D_K \times D_K$ pixels over a stack of $M$
# feature maps and writes $N$ new maps of $D_F \times D_F$ positions. Every output value is a
# weighted sum over the window and over all $M$ input channels, i.e. $D_K^2 M$
# multiply-accumulate operations (MACs), and there are $N D_F^2$ output values.
#
# The depthwise-separable version splits this into two cheaper steps
# {cite}`howard2017mobilenets`:
#
# * a **depthwise** convolution filters each of the $M$ channels on its own with one
#   $D_K \times D_K$ window ($D_K^2$ MACs per output value, $M D_F^2$ output values);
# * a **pointwise** ($1 \times 1$) convolution then mixes the channels: each of the $N D_F^2$
#   outputs is a weighted sum of the $M$ channels at that position.
#
# Below, sympy writes both costs down from these counts and divides one by the other.

# %%
D_K, M, N, D_F = sp.symbols("D_K M N D_F", positive=True, integer=True)
cost_std = (D_K**2 * M) * (N * D_F**2)  # MACs per output value × output values
cost_depthwise = D_K**2 * (M * D_F**2)
cost_pointwise = M * (N * D_F**2)
cost_sep = cost_depthwise + cost_pointwise
display(sp.Eq(sp.Symbol(r"\mathrm{Cost}_{std}"), cost_std))
display(sp.Eq(sp.Symbol(r"\mathrm{Cost}_{sep}"), cost_sep))

# %% [markdown]
# These are exactly the paper's two expressions. Their ratio, as first written, still contains
# $M$ and $D_F$; cancelling the common factor $M D_F^2$ leaves a fraction in $N$ and $D_K$
# only, which splits into two simple terms:

# %%
ratio = cost_sep / cost_std
ratio_cancelled = sp.cancel(ratio)
ratio_split = sp.apart(ratio_cancelled, N)
display(sp.Eq(sp.Symbol("r"), ratio, evaluate=False))
display(sp.Eq(sp.Symbol("r"), ratio_cancelled, evaluate=False))
display(sp.Eq(sp.Symbol("r"), ratio_split, evaluate=False))
print("free symbols of the ratio:", sorted(map(str, ratio_cancelled.free_symbols)))
assert sp.simplify(ratio_split - (1 / N + 1 / D_K**2)) == 0

# %% [markdown]
# So the separable layer costs a fraction $r = \frac{1}{N} + \frac{1}{D_K^2}$ of the standard
# one, whatever the image size $D_F$ and the number of input channels $M$. The *reduction
# factor* is $1/r$. With MobileNet's $3 \times 3$ kernels ($D_K = 3$):

# %%
reduction = sp.simplify(1 / ratio_split)
reduction_k = reduction.subs(D_K, kernel_size)
display(sp.Eq(sp.Symbol("1/r"), reduction, evaluate=False))
display(sp.Eq(sp.Symbol(f"1/r|_{{D_K={kernel_size}}}"), reduction_k, evaluate=False))
display(sp.Eq(sp.Limit(reduction_k, N, sp.oo), sp.limit(reduction_k, N, sp.oo)))
n_for_8 = sp.solve(sp.Eq(reduction_k, 8), N)
print(f"reduction factor reaches 8 at N = {', '.join(map(str, n_for_8))}")

# %% [markdown]
# This is where "8 to 9 times" comes from. Each term of $r$ is one of the two steps, measured
# against the standard layer. The pointwise step contributes $M N D_F^2 / (D_K^2 M N D_F^2) =
# 1/D_K^2 = 1/9$: it still mixes all $M$ channels into $N$ outputs at every position, only
# without the $3 \times 3$ window, and this term sets the floor. The depthwise step contributes
# $D_K^2 M D_F^2 / (D_K^2 M N D_F^2) = 1/N$, which fades as the layer gets wider. So the factor
# can never reach $D_K^2 = 9$; it passes 8 once a layer has 72 or
# more output channels, which is true of every separable block of MobileNet except the first
# ($N = 64$; see the block table in {ref}`02_separable_cost-s2`). For narrower layers the saving is smaller:
# about 7× at $N = 32$.
#
# The same bookkeeping holds for the number of weights: a standard layer stores $D_K^2 M N$ of
# them, the separable pair $D_K^2 M + M N$, the same ratio $1/N + 1/D_K^2$ (biases aside). That
# is the paper's "nearly 90 %" fewer parameters.

# %%
reduction_table = costs_report.reduction_table(ratio_split, D_K, N, kernel_size, out_channels)
assert np.allclose(reduction_table["r"], reduction_table["r (helpers.training.costs)"])
reduction_table.round(4)

# %% [markdown]
# The table substitutes $D_K = $ `kernel_size` and each output width $N$ into $r$: the exact
# fraction, its value, the same value from `helpers.training.costs.separable_ratio`, and the reduction
# factor $1/r$.
#
# The same numbers from the integer cost functions of `helpers.training.costs`, for every pair of input
# and output widths at a $D_F = $ `feature_size` map: each column is constant, i.e. the number of
# input channels $M$ does not matter, as the algebra says.

# %%
grid_table = costs_report.reduction_grid(kernel_size, in_channels, out_channels, feature_size)
grid_table = grid_table.round(3)
assert (grid_table.nunique(axis=0) == 1).all()
grid_table

# %% [markdown]
# {numref}`fig-cost-reduction-curves` shows the reduction factor as a function of the output
# width $N$, for $3 \times 3$, $5 \times 5$ and $7 \times 7$ kernels: each curve climbs towards
# its limit $D_K^2$ (dotted) without reaching it; the shaded band is the paper's "8 to 9 times".

# %% tags=["hide-input", "nbval-ignore-output"] mystnb={"figure": {"caption": "Reduction factor of a depthwise-separable over a standard convolution against the output width $N$, for 3×3, 5×5 and 7×7 kernels, with each kernel's limit $D_K^2$ dotted and the paper's '8 to 9 times' shaded: look at how the 3×3 curve, MobileNet's kernel, enters the shaded band only for wide layers and approaches its limit without reaching it.", "name": "fig-cost-reduction-curves"}, "image": {"alt": "Line chart of the reduction factor (y) against the number of output channels N (x, log scale from 8 to 2048): three rising curves for 3×3, 5×5 and 7×7 kernels that flatten just below dotted lines at 9, 25 and 49, and a shaded horizontal band between 8 and 9"}}
costs_report.plot_reduction_curves({kernel_size, 3, 5, 7})
plt.show()

# %% [markdown]
# (02_separable_cost-s2)=
# ## The formulas against the real networks
#
# `helpers.training.costs.layer_costs` walks through every layer of a Keras model (including the nested
# ImageNet base) and, for every convolution and dense layer, reads the kernel size, stride,
# padding, bias, input width $M$ and output width $N$, computes the output size $D_F$ from the
# input size, stride and padding (and checks it against the shape Keras reports), and applies the
# formulas: $D_K^2 M N D_F^2$ MACs for a standard conv, $D_K^2 M D_F^2$ for a depthwise one,
# $M N D_F^2$ for a pointwise ($1 \times 1$) one and $M N$ for the final dense layer. Two details
# matter for the comparison with the paper's formula: $D_F$ is the **output** size (a stride-2
# layer does a quarter of the work of a stride-1 layer on the same input), and MobileNet's
# stride-2 depthwise layers use explicit zero padding followed by `valid` padding, ResNet50's stem
# a $7 \times 7$ stride-2 conv after 3 pixels of zero padding. The parameter count of each layer
# follows from the same quantities: $D_K^2 M N$ weights (depthwise: $D_K^2 M$) plus $N$ biases
# when the layer has them (Keras's ResNet50 convolutions do; MobileNet's do not, because the
# BatchNorm after each convolution makes a bias redundant, although ResNet50 keeps one anyway).
#
# The models are the ones trained in this book (`helpers.training.models.build_model`): the ImageNet
# base without its classifier, then the paper's head, global average pooling → dropout(0.5) →
# one sigmoid unit, plus a parameter-free layer that scales the pixels to $[0, 1]$.

# %%
models = {
    (name, s): build_model(name, s, weights=None) for name in model_names for s in resolutions
}
tables = {key: costs.layer_costs(model) for key, model in models.items()}

# %% [markdown]
# For each model and resolution: the number of convolution and dense layers, the parameters
# summed from the formulas and from Keras, and the number of layers where the two disagree.

# %%
check = costs_report.params_check(tables)
assert (check["disagree"] == 0).all()
check

# %% [markdown]
# Every layer's parameter count from the formulas equals Keras's own `count_params()` exactly,
# at every resolution. Here is MobileNet at 224 px in full: one standard $3 \times 3$ conv, then
# thirteen depthwise/pointwise pairs, then the head's dense unit.

# %%
ref_res = 224 if 224 in resolutions else resolutions[-1]
if "mobilenet" in model_names:
    display(styled(costs_report.layer_table(tables[("mobilenet", ref_res)]), "cost-layers",
                   index=True, note=f"{MISSING} a dense layer has no kernel and no stride."))

# %% [markdown]
# Where does the work go? Per layer kind, at the same resolution:

# %%
kinds = costs_report.cost_by_kind(tables, model_names, ref_res)
if "mobilenet" in model_names:
    share = kinds.loc["MobileNet", "% MACs"]
    assert 94 < share["pointwise"] < 96 and 2.5 < share["depthwise"] < 3.5
kinds.round(2)

# %% [markdown]
# In MobileNet about 95 % of the arithmetic sits in the $1 \times 1$ pointwise layers, as
# Howard et al. report {cite}`howard2017mobilenets`; the depthwise filters, which do the actual
# spatial filtering, cost only about 3 %. ResNet50 has no depthwise layers; half of its MACs are
# in its $3 \times 3$ convolutions and half in the $1 \times 1$ "bottleneck" convolutions that
# shrink and re-expand the channels around them {cite}`he2016resnet`.
#
# How much did the factorisation save *inside MobileNet*? For each of its 13 separable blocks
# we compare the MACs actually spent (depthwise + pointwise, from the layer table) with those of
# a standard $3 \times 3$ convolution with the same $M$, $N$ and output size $D_F$.

# %%
if "mobilenet" in model_names:
    block_table = costs_report.separable_blocks(tables[("mobilenet", ref_res)])
    assert (block_table["spent"] == block_table["formula"]).all()
    assert np.allclose(
        block_table["std MMACs"] / block_table["sep. MMACs"], block_table["reduction"]
    )
    display(block_table.drop(columns=["spent", "formula"]).round(2))
    overall = block_table["std MMACs"].sum() / block_table["sep. MMACs"].sum()
    print(costs_report.blocks_summary(block_table))
    assert 8.5 < overall < 9 and (block_table["reduction"].iloc[1:] > 8).all()

# %% [markdown]
# Block by block the saving is exactly $1/(1/N + 1/9)$ (the assertion above checks it): just
# under 8× for the first block ($N = 64$), 8.4–8.9× for the other twelve. Over the whole stack,
# where the wide layers dominate, the factorisation does the work of the equivalent standard
# convolutions with about 8.7 times fewer operations: the paper's "8 to 9 times".

# %% [markdown]
# (02_separable_cost-s3)=
# ## An independent count: TensorFlow's profiler
#
# The formulas could share a mistake with our reading of the layers, so we also let TensorFlow
# count. `helpers.training.costs.profiler_flops` traces the model on a single image
# (`tf.TensorSpec([1, s, s, 3])`), freezes the weights into constants and runs
# `tf.compat.v1.profiler` with `ProfileOptionBuilder.float_operation()` over the graph;
# `profiler_flops_by_op` gives the same count per TensorFlow operation, and `profiler_counts`,
# used below, returns both from a single trace. The profiler counts
# **FLOPs**, and a MAC is two of them (a multiply and an add), so we compare it with
# $2 \times$ the formula MACs.

# %%
run_profiler = profile and keras.backend.backend() == "tensorflow"
if not run_profiler:
    print("Profiler cross-check skipped (needs profile=True and the TensorFlow backend).")
else:
    profiled, ops_table = costs_report.profiler_check(models, tables, ref_res)
    assert (profiled["prof. conv+matmul"] == profiled["2·MACs"]).all()
    assert (profiled["excess %"].between(0, 100 * profiler_tolerance)).all()
    display(profiled.round(3))

# %% [markdown]
# The table lists, per model and resolution, twice the formula MACs, the profiler's FLOPs of the
# convolution and matrix-multiply operations, its total, and how much larger the total is.
#
# For the convolution and matrix-multiply operations the profiler and the formulas agree
# **exactly** (2 FLOPs per MAC, asserted above), at every resolution and for both networks.
# The profiler's total is a little larger (asserted to be less than `profiler_tolerance`), because
# it also counts the arithmetic that is not multiply-accumulate. Per operation type:

# %% tags=["hide-input"]
if run_profiler:
    display(ops_table.round(4))

# %% [markdown]
# What the extra operations are:
#
# * `Conv2D`, `DepthwiseConv2dNative`, `MatMul`: the convolutions and the dense unit, 2 FLOPs per
#   MAC; more than 99 % of the total.
# * `Mul` and `AddV2`: mainly BatchNormalization, which at inference is one multiply and one add
#   per activation value (Keras 3 keeps it as separate ops; a deployment converter would fold it
#   into the preceding convolution). In ResNet50 `AddV2` also holds the 16 residual additions.
#   `Rsqrt`/`Sub` are BatchNorm's per-channel constants, recomputed in the graph.
# * `BiasAdd`: ResNet50's convolution biases, one add per output value (MobileNet has none).
# * `MaxPool` (ResNet50's stem), `Mean` (global average pooling), `RealDiv` (the $x/255$ pixel
#   scaling of our preprocessing layer).
# * Not counted at all by TensorFlow's profiler: ReLU/ReLU6, zero padding and the sigmoid.
#
# All of these grow with the number of activations, not with $M \times N$, so they are a small
# fraction: the "FLOPs" of a network in the literature normally means the convolution and dense
# arithmetic only, and that is what `helpers.training.costs.count_model_costs` reports
# (`flops = 2 × macs`).

# %% [markdown]
# (02_separable_cost-s4)=
# ## Cost versus input resolution
#
# The formulas say that a convolution's cost is proportional to the number of output positions
# $D_F^2$, and every $D_F$ in these networks is the input side divided by a fixed stride product
# (2, 4, ..., 32), so the whole network's MACs should grow with the **square** of the input side.
# The parameters, and so the model size, do not change with resolution at all.

# %%
summary = costs_report.resolution_summary(models, tables)
summary.round(4)

# %% [markdown]
# Per model and input side: MACs and FLOPs per image, parameters (all, and trainable), the
# float32 weights in MB, and convolution MACs per input pixel.
#
# The last column, convolution MACs divided by the number of input pixels $s^2$, is the same at
# every resolution: the cost is exactly quadratic in the input side (all four sizes are multiples
# of 32, the networks' total stride, so no rounding of odd feature maps intervenes). Only the
# dense unit of the head, 1,024 or 2,048 MACs, does not scale. A log-log fit gives the exponent,
# and the ratio of the two networks is the same at every size:

# %%
slopes = costs_report.loglog_slopes(summary)
print("log-log slope of MACs vs resolution:", {k: round(float(v), 4) for k, v in slopes.items()})
assert all(abs(v - 2) < 1e-3 for v in slopes.values())
if {"mobilenet", "resnet50"} <= set(model_names):
    wide = summary["GMACs"].unstack("model")
    wide["ResNet50 / MobileNet"] = wide["ResNet50"] / wide["MobileNet"]
    display(wide.round(4))

# %% [markdown]
# {numref}`fig-cost-vs-resolution` draws the MACs per image against the input side on log-log
# axes (left), and at the reference resolution, how they split between the layer kinds (right).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Multiply-accumulates per image against the input side for MobileNet and ResNet50 on log-log axes (left), and how each network's MACs split between standard, depthwise and pointwise convolutions at the reference size (right): look at the two parallel straight lines, cost growing with the square of the side for both networks, and at how nearly all of MobileNet's arithmetic is pointwise.", "name": "fig-cost-vs-resolution"}, "image": {"alt": "Two panels: left, a log-log line chart of GMACs per image (y) against input side 64 to 256 px (x), one straight line per network with ResNet50 above MobileNet; right, stacked bars of GMACs by layer kind (depthwise, pointwise, standard) for MobileNet and ResNet50"}}
costs_report.plot_cost_vs_resolution(summary, kinds, ref_res)
plt.show()

# %% [markdown]
# For a clinician-engineer the practical reading is: halving the side of the image (224 → 112,
# or 256 → 128) cuts the arithmetic per image by four for either network, while switching from
# ResNet50 to MobileNet cuts it by about 6.8 at any fixed size. The two savings multiply:

# %%
if {"mobilenet", "resnet50"} <= set(model_names) and {128, 224} <= set(resolutions):
    print(costs_report.headline(summary))

# %% [markdown]
# (02_separable_cost-s5)=
# ## Model size: what "12.5 MB" and "90.5 MB" measure
#
# The paper reports 12.5 MB for MobileNet and 90.5 MB for ResNet50 and says the sizes are for
# 32-bit floating-point weights. The number of parameters does not depend on the input size, so
# we measure at the paper's Table II resolution. We count every stored number, including the
# BatchNorm moving means and variances, which are not trained by gradient descent but are part
# of the model, and give sizes both in decimal megabytes (MB, $10^6$ bytes) and in mebibytes
# (MiB, $2^{20}$ bytes, which many tools also label "MB"). We also save each model to a temporary
# folder in the three Keras formats and measure the files.

# %%
size_res = paper_reference.TABLE_II_RESOLUTION
paper_mb = {model: mb for model, mb, *_ in paper_reference.TABLE_II}
sizes = costs_report.size_table(models, model_names, size_res, paper_mb)
if {"mobilenet", "resnet50"} <= set(model_names):
    # the claims of the prose below: .h5 files in MiB are within 0.2 of the paper's "MB"
    assert abs(sizes.loc["MobileNet", ".h5 (MiB)"] - paper_mb["MobileNet"]) < 0.2
    assert abs(sizes.loc["ResNet50", ".h5 (MiB)"] - paper_mb["ResNet50"]) < 0.2
display(sizes[["params", "trainable", "BN stats"]])

# %% [markdown]
# The parameter counts above ("BN stats": BatchNorm's non-trainable moving means and
# variances); below, the same models as bytes: the weights × 4 in MB and MiB, the three saved
# files, and the paper's figure.

# %%
sizes.drop(columns=["params", "trainable", "BN stats"]).T.round(2)

# %% [markdown]
# Were the paper's sizes files saved together with the optimiser's state (after
# `model.compile(optimizer="adam")`, Keras stores Adam's two moment estimates per trainable
# weight as well)? Saving a compiled model with a built Adam optimiser shows how large that
# would be:

# %%
adam_sizes = costs_report.adam_state_sizes(model_names, size_res)
adam_sizes.round(2)

# %% [markdown]
# Reading the tables:
#
# * The paper's **12.5 MB** for MobileNet matches the size of the saved `.h5` file *in MiB*
#   (float32 weights plus a little HDF5 bookkeeping); counted in decimal MB the same weights are
#   about 12.9 MB. Its **90.5 MB** for ResNet50 lies just above both our `.h5` file in MiB
#   (≈ 90.4) and the bare weights in MiB (≈ 90.0); in decimal MB the weights alone are 94.4 MB.
#   The most likely reading is that the paper reports the saved `.h5` file sizes in MiB with the
#   label "MB"; the small remaining gap for ResNet50 is the kind of overhead that changes between
#   Keras/HDF5 versions (we cannot check which version the authors used). Either way the
#   conclusion, ResNet50 about 7.3 times larger than MobileNet, is unaffected.
# * Optimiser state is ruled out: with Adam's moments stored, the files are about three times
#   larger (≈ 37 and ≈ 270 MiB).
# * The sizes count all parameters, including BatchNorm's non-trainable moving statistics
#   (about 21,900 numbers in MobileNet and 53,100 in ResNet50, under 1 % of either).
#
# `helpers.training.costs.count_model_costs` reports `size_mb_float32` = parameters × 4 bytes / $10^6$
# (decimal MB), the convention used in the run records of the training chapter.

# %% [markdown]
# (02_separable_cost-s6)=
# ## Our counts next to the numbers usually quoted
#
# MobileNet's paper quotes 569 million multiply-adds and 4.2 million parameters
# {cite}`howard2017mobilenets`, and ResNet50's 3.8 billion "FLOPs" {cite}`he2016resnet`, which
# are in fact multiply-adds; a figure of 4.1 G is also widely quoted. All of them refer to the
# 224 px network **with its 1000-class ImageNet classifier**. To compare like with like we
# count Keras's own with-classifier models (`include_top=True`), our base without any head, and
# our models with the paper's one-unit head.

# %%
at = 224
tops = {
    "mobilenet": keras.applications.MobileNet(weights=None, input_shape=(at, at, 3)),
    "resnet50": keras.applications.ResNet50(weights=None, input_shape=(at, at, 3)),
}
ours = {
    name: models[(name, at)] if (name, at) in models else build_model(name, at, weights=None)
    for name in tops
}
quoted = costs_report.quoted_counts(ours, tops)
assert round(quoted.loc["MobileNet", "with 1000-class top GMACs"], 3) == 0.569
assert round(quoted.loc["MobileNet", "params with top (M)"], 1) == 4.3
quoted.T.round(4)

# %% [markdown]
# MobileNet with its ImageNet classifier comes to 0.569 GMACs and 4.25 M parameters, which is
# Howard et al.'s 569 M and 4.2 M; the classifier is only 1 M of the MACs but a quarter of the
# parameters. Keras's ResNet50 with its classifier comes to 3.86 GMACs, matching He et al.'s
# 3.8 × 10⁹. The larger 4.1 G comes from a slightly different network, "ResNet50 v1.5" (the
# variant in torchvision and many other libraries), which moves the stride of the three
# down-sampling blocks from their first $1 \times 1$ convolution to the $3 \times 3$ one. That
# $1 \times 1$ layer then runs on a feature map four times larger, which we can compute from our
# own layer table:

# %%
rn = costs.layer_costs(tops["resnet50"]).set_index("name")
moved = [f"conv{stage}_block1_1_conv" for stage in (3, 4, 5)]
extra = int(3 * rn.loc[moved, "macs"].sum())  # 4× the positions = 3× extra
v15 = int(rn["macs"].sum()) + extra
print(
    f"stride-2 1×1 layers: {', '.join(moved)} ({int(rn.loc[moved, 'macs'].sum()) / 1e6:.1f} MMACs)"
)
print(
    f"ResNet50 v1 with top: {rn['macs'].sum() / 1e9:.3f} GMACs; "
    f"as v1.5: {v15 / 1e9:.3f} GMACs (+{extra / 1e6:.1f} M)"
)

# %% [markdown]
# So the commonly quoted 4.1 G is the v1.5 network's multiply-accumulates, with the ImageNet
# classifier. Keras's ResNet50, used by the paper and here, is the original v1: 3.858 GMACs
# (7.72 GFLOPs) with that classifier, 3.856 GMACs with the paper's one-unit head; MobileNet with
# the paper's head needs 0.568 GMACs at 224 px.

# %% tags=["remove-cell"]
# The numbers "What we found" cites, from the tables above (chapter-02 names start with cost_).
found = cost_found(int(n_for_8[0]), check, summary, sizes, adam_sizes, paper_mb,
                   blocks=block_table if "mobilenet" in model_names else None,
                   profiled=profiled if run_profiler else None)
for name, value in found.items():
    glue(name, value, display=False)

# %% [markdown]
# ## What we found
#
# * A depthwise-separable layer costs $1/N + 1/D_K^2$ of a standard one, whatever the image size
#   and input width. With $3 \times 3$ kernels the saving passes 8× from
#   $N = $ {glue:text}`cost_n_for_8` output channels: it is {glue:text}`cost_red_first:.2f`×
#   in MobileNet's first block, {glue:text}`cost_red_rest_min:.2f`–{glue:text}`cost_red_rest_max:.2f`×
#   in the other twelve and {glue:text}`cost_red_overall:.2f`× over all thirteen, so the paper's
#   "8 to 9 times" holds for every block but the first.
# * On the real Keras networks the formulas give every layer's parameter count exactly
#   ({glue:text}`cost_n_disagree` disagreements over {glue:text}`cost_n_layers` convolution and
#   dense layers: both networks at four sizes) and TensorFlow's profiler's convolution FLOPs exactly, 2 per MAC
#   ({glue:text}`cost_prof_conv_mismatch` mismatches); the profiler's total is
#   {glue:text}`cost_prof_excess_min:.2f`–{glue:text}`cost_prof_excess_max:.2f` % larger, which is
#   BatchNorm, biases, pooling and pre-processing.
# * Cost grows with the square of the input side (log-log slope {glue:text}`cost_slope_max:.3f`
#   for both networks), and ResNet50 needs {glue:text}`cost_ratio_rn_mn:.2f` times MobileNet's
#   MACs at every size (the ratio changes by at most {glue:text}`cost_ratio_spread_txt` across
#   the four sizes).
# * The paper's {glue:text}`cost_paper_mb_mobilenet:.1f` MB (MobileNet) and
#   {glue:text}`cost_paper_mb_resnet50:.1f` MB (ResNet50) match saved float32 `.h5` files measured
#   in MiB ({glue:text}`cost_h5_mib_mobilenet:.2f` and {glue:text}`cost_h5_mib_resnet50:.2f`
#   MiB), not the weights in decimal MB ({glue:text}`cost_mb_mobilenet:.1f` and
#   {glue:text}`cost_mb_resnet50:.1f` MB) nor files with Adam's state
#   ({glue:text}`cost_adam_mib_mobilenet:.0f` and {glue:text}`cost_adam_mib_resnet50:.0f` MiB);
#   which Keras and HDF5 versions the authors used cannot be checked.
#
# `helpers.training.costs.count_model_costs(model)` gives `macs`, `flops`, `params`, `trainable_params` and
# `size_mb_float32` for any Keras model; the training chapter stores it in each run record, and
# {doc}`11_beyond_auc` uses it for accuracy per GFLOP.
#
# ## Next
#
# {doc}`03_train` trains one of these networks with the paper's protocol and writes the run record
# that every later chapter reads: its predictions, metrics and these costs.
