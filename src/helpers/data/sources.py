"""Data set sources: where the files are, how they are labelled and validated (data chapter).

Each source lists its images as :class:`Entry` rows (id, file, raw class, official split,
patient group), validates the folder layout and labels file, and maps a task to 0/1 labels.

The :class:`Source` base, the class-folder listing and the litter rules live here with ISIC and
Kermany; MedMNIST is :mod:`helpers.data.mnist_source`, a user's folder
:mod:`helpers.data.folder_source`; :data:`helpers.data.loader.REGISTRY` names them all.
"""

from __future__ import annotations

import errno
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from .core import SPLITS, DataError
from .images import is_image_name

ENV_HINT = ("Set the data root with the environment variable RESBOOK_DATA_DIR or pass "
            "data_root=... (papermill parameter data_root)")


@dataclass(frozen=True)
class Entry:
    """One image of a source: id, location relative to the data set folder, class, split, group."""

    id: str
    rel: str
    cls: str
    split: str | None
    group: str


class Source:
    """Base class of a data set source (data chapter)."""

    name = ""
    folder = ""
    tasks: tuple[str, ...] = ()
    split_strategies: tuple[str, ...] = ("official", "stratified")
    default_split = "official"
    near_dup_action = "remove"  # or "report"
    download_hint = ""

    def __init__(self, root: Path) -> None:
        self.data_root = root
        self.root = root / self.folder if self.folder else root
        self.skipped: list[tuple[str, str]] = []  # non-image files met while listing
        self.notes: list[str] = []

    # -- description ----------------------------------------------------------------------
    @property
    def display(self) -> str:
        """The source location relative to the data root (never absolute)."""
        return f"<data root>/{self.folder}/" if self.folder else "<data root>/"

    def default_task(self) -> str:
        return self.tasks[0]

    def missing(self, what: str) -> DataError:
        return DataError(f"{self.name}: {what}.\nExpected layout under the data root:\n"
                         f"{self.layout}\n{ENV_HINT}.\n{self.download_hint}")

    layout = ""

    # -- to implement ---------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        raise NotImplementedError

    def task_labels(self, task: str, entries: list[Entry]) -> tuple[tuple[str, str], np.ndarray]:
        """Class names (neg, pos) and labels (0/1, or -1 = not part of this task)."""
        raise NotImplementedError

    # -- file access (files on disk; the npz source overrides) -----------------------------
    def path(self, e: Entry) -> Path:
        return self.root / e.rel

    def read_bytes(self, e: Entry) -> bytes:
        return self.path(e).read_bytes()

    def is_empty(self, e: Entry) -> bool:
        """True for a zero-byte file (reported as 'empty file', never decoded)."""
        try:
            return self.path(e).stat().st_size == 0
        except OSError:
            return False  # reported by the index as 'cannot read file'

    def open_image(self, e: Entry) -> Image.Image:
        return Image.open(self.path(e))

    def stat_key(self, entries: list[Entry]) -> str:
        """sha256 over (file, size, mtime, ctime) of every source file: changes with the folder.

        The inode change time (ctime) is set by the system whenever a file's bytes are written,
        even when an editor or ``touch -d``/``os.utime`` puts the old mtime back; it is what makes
        an edit of the same size with the old timestamp a new key (new file hashes, new decoded
        arrays). See the limits in :mod:`helpers.data.cache`.
        """
        h = hashlib.sha256(self.name.encode())
        for e in sorted(entries, key=lambda x: x.rel):
            h.update(f"{e.rel}\0{_stat_text(self.path(e))}\n".encode())
        return h.hexdigest()


def _stat_text(path: Path) -> str:
    """'size, mtime, ctime' of a file in ns (the cache key's part for one file, the data chapter)."""
    st = path.stat()
    return f"{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}"


