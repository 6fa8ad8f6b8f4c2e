"""Official downloads with checksum or content verification (the data chapter, data setup).

* PneumoniaMNIST: the MedMNIST v2 file on Zenodo, md5 checked.
* ISIC 2017: the official challenge archive (zips of images + Part 3 ground-truth CSVs), resized
  to 256x256 (Pillow bilinear, JPEG quality 95) into the same layout as the local copy
  (``isic2017-256/labels.csv``). No checksums are published, so the content is verified (image
  counts per split and class must match the official numbers) and the sha256 of every
  downloaded file is recorded in ``isic2017-256/SOURCE.json``.
* Kermany: no stable plain URL (Mendeley Data); the error says which files to put where.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import urllib.request
import zipfile
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image

from .. import config
from ..files import atomic_write, hash_file, sha256_file
from .core import DataError
from .images import to_rgb
from .sources import KermanySource

MNIST_URL = "https://zenodo.org/records/10519652/files/pneumoniamnist.npz?download=1"
MNIST_MD5 = "28209eda62fecd6e6a2d98b1501bb15f"
MNIST_COUNTS = {"train": 4708, "val": 524, "test": 624}

ISIC_BASE = "https://isic-challenge-data.s3.amazonaws.com/2017/"
ISIC_PARTS = {  # split: (image zip, Part 3 ground-truth csv)
    "train": ("ISIC-2017_Training_Data.zip", "ISIC-2017_Training_Part3_GroundTruth.csv"),
    "val": ("ISIC-2017_Validation_Data.zip", "ISIC-2017_Validation_Part3_GroundTruth.csv"),
    "test": ("ISIC-2017_Test_v2_Data.zip", "ISIC-2017_Test_v2_Part3_GroundTruth.csv"),
}
# official numbers: (images, melanoma, seborrheic keratosis) per split
ISIC_COUNTS = {"train": (2000, 374, 254), "val": (150, 30, 42), "test": (600, 117, 90)}
ISIC_SIZE = 256
_ISIC_IMAGE = re.compile(r"(?:^|/)(ISIC_\d{7})\.jpg$")


def fetch(url: str, dest: Path, *, md5: str | None = None, timeout: float = 120.0) -> str:
    """Download url to dest atomically, check the md5 if given; returns the sha256 (data chapter)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest: dict[str, str] = {}

    def download(out: IO[bytes]) -> None:  # into a temporary file; dest only if it is good
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            shutil.copyfileobj(resp, out, 1 << 20)
        out.flush()
        if md5 is not None:
            got = hash_file(out.name, "md5")
            if got != md5:
                raise DataError(f"download of {url} has md5 {got}, expected {md5}: the file is "
                                "damaged or changed upstream. Nothing was written; try again.")
        digest["sha256"] = hash_file(out.name, "sha256")

    try:
        atomic_write(dest, download, suffix=".part")
    except OSError as exc:
        raise DataError(f"cannot download {url} ({exc}). Check the internet connection, or put "
                        f"the file at '{dest.name}' by hand (see the data chapter).") from exc
    return digest["sha256"]


def download_pneumoniamnist(root: Path, url: str = MNIST_URL, md5: str = MNIST_MD5) -> Path:
    """Fetch PneumoniaMNIST (MedMNIST v2, Zenodo) into <root>/pneumoniamnist/ (data chapter)."""
    dest = root / "pneumoniamnist" / "pneumoniamnist.npz"
    fetch(url, dest, md5=md5)
    with np.load(dest) as z:
        counts = {s: len(z[f"{s}_labels"]) for s in MNIST_COUNTS if f"{s}_labels" in z}
    if md5 == MNIST_MD5 and counts != MNIST_COUNTS:  # pragma: no cover - md5 already guards
        raise DataError(f"{dest.name}: unexpected split sizes {counts}")
    return dest


def _isic_truth(csv_bytes: bytes, name: str) -> dict[str, tuple[int, int]]:
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    need = {"image_id", "melanoma", "seborrheic_keratosis"}
    if not rows or not need <= set(rows[0]):
        raise DataError(f"{name}: expected columns {sorted(need)}; is it the Part 3 ground truth?")
    return {r["image_id"]: (int(float(r["melanoma"])), int(float(r["seborrheic_keratosis"])))
            for r in rows}


