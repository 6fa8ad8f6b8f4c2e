"""DeLong's AUC covariance with clustered images: the patient, not the image, as the unit.

Why: the Kermany chest X-ray test set holds several radiographs of many children (the findings
and pneumonia chapters). DeLong's estimator (:mod:`helpers.stats.delong`) treats every image as
independent, so images of one child that a network scores alike make the interval too narrow.
Obuchowski (1997, *Biometrics* 53:567–578, "Nonparametric analysis of clustered ROC curve
data") keeps DeLong's AUC and sums its structural components per cluster. With I clusters,
m_i positive and n_i negative images in cluster i (N1 and N0 in all), ψ the Mann–Whitney kernel:

* V10_i = Σ_{positives x in i} (1/N0) Σ_{all negatives y} ψ(x, y),
  V01_i = Σ_{negatives y in i} (1/N1) Σ_{all positives x} ψ(x, y);
* S10 = I / ((I − 1) N1) Σ_i (V10_i − m_i θ)(V10_i − m_i θ)ᵀ, S01 likewise with n_i and N0,
  S11 = I / (I − 1) Σ_i (V10_i − m_i θ)(V01_i − n_i θ)ᵀ;
* Cov(θ̂) = S10 / N1 + S01 / N0 + (S11 + S11ᵀ) / (N1 N0).

With one image per cluster it is DeLong's estimator up to the small-sample factor
I (N1 − 1) / ((I − 1) N1) (and its negative-class twin), which is within 1 % for a few hundred
images. Vectorised over several score vectors on the same images (seeds, models), so the
Obuchowski–Rockette covariances of :mod:`helpers.stats.mrmc` can be taken at patient level.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from helpers.stats.delong import midrank


def clustered_delong_covariance(
    labels: ArrayLike, scores_matrix: ArrayLike, clusters: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """(AUCs, covariance k × k) of k score vectors on the same images, images clustered (findings chapter).

    ``labels``: 0/1 per image; ``scores_matrix``: k × n (or n) scores; ``clusters``: one id per
    image (e.g. the patient). ValueError (naming what is wrong) for a length mismatch, a class
    with no image, or fewer than 2 clusters.
    """
    y = np.asarray(labels).astype(int).ravel()
    s = np.atleast_2d(np.asarray(scores_matrix, dtype=float))
    c = np.asarray(clusters).ravel()
    n = y.size
    if s.shape[1] != n or c.size != n:
        raise ValueError(f"labels ({n}), scores ({s.shape[1]} per row) and clusters ({c.size}) "
                         "must describe the same images")  # fmt: skip
    if not set(np.unique(y)) <= {0, 1}:
        raise ValueError("labels must be 0/1")
    pos, neg = y == 1, y == 0
    n1, n0 = int(pos.sum()), int(neg.sum())
    if n1 == 0 or n0 == 0:
        raise ValueError(f"need images of both classes; got {n1} positive and {n0} negative")
    _, cid = np.unique(c, return_inverse=True)
    n_clusters = int(cid.max()) + 1
    if n_clusters < 2:
        raise ValueError("need at least 2 clusters for a clustered variance")
    k = s.shape[0]
    v10 = np.zeros((k, n))  # per positive image: share of negatives it outranks (ties ½)
    v01 = np.zeros((k, n))  # per negative image: share of positives that outrank it
    for j in range(k):
        r_all = midrank(s[j])
        r_pos, r_neg = midrank(s[j, pos]), midrank(s[j, neg])
        v10[j, pos] = (r_all[pos] - r_pos) / n0
        v01[j, neg] = 1.0 - (r_all[neg] - r_neg) / n1
    aucs = v10[:, pos].mean(axis=1)
    m = np.bincount(cid, weights=pos.astype(float), minlength=n_clusters)  # positives per cluster
    q = np.bincount(cid, weights=neg.astype(float), minlength=n_clusters)  # negatives per cluster
    sum10 = np.stack([np.bincount(cid, weights=v10[j], minlength=n_clusters) for j in range(k)])
    sum01 = np.stack([np.bincount(cid, weights=v01[j], minlength=n_clusters) for j in range(k)])
    d10 = sum10 - m[None, :] * aucs[:, None]
    d01 = sum01 - q[None, :] * aucs[:, None]
    f = n_clusters / (n_clusters - 1)
    s10 = f * d10 @ d10.T / n1
    s01 = f * d01 @ d01.T / n0
    s11 = f * d10 @ d01.T
    cov = s10 / n1 + s01 / n0 + (s11 + s11.T) / (n1 * n0)
    return aucs, cov
