"""Size of the OR–Hillis seed-aware test under the Obuchowski–Rockette model, by simulation (issue 25).

Why: with 2–3 training seeds ("readers", :mod:`helpers.stats.mrmc`) the published OR–Hillis test
rejects a true null more often than its level. This module measures how often, for the test as
published (Hillis 2007; Hillis, Berbaum & Metz 2008), for its σ²_TR ≥ 0 version
(``constrain_tr=True`` of :func:`helpers.stats.mrmc.or_hillis_compare`) and for the generalized
p-value (:mod:`helpers.stats.mrmc_generalized`), with covariances taken from
the book's own records (``scripts/or_hillis_size.py`` → ``results/stats/or_hillis_size.json``;
the results chapter's appendix and the CI check in ``tests/test_mrmc_size.py``).

The simulation is the standard shortcut for the OR model (Obuchowski & Rockette 1995): under
H0 the 2 × r matrix of AUC estimates (configuration × seed) is drawn from a multivariate normal
with covariance σ²_TR·I + Σ, where Σ has Var on the diagonal, Cov1 between configurations on the
same seed, Cov2 between seeds of one configuration and Cov3 otherwise. (The seed effect σ²_R
cancels from MS(T) and MS(T×R), so it is left out.) The test then sees either these covariances
themselves (``n_cases=None``) or, as it would in a study, estimates of them: a Wishart draw with
``n_cases − 1`` degrees of freedom around Σ (an approximation to the sampling error of the DeLong
covariance, which is a sum of two sample covariances over the positive and negative images).
Both tests are computed by :func:`helpers.stats.mrmc.or_hillis_f`, the code the book runs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from helpers.stats.mrmc import or_hillis_f
from helpers.stats.mrmc_generalized import generalized_p

__all__ = ["or_covariance", "or_size"]


def or_covariance(var: float, cov1: float, cov2: float, cov3: float, n_readers: int) -> np.ndarray:
    """The OR error covariance Σ (2r × 2r; rows configuration-major: a1..ar, b1..br) (issue 25)."""
    r = int(n_readers)
    if r < 2:
        raise ValueError(f"n_readers must be >= 2 (the OR–Hillis test needs 2 seeds); got {r}")
    cfg = np.repeat(np.arange(2), r)
    seed = np.tile(np.arange(r), 2)
    same_cfg = cfg[:, None] == cfg[None, :]
    same_seed = seed[:, None] == seed[None, :]
    return np.where(
        same_cfg & same_seed,
        var,
        np.where(same_seed, cov1, np.where(same_cfg, cov2, cov3)),
    ).astype(float)


def _sqrt_psd(m: np.ndarray, what: str) -> np.ndarray:
    """L with L Lᵀ = m for a positive semi-definite m; ValueError naming ``what`` otherwise."""
    w, v = np.linalg.eigh(m)
    if w.min() < -1e-12 * max(abs(w).max(), 1e-300):
        raise ValueError(
            f"{what} is not a covariance matrix (smallest eigenvalue {w.min():.3g}): the OR "
            "model needs Var >= Cov1, Var >= Cov2 and Var - Cov1 - Cov2 + Cov3 >= 0; check the "
            "covariances passed to or_size"
        )
    return v * np.sqrt(np.clip(w, 0.0, None))


def _wishart(sigma: np.ndarray, dof: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws (n, k, k) of W_k(Σ/dof, dof), mean Σ, by Bartlett's decomposition (vectorised)."""
    k = sigma.shape[0]
    if dof < k:
        raise ValueError(f"n_cases - 1 = {dof} must be >= 2 × n_readers = {k} for the Wishart draw")
    low = _sqrt_psd(sigma / dof, "the OR covariance")
    a = np.zeros((n, k, k))
    rows, cols = np.tril_indices(k, -1)
    a[:, rows, cols] = rng.standard_normal((n, rows.size))
    a[:, np.arange(k), np.arange(k)] = np.sqrt(rng.chisquare(dof - np.arange(k), size=(n, k)))
    la = low @ a
    return la @ np.swapaxes(la, 1, 2)


