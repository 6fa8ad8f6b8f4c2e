"""PH2's diagnoses keyed by the image ids of the run records: results/ph2/subgroups.csv (ch. 09).

PH2 (Mendonça et al., IEEE EMBC 2013; research use) has 40 melanomas and 160 nevi, 80 common
and 80 atypical. The records of an ISIC-trained sweep with PH2 as its external set name each
image by its class folder and file stem (``melanoma/IMD058``), as the folder loader makes ids
(:class:`helpers.data.folder_source.FolderSource`, used here to list the images). This script joins
``ph2/labels.csv`` (image_id, class, diagnosis) to those ids and writes ``id,diagnosis``, so
that chapter 09 can score melanoma vs common nevi and melanoma vs atypical nevi separately.

    python scripts/ph2_subgroups.py --data-dir PATH [--out results/ph2/subgroups.csv]

``--data-dir`` is the data root that holds ``ph2/`` (default: ``RESBOOK_DATA_DIR``), or the
``ph2/`` folder itself. Every image must have exactly one row and every row an image.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DIAGNOSES = ("common_nevus", "atypical_nevus", "melanoma")


def ph2_folder(data_dir: str | None) -> Path:
    """The ``ph2/`` folder: ``data_dir`` itself when it holds labels.csv, else ``data_dir/ph2``."""
    from helpers import config

    root = config.data_root(data_dir)
    folder = root if (root / "labels.csv").is_file() else root / "ph2"
    if not (folder / "labels.csv").is_file() or not (folder / "images").is_dir():
        raise SystemExit(f"error: {folder} has no labels.csv and images/: pass --data-dir, the "
                         "data root holding ph2/ (see the data README, section ph2/)")
    return folder


def read_labels(path: Path) -> dict[str, tuple[str, str]]:
    """image_id → (class folder, diagnosis) from PH2's labels.csv, checked."""
    rows = list(csv.DictReader(path.open(newline="")))
    missing = {"image_id", "class", "diagnosis"} - set(rows[0] if rows else {})
    if missing:
        raise SystemExit(f"error: {path.name} lacks the column(s) {sorted(missing)}")
    out: dict[str, tuple[str, str]] = {}
    for row in rows:
        if row["diagnosis"] not in DIAGNOSES:
            raise SystemExit(f"error: {path.name}: image {row['image_id']} has diagnosis "
                             f"{row['diagnosis']!r}; expected one of {DIAGNOSES}")
        if row["image_id"] in out:
            raise SystemExit(f"error: {path.name} lists image {row['image_id']} twice")
        out[row["image_id"]] = (row["class"], row["diagnosis"])
    return out


def subgroup_rows(folder: Path) -> list[tuple[str, str]]:
    """(record id, diagnosis) of every image the folder loader lists, sorted by id."""
    from helpers.data.folder_source import FolderSource

    labels = read_labels(folder / "labels.csv")
    ids = [e.id for e in FolderSource(folder / "images").entries()]
    by_stem = {i.rsplit("/", 1)[-1]: i for i in ids}
    no_row = sorted(set(by_stem) - set(labels))
    no_image = sorted(set(labels) - set(by_stem))
    if no_row or no_image or len(by_stem) != len(ids):
        raise SystemExit(f"error: images without a labels.csv row {no_row[:5]}, rows without an "
                         f"image {no_image[:5]}, or one stem in two class folders: fix {folder}")
    wrong = [i for s, i in by_stem.items() if i.split("/")[0] != labels[s][0]]
    if wrong:
        raise SystemExit(f"error: {wrong[:5]} lie in another class folder than labels.csv says")
    return sorted((by_stem[s], labels[s][1]) for s in by_stem)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="data root holding ph2/ (or ph2/ itself)")
    ap.add_argument("--out", default=str(ROOT / "results" / "ph2" / "subgroups.csv"))
    a = ap.parse_args(argv)
    from helpers.files import atomic_write_bytes

    rows = subgroup_rows(ph2_folder(a.data_dir))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["id", "diagnosis"])
    writer.writerows(rows)
    atomic_write_bytes(a.out, text.getvalue().encode())
    counts = {d: sum(r[1] == d for r in rows) for d in DIAGNOSES}
    print(f"wrote {len(rows)} images to {a.out}: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
