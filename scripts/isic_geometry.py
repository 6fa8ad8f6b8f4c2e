"""How was the book's ISIC 2017 256x256 copy made square? Measure it (chapter "Another hospital's images").

Measures every image of ISIC 2017 (``<data-dir>/isic2017-256``, per split) and PH2
(``<data-dir>/ph2``) natively and after three known ways of making it square (squashed,
centre-cropped and padded to 256 x 256, Pillow bilinear) with :mod:`helpers.analysis.geometry_evidence`:
the field of view's height/width, the lesions' height/width, padding bars. PH2 is the control:
the measures must recover what was done to it. Writes one JSON record (atomically): the
summaries, the verdict rule and its outcome, and provenance (packages, sha256 of both
labels.csv, files read, wall time, machine). Reads the data only; about a minute on one core.

    python scripts/isic_geometry.py --data-dir PATH [--out results/ph2/isic-geometry.json]

``--data-dir``: the folder holding ``isic2017-256/`` and ``ph2/`` (default: $RESBOOK_DATA_DIR).
"""

from __future__ import annotations

import argparse
import csv
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from helpers.analysis import geometry_evidence as ge  # noqa: E402
from helpers.config import data_root  # noqa: E402
from helpers.files import atomic_write_json, sha256_file  # noqa: E402
from helpers.runs.provenance import (  # noqa: E402
    cpu_info,
    git_diff_sha256,
    git_state,
    host_hash,
    package_versions,
    utc_now,
)

ISIC, PH2 = "isic2017-256", "ph2"
DEFAULT_OUT = Path("results/ph2/isic-geometry.json")
N = 256
PH2_VARIANTS: dict[str, ge.Transform | None] = {
    "native": None,
    "squashed": lambda im: ge.squash(im, N),
    "centre_crop": lambda im: ge.centre_crop(im, N),
    "padded": lambda im: ge.pad(im, N),
}


def read_labels(path: Path, needed: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a labels.csv; SystemExit naming the file and the missing columns."""
    if not path.is_file():
        raise SystemExit(f"{path} not found: --data-dir must hold {ISIC}/ and {PH2}/ "
                         "with their labels.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    missing = [c for c in needed if rows and c not in rows[0]]
    if not rows or missing:
        raise SystemExit(f"{path}: no rows or missing columns {missing}; expected {list(needed)}")
    return rows


def measure_isic(folder: Path) -> tuple[dict[str, Any], int]:
    """ISIC summaries, all images and per split, and the number of image files read."""
    labels = read_labels(folder / "labels.csv", ("image_id", "split", "path"))
    rows = ge.measure_folder(folder, [r["path"] for r in labels])
    out = {"all": ge.summarise(rows)}
    for split in sorted({r["split"] for r in labels}):
        out[split] = ge.summarise([m for m, r in zip(rows, labels, strict=True)
                                   if r["split"] == split])
    return out, len(rows)


def measure_ph2(folder: Path) -> tuple[dict[str, Any], int]:
    """PH2 summaries for each variant (native, squashed, ...) and the number of files read."""
    labels = read_labels(folder / "labels.csv", ("image_id", "class"))
    files = [f"images/{r['class']}/{r['image_id']}.jpg" for r in labels]
    masks = [f"masks/{r['image_id']}_lesion.png" for r in labels]
    out = {}
    for name, transform in PH2_VARIANTS.items():
        out[name] = ge.summarise(ge.measure_folder(folder, files, masks, transform))
    return out, len(files) + len(masks)


def rounded(obj: Any, digits: int = 4) -> Any:
    """Floats rounded to ``digits`` decimals throughout a JSON-like object."""
    if isinstance(obj, float):
        return round(obj, digits)
    if isinstance(obj, dict):
        return {k: rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, list):
        return [rounded(v, digits) for v in obj]
    return obj


def provenance(root: Path, started: str, wall_s: float, files_read: int) -> dict[str, Any]:
    """Code, packages, machine, inputs and cost of this measurement."""
    commit, dirty = git_state()
    return {
        "git_commit": commit, "git_dirty": dirty,
        "git_diff_sha256": git_diff_sha256() if dirty else None,
        "python": platform.python_version(),
        "packages": package_versions(("numpy", "scipy", "pillow")),
        "platform": platform.platform(), "cpu": cpu_info(), "host": host_hash(),
        "labels_sha256": {name: sha256_file(root / name / "labels.csv") for name in (ISIC, PH2)},
        "files_read": files_read, "wall_s": round(wall_s, 1),
        "started_at": started, "finished_at": utc_now(),
    }


def build_record(root: Path) -> dict[str, Any]:
    """The whole record: parameters, ISIC and PH2 summaries, verdict, provenance."""
    started, t0 = utc_now(), time.perf_counter()
    isic, n_isic = measure_isic(root / ISIC)
    ph2, n_ph2 = measure_ph2(root / PH2)
    files_read = n_isic + n_ph2 + 2  # the images, PH2's masks and both labels.csv
    return rounded({
        "schema": 1,
        "what": "how the ISIC 2017 256x256 copy was made square, measured on its images "
                "with PH2 as the control (chapter: Another hospital's images)",
        "command": "python scripts/isic_geometry.py --data-dir DATA",
        "parameters": {
            "size": N, "resample": "Pillow BILINEAR", "dark_grey": ge.DARK_GREY,
            "dark_share": ge.DARK_SHARE, "corner_dark_min": ge.CORNER_DARK_MIN,
            "min_arcs": ge.MIN_ARCS, "fov_resid_max": ge.RESID_MAX,
            "bar_tolerance": ge.BAR_TOL, "bar_min_lines": ge.BAR_MIN,
        },
        "isic": isic,
        "ph2": ph2,
        "verdict": ge.verdict(isic["all"], ph2),
        "provenance": provenance(root, started, time.perf_counter() - t0, files_read),
    })


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, write the record, print the verdict (chapter: Another hospital's images)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None,
                    help="folder holding isic2017-256/ and ph2/ (default: $RESBOOK_DATA_DIR)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = ap.parse_args(argv)
    record = build_record(data_root(args.data_dir))
    atomic_write_json(args.out, record)
    errors = {e for s in (record["isic"]["all"], *record["ph2"].values()) for e in s["errors"]}
    for e in sorted(errors):
        print(f"unreadable (counted in the record): {e}", file=sys.stderr)
    v = record["verdict"]
    print(f"{args.out}: verdict {v['outcome']!r}; ISIC field of view "
          f"{record['isic']['all']['fov_ratio']['median']}, lesion "
          f"{record['isic']['all']['lesion_ratio']['median']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
