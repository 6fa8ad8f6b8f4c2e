"""Chapter 09 ("Another hospital's images") on SYNTHETIC run records with an external set.

The records are built from :func:`record_factory.synthetic_record` (test-only random
probabilities in the run-record schema) with ``predictions.external`` and
``predictions.external_geometry`` added as a sweep with ``external=ph2`` writes them. None of
it is a result. Each analysis of :mod:`helpers.analysis.external_site` and
:mod:`helpers.analysis.external_ablations` is checked against a direct computation
(sklearn / helpers.stats.delong on the joined predictions).
"""

from __future__ import annotations

import math
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from record_factory import make_params, make_split, synthetic_record, write_records
from sklearn.metrics import roc_auc_score

from helpers.analysis import external_ablations as A
from helpers.analysis import external_site as X
from helpers.chapters import external_site_figures as F
from helpers.runs import records
from helpers.stats import calibration, operating
from helpers.stats import delong as stats
from helpers.stats.metrics import binary_metrics

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "09_external_site.py"

# SYNTHETIC external set: 12 melanomas, 28 nevi (14 common, 14 atypical)
EXT_IDS = [f"melanoma/IMD9{i:02d}" for i in range(12)] + [f"benign/IMD0{i:02d}" for i in range(28)]
EXT_LABELS = np.array([1] * 12 + [0] * 28)
EXT_DIAG = ["melanoma"] * 12 + ["common_nevus", "atypical_nevus"] * 14
# invented separation per geometry: pad shows the network almost nothing here
GEOMETRY_SIGNAL = {"squash": 1.0, "crop": 1.1, "pad": 0.0, "lesion_box": 1.3}
RESAMPLE_SIGNAL = {"bilinear": 1.0, "area": 1.1, "bilinear_plain": 0.7, "nearest": 0.2}


def _external_preds(key: tuple, signal: float, geometry: str) -> dict[str, list]:
    rng = np.random.default_rng(zlib.crc32(repr((key, geometry)).encode()))
    atypical = np.array([d == "atypical_nevus" for d in EXT_DIAG])
    logits = (2.0 * signal * GEOMETRY_SIGNAL[geometry] * (2 * EXT_LABELS - 1) + 1.2 * atypical
              + rng.normal(size=EXT_LABELS.size))
    order = rng.permutation(EXT_LABELS.size)  # any order: everything joins by id
    return make_split(EXT_LABELS, np.round(1 / (1 + np.exp(-logits)), 6), EXT_IDS, order=order)


def site_record(model: str, resolution: int, seed: int, *, preprocessing: str = "native",
                regime: str = "frozen", geometry: str = "squash", resample: str = "bilinear",
                geometries: tuple[str, ...] = tuple(GEOMETRY_SIGNAL)) -> dict[str, Any]:
    """SYNTHETIC (test-only) record of an ISIC-trained run that scored an external set."""
    rec = synthetic_record(model, resolution, seed, preprocessing=preprocessing, regime=regime,
                           n_test=60, n_val=30)
    # squash and bilinear, the defaults, are left out of the params (and of the run id)
    rec["params"] = make_params(rec["params"], external="ph2", geometry=geometry,
                                resample=resample)
    rec["run_id"] = records.run_id(rec["params"])
    key = (model, resolution, seed, preprocessing, regime, geometry, resample)
    signal = (0.5 if model == "mobilenet" else 0.3) * (resolution / 128) ** 0.5
    signal *= RESAMPLE_SIGNAL[resample]
    geo = {g: _external_preds(key, signal, g) for g in geometries}
    own = geo[geometry] if geometry in geo else _external_preds(key, signal, geometry)
    rec["predictions"]["external"] = own
    if geometries:
        rec["predictions"]["external_geometry"] = geo
    rec["metrics"]["external"] = binary_metrics(own["labels"], own["probs"])
    rec["data"]["resize"] = {"geometry": geometry, "resample": resample}
    rec["data"]["external"] = {"name": "ph2", "class_names": ["benign", "melanoma"],
                               "counts": [28, 12]}
    return rec


def grid(models=("mobilenet", "resnet50"), sizes=(64, 128), seeds=(0, 1), **kw) -> list[dict]:
    """2 models × 2 sizes × 2 seeds, plus the interpolation variants at 64 px."""
    recs = [site_record(m, r, s, **kw) for m in models for r in sizes for s in seeds]
    for resample in ("area", "nearest"):
        recs += [site_record(m, 64, s, resample=resample, **kw) for m in models for s in seeds]
    return recs


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ph2_results")
    write_records(out / "results", grid())
    diag = pd.DataFrame({"id": EXT_IDS, "diagnosis": EXT_DIAG})
    diag.to_csv(out / "subgroups.csv", index=False)
    return out


