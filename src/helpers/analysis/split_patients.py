"""Are the Kermany test children new children? Patient ids across the official folders (findings chapter).

The official Kermany test folder shares many patient ids ("person12", "IM-0115") with the train
folder. If these were the same children, a model would be scored on children it was trained on.
The file names suggest otherwise: the numbers seem to restart per folder (a child with viral
pneumonia in the test folder can carry the id of a child with bacterial pneumonia in train).
This module measures it on the pixels: for every id in both folders, the most alike pair of
its train and test radiographs (Pearson correlation of 32 × 32 grey thumbnails), against two
baselines: a test child paired with a *random* training child, and the most alike pair of one
test child's own radiographs (what "the same child" looks like, often the same visit). Same ids
that are the same children would look like the second baseline; renumbered ones like the first.
It is a screen, not a proof: a child filmed at two visits can look less alike than that.

``scripts/kermany_split_patients.py`` writes the result to ``results/xray/split_patients.json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from scipy import stats

from helpers.data.images import grey_correlation
from helpers.data.sources import kermany_patient

__all__ = ["IMAGE_SUFFIXES", "folder_patients", "split_patient_overlap", "thumbnail"]

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")


def folder_patients(folder: Path) -> dict[str, list[Path]]:
    """Patient id → its image files (sorted) under ``folder``; an image without an id is refused."""
    out: dict[str, list[Path]] = {}
    for f in sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        pid = kermany_patient(f.name)
        if pid is None:
            raise ValueError(f"{f}: no Kermany patient id in the file name (personNNN_..., "
                             "IM-NNNN-..., NORMAL2-IM-NNNN-...); is this the Kermany data set?")
        out.setdefault(pid, []).append(f)
    return out


def thumbnail(path: Path, size: int = 32) -> np.ndarray:
    """Grey ``size`` × ``size`` thumbnail (uint8) of one radiograph."""
    with Image.open(path) as im:
        return np.asarray(im.convert("L").resize((size, size), Image.BILINEAR), dtype=np.uint8)


def _best_corr(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """Largest correlation (:func:`helpers.data.images.grey_correlation`) between a thumbnail
    of ``a`` and one of ``b``."""
    return max(grey_correlation(x, y) for x in a for y in b)


def _summary(values: Iterable[float], alike: float) -> dict[str, float]:
    v = np.asarray(list(values), dtype=np.float64)
    return {"pairs": int(v.size), "median": float(np.median(v)) if v.size else float("nan"),
            "share_alike": float(np.mean(v >= alike)) if v.size else float("nan")}


def split_patient_overlap(root: Path, *, per_patient: int = 3, size: int = 32,
                          alike: float = 0.95, seed: int = 0) -> dict[str, Any]:
    """Counts and likeness of the ids the Kermany train (+ val) and test folders share.

    ``root`` holds ``train/``, ``val/`` and ``test/``. At most ``per_patient`` images per child
    and folder are compared. ``alike``: the correlation from which two thumbnails count as
    alike (reported as the share of pairs at or above it). Returns the counts per folder, the
    shared ids, and the three likeness summaries (pairs, median, share_alike): ``same_id``,
    ``random_child`` (each shared id's test images against a random training child, seeded)
    and ``within_test`` (the most alike pair among up to ``per_patient`` radiographs of one test
    child: the same best-of statistic as the others), and ``same_vs_random_p``: the one-sided
    Mann–Whitney p that same-id pairs are more alike than random-child pairs.
    """
    folders = {s: root / s for s in ("train", "val", "test")}
    missing = [str(p) for p in folders.values() if not p.is_dir()]
    if missing:
        raise FileNotFoundError(f"no Kermany folder {missing}: pass the folder holding "
                                "train/, val/ and test/ (book/data.md)")
    pats = {s: folder_patients(p) for s, p in folders.items()}
    train = {**pats["val"], **pats["train"]}
    for pid, files in pats["val"].items():
        if pid in pats["train"]:
            train[pid] = pats["train"][pid] + files
    test = pats["test"]
    shared = sorted(set(train) & set(test))
    cache: dict[Path, np.ndarray] = {}

    def thumbs(files: Sequence[Path]) -> list[np.ndarray]:
        for f in files[:per_patient]:
            if f not in cache:
                cache[f] = thumbnail(f, size)
        return [cache[f] for f in files[:per_patient]]

    rng = np.random.default_rng(seed)
    train_ids = sorted(train)
    same = [_best_corr(thumbs(train[i]), thumbs(test[i])) for i in shared]
    others = [train_ids[k] for k in rng.integers(len(train_ids), size=len(shared))]
    rand = [_best_corr(thumbs(train[o]), thumbs(test[i])) for i, o in zip(shared, others, strict=True)]
    multi = [i for i in sorted(test) if len(test[i]) > 1]

    def best_within(pid: str) -> float:  # the most alike pair of one child's radiographs
        t = thumbs(test[pid])
        return max(grey_correlation(t[a], t[b]) for a in range(len(t)) for b in range(a + 1, len(t)))

    within = [best_within(i) for i in multi]
    n_test = sum(len(v) for v in test.values())
    return {
        "images": {s: sum(len(v) for v in p.values()) for s, p in pats.items()},
        "patients": {s: len(p) for s, p in pats.items()},
        "train_val_shared_ids": len(set(pats["train"]) & set(pats["val"])),
        "shared_ids": len(shared),
        "shared_id_examples": shared[:5],
        "test_images_in_multi_image_children": int(sum(len(test[i]) for i in multi)),
        "test_images": n_test,
        "same_id": _summary(same, alike),
        "random_child": _summary(rand, alike),
        "within_test": _summary(within, alike),
        "same_vs_random_p": float(stats.mannwhitneyu(same, rand, alternative="greater").pvalue)
        if shared else float("nan"),
        "settings": {"per_patient": per_patient, "thumbnail_px": size, "alike": alike,
                     "seed": seed},
    }
