"""The child as the unit (issue 24, item 2): clustered covariances, rates and bootstraps in
:mod:`helpers.stats` and the chest X-ray analysis that passes patient ids to them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import chest_xray as XR
from helpers.stats import mrmc
from helpers.stats import ratios as xray
from helpers.stats.delong import delong_covariance
from helpers.stats.delong_clustered import clustered_delong_covariance


def _scores(rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n) % 2
    return y, y[None, :] * 0.8 + rng.normal(size=(k, n))


def _twice(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every image twice, each pair one cluster: what a second radiograph scored alike does."""
    return np.repeat(y, 2), np.repeat(s, 2, axis=-1), np.repeat(np.arange(y.size), 2)


def test_auc_covariance_uses_the_clustered_estimator_only_when_images_share_a_cluster() -> None:
    y, s = _scores(np.random.default_rng(0), 80, 3)
    aucs, cov = mrmc.auc_covariance(y, s, clusters=np.arange(80))  # singletons: DeLong exactly
    ref_aucs, ref_cov = delong_covariance(y, s)
    np.testing.assert_array_equal(cov, ref_cov)
    np.testing.assert_array_equal(aucs, ref_aucs)
    c = np.arange(80) // 2
    np.testing.assert_array_equal(mrmc.auc_covariance(y, s, clusters=c)[1],
                                  clustered_delong_covariance(y, s, c)[1])
    with pytest.raises(ValueError, match="clusters need cov='delong'"):
        mrmc.auc_covariance(y, s, cov="jackknife", clusters=c)
    with pytest.raises(ValueError, match="same images"):
        mrmc.auc_covariance(y, s, clusters=np.arange(79))


def test_or_hillis_intervals_do_not_shrink_when_every_image_is_doubled() -> None:
    rng = np.random.default_rng(1)
    y, base = _scores(rng, 120, 1)  # seeds that differ little: image variance dominates
    a = base + 0.05 * rng.normal(size=(3, 120))
    b = base + 0.1 * y + 0.05 * rng.normal(size=(3, 120))
    yy, aa, cc = _twice(y, a)
    _, bb, _ = _twice(y, b)
    single = mrmc.or_hillis_single(y, a)
    naive = mrmc.or_hillis_single(yy, aa)  # doubled images read as independent: too narrow
    clustered = mrmc.or_hillis_single(yy, aa, clusters=cc)
    assert naive["se"] < 0.9 * single["se"]
    assert clustered["se"] == pytest.approx(single["se"], rel=0.03)
    assert clustered["method"].endswith("(patient-clustered DeLong covariance)")
    cmp_naive = mrmc.or_hillis_compare(yy, aa, bb)
    cmp = mrmc.or_hillis_compare(yy, aa, bb, clusters=cc)
    assert cmp["diff"] == pytest.approx(cmp_naive["diff"])
    once = mrmc.or_hillis_compare(y, a, b)  # the doubled images clustered read as the originals
    assert cmp["se"] > cmp_naive["se"]
    assert cmp["se"] == pytest.approx(once["se"], rel=0.03)
    assert cmp["p"] == pytest.approx(once["p"], rel=0.1)
    assert abs(cmp_naive["p"] - once["p"]) > 5 * abs(cmp["p"] - once["p"])
    assert "patient-clustered" in cmp["method"]
    one = mrmc.or_hillis_compare(yy, aa[:1], bb[:1], clusters=cc)
    assert one["method"] == "patient-clustered DeLong (one seed)"


