"""Tests of helpers.training.costs: the paper's cost formulas against Keras layers and TensorFlow's profiler."""

from __future__ import annotations

import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pandas as pd
import pytest

from helpers.chapters import separable_cost as costs_report
from helpers.training import costs
from helpers.training.models import build_model

TF_ONLY = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow profiler needs the TF backend"
)


@pytest.fixture(scope="module")
def models64() -> dict[str, keras.Model]:
    return {name: build_model(name, 64, weights=None) for name in ("mobilenet", "resnet50")}


def tiny_model(grouped: bool = True) -> keras.Model:
    inputs = keras.Input((9, 9, 4))
    x = keras.layers.Conv2D(6, 3, strides=2, padding="valid", use_bias=True, name="std")(inputs)
    x = keras.layers.DepthwiseConv2D(
        3, padding="same", depth_multiplier=2, use_bias=False, name="dw"
    )(x)
    x = keras.layers.Conv2D(4, 1, use_bias=False, name="pw")(x)
    # TF runs a grouped conv as an opaque function call that its profiler cannot count
    x = keras.layers.Conv2D(
        8, 3, padding="same", groups=2 if grouped else 1, use_bias=True, name="grp"
    )(x)
    x = keras.layers.SeparableConv2D(5, 3, strides=2, padding="same", name="sep")(x)
    x = keras.layers.Dense(3, name="dense_map")(x)  # Dense acting at every position
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="out")(x)
    return keras.Model(inputs, outputs)


# --- the paper's formulas on hand-computed cases ------------------------------------------------


def test_formulas_hand_computed():
    assert costs.standard_conv_cost(3, 2, 4, 5) == 3 * 3 * 2 * 4 * 5 * 5 == 1800
    assert costs.depthwise_conv_cost(3, 2, 5) == 450
    assert costs.pointwise_conv_cost(2, 4, 5) == 200
    assert costs.separable_conv_cost(3, 2, 4, 5) == 650
    assert costs.separable_ratio(3, 4) == pytest.approx(650 / 1800)
    # MobileNet's conv_pw_13 size: 3x3, 1024 -> 1024 at 7x7
    assert costs.standard_conv_cost(3, 1024, 1024, 7) == 462_422_016
    assert costs.separable_conv_cost(3, 1024, 1024, 7) == 451_584 + 51_380_224


@pytest.mark.parametrize(
    "d_k,m,n,d_f", [(3, 32, 64, 112), (3, 512, 512, 14), (5, 7, 11, 3), (1, 8, 8, 4)]
)
def test_ratio_is_cost_quotient(d_k, m, n, d_f):
    ratio = costs.separable_conv_cost(d_k, m, n, d_f) / costs.standard_conv_cost(d_k, m, n, d_f)
    assert ratio == pytest.approx(costs.separable_ratio(d_k, n), rel=1e-12)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, None])
def test_formulas_reject_bad_input(bad):
    with pytest.raises(ValueError, match="positive int"):
        costs.standard_conv_cost(3, bad, 4, 5)
    with pytest.raises(ValueError, match="positive int"):
        costs.separable_ratio(bad, 4)


def test_conv_output_size():
    assert costs.conv_output_size(7, 3, 2, "same") == 4
    assert costs.conv_output_size(33, 3, 2, "valid") == 16  # MobileNet: ZeroPadding then valid
    assert costs.conv_output_size(230, 7, 2, "valid") == 112  # ResNet50 stem
    assert costs.conv_output_size(9, 3, 1, "valid", dilation=2) == 5
    with pytest.raises(ValueError, match="does not fit"):
        costs.conv_output_size(2, 3, 1, "valid")
    with pytest.raises(ValueError, match="padding"):
        costs.conv_output_size(8, 3, 1, "causal")


# --- layer_costs on a tiny model with every supported layer kind --------------------------------


def test_layer_costs_tiny_model_by_hand():
    df = costs.layer_costs(tiny_model()).set_index("name")
    assert list(df.columns) == list(costs.LAYER_COLUMNS)[1:]
    expected = {
        #        kind,        M, N, out, MACs,                          params
        "std": ("standard", 4, 6, 4, 3 * 3 * 4 * 6 * 16, 3 * 3 * 4 * 6 + 6),
        "dw": ("depthwise", 6, 12, 4, 3 * 3 * 6 * 2 * 16, 3 * 3 * 6 * 2),
        "pw": ("pointwise", 12, 4, 4, 12 * 4 * 16, 12 * 4),
        "grp": ("grouped", 4, 8, 4, 3 * 3 * 2 * 8 * 16, 3 * 3 * 2 * 8 + 8),
        "sep": ("separable", 8, 5, 2, 3 * 3 * 8 * 4 + 8 * 5 * 4, 3 * 3 * 8 + 8 * 5 + 5),
        "dense_map": ("dense", 5, 3, 2, 5 * 3 * 4, 5 * 3 + 3),
        "out": ("dense", 3, 1, 1, 3, 4),
    }
    assert list(df.index) == list(expected)
    for name, (kind, m, n, out, macs, params) in expected.items():
        row = df.loc[name]
        assert (row.kind, row.M, row.N, row.out_h, row.out_w) == (kind, m, n, out, out), name
        assert row.macs == macs, name
        assert row.params_formula == params == row.params_keras, name
    assert df.loc["std", "stride"] == "2" and df.loc["std", "padding"] == "valid"


