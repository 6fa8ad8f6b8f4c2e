"""Clustered DeLong covariance (Obuchowski 1997): the patient as the unit (issue 24, item 2)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from helpers.stats.delong import delong_covariance
from helpers.stats.delong_clustered import clustered_delong_covariance


def _data(rng: np.random.Generator, n: int = 300, k: int = 2):
    y = rng.integers(0, 2, n)
    s = y[None, :] * 0.8 + rng.normal(size=(k, n))
    return y, s


def test_singleton_clusters_give_delong_up_to_the_small_sample_factor() -> None:
    y, s = _data(np.random.default_rng(0))
    aucs, cov = clustered_delong_covariance(y, s, np.arange(y.size))
    ref_aucs, ref_cov = delong_covariance(y, s)
    assert aucs == pytest.approx(ref_aucs, abs=1e-12)
    assert aucs[0] == pytest.approx(roc_auc_score(y, s[0]))
    assert cov == pytest.approx(ref_cov, rel=0.01)


def test_duplicated_images_do_not_shrink_the_patient_level_variance() -> None:
    """Each image twice in its own cluster: image-level DeLong halves the variance (it counts
    twice the evidence), the clustered estimator keeps it."""
    y, s = _data(np.random.default_rng(1), k=1)
    _, single = clustered_delong_covariance(y, s, np.arange(y.size))
    y2, s2, c2 = np.repeat(y, 2), np.repeat(s, 2, axis=1), np.repeat(np.arange(y.size), 2)
    _, clustered = clustered_delong_covariance(y2, s2, c2)
    _, image_level = delong_covariance(y2, s2)
    assert float(clustered[0, 0]) == pytest.approx(float(single[0, 0]), rel=0.01)
    assert float(image_level[0, 0]) == pytest.approx(float(single[0, 0]) / 2, rel=0.05)


def test_matches_a_cluster_bootstrap_on_correlated_patients() -> None:
    rng = np.random.default_rng(2)
    n_pat = 150
    pat_label = rng.integers(0, 2, n_pat)
    pat_effect = rng.normal(size=n_pat)
    sizes = rng.integers(1, 5, n_pat)  # 1-4 images per patient, scored alike
    cid = np.repeat(np.arange(n_pat), sizes)
    y = pat_label[cid]
    s = (y * 1.0 + pat_effect[cid] + 0.3 * rng.normal(size=cid.size))[None, :]
    auc, cov = clustered_delong_covariance(y, s, cid)
    boot = []
    for _ in range(1500):
        pick = rng.integers(0, n_pat, n_pat)
        idx = np.concatenate([np.flatnonzero(cid == p) for p in pick])
        if 0 < y[idx].sum() < idx.size:
            boot.append(roc_auc_score(y[idx], s[0, idx]))
    assert float(np.sqrt(cov[0, 0])) == pytest.approx(float(np.std(boot)), rel=0.15)
    _, image_cov = delong_covariance(y, s)
    assert cov[0, 0] > 1.5 * image_cov[0, 0]  # image-level DeLong is too narrow here


def test_refuses_bad_input() -> None:
    y, s = _data(np.random.default_rng(3), n=20, k=1)
    with pytest.raises(ValueError, match="same images"):
        clustered_delong_covariance(y, s, np.arange(19))
    with pytest.raises(ValueError, match="both classes"):
        clustered_delong_covariance(np.ones(20), s, np.arange(20))
    with pytest.raises(ValueError, match="at least 2 clusters"):
        clustered_delong_covariance(y, s, np.zeros(20))


def test_patient_widening_groups_kermany_images_by_child() -> None:
    from helpers.analysis.chest_xray import patient_widening

    rng = np.random.default_rng(4)
    ids, labels = [], []
    for child in range(60):  # 3 radiographs per child, one label per child
        y = child % 2
        for k in range(3):
            ids.append(f"test/{'PNEUMONIA' if y else 'NORMAL'}/person{child}_bacteria_{k}")
            labels.append(y)
    y = np.array(labels)
    child_effect = np.repeat(rng.normal(size=60), 3)
    recs = []
    for seed in (0, 1):
        probs = 1 / (1 + np.exp(-(1.5 * y + child_effect + 0.2 * rng.normal(size=y.size))))
        recs.append({"status": "ok", "run_id": f"r{seed}",
                     "params": {"dataset": "kermany", "task": "pneumonia", "model": "m",
                                "regime": "frozen", "resolution": 64, "seed": seed},
                     "predictions": {"test": {"ids": ids, "labels": y.tolist(),
                                              "probs": probs.tolist()}}})  # fmt: skip
    recs.append({**recs[0], "params": {**recs[0]["params"], "dataset": "pneumoniamnist"}})
    table = patient_widening(recs)
    assert len(table) == 1  # the other data set's record is not mixed in
    row = table.iloc[0]
    assert (row["images"], row["patients"], row["seeds"]) == (180, 60, 2)
    assert row["ratio"] > 1.3  # three alike images per child: the image-level SE is too small