# Known litter: files and folders that operating systems, NAS boxes and archivers leave next to
# photos. They are skipped and counted in report.skipped, never read as images.
LITTER_FILES = {
    ".ds_store": "system file .DS_Store (macOS Finder metadata)",
    "thumbs.db": "system file Thumbs.db (Windows thumbnail cache)",
    "ehthumbs.db": "system file ehthumbs.db (Windows thumbnail cache)",
    "ehthumbs_vista.db": "system file ehthumbs_vista.db (Windows thumbnail cache)",
    "desktop.ini": "system file desktop.ini (Windows folder settings)",
    ".directory": "system file .directory (KDE folder settings)",
    "icon\r": "system file Icon (macOS custom folder icon)",
}
LITTER_DIRS = {
    "@eadir": "Synology thumbnails and index",
    "__macosx": "macOS resource forks added by zip archives",
    "#recycle": "Synology recycle bin",
    "$recycle.bin": "Windows recycle bin",
}


def litter_file_reason(name: str) -> str | None:
    """Why a file name is known litter (system, AppleDouble or hidden file), or None (data chapter)."""
    low = name.lower()
    if low in LITTER_FILES:
        return LITTER_FILES[low]
    if name.startswith("._"):
        return "AppleDouble file (macOS resource fork '._<name>', not an image)"
    if name.startswith("."):
        return "hidden file (name starts with '.')"
    return None


def litter_dir_reason(name: str) -> str | None:
    """What a folder is when its name is known litter (@eaDir, __MACOSX, .hidden), else None."""
    if name.lower() in LITTER_DIRS:
        return LITTER_DIRS[name.lower()]
    if name.startswith("."):
        return "hidden folder"
    return None


def _skip_litter_dir(src: Source, p: Path, rel_base: Path) -> None:
    n = sum(1 for q in p.rglob("*") if q.is_file())
    src.skipped.append((p.relative_to(rel_base).as_posix() + "/",
                        f"litter folder {p.name} ({litter_dir_reason(p.name)}; "
                        f"{n} file(s) not used)"))


def _skip_top_level(src: Source, folder: Path, rel_base: Path, keep: set[str]) -> None:
    """Record litter folders and non-image files directly in ``folder`` (not ``keep``) as skipped."""
    for p in sorted(folder.iterdir()):
        if p.name in keep:
            continue
        if p.is_dir():
            if litter_dir_reason(p.name) is not None:
                _skip_litter_dir(src, p, rel_base)
        else:
            _skip_file(src, p, rel_base)


def link_problem(p: Path) -> str | None:
    """Why a listed name cannot be opened: a dangling symbolic link or a link loop, else None.

    The reason starts with 'cannot read file', so it counts as unreadable (data chapter).
    """
    try:
        p.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ("cannot read file (symbolic link loop: the link leads back to itself; "
                    "point it at the image or delete it)")
        if p.is_symlink():
            return ("cannot read file (broken symbolic link: its target does not exist; "
                    "point it at the image or delete it)")
        return f"cannot read file ({exc.__class__.__name__}: {exc.strerror})"
    return None


def _skip_file(src: Source, p: Path, rel_base: Path) -> bool:
    """Record a litter, non-image or broken-link file as skipped; True when it was one."""
    why = litter_file_reason(p.name) or link_problem(p)
    if why is None and not is_image_name(p.name):
        why = "not an image file (extension not recognised)"
    if why is not None:
        src.skipped.append((p.relative_to(rel_base).as_posix(), why))
    return why is not None