@pytest.fixture(scope="module")
def runs(folder: Path) -> pd.DataFrame:
    return X.load(folder / "results")


def _joined(runs: pd.DataFrame, split: str, **where: Any) -> tuple[np.ndarray, np.ndarray]:
    """(labels, mean probability over seeds) joined by id, computed directly from the rows."""
    sub = runs
    for k, v in where.items():
        sub = sub[sub[k] == v]
    frames = [pd.DataFrame(r[f"pred_{split}"]).set_index("ids").sort_index()
              for _, r in sub.iterrows()]
    probs = np.mean([f["probs"].to_numpy() for f in frames], axis=0)
    return frames[0]["labels"].to_numpy(), probs


MAIN = {"geometry": "squash", "resample": "bilinear"}


def test_load_fills_the_resize_and_reads_the_geometries(runs: pd.DataFrame, folder: Path) -> None:
    assert len(runs) == 8 + 8 and set(runs["geometry"]) == {"squash"}
    assert set(runs["resample"]) == {"bilinear", "area", "nearest"}
    geo = runs["pred_external_geometry"].iloc[0]
    assert set(geo) == set(GEOMETRY_SIGNAL) and len(geo["crop"]["ids"]) == 40
    assert X.main_resize(runs) == MAIN and len(X.declared(runs)) == 8
    empty = X.load(folder / "nothing-here")
    assert empty.empty and "No results folder" in empty.attrs["reason"]


def test_site_table_is_the_seed_ensemble_and_seed_mean(runs: pd.DataFrame) -> None:
    site = X.site_table(X.declared(runs))
    assert len(site) == 4 and site["n_seeds"].tolist() == [2] * 4
    row = site[(site["model"] == "resnet50") & (site["resolution"] == 128)].iloc[0]
    where = {"model": "resnet50", "resolution": 128, "resample": "bilinear"}
    for split in X.SETS:
        y, p = _joined(runs, split, **where)
        assert row[f"{split}_auc"] == pytest.approx(roc_auc_score(y, p))
        per_seed = [roc_auc_score(r[f"pred_{split}"]["labels"], r[f"pred_{split}"]["probs"])
                    for _, r in runs.iterrows() if all(r[k] == v for k, v in where.items())]
        assert row[f"{split}_seed_mean"] == pytest.approx(np.mean(per_seed))
        assert row[f"{split}_seed_sd"] == pytest.approx(np.std(per_seed, ddof=1))
        _, var = stats.fast_delong(y, p)
        assert row[f"{split}_var"] == pytest.approx(var)
    assert row["diff"] == pytest.approx(row["external_auc"] - row["test_auc"])
    half = 1.959964 * math.sqrt(row["test_var"] + row["external_var"])
    assert row["diff_hi"] - row["diff"] == pytest.approx(half, rel=1e-5)


def test_missing_cells_are_reported_not_crashed(tmp_path: Path) -> None:
    recs = grid(models=("mobilenet",), sizes=(64,), seeds=(0, 1))
    odd = site_record("mobilenet", 128, 0)
    odd["predictions"]["external"] = {k: v[:-3] for k, v in odd["predictions"]["external"].items()}
    recs += [odd, site_record("mobilenet", 128, 1)]  # its two seeds scored different images
    write_records(tmp_path, recs)
    runs = X.load(tmp_path)
    site = X.site_table(X.declared(runs))
    assert len(site) == 1 and any("128 px" in s for s in site.attrs["left_out"])
    main = X.declared(runs)
    verdicts = X.resolution_verdicts(main)  # the family can be tested on ISIC, not on PH2
    assert set(verdicts["set"]) == {"test"} and "on external" in verdicts.attrs["left_out"][0]
    for table in (X.carried_threshold(main), A.subgroup_auc(main, pd.Series(EXT_DIAG, EXT_IDS))):
        assert set(table["resolution"]) == {64} and len(table.attrs["left_out"]) == 1
    cal = X.calibration_by_set(main)  # per set: the cell's ISIC row stays
    assert set(cal.loc[cal["resolution"] == 128, "set"]) == {"test"}
    empty = X.load(tmp_path / "missing")
    for fn in (X.site_table, X.resolution_verdicts, X.model_comparison, X.carried_threshold,
               X.calibration_by_set, A.geometry_ablation, A.interpolation_ablation):
        assert fn(empty).empty, fn.__name__
    assert A.subgroup_auc(empty, pd.Series(dtype=str)).empty
    assert A.regime_counts(empty)["runs_external"].tolist() == [0, 0]


