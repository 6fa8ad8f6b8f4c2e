"""Downloads against a local http.server on 127.0.0.1: checksums and content checks (chapter 01)."""

from __future__ import annotations

import functools
import hashlib
import io
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest
from data_fixtures import random_image

from helpers.data import DataError, download, load_dataset
from helpers.data.download import fetch


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _tiny_npz() -> bytes:
    rng = np.random.default_rng(0)
    arrays = {}
    for s, n in (("train", 6), ("val", 4), ("test", 4)):
        arrays[f"{s}_images"] = rng.integers(0, 255, (n, 28, 28), dtype=np.uint8)
        arrays[f"{s}_labels"] = (np.arange(n) % 2).reshape(-1, 1).astype(np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_fetch_good_and_bad_checksum(server, tmp_path):
    served, url = server
    data = b"hello resbook\n" * 100
    (served / "f.bin").write_bytes(data)
    sha = fetch(url + "f.bin", tmp_path / "out" / "f.bin", md5=hashlib.md5(data).hexdigest())
    assert sha == hashlib.sha256(data).hexdigest()
    assert (tmp_path / "out" / "f.bin").read_bytes() == data
    with pytest.raises(DataError, match="md5"):
        fetch(url + "f.bin", tmp_path / "out" / "g.bin", md5="0" * 32)
    assert not (tmp_path / "out" / "g.bin").exists()
    assert not list((tmp_path / "out").glob(".*part"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["f.bin"]  # no temporary file
    with pytest.raises(DataError, match="cannot download"):
        fetch(url + "missing.bin", tmp_path / "out" / "h.bin")


def test_download_pneumoniamnist_then_load(server, tmp_path, monkeypatch):
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    served, url = server
    data = _tiny_npz()
    (served / "p.npz").write_bytes(data)
    root = tmp_path / "data"
    with pytest.raises(DataError, match="md5"):
        download("pneumoniamnist", root, url=url + "p.npz", md5="f" * 32)
    assert not (root / "pneumoniamnist" / "pneumoniamnist.npz").exists()
    download("pneumoniamnist", root, url=url + "p.npz", md5=hashlib.md5(data).hexdigest())
    ds = load_dataset("pneumoniamnist", data_root=root, resolution=28)
    assert ds.report.counts == {"train": (3, 3), "val": (2, 2), "test": (2, 2)}


def _serve_isic(served, per_split=3):
    """Tiny stand-in for the ISIC 2017 archive: zips with images + superpixels + GT CSVs."""
    from helpers.data.download import ISIC_PARTS
    k = 0
    for split, (zname, cname) in ISIC_PARTS.items():
        folder = zname[:-4]
        lines = ["image_id,melanoma,seborrheic_keratosis"]
        with zipfile.ZipFile(served / zname, "w") as zf:
            meta = ["image_id,age_approximate,sex"]
            for j in range(per_split):
                iid = f"ISIC_{k:07d}"
                buf = io.BytesIO()
                random_image(500 + k, 300).resize((320, 300)).save(buf, "JPEG")
                zf.writestr(f"{folder}/{iid}.jpg", buf.getvalue())
                zf.writestr(f"{folder}/{iid}_superpixels.png", b"not used")
                lines.append(f"{iid},{float(j == 0)},{float(j == 1)}")
                meta.append(f"{iid},55,female")
                k += 1
            if split == "train":
                zf.writestr(f"{folder}/ISIC-2017_Training_Data_metadata.csv", "\n".join(meta))
        (served / cname).write_text("\n".join(lines) + "\n")


def test_download_isic_layout_and_content_check(server, tmp_path, monkeypatch):
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    served, url = server
    _serve_isic(served)
    root = tmp_path / "data"
    with pytest.raises(DataError, match="official numbers"):
        download("isic2017", root, base_url=url, keep_zips=True)  # official counts: too few
    assert not (root / "isic2017-256").exists()
    small = {s: (3, 1, 1) for s in ("train", "val", "test")}
    out = download("isic2017", root, base_url=url, counts=small)
    df = pd.read_csv(out / "labels.csv", dtype=str, keep_default_na=False)
    assert list(df.columns[:6]) == ["image_id", "split", "path", "diagnosis", "melanoma",
                                    "seborrheic_keratosis"]
    assert (df.diagnosis == "melanoma").sum() == 3 and df.loc[0, "sex"] == "female"
    assert "sha256" in (out / "SOURCE.json").read_text()
    ds = load_dataset("isic2017", data_root=root, resolution=256)
    assert ds.splits["train"].images.shape == (3, 256, 256, 3)
    assert ds.report.counts == {"train": (2, 1), "val": (2, 1), "test": (2, 1)}
    assert not (root / "_downloads").exists()


def test_kermany_download_explains_manual_steps(tmp_path):
    with pytest.raises(DataError, match="Mendeley.*kermany-224"):
        download("kermany", tmp_path)