def _list_class_folder(src: Source, folder: Path, split: str | None, cls: str,
                       rel_base: Path) -> list[Entry]:
    """Image files of one class folder; litter and non-image files are recorded as skipped.

    Known litter folders (@eaDir, __MACOSX, hidden .folders) are skipped and counted; any other
    sub-folder is a DataError: its images would silently join this class.
    """
    out = []
    for p in sorted(folder.iterdir()):
        rel = p.relative_to(rel_base).as_posix()
        if p.is_dir():
            if litter_dir_reason(p.name) is not None:
                _skip_litter_dir(src, p, rel_base)
                continue
            raise DataError(
                f"{src.name}: the class folder '{folder.relative_to(rel_base.parent).as_posix()}' "
                f"contains a sub-folder '{p.name}/' ('{rel}/'). A class folder must hold the "
                "image files of that class directly: move the images of "
                f"'{p.name}/' up into '{folder.name}/' if they belong to that class, otherwise "
                "move the sub-folder out of the data folder.")
        if _skip_file(src, p, rel_base):
            continue
        ident = rel.rsplit(".", 1)[0]
        out.append(Entry(ident, rel, cls, split, ident))
    if not out:
        raise DataError(f"{src.name}: the class folder '{folder.relative_to(rel_base.parent)}' "
                        "contains no image files. Put the images of that class there "
                        "(jpg/png/...), or remove the folder if the class does not exist.")
    return _distinct_ids(src, out)


def _distinct_ids(src: Source, entries: list[Entry]) -> list[Entry]:
    """Entries of one folder with unique ids (data chapter).

    An id is the file's path without its extension; files that differ only in the extension
    (``x.jpg`` and ``x.png``) keep it (``Acne/x.jpg``, ``Acne/x.png``), so every other id stays
    as it was. A clash that is left (``x.jpg`` next to ``x.jpg.png``) is a DataError.
    """
    n_stem = Counter(e.id for e in entries)
    clash = [e.rel for e in entries if n_stem[e.id] > 1]
    if not clash:
        return entries
    out = [replace(e, id=e.rel, group=e.rel) if n_stem[e.id] > 1 else e for e in entries]
    src.notes.append(f"{len(clash)} files share a name but not the extension (e.g. "
                     f"{', '.join(repr(r) for r in clash[:2])}): their image ids keep it")
    seen: dict[str, str] = {}
    for e in out:
        if e.id in seen:
            raise DataError(f"{src.name}: the files '{seen[e.id]}' and '{e.rel}' would get the "
                            f"same image id '{e.id}'; rename one of them.")
        seen[e.id] = e.rel
    return out


