"""Part II record tables (helpers.analysis.chest_xray) on synthetic run records."""

from __future__ import annotations

import numpy as np
import pytest
from record_factory import make_record, make_split

from helpers.chapters import chest_xray as XR


def _rec(task, res, seed, shift, n=120, regime="frozen"):
    rng = np.random.default_rng([res, seed, len(task)])
    y = (np.arange(n) % 2).astype(int)

    def probs():
        z = rng.normal(size=n) + shift * y
        return 1 / (1 + np.exp(-z))

    test = make_split(y, probs(), prefix=task[:3],  # stored reversed for seeds 1, 2
                      order=np.arange(n)[::-1] if seed else None)
    val = make_split(y, probs(), [f"v{seed}-{i}" for i in range(n)])  # patients differ by seed
    return make_record(dataset="kermany", task=task, model="mobilenetv2", resolution=res,
                       seed=seed, regime=regime, test=test, val=val)


@pytest.fixture
def recs():
    out = []
    for task, shifts in (("pneumonia", {32: 2.0, 64: 2.4, 224: 2.5}),
                         ("bacterial_vs_viral", {32: 0.2, 64: 0.4, 224: 1.5})):
        out += [_rec(task, res, s, sh) for res, sh in shifts.items() for s in range(3)]
    return out + [make_record(dataset="kermany", task="pneumonia", status="failed")]


def test_seed_matrix_aligns_images(recs):
    sel = XR.select(recs, task="pneumonia", resolution=64)
    assert [r["params"]["seed"] for r in sel] == [0, 1, 2]
    ids, y, p = XR.seed_matrix(sel)
    assert p.shape == (3, 120) and ids[0] == "pne0000" and y[1] == 1


def test_reproduction_table_has_val_and_test_with_cis(recs):
    t = XR.reproduction_table(XR.select(recs, task="pneumonia", resolution=224))
    assert list(t["split"]) == ["validation"] * 2 + ["test"] * 2
    assert t["AUC"].str.match(r"0\.\d{3} \[0\.\d{3}, (0|1)\.\d{3}\]$").all()
    one = XR.reproduction_table(XR.select(recs, task="pneumonia", resolution=224, seed=0))
    assert one["accuracy"].str.match(r"\d+\.\d \[\d+\.\d, \d+\.\d\]$").all()


def test_curve_ratio_and_difference(recs):
    c = XR.curve(recs, task="bacterial_vs_viral", model="mobilenetv2", regime="frozen")
    assert list(c["resolution"]) == [32, 64, 224] and c["best"].tolist() == [False, False, True]
    assert c["p_holm"].iloc[0] < 0.05 and np.isnan(c["p"].iloc[2])
    # the equivalence with the best size: a size detectably lower is "lower", the best has none
    assert c["verdict"].iloc[0] == "lower" and c["verdict"].iloc[2] == ""
    assert set(c["verdict"]) <= {"lower", "higher", "equivalent", "inconclusive", ""}
    assert (c["tost_p_holm"].dropna() <= 1).all()
    r = XR.ratio(recs, task="pneumonia", model="mobilenetv2", regime="frozen", n_boot=200)
    assert 0.9 < r["ratio"] < 1.05 and r["n_seeds"] == 3
    d = XR.ratio_test(recs, ("pneumonia", "bacterial_vs_viral"), model="mobilenetv2",
                      regime="frozen", n_boot=200)
    assert d["diff"] < 0 and d["p"] < 0.05
    assert XR.ratio(recs, task="pneumonia", regime="full") is None
    assert XR.curve(recs, task="pneumonia", regime="full").empty


def _drop(recs, task, cells):
    """The ok records without those of ``task`` whose (resolution, seed) is in ``cells``."""
    return [r for r in recs if r["status"] == "ok" and not (
        r["params"]["task"] == task
        and (r["params"]["resolution"], r["params"]["seed"]) in cells)]


def test_paired_comparisons_match_seed_values_not_positions(recs):
    # 64 px keeps seeds 1, 2 and 224 px keeps 0, 2: only seed 2 may be paired.
    task = "bacterial_vs_viral"
    cut = _drop(recs, task, {(64, 0), (224, 1)})
    lo, hi = XR.paired(XR.select(cut, task=task, resolution=64),
                       XR.select(cut, task=task, resolution=224))
    assert [r["params"]["seed"] for r in lo] == [r["params"]["seed"] for r in hi] == [2]
    r = XR.ratio(cut, task=task, n_boot=50)
    only = XR.ratio([x for x in cut if x["params"]["seed"] == 2], task=task, n_boot=50)
    assert r["n_seeds"] == 1 and r["ratio"] == pytest.approx(only["ratio"])
    # 64 px seeds 1, 2 against 224 px seed 0 only: nothing to pair.
    disjoint = _drop(cut, task, {(224, 2)})
    assert XR.ratio(disjoint, task=task, n_boot=50) is None
    c = XR.curve(disjoint, task=task).set_index("resolution")
    assert c["n_seeds"].to_dict() == {32: 3, 64: 2, 224: 1} and bool(c.loc[224, "best"])
    assert np.isnan(c.loc[64, "p"]) and c.loc[32, "p"] < 0.05  # 32 px shares seed 0