def test_layer_costs_errors():
    inputs = keras.Input((None, None, 3))
    unknown = keras.Model(inputs, keras.layers.Conv2D(2, 3)(inputs))
    with pytest.raises(ValueError, match="fixed input_shape"):
        costs.layer_costs(unknown)
    inputs = keras.Input((8, 8, 3))
    transposed = keras.Model(inputs, keras.layers.Conv2DTranspose(2, 3)(inputs))
    with pytest.raises(NotImplementedError, match="Conv2DTranspose"):
        costs.layer_costs(transposed)


# --- the real models of the paper ---------------------------------------------------------------


@pytest.mark.parametrize("name,n_rows", [("mobilenet", 28), ("resnet50", 54)])
def test_params_formula_equals_keras_every_layer(models64, name, n_rows):
    model = models64[name]
    df = costs.layer_costs(model)
    assert len(df) == n_rows
    mismatch = df[df.params_formula != df.params_keras]
    assert mismatch.empty, mismatch[["name", "params_formula", "params_keras"]]
    # nothing with weights is missed: conv/dense rows + BatchNorm = every parameter
    base = model.get_layer("base")
    bn = sum(
        layer.count_params()
        for layer in base.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    )
    assert int(df.params_keras.sum()) + bn == model.count_params()
    kinds = set(df.kind)
    assert kinds == (
        {"standard", "depthwise", "pointwise", "dense"}
        if name == "mobilenet"
        else {"standard", "pointwise", "dense"}
    )


def test_mobilenet_blocks_match_separable_formula(models64):
    df = costs.layer_costs(models64["mobilenet"]).set_index("name")
    for k in range(1, 14):
        dw, pw = df.loc[f"conv_dw_{k}"], df.loc[f"conv_pw_{k}"]
        assert dw.out_h == pw.out_h == dw.out_w
        expected = costs.separable_conv_cost(3, int(dw.M), int(pw.N), int(dw.out_h))
        assert dw.macs + pw.macs == expected, k


def test_macs_scale_with_resolution_squared(models64):
    for name in ("mobilenet", "resnet50"):
        small = costs.layer_costs(models64[name])
        large = costs.layer_costs(build_model(name, 128, weights=None))
        conv = small.kind != "dense"
        assert int(large.macs[conv].sum()) == 4 * int(small.macs[conv].sum())
        assert large.macs[~conv].sum() == small.macs[~conv].sum()  # the head does not grow
        assert (large.params_keras == small.params_keras).all()


def test_count_model_costs(models64):
    model = models64["mobilenet"]
    result = costs.count_model_costs(model)
    assert tuple(result) == costs.COST_KEYS
    assert result["flops"] == 2 * result["macs"] == 2 * int(costs.layer_costs(model).macs.sum())
    assert result["params"] == model.count_params() == 3_228_864 + 1025
    non_trainable = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    assert result["trainable_params"] == result["params"] - non_trainable
    assert result["size_mb_float32"] == pytest.approx(result["params"] * 4 / 1e6)


def test_model_size_units(models64):
    model = models64["resnet50"]
    assert costs.model_size_mb(model, "MiB") == pytest.approx(model.count_params() * 4 / 2**20)
    assert costs.model_size_mb(model, "MB", bytes_per_param=1) == pytest.approx(
        model.count_params() / 1e6
    )
    with pytest.raises(ValueError, match="unit"):
        costs.model_size_mb(model, "GB")


def test_saved_file_bytes():
    model = tiny_model()
    floats = model.count_params() * 4
    for suffix in (".keras", ".h5", ".weights.h5"):
        assert costs.saved_file_bytes(model, suffix) > floats
    with pytest.raises(ValueError, match="suffix"):
        costs.saved_file_bytes(model, ".onnx")


# --- independent check: TensorFlow's profiler ---------------------------------------------------