def test_clustered_rate_variance_keeps_the_binomial_variance_of_doubled_images() -> None:
    rng = np.random.default_rng(2)
    hits = rng.random((1, 200)) < 0.7
    plain = xray.or_hillis_rate(hits)
    doubled = np.repeat(hits, 2, axis=1)
    naive = xray.or_hillis_rate(doubled)
    clustered = xray.or_hillis_rate(doubled, clusters=np.repeat(np.arange(200), 2))
    p = hits.mean()
    # sandwich variance = I/(I-1) · p(1-p)/n exactly for doubled 0/1 hits
    assert clustered["se"] ** 2 == pytest.approx(200 / 199 * p * (1 - p) / 200)
    assert naive["se"] == pytest.approx(plain["se"] / np.sqrt(2))
    same = xray.or_hillis_rate(hits, clusters=np.arange(200))  # singletons: unchanged
    assert same == plain
    three = np.repeat(rng.random((3, 150)) < 0.6, 2, axis=1)
    c3 = np.repeat(np.arange(150), 2)
    assert xray.or_hillis_rate(three, clusters=c3)["se"] > xray.or_hillis_rate(three)["se"]
    rates = xray.seed_rates(np.repeat(np.arange(150) % 2, 2), three.astype(float), 0.5,
                            clusters=c3)
    assert set(rates) == {"accuracy", "sensitivity", "specificity"}
    with pytest.raises(ValueError, match="one id per image"):
        xray.seed_rates(np.arange(10) % 2, np.ones((1, 10)), 0.5, clusters=np.arange(9))


def test_cluster_bootstrap_moves_a_child_s_images_together() -> None:
    c = np.array(["b", "a", "b", "c", "a"])
    w = xray._boot_weights(5, 50, 0, c)
    assert np.array_equal(w[:, 0], w[:, 2]) and np.array_equal(w[:, 1], w[:, 4])
    assert np.allclose(w[:, [0, 1, 3]].sum(axis=1), 3)  # 3 clusters drawn per resample
    np.testing.assert_array_equal(xray._boot_weights(7, 20, 3, np.arange(7)),
                                  xray._boot_weights(7, 20, 3))  # singletons: image bootstrap


def test_auc_ratio_and_ratio_difference_resample_children() -> None:
    rng = np.random.default_rng(5)
    y, s = _scores(rng, 160, 4)
    lo, hi = s[:2], s[2:] + 0.5
    plain = xray.auc_ratio(y, lo, hi, n_boot=400)
    yy, ll, cc = _twice(y, lo)
    _, hh, _ = _twice(y, hi)
    naive = xray.auc_ratio(yy, ll, hh, n_boot=400)
    clustered = xray.auc_ratio(yy, ll, hh, n_boot=400, clusters=cc)
    assert naive["sd_images"] < 0.85 * plain["sd_images"]
    assert clustered["sd_images"] == pytest.approx(plain["sd_images"], rel=0.15)
    ids = [f"person{i // 2}_bacteria_{i}" for i in range(yy.size)]
    parts = {"a": (ids, yy, ll, hh), "b": (ids, yy, hh, ll)}
    by_image = xray.ratio_difference(parts, n_boot=300)
    assert xray.ratio_difference(parts, n_boot=300, cluster_of=str) == by_image
    by_child = xray.ratio_difference(parts, n_boot=300, cluster_of=XR.patient_of)
    assert by_child["diff"] == by_image["diff"]
    assert by_child["sd"] > by_image["sd"]


def _child_records(rng: np.random.Generator, n_child: int, lifts: dict[int, float]) -> list[dict]:
    """Three seeds per input size of three radiographs per Kermany-named child, scored alike."""
    y = np.repeat(np.arange(n_child) % 2, 3)
    ids = [f"test/X/person{i // 3}_virus_{i}" for i in range(y.size)]
    child = np.repeat(rng.normal(size=n_child), 3)
    recs = []
    for res, lift in lifts.items():
        for seed in (0, 1, 2):
            p = 1 / (1 + np.exp(-(lift * y + child + 0.3 * rng.normal(size=y.size))))
            recs.append({"status": "ok", "run_id": f"r{res}-{seed}",
                         "params": {"seed": seed, "resolution": res, "task": "t"},
                         "predictions": {"test": {"ids": ids, "labels": y.tolist(),
                                                  "probs": p.tolist()}}})  # fmt: skip
    return recs


