"""The external test set of a run: every image scored in every geometry (training chapter).

:func:`add_external` is the last step of :func:`helpers.training.run.run_training` for a run
with ``external=<name>``: it scores another hospital's folder (``external_root``) with the
trained model, with the run's own geometry and resample (``predictions.external``) and, for
the geometry ablation of the external-site chapter, squashed, centre-cropped, padded and, with lesion masks
(``external_masks``), cropped to the lesion (``predictions.external_geometry``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from helpers.training.batches import array_batches
from helpers.training.params import TrainParams


def add_external(record: dict[str, Any], p: TrainParams, model, task: str) -> None:
    """Score every image of the external folder with the whole model (split ``external``).

    Predictions and metrics go into the record beside val/test (original images, no TTA, the
    run's ``geometry`` and ``resample``), the folder's name, classes, counts and the geometries
    scored into ``data.external`` and its fingerprint into ``provenance.external_fingerprint``.
    The same images are also scored squashed, centre-cropped and padded, and, with
    ``external_masks``, cropped to the lesion (``lesion_box``), each with the run's resample:
    ``predictions.external_geometry`` and ``metrics.external_geometry`` (external-site chapter). A
    geometry that cannot be made for every image (an image without a lesion mask) is left out
    and the record's warnings say how many images lacked it.
    """
    from helpers.data import external_masks
    from helpers.data.resize import EXTERNAL_GEOMETRIES, GEOMETRIES
    from helpers.stats.metrics import binary_metrics

    if not p.external_root:
        raise ValueError(f"external={p.external!r} needs external_root, the folder of class "
                         "folders to score (sweep: --external-root)")
    split, names, fp, own = _score_external(p, model, task, p.geometry)
    record["predictions"]["external"] = own
    record["metrics"]["external"] = binary_metrics(split.labels, own["probs"])
    run_warnings = record.setdefault("warnings", [])
    todo = list(GEOMETRIES)
    if p.external_masks:
        _, missing, masks_fp = external_masks(p.external_root, p.external_masks)
        record["provenance"]["external_masks_fingerprint"] = masks_fp
        missing = sorted(set(missing) & set(split.ids.tolist()))
        if missing:
            run_warnings.append(f"external geometry 'lesion_box' not scored: {len(missing)} of "
                                f"{len(split)} external images have no lesion mask in "
                                f"'{Path(p.external_masks).name}' (e.g. {missing[0]!r})")
        else:
            todo.append("lesion_box")
    by_geometry = {p.geometry: own}
    for geometry in todo:
        if geometry not in by_geometry:
            got = _other_geometry(p, model, task, geometry, split, run_warnings)
            if got is not None:
                by_geometry[geometry] = got
    scored = [g for g in EXTERNAL_GEOMETRIES if g in by_geometry]
    record["predictions"]["external_geometry"] = {g: by_geometry[g] for g in scored}
    record["metrics"]["external_geometry"] = {
        g: binary_metrics(split.labels, by_geometry[g]["probs"]) for g in scored}
    record["data"]["external"] = {"name": p.external, "class_names": list(names),
                                  "counts": list(split.class_counts()), "geometries": scored}
    record["provenance"]["external_fingerprint"] = fp


def _score_external(p: TrainParams, model, task: str, geometry: str):
    """(split, class names, fingerprint, predictions) of the external set in one geometry."""
    from helpers.data import load_external

    split, names, fp = load_external(p.external_root, task, p.resolution, p.cache_dir,
                                     geometry=geometry, resample=p.resample,
                                     masks_root=p.external_masks)
    probs = np.asarray(model.predict(array_batches(split.images, None, 64), verbose=0),
                       dtype=np.float64).reshape(-1)
    return split, names, fp, {"ids": split.ids.tolist(), "labels": split.labels.tolist(),
                              "probs": probs.tolist()}


def _other_geometry(p: TrainParams, model, task: str, geometry: str, split,
                    run_warnings: list[str]) -> dict[str, Any] | None:
    """The external predictions in another geometry, or None (and a warning) when that
    geometry cannot be made for every image of ``split`` (same ids in every geometry)."""
    from helpers.data import DataError

    try:
        other, _, _, pred = _score_external(p, model, task, geometry)
    except DataError as exc:  # e.g. no image of a class with a usable lesion mask
        run_warnings.append(f"external geometry {geometry!r} not scored: {exc}")
        return None
    if other.ids.tolist() == split.ids.tolist():
        return pred
    lost = sorted(set(split.ids.tolist()) ^ set(other.ids.tolist()))
    run_warnings.append(f"external geometry {geometry!r} not scored: {len(lost)} external "
                        f"image(s) could be made in only one of {geometry!r} and "
                        f"{p.geometry!r} (e.g. {lost[0]!r}: an empty lesion mask, or one of "
                        "another size than its image)")
    return None
