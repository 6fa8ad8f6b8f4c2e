"""Data containers shared by the data layer: Split, Dataset, DataReport, DataError (data chapter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")


class DataError(Exception):
    """A data set cannot be used as it is; the message names the file and what to do (data chapter)."""


@dataclass
class Split:
    """One split of a data set: uint8 RGB images, int64 0/1 labels and string ids (data chapter)."""

    images: np.ndarray
    labels: np.ndarray
    ids: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def class_counts(self) -> tuple[int, int]:
        """Number of negatives and positives (data chapter)."""
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
    """What loading did: source, counts, duplicates, skipped files, cache use (data chapter)."""

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
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): not loaded
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, warning): loaded
    cache: dict[str, str] = field(default_factory=dict)  # {"index": "hit"|"miss", "arrays": ...}
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # how the images became square (helpers.data.resize): {"geometry": ..., "resample": ...}
    resize: dict[str, str] = field(default_factory=lambda: {"geometry": "squash",
                                                            "resample": "bilinear"})

    @property
    def removed_ids(self) -> list[str]:
        """Ids dropped by the duplicate policy (data chapter)."""
        return sorted({i for g in self.duplicates for i in g.removed})

    def to_frame(self) -> pd.DataFrame:
        """Counts per split and class as a DataFrame (data chapter)."""
        neg, pos = self.class_names
        rows = []
        for split in SPLITS:
            if split in self.counts:
                n0, n1 = self.counts[split]
                rows.append({"split": split, neg: n0, pos: n1, "total": n0 + n1,
                             f"% {pos}": round(100.0 * n1 / max(n0 + n1, 1), 1)})
        return pd.DataFrame(rows).set_index("split")

    def duplicates_frame(self) -> pd.DataFrame:
        """One row per duplicate group: kind, ids, splits, labels, kept and removed (data chapter)."""
        cols = ["kind", "ids", "splits", "labels", "max_distance", "kept", "removed", "reason"]
        rows = [{"kind": g.kind, "ids": " / ".join(g.ids), "splits": " / ".join(g.splits),
                 "labels": " / ".join(map(str, g.labels)), "max_distance": g.max_distance,
                 "kept": " ".join(g.kept) or "-", "removed": " ".join(g.removed) or "-",
                 "reason": g.reason} for g in self.duplicates]
        return pd.DataFrame(rows, columns=cols)

    def skipped_frame(self) -> pd.DataFrame:
        """Skipped files (path relative to the data set folder, reason) (data chapter)."""
        return pd.DataFrame(self.skipped, columns=["path", "reason"])

    def skipped_counts(self) -> dict[str, int]:
        """Number of skipped files per kind of reason, e.g. {'system file .DS_Store': 2} (data chapter)."""
        return reason_counts(self.skipped)

    def warnings_frame(self) -> pd.DataFrame:
        """Images that were loaded but look suspicious (path, warning) (data chapter)."""
        return pd.DataFrame(self.warnings, columns=["path", "warning"])

    def warning_counts(self) -> dict[str, int]:
        """Number of loaded images per kind of warning, e.g. {'constant image': 1} (data chapter)."""
        return reason_counts(self.warnings)

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
        lines.extend(_listing("skipped files", self.skipped, always=True))
        lines.extend(_listing("images kept with warnings", self.warnings, always=False))
        lines.extend(f"note: {n}" for n in self.notes)
        if self.cache:
            lines.append("cache: " + ", ".join(f"{k} {v}" for k, v in self.cache.items()))
        return "\n".join(lines)


def reason_kind(reason: str) -> str:
    """The kind of a skip or warning reason: its text before the first ' (' (data chapter)."""
    return reason.split(" (", 1)[0]


def reason_counts(rows: list[tuple[str, str]]) -> dict[str, int]:
    """Counts of (path, reason) rows per :func:`reason_kind`, most frequent first (data chapter)."""
    counts: dict[str, int] = {}
    for _, reason in rows:
        counts[reason_kind(reason)] = counts.get(reason_kind(reason), 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _listing(title: str, rows: list[tuple[str, str]], always: bool, show: int = 10) -> list[str]:
    if not rows:
        return [f"{title}: 0"] if always else []
    kinds = ", ".join(f"{k}: {n}" for k, n in reason_counts(rows).items())
    lines = [f"{title}: {len(rows)} ({kinds})"]
    lines += [f"  {path}: {reason}" for path, reason in rows[:show]]
    if len(rows) > show:
        lines.append(f"  ... and {len(rows) - show} more")
    return lines


@dataclass
class Dataset:
    """A loaded binary data set: name, task, resolution, class names, splits, report (data chapter)."""

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
