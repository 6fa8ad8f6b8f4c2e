"""Small generated image folders for the data tests (no real data needed)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


def random_image(seed: int, size: int = 48, mode: str = "RGB") -> Image.Image:
    """A distinct, structured picture (blobs on a gradient) so hashes differ between seeds."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = np.stack([xx * rng.uniform(50, 200), yy * rng.uniform(50, 200),
                     (xx + yy) * rng.uniform(20, 100)], axis=-1)
    for _ in range(4):
        cy, cx, r = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.05, 0.25)
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        base[mask] = rng.uniform(0, 255, 3)
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    return img if mode == "RGB" else img.convert(mode)


def save_jpeg(path: Path, img: Image.Image, quality: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=quality)
    return path


def make_folder(root: Path, classes: dict[str, int], splits: bool = False, seed0: int = 0) -> Path:
    """root/<class>/img_k.jpg (or root/<split>/<class>/...) with distinct images."""
    seed = seed0
    for split in (("train", "val", "test") if splits else ("",)):
        for cls, n in classes.items():
            for k in range(n):
                save_jpeg(root / split / cls / f"{cls.lower()}_{split or 'x'}_{k:03d}.jpg",
                          random_image(seed))
                seed += 1
    return root


def truncated_jpeg_bytes(seed: int = 999) -> bytes:
    buf = io.BytesIO()
    random_image(seed, 64).save(buf, "JPEG", quality=95)
    data = buf.getvalue()
    return data[: len(data) // 2]


def make_isic(root: Path, rows: list[tuple[str, str, str]], seed0: int = 100) -> Path:
    """A tiny ISIC-like folder: rows of (image_id, split, diagnosis) -> images + labels.csv."""
    folder = root / "isic2017-256"
    sub = {"train": "ISIC-2017_Training_Data", "val": "ISIC-2017_Validation_Data",
           "test": "ISIC-2017_Test_v2_Data"}
    lines = ["image_id,split,path,diagnosis,melanoma,seborrheic_keratosis"]
    for k, (iid, split, diag) in enumerate(rows):
        rel = f"{sub.get(split, 'other')}/{iid}.jpg"
        save_jpeg(folder / rel, random_image(seed0 + k))
        lines.append(f"{iid},{split},{rel},{diag},{float(diag == 'melanoma')},"
                     f"{float(diag == 'seborrheic_keratosis')}")
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    return folder


def isic_rows(n_per_split: int = 4) -> list[tuple[str, str, str]]:
    diags = ["melanoma", "nevus", "seborrheic_keratosis", "nevus"]
    rows, k = [], 0
    for split in ("train", "val", "test"):
        for j in range(n_per_split):
            rows.append((f"ISIC_{k:07d}", split, diags[j % len(diags)]))
            k += 1
    return rows


def save_image(path: Path, img: Image.Image, fmt: str | None = None) -> Path:
    """Save in the format of the suffix (or ``fmt``), creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, fmt)
    return path


def grey16_image(seed: int, size: int = 40) -> Image.Image:
    """A 16-bit grey picture (mode I;16) spanning the whole 0..65535 range of an 8-bit one x 257."""
    grey = np.asarray(random_image(seed, size, "L"), dtype=np.uint16) * 257
    return Image.fromarray(grey)


def make_mixed_folder(root: Path, n: int = 14) -> Path:
    """root/{Acne,Normal}/ with photos of varying sizes and formats: JPEG, PNG RGB/RGBA/L/P."""
    kinds = [("jpg", "RGB"), ("png", "RGBA"), ("png", "L"), ("png", "P"), ("jpeg", "RGB"),
             ("png", "RGB"), ("JPG", "L")]
    seed = 500
    for cls in ("Acne", "Normal"):
        for k in range(n):
            ext, mode = kinds[k % len(kinds)]
            size = 24 + 7 * (k % 5)
            img = random_image(seed, size, mode)
            if k % 3 == 0:
                img = img.resize((size + 13, size))  # not square
            save_image(root / cls / f"{cls.lower()}_{k:02d}.{ext}", img,
                       "JPEG" if ext.lower() in ("jpg", "jpeg") else "PNG")
            seed += 1
    return root


def folder_from_isic(data_dir: Path, root: Path, n_per_class: int = 40,
                     names: tuple[str, str] = ("Acne", "Normal"), offset: int = 0) -> Path:
    """root/<names[0]>/ (ISIC melanomas) and root/<names[1]>/ (ISIC nevi), the paper's layout.

    Real photos from the shared ISIC copy, written as JPEG and PNG at mixed sizes (a user's
    folder of photos of any size and format); ``offset`` skips that many images of each class
    (two disjoint folders for the fingerprint tests).
    """
    import csv

    rows = list(csv.DictReader((data_dir / "isic2017-256" / "labels.csv").open()))
    picked = {names[0]: [r for r in rows if r["diagnosis"] == "melanoma"],
              names[1]: [r for r in rows if r["diagnosis"] == "nevus"]}
    sizes = (96, 160, 257, 200)
    for cls, rs in picked.items():
        for k, r in enumerate(rs[offset:offset + n_per_class]):
            with Image.open(data_dir / "isic2017-256" / r["path"]) as img:
                side = sizes[k % len(sizes)]
                img = img.convert("RGB").resize((side, side * 3 // 4))
                fmt, ext = ("PNG", "png") if k % 3 == 0 else ("JPEG", "jpg")
                save_image(root / cls / f"{r['image_id']}.{ext}", img, fmt)
    return root


def load_folder(root: Path, **kw: Any) -> Any:
    """``load_dataset("folder", data_root=root, **kw)``, at 16 px unless ``resolution`` is given.

    The folder data set of the data chapter, as its tests load it (with the ``folder_env``
    fixture of conftest.py: a private cache, no real data).
    """
    from helpers.data import load_dataset

    kw.setdefault("resolution", 16)
    return load_dataset("folder", data_root=root, **kw)
