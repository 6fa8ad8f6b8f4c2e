"""Duplicate detection (sha256 and perceptual hash) and the keep/drop policy (data chapter).

Policy: within a group of copies, keep the one in the evaluation split with the highest
priority (test > val > train; ties and unsplit data: the smallest id) and drop the others.
If the copies' labels disagree, drop every copy (the label cannot be trusted).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from .core import DuplicateGroup
from .images import grey_correlation, hamming_matrix

PRIORITY = {"test": 0, "val": 1, "train": 2, None: 3, "": 3}
# Near-identical = pHash Hamming distance <= NEAR_THRESHOLD *and* grey-thumbnail correlation
# >= NEAR_MIN_CORR. Chosen by eye on ISIC 2017: every pair flagged is the same lesion (re-imaged or
# colour-processed); distinct lesions on similar backgrounds reach high correlation only at
# larger pHash distances, and small pHash distances alone flag distinct lesions (corr ~0.8).
NEAR_THRESHOLD = 6
NEAR_MIN_CORR = 0.95


def near_pairs(hashes: np.ndarray, threshold: int, chunk: int = 1024) -> list[tuple[int, int, int]]:
    """All pairs (i, j, distance) with i < j and Hamming distance <= threshold (data chapter)."""
    out = []
    for start in range(0, len(hashes), chunk):
        d = hamming_matrix(hashes[start:start + chunk], hashes)
        ii, jj = np.nonzero(d <= threshold)
        for i, j in zip(ii + start, jj, strict=True):
            if i < j:
                out.append((int(i), int(j), int(d[i - start, j])))
    return out


def find_groups(sha: Sequence[str], phash: Sequence[int], threshold: int,
                thumbs: Sequence[np.ndarray] | None = None, min_corr: float = NEAR_MIN_CORR
                ) -> list[tuple[str, list[int], int]]:
    """Groups of copies as (kind, member positions, max near distance); kind 'exact' or 'near'."""
    by_sha: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sha):
        by_sha[s].append(i)
    reps = [m[0] for m in by_sha.values()]
    parent = list(range(len(reps)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    dist: dict[int, int] = defaultdict(int)
    if threshold >= 0 and len(reps) > 1:
        hashes = np.array([phash[r] for r in reps], dtype=np.uint64)
        for i, j, d in near_pairs(hashes, threshold):
            if thumbs is not None and grey_correlation(thumbs[reps[i]], thumbs[reps[j]]) < min_corr:
                continue
            a, b = find(i), find(j)
            if a != b:
                parent[b] = a
            root = find(a)
            dist[root] = max(dist[root], dist[a], dist[b], d)
    comps: dict[int, list[int]] = defaultdict(list)
    for k in range(len(reps)):
        comps[find(k)].append(k)
    groups = []
    for root, ks in comps.items():
        members = sorted(i for k in ks for i in by_sha[sha[reps[k]]])
        if len(ks) > 1:
            groups.append(("near", members, dist[root]))
        elif len(members) > 1:
            groups.append(("exact", members, 0))
    return sorted(groups, key=lambda g: g[1][0])


def apply_policy(groups: list[tuple[str, list[int], int]], ids: Sequence[str],
                 splits: Sequence[str | None], labels: Sequence[int], near_action: str
                 ) -> tuple[np.ndarray, list[DuplicateGroup]]:
    """Keep mask over all items and the report rows, applying the policy above (data chapter)."""
    keep = np.ones(len(ids), dtype=bool)
    report = []
    for kind, members, dmax in groups:
        g_ids = [ids[i] for i in members]
        g_split = [splits[i] or "-" for i in members]
        g_lab = [int(labels[i]) for i in members]
        if kind == "near" and near_action == "report":
            report.append(DuplicateGroup(kind, g_ids, g_split, g_lab, g_ids, [],
                                         "near copy reported, not removed", dmax))
            continue
        if len(set(g_lab)) > 1:
            keep[members] = False
            report.append(DuplicateGroup(kind, g_ids, g_split, g_lab, [], g_ids,
                                         "labels disagree: all copies dropped", dmax))
            continue
        best = min(members, key=lambda i: (PRIORITY.get(splits[i], 3), ids[i]))
        dropped = [i for i in members if i != best]
        keep[dropped] = False
        where = splits[best] or "the data set"
        report.append(DuplicateGroup(kind, g_ids, g_split, g_lab, [ids[best]],
                                     [ids[i] for i in dropped], f"kept the copy in {where}", dmax))
    return keep, report
