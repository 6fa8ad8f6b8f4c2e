"""Tests of the data chapter's reading tables (helpers.chapters.data_figures)."""

from __future__ import annotations

from helpers.chapters.data_figures import duplicate_summary, duplicates_table
from helpers.data.core import DataReport, DuplicateGroup


def report() -> DataReport:
    groups = [
        DuplicateGroup("exact", ["a", "b"], ["train", "test"], [0, 0], ["b"], ["a"],
                       "kept the copy in test"),
        DuplicateGroup("near", ["c", "d", "e"], ["train", "train", "val"], [1, 1, 1], ["e"],
                       ["c", "d"], "kept the copy in val", max_distance=4),
        DuplicateGroup("near", ["f", "g"], ["train", "val"], [0, 1], [], ["f", "g"],
                       "labels disagree", max_distance=2),
    ]
    return DataReport("demo", "task", 64, "demo/", ("neg", "pos"), "official", duplicates=groups)


def test_duplicate_summary_counts_groups_and_removed_images():
    summary = duplicate_summary(report())
    assert summary.index.name == "kind"
    assert summary.loc["exact"].tolist() == [1, 1]
    assert summary.loc["near"].tolist() == [2, 4]  # 2 + 2 removed


def test_duplicates_table_is_indexed_by_images_with_key_columns():
    table = duplicates_table(report())
    assert table.index.name == "images" and table.index[0] == "a / b"
    assert list(table.columns) == ["kind", "splits", "distance", "kept"]
    assert table.loc["c / d / e", "distance"] == 4
    assert table.loc["f / g", "kept"] == "-"  # labels disagree: every copy dropped
