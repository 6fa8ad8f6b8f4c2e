"""helpers.runs.align: the one join of several runs' predictions by image id (issue 26)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.runs.align import align

A = ("a", ["i2", "i0", "i1"], [1, 0, 1], [0.9, 0.1, 0.6])
B = ("b", ["i0", "i1", "i2"], [0, 1, 1], [0.2, 0.7, 0.8])


def test_runs_are_joined_by_id_in_the_order_asked_for():
    ids, labels, probs = align([A, B])
    assert ids.tolist() == ["i0", "i1", "i2"] and labels.tolist() == [0, 1, 1]
    assert np.allclose(probs, [[0.1, 0.6, 0.9], [0.2, 0.7, 0.8]])
    ids, _, probs = align([A, B], order="first")
    assert ids.tolist() == ["i2", "i0", "i1"] and np.allclose(probs[1], [0.8, 0.2, 0.7])
    ids, _, probs = align([A, B], order=["i1", "i2", "i0"])
    assert np.allclose(probs[0], [0.6, 0.9, 0.1])


def test_other_images_other_labels_or_duplicates_are_named_errors():
    with pytest.raises(ValueError, match=r"runs 'a' and 'c' were evaluated on different test "
                                         r"images \(2 ids differ\)"):
        align([A, ("c", ["i0", "i1", "i9"], [0, 1, 1], [0.1, 0.2, 0.3])])
    with pytest.raises(ValueError, match="run 'd' labels some val images differently"):
        align([A, ("d", ["i0", "i1", "i2"], [1, 1, 1], [0.1, 0.2, 0.3])], "val")
    with pytest.raises(ValueError, match="duplicate image ids"):
        align([A, ("e", ["i0", "i0", "i2"], [0, 0, 1], [0.1, 0.2, 0.3])])
    with pytest.raises(ValueError, match="order must be"):
        align([A], order="random")
