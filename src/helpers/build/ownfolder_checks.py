"""Checks of ``make book DATASET=folder`` before any work: the options, the folder and its
counts per class, the external folder and its lesion masks (own-folder book).

Every check raises an error that names the option or the file and says what to do;
:mod:`helpers.build.ownfolder` runs them all before it trains anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers.model_names import MIN_RESOLUTION, PREPROCESSING


def quoted(name: str) -> str:
    """``name`` in double quotes on one line, control characters escaped (own-folder output).

    A folder name is the user's: written raw into ``sweep.yaml``'s comment or the terminal, a
    newline in it would start a new YAML line (``include: ...``) or a fake message line.
    """
    return json.dumps(str(name), ensure_ascii=False)


RESOLUTIONS = (64, 128, 224, 256)


SEEDS = (0, 1, 2)


MODELS = ("mobilenet", "resnet50")


MAX_RESOLUTION = 1024


MIN_MAX_IMAGES = 4  # 2 of each class in val and test (stratified subsets keep proportions)


MIN_EVAL = 2  # DeLong (and every interval of the results chapter) needs 2 of each class


WIDE_EVAL = 20  # fewer test images of a class: the 95 % intervals are wide


# -------------------------------------------------------------------- options, before any work
def _ints(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def check_options(*, resolutions: Sequence[int], seeds: Sequence[int], models: Sequence[str],
                  epochs: int | None, max_images: int | None, workers: int,
                  preprocessing: str = "unit", regime: str = "frozen", geometry: str = "squash",
                  resample: str = "bilinear") -> None:
    """ValueError naming the first bad ``own-folder`` option; called before anything runs."""
    from helpers.data.resize import GEOMETRIES, RESAMPLES

    def bad(option: str, value: Any, expected: str) -> ValueError:
        return ValueError(f"{option} {value}: expected {expected}")

    res, sd = list(resolutions), list(seeds)
    if not res or not _ints(res) or not all(MIN_RESOLUTION <= r <= MAX_RESOLUTION for r in res):
        raise bad("--resolutions", res, f"input sizes in px, ints from {MIN_RESOLUTION} to "
                                        f"{MAX_RESOLUTION}, e.g. 64 128 224 256")
    if not sd or not _ints(sd) or not all(0 <= s < 2**32 for s in sd):
        raise bad("--seeds", sd, "training seeds, ints from 0 to 2**32 - 1, e.g. 0 1 2")
    for option, values in (("--resolutions", res), ("--seeds", sd), ("--models", list(models))):
        if len(set(values)) != len(values):
            raise bad(option, values, "each value once")
    if not models or not set(models) <= set(MODELS):
        raise bad("--models", list(models), f"one or more of {list(MODELS)}")
    if epochs is not None and (not _ints([epochs]) or epochs < 1):
        raise bad("--epochs", epochs, "an int >= 1")
    if max_images is not None and (not _ints([max_images]) or max_images < MIN_MAX_IMAGES):
        raise bad("--max-images", max_images, f"an int >= {MIN_MAX_IMAGES} (images per split: "
                                               "2 of each class in val and test), or no option")
    if not _ints([workers]) or workers < 1:
        raise bad("--workers", workers, "an int >= 1 (parallel runs)")
    if preprocessing not in PREPROCESSING:
        raise bad("--preprocessing", preprocessing, f"one of {list(PREPROCESSING)}")
    if regime not in ("frozen", "full"):
        raise bad("--regime", regime, "frozen or full")
    if geometry not in GEOMETRIES:
        raise bad("--geometry", geometry, f"one of {list(GEOMETRIES)}")
    if resample not in RESAMPLES:
        raise bad("--resample", resample, f"one of {list(RESAMPLES)}")


# -------------------------------------------------------------------- the folder and its splits
def check_folder(folder: Path, positive: str) -> tuple[str, str]:
    """(negative, positive) class folder names; DataError when the folder or name is wrong."""
    from helpers.data import DataError
    from helpers.data.folder_source import FolderSource

    classes = FolderSource(folder).tasks  # raises DataError naming the layout problem
    if positive not in classes:
        raise DataError(f"--positive {positive!r} is not a class folder of {folder.name!r}: "
                        f"its class folders are {sorted(classes)} (names are case-sensitive)")
    return next(c for c in classes if c != positive), positive


def planned_counts(folder: Path, positive: str, seed: int, max_images: int | None = None
                   ) -> dict[str, tuple[int, int]]:
    """``{split: (negatives, positives)}`` the data chapter will make, from the file list alone.

    Same rules as :func:`helpers.data.load_dataset` for a folder (70/15/15 stratified, or the
    ``train/``, ``val/``, ``test/`` folders with 15 % of train as val when there is no ``val/``;
    ``max_images``: a stratified subset of each split), before duplicates and unreadable files
    are removed, so the real counts can only be lower. No image is decoded.
    """
    import numpy as np

    from helpers.data.core import SPLITS
    from helpers.data.folder_source import FolderSource
    from helpers.data.loader import FOLDER_FRACTIONS
    from helpers.data.splits import stratified_split, stratified_subset

    ents = FolderSource(folder).entries()
    labels = np.array([int(e.cls == positive) for e in ents], dtype=np.int64)
    if ents and ents[0].split is not None:
        split = np.array([e.split for e in ents], dtype=object)
        if not (split == "val").any():
            train = np.flatnonzero(split == "train")
            split[train[stratified_split(labels[train], (0.85, 0.15), seed) == 1]] = "val"
    else:
        split = np.array(SPLITS, dtype=object)[stratified_split(labels, FOLDER_FRACTIONS, seed)]
    out: dict[str, tuple[int, int]] = {}
    for k, s in enumerate(SPLITS):
        y = labels[split == s]
        if max_images is not None:
            y = y[stratified_subset(y, int(max_images), seed, salt=10 + k)]
        out[s] = (int((y == 0).sum()), int((y == 1).sum()))
    return out


def min_per_class() -> int:
    """Images per class a folder without split folders needs for ``MIN_EVAL`` in val and test."""
    import numpy as np

    from helpers.data.loader import FOLDER_FRACTIONS
    from helpers.data.splits import stratified_split

    n = 1
    while min(np.bincount(stratified_split(np.zeros(n, np.int64), FOLDER_FRACTIONS, 0),
                          minlength=3)[1:]) < MIN_EVAL:
        n += 1
    return n


def check_counts(counts: dict[str, tuple[int, int]], classes: tuple[str, str],
                 split_folders: bool, max_images: int | None) -> list[str]:
    """DataError when val or test would hold fewer than 2 of a class; else the warnings.

    2 of each class is the least a DeLong interval (and the results chapter) can use; a test
    split with fewer than ``WIDE_EVAL`` of a class gets a warning that its intervals are wide.
    """
    from helpers.data import DataError

    short = [f"{s} has {n} {quoted(c)}" for s in ("val", "test")
             for c, n in zip(classes, counts[s], strict=True) if n < MIN_EVAL]
    if short:
        if max_images is not None:
            fix = f"raise --max-images (now {max_images}) or leave it out"
        elif split_folders:
            fix = (f"put at least {MIN_EVAL} images of each class in test/ and val/ (or at "
                   f"least {min_per_class()} per class in train/ when there is no val/)")
        else:
            fix = (f"a folder without split folders needs at least {min_per_class()} images "
                   "per class (the 70/15/15 split then gives val and test 2 of each)")
        raise DataError(f"too few images to evaluate: {', '.join(short)} (planned split, "
                        f"negatives/positives: {_counts_text(counts)}); a DeLong interval needs "
                        f"at least {MIN_EVAL} of each class in val and in test: {fix}")
    n_neg, n_pos = counts["test"]
    if min(n_neg, n_pos) < WIDE_EVAL:
        return [f"the test split will hold {n_neg} {quoted(classes[0])} and {n_pos} "
                f"{quoted(classes[1])} images (fewer than {WIDE_EVAL} of a class): its 95 % "
                "intervals will be wide, and an AUC of 1.000 on so few images proves little"]
    return []


def _counts_text(counts: dict[str, tuple[int, int]]) -> str:
    return ", ".join(f"{s} {a}/{b}" for s, (a, b) in counts.items())


# -------------------------------------------------------------------- the external folder
def check_external(folder: Path, external: Path, classes: tuple[str, str]) -> None:
    """DataError unless ``external`` has exactly the training class folders and no shared file.

    Shared files are found by content (sha256 of the bytes, :func:`helpers.files.sha256_file`):
    an external test set that repeats training images would score them as unseen.
    """
    from helpers.data import DataError
    from helpers.data.folder_source import FolderSource

    ext_classes = sorted(FolderSource(external).tasks)
    if ext_classes != sorted(classes):
        raise DataError(f"--external {quoted(external.name)} has the class folders "
                        f"[{', '.join(map(quoted, ext_classes))}], the training folder "
                        f"[{', '.join(map(quoted, sorted(classes)))}]: an external test set needs "
                        "exactly the training folder's class folder names (case-sensitive)")
    pairs = overlapping_files(folder, external)
    if pairs:
        ext_file, train_file = pairs[0]
        raise DataError(f"--external {quoted(external.name)} shares {len(pairs)} image file(s) "
                        f"with the training folder {quoted(folder.name)} (same bytes), e.g. "
                        f"{quoted(ext_file)} = {quoted(train_file)}: an external test set must "
                        "hold images the training folder does not")


def overlapping_files(folder: Path, external: Path) -> list[tuple[str, str]]:
    """(external file, training file) pairs with the same sha256, paths relative to each folder."""
    from helpers.data.folder_source import FolderSource
    from helpers.files import sha256_file

    def hashes(root: Path) -> dict[str, str]:
        src = FolderSource(root)
        return {e.rel: sha256_file(src.path(e)) for e in src.entries()}

    train = {h: rel for rel, h in sorted(hashes(folder).items(), reverse=True)}
    return sorted((rel, train[h]) for rel, h in hashes(external).items() if h in train)


def check_masks(external: Path | None, masks: Path) -> list[str]:
    """DataError unless ``masks`` holds a lesion mask of some ``external`` image; else warnings.

    The mask of ``<class>/<stem>.<ext>`` is named ``<stem>_*`` or ``<stem>.*``
    (:func:`helpers.data.external.find_masks`); without a mask for every image the runs score
    no ``lesion_box`` (a warning says how many lack one).
    """
    from helpers.data import DataError, external_masks

    if external is None:
        raise DataError("--external-masks needs --external: the masks belong to an external "
                        "folder")
    found, missing, _ = external_masks(external, masks)
    if not found:
        raise DataError(f"--external-masks {quoted(masks.name)} has no mask for any image of "
                        f"{quoted(external.name)}: the mask of <class>/<stem>.jpg is named "
                        "<stem>_<anything>.png or <stem>.png")
    if missing:
        return [f"{len(missing)} image(s) of {quoted(external.name)} have no lesion mask (e.g. "
                f"{quoted(missing[0])}): the runs will not score them cropped to the lesion"]
    return []