def test_resolution_verdicts_are_paired_delong_with_holm(runs: pd.DataFrame) -> None:
    main = X.declared(runs)
    verdicts = X.resolution_verdicts(main)
    assert set(verdicts["set"]) == set(X.SETS) and len(verdicts) == 2 * 2 * 2
    fam = verdicts[(verdicts["model"] == "mobilenet") & (verdicts["set"] == "external")]
    y, p64 = _joined(main, "external", model="mobilenet", resolution=64)
    _, p128 = _joined(main, "external", model="mobilenet", resolution=128)
    best = 64 if roc_auc_score(y, p64) > roc_auc_score(y, p128) else 128
    assert set(fam["best_resolution"]) == {best}
    other = fam[fam["resolution"] != best].iloc[0]
    a, b = (p128, p64) if best == 64 else (p64, p128)
    direct = stats.delong_paired_test(y, a, b)
    assert other["p"] == pytest.approx(direct["p"])
    assert other["p_holm"] == pytest.approx(direct["p"])  # a family of one test
    assert fam.loc[fam["resolution"] == best, "verdict"].item() == "best"
    summary = X.resolution_summary(verdicts)
    assert len(summary) == 2 and {"same_best", "same_verdicts"} <= set(summary.columns)


def test_model_comparison_holm_over_sizes(runs: pd.DataFrame) -> None:
    models = X.model_comparison(X.declared(runs))
    ext = models[models["set"] == "external"].sort_values("resolution")
    assert ext["resolution"].tolist() == [64, 128]
    ps = []
    for res in (64, 128):
        y, pm = _joined(X.declared(runs), "external", model="mobilenet", resolution=res)
        _, pr = _joined(X.declared(runs), "external", model="resnet50", resolution=res)
        ps.append(stats.delong_paired_test(y, pm, pr)["p"])
    assert ext["p"].to_numpy() == pytest.approx(ps)
    assert ext["p_holm"].to_numpy() == pytest.approx(stats.holm_adjust(ps))
    assert set(ext["verdict"]) <= {"higher", "lower", "no detectable difference"}


def test_carried_threshold_and_wilson(runs: pd.DataFrame) -> None:
    thr = X.carried_threshold(X.declared(runs))
    assert len(thr) == 4 * 2 and set(thr["rule"]) == {"youden", "sens90"}
    row = thr[(thr["model"] == "mobilenet") & (thr["resolution"] == 128)
              & (thr["rule"] == "youden")].iloc[0]
    y_val, p_val = _joined(runs, "val", model="mobilenet", resolution=128, resample="bilinear")
    t = operating.youden_threshold(y_val, p_val)
    assert row["threshold"] == pytest.approx(t)
    y, p = _joined(runs, "external", model="mobilenet", resolution=128, resample="bilinear")
    tp, n_pos = int(((p >= t) & (y == 1)).sum()), int(y.sum())
    assert row["external_sens"] == pytest.approx(tp / n_pos) and row["external_tp"] == tp
    lo, hi = calibration.wilson_interval(tp, n_pos)
    assert (row["external_sens_lo"], row["external_sens_hi"]) == pytest.approx((lo, hi))


def test_calibration_by_set_means_the_seeds(runs: pd.DataFrame) -> None:
    cal = X.calibration_by_set(X.declared(runs))
    row = cal[(cal["model"] == "resnet50") & (cal["resolution"] == 64)
              & (cal["set"] == "external")].iloc[0]
    sub = runs[(runs["model"] == "resnet50") & (runs["resolution"] == 64)
               & (runs["resample"] == "bilinear")]
    eces = [calibration.expected_calibration_error(r["pred_external"]["labels"],
                                                   r["pred_external"]["probs"])
            for _, r in sub.iterrows()]
    assert row["ece"] == pytest.approx(np.mean(eces)) and row["prevalence"] == pytest.approx(0.3)
    where = {"model": "resnet50", "resolution": 64, "resample": "bilinear"}
    rel = F.reliability_by_set(runs, where)
    assert set(rel["set"]) == set(X.SETS) and rel.loc[rel["set"] == "external", "n"].sum() == 80


