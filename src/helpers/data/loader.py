"""load_dataset: registry source -> index -> decoded arrays -> dedup -> splits (data chapter).

About 400 lines because :func:`data_fingerprint` must share the indexing, dedup, split
and subset steps with :func:`load_dataset` (the sweep's resume check compares the two), and
keeping both in one module keeps them from drifting apart. An external test set (another
hospital's folder and its lesion masks) is loaded by :mod:`helpers.data.external`.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import config
from .cache import build_index, load_arrays
from .core import SPLITS, DataError, DataReport, Dataset, Split
from .dedup import NEAR_THRESHOLD, apply_policy, find_groups
from .folder_source import FolderSource
from .images import constant_colour, high_bit_depth
from .mnist_source import MnistSource
from .resize import DEFAULT_GEOMETRY, DEFAULT_RESAMPLE, check, is_default
from .sources import Entry, IsicSource, KermanySource, Source
from .splits import balanced_subsample, patient_split, stratified_split, stratified_subset

FOLDER_FRACTIONS = (0.70, 0.15, 0.15)  # train/val/test for data without split folders
KERMANY_VAL_FRACTION = 0.10  # share of official train+val (per class) moved to validation


EMPTY_FILE = "empty file (0 bytes)"
_BYTESIO = re.compile(r"<_io\.BytesIO object at 0x[0-9a-fA-F]+>")
HIGH_DEPTH_SUFFIXES = (".png", ".tif", ".tiff")  # the formats Pillow reads with 16/32-bit grey


#: The data sets :func:`get_source` knows, by name.
REGISTRY: dict[str, type[Source]] = {
    "isic2017": IsicSource, "kermany": KermanySource,
    "pneumoniamnist": MnistSource, "folder": FolderSource,
}

def _clean_reason(reason: str, rel: str, src: Source) -> str:
    """A decoder message that names the file (relative), never a memory address or absolute path."""
    reason = _BYTESIO.sub(f"'{rel}'", reason)
    for root in {str(src.root), str(src.root.resolve())}:
        reason = reason.replace(root.rstrip("/") + "/", "")
    return reason


def image_warnings(src: Source, ents: list[Entry], thumbs: dict[str, np.ndarray],
                   images: np.ndarray, rows: dict[str, int]) -> list[tuple[str, str]]:
    """(rel, warning) for loaded images that are constant or of a high bit depth (data chapter).

    Constant: every pixel of the decoded image has the same colour (e.g. an all-black frame);
    found cheaply from the cached grey thumbnail and confirmed on the decoded array. High bit
    depth: 16/32-bit grey PNG/TIFF files, converted to 8 bit as ``images.to_rgb`` documents.
    """
    out = []
    for e in ents:
        th = thumbs[e.rel]
        if th.size and th.min() == th.max():
            colour = constant_colour(images[rows[e.rel]])
            if colour is not None:
                out.append((e.rel, f"constant image (every pixel is RGB {colour}); "
                                   "kept: check that the file is a real picture"))
        if not isinstance(src, MnistSource) and e.rel.lower().endswith(HIGH_DEPTH_SUFFIXES):
            try:
                with src.open_image(e) as img:
                    note = high_bit_depth(img.mode)
            except Exception:  # noqa: BLE001 - it was decoded before; a header error is not fatal
                note = None
            if note:
                out.append((e.rel, note))
    return out


def list_datasets() -> dict[str, tuple[str, ...]]:
    """Registered data sets and their tasks (first = default; 'folder' tasks = its class folders)."""
    return {name: (cls.tasks if isinstance(cls.tasks, tuple) else ("<positive class folder>",))
            for name, cls in REGISTRY.items()}


def _is_int(x: object) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def validate_data_params(dataset: object, task: object = None, resolutions: object = (64,),
                         seed: object = 0, data_root: object = None,
                         balanced_eval: object = False) -> dict[str, object]:
    """Check the data chapter's parameters before loading; ValueError names the bad one (data chapter).

    ``task=None`` means the data set's default task (the first one :func:`list_datasets` lists;
    for ``folder``, the second class folder in sorted order). Returns the checked values, with
    ``resolutions`` as a list of ints.
    """
    def bad(name: str, value: object, expected: str) -> ValueError:
        return ValueError(f"parameter {name}={value!r} is invalid: expected {expected}")

    known = list_datasets()
    if not isinstance(dataset, str) or dataset not in known:
        raise bad("dataset", dataset, f"one of {list(known)}")
    if task is not None:
        if not isinstance(task, str) or not task:
            raise bad("task", task, "a task name (str) or None for the data set's default")
        if dataset != "folder" and task not in known[dataset]:
            raise bad("task", task, f"one of {list(known[dataset])} for dataset {dataset!r}, "
                                    "or None for the default")
    if (isinstance(resolutions, str | bytes) or not hasattr(resolutions, "__iter__")
            or not list(resolutions)  # type: ignore[call-overload]
            or not all(_is_int(r) and r >= 1 for r in resolutions)):  # type: ignore[attr-defined]
        raise bad("resolutions", resolutions, "a non-empty list of positive ints (px), "
                                              "e.g. [64, 128, 224, 256]")
    if not _is_int(seed) or seed < 0:  # type: ignore[operator]
        raise bad("seed", seed, "an int >= 0")
    if data_root is not None and not isinstance(data_root, str | os.PathLike):
        raise bad("data_root", data_root, "None (use RESBOOK_DATA_DIR) or a folder path")
    if not isinstance(balanced_eval, bool | np.bool_):
        raise bad("balanced_eval", balanced_eval, "True or False")
    return {"dataset": dataset, "task": task,
            "resolutions": [int(r) for r in resolutions],  # type: ignore[attr-defined]
            "seed": int(seed), "data_root": data_root,  # type: ignore[call-overload]
            "balanced_eval": bool(balanced_eval)}


def get_source(name: str, data_root: str | os.PathLike[str] | None = None) -> Source:
    """The source object of a registered data set under the configured data root (data chapter)."""
    if name not in REGISTRY:
        raise DataError(f"unknown data set {name!r}; choose one of {sorted(REGISTRY)}.")
    return REGISTRY[name](config.data_root(data_root))


def _default_strategy(src: Source, entries: list) -> str:
    if isinstance(src, FolderSource):
        return "official" if entries and entries[0].split is not None else "stratified"
    return src.default_split


def _assign_splits(src: Source, strategy: str, ids: np.ndarray, split0: np.ndarray,
                   labels: np.ndarray, groups: np.ndarray, seed: int, notes: list[str],
                   val_fraction: float | None = None) -> np.ndarray:
    if strategy == "official":
        if any(s is None for s in split0):
            raise DataError(f"{src.name}: split_strategy='official' needs train/ and test/ split "
                            "folders; this folder has none (use the default 'stratified').")
        out = split0.astype(object)
        if not (out == "val").any():  # folder with train/ and test/ only
            part = stratified_split(labels[out == "train"], (0.85, 0.15), seed)
            tr = np.flatnonzero(out == "train")
            out[tr[part == 1]] = "val"
            notes.append("no val/ folder: 15% of train (stratified, seeded) used as validation")
        return out
    if strategy == "stratified":
        part = stratified_split(labels, FOLDER_FRACTIONS, seed)
        pct = "/".join(str(round(100 * f)) for f in FOLDER_FRACTIONS)
        notes.append(f"stratified {pct} split (seed {seed})")
        return np.array(SPLITS, dtype=object)[part]
    if strategy == "patient":
        out = split0.astype(object)
        pool = np.flatnonzero(out != "test")
        frac = KERMANY_VAL_FRACTION if val_fraction is None else float(val_fraction)
        val = patient_split(labels[pool], groups[pool].tolist(), frac, seed)
        out[pool] = np.where(val, "val", "train")
        n_pat = len(set(groups[pool]))
        notes.append(f"official train+val re-split at patient level ({n_pat} patients, "
                     f"{round(100 * frac)}% of each class to val, seed {seed}); "
                     "official test kept")
        return out
    raise DataError(f"{src.name}: unknown split_strategy {strategy!r}; "
                    f"choose one of {src.split_strategies}.")


@dataclass
class _Plan:
    """Which images are used and where: the part of loading that needs no decoded pixels."""

    ents: list[Entry]
    ids: np.ndarray
    labels: np.ndarray
    sel: dict[str, np.ndarray]  # split -> positions into ents/ids/labels, in id order
    dup_report: list
    notes: list[str]


def _plan(src: Source, name: str, strategy: str, ents: list[Entry], labels: np.ndarray,
          index, threshold: int, seed: int, balanced_eval: bool, max_images: int | None,
          val_fraction: float | None = None) -> _Plan:
    """Duplicates, splits and subsets of the usable entries (load_dataset, data_fingerprint)."""
    ids = np.array([e.id for e in ents], dtype=str)
    split0 = np.array([e.split for e in ents], dtype=object)
    groups = np.array([e.group for e in ents], dtype=object)
    notes = list(src.notes)

    # 1) duplicates, before any split is used
    dup_groups = find_groups([index.sha256[e.rel] for e in ents],
                             [index.phash[e.rel] for e in ents], threshold,
                             [index.thumb[e.rel] for e in ents])
    keep, dup_report = apply_policy(dup_groups, ids.tolist(), split0.tolist(), labels.tolist(),
                                    src.near_dup_action)
    ents = [e for e, k in zip(ents, keep, strict=True) if k]
    ids, labels, split0, groups = ids[keep], labels[keep], split0[keep], groups[keep]

    # 2) splits
    split = _assign_splits(src, strategy, ids, split0, labels, groups, seed, notes, val_fraction)
    if isinstance(src, KermanySource):
        test_pat = set(groups[split == "test"])
        shared = sorted(test_pat & set(groups[split != "test"]))
        if shared:
            notes.append(f"{len(shared)} patient ids occur both in the official test set and in "
                         "train/val (the source's numbering; kept as published)")

    # 3) balanced evaluation sets and smoke-run subsets
    sel = {}
    for s in SPLITS:
        idx = np.flatnonzero(split == s)
        idx = idx[np.argsort(ids[idx], kind="stable")]
        if balanced_eval and s in ("val", "test"):
            idx = idx[balanced_subsample(labels[idx], seed, salt=3 + SPLITS.index(s))]
        if max_images is not None:
            idx = idx[stratified_subset(labels[idx], int(max_images), seed, salt=10 + SPLITS.index(s))]
        sel[s] = idx
    if balanced_eval:
        notes.append(f"balanced evaluation: val and test subsampled to equal class counts (seed {seed})")
    if max_images is not None:
        notes.append(f"max_images={max_images}: stratified seeded subset of each split")

    return _Plan(ents, ids, labels, sel, dup_report, notes)


def _fingerprint(name: str, task: str, plan: _Plan, index) -> str:
    """sha256 over (split, id, label, file sha256) of every image used (the run records')."""
    h = hashlib.sha256(f"{name}\0{task}\0".encode())
    for s in SPLITS:
        for i in plan.sel[s]:
            h.update(f"{s}\0{plan.ids[i]}\0{plan.labels[i]}\0"
                     f"{index.sha256[plan.ents[i].rel]}\n".encode())
    return h.hexdigest()


def load_dataset(name: str, *, task: str | None = None, resolution: int,
                 data_root: str | os.PathLike[str] | None = None,
                 cache_dir: str | os.PathLike[str] | None = None, seed: int = 0,
                 split_strategy: str | None = None, balanced_eval: bool = False,
                 max_images: int | None = None, on_unreadable: str = "skip",
                 near_threshold: int | None = None, split_seed: int | None = None,
                 val_fraction: float | None = None, geometry: str = DEFAULT_GEOMETRY,
                 resample: str = DEFAULT_RESAMPLE) -> Dataset:
    """Load a registered data set as uint8 RGB arrays with 0/1 labels and a report (data chapter).

    ``geometry`` and ``resample`` say how each image becomes ``resolution`` x ``resolution``
    (:mod:`helpers.data.resize`; default: the whole image, bilinear); ``report.resize`` names
    them. The fingerprint is over the files, whatever they are.

    ``split_seed`` seeds the splits and the balanced/``max_images`` subsets instead of ``seed``
    (None: ``seed``): training runs of several seeds then share one test set.

    Unreadable images are skipped, warned about and listed in ``report.skipped``
    (``on_unreadable='raise'`` makes them a DataError instead). ``val_fraction`` is the share
    of each class that the seeded ``patient`` split moves from the pooled official train+val
    images to validation (default :data:`KERMANY_VAL_FRACTION`); other strategies reject it.
    """
    if not isinstance(resolution, int | np.integer) or resolution < 1:
        raise ValueError(f"resolution must be a positive int, got {resolution!r}")
    resolution = int(resolution)
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    if split_seed is not None:
        if not _is_int(split_seed) or split_seed < 0:
            raise ValueError(f"split_seed must be None or an int >= 0, got {split_seed!r}")
        seed = int(split_seed)
    if on_unreadable not in ("skip", "raise"):
        raise ValueError("on_unreadable must be 'skip' or 'raise'")
    check(geometry, resample)
    src = get_source(name, data_root)
    entries = src.entries()
    tasks = src.tasks
    task = tasks[0] if task is None else task
    if task not in tasks:
        raise DataError(f"{name}: unknown task {task!r}; choose one of {list(tasks)}.")
    strategy = split_strategy or _default_strategy(src, entries)
    if strategy not in src.split_strategies:
        raise DataError(f"{name}: split_strategy {strategy!r} not available; choose one of "
                        f"{list(src.split_strategies)}.")
    if val_fraction is not None:
        if (not isinstance(val_fraction, float | int) or isinstance(val_fraction, bool)
                or not 0 < float(val_fraction) < 1):
            raise ValueError(f"val_fraction must be None or a number in (0, 1), got {val_fraction!r}")
        if strategy != "patient":
            raise DataError(f"{name}: val_fraction applies to split_strategy='patient' only "
                            f"(this load uses {strategy!r}).")
    threshold = NEAR_THRESHOLD if near_threshold is None else int(near_threshold)

    is_empty = [src.is_empty(e) for e in entries]  # empty files are never hashed or decoded
    empty = [e for e, z in zip(entries, is_empty, strict=True) if z]
    entries = [e for e, z in zip(entries, is_empty, strict=True) if not z]
    class_names, labels_all = src.task_labels(task, entries)
    cache_root = config.cache_dir(cache_dir) / "arrays"
    key = src.stat_key(entries)
    index, idx_hit = build_index(src, entries, key, cache_root)
    ok = [e for e in entries if not index.skip.get(e.rel)]
    images, rows, skip2, arr_hit = load_arrays(src, ok, key, resolution, cache_root,
                                               geometry, resample)

    prefix = f"{src.folder}/" if src.folder else ""
    skipped = [(prefix + r, why) for r, why in src.skipped]
    skipped += [(prefix + e.rel, EMPTY_FILE) for e in empty]
    skipped += [(prefix + e.rel, _clean_reason(index.skip[e.rel], prefix + e.rel, src))
                for e in entries if index.skip.get(e.rel)]
    skipped += [(prefix + r, _clean_reason(why, prefix + r, src)) for r, why in sorted(skip2.items())]
    bad = [s for s in skipped if s[1].startswith(("unreadable", "cannot read", "empty file"))]
    if bad and on_unreadable == "raise":
        raise DataError(f"{name}: {len(bad)} unreadable image(s), e.g. '{bad[0][0]}': {bad[0][1]}. "
                        "Replace or delete the file(s), or load with on_unreadable='skip'.")
    if skipped:
        warnings.warn(f"{name}: skipped {len(skipped)} file(s), e.g. '{skipped[0][0]}' "
                      f"({skipped[0][1]}); see report.skipped", stacklevel=2)

    use = [i for i, e in enumerate(entries) if labels_all[i] >= 0 and e.rel in rows]
    ents = [entries[i] for i in use]
    warned = image_warnings(src, ents, index.thumb, images, rows)
    if warned:
        warned = [(prefix + r, why) for r, why in warned]
        warnings.warn(f"{name}: {len(warned)} image(s) loaded with a warning, e.g. "
                      f"'{warned[0][0]}' ({warned[0][1]}); see report.warnings", stacklevel=2)
    plan = _plan(src, name, strategy, ents, labels_all[use], index, threshold, seed,
                 balanced_eval, max_images, val_fraction)
    ids, labels, ents, sel = plan.ids, plan.labels, plan.ents, plan.sel
    dup_report, notes = plan.dup_report, plan.notes
    if not is_default(geometry, resample):
        notes.append(f"images brought to {resolution}x{resolution} by geometry {geometry!r} "
                     f"and resample {resample!r}")

    splits: dict[str, Split] = {}
    for s in SPLITS:
        idx = sel[s]
        for c in (0, 1):
            if not (labels[idx] == c).any():
                raise DataError(f"{name}/{task}: split '{s}' has no image of class "
                                f"'{class_names[c]}' after loading; check the data in "
                                f"'{src.display}' (see report.skipped and the duplicates).")
        r = np.array([rows[ents[i].rel] for i in idx], dtype=np.int64)
        order = np.argsort(r, kind="stable")
        imgs = np.empty((len(r), resolution, resolution, 3), np.uint8)
        imgs[order] = images[r[order]]  # monotone reads from the memory-mapped cache
        splits[s] = Split(imgs, labels[idx].astype(np.int64), ids[idx])

    report = DataReport(
        dataset=name, task=task, resolution=resolution, source=src.display,
        class_names=class_names, split_strategy=strategy,
        counts={s: splits[s].class_counts() for s in SPLITS}, duplicates=dup_report,
        near_dup_action=src.near_dup_action, near_dup_threshold=threshold, skipped=skipped,
        warnings=warned,
        cache={"index": "hit" if idx_hit else "miss", "arrays": "hit" if arr_hit else "miss"},
        notes=notes, resize={"geometry": geometry, "resample": resample})
    return Dataset(name, task, resolution, class_names, splits, report,
                   _fingerprint(name, task, plan, index))


def relative_source(path: Path, root: Path) -> str:
    """A path shown relative to the data root (never absolute) (data chapter)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def data_fingerprint(name: str, task: str | None = None,
                     data_root: str | os.PathLike[str] | None = None,
                     cache_dir: str | os.PathLike[str] | None = None, seed: int = 0,
                     balanced_eval: bool = False, max_images: int | None = None,
                     split_seed: int | None = None, val_fraction: float | None = None) -> str:
    """``load_dataset(...).fingerprint`` without decoding pixels (sweep resume, the training chapter).

    Lists the files, reads the cached file index (sha256 and perceptual hash of every file,
    keyed by path/size/mtime/ctime; built once when missing) and repeats the duplicate policy,
    the splits and the subsets. An image that the index read but that fails to decode at a given
    resolution would be left out by ``load_dataset`` and not here (no such file has been seen:
    the index decodes each image once to hash it).
    """
    if split_seed is not None:
        seed = int(split_seed)
    src = get_source(name, data_root)
    entries = src.entries()
    task = src.tasks[0] if task is None else task
    if task not in src.tasks:
        raise DataError(f"{name}: unknown task {task!r}; choose one of {list(src.tasks)}.")
    strategy = _default_strategy(src, entries)
    entries = [e for e in entries if not src.is_empty(e)]
    _, labels_all = src.task_labels(task, entries)
    key = src.stat_key(entries)
    index, _ = build_index(src, entries, key, config.cache_dir(cache_dir) / "arrays")
    use = [i for i, e in enumerate(entries) if labels_all[i] >= 0 and not index.skip.get(e.rel)]
    plan = _plan(src, name, strategy, [entries[i] for i in use], labels_all[use], index,
                 NEAR_THRESHOLD, int(seed), bool(balanced_eval), max_images, val_fraction)
    return _fingerprint(name, task, plan, index)
