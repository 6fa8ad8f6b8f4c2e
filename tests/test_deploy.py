"""LiteRT export, runtime, latency, resolution mismatch and deployment records (helpers.deploy).

Fast tests use a tiny fully convolutional model with the same layer names as
``helpers.training.models.build_model`` (pixels → preprocess → base → gap → dropout → output), briefly
trained on synthetic images so that its outputs are not constant. The MobileNet test is slow.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")

import keras  # noqa: E402

from helpers.deploy import export, latency, mismatch, records, runtime  # noqa: E402
from helpers.training.models import Preprocess  # noqa: E402

RES = 32
FLOAT32_TOL = 1e-4  # observed max |Δp| 1.5e-5 (MobileNet@128, ImageNet base, fitted head), 6.8e-6 @64


def tiny_model(res: int = RES, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(res, res, 3), name="pixels")
    x = Preprocess("native", "mobilenet", name="preprocess")(inputs)
    base = keras.Sequential([
        keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        keras.layers.DepthwiseConv2D(3, padding="same"),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(6.0),
        keras.layers.Conv2D(16, 1, activation="relu"),
    ], name="base")
    x = base(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dropout(0.5, name="dropout")(x)
    out = keras.layers.Dense(1, activation="sigmoid", name="output", dtype="float32")(x)
    return keras.Model(inputs, out, name=f"tiny_{res}")


def synthetic(n: int, res: int = RES, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images whose label is 'redder than blue', with smooth structure, uint8."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, res, res, 3)).astype(np.float32)
    shift = rng.normal(0, 40, (n, 1, 1, 3))
    x = np.clip(x * 0.6 + 50 + shift, 0, 255).astype(np.uint8)
    y = (x[..., 0].mean(axis=(1, 2)) > x[..., 2].mean(axis=(1, 2))).astype(int)
    return x, y


@pytest.fixture(scope="module")
def trained():
    model = tiny_model()
    x, y = synthetic(160)
    model.compile(optimizer=keras.optimizers.Adam(3e-2), loss="binary_crossentropy")
    model.fit(x.astype(np.float32), y, epochs=4, batch_size=32, verbose=0)
    xt, yt = synthetic(64, seed=1)
    return {"model": model, "x_train": x, "x_test": xt, "y_test": yt,
            "keras_probs": runtime.keras_probs(model, xt)}


@pytest.fixture(scope="module")
def float32_model(trained):
    return runtime.LiteRTModel(export.to_litert(trained["model"], "float32"))


@pytest.fixture(scope="module")
def int8_model(trained):
    rep = export.representative_sample(trained["x_train"], n=64, seed=0)
    return runtime.LiteRTModel(export.to_litert(trained["model"], "int8", rep))


def test_representative_sample_is_seeded_and_bounded():
    x, _ = synthetic(30)
    a = export.representative_sample(x, n=10, seed=3)
    b = export.representative_sample(x, n=10, seed=3)
    assert a.shape == (10, RES, RES, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert len(export.representative_sample(x, n=100)) == 30
    with pytest.raises(ValueError):
        export.representative_sample(x[..., 0])


def test_to_litert_rejects_bad_format_and_int8_without_data(trained):
    with pytest.raises(ValueError, match="fmt"):
        export.to_litert(trained["model"], "int4")
    with pytest.raises(ValueError, match="representative"):
        export.to_litert(trained["model"], "int8")


def test_float32_export_matches_keras(trained, float32_model):
    assert trained["keras_probs"].std() > 0.01, "the test model's outputs should vary"
    assert float32_model.input_dtype == np.float32
    assert float32_model.input_shape == (1, RES, RES, 3)
    r = runtime.check_parity(trained["model"], float32_model, trained["x_test"], tol=FLOAT32_TOL)
    assert r["within_tol"], r
    assert r["agreement"] == 1.0
    probs = float32_model.predict(trained["x_test"])
    assert probs.dtype == np.float64 and probs.shape == (64,)


def test_int8_export_takes_uint8_pixels_and_correlates(trained, int8_model):
    assert int8_model.input_dtype == np.uint8
    assert int8_model.output_dtype == np.float32  # dequantised inside the graph
    scale, zp = int8_model.input_quantization
    assert scale > 0
    ops = int8_model.op_counts()
    assert "QUANTIZE" in ops or "CONV_2D" in ops or "DELEGATE" in ops
    r = runtime.check_parity(trained["keras_probs"], int8_model, trained["x_test"])
    assert r["pearson"] is not None and r["pearson"] > 0.9, r
    assert r["mean_abs_diff"] < 0.05, r
    assert int8_model.size_bytes > 0  # (a model this tiny is no smaller in int8: headers)


def test_runtime_applies_input_and_output_quantisation(int8_model, monkeypatch):
    q = runtime.quantize(np.array([0.0, 1.0, 254.0, 255.0, 300.0]), 2.0, 3, np.uint8)
    np.testing.assert_array_equal(q, [3, 4, 130, 131, 153])
    np.testing.assert_allclose(runtime.dequantize(np.array([3, 131]), 2.0, 3), [0.0, 256.0])
    img = np.full((RES, RES, 3), 200, np.uint8)
    # the real file: raw pixels pass through when scale 1 / zero point 0
    x = int8_model.prepare_input(img)
    assert x.dtype == np.uint8 and x.shape == (1, RES, RES, 3)
    s, z = int8_model.input_quantization
    np.testing.assert_array_equal(x, runtime.quantize(img[None], s, z, np.uint8))
    # other quantisation parameters are applied
    monkeypatch.setitem(int8_model._in, "quantization", (2.0, 10))
    assert int(int8_model.prepare_input(img)[0, 0, 0, 0]) == 110
    with pytest.raises(ValueError, match="shape"):
        int8_model.prepare_input(np.zeros((RES + 1, RES + 1, 3), np.uint8))


def test_latency_and_memory_report_positive_numbers(float32_model):
    lat = latency.measure_latency(float32_model, RES, threads=1, repeats=5, warmup=1)
    assert {"median_ms", "p90_ms", "n"} <= set(lat)
    assert lat["n"] == 5 and lat["median_ms"] > 0 and lat["p90_ms"] >= lat["min_ms"] > 0
    lat2 = latency.measure_latency(float32_model.content, threads=2, repeats=2, warmup=0)
    assert lat2["threads"] == 2 and lat2["median_ms"] > 0
    with pytest.raises(ValueError):
        latency.measure_latency(float32_model, RES + 1, repeats=1)
    mem = latency.peak_memory_mb(float32_model, runs=1)
    assert mem["peak_rss_mb"] > 0 and mem["delta_mb"] >= 0 and "VmHWM" in mem["method"]


def test_rebuild_at_same_size_reproduces_weights_and_predictions(trained):
    m = trained["model"]
    same = mismatch.rebuild_at(m, RES, builder=lambda r: tiny_model(r, seed=9))
    assert same is not m
    for a, b in zip(m.get_weights(), same.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(runtime.keras_probs(same, trained["x_test"]),
                               trained["keras_probs"], atol=1e-6)
    bigger = mismatch.rebuild_at(m, 48, builder=tiny_model)
    assert tuple(bigger.inputs[0].shape[1:]) == (48, 48, 3)


def test_rebuild_build_model_copies_weights():
    from helpers.training.models import build_model

    m = build_model("mobilenet", 32, weights=None, preprocessing="native")
    assert mismatch.rebuild_at(m, 32) is m
    assert mismatch.model_spec(m) == {"model_name": "mobilenet", "preprocessing": "native",
                                      "dropout": 0.5, "resolution": 32}
    big = mismatch.rebuild_at(m, 48)
    assert big.get_layer("preprocess").mode == "native"
    for a, b in zip(m.get_weights(), big.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_evaluate_at_sizes_table(trained):
    xt, yt = trained["x_test"], trained["y_test"]
    sizes = {RES: xt, 48: mismatch.resize_images(xt, 48)}
    df, probs = mismatch.evaluate_at_sizes(trained["model"], sizes, yt, builder=tiny_model,
                                           return_probs=True)
    assert list(df["eval_res"]) == [RES, 48] and set(df["train_res"]) == {RES}
    row = df.set_index("eval_res").loc[RES]
    assert row["delta_auc"] == 0.0 and row["p"] == 1.0
    assert 0 <= row["auc_lo"] <= row["auc"] <= row["auc_hi"] <= 1
    np.testing.assert_allclose(probs[RES], trained["keras_probs"], atol=1e-6)


def fake_run_record(y, probs) -> dict:
    return {"run_id": "toy-melanoma-tiny-32-frozen-native-s0-deadbeef",
            "params": {"model": "tiny", "resolution": RES, "seed": 0},
            "predictions": {"test": {"ids": [f"img{i}" for i in range(len(y))],
                                     "labels": [int(v) for v in y],
                                     "probs": [float(p) for p in probs]}},
            "provenance": {"data_fingerprint": "abc", "git_commit": None}}


def test_deployment_record_keys_and_zero_delta_for_keras_itself(trained, float32_model, tmp_path):
    run = fake_run_record(trained["y_test"], trained["keras_probs"])
    rec = records.deployment_record(run, "float32", float32_model, trained["x_test"],
                                    trained["keras_probs"], probs=trained["keras_probs"],
                                    repeats=3, warmup=1)
    assert set(records.REQUIRED_KEYS) <= set(rec)
    assert rec["schema"] == records.DEPLOY_SCHEMA and rec["run_id"] == run["run_id"]
    m = rec["metrics"]["test"]
    assert m["delta_auc"] == 0.0 and m["delta_p"] == 1.0 and m["delta_lo"] == m["delta_hi"] == 0
    assert m["auc"] == m["keras_auc"] and 0 <= m["accuracy"] <= 1
    assert rec["file"]["size_bytes"] == float32_model.size_bytes
    for k in ("threads_1", "threads_all"):
        assert rec["latency_ms"][k]["median_ms"] > 0 and rec["latency_ms"][k]["p90_ms"] > 0
    assert rec["memory_mb"]["peak_rss_mb"] > 0
    prov = rec["provenance"]
    assert "ai-edge-litert" in prov["runtime"] and "simd" in prov["cpu"]
    path = records.save_deployment_record(rec, tmp_path)
    assert path == tmp_path / "records" / f"{run['run_id']}-float32.json"
    back = json.loads(path.read_text())
    assert back["predictions"]["test"]["ids"] == run["predictions"]["test"]["ids"]
    # the real LiteRT predictions: ΔAUC ≈ 0 for float32
    rec2 = records.deployment_record(run, "float32", float32_model, trained["x_test"],
                                     measure=False)
    assert abs(rec2["metrics"]["test"]["delta_auc"]) < 1e-3 and rec2["latency_ms"] is None


@pytest.mark.slow
def test_mobilenet_formats_parity():
    """MobileNet@32 (weights=None, head scaled for spread): every format against Keras."""
    from helpers.training.models import build_model

    keras.utils.set_random_seed(0)
    m = build_model("mobilenet", 32, weights=None, preprocessing="native")
    w, b = m.get_layer("output").get_weights()
    m.get_layer("output").set_weights([w * 50, b])
    x, _ = synthetic(48)
    kp = runtime.keras_probs(m, x)
    tol = {"float32": FLOAT32_TOL, "float16": 2e-2}
    for fmt in export.FORMATS:
        rep = export.representative_sample(x, 32) if fmt in export.FULL_INT8 else None
        lm = runtime.LiteRTModel(export.to_litert(m, fmt, rep), output=export.output_kind(fmt))
        r = runtime.check_parity(kp, lm, x, tol=tol.get(fmt))
        if fmt in tol:
            assert r["within_tol"], (fmt, r)
        else:  # the int8 formats: same decisions at 0.5 on this well-spread head
            assert r["agreement"] >= 0.9, (fmt, r)
        assert (lm.input_dtype == np.uint8) == (fmt in export.FULL_INT8)
        p = lm.predict(x)  # int8_logit: the sigmoid applied here, so still probabilities
        assert 0.0 <= p.min() <= p.max() <= 1.0, fmt


def test_load_average_and_cpu_busy_fraction_are_sane():
    la = latency.load_average()
    assert la is None or set(la) == {"1min", "5min", "15min"}
    busy = latency.cpu_busy_fraction(0.2)
    assert busy is None or 0.0 <= busy <= 1.0


def test_remeasure_latency_marks_quiet_keeps_old_block_and_checks_the_file(
        trained, float32_model, int8_model, tmp_path):
    run = fake_run_record(trained["y_test"], trained["keras_probs"])
    rec = records.deployment_record(run, "float32", float32_model, trained["x_test"],
                                    trained["keras_probs"], repeats=3, warmup=1)
    assert rec["latency_ms"]["measured_quiet"] is False and "loadavg" in rec["latency_ms"]
    f = export.write_litert(float32_model.content, tmp_path / "m.tflite")
    new = records.remeasure_latency(rec, f, repeats=3, warmup=1, busy_before=0.05, memory=False)
    lat = new["latency_ms"]
    assert lat["measured_quiet"] is True and lat["cpu_busy_before"] == 0.05
    assert lat["threads_1"]["n"] == 3 and lat["threads_all"]["median_ms"] > 0
    assert lat["superseded"]["threads_1"] == rec["latency_ms"]["threads_1"]
    assert new["metrics"] == rec["metrics"] and rec["latency_ms"]["measured_quiet"] is False
    busy = records.remeasure_latency(rec, f, repeats=2, warmup=0, busy_before=0.9, memory=False)
    assert busy["latency_ms"]["measured_quiet"] is False
    other = export.write_litert(int8_model.content, tmp_path / "other.tflite")
    with pytest.raises(ValueError, match="is not the model of record"):
        records.remeasure_latency(rec, other, repeats=2, warmup=0)


def test_latency_only_mode_rewrites_records_in_place(trained, float32_model, tmp_path):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "deploy_sweep", Path(__file__).resolve().parents[1] / "scripts" / "deploy_sweep.py")
    sweep = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sweep)
    run = fake_run_record(trained["y_test"], trained["keras_probs"])
    run["params"].update(preprocessing="native")
    rec = records.deployment_record(run, "float32", float32_model, trained["x_test"],
                                    trained["keras_probs"], repeats=2, warmup=0)
    records.save_deployment_record(rec, tmp_path / "out")
    export.write_litert(float32_model.content, tmp_path / "models" / f"{rec['deploy_id']}.tflite")
    argv = ["--latency-only", "--models", "tiny", "--resolutions", str(RES), "--output-dir",
            str(tmp_path / "out"), "--models-dir", str(tmp_path / "models"), "--repeats", "3",
            "--warmup", "1", "--quiet-threshold", "1.01", "--quiet-wait", "0"]
    assert sweep.main(argv) == 0
    (back,) = records.load_deployment_records(tmp_path / "out")
    assert back["latency_ms"]["measured_quiet"] is True and back["latency_ms"]["threads_1"]["n"] == 3
    assert back["latency_ms"]["loadavg"] is None or "1min" in back["latency_ms"]["loadavg"]
    assert back["delegation"]["partitions"] >= 1


def test_report_frame_table_and_pareto(trained, float32_model, int8_model):
    from helpers.chapters import deployment as report

    run = fake_run_record(trained["y_test"], trained["keras_probs"])
    run["params"].update(model="mobilenet", dataset="toy", task="melanoma", regime="full",
                         preprocessing="native", precision="mixed_bfloat16")
    recs = [records.deployment_record(run, fmt, lm, trained["x_test"], trained["keras_probs"],
                                      repeats=2, warmup=0)
            for fmt, lm in (("int8", int8_model), ("float32", float32_model))]
    df = report.deployment_frame(recs)
    assert list(df["format"]) == ["float32", "int8"]  # sorted by format order
    assert (df["acc_per_mb"] > 0).all() and not df["quiet"].any()
    md = report.benchmark_markdown(df, {df["run_id"].iloc[0]: 0.8})
    assert md.count("\n| MobileNet | 32 |") == 1 and "shared the CPU" in md
    assert "--models mobilenet --resolutions 32 --formats int8" in md
    assert "validation AUC 0.800" in md  # the choice is made on validation
    assert "Recommended" not in report.benchmark_markdown(df)  # no validation AUC: no choice
    sp = report.speedups(df)
    assert len(sp) == 1 and sp.loc[0, "shrink"] > 0 and sp.loc[0, "speedup"] > 0  # tiny: no 4x
    mask = report.pareto_front(np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.7, 0.6]))
    assert mask.tolist() == [True, True, False]
    kept = report.kept_summary(df)  # int8 rows only, labelled with regime and data set
    assert len(kept) == 1 and kept.iloc[0]["Model"] == "MobileNet, full, native, bf16"
    assert kept.iloc[0]["data"] == "toy/melanoma" and kept.iloc[0]["px · seed"] == f"{RES} · 0"
    f32 = df[df["format"] == "float32"].iloc[0]
    assert kept.iloc[0]["ΔAUC float32 file"] == report.ci_text(
        f32["delta_auc"], f32["delta_lo"], f32["delta_hi"])
    no_f32 = report.kept_summary(df[df["format"] == "int8"])
    assert no_f32.iloc[0]["ΔAUC float32 file"] == "—"  # the book's one missing mark


def test_mismatch_frame_matrix_and_best_size():
    from helpers.chapters import deployment as report

    rows = lambda tr: [{"train_res": tr, "eval_res": e, "n": 10, "auc": 0.7 - abs(e - tr) / 1000,  # noqa: E731
                        "auc_lo": 0.6, "auc_hi": 0.8, "delta_auc": -abs(e - tr) / 1000,
                        "delta_lo": -0.1, "delta_hi": 0.1, "p": 0.5} for e in (64, 128)]
    recs = [{"kind": "resolution_mismatch", "params": {"model": "mobilenet"}, "rows": rows(t)}
            for t in (64, 128)]
    df = report.mismatch_frame(recs)
    mat = report.mismatch_matrix(df, "mobilenet")
    assert mat.shape == (2, 2) and mat.loc[64, 64] == 0.7 and mat.loc[64, 128] < 0.7
    best = report.best_eval_size(df)
    assert (best["train_res"] == best["eval_res"]).all()


def test_delegation_summary_float_and_int8_run_in_one_xnnpack_partition(float32_model, int8_model):
    f = runtime.delegation_summary(float32_model.content)
    assert f["partitions"] == 1 and f["outside_delegate"] == {} and f["int8_weight_ops"] == {}
    assert f["ops"]["DEPTHWISE_CONV_2D"] == 1
    q = runtime.delegation_summary(int8_model.content)
    assert q["partitions"] == 1 and q["int8_weight_ops"] == {}
    assert set(q["outside_delegate"]) <= {"QUANTIZE", "DEQUANTIZE"}


def test_logit_model_keeps_the_ranking_and_int8_logit_outputs_probabilities(trained):
    m = trained["model"]
    lm_model = export.logit_model(m)
    logits = np.asarray(lm_model.predict_on_batch(trained["x_test"].astype(np.float32))).ravel()
    # the sigmoid of the logit model is the original model (same weights, linear head)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), trained["keras_probs"], atol=1e-5)
    with pytest.raises(ValueError, match="not a Dense"):
        export.logit_model(m, head="gap")
    assert export.output_kind("int8_logit") == "logit"
    assert export.output_kind("int8") == "probability"
    rep = export.representative_sample(trained["x_train"], n=64, seed=0)
    data = export.to_litert(m, "int8_logit", rep)
    raw = runtime.LiteRTModel(data)  # read as probabilities, the logits come out unchanged
    lq = runtime.LiteRTModel(data, output="logit")
    assert lq.io_details()["output"]["kind"] == "logit"
    p_raw, p = raw.predict(trained["x_test"]), lq.predict(trained["x_test"])
    assert (p_raw < 0).any() or (p_raw > 1).any()  # logits, not probabilities
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-p_raw)), rtol=1e-9)
    r = runtime.check_parity(trained["keras_probs"], lq, trained["x_test"])
    assert r["pearson"] > 0.9, r
    with pytest.raises(ValueError, match="output"):
        runtime.LiteRTModel(data, output="odds")


def test_int8_saturation_counts_ties_of_the_int8_sigmoid_grid():
    from helpers.chapters import deployment as report

    y = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([0.9990, 0.2, 0.9995, 0.9991, 0.9999, 0.9998])  # float32 ranks all positives
    q = np.round(p * 256) / 256                                  # the int8 sigmoid's grid: ties

    def rec(fmt, probs):
        return {"run_id": "r", "format": fmt, "params": {"seed": 0},
                "predictions": {"test": {"labels": y.tolist(), "probs": list(probs)}}}

    t = report.int8_saturation([rec("float32", p), rec("int8", q)])
    row = t.iloc[0]
    assert row["saturated"] == pytest.approx(5 / 6)
    assert row["auc_float32"] == pytest.approx(8 / 9)
    assert row["auc_float32_on_int8_grid"] == pytest.approx(row["auc_int8"])
    assert row["auc_int8"] < row["auc_float32"] and np.isnan(row["auc_int8_logit"])
    assert report.int8_saturation([rec("float32", p)]).empty
    shown = report.saturation_table(t)
    assert shown.iloc[0]["saturated"] == "83%" and shown.iloc[0]["int8, logit out"] == "—"
    v = report.saturation_values(t, t)
    assert v["sat_share_min"] == v["sat_share_max"] == pytest.approx(5 / 6)
    assert v["sat_auc_f32_max"] == pytest.approx(8 / 9) and np.isnan(v["sat_auc_logit_min"])
    assert v["sat_frozen_grid_cost_max"] == pytest.approx(8 / 9 - row["auc_float32_on_int8_grid"])
    empty = report.saturation_values(t.iloc[:0], t.iloc[:0])
    assert all(np.isnan(x) for x in empty.values())
