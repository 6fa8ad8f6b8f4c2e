"""MedMNIST v2 PneumoniaMNIST as a data set source: one .npz file, official splits (data chapter)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from .core import SPLITS, DataError
from .sources import (
    Entry,
    Source,
    _stat_text,
)


# ---------------------------------------------------------------------------------------------
class MnistSource(Source):
    """MedMNIST v2 PneumoniaMNIST (28x28 grey, official splits) from one .npz file (data chapter)."""

    name = "pneumoniamnist"
    folder = "pneumoniamnist"
    tasks = ("pneumonia",)
    near_dup_action = "report"
    FILE = "pneumoniamnist.npz"
    layout = "  pneumoniamnist/pneumoniamnist.npz   (keys train_images, train_labels, val_..., test_...)"
    download_hint = ("With internet access run: python -c \"from helpers.data import download; "
                     "download('pneumoniamnist')\" (official Zenodo file, md5 checked).")

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._arrays: dict[str, np.ndarray] | None = None

    @property
    def npz(self) -> Path:
        return self.root / self.FILE

    def _load(self) -> dict[str, np.ndarray]:
        if self._arrays is None:
            if not self.npz.is_file():
                raise self.missing(f"'{self.folder}/{self.FILE}' not found")
            try:
                with np.load(self.npz) as z:
                    self._arrays = {k: z[k] for k in z.files}
            except Exception as exc:  # noqa: BLE001
                raise DataError(f"{self.folder}/{self.FILE} cannot be read ({exc}); download it "
                                "again.") from exc
        return self._arrays

    def entries(self) -> list[Entry]:
        z = self._load()
        out = []
        for split in SPLITS:
            ki, kl = f"{split}_images", f"{split}_labels"
            if ki not in z or kl not in z:
                raise DataError(f"{self.folder}/{self.FILE} lacks '{ki}'/'{kl}'; is it the "
                                "PneumoniaMNIST file? Download it again.")
            labels = z[kl].reshape(-1)
            if len(labels) != len(z[ki]) or not np.isin(labels, [0, 1]).all():
                raise DataError(f"{self.folder}/{self.FILE}: '{kl}' must hold one 0/1 label per "
                                "image; download the file again.")
            for i, y in enumerate(labels):
                ident = f"{split}_{i:05d}"
                out.append(Entry(ident, f"{self.FILE}#{split}/{i}", "PNEUMONIA" if y else "NORMAL",
                                 split, ident))
        return out

    def is_empty(self, e: Entry) -> bool:
        return False

    def _array(self, e: Entry) -> np.ndarray:
        split, i = e.rel.split("#", 1)[1].split("/")
        return self._load()[f"{split}_images"][int(i)]

    def read_bytes(self, e: Entry) -> bytes:
        return np.ascontiguousarray(self._array(e)).tobytes()

    def open_image(self, e: Entry) -> Image.Image:
        return Image.fromarray(self._array(e))

    def stat_key(self, entries: list[Entry]) -> str:
        return hashlib.sha256(f"{self.name}\0{_stat_text(self.npz)}".encode()).hexdigest()

    def task_labels(self, task: str, entries: list[Entry]) -> tuple[tuple[str, str], np.ndarray]:
        return ("normal", "pneumonia"), np.array(
            [int(e.cls == "PNEUMONIA") for e in entries], dtype=np.int64)