# ---------------------------------------------------------------------------------------------
class IsicSource(Source):
    """ISIC 2017 Part 3: labels.csv + official train/val/test splits (data chapter)."""

    name = "isic2017"
    folder = "isic2017-256"
    tasks = ("melanoma", "seborrheic_keratosis", "nevus")
    split_strategies = ("official", "stratified")
    layout = ("  isic2017-256/labels.csv   columns image_id, split (train/val/test), path, "
              "diagnosis and/or melanoma, seborrheic_keratosis (0/1)\n"
              "  isic2017-256/ISIC-2017_Training_Data/ISIC_0000000.jpg ... (paths as in labels.csv)")
    download_hint = ("With internet access run: python -c \"from helpers.data import download; "
                     "download('isic2017')\" (downloads the official ISIC 2017 archive and resizes "
                     "it to 256x256).")
    DIAGNOSES = ("melanoma", "nevus", "seborrheic_keratosis")

    def entries(self) -> list[Entry]:
        if not self.root.is_dir():
            raise self.missing(f"folder '{self.folder}/' not found under the data root")
        csv = self.root / "labels.csv"
        if not csv.is_file():
            raise self.missing(f"'{self.folder}/labels.csv' not found")
        rel_csv = f"{self.folder}/labels.csv"
        try:
            df = pd.read_csv(csv, dtype=str, keep_default_na=False)
        except Exception as exc:  # noqa: BLE001 - any parse error becomes a DataError
            raise DataError(f"{rel_csv} cannot be read as CSV ({exc}); fix or re-create it.") from exc
        need = {"image_id", "split", "path"}
        missing = need - set(df.columns)
        if missing or not ({"diagnosis"} <= set(df.columns)
                           or {"melanoma", "seborrheic_keratosis"} <= set(df.columns)):
            raise DataError(f"{rel_csv} is missing columns {sorted(missing) or ''} "
                            "(need image_id, split, path and diagnosis or melanoma + "
                            f"seborrheic_keratosis); found {list(df.columns)}.")
        if df.empty:
            raise DataError(f"{rel_csv} has no rows; it must list every image.")
        dup = df["image_id"][df["image_id"].duplicated()].tolist()
        if dup:
            raise DataError(f"{rel_csv}: image ids listed more than once: {dup[:5]}; keep one row each.")
        bad_split = sorted(set(df["split"]) - set(SPLITS))
        if bad_split:
            raise DataError(f"{rel_csv}: unknown split values {bad_split} (allowed: train, val, "
                            "test); correct the 'split' column.")
        cls = self._diagnoses(df, rel_csv)
        # ids without files / files without ids
        listed = set(df["path"])
        no_file = [p for p in df["path"] if not (self.root / p).is_file()]
        if no_file:
            raise DataError(f"{rel_csv}: {len(no_file)} listed images have no file, e.g. "
                            f"'{self.folder}/{no_file[0]}'. Restore the files or remove their rows.")
        on_disk = [p.relative_to(self.root).as_posix() for p in self.root.rglob("*")
                   if p.is_file() and is_image_name(p.name)]
        extra = sorted(set(on_disk) - listed)
        if extra:
            raise DataError(f"{rel_csv}: {len(extra)} image files are not listed, e.g. "
                            f"'{self.folder}/{extra[0]}'. Add rows for them or move them out of "
                            f"'{self.folder}/'.")
        return [Entry(i, p, c, s, i) for i, p, c, s in
                zip(df["image_id"], df["path"], cls, df["split"], strict=True)]

    def _diagnoses(self, df: pd.DataFrame, rel_csv: str) -> list[str]:
        if {"melanoma", "seborrheic_keratosis"} <= set(df.columns):
            flags = {}
            for col in ("melanoma", "seborrheic_keratosis"):
                vals = pd.to_numeric(df[col], errors="coerce")
                bad = df["image_id"][~vals.isin([0.0, 1.0])].tolist()
                if bad:
                    raise DataError(f"{rel_csv}: column '{col}' must be 0 or 1; non-binary value "
                                    f"for {bad[:5]}. Fix those rows.")
                flags[col] = vals.to_numpy() == 1.0
            both = df["image_id"][flags["melanoma"] & flags["seborrheic_keratosis"]].tolist()
            if both:
                raise DataError(f"{rel_csv}: images marked both melanoma and seborrheic_keratosis: "
                                f"{both[:5]}. Each image has one diagnosis; fix those rows.")
            cls = np.where(flags["melanoma"], "melanoma",
                           np.where(flags["seborrheic_keratosis"], "seborrheic_keratosis", "nevus"))
            if "diagnosis" in df.columns:
                bad = df["image_id"][(df["diagnosis"] != "") & (df["diagnosis"] != cls)].tolist()
                if bad:
                    raise DataError(f"{rel_csv}: 'diagnosis' disagrees with the melanoma/"
                                    f"seborrheic_keratosis columns for {bad[:5]}; fix those rows.")
            return cls.tolist()
        bad = df["image_id"][~df["diagnosis"].isin(self.DIAGNOSES)].tolist()
        if bad:
            raise DataError(f"{rel_csv}: unknown diagnosis for {bad[:5]} (allowed: "
                            f"{', '.join(self.DIAGNOSES)}); fix those rows.")
        return df["diagnosis"].tolist()

    def task_labels(self, task: str, entries: list[Entry]) -> tuple[tuple[str, str], np.ndarray]:
        names = {"melanoma": ("benign", "melanoma"),
                 "seborrheic_keratosis": ("other", "seborrheic_keratosis"),
                 "nevus": ("other", "nevus")}[task]
        return names, np.array([int(e.cls == task) for e in entries], dtype=np.int64)


