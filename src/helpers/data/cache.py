"""File index (sha256, perceptual hash, readability) and decoded-array cache on disk (data chapter).

Both are keyed by the data set name and a fingerprint of the source files (path, size,
modification time and inode change time of every file: :meth:`Source.stat_key`), so a changed
folder invalidates them. Decoded arrays made with another geometry or resampling than the
defaults (squash, bilinear: :mod:`helpers.data.resize`) have both in their file name, and
lesion-box arrays the masks' fingerprint too, so no load reads arrays made another way. Files are written atomically (:func:`helpers.files.atomic_write`: a
temporary file in the same folder, then ``os.replace``), without flushing to disk: a cache lost
in a power cut is rebuilt.

The change time (ctime) catches a file rewritten with the same size whose old mtime was put
back (an editor that keeps timestamps, ``touch -d``, ``os.utime``): user programs cannot set it.
Limits: on Windows ``st_ctime`` is the creation time, and some file systems (FAT/exFAT sticks,
some network shares) report no real change time; there, such an edit keeps the old file hashes
and decoded arrays. Delete ``<RESBOOK_CACHE_DIR>/arrays/`` after editing images in place on
those. A copied folder (new ctimes) is hashed again once; the fingerprints, content hashes, stay.

The index also rejects JPEG files whose bytes are damaged in a way the decoder hides
(:func:`helpers.data.images.jpeg_stream_problem`): a skip with the reason, as for any
unreadable image.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..files import DAMAGED_FILE_ERRORS, atomic_write, atomic_write_json, warn_damaged
from .images import THUMB_SIZE, fingerprint_image, jpeg_stream_problem, prepare
from .mnist_source import MnistSource
from .resize import DEFAULT_GEOMETRY, DEFAULT_RESAMPLE, read_mask, variant_tag
from .sources import Entry, Source

INDEX_VERSION = 2
ARRAYS_VERSION = 1


@dataclass
class FileIndex:
    """Per-entry sha256 of the file bytes, 64-bit pHash, grey thumbnail, skip reason ('' = fine)."""

    sha256: dict[str, str]
    phash: dict[str, int]
    thumb: dict[str, np.ndarray]
    skip: dict[str, str]


def workers() -> int:
    """Threads for decoding: a few, never more than the CPUs (data chapter)."""
    return max(1, min(4, os.cpu_count() or 1))


def _save_npy(path: Path, arr: np.ndarray) -> None:
    atomic_write(path, lambda fh: np.save(fh, arr), durable=False)


def _save_json(path: Path, obj: Any) -> None:
    atomic_write_json(path, obj, indent=None, durable=False)


_NO_THUMB = np.zeros((THUMB_SIZE, THUMB_SIZE), np.uint8)


def _index_one(src: Source, e: Entry) -> tuple[str, int, np.ndarray, str]:
    try:
        data = src.read_bytes(e)
    except OSError as exc:
        return "", 0, _NO_THUMB, f"cannot read file ({exc.__class__.__name__}: {exc})"
    sha = hashlib.sha256(data).hexdigest()
    try:
        img = src.open_image(e) if isinstance(src, MnistSource) else Image.open(io.BytesIO(data))
        with img:
            is_jpeg = img.format in ("JPEG", "MPO")  # MPO: a phone's JPEG with extra pictures
            ph, thumb = fingerprint_image(img)
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a skip with its reason
        return sha, 0, _NO_THUMB, f"unreadable image ({exc.__class__.__name__}: {exc})"
    damage = jpeg_stream_problem(data) if is_jpeg else None
    if damage:
        return sha, 0, _NO_THUMB, f"unreadable image (damaged JPEG data: {damage})"
    return sha, ph, thumb, ""


def build_index(src: Source, entries: list[Entry], key: str, cache_root: Path
                ) -> tuple[FileIndex, bool]:
    """Hash every file (sha256 + perceptual hash), or read the cached index; returns (index, hit)."""
    path = cache_root / f"{src.name}-{key[:20]}-index-v{INDEX_VERSION}.npz"
    rels = [e.rel for e in entries]
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                cached = [str(r) for r in z["rels"]]
                if set(rels) <= set(cached):
                    return FileIndex(dict(zip(cached, map(str, z["sha256"]), strict=True)),
                                     dict(zip(cached, map(int, z["phash"]), strict=True)),
                                     dict(zip(cached, z["thumb"], strict=True)),
                                     dict(zip(cached, map(str, z["skip"]), strict=True))), True
        except DAMAGED_FILE_ERRORS as exc:  # a damaged cache file is rebuilt
            warn_damaged(path, exc, "rebuilding the file index")
    with ThreadPoolExecutor(workers()) as pool:
        results = list(pool.map(lambda e: _index_one(src, e), entries))
    sha, ph, thumb, skip = (list(col) for col in zip(*results, strict=True)) if results else (
        [], [], [], [])
    arrays = {"rels": np.array(rels, dtype=str), "sha256": np.array(sha, dtype=str),
              "phash": np.array(ph, dtype=np.uint64),
              "thumb": np.stack(thumb) if thumb else np.zeros((0, THUMB_SIZE, THUMB_SIZE), np.uint8),
              "skip": np.array(skip, dtype=str)}
    atomic_write(path, lambda fh: np.savez(fh, **arrays), durable=False)
    return FileIndex(dict(zip(rels, sha, strict=True)), dict(zip(rels, ph, strict=True)),
                     dict(zip(rels, thumb, strict=True)), dict(zip(rels, skip, strict=True))), False


def decode_entry(src: Source, e: Entry, resolution: int, geometry: str = DEFAULT_GEOMETRY,
                 resample: str = DEFAULT_RESAMPLE, mask: Path | None = None) -> np.ndarray:
    """Decode one entry to (s, s, 3) uint8 RGB; monkeypatched by the cache test.

    ``geometry``/``resample``: :mod:`helpers.data.resize` (default: bilinear squash);
    ``mask``: the entry's lesion-mask file, for ``geometry="lesion_box"``.
    """
    with src.open_image(e) as img:
        return prepare(img, resolution, geometry, resample,
                       read_mask(mask) if mask is not None else None)


def _decode_safe(src: Source, e: Entry, resolution: int, geometry: str, resample: str,
                 masks: dict[str, Path] | None) -> tuple[np.ndarray | None, str]:
    mask = masks.get(e.rel) if masks is not None else None
    if geometry == "lesion_box" and mask is None:
        return None, "no lesion mask"
    try:
        return decode_entry(src, e, resolution, geometry, resample, mask), ""
    except Exception as exc:  # noqa: BLE001 - reported as a skip with its reason
        what = "unreadable lesion mask or image" if mask is not None else "unreadable image"
        return None, f"{what} ({exc.__class__.__name__}: {exc})"


def load_arrays(src: Source, entries: list[Entry], key: str, resolution: int, cache_root: Path,
                geometry: str = DEFAULT_GEOMETRY, resample: str = DEFAULT_RESAMPLE,
                masks: dict[str, Path] | None = None, masks_key: str = ""
                ) -> tuple[np.ndarray, dict[str, int], dict[str, str], bool]:
    """Decoded images of all entries at one resolution, from the cache or decoded now.

    ``geometry``/``resample`` name how images become square (:mod:`helpers.data.resize`);
    ``geometry="lesion_box"`` takes each entry's mask file from ``masks`` (rel -> path) and
    needs ``masks_key`` (their fingerprint) for the cache file name; an entry without a mask
    is a skip. Returns (images, row of each entry's rel, skip reasons, cache hit).
    """
    if geometry == "lesion_box" and not masks_key:
        raise ValueError("geometry='lesion_box' needs masks and their fingerprint (masks_key)")
    tag = variant_tag(geometry, resample) + (f"-m{masks_key[:12]}" if masks_key else "")
    stem = f"{src.name}-{key[:20]}-{resolution}px{tag}"
    npy, meta = cache_root / f"{stem}.npy", cache_root / f"{stem}.json"
    rels = [e.rel for e in entries]
    if npy.is_file() and meta.is_file():
        try:
            obj = json.loads(meta.read_text(encoding="utf-8"))
            images = np.load(npy, mmap_mode="r")
            rows = {r: i for i, r in enumerate(obj["rels"])}
            known = set(rows) | set(obj["skip"])
            if (obj.get("version") == ARRAYS_VERSION and images.shape[0] == len(rows)
                    and set(rels) <= known):
                return images, rows, obj["skip"], True
        except DAMAGED_FILE_ERRORS as exc:  # a damaged cache file is rebuilt
            warn_damaged(f"{npy} (or {meta.name})", exc, "decoding the images again")
    with ThreadPoolExecutor(workers()) as pool:
        results = list(pool.map(
            lambda e: _decode_safe(src, e, resolution, geometry, resample, masks), entries))
    good = [(e.rel, a) for e, (a, _) in zip(entries, results, strict=True) if a is not None]
    skip = {e.rel: why for e, (_, why) in zip(entries, results, strict=True) if why}
    images = (np.stack([a for _, a in good]) if good
              else np.zeros((0, resolution, resolution, 3), np.uint8))
    _save_npy(npy, images)
    _save_json(meta, {"version": ARRAYS_VERSION, "rels": [r for r, _ in good], "skip": skip})
    return images, {r: i for i, (r, _) in enumerate(good)}, skip, False