def test_gradcam_runs_table_and_mean_share() -> None:
    assert XR.gradcam_runs({}).empty and list(XR.gradcam_runs({}).columns) == XR.GRADCAM_COLUMNS
    assert np.isnan(XR.mean_share(XR.gradcam_runs({}), "last", "lung share"))
    e = {"regime": "partial", "resolution": 224, "seed": 0, "feature_map_px": 7,
         "lung_share_mean": 0.6, "corner_share_mean": 0.1,
         "early": {"feature_map_px": 28, "lung_share_mean": 0.5, "corner_share_mean": 0.2}}
    gc = {"by_run": {"b": {**e, "seed": 1, "lung_share_mean": 0.8}, "a": e}}
    t = XR.gradcam_runs(gc)
    assert list(t["seed"]) == [0, 0, 1, 1] and list(t["layer"]) == ["last", "early"] * 2
    assert t.iloc[1]["map"] == "28×28" and t.iloc[0]["run"] == "partial, 224 px"
    assert XR.mean_share(t, "last", "lung share") == pytest.approx(0.7)
    assert XR.mean_share(t, "early", "corner share") == pytest.approx(0.2)


def test_gradcam_finetuned_sentence() -> None:
    empty = XR.gradcam_runs({})
    assert "No fine-tuned network" in XR.gradcam_finetuned_md(empty, 0.5, 0.1)
    e = {"regime": "partial", "resolution": 224, "seed": 0, "feature_map_px": 7,
         "lung_share_mean": 0.61, "corner_share_mean": 0.012,
         "early": {"feature_map_px": 28, "lung_share_mean": 0.5, "corner_share_mean": 0.2}}
    md = XR.gradcam_finetuned_md(XR.gradcam_runs({"by_run": {"a": e}}), 0.55, 0.1)
    assert md.startswith("For the 1 fine-tuned network (partial, 224 px)") and "0.61" in md
    assert "0.012" in md and "0.55 and 0.100" in md and "kept no model" not in md
    two = XR.gradcam_runs({"by_run": {"a": e, "b": {**e, "seed": 1}}})
    md2 = XR.gradcam_finetuned_md(two, 0.55, 0.1, skipped=["run-z"])
    assert md2.startswith("For the 2 fine-tuned networks (") and "1 run(s) kept no model" in md2
    assert "`run-z`" in md2
    assert "(seeds 0.61–0.61)" in md2 and "lung-centred" not in md2


def test_gradcam_finetuned_seed_range_and_uniform_map() -> None:
    e = {"regime": "partial", "resolution": 224, "seed": 0, "feature_map_px": 7,
         "lung_share_mean": 0.40, "corner_share_mean": 0.2,
         "early": {"feature_map_px": 28, "lung_share_mean": 0.5, "corner_share_mean": 0.2}}
    gc = {"by_run": {"a": e, "b": {**e, "seed": 1, "lung_share_mean": 0.6,
                                   "corner_share_mean": 0.05}}}
    t = XR.gradcam_runs(gc)
    v = XR.gradcam_finetuned_values(t)
    assert v["gc_ft_n"] == 2 and v["gc_ft_lung"] == pytest.approx(0.5)
    assert (v["gc_ft_lung_min"], v["gc_ft_lung_max"]) == (0.4, 0.6)
    md = XR.gradcam_finetuned_md(t, 0.45, 0.15, lung_area=0.44, corner_area=0.16)
    assert "0.50 (seeds 0.40–0.60)" in md and "0.125 (seeds 0.050–0.200)" in md
    assert "1 of 2 fine-tuned map sets are lung-centred" in md
    assert np.isnan(XR.gradcam_finetuned_values(XR.gradcam_runs({}))["gc_ft_lung"])


def test_ratio_comparison_table_values_and_verdict(recs):
    findings = {"pneumonia": "pneu", "bacterial_vs_viral": "bvv"}
    table, tests = XR.ratio_comparison(recs, findings, 64, 224, 200, model="mobilenetv2")
    assert list(table["regime"]) == ["frozen", "frozen"] and set(tests) == {"frozen"}
    assert list(table.columns) == ["regime", "finding", "seeds", "AUC 64 px", "AUC 224 px",
                                   "ratio", "SD"]
    assert (table["seeds"] == 3).all() and table["AUC 64 px"].lt(table["AUC 224 px"]).all()
    v = XR.ratio_comparison_values(tests, findings, tag="X")
    assert v["dX_verdict_frozen"] == "loses more" and v["dX_seeds_frozen"] == 3.0
    assert v["rX_pneumonia_frozen"] == pytest.approx(table["ratio"].iloc[0])
    assert v["dX_verdict_full"] == "has not run" and np.isnan(v["rX_sd_pneumonia_full"])
    assert XR.ratio_verdict({"p": 0.2, "diff": -1.0}, same="same") == "same"
    assert XR.ratio_verdict({"p": 0.01, "diff": 0.1}) == "loses less"
    assert XR.ratio_verdict(None, missing="not run yet") == "not run yet"
