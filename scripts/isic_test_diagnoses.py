"""ISIC 2017 test images' diagnoses keyed by the records' image ids (chapter 09).

ISIC 2017's melanoma task counts nevi *and* seborrheic keratoses as negatives; PH2 has nevi
only. To compare like with like, chapter "Another hospital's images" also scores the ISIC test
split on melanomas vs nevi alone, which needs each test image's diagnosis. This script copies
them from the data set's ``labels.csv`` (image_id, split, diagnosis) for the test split:

    python scripts/isic_test_diagnoses.py --data-dir PATH [--out results/ph2/isic-test-diagnoses.csv]

``--data-dir`` is the data root that holds ``isic2017-256/`` (default: ``RESBOOK_DATA_DIR``).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DIAGNOSES = ("melanoma", "nevus", "seborrheic_keratosis")


def test_diagnoses(labels_csv: Path) -> list[tuple[str, str]]:
    """(image id, diagnosis) of every test image, sorted by id; unknown diagnoses refused."""
    with labels_csv.open(newline="", encoding="utf-8") as fh:
        rows = [(r["image_id"], r["diagnosis"]) for r in csv.DictReader(fh)
                if r.get("split") == "test"]
    bad = sorted({d for _, d in rows if d not in DIAGNOSES})
    if bad:
        raise SystemExit(f"error: {labels_csv}: unknown diagnosis {bad}; expected {DIAGNOSES}")
    if not rows:
        raise SystemExit(f"error: {labels_csv} lists no image of the test split")
    return sorted(rows)


def main(argv: list[str] | None = None) -> int:
    """Write ``id,diagnosis`` for the ISIC 2017 test split (chapter 09)."""
    from helpers import config
    from helpers.files import atomic_write_bytes

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=None, help="data root holding isic2017-256/")
    ap.add_argument("--out", default=str(ROOT / "results" / "ph2" / "isic-test-diagnoses.csv"))
    args = ap.parse_args(argv)
    labels = config.data_root(args.data_dir) / "isic2017-256" / "labels.csv"
    if not labels.is_file():
        raise SystemExit(f"error: no {labels}: pass --data-dir, the data root holding "
                         "isic2017-256/ (book/data.md)")
    rows = test_diagnoses(labels)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "diagnosis"])
    writer.writerows(rows)
    atomic_write_bytes(args.out, buf.getvalue().encode("utf-8"))
    counts = {d: sum(1 for _, x in rows if x == d) for d in DIAGNOSES}
    print(f"{args.out}: {len(rows)} test images {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
