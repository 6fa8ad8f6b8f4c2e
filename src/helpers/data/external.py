"""An external test set: another hospital's folder of class folders, and its lesion masks.

Used by the training chapter's runs with ``external=<name>`` (:func:`load_external`, the
record's ``predictions.external``) and by the sweep's resume and ``--dry-run`` checks
(:func:`external_fingerprint`, :func:`external_masks`, no pixel decoded); the lesion masks
give the ``lesion_box`` geometry (the external-site chapter, "Another hospital's images").
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from .. import config
from .cache import build_index, load_arrays
from .core import DataError, Split
from .folder_source import FolderSource
from .images import is_image_name
from .resize import DEFAULT_GEOMETRY, DEFAULT_RESAMPLE, check
from .sources import Entry


def load_external(data_root: str | os.PathLike[str], task: str, resolution: int,
                  cache_dir: str | os.PathLike[str] | None = None, *,
                  geometry: str = DEFAULT_GEOMETRY, resample: str = DEFAULT_RESAMPLE,
                  masks_root: str | os.PathLike[str] | None = None,
                  ) -> tuple[Split, tuple[str, str], str]:
    """Every image of an external folder of class folders as one test split (training chapter).

    Another hospital's images, any size and format, scored at the run's resolution: no split,
    no duplicate removal, unreadable files skipped (as in :func:`helpers.data.load_dataset`).
    ``task`` must name one of its two class folders. ``geometry``/``resample``:
    :mod:`helpers.data.resize`;
    ``geometry="lesion_box"`` crops each image around its lesion mask from ``masks_root``
    (:func:`find_masks`) and leaves out an image without a usable mask. Returns (split, class
    names, fingerprint); the fingerprint is a sha256 over (id, label, file sha256) of every
    image used, whatever the geometry.
    """
    check(geometry, resample, external=True)
    src = FolderSource(config.data_root(data_root))
    if task not in src.tasks:
        raise DataError(f"external folder '{src.root.name}': no class folder {task!r} (the "
                        f"run's positive class); its class folders are {sorted(src.tasks)}.")
    entries = [e for e in src.entries() if not src.is_empty(e)]
    class_names, labels_all = src.task_labels(task, entries)
    cache_root = config.cache_dir(cache_dir) / "arrays"
    key = src.stat_key(entries)
    index, _ = build_index(src, entries, key, cache_root)
    ok = [e for e in entries if not index.skip.get(e.rel)]
    fp = _external_fp(task, entries, labels_all, index)
    masks, masks_key = None, ""
    if geometry == "lesion_box":
        if masks_root is None:
            raise ValueError("geometry='lesion_box' needs masks_root, the folder of lesion masks "
                             "(sweep: --external-masks)")
        masks = find_masks(entries, masks_root)  # as external_masks: one fingerprint
        masks_key = masks_fingerprint(masks)
    images, rows, _, _ = load_arrays(src, ok, key, resolution, cache_root, geometry, resample,
                                     masks, masks_key)
    idx = [i for _, i in sorted((e.id, i) for i, e in enumerate(entries) if e.rel in rows)]
    labels = labels_all[idx].astype(np.int64)
    for c in (0, 1):
        if not (labels == c).any():
            raise DataError(f"external folder '{src.root.name}' has no readable image of class "
                            f"'{class_names[c]}'" + (" with a usable lesion mask" if masks
                                                     else "") + ".")
    imgs = np.stack([images[rows[entries[i].rel]] for i in idx])
    ids = np.array([entries[i].id for i in idx], dtype=str)
    return Split(imgs, labels, ids), class_names, fp


def find_masks(entries: list[Entry], masks_root: str | os.PathLike[str]) -> dict[str, Path]:
    """``{entry rel: mask file}`` for the images that have a lesion mask (external-site chapter).

    The mask of ``<class>/<stem>.<ext>`` is the image file directly in ``masks_root`` whose
    name starts with ``<stem>_`` or ``<stem>.`` (PH2: ``IMD058.jpg`` -> ``IMD058_lesion.png``);
    a mask that starts with two images' stems belongs to the longer one (``IMD1_b_lesion.png``
    is ``IMD1_b.jpg``'s, not ``IMD1.jpg``'s).
    DataError when the folder is missing, when two images share a stem (their masks could not
    be told apart) or when one image matches several mask files.
    """
    root = Path(masks_root)
    if not root.is_dir():
        raise DataError(f"lesion mask folder {root} not found (check --external-masks)")
    names = sorted(p.name for p in root.iterdir() if p.is_file() and is_image_name(p.name))
    by_stem: dict[str, list[str]] = {}
    for e in entries:
        by_stem.setdefault(Path(e.rel).stem, []).append(e.rel)
    shared = next((rels for rels in by_stem.values() if len(rels) > 1), None)
    if shared:
        raise DataError(f"images {shared} have the same file name without extension: masks in "
                        f"'{root.name}' are matched by that name; rename one of them")
    owner: dict[str, str] = {}  # mask name -> the longest image stem it starts with
    for n in names:
        stems = [s for s in by_stem if n.startswith((f"{s}_", f"{s}."))]
        if stems:
            owner[n] = max(stems, key=len)  # IMD1_b_lesion.png belongs to IMD1_b, not IMD1
    out: dict[str, Path] = {}
    for stem, (rel,) in by_stem.items():
        hits = [n for n in names if owner.get(n) == stem]
        if len(hits) > 1:
            raise DataError(f"image '{rel}' matches {len(hits)} mask files in '{root.name}' "
                            f"({', '.join(hits[:3])}): keep one mask per image")
        if hits:
            out[rel] = root / hits[0]
    return out


def masks_fingerprint(masks: dict[str, Path]) -> str:
    """sha256 over (image, mask file name, mask sha256) of every mask used (run records)."""
    from ..files import sha256_file

    h = hashlib.sha256(b"masks\0")
    for rel in sorted(masks):
        h.update(f"{rel}\0{masks[rel].name}\0{sha256_file(masks[rel])}\n".encode())
    return h.hexdigest()


def external_masks(data_root: str | os.PathLike[str], masks_root: str | os.PathLike[str]
                   ) -> tuple[dict[str, Path], list[str], str]:
    """(masks by image rel, ids of images without one, masks fingerprint) of an external folder.

    No pixel is decoded (sweep ``--dry-run`` and resume,
    :func:`helpers.training.external.add_external`).
    """
    src = FolderSource(config.data_root(data_root))
    entries = [e for e in src.entries() if not src.is_empty(e)]
    masks = find_masks(entries, masks_root)
    missing = sorted(e.id for e in entries if e.rel not in masks)
    return masks, missing, masks_fingerprint(masks)


def _external_fp(task: str, entries: list[Entry], labels: np.ndarray, index) -> str:
    h = hashlib.sha256(f"external\0{task}\0".encode())
    for ident, i in sorted((e.id, i) for i, e in enumerate(entries) if not index.skip.get(e.rel)):
        h.update(f"{ident}\0{labels[i]}\0{index.sha256[entries[i].rel]}\n".encode())
    return h.hexdigest()


def external_fingerprint(data_root: str | os.PathLike[str], task: str,
                         cache_dir: str | os.PathLike[str] | None = None) -> str:
    """:func:`load_external`'s fingerprint without decoding pixels (sweep resume)."""
    src = FolderSource(config.data_root(data_root))
    entries = [e for e in src.entries() if not src.is_empty(e)]
    _, labels_all = src.task_labels(task, entries)
    index, _ = build_index(src, entries, src.stat_key(entries),
                           config.cache_dir(cache_dir) / "arrays")
    return _external_fp(task, entries, labels_all, index)