@TF_ONLY
def test_profiler_matches_formulas_tiny():
    model = tiny_model(grouped=False)
    df = costs.layer_costs(model)
    by_op = costs.profiler_flops_by_op(model, 9)
    # TF counts 2 FLOPs per MAC in every conv and matmul (separable = depthwise + 1x1 Conv2D)
    matmul_like = sum(by_op[op] for op in ("Conv2D", "DepthwiseConv2dNative", "MatMul"))
    assert matmul_like == 2 * int(df.macs.sum())
    # the rest: bias adds (one per output value), global average pooling, the sigmoid's add
    biases = sum(int(r.N * r.out_h * r.out_w) for r in df.itertuples() if r.use_bias)
    assert by_op["BiasAdd"] + by_op.get("AddV2", 0) == biases
    assert costs.profiler_flops(model, 9) == sum(by_op.values())
    assert costs.profiler_counts(model, 9) == (sum(by_op.values()), by_op)


@TF_ONLY
def test_profiler_warns_on_uncountable_ops():
    with pytest.warns(UserWarning, match="incomplete shapes"):
        costs.profiler_flops_by_op(tiny_model(grouped=True), 9)


@TF_ONLY
def test_profiler_matches_formulas_mobilenet(models64):
    model = models64["mobilenet"]
    macs = costs.count_model_costs(model)["macs"]
    total, by_op = costs.profiler_counts(model, 64)
    conv = by_op["Conv2D"] + by_op["DepthwiseConv2dNative"] + by_op["MatMul"]
    assert conv == 2 * macs  # exact for conv and dense
    assert total == sum(by_op.values())
    assert 0 < total / (2 * macs) - 1 < 0.02  # BatchNorm, pre-processing, pooling: < 2 %


# --- the chapter's tables, figures and sentences (helpers.chapters.separable_cost) -------------------------


def test_report_reduction_table_and_grid():
    import sympy as sp

    d_k, n = sp.symbols("D_K N", positive=True)
    table = costs_report.reduction_table(1 / n + 1 / d_k**2, d_k, n, 3, [32, 64])
    assert table.index.name == "N" and list(table.index) == [32, 64]
    assert list(table.columns) == ["r (exact)", "r", "r (helpers.training.costs)", "1/r"]
    assert table.loc[32, "r (exact)"] == "41/288"
    assert table.loc[64, "r"] == pytest.approx(costs.separable_ratio(3, 64))
    assert table.loc[64, "1/r"] == pytest.approx(1 / costs.separable_ratio(3, 64))
    grid = costs_report.reduction_grid(3, [8, 16, 32], [32, 64], 14)
    assert grid.index.name == "M" and list(grid.columns) == [32, 64]
    assert (grid.nunique(axis=0) == 1).all()  # M does not matter
    assert grid.loc[8, 64] == pytest.approx(1 / costs.separable_ratio(3, 64))


@pytest.fixture(scope="module")
def tables64(models64) -> dict[tuple[str, int], object]:
    return {(name, 64): costs.layer_costs(model) for name, model in models64.items()}


def test_report_layer_tables(tables64):
    check = costs_report.params_check(tables64)
    assert check.index.names == ["model", "resolution"]
    assert list(check.columns) == ["layers", "params (formulas)", "params (Keras)", "disagree"]
    assert check.loc[("MobileNet", 64), "layers"] == 28 and (check["disagree"] == 0).all()
    layers = costs_report.layer_table(tables64[("mobilenet", 64)])
    assert layers.index.name == "name" and layers.index[0] == "conv1"
    assert list(layers.columns) == ["kind", "kernel", "stride", "M", "N", "D_F", "MACs", "params"]
    kinds = costs_report.cost_by_kind(tables64, ["mobilenet", "resnet50"], 64)
    assert kinds.index.names == ["model", "kind"]
    assert kinds.groupby("model")["% MACs"].sum().round(6).eq(100).all()
    assert kinds.loc[("ResNet50", "pointwise"), "layers"] == 36
    assert kinds["MMACs"].sum() * 1e6 == pytest.approx(
        sum(int(tables64[(m, 64)]["macs"].sum()) for m in ("mobilenet", "resnet50"))
    )


def test_report_separable_blocks(tables64):
    blocks = costs_report.separable_blocks(tables64[("mobilenet", 64)])
    assert blocks.index.name == "block" and list(blocks.index) == list(range(1, 14))
    assert (blocks["spent"] == blocks["formula"]).all()
    assert np.allclose(blocks["std MMACs"] / blocks["sep. MMACs"], blocks["reduction"])
    sep, std = blocks["sep. MMACs"].sum(), blocks["std MMACs"].sum()
    assert costs_report.blocks_summary(blocks) == (
        f"13 blocks together: {sep:.1f} MMACs spent vs {std:.1f} MMACs as standard convs "
        f"-> {std / sep:.2f}x fewer"
    )


