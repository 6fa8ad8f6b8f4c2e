"""Reproducible splits: stratified, patient-level, balanced evaluation, stratified subsets (data chapter)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np


def _rng(seed: int, salt: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), salt])


def stratified_split(labels: np.ndarray, fractions: Sequence[float], seed: int) -> np.ndarray:
    """Assign each item to part 0..k-1 with the given fractions within each class (data chapter).

    Parts after the first get ``round(f * n_class)`` items (at least one when the class has
    enough items for every part); the first part gets the rest.
    """
    rng = _rng(seed, 1)
    out = np.zeros(len(labels), dtype=np.int64)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        n, start = len(idx), 0
        sizes = [max(1, round(f * n)) if n >= len(fractions) else round(f * n)
                 for f in fractions[1:]]
        for part, size in enumerate(sizes, start=1):
            out[idx[start:start + size]] = part
            start += size
    return out


def patient_split(labels: np.ndarray, groups: Sequence[str], val_fraction: float, seed: int
                  ) -> np.ndarray:
    """Boolean mask of validation items: whole patients, about val_fraction of each class (data chapter).

    Each patient is assigned to the class most of its images have; patients of each class are
    shuffled (seeded) and moved to validation until that class has its share of images.
    """
    rng = _rng(seed, 2)
    members: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    by_class: dict[int, list[str]] = defaultdict(list)
    for g in sorted(members):
        c = Counter(int(labels[i]) for i in members[g]).most_common(1)[0][0]
        by_class[c].append(g)
    val = np.zeros(len(labels), dtype=bool)
    for c in sorted(by_class):
        pats = by_class[c]
        order = rng.permutation(len(pats))
        target = round(val_fraction * sum(len(members[g]) for g in pats))
        taken = 0
        for j in order:
            if taken >= target:
                break
            val[members[pats[j]]] = True
            taken += len(members[pats[j]])
    return val


def balanced_subsample(labels: np.ndarray, seed: int, salt: int = 3) -> np.ndarray:
    """Sorted indices of a seeded subsample with equal class counts (data chapter)."""
    rng = _rng(seed, salt)
    classes = np.unique(labels)
    n = min(int((labels == c).sum()) for c in classes)
    picked = [rng.choice(np.flatnonzero(labels == c), size=n, replace=False) for c in classes]
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)


def stratified_subset(labels: np.ndarray, n: int, seed: int, salt: int = 4) -> np.ndarray:
    """Sorted indices of a seeded subset of n items keeping class proportions (data chapter)."""
    if n >= len(labels):
        return np.arange(len(labels))
    rng = _rng(seed, salt)
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * n / counts.sum()
    take = np.floor(quota).astype(int)
    if n >= len(classes):
        take = np.maximum(take, 1)  # every class stays represented in a smoke run
    for j in np.argsort(-(quota - np.floor(quota)), kind="stable"):
        if take.sum() >= n:
            break
        take[j] += 1
    while take.sum() > n:
        take[np.argmax(take)] -= 1
    picked = [rng.choice(np.flatnonzero(labels == c), size=min(t, cnt), replace=False)
              for c, t, cnt in zip(classes, take, counts, strict=True)]
    return np.sort(np.concatenate(picked))