def test_geometry_ablation_pairs_each_geometry_with_the_declared_one(runs: pd.DataFrame) -> None:
    geo = A.geometry_ablation(X.declared(runs))
    assert geo.attrs["preprocessing"] == "native" and len(geo) == 4 * len(GEOMETRY_SIGNAL)
    assert (geo.loc[geo["compared_geometry"] == "squash", "verdict"] == "declared").all()
    sub = X.declared(runs)
    sub = sub[(sub["model"] == "mobilenet") & (sub["resolution"] == 128)]
    own = np.mean([pd.DataFrame(r["pred_external"]).set_index("ids").sort_index()["probs"]
                   for _, r in sub.iterrows()], axis=0)
    frames = [pd.DataFrame(r["pred_external_geometry"]["pad"]).set_index("ids").sort_index()
              for _, r in sub.iterrows()]
    pad, y = np.mean([f["probs"] for f in frames], axis=0), frames[0]["labels"].to_numpy()
    row = geo[(geo["model"] == "mobilenet") & (geo["resolution"] == 128)
              & (geo["compared_geometry"] == "pad")].iloc[0]
    assert row["auc"] == pytest.approx(roc_auc_score(y, pad))
    assert row["p"] == pytest.approx(stats.delong_paired_test(y, pad, own)["p"])
    tested = geo[geo["compared_geometry"] != "squash"]
    assert tested["p_holm"].to_numpy() == pytest.approx(stats.holm_adjust(tested["p"]))
    assert set(tested["verdict"]) <= {"higher", "lower", "no detectable difference"}


def test_interpolation_ablation_against_bilinear(runs: pd.DataFrame) -> None:
    interp = A.interpolation_ablation(runs, resolution=64)
    assert set(interp["resample"]) == {"bilinear", "area", "nearest"} and len(interp) == 2 * 2 * 3
    row = interp[(interp["model"] == "resnet50") & (interp["resample"] == "nearest")
                 & (interp["set"] == "test")].iloc[0]
    y, near = _joined(runs, "test", model="resnet50", resolution=64, resample="nearest")
    _, bil = _joined(runs, "test", model="resnet50", resolution=64, resample="bilinear")
    assert row["auc"] == pytest.approx(roc_auc_score(y, near))
    assert row["p"] == pytest.approx(stats.delong_paired_test(y, near, bil)["p"])
    fam = interp[(interp["set"] == "test") & (interp["resample"] != "bilinear")]
    assert fam["p_holm"].to_numpy() == pytest.approx(stats.holm_adjust(fam["p"]))
    assert (interp.loc[interp["resample"] == "bilinear", "verdict"] == "reference").all()


def test_subgroup_auc_per_negative_diagnosis(runs: pd.DataFrame, folder: Path) -> None:
    diag = A.read_subgroups(folder / "subgroups.csv")
    sub = A.subgroup_auc(X.declared(runs), diag)
    assert len(sub) == 4 * 2 and sub.attrs["unmatched"] == []
    y, p = _joined(runs, "external", model="mobilenet", resolution=64, resample="bilinear")
    ids = np.sort(EXT_IDS)
    d = diag.reindex(ids).to_numpy()
    keep = (d == "melanoma") | (d == "atypical_nevus")
    row = sub[(sub["model"] == "mobilenet") & (sub["resolution"] == 64)
              & (sub["negatives"] == "atypical_nevus")].iloc[0]
    assert row["auc"] == pytest.approx(roc_auc_score(y[keep], p[keep]))
    assert (row["n_pos"], row["n_neg"]) == (12, 14)
    wrong = diag.copy()
    wrong["benign/IMD000"] = "melanoma"
    with pytest.raises(ValueError, match="benign/IMD000"):
        A.subgroup_auc(X.declared(runs), wrong)


def test_ph2_subgroups_script_uses_the_record_ids(tmp_path: Path) -> None:
    from data_fixtures import random_image, save_image

    ph2 = tmp_path / "ph2"
    rows = ["image_id,class,diagnosis,width,height"]
    for i, (cls, dg) in enumerate([("melanoma", "melanoma"), ("benign", "common_nevus"),
                                   ("benign", "atypical_nevus")]):
        save_image(ph2 / "images" / cls / f"IMD00{i}.jpg", random_image(i, size=20))
        rows.append(f"IMD00{i},{cls},{dg},20,20")
    (ph2 / "labels.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "sub.csv"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "ph2_subgroups.py"), "--data-dir",
                    str(tmp_path), "--out", str(out)], check=True, capture_output=True)
    assert out.read_text().splitlines() == [
        "id,diagnosis", "benign/IMD001,common_nevus", "benign/IMD002,atypical_nevus",
        "melanoma/IMD000,melanoma"]


