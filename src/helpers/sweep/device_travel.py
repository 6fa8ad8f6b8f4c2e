"""Getting a GPU job's inputs to a lent machine that takes at most a few tens of MiB per call (issue 23).

The machine this project borrows receives, per call, a copy of the checkout plus the folders the
call names, 64 MiB in all, and nothing else: no network, no data folder beside it. A paper-regime job
needs more than that: ISIC 2017 (21 MB), PH2 (27 MB), the MobileNet weights (13 MB) and the
ResNet50 weights (95 MB, a single file over the limit by itself). So:

* :func:`job_inputs` lists what a job's runs read: each data set's folder, the external set's
  images and masks, each model's ImageNet weights file, and (optionally) a folder of wheels;
* :func:`pack_inputs` writes them as one tar stream cut into parts, and deals the parts into
  carry folders (``c1``, ``c2``, …) of at most ``budget`` bytes each, one folder per call;
  ``inputs.json`` lists every part with its sha256 and the tar's own sha256;
* :func:`unpack_inputs` (on the machine) checks every part and the whole stream against
  ``inputs.json``, refuses a member that would land outside the destination, and extracts.

:func:`travel_bytes` measures what the checkout itself adds to every call (tracked files and
untracked files git does not ignore), which the budget must leave room for; :func:`slim` takes
the committed results and the book out of what travels for the duration of the GPU calls (out
of git's index and into ``.git/info/exclude``; the files stay on disk) and :func:`unslim` puts
them back. ``scripts/device_sweep.py pack-inputs | unpack-inputs | slim`` are the commands.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["SLIM_AWAY", "job_inputs", "pack_inputs", "slim", "travel_bytes", "unpack_inputs",
           "unslim"]

MiB = 1 << 20
SLIM_AWAY = ("results", "book")
"""What :func:`slim` keeps from travelling: the committed records and the executed book (most
of the checkout's bytes), which a training run never reads."""
_EXCLUDE_MARK = "# device_sweep slim: the GPU calls do not carry these (device_sweep slim off)"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                          text=True).stdout


# ------------------------------------------------------------------------- what travels
def travel_bytes(root: Path) -> int:
    """Bytes of the files a call copies from the checkout: tracked ones present on disk and
    untracked ones git does not ignore."""
    names = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    total = 0
    for name in {n for n in names.split("\0") if n}:
        p = root / name
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
    return total


def slim(root: Path, away: Sequence[str] = SLIM_AWAY) -> int:
    """Keep ``away`` from travelling: out of the index, into ``.git/info/exclude``; the bytes
    that then travel. Refuses a checkout with changes (prepare the job first, from a clean one).

    While slim, the index holds the removal of ``away``: commit nothing until :func:`unslim`
    (a commit then would delete them from the branch).
    """
    exclude = root / ".git" / "info" / "exclude"
    text = exclude.read_text() if exclude.exists() else ""
    if _EXCLUDE_MARK in text:
        raise SystemExit("slim: the checkout is slim already ('device_sweep.py slim off' undoes it)")
    if _git(root, "status", "--porcelain").strip():
        raise SystemExit("slim: the checkout has changes; commit them (and run prepare) first")
    exclude.parent.mkdir(parents=True, exist_ok=True)
    _git(root, "rm", "-r", "-q", "--cached", "--", *away)  # first: a failure leaves no half
    lines = [_EXCLUDE_MARK, *(f"/{a}/" for a in away)]
    exclude.write_text(text + ("" if text.endswith("\n") or not text else "\n")
                       + "\n".join(lines) + "\n")
    return travel_bytes(root)


def unslim(root: Path, away: Sequence[str] = SLIM_AWAY) -> None:
    """Undo :func:`slim`: the index as HEAD has it, the exclude lines gone; checks the result."""
    _git(root, "reset", "-q", "--", *away)
    exclude = root / ".git" / "info" / "exclude"
    if exclude.exists():
        lines = exclude.read_text().splitlines()
        drop = {_EXCLUDE_MARK, *(f"/{a}/" for a in away)}
        if _EXCLUDE_MARK in lines:
            exclude.write_text("".join(f"{x}\n" for x in lines if x not in drop))
    left = _git(root, "status", "--porcelain").strip()
    if left:
        raise SystemExit(f"unslim: the checkout still differs from HEAD:\n{left[:2000]}")


