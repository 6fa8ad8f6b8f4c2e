"""One way to join several runs' predictions by image id (results, parity and chest X-ray
chapters).

Every paired comparison in the book (DeLong, OR–Hillis, a ratio bootstrap) needs the runs'
probabilities on the same images in the same order. :func:`align` is the one place that checks
it: the same image ids in every run, the same label for each image, and a clear error naming
the two runs and the split otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

Predictions = tuple[str, Any, Any, Any]
"""One run's predictions on a split: (run id, ids, labels, probs)."""


def align(runs: Iterable[Predictions], split: str = "test", *,
          order: str | Sequence[str] = "sorted") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids, labels, probs[run, image])`` of several runs joined by image id.

    ``order``: ``"sorted"`` (ids in sorted order), ``"first"`` (the first run's stored order)
    or an explicit list of ids. ValueError when a run's ids differ from the first run's (how
    many differ, and why that happens: ``max_images`` subsamples per seed) or when a run labels
    an image differently.
    """
    runs = [(str(rid), np.asarray(ids).astype(str), np.asarray(labels), np.asarray(probs, float))
            for rid, ids, labels, probs in runs]
    if not runs:
        raise ValueError(f"no run to align on the {split} split")
    first_id, first_ids, first_labels, _ = runs[0]
    if isinstance(order, str):
        if order not in ("sorted", "first"):
            raise ValueError(f"order must be 'sorted', 'first' or a list of ids; got {order!r}")
        ids = np.sort(first_ids) if order == "sorted" else first_ids
    else:
        ids = np.asarray(list(order)).astype(str)
    want = set(ids.tolist())
    label_of = dict(zip(first_ids.tolist(), first_labels.tolist(), strict=True))
    labels = np.asarray([label_of[i] for i in ids.tolist()]) if want <= set(label_of) else None
    probs = np.empty((len(runs), ids.size))
    for r, (rid, run_ids, run_labels, run_probs) in enumerate(runs):
        if len(set(run_ids.tolist())) != run_ids.size:
            raise ValueError(f"run {rid!r} has duplicate image ids on the {split} split")
        if run_ids.size != ids.size or set(run_ids.tolist()) != want:
            extra = len(set(run_ids.tolist()) ^ want)
            raise ValueError(
                f"runs {first_id!r} and {rid!r} were evaluated on different {split} images "
                f"({extra} ids differ): paired tests need the same images. Runs with "
                "max_images subsample per seed; compare runs made on the full split (same "
                "provenance.data_fingerprint)")
        position = {i: k for k, i in enumerate(run_ids.tolist())}
        take = np.asarray([position[i] for i in ids.tolist()])
        probs[r] = run_probs[take]
        if labels is None or not np.array_equal(run_labels[take], labels):
            raise ValueError(f"run {rid!r} labels some {split} images differently from "
                             f"{first_id!r}")
    assert labels is not None
    return ids, labels, probs
