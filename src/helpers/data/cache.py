"""File index (sha256, perceptual hash, readability) and decoded-array cache on disk (chapter 01).

Both are keyed by the data set name and a fingerprint of the source files (path, size and
modification time of every file), so a changed folder invalidates them. Files are written
atomically (temporary file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .images import phash_image, prepare
from .sources import Entry, MnistSource, Source

INDEX_VERSION = 1
ARRAYS_VERSION = 1


@dataclass
class FileIndex:
    """Per-entry sha256 of the file bytes, 64-bit perceptual hash and skip reason ('' = fine)."""

    sha256: dict[str, str]
    phash: dict[str, int]
    skip: dict[str, str]


def workers() -> int:
    """Threads for decoding: a few, never more than the CPUs (chapter 01)."""
    return max(1, min(4, os.cpu_count() or 1))


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_npy(path: Path, arr: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, arr)
    _atomic_write(path, write)


def _save_json(path: Path, obj: Any) -> None:
    _atomic_write(path, lambda tmp: tmp.write_text(json.dumps(obj)))


def _index_one(src: Source, e: Entry) -> tuple[str, int, str]:
    try:
        data = src.read_bytes(e)
    except OSError as exc:
        return "", 0, f"cannot read file ({exc.__class__.__name__}: {exc})"
    sha = hashlib.sha256(data).hexdigest()
    try:
        img = src.open_image(e) if isinstance(src, MnistSource) else Image.open(io.BytesIO(data))
        with img:
            ph = phash_image(img)
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a skip with its reason
        return sha, 0, f"unreadable image ({exc.__class__.__name__}: {exc})"
    return sha, ph, ""


def build_index(src: Source, entries: list[Entry], key: str, cache_root: Path
                ) -> tuple[FileIndex, bool]:
    """Hash every file (sha256 + perceptual hash), or read the cached index; returns (index, hit)."""
    path = cache_root / f"{src.name}-{key[:20]}-index.json"
    rels = [e.rel for e in entries]
    if path.is_file():
        try:
            obj = json.loads(path.read_text())
            if obj.get("version") == INDEX_VERSION and set(rels) <= set(obj["sha256"]):
                return FileIndex(obj["sha256"], {k: int(v) for k, v in obj["phash"].items()},
                                 obj["skip"]), True
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is rebuilt
    with ThreadPoolExecutor(workers()) as pool:
        results = list(pool.map(lambda e: _index_one(src, e), entries))
    idx = FileIndex({r: s for r, (s, _, _) in zip(rels, results, strict=True)},
                    {r: p for r, (_, p, _) in zip(rels, results, strict=True)},
                    {r: k for r, (_, _, k) in zip(rels, results, strict=True)})
    _save_json(path, {"version": INDEX_VERSION, "sha256": idx.sha256,
                      "phash": {k: str(v) for k, v in idx.phash.items()}, "skip": idx.skip})
    return idx, False


def decode_entry(src: Source, e: Entry, resolution: int) -> np.ndarray:
    """Decode one entry to (s, s, 3) uint8 RGB (bilinear); monkeypatched by the cache test."""
    with src.open_image(e) as img:
        return prepare(img, resolution)


def _decode_safe(src: Source, e: Entry, resolution: int) -> tuple[np.ndarray | None, str]:
    try:
        return decode_entry(src, e, resolution), ""
    except Exception as exc:  # noqa: BLE001 - reported as a skip with its reason
        return None, f"unreadable image ({exc.__class__.__name__}: {exc})"


def load_arrays(src: Source, entries: list[Entry], key: str, resolution: int, cache_root: Path
                ) -> tuple[np.ndarray, dict[str, int], dict[str, str], bool]:
    """Decoded images of all entries at one resolution, from the cache or decoded now.

    Returns (images, row of each entry's rel, skip reasons, cache hit).
    """
    stem = f"{src.name}-{key[:20]}-{resolution}px"
    npy, meta = cache_root / f"{stem}.npy", cache_root / f"{stem}.json"
    rels = [e.rel for e in entries]
    if npy.is_file() and meta.is_file():
        try:
            obj = json.loads(meta.read_text())
            images = np.load(npy, mmap_mode="r")
            rows = {r: i for i, r in enumerate(obj["rels"])}
            known = set(rows) | set(obj["skip"])
            if (obj.get("version") == ARRAYS_VERSION and images.shape[0] == len(rows)
                    and set(rels) <= known):
                return images, rows, obj["skip"], True
        except (OSError, ValueError, KeyError):
            pass
    with ThreadPoolExecutor(workers()) as pool:
        results = list(pool.map(lambda e: _decode_safe(src, e, resolution), entries))
    good = [(e.rel, a) for e, (a, _) in zip(entries, results, strict=True) if a is not None]
    skip = {e.rel: why for e, (_, why) in zip(entries, results, strict=True) if why}
    images = (np.stack([a for _, a in good]) if good
              else np.zeros((0, resolution, resolution, 3), np.uint8))
    _save_npy(npy, images)
    _save_json(meta, {"version": ARRAYS_VERSION, "rels": [r for r, _ in good], "skip": skip})
    return images, {r: i for i, (r, _) in enumerate(good)}, skip, False
