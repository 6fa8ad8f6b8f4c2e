"""Do the official Kermany test children also appear in training? (findings chapter)

    python scripts/kermany_split_patients.py --data-dir PATH [--out results/xray/split_patients.json]

``--data-dir`` is the data root that holds ``kermany-224/`` (default: ``RESBOOK_DATA_DIR``).
Compares the radiographs of every patient id the train (+ val) and test folders share
(:mod:`helpers.analysis.split_patients`) and writes the counts and likeness summaries with
their provenance (commit, package versions, a fingerprint of the file list). Under a minute.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main(argv: list[str] | None = None) -> int:
    """Write ``results/xray/split_patients.json`` (findings chapter)."""
    from helpers import config
    from helpers.analysis.split_patients import IMAGE_SUFFIXES, split_patient_overlap
    from helpers.files import atomic_write_json
    from helpers.runs.provenance import git_state, package_versions, utc_now

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=None, help="data root holding kermany-224/")
    ap.add_argument("--out", default=str(ROOT / "results" / "xray" / "split_patients.json"))
    args = ap.parse_args(argv)
    root = config.data_root(args.data_dir) / "kermany-224"
    if not root.is_dir():
        raise SystemExit(f"error: no {root}: pass --data-dir, the data root holding "
                         "kermany-224/ (book/data.md)")
    t0 = time.perf_counter()
    result = split_patient_overlap(root)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*")
                   if p.suffix.lower() in IMAGE_SUFFIXES)
    commit, dirty = git_state(ROOT)
    result["provenance"] = {
        "commit": commit, "dirty": dirty, "created": utc_now(),
        "packages": package_versions(("numpy", "pillow")),
        "file_list_sha256": hashlib.sha256("\n".join(files).encode()).hexdigest(),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    atomic_write_json(args.out, result)
    print(f"{args.out}: {result['shared_ids']} ids in both train and test; same id median r = "
          f"{result['same_id']['median']:.3f}, random child {result['random_child']['median']:.3f}, "
          f"within a test child {result['within_test']['median']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