def download_isic2017(root: Path, base_url: str = ISIC_BASE, keep_zips: bool = False,
                      counts: dict[str, tuple[int, int, int]] | None = None) -> Path:
    """Fetch the ISIC 2017 archive, resize to 256x256, write isic2017-256/labels.csv (data chapter)."""
    counts = counts or ISIC_COUNTS
    work = root / "_downloads" / "isic2017"
    out = root / "isic2017-256"
    staging = root / ".isic2017-256.partial"
    shutil.rmtree(staging, ignore_errors=True)
    source: dict[str, dict[str, str]] = {}
    rows = []
    for split, (zname, cname) in ISIC_PARTS.items():
        for fname in (zname, cname):
            if not (work / fname).is_file():
                fetch(base_url + fname, work / fname)
            source[fname] = {"url": base_url + fname, "sha256": sha256_file(work / fname)}
        truth = _isic_truth((work / cname).read_bytes(), cname)
        meta: dict[str, dict[str, str]] = {}
        folder = zname[:-4]
        n_img = 0
        with zipfile.ZipFile(work / zname) as zf:
            for info in zf.infolist():
                if info.filename.endswith("_metadata.csv"):
                    text = zf.read(info).decode("utf-8-sig")
                    meta = {r["image_id"]: r for r in csv.DictReader(io.StringIO(text))}
            for info in zf.infolist():
                m = _ISIC_IMAGE.search(info.filename)
                if not m:
                    continue
                iid = m.group(1)
                if iid not in truth:
                    raise DataError(f"{zname}: image {iid} has no row in {cname}; the archive "
                                    "is inconsistent, delete it and download again.")
                with Image.open(io.BytesIO(zf.read(info))) as img:
                    small = to_rgb(img).resize((ISIC_SIZE, ISIC_SIZE), Image.BILINEAR)
                dest = staging / folder / f"{iid}.jpg"
                dest.parent.mkdir(parents=True, exist_ok=True)
                small.save(dest, "JPEG", quality=95)
                mel, sk = truth[iid]
                diag = "melanoma" if mel else "seborrheic_keratosis" if sk else "nevus"
                rows.append({"image_id": iid, "split": split, "path": f"{folder}/{iid}.jpg",
                             "diagnosis": diag, "melanoma": float(mel),
                             "seborrheic_keratosis": float(sk),
                             "age_approximate": meta.get(iid, {}).get("age_approximate", ""),
                             "sex": meta.get(iid, {}).get("sex", "")})
                n_img += 1
        got = (n_img, sum(r["melanoma"] == 1 for r in rows if r["split"] == split),
               sum(r["seborrheic_keratosis"] == 1 for r in rows if r["split"] == split))
        if got != tuple(counts[split]):
            shutil.rmtree(staging, ignore_errors=True)
            raise DataError(f"ISIC 2017 {split}: found (images, melanoma, SK) = {got}, the official "
                            f"numbers are {tuple(counts[split])}. The download is incomplete or "
                            f"changed; delete '{work.relative_to(root)}' and run again.")
    with open(staging / "labels.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(sorted(rows, key=lambda r: (r["image_id"])))
    (staging / "SOURCE.json").write_text(json.dumps(
        {"source": "ISIC 2017 challenge archive", "resized_to": ISIC_SIZE, "resample": "bilinear",
         "files": source}, indent=1, sort_keys=True))
    if out.exists():
        shutil.rmtree(out)
    os.replace(staging, out)
    if not keep_zips:
        shutil.rmtree(work, ignore_errors=True)
        if not any(work.parent.iterdir()):
            work.parent.rmdir()
    return out


def download(name: str, data_root: str | os.PathLike[str] | None = None, **kwargs: object) -> Path:
    """Download a data set from its official source into the data root (data chapter)."""
    root = config.data_root(data_root)
    root.mkdir(parents=True, exist_ok=True)
    if name == "pneumoniamnist":
        return download_pneumoniamnist(root, **kwargs)  # type: ignore[arg-type]
    if name == "isic2017":
        return download_isic2017(root, **kwargs)  # type: ignore[arg-type]
    if name == "kermany":
        raise DataError(KermanySource.download_hint + "\nExpected layout:\n" + KermanySource.layout)
    raise DataError(f"no download for {name!r}: 'folder' is your own data; choose one of "
                    "isic2017, pneumoniamnist (kermany: manual download).")