def test_external_site_chapter_runs_on_synthetic_records_and_on_none(folder: Path,
                                                                     tmp_path: Path) -> None:
    jupytext = pytest.importorskip("jupytext")
    pm = pytest.importorskip("papermill")
    pytest.importorskip("myst_nb")
    nb = jupytext.read(NOTEBOOK)

    def execute(name: str, results_dir: Path) -> dict[str, str]:
        out = pm.execute_notebook(nb, str(tmp_path / name), kernel_name="python3",
                                  parameters={"results_dir": str(results_dir),
                                              "subgroups": str(folder / "subgroups.csv")},
                                  cwd=str(ROOT), progress_bar=False)
        glued = {}
        for cell in out.cells:
            for o in cell.get("outputs", []):
                key = o.get("metadata", {}).get("scrapbook", {}).get("name")
                if key:
                    data = {k.rsplit("/", 2)[-2] + "/" + k.rsplit("/", 1)[-1]: v
                            for k, v in o["data"].items()}
                    glued[key] = data.get("text/markdown") or data["text/plain"]
        return glued

    glued = execute("out.ipynb", folder / "results")
    assert glued["n_runs"] == "'16'" and glued["n_cells"] == "'4'"
    assert glued["declared_geometry"] == "'squash'" and glued["geo_tested"] == "'12'"
    assert "pad: higher in 0, lower in " in glued["geometry_md"]
    assert glued["n_sub"] == "'4'" and glued["interp_external_tested"] == "'4'"
    assert "Nothing was left out" in glued["left_out_md"]
    assert glued["findings_md"].count("\n* ") == 4 and "–" not in glued["findings_md"]
    none = execute("none.ipynb", tmp_path / "no-records")
    assert "No results yet" in none["status_md"] and none["n_runs"] == "'0'"
    assert "nothing to report" in none["findings_md"]
    assert glued["policy_verdict"] == "'squash'"  # the committed isic-geometry record
    assert glued["policy_fov"] == "'1.34'"


def test_case_mix_scores_isic_on_melanoma_vs_nevi_alone(runs: pd.DataFrame) -> None:
    """ISIC's test AUC with its seborrheic keratoses left out, beside the external AUC."""
    from sklearn.metrics import roc_auc_score

    from helpers.chapters import external_case_mix as CM

    main = X.declared(runs)
    cell = {"model": "mobilenet", "resolution": 64, **MAIN}
    labels, probs = _joined(main, "test", **cell)
    ids = np.sort(pd.DataFrame(main[(main["model"] == "mobilenet")
                                    & (main["resolution"] == 64)].iloc[0]["pred_test"])["ids"])
    diag = np.where(labels == 1, "melanoma",
                    np.where(np.arange(len(ids)) % 3 == 0, "seborrheic_keratosis", "nevus"))
    table = CM.case_mix_table(main, pd.Series(diag, index=ids))
    row = table[(table["model"] == "mobilenet") & (table["resolution"] == 64)].iloc[0]
    keep = diag != "seborrheic_keratosis"
    assert row["isic_auc"] == pytest.approx(roc_auc_score(labels[keep], probs[keep]))
    ext_labels, ext_probs = _joined(main, "external", **cell)
    assert row["external_auc"] == pytest.approx(roc_auc_score(ext_labels, ext_probs))
    assert row["diff"] == pytest.approx(row["external_auc"] - row["isic_auc"])
    assert row["n_neg"] == int((diag == "nevus").sum())
    values = CM.case_mix_values(table, X.site_table(main))
    assert values["mix_n"] == str(len(table)) and values["mix_isic_gain_median"] != "—"
    wrong = pd.Series(np.where(labels == 1, "nevus", "melanoma"), index=ids)
    with pytest.raises(ValueError, match="subgroup file was made for another folder"):
        CM.case_mix_table(main, wrong)


def test_isic_test_diagnoses_script(tmp_path: Path) -> None:
    root = tmp_path / "data" / "isic2017-256"
    root.mkdir(parents=True)
    (root / "labels.csv").write_text(
        "image_id,split,path,diagnosis,melanoma,seborrheic_keratosis\n"
        "ISIC_2,test,a.jpg,nevus,0,0\nISIC_1,test,b.jpg,melanoma,1,0\n"
        "ISIC_3,train,c.jpg,nevus,0,0\nISIC_4,test,d.jpg,seborrheic_keratosis,0,1\n")
    out = tmp_path / "diag.csv"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "isic_test_diagnoses.py"),
                    "--data-dir", str(tmp_path / "data"), "--out", str(out)], check=True,
                   capture_output=True)
    assert out.read_text().splitlines() == [
        "id,diagnosis", "ISIC_1,melanoma", "ISIC_2,nevus", "ISIC_4,seborrheic_keratosis"]