def test_the_chest_analysis_clusters_kermany_children_and_not_other_images() -> None:
    assert XR.patient_of("test/PNEUMONIA/person12_virus_3.jpeg") == "person12"
    assert XR.patient_of("test/NORMAL/NORMAL2-IM-0042-0001.jpeg") == "NORMAL2-IM-0042"
    assert XR.patient_of("ISIC_0012345") == "ISIC_0012345"  # no patient id: its own cluster
    recs = _child_records(np.random.default_rng(6), 80, {64: 1.2})
    y = np.asarray(recs[0]["predictions"]["test"]["labels"])
    by_child = XR.test_metrics(recs, 0.5)
    flat = [{**r, "predictions": {"test": {**r["predictions"]["test"],
                                           "ids": [f"img{i}" for i in range(y.size)]}}}
            for r in recs]  # the same scores with ids that name no child
    by_image = XR.test_metrics(flat, 0.5)
    for k in ("auc", "accuracy"):
        assert by_child[k][0] == pytest.approx(by_image[k][0])
        assert by_child[k][2] - by_child[k][1] > by_image[k][2] - by_image[k][1]


def test_unit_comparison_lines_up_the_tests_by_child_and_by_image() -> None:
    recs = _child_records(np.random.default_rng(7), 60, {64: 0.6, 128: 1.6, 224: 1.7})
    ids = recs[0]["predictions"]["test"]["ids"]
    by_child = {("t",): XR.curve(recs, task="t")}
    by_image = {("t",): XR.curve(recs, unit="image", task="t")}
    table = XR.unit_comparison(by_child, by_image)
    assert sorted(table["resolution"]) == [64, 128]  # the best size (224) is not compared
    assert (table["se patient"] > table["se image"]).all()
    assert (table["p (Holm) patient"] >= table["p (Holm) image"]).all()
    assert list(table["changed"]) == list(table["verdict image"] != table["verdict patient"])
    with pytest.raises(ValueError, match="unit must be"):
        XR.patients(ids, "child")


def test_select_reads_float32_spelt_out_or_left_out_as_one_precision() -> None:
    recs = [{"status": "ok", "params": {"seed": 0, "model": "m"}},
            {"status": "ok", "params": {"seed": 1, "model": "m", "precision": "float32"}},
            {"status": "ok", "params": {"seed": 2, "model": "m", "precision": "mixed_bfloat16"}}]
    assert [r["params"]["seed"] for r in XR.select(recs, precision=None)] == [0, 1]
    assert [r["params"]["seed"] for r in XR.select(recs, precision="float32")] == [0, 1]
    assert [r["params"]["seed"] for r in XR.select(recs, precision="mixed_bfloat16")] == [2]


def test_the_unit_comparison_values_say_none_when_nothing_was_found_by_image() -> None:
    from helpers.chapters import chest_xray as words

    by_unit = pd.DataFrame({"cell": [("t", "m", "frozen")], "resolution": [64],
                            "se image": [0.01], "se patient": [0.02],
                            "p (Holm) image": [0.30], "p (Holm) patient": [0.45],
                            "verdict image": ["inconclusive"], "verdict patient": ["inconclusive"],
                            "changed": [False]})
    shown, values = words.unit_comparison_values(by_unit, {"t": "finding t"})
    assert list(shown["cell"]) == ["finding t, m, frozen"] and "changed" not in shown
    assert values["pu_n"] == 1 and values["pu_changed"] == 0 and values["pu_n_larger"] == 1
    assert values["pu_close_word"] == "—" and np.isnan(values["pu_close_image"])
    found = by_unit.assign(**{"p (Holm) image": [0.01], "p (Holm) patient": [0.06]})
    assert words.unit_comparison_values(found, {"t": "finding t"})[1]["pu_close_word"] == \
        "no longer below"