# ---------------------------------------------------------------------------------------------
_PATIENT = re.compile(r"^(person\d+|NORMAL2-IM-\d+|IM-\d+)[_-]")


def kermany_patient(file_name: str) -> str | None:
    """Patient id in a Kermany file name (personNNN_..., IM-NNNN-..., NORMAL2-IM-NNNN-...)."""
    m = _PATIENT.match(Path(file_name).name)
    return m.group(1) if m else None


class KermanySource(Source):
    """Kermany et al. pediatric chest X-rays, folders {train,val,test}/{NORMAL,PNEUMONIA} (data chapter)."""

    name = "kermany"
    folder = "kermany-224"
    tasks = ("pneumonia", "bacterial_vs_viral")
    split_strategies = ("patient", "official", "stratified")
    default_split = "patient"
    near_dup_action = "report"
    CLASSES = ("NORMAL", "PNEUMONIA")
    layout = ("  kermany-224/train/NORMAL/*.jpeg   kermany-224/train/PNEUMONIA/*.jpeg\n"
              "  kermany-224/val/NORMAL/...        kermany-224/val/PNEUMONIA/...\n"
              "  kermany-224/test/NORMAL/...       kermany-224/test/PNEUMONIA/...")
    download_hint = (
        "Kermany et al. has no stable plain download URL: download 'ChestXRay2017.zip' from "
        "Mendeley Data 'Labeled Optical Coherence Tomography (OCT) and Chest X-Ray Images for "
        "Classification' (version 2, doi:10.17632/rscbjbr9sj.2), unzip it and move the folders "
        "chest_xray/train, chest_xray/val and chest_xray/test into '<data root>/kermany-224/' "
        "(full-size images are fine: they are resized when loaded).")

    def entries(self) -> list[Entry]:
        if not self.root.is_dir():
            raise self.missing(f"folder '{self.folder}/' not found under the data root")
        if (self.root / "chest_xray").is_dir() and not (self.root / "train").is_dir():
            raise DataError(f"{self.folder}/chest_xray/ found: move its train/, val/ and test/ "
                            f"folders up into '{self.folder}/'.")
        out: list[Entry] = []
        self.skipped = []
        for split in SPLITS:
            sdir = self.root / split
            if not sdir.is_dir():
                raise self.missing(f"split folder '{self.folder}/{split}/' not found")
            subs = sorted(p.name for p in sdir.iterdir()
                          if p.is_dir() and litter_dir_reason(p.name) is None)
            if subs != list(self.CLASSES):
                raise DataError(f"'{self.folder}/{split}/' must contain exactly the class folders "
                                f"NORMAL and PNEUMONIA; found {subs}.\n{self.layout}")
            _skip_top_level(self, sdir, self.root, set(self.CLASSES))
            for cls in self.CLASSES:
                for e in _list_class_folder(self, sdir / cls, split, cls, self.root):
                    group = kermany_patient(e.rel)
                    out.append(Entry(e.id, e.rel, cls, split, group or e.id))
        n_nogroup = sum(kermany_patient(e.rel) is None for e in out)
        if n_nogroup:
            self.notes.append(f"{n_nogroup} file names carry no patient id; each is its own group")
        return out

    def task_labels(self, task: str, entries: list[Entry]) -> tuple[tuple[str, str], np.ndarray]:
        if task == "pneumonia":
            return ("normal", "pneumonia"), np.array(
                [int(e.cls == "PNEUMONIA") for e in entries], dtype=np.int64)
        labels = []
        for e in entries:
            name = Path(e.rel).name.lower()
            if e.cls != "PNEUMONIA":
                labels.append(-1)
            elif "bacteria" in name:
                labels.append(0)
            elif "virus" in name:
                labels.append(1)
            else:
                raise DataError(f"{self.folder}/{e.rel}: a PNEUMONIA file name must contain "
                                "'bacteria' or 'virus' for task bacterial_vs_viral; rename it.")
        return ("bacterial", "viral"), np.array(labels, dtype=np.int64)