# ------------------------------------------------------------------------- a job's inputs
def job_inputs(runs: Iterable[Mapping[str, Any]], locations: Mapping[str, str | None],
               wheels: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """``{name in the tar: path here}`` of what the runs read (module docstring).

    Names: ``data/<data set folder>``, ``external/images``, ``external/masks``,
    ``weights/<file>``, ``wheels``. A location the runs need but that is not given, or does
    not exist, is an error naming it.
    """
    from helpers.data.loader import get_source
    from helpers.training.weights import WEIGHT_FILES

    runs = list(runs)
    out: dict[str, Path] = {}

    def need(key: str, why: str) -> Path:
        value = locations.get(key)
        if not value or not Path(value).exists():
            raise SystemExit(f"pack-inputs: the runs need --{key.replace('_', '-')} ({why}); "
                             f"got {value!r}")
        return Path(value)

    for name in sorted({r["params"]["dataset"] for r in runs}):
        root = need("data_root", f"data set {name}")
        folder = get_source(name, root).root
        if not folder.is_dir():
            raise SystemExit(f"pack-inputs: no folder {folder} for data set {name}")
        out[f"data/{folder.name}"] = folder
    if any(r["params"].get("external") for r in runs):
        out["external/images"] = need("external_root", "the runs score an external set")
        if locations.get("external_masks"):
            out["external/masks"] = need("external_masks", "its lesion masks")
    models = sorted({r["params"]["model"] for r in runs
                     if r["params"].get("weights", "imagenet") == "imagenet"})
    if models:
        wdir = need("weights_dir", "ImageNet weights, read by path")
        for m in models:
            f = wdir / WEIGHT_FILES[m]
            if not f.is_file():
                raise SystemExit(f"pack-inputs: no {f} (weights of {m})")
            out[f"weights/{f.name}"] = f
    if wheels:
        w = Path(wheels)
        if not any(w.glob("*.whl")):
            raise SystemExit(f"pack-inputs: no wheels in {w}")
        out["wheels"] = w
    return out


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _PartWriter(io.RawIOBase):
    """A write-only stream cut into files of ``part_bytes`` (``part-000``, ``part-001``, …)."""

    def __init__(self, folder: Path, part_bytes: int) -> None:
        self.folder, self.part_bytes = folder, part_bytes
        self.parts: list[dict[str, Any]] = []
        self.whole = hashlib.sha256()
        self._buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.whole.update(data)
        self._buf += data
        while len(self._buf) >= self.part_bytes:
            self._flush(self._buf[: self.part_bytes])
            del self._buf[: self.part_bytes]
        return len(data)

    def _flush(self, chunk: bytes | bytearray) -> None:
        name = f"part-{len(self.parts):03d}"
        (self.folder / name).write_bytes(chunk)
        self.parts.append({"name": name, "bytes": len(chunk), "sha256": _sha256(bytes(chunk))})

    def close(self) -> None:
        if self._buf:
            self._flush(self._buf)
            self._buf = bytearray()
        super().close()


def pack_inputs(items: Mapping[str, Path], to: Path, *, budget: int,
                part_bytes: int = 16 * MiB) -> dict[str, Any]:
    """Write ``items`` as one tar cut into parts, dealt into carry folders of ≤ ``budget`` bytes.

    Writes ``to/c1``, ``to/c2``, … (one per call) and ``to/inputs.json`` (also copied into the
    last folder, which travels with the run). Returns the ``inputs.json`` content.
    """
    room = budget - 64 * 1024  # inputs.json and folder entries
    if part_bytes > room:
        raise ValueError(f"a part ({part_bytes} bytes) must fit the per-call budget ({budget}, "
                         "less 64 KiB for inputs.json)")
    for old_dir in to.glob("c[0-9]*"):  # an earlier packing's folders: none may be carried now
        if old_dir.is_dir():
            for f in old_dir.iterdir():
                f.unlink()
            old_dir.rmdir()
    stage = to / "stage"
    stage.mkdir(parents=True, exist_ok=True)
    for old in stage.glob("part-*"):
        old.unlink()
    writer = _PartWriter(stage, part_bytes)
    with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name, path in sorted(items.items()):
            tar.add(str(path), arcname=name, recursive=True)
    writer.close()
    folders: list[list[dict[str, Any]]] = [[]]
    for part in writer.parts:
        if folders[-1] and sum(p["bytes"] for p in folders[-1]) + part["bytes"] > room:
            folders.append([])
        folders[-1].append(part)
    for i, parts in enumerate(folders, start=1):
        d = to / f"c{i}"
        d.mkdir(exist_ok=True)
        for old in d.glob("part-*"):
            old.unlink()
        for p in parts:
            (stage / p["name"]).rename(d / p["name"])
            p["folder"] = d.name
    stage.rmdir()
    info = {"what": "a GPU job's inputs as one tar in parts (helpers.sweep.device_travel)",
            "items": {k: str(v) for k, v in sorted(items.items())},
            "tar_bytes": sum(p["bytes"] for p in writer.parts),
            "tar_sha256": writer.whole.hexdigest(), "budget_bytes": budget,
            "folders": [f"c{i}" for i in range(1, len(folders) + 1)], "parts": writer.parts}
    text = json.dumps(info, indent=1)
    (to / "inputs.json").write_text(text)
    (to / info["folders"][-1] / "inputs.json").write_text(text)
    return info


def unpack_inputs(folders: Sequence[Path], dest: Path) -> dict[str, Any]:
    """Check the parts found in ``folders`` against their ``inputs.json`` and extract the tar.

    SystemExit naming the part that is missing or differs, or a member that would land
    outside ``dest``. Returns ``inputs.json``'s content.
    """
    info_files = [f / "inputs.json" for f in folders if (f / "inputs.json").is_file()]
    if not info_files:
        raise SystemExit(f"unpack-inputs: no inputs.json in {[str(f) for f in folders]}; "
                         "carry the last folder pack-inputs wrote")
    info = json.loads(info_files[0].read_text())
    where = {p.name: p for f in folders for p in f.glob("part-*")}
    whole = hashlib.sha256()
    chunks = []
    for part in info["parts"]:
        path = where.get(part["name"])
        if path is None:
            raise SystemExit(f"unpack-inputs: {part['name']} (folder {part['folder']}) is not "
                             "here: carry that folder in an earlier call")
        data = path.read_bytes()
        if _sha256(data) != part["sha256"]:
            raise SystemExit(f"unpack-inputs: {path} differs from the part pack-inputs wrote; "
                             "carry it again")
        whole.update(data)
        chunks.append(data)
    if whole.hexdigest() != info["tar_sha256"]:
        raise SystemExit("unpack-inputs: the parts do not make the tar pack-inputs wrote")
    dest.mkdir(parents=True, exist_ok=True)
    base = dest.resolve()
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks)), mode="r:") as tar:
        for m in tar.getmembers():
            target = (base / m.name).resolve()
            if not target.is_relative_to(base) or m.issym() or m.islnk():
                raise SystemExit(f"unpack-inputs: refusing member {m.name!r} (outside {dest} "
                                 "or a link)")
        tar.extractall(base, filter="data")
    return info