def test_report_resolution_summary_slopes_and_headline(models64, tables64):
    small = build_model("mobilenet", 32, weights=None)
    models = {("mobilenet", 32): small, ("mobilenet", 64): models64["mobilenet"]}
    tables = {
        ("mobilenet", 32): costs.layer_costs(small),
        ("mobilenet", 64): tables64[("mobilenet", 64)],
    }
    summary = costs_report.resolution_summary(models, tables)
    assert summary.index.names == ["model", "resolution"]
    assert summary["MACs / px"].nunique() == 1  # exactly quadratic
    assert summary.loc[("MobileNet", 64), "GFLOPs"] == pytest.approx(
        2 * summary.loc[("MobileNet", 64), "GMACs"]
    )
    assert costs_report.loglog_slopes(summary)["MobileNet"] == pytest.approx(2, abs=1e-3)
    fake = pd.DataFrame(
        {"GMACs": [0.2, 4.0]},
        index=pd.MultiIndex.from_tuples(
            [("MobileNet", 128), ("ResNet50", 224)], names=["model", "resolution"]
        ),
    )
    assert costs_report.headline(fake) == (
        "MobileNet at 128 px (the paper's pick): 0.200 GMACs per image\n"
        "ResNet50 at 224 px (its best setting in the paper): 4.000 GMACs per image, 20.0x more"
    )


def test_report_op_shares():
    rows = [
        {"model": "A", "op": "Conv2D", "FLOPs": 90},
        {"model": "A", "op": "Mul", "FLOPs": 10},
        {"model": "B", "op": "Conv2D", "FLOPs": 50},
        {"model": "B", "op": "BiasAdd", "FLOPs": 50},
    ]
    shares = costs_report.op_shares(rows)
    assert list(shares.columns) == ["A", "B"] and shares.index[0] == "Conv2D"
    assert shares.sum().tolist() == [100, 100]
    assert shares.loc["BiasAdd", "A"] == 0 and shares.loc["Mul", "A"] == 10


def test_report_sizes_and_quoted_counts(models64):
    mob = models64["mobilenet"]
    sizes = costs_report.size_table(
        {("mobilenet", 64): mob}, ["mobilenet"], 64, {"MobileNet": 12.5}
    )
    row = sizes.loc["MobileNet"]
    assert row["params"] == mob.count_params() == row["trainable"] + row["BN stats"]
    assert row["params×4 (MiB)"] == pytest.approx(mob.count_params() * 4 / 2**20)
    assert row[".h5 (MiB)"] > row["params×4 (MiB)"] and row["paper (MB)"] == 12.5
    top = keras.applications.MobileNet(weights=None, input_shape=(64, 64, 3))
    quoted = costs_report.quoted_counts({"mobilenet": mob}, {"mobilenet": top})
    q = quoted.loc["MobileNet"]
    assert q["with 1000-class top GFLOPs"] == pytest.approx(2 * q["with 1000-class top GMACs"])
    assert q["with paper's head GMACs"] - q["base only GMACs"] == pytest.approx(1024 / 1e9)
    assert q["params with paper's head (M)"] == pytest.approx(mob.count_params() / 1e6)


def test_report_adam_state_sizes():
    sizes = costs_report.adam_state_sizes(["mobilenet"], 32)
    assert sizes.index.name == "model"
    # Adam's two moments per trainable weight: about three times the bare weights
    ratio = sizes.loc["MobileNet", ".keras with Adam state (MiB)"] / (3_229_889 * 4 / 2**20)
    assert 2.8 < ratio < 3.3


def test_report_figures(tables64):
    import matplotlib

    matplotlib.use("Agg")
    fig = costs_report.plot_reduction_curves({3, 5})
    assert len(fig.axes[0].lines) >= 2
    summary = pd.DataFrame(
        {"GMACs": [0.05, 0.3]},
        index=pd.MultiIndex.from_tuples(
            [("MobileNet", 64), ("ResNet50", 64)], names=["model", "resolution"]
        ),
    )
    kinds = costs_report.cost_by_kind(tables64, ["mobilenet", "resnet50"], 64)
    fig = costs_report.plot_cost_vs_resolution(summary, kinds, 64)
    assert len(fig.axes) >= 2 and "64 px" in fig.axes[1].get_title()


@TF_ONLY
def test_report_profiler_check(models64, tables64):
    models = {("mobilenet", 64): models64["mobilenet"]}
    profiled, ops = costs_report.profiler_check(models, tables64, 64)
    assert profiled.index.names == ["model", "resolution"]
    row = profiled.loc[("MobileNet", 64)]
    assert row["prof. conv+matmul"] == row["2·MACs"] and 0 < row["excess %"] < 2
    assert list(ops.columns) == ["MobileNet"] and ops.index[0] == "Conv2D"