def _or_averages(c: np.ndarray, r: int) -> tuple[np.ndarray, ...]:
    """(Var, Cov1, Cov2, Cov3) averaged over the matching entries of c[..., 2r, 2r]."""
    cfg = np.repeat(np.arange(2), r)
    seed = np.tile(np.arange(r), 2)
    same_cfg = cfg[:, None] == cfg[None, :]
    same_seed = seed[:, None] == seed[None, :]
    masks = (same_cfg & same_seed, ~same_cfg & same_seed, same_cfg & ~same_seed,
             ~same_cfg & ~same_seed)  # fmt: skip
    return tuple(c[..., m].mean(axis=-1) for m in masks)


def _check(n_reps: int, alpha: float, sigma2_tr: float) -> None:
    if n_reps < 1:
        raise ValueError(f"n_reps must be >= 1; got {n_reps}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}")
    if not sigma2_tr >= 0:
        raise ValueError(
            f"sigma2_tr (the configuration × seed variance) must be >= 0; got {sigma2_tr}"
        )


def or_size(
    sigma2_tr: float,
    var: float,
    cov1: float,
    cov2: float,
    cov3: float,
    n_readers: int,
    n_cases: int | None = None,
    *,
    cases_ref: int | None = None,
    n_reps: int = 20_000,
    alpha: float = 0.05,
    seed: int | np.random.SeedSequence = 0,
    gpv_nodes: int = 1000,
) -> dict[str, Any]:
    """Null rejection rates of OR–Hillis (as published, with σ²_TR ≥ 0) and of the generalized p-value, by simulation (issue 25).

    ``var, cov1, cov2, cov3``: the OR covariances of one AUC (as :func:`helpers.stats.mrmc.
    or_hillis_compare` reports them); ``sigma2_tr``: the configuration × seed variance;
    ``n_readers``: seeds per configuration; ``n_cases``: test images (or the clusters they fall
    in, e.g. children, where the covariances are clustered), which sets the sampling error
    of the covariance estimates the test sees (None: the test sees the true covariances). With
    ``cases_ref`` (the images the covariances were estimated on) the covariances are rescaled to
    ``n_cases`` images (× cases_ref / n_cases: an AUC's variance falls as 1/images);
    ``sigma2_tr`` is not. ``seed`` fixes the random draws.

    Returns the settings, the share of replicates where the floor binds, and for each test
    (``hillis``, ``constrained``, ``generalized``: :func:`helpers.stats.mrmc_generalized.
    generalized_p` on ``gpv_nodes`` nodes) the rejection rate at ``alpha`` and its Monte Carlo SE
    sqrt(rate (1 − rate) / n_reps).
    """
    _check(n_reps, alpha, sigma2_tr)
    r = int(n_readers)
    scale = 1.0
    if cases_ref is not None:
        if n_cases is None:
            raise ValueError(
                "cases_ref rescales the covariances to n_cases images: pass n_cases too"
            )
        scale = cases_ref / n_cases
    sigma = or_covariance(var, cov1, cov2, cov3, r) * scale
    rng = np.random.default_rng(seed)
    total = _sqrt_psd(sigma + sigma2_tr * np.eye(2 * r), "σ²_TR·I + the OR covariance")
    theta = (rng.standard_normal((n_reps, 2 * r)) @ total.T).reshape(n_reps, 2, r)
    if n_cases is None:
        est = (np.full(n_reps, c * scale) for c in (var, cov1, cov2, cov3))
    else:
        est = _or_averages(_wishart(sigma, int(n_cases) - 1, n_reps, rng), r)
    var_h, cov1_h, cov2_h, cov3_h = est
    out: dict[str, Any] = {"n_readers": r, "n_cases": n_cases, "n_reps": n_reps, "alpha": alpha,
                           "sigma2_tr": sigma2_tr, "covariance_scale": scale}  # fmt: skip
    for name, constrain in (("hillis", False), ("constrained", True)):
        res = or_hillis_f(theta, var_h, cov1_h, cov2_h, cov3_h, constrain_tr=constrain)
        rate = float(np.mean(res["p"] < alpha))
        out[name] = {"rate": rate, "mc_se": math.sqrt(rate * (1.0 - rate) / n_reps)}
        if constrain:
            out["floor_binds"] = float(np.mean(res["floor_binds"]))
        else:  # the generalized p-value from the same mean squares and covariance estimates
            p_gen = generalized_p(res["ms_t"], res["ms_tr"], cov2_h, cov3_h, r, nodes=gpv_nodes)
            rate = float(np.mean(p_gen < alpha))
            out["generalized"] = {"rate": rate, "mc_se": math.sqrt(rate * (1.0 - rate) / n_reps)}
    return out
