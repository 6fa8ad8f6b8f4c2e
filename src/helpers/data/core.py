"""Data containers shared by the data layer: Split, Dataset, DataReport, DataError (chapter 01)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")


class DataError(Exception):
    """A data set cannot be used as it is; the message names the file and what to do (chapter 01)."""


@dataclass
class Split:
    """One split of a data set: uint8 RGB images, int64 0/1 labels and string ids (chapter 01)."""

    images: np.ndarray
    labels: np.ndarray
    ids: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def class_counts(self) -> tuple[int, int]:
        """Number of negatives and positives (chapter 01)."""
        return int((self.labels == 0).sum()), int((self.labels == 1).sum())


@dataclass
class DuplicateGroup:
    """A set of byte-identical or near-identical images and what the dedup policy did with it."""

    kind: str  # "exact" (same sha256) or "near" (perceptual hash within the threshold)
    ids: list[str]
    splits: list[str]
    labels: list[int]
    kept: list[str]
    removed: list[str]
    reason: str
    max_distance: int = 0


@dataclass
class DataReport:
    """What loading did: source, counts, duplicates, skipped files, cache use (chapter 01)."""

    dataset: str
    task: str
    resolution: int
    source: str  # relative to the data root, never absolute
    class_names: tuple[str, str]
    split_strategy: str
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[DuplicateGroup] = field(default_factory=list)
    near_dup_action: str = "remove"
    near_dup_threshold: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    cache: dict[str, str] = field(default_factory=dict)  # {"index": "hit"|"miss", "arrays": ...}
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def removed_ids(self) -> list[str]:
        """Ids dropped by the duplicate policy (chapter 01)."""
        return sorted({i for g in self.duplicates for i in g.removed})

    def to_frame(self) -> pd.DataFrame:
        """Counts per split and class as a DataFrame (chapter 01)."""
        neg, pos = self.class_names
        rows = []
        for split in SPLITS:
            if split in self.counts:
                n0, n1 = self.counts[split]
                rows.append({"split": split, neg: n0, pos: n1, "total": n0 + n1,
                             f"% {pos}": round(100.0 * n1 / max(n0 + n1, 1), 1)})
        return pd.DataFrame(rows).set_index("split")

    def duplicates_frame(self) -> pd.DataFrame:
        """One row per duplicate group: kind, ids, splits, labels, kept and removed (chapter 01)."""
        cols = ["kind", "ids", "splits", "labels", "max_distance", "kept", "removed", "reason"]
        rows = [{"kind": g.kind, "ids": " / ".join(g.ids), "splits": " / ".join(g.splits),
                 "labels": " / ".join(map(str, g.labels)), "max_distance": g.max_distance,
                 "kept": " ".join(g.kept) or "-", "removed": " ".join(g.removed) or "-",
                 "reason": g.reason} for g in self.duplicates]
        return pd.DataFrame(rows, columns=cols)

    def skipped_frame(self) -> pd.DataFrame:
        """Skipped files (path relative to the data set folder, reason) (chapter 01)."""
        return pd.DataFrame(self.skipped, columns=["path", "reason"])

    def __str__(self) -> str:
        neg, pos = self.class_names
        lines = [f"{self.dataset} / task {self.task} ({neg}=0, {pos}=1) at {self.resolution} px",
                 f"source: {self.source}   split strategy: {self.split_strategy}"]
        for split in SPLITS:
            if split in self.counts:
                n0, n1 = self.counts[split]
                lines.append(f"  {split:<5} {n0 + n1:>6} images  {neg}={n0}  {pos}={n1}")
        n_ex = sum(g.kind == "exact" for g in self.duplicates)
        n_near = sum(g.kind == "near" for g in self.duplicates)
        lines.append(f"duplicates: {n_ex} exact groups, {n_near} near groups "
                     f"(near action: {self.near_dup_action}, threshold {self.near_dup_threshold}); "
                     f"removed {len(self.removed_ids)} images")
        lines.append(f"skipped files: {len(self.skipped)}")
        for path, reason in self.skipped[:10]:
            lines.append(f"  {path}: {reason}")
        if len(self.skipped) > 10:
            lines.append(f"  ... and {len(self.skipped) - 10} more")
        lines.extend(f"note: {n}" for n in self.notes)
        if self.cache:
            lines.append("cache: " + ", ".join(f"{k} {v}" for k, v in self.cache.items()))
        return "\n".join(lines)


@dataclass
class Dataset:
    """A loaded binary data set: name, task, resolution, class names, splits, report (chapter 01)."""

    name: str
    task: str
    resolution: int
    class_names: tuple[str, str]
    splits: dict[str, Split]
    report: DataReport
    fingerprint: str

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.splits.items())
        return (f"Dataset({self.name!r}, task={self.task!r}, resolution={self.resolution}, "
                f"classes={self.class_names}, {sizes}, fingerprint={self.fingerprint[:12]})")
