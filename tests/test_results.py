"""Tests for helpers.chapters.results (and a smoke test of helpers.chapters.plots) on SYNTHETIC run records.

Everything written by :func:`record_factory.synthetic_grid` is TEST-ONLY SYNTHETIC DATA: random
probabilities shaped like the run-record schema of CONTRIBUTING.md. None of it is a result.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from record_factory import make_record, synthetic_grid, synthetic_record, write_record
from sklearn.metrics import roc_auc_score

from helpers.chapters import results
from helpers.chapters.formatting import MISSING, p_text
from helpers.stats import delong as stats

# tests/test_issue28_ownfolder.py imports the grid writer from here under its old name
write_synthetic_records = synthetic_grid


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic_results")
    synthetic_grid(out, preprocessings=("unit", "native"), n_failed=2)
    # another data set in the same folder must be filtered out
    synthetic_grid(
        out,
        models=("mobilenet",),
        resolutions=(64,),
        seeds=(0,),
        dataset="kermany",
        task="pneumonia",
    )
    return out


@pytest.fixture(scope="module")
def runs(synth_dir: Path) -> pd.DataFrame:
    return results.load_runs(synth_dir, dataset="isic2017", task="melanoma")


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_load_runs_counts_and_flattens(runs: pd.DataFrame) -> None:
    assert len(runs) == 2 * 4 * 2 * 3
    assert runs.attrs["n_failed"] == 2 and runs.attrs["n_ok"] == len(runs)
    for col in (
        "model",
        "resolution",
        "seed",
        "preprocessing",
        "test_auc",
        "test_tp",
        "cost_model_size_mb",
        "latency_batch1_ms",
        "timing_wall_s",
        "pred_test",
    ):
        assert col in runs, col
    assert set(runs["dataset"]) == {"isic2017"}
    assert results.variant_columns(runs) == ["preprocessing"]


def test_load_runs_no_records_names_the_sweep(tmp_path: Path, synth_dir: Path) -> None:
    with pytest.raises(results.NoRunsError, match="helpers sweep"):
        results.load_runs(tmp_path / "missing")
    with pytest.raises(results.NoRunsError, match="Run the sweep first"):
        results.load_runs(synth_dir, dataset="isic2017", task="seborrheic_keratosis")


def test_a_gpu_runs_latency_stays_out_of_the_cpu_latency_columns(tmp_path: Path) -> None:
    cpu, gpu = synthetic_record("mobilenet", 64, 0), synthetic_record("mobilenet", 64, 1)
    gpu["provenance"] = {**(gpu.get("provenance") or {}), "gpu": ["cuda:0"]}
    for rec in (cpu, gpu):
        rec["latency_ms"] = {"batch1": 5.0 if rec is cpu else 0.5}
        write_record(tmp_path, rec)
    df = results.load_runs(tmp_path).set_index("seed")
    assert list(df["device"]) == ["cpu", "gpu"]
    assert df.loc[0, "latency_batch1_ms"] == 5.0 and math.isnan(df.loc[1, "latency_batch1_ms"])
    assert df.loc[1, "gpu_latency_batch1_ms"] == 0.5


def test_load_runs_rejects_percent_metrics(tmp_path: Path) -> None:
    rec = synthetic_record("mobilenet", 64, 0)
    rec["metrics"]["test"]["accuracy"] = 84.6
    write_record(tmp_path, rec)
    with pytest.raises(ValueError, match="fractions"):
        results.load_runs(tmp_path)


def test_table_one_means_and_cis(runs: pd.DataFrame) -> None:
    t = results.table_one(runs)
    assert len(t) == 2 * 4 * 2 and set(t["n_seeds"]) == {3}
    row = t[(t.model == "resnet50") & (t.resolution == 224) & (t.preprocessing == "native")].iloc[0]
    sub = runs[
        (runs.model == "resnet50") & (runs.resolution == 224) & (runs.preprocessing == "native")
    ]
    mean, lo, hi = stats.mean_ci(sub["test_auc"].to_numpy())
    lo, hi = max(lo, 0.0), min(hi, 1.0)  # table_one clips to the metric's range
    assert (row["auc"], row["auc_lo"], row["auc_hi"]) == pytest.approx((mean, lo, hi))
    assert row["AUC"] == f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"
    acc = sub["test_accuracy"].mean()
    assert row["Accuracy (%)"].startswith(f"{100 * acc:.1f} [")
    shown = results.display_table(t)
    assert "auc_lo" not in shown and shown["model"].iloc[0] == "MobileNet"


def test_table_one_single_seed_has_no_interval(runs: pd.DataFrame) -> None:
    t = results.table_one(runs[runs.seed == 0])
    assert set(t["n_seeds"]) == {1} and t["auc_lo"].isna().all()
    assert "[" not in t["AUC"].iloc[0]


def test_paper_table_one_is_the_quoted_table() -> None:
    p = results.paper_table_one()
    assert len(p) == 8
    row = p[(p.model == "mobilenet") & (p.resolution == 128)].iloc[0]
    assert row["accuracy"] == pytest.approx(0.9076) and row["auc"] == pytest.approx(0.9630)
    merged = results.side_by_side(results.table_one(runs_unit := _unit_only()), p)
    assert "AUC paper" in merged and "AUC ours" in merged and len(merged) == len(runs_unit) // 3


def _unit_only() -> pd.DataFrame:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        synthetic_grid(d, resolutions=(64, 128), seeds=(0, 1, 2))
        return results.load_runs(d)


def test_delong_per_run_matches_sklearn(runs: pd.DataFrame) -> None:
    d = results.delong_per_run(runs)
    assert len(d) == len(runs)
    run = runs.iloc[5]
    pred = run["pred_test"]
    assert d.iloc[5]["auc"] == pytest.approx(roc_auc_score(pred["labels"], pred["probs"]))
    assert d.iloc[5]["auc_sd"] == pytest.approx(
        math.sqrt(stats.fast_delong(pred["labels"], pred["probs"])[1])
    )


def test_delong_per_run_catches_inconsistent_record(runs: pd.DataFrame) -> None:
    bad = runs.head(1).copy()
    bad["test_auc"] = 0.5
    with pytest.raises(ValueError, match="inconsistent"):
        results.delong_per_run(bad)


def test_resolution_tests_against_independent_computation(runs: pd.DataFrame) -> None:
    r = results.resolution_tests(runs)
    assert len(r) == 2 * 2 * 4
    fam = runs[(runs.model == "mobilenet") & (runs.preprocessing == "unit")]
    # independent: join by id with pandas, average seeds, sklearn AUC
    ens = {}
    for res, sub in fam.groupby("resolution"):
        frames = [pd.Series(p["probs"], index=p["ids"]) for p in sub["pred_test"]]
        ens[res] = pd.concat(frames, axis=1).mean(axis=1).sort_index()
    first = fam.iloc[0]["pred_test"]
    labels = pd.Series(first["labels"], index=first["ids"]).sort_index()
    aucs = {res: roc_auc_score(labels, s) for res, s in ens.items()}
    best = max(aucs, key=aucs.get)
    rows = r[(r.model == "mobilenet") & (r.preprocessing == "unit")].set_index("resolution")
    assert set(rows["best_resolution"]) == {best}
    assert math.isnan(rows.loc[best, "p"])
    for res in aucs:
        assert rows.loc[res, "auc"] == pytest.approx(aucs[res])
    other = next(res for res in aucs if res != best)
    test = stats.delong_paired_test(labels.to_numpy(), ens[other].to_numpy(), ens[best].to_numpy())
    assert rows.loc[other, "p"] == pytest.approx(test["p"])
    assert rows.loc[other, "seeds p<0.05"].endswith("/3")
    assert len(rows.loc[other, "p_seeds"]) == 3
    shown = results.display_table(rows.reset_index()).set_index("resolution")
    assert len(shown.loc[other, "p_seeds"].split(", ")) == 3  # the page shows them as text
    assert shown.loc[best, "p_seeds"] == MISSING
    assert (rows["p_holm"].dropna() >= rows["p"].dropna()).all()


def test_resolution_tests_require_same_images(tmp_path: Path) -> None:
    synthetic_grid(tmp_path, models=("mobilenet",), resolutions=(64,), seeds=(0,))
    synthetic_grid(
        tmp_path, models=("mobilenet",), resolutions=(128,), seeds=(0,), n_test=91
    )
    with pytest.raises(ValueError, match="different test images"):
        results.resolution_tests(results.load_runs(tmp_path))


def test_compare_variants_preprocessing(runs: pd.DataFrame) -> None:
    c = results.compare_variants(runs, "preprocessing", "unit", "native")
    assert len(c) == 2 * 4
    assert {"auc_unit", "auc_native", "p", "p_seeds"} <= set(c.columns)
    # the synthetic native runs were given more signal
    assert (c["auc_native"] > c["auc_unit"]).mean() > 0.5
    with pytest.raises(results.NoRunsError):
        results.compare_variants(runs, "preprocessing", "unit", "other")


def test_compare_variants_models(runs: pd.DataFrame) -> None:
    c = results.compare_variants(runs, "model", "mobilenet", "resnet50")
    assert len(c) == 4 * 2  # resolutions x preprocessings, both models in each
    assert {"auc_mobilenet", "auc_resnet50", "n_seeds_resnet50", "p"} <= set(c.columns)
    assert (c["n_seeds_mobilenet"] == 3).all() and (c["n_seeds_resnet50"] == 3).all()
    # the synthetic MobileNet runs were given more signal at every size (some AUCs saturate at 1)
    assert (c["auc_mobilenet"] >= c["auc_resnet50"]).all()
    assert (c["auc_mobilenet"] > c["auc_resnet50"]).sum() >= 5
    # one row recomputed by hand: seed-averaged probabilities joined by image id, paired DeLong
    row = c[(c["resolution"] == 64) & (c["preprocessing"] == "unit")].iloc[0]
    sub = runs[(runs["resolution"] == 64) & (runs["preprocessing"] == "unit")]

    def ensemble(model: str) -> pd.Series:
        per_seed = [
            pd.Series(r["pred_test"]["probs"], index=r["pred_test"]["ids"])
            for _, r in sub[sub["model"] == model].iterrows()
        ]
        return pd.concat(per_seed, axis=1).mean(axis=1).sort_index()

    mob, res = ensemble("mobilenet"), ensemble("resnet50")
    first = sub.iloc[0]["pred_test"]
    labels = pd.Series(first["labels"], index=first["ids"]).sort_index()
    test = stats.delong_paired_test(labels.to_numpy(), mob.to_numpy(), res.to_numpy())
    assert row["auc_mobilenet"] == pytest.approx(test["auc_a"])
    assert row["auc_resnet50"] == pytest.approx(test["auc_b"])
    assert row["p"] == pytest.approx(test["p"])
    assert row["p"] < 0.05  # signal 0.7 vs 0.3 on 90 synthetic test images


def test_table_two(runs: pd.DataFrame) -> None:
    t = results.table_two(runs, resolution=128)
    assert len(t) == 2 * 2
    row = t.iloc[0]
    assert row["accuracy_density"] == pytest.approx(row["accuracy_pct"] / row["model_size_mb"])
    assert row["accuracy_per_gflop"] == pytest.approx(row["accuracy_pct"] / row["gflops"])
    assert row["accuracy_per_ms"] == pytest.approx(row["accuracy_pct"] / row["latency_ms"])


def test_regimes_with_unfreeze_blocks_are_grouped(tmp_path: Path) -> None:
    from helpers.chapters import plots

    synthetic_grid(tmp_path, seeds=(0, 1), regimes=("frozen",), n_test=40, n_val=20)
    for blocks in (2, 4):
        synthetic_grid(
            tmp_path,
            models=("mobilenet",),
            resolutions=(64, 128),
            seeds=(0, 1),
            regimes=("partial",),
            unfreeze_blocks=blocks,
            n_test=40,
            n_val=20,
        )
    df = results.load_runs(tmp_path)
    assert results.variant_columns(df) == ["regime", "unfreeze_blocks"]
    setup = results.main_setup(df)
    assert setup["regime"] == "frozen" and pd.isna(setup["unfreeze_blocks"])
    t1 = results.table_one(df)
    assert len(t1) == 2 * 4 + 2 * 2 and set(t1["n_seeds"]) == {2}
    assert len(plots.select(t1, setup)) == 8
    partial = results.main_setup(df[df["regime"] == "partial"])
    assert partial["unfreeze_blocks"] in (2, 4)
    tests = results.resolution_tests(df)
    assert len(tests) == len(t1)
    with pytest.raises(ValueError, match="unfreeze_blocks"):
        plots.select(t1, {"regime": "partial"})


def test_precision_is_part_of_a_configuration(tmp_path: Path) -> None:
    """A bf16 run of the same cell and seed is a configuration of its own, not a 4th seed."""
    small = {"models": ("mobilenet",), "n_test": 40, "n_val": 20}
    synthetic_grid(tmp_path, resolutions=(64, 128), seeds=(0, 1, 2), **small)
    only32 = results.load_runs(tmp_path)
    assert set(only32["precision"]) == {"float32"}  # absent from the records = float32
    assert "precision" not in results.variant_columns(only32)
    assert "precision" not in results.table_one(only32)  # one precision: no column
    bf16 = synthetic_grid(
        tmp_path, resolutions=(64,), seeds=(0,), precision="mixed_bfloat16", **small
    )
    assert "-bf16-s0-" in bf16[0]  # its own run id
    df = results.load_runs(tmp_path)
    assert len(df) == 7 and results.variant_columns(df) == ["precision"]
    t1 = results.table_one(df)
    n = t1.set_index(["resolution", "precision"])["n_seeds"].to_dict()
    assert n == {(64, "float32"): 3, (64, "mixed_bfloat16"): 1, (128, "float32"): 3}
    assert "precision" in results.display_table(t1)  # two precisions: shown
    assert results.main_setup(df) == {"precision": "float32"}
    fam = results.resolution_tests(df).set_index(["precision", "resolution"])
    assert fam.loc[("mixed_bfloat16", 64), "n_seeds"] == 1
    assert fam.loc[("float32", 64), "n_seeds"] == 3
    parity = results.compare_variants(df, "precision", "float32", "mixed_bfloat16")
    assert len(parity) == 1 and parity["n_seeds_float32"].iloc[0] == 3
    assert parity["n_seeds_mixed_bfloat16"].iloc[0] == 1


def test_prose_bullets_glue_values_and_one_bullet_per_row() -> None:
    table = pd.DataFrame(
        [
            {"model": "mobilenet", "resolution": 64, "auc_a": 0.71, "p": 0.0004},
            {"model": "resnet50", "resolution": 64, "auc_a": 0.52, "p": 0.2},
        ]
    )
    values, md = results.prose.bullets(
        table,
        key=lambda row: f"x_{row['model']}",
        numbers={"auc": "auc_a", "p": "p", "res": lambda row: int(row["resolution"])},
        sentence=lambda row: f"{row['model']}: {p_text(row['p'])}",
    )
    assert values == {
        "x_mobilenet_auc": 0.71,
        "x_mobilenet_p": 0.0004,
        "x_mobilenet_res": 64,
        "x_resnet50_auc": 0.52,
        "x_resnet50_p": 0.2,
        "x_resnet50_res": 64,
    }
    assert md == "* mobilenet: p < 0.001\n* resnet50: p = 0.200"
    assert results.prose.rounded(0.123456) == 0.1235 and results.prose.rounded(3) == 3
    assert math.isnan(results.prose.rounded(math.nan))


def test_seed_aware_prose_matches_the_comparisons(runs: pd.DataFrame) -> None:
    """The names the pages cite for a comparison (``or_models_…``, ``or_regime_…``): the seed
    means of both sides, the adjusted p and its text, one bullet per comparison."""
    from helpers.analysis import inference
    from helpers.chapters import comparison_prose

    cmp = inference.variant_comparisons(runs, "model")
    values, md = comparison_prose.seed_comparisons("model", cmp, runs)
    assert md.count("\n* ") == len(cmp) - 1 and md.startswith("* `full`, `")
    row = cmp[(cmp["resolution"] == 128) & (cmp["preprocessing"] == "native")].iloc[0]
    key = "or_models_full_native_128"
    assert values[f"{key}_auc_a"] == float(row["auc_mobilenet"])
    assert values[f"{key}_auc_b"] == float(row["auc_resnet50"])
    assert values[f"{key}_p_adj"] == float(row["p_holm"]) and values[f"{key}_n_seeds"] == 3
    assert values[f"{key}_p_adj_txt"] == p_text(float(row["p_holm"]))
    assert values[f"{key}_verdict"] == row["verdict"]  # the equivalence test's word
    assert row["verdict"] in {"higher", "lower", "equivalent", "inconclusive"}
    assert values[f"{key}_tost_p_adj_txt"] == p_text(float(row["tost_p_holm"]))
    assert values[f"{key}_p_gen_adj"] == float(row["p_generalized_holm"])
    assert values[f"{key}_robust"] in {"robust", "not robust", "no difference claimed"}
    assert len(values) == 12 * len(cmp)
    # nothing to compare: a sentence saying so, no values
    assert results.compare_if_run(runs, "regime", "frozen", "full").empty
    regimes = inference.variant_comparisons(runs, "regime")
    assert comparison_prose.seed_comparisons("regime", regimes, runs) == (
        {}, "No pair of configurations to compare by regime.")


def test_prose_sections_share_one_cell_builder(runs: pd.DataFrame) -> None:
    prose = results.prose
    cmp = results.compare_if_run(runs, "preprocessing", "unit", "native")
    numbers = {"auc_unit": "auc_unit", "auc_native": "auc_native", "p": "p"}
    values, md = prose.cell_bullets(cmp, runs, "x", ("regime", "model"), numbers, lambda r: "s")
    row = cmp.iloc[0]
    key = prose.config_key("x", row, runs, ("regime", "model"))
    assert key == f"x_full_{row['model']}_{int(row['resolution'])}"  # regime: the runs' one value
    assert values[f"{key}_auc_native"] == float(row["auc_native"])
    assert values[f"{key}_p"] == float(row["p"]) and len(values) == 3 * len(cmp)
    assert md == "\n".join(["* s"] * len(cmp))
    assert prose.config_key("op", row, runs, ("model",)) == f"op_{row['model']}_{row['resolution']}"
    assert prose.cell_bullets(cmp.iloc[:0], runs, "x", (), {}, str, empty="none") == ({}, "none")
    assert prose.fit(pd.DataFrame(), runs) == ({}, "No configuration was fully fine-tuned.")


def test_prose_keys_of_bf16_configurations_do_not_collide(tmp_path: Path) -> None:
    from helpers.analysis import inference
    from helpers.chapters import comparison_prose

    small = {"resolutions": (64,), "regimes": ("frozen", "full"), "n_test": 40, "n_val": 20}
    synthetic_grid(tmp_path, seeds=(0, 1), **small)
    synthetic_grid(tmp_path, seeds=(0,), precision="mixed_bfloat16", **small)
    df = results.load_runs(tmp_path)
    for kind, names in (("model", {"or_models_full_unit_64", "or_models_full_unit_bf16_64"}),
                        ("regime", {"or_regime_resnet50_unit_64", "or_regime_resnet50_unit_bf16_64"})):
        values, _ = comparison_prose.seed_comparisons(kind, inference.variant_comparisons(df, kind), df)
        assert {f"{n}_p_adj" for n in names} <= set(values)
    keys, _ = results.prose.key_numbers(results.resolution_tests(df), results.table_one(df), df)
    assert keys["full_mobilenet_unit_best_res"] == keys["full_mobilenet_unit_bf16_best_res"] == 64
    assert keys["t1_full_resnet50_unit_bf16_64_n_seeds"] == 1
    assert keys["t1_full_resnet50_unit_64_n_seeds"] == 2
    shown = results.reading.table_one(results.table_one(df))
    assert "full · bf16" in set(shown.index.get_level_values("Set-up"))


def test_reading_tables_are_narrow_and_named_by_set_up(runs: pd.DataFrame) -> None:
    reading = results.reading
    t1 = results.table_one(runs)
    tables = [
        reading.table_one(t1),
        reading.side_by_side(t1[t1["preprocessing"] == "unit"], results.paper_table_one()),
        reading.per_run(results.delong_per_run(runs)),
        reading.resolution_tests(results.resolution_tests(runs)),
        reading.table_two(results.table_two(runs, resolution=128)),
        reading.comparison(
            results.compare_variants(runs, "preprocessing", "unit", "native"), "unit", "native"
        ),
        reading.run_counts(runs),
        reading.paper_table_two(),
    ]
    for table in tables:
        assert table.index.nlevels + table.shape[1] <= 7, table.columns
        assert not pd.api.types.is_integer_dtype(table.index.get_level_values(0))  # no 0..N
        assert reading.text_width(table) <= 90, reading.text_width(table)
    row = t1[(t1.model == "mobilenet") & (t1.resolution == 64) & (t1.preprocessing == "unit")]
    shown = tables[0].loc[("MobileNet", "unit", "64 px")]
    r = row.iloc[0]
    assert shown["AUC"] == f"{r['auc']:.3f} [{r['auc_lo']:.3f}, {r['auc_hi']:.3f}]"
    assert shown["Acc. %"].startswith(f"{100 * r['accuracy']:.1f} [")
    assert list(tables[6].columns) == ["64 px", "128 px", "224 px", "256 px"]
    assert (tables[6].to_numpy() == 3).all()


def test_history_long(runs: pd.DataFrame) -> None:
    h = results.history_long(runs)
    assert len(h) == 5 * len(runs) and {"epoch", "val_loss", "model", "seed"} <= set(h.columns)


def _fit_runs() -> pd.DataFrame:
    """Two hand-built runs of one configuration whose fit statistics are worked out below."""
    base = {"model": "resnet50", "resolution": 64, "train_majority_share": 0.8}
    return pd.DataFrame(
        [
            {**base, "run_id": "a", "seed": 0, "history": {
                "epoch": [1, 2, 3], "loss": [0.6, 0.5, 0.5], "val_loss": [0.7, 0.4, 0.6],
                "accuracy": [0.78, 0.80, 0.81]}},
            {**base, "run_id": "b", "seed": 1, "history": {
                "epoch": [1, 2, 3], "loss": [0.6, 0.3, 0.1], "val_loss": [0.5, 0.6, 0.7],
                "accuracy": [0.78, 0.90, 0.95]}},
        ]
    )


def test_fit_summary_by_hand() -> None:
    fit = results.fit_summary(_fit_runs())
    assert len(fit) == 1
    row = fit.iloc[0]
    assert row["n_seeds"] == 2
    assert row["train_acc_last"] == pytest.approx((0.81 + 0.95) / 2)
    assert (row["train_acc_min"], row["train_acc_max"]) == (0.81, 0.95)
    assert row["n_beyond_majority"] == 1  # 0.95 > 0.8 + 0.05; 0.81 is not
    assert results.fit_summary(_fit_runs(), margin=0.0)["n_beyond_majority"].iloc[0] == 2
    assert row["train_loss_last"] == pytest.approx(0.3)
    assert row["best_val_epoch"] == pytest.approx(1.5)  # epochs 2 and 1
    assert row["val_loss_min"] == pytest.approx(0.45)
    assert row["val_loss_last"] == pytest.approx(0.65)
    # cross-entropy of always answering the prior 0.8: -(0.8 ln 0.8 + 0.2 ln 0.2)
    assert row["prior_loss"] == pytest.approx(0.500402, abs=1e-6)
    assert results.binary_entropy(0.5) == pytest.approx(math.log(2))
    assert results.binary_entropy(1.0) == 0.0


def test_fit_summary_needs_class_counts_and_history() -> None:
    runs = _fit_runs()
    runs["train_majority_share"] = None
    with pytest.raises(ValueError, match="data.counts.train"):
        results.fit_summary(runs)
    runs = _fit_runs()
    runs.at[1, "history"] = {"loss": [0.1], "val_loss": [0.2]}
    with pytest.raises(ValueError, match="history.accuracy"):
        results.fit_summary(runs)


def test_setting_falls_back_to_the_shared_value(runs: pd.DataFrame) -> None:
    t1 = results.table_one(runs)  # preprocessing varies, so it is a column; dataset is not
    row = t1.iloc[0]
    assert results.setting(row, "preprocessing", runs) == row["preprocessing"]
    assert results.setting(row, "dataset", runs) == "isic2017"


def test_load_runs_reads_training_class_balance(runs: pd.DataFrame) -> None:
    assert (runs["train_majority_share"] == 0.8).all()  # synthetic counts [80, 20]


def test_records_are_valid_json(synth_dir: Path) -> None:
    files = list(synth_dir.rglob("*.json"))
    assert files and all(json.loads(f.read_text())["schema"] == 1 for f in files)


def test_plots_return_labelled_figures(runs: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.chapters import plots

    unit = {"preprocessing": "unit"}
    t1 = results.table_one(runs)
    t2 = results.table_two(runs)
    figs = [
        plots.confusion_matrices(runs, 128, ("other", "melanoma"), variant=unit),
        plots.roc_curves(runs, variant=unit),
        plots.validation_loss(runs, variant=unit),
        plots.accuracy_vs_resolution(t1, paper=results.paper_table_one(), variant=unit),
        plots.auc_vs_resolution(results.resolution_tests(runs), variant=unit),
        plots.model_size(t2, variant=unit),
        plots.efficiency(t2, variant=unit),
        plots.training_accuracy(runs[runs["regime"] == "full"], 64),
    ]
    for fig in figs:
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel()
        plt.close(fig)
    # the confusion matrix shows the mean counts of the records' metrics
    cm = plots.confusion_matrices(runs, 128, variant=unit)
    sub = runs[
        (runs.model == "mobilenet") & (runs.resolution == 128) & (runs.preprocessing == "unit")
    ]
    assert cm.axes[0].texts[0].get_text() == f"{sub['test_tn'].mean():.1f}"
    plt.close(cm)
    with pytest.raises(ValueError, match="preprocessing"):
        plots.roc_curves(runs)
    # a size run in both precisions (a bf16 parity cell) draws the float32 runs
    full = runs[runs["regime"] == "full"]
    both = pd.concat([full, full.assign(precision="mixed_bfloat16")], ignore_index=True)
    fig = plots.training_accuracy(both, 64)
    n_lines = len(fig.axes[0].get_lines())
    plt.close(fig)
    fig = plots.training_accuracy(full, 64)
    assert len(fig.axes[0].get_lines()) == n_lines
    plt.close(fig)


NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_results.py"


def test_results_notebook_end_to_end_on_synthetic_records(tmp_path: Path) -> None:
    """Execute chapter 04 on SYNTHETIC records (frozen grid, some full and partial cells); then on none."""
    jupytext = pytest.importorskip("jupytext")
    pm = pytest.importorskip("papermill")
    pytest.importorskip("myst_nb")
    res = tmp_path / "results"
    common = {"seeds": (0, 1), "preprocessings": ("unit", "native"), "n_test": 60, "n_val": 20}
    synthetic_grid(res, regimes=("frozen",), n_failed=1, **common)
    synthetic_grid(
        res, models=("mobilenet",), resolutions=(64, 128), regimes=("full",), **common
    )
    synthetic_grid(
        res,
        models=("mobilenet",),
        resolutions=(128,),
        regimes=("partial",),
        unfreeze_blocks=2,
        **common,
    )
    nb = jupytext.read(NOTEBOOK)

    def execute(name: str, results_dir: Path):
        return pm.execute_notebook(
            nb,
            str(tmp_path / name),
            parameters={"results_dir": str(results_dir)},
            kernel_name="python3",
            cwd=str(NOTEBOOK.parents[1]),
            progress_bar=False,
        )

    out = execute("out.ipynb", res)
    text = json.dumps([c.get("outputs", []) for c in out.cells])
    assert str(tmp_path) not in text  # no absolute paths in outputs
    assert "image/png" in text and "application/papermill.record" in text
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(pm.PapermillExecutionError, match="helpers sweep configs/paper.yaml"):
        execute("fail.ipynb", empty)


def test_seed_aware_comparisons_match_or_hillis_and_holm(runs: pd.DataFrame) -> None:
    from helpers.analysis import inference
    from helpers.stats import mrmc

    c = inference.variant_comparisons(runs, "model")
    assert len(c) == 4 * 2 and {"p", "p_holm", "p_ensemble", "family"} <= set(c.columns)
    row = c[(c["resolution"] == 64) & (c["preprocessing"] == "unit")].iloc[0]
    sub = runs[(runs["resolution"] == 64) & (runs["preprocessing"] == "unit")]
    _, labels, probs = results.align_predictions(sub.sort_values(["model", "seed"]))
    ref = mrmc.or_hillis_compare(labels, probs[:3], probs[3:])
    assert row["p"] == pytest.approx(ref["p"]) and row["n_seeds"] == 3
    old = results.compare_variants(runs, "model", "mobilenet", "resnet50")
    assert row["p_ensemble"] == pytest.approx(old[(old.resolution == 64) & (old.preprocessing == "unit")]["p"].iloc[0])
    for _, fam in c.groupby("family"):
        assert np.allclose(fam["p_holm"], stats.holm_adjust(fam["p"].to_numpy()))
    r = inference.resolution_comparisons(runs)
    assert r.groupby("family")["best_resolution"].nunique().eq(1).all()
    assert r.loc[r.resolution == r.best_resolution, "p"].isna().all()
    shown = results.reading.seed_comparison(c, "mobilenet", "resnet50")
    assert shown.index.nlevels + shown.shape[1] <= 7 and results.reading.text_width(shown) <= 90


def test_verdict_wording_is_driven_by_the_adjusted_p() -> None:
    from helpers.chapters.verdicts import verdict

    assert verdict("A", "B", 0.8, 0.7, 0.01) == "A: AUC higher than B (adjusted p = 0.0100)"
    assert verdict("A", "B", 0.6, 0.7, 0.0001) == "A: AUC lower than B (adjusted p < 0.001)"
    text = verdict("A", "B", 0.8, 0.7, 0.06)
    assert text == "A: AUC does not differ detectably from B (adjusted p = 0.0600)"


def test_table_one_or_hillis_interval_and_operating_points(runs: pd.DataFrame) -> None:
    from helpers.analysis import clinical
    from helpers.stats import mrmc, operating

    t = results.table_one(runs, auc_interval="or_hillis")
    row = t[(t.model == "mobilenet") & (t.resolution == 128) & (t.preprocessing == "unit")].iloc[0]
    sub = runs[(runs.model == "mobilenet") & (runs.resolution == 128) & (runs.preprocessing == "unit")]
    _, labels, probs = results.align_predictions(sub.sort_values("seed"))
    ref = mrmc.or_hillis_single(labels, probs)
    assert (row["auc_lo"], row["auc_hi"]) == pytest.approx((ref["ci_low"], ref["ci_high"]))
    ops = clinical.operating_table(runs)
    op = ops[(ops.model == "mobilenet") & (ops.resolution == 128) & (ops.preprocessing == "unit")]
    recs = [make_record(run_id=r.run_id, val=r.pred_val, test=r.pred_test)
            for r in sub.itertuples()]
    sens = np.mean([operating.operating_points(rec)["rules"]["youden"]["sensitivity"] for rec in recs])
    assert op["sens_youden"].iloc[0] == pytest.approx(sens)
    cal = clinical.calibration_table(runs)
    assert (cal["brier"] > 0).all() and (cal["temperature"] > 0).all()


def test_rounded_glue_values_are_plain_python_numbers() -> None:
    import numpy as np

    from helpers.chapters.results_prose import rounded

    assert repr(rounded(np.float64(19.59798))) == "19.598"
    assert repr(rounded(np.int64(3))) == "3" and rounded(True) is True
    assert rounded("x") == "x"


def test_comparison_blocks_equal_the_steps_they_replace(runs: pd.DataFrame) -> None:
    from helpers.analysis import inference
    from helpers.chapters import reading
    from helpers.chapters import results_blocks as blocks

    table, shown = blocks.seed_comparison_block(runs, "preprocessing", "unit", "native",
                                                name="prep_md")
    direct = inference.variant_comparisons(runs, "preprocessing", split="test")
    pd.testing.assert_frame_equal(table, direct)
    pd.testing.assert_frame_equal(shown, reading.seed_comparison(direct, "unit", "native"))
    empty, none = blocks.seed_comparison_block(runs[runs["model"] == "mobilenet"], "model",
                                               "mobilenet", "resnet50", name="x")
    assert empty.empty and none is None


def test_warned_runs_lists_each_warning_of_the_chosen_data_set(tmp_path: Path) -> None:
    write_record(tmp_path, make_record(run_id="a", warnings=["w1", "w2"]))  # isic2017 melanoma
    write_record(tmp_path, make_record(run_id="b", warnings=[]))
    write_record(tmp_path, make_record(run_id="c"))
    write_record(tmp_path, make_record(run_id="d", dataset="kermany", task="pneumonia",
                                       warnings=["x"]))
    table = results.warned_runs(tmp_path, "isic2017", "melanoma")
    assert table.to_dict("records") == [{"run": "a", "status": "ok", "warning": "w1"},
                                        {"run": "a", "status": "ok", "warning": "w2"}]


def test_one_precision_per_cell_prefers_float32_and_keeps_bf16_only_cells() -> None:
    rows = [synthetic_record("mobilenet", 128, s) for s in range(2)]
    rows += [synthetic_record("mobilenet", 128, s, precision="mixed_bfloat16") for s in range(2)]
    rows += [synthetic_record("resnet50", 224, 0, precision="mixed_bfloat16")]
    df = pd.DataFrame([{"model": r["params"]["model"], "resolution": r["params"]["resolution"],
                        "seed": r["params"]["seed"],
                        "precision": r["params"].get("precision", "float32")} for r in rows])
    out = results.one_precision_per_cell(df)
    assert set(out["precision"]) == {"as run"}
    assert sorted(out["precision_run"]) == ["float32", "float32", "mixed_bfloat16"]
    assert results.variant_columns(out) == []
    same = df[df["precision"] == "float32"]
    one = results.one_precision_per_cell(same)  # nothing to choose, the same columns
    assert len(one) == len(same) and set(one["precision"]) == {"as run"}
    assert set(one["precision_run"]) == {"float32"}


def test_table_one_reading_form_shows_the_metrics_asked_for(runs: pd.DataFrame) -> None:
    reading = results.reading
    t1 = results.table_one(runs)
    full = reading.table_one(t1)
    auc_only = reading.table_one(t1, metrics=["auc"])
    assert auc_only.shape[0] == full.shape[0] and auc_only.shape[1] * 3 == full.shape[1]
    assert not any("Acc" in str(c) for c in auc_only.columns.to_flat_index())
    with pytest.raises(ValueError, match="metrics must be some of"):
        reading.table_one(t1, metrics=["f1"])
    wide = reading.auc_by_size(t1)  # one row per model and set-up, one column per size
    sizes = sorted(int(r) for r in t1["resolution"].unique())
    assert list(wide.columns) == [f"{r} px" for r in sizes]
    assert len(wide) * len(sizes) >= len(auc_only) > len(wide)
    one = t1[(t1["model"] == t1["model"].iloc[0])]
    for col in [c for c in ("regime", "preprocessing", "precision") if c in one]:
        one = one[one[col] == one[col].iloc[0]]
    single = reading.auc_by_size(one)  # one model and set-up: one row, no unstacking
    assert single.shape == (1, one["resolution"].nunique())
    first = auc_only.index[0]
    key = first[:-1] if len(first) > 2 else first[0]
    assert wide.loc[key, first[-1]] == auc_only.iloc[0]["AUC"]


def test_robustness_counts_only_differences_the_published_test_finds() -> None:
    from helpers.chapters.comparison_prose import robustness

    t = pd.DataFrame({"family": ["f"] * 4, "resolution": [64, 128, 224, 256],
                      "p_holm": [0.001, 0.03, 0.2, float("nan")],
                      "p_generalized_holm": [0.01, 0.07, 0.01, float("nan")]})  # fmt: skip
    out = robustness([t, t.iloc[0:0]])
    assert (out["found"], out["robust"], out["not_robust"]) == (2, 1, 1)
    assert out["text"] == "f at 128 px (adjusted p 0.0300, generalized 0.0700)"
    assert robustness([])["text"] == "none" and robustness([])["found"] == 0
