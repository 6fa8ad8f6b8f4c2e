"""A user's folder as a data set source: one sub-folder per class, optionally inside
train/val/test (the data chapter; the own-folder book)."""

from __future__ import annotations

import numpy as np

from .core import SPLITS, DataError
from .images import is_image_name
from .sources import (
    Entry,
    Source,
    _list_class_folder,
    _skip_top_level,
    litter_dir_reason,
    litter_file_reason,
)


# ---------------------------------------------------------------------------------------------
class FolderSource(Source):
    """A user's folder: one sub-folder per class, optionally inside train/val/test (data chapter).

    ``task`` names the positive class folder; by default the second folder in sorted order
    (e.g. Acne/Normal -> positive 'Normal'; pass task='Acne' to make Acne the positive class).
    """

    name = "folder"
    folder = ""
    split_strategies = ("official", "stratified")
    layout = ("  <folder>/<class A>/*.jpg  <folder>/<class B>/*.jpg             (split 70/15/15)\n"
              "  or <folder>/train/<class A>/..., <folder>/val/..., <folder>/test/...")
    download_hint = "Point data_root (or RESBOOK_DATA_DIR) at the folder that holds the class folders."

    @property
    def display(self) -> str:
        return f"<data root> (user folder '{self.root.name}')"

    def _class_dirs(self) -> tuple[bool, list[str]]:
        if not self.root.is_dir():
            raise self.missing(f"folder '{self.root.name}' not found")
        dirs = sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and litter_dir_reason(p.name) is None)
        has_split = [d for d in dirs if d in SPLITS]
        if has_split and len(has_split) != len(dirs):
            raise DataError(f"folder '{self.root.name}' mixes split folders {has_split} with other "
                            f"folders {sorted(set(dirs) - set(has_split))}.\n{self.layout}")
        if has_split:
            if "train" not in has_split or "test" not in has_split:
                raise DataError(f"folder '{self.root.name}': split folders need at least train/ and "
                                f"test/ (val/ optional); found {has_split}.\n{self.layout}")
            classes = None
            for s in has_split:
                c = sorted(p.name for p in (self.root / s).iterdir()
                           if p.is_dir() and litter_dir_reason(p.name) is None)
                if classes is not None and c != classes:
                    raise DataError(f"folder '{self.root.name}': '{s}/' has class folders {c} but "
                                    f"another split has {classes}; use the same two names.")
                classes = c
            dirs = classes or []
        loose = sorted(p.name for p in self.root.iterdir() if p.is_file() and is_image_name(p.name)
                       and litter_file_reason(p.name) is None)
        if loose:
            raise DataError(f"folder '{self.root.name}' has image files at its top level (e.g. "
                            f"'{loose[0]}'); put each image in its class folder.\n{self.layout}")
        if len(dirs) != 2:
            raise DataError(f"folder '{self.root.name}' must hold exactly 2 class folders; found "
                            f"{dirs}.\n{self.layout}")
        return bool(has_split), dirs

    @property
    def tasks(self) -> tuple[str, ...]:  # type: ignore[override]
        _, classes = self._class_dirs()
        return (classes[1], classes[0])

    def entries(self) -> list[Entry]:
        has_split, classes = self._class_dirs()
        out: list[Entry] = []
        self.skipped = []
        present = [s for s in SPLITS if (self.root / s).is_dir()] if has_split else []
        _skip_top_level(self, self.root, self.root, set(present) if has_split else set(classes))
        for s in present:
            _skip_top_level(self, self.root / s, self.root, set(classes))
        for s in present or [None]:
            base = self.root / s if s else self.root
            for c in classes:
                out += _list_class_folder(self, base / c, s, c, self.root)
        return out

    def task_labels(self, task: str, entries: list[Entry]) -> tuple[tuple[str, str], np.ndarray]:
        classes = sorted({e.cls for e in entries})
        neg = [c for c in classes if c != task][0]
        return (neg, task), np.array([int(e.cls == task) for e in entries], dtype=np.int64)
