"""What a sweep checks before it runs anything: its inputs and its output folder (training chapter).

- :class:`InputCheck`: the data fingerprint, weights sha256 and external-set (and lesion-mask)
  fingerprints a run would use now (a finished record made with others is re-run), and what
  makes an input folder unusable (``--dry-run`` reports every one; a real sweep refuses a bad external folder
  at once instead of after features and training in every run);
- :func:`check_writable`: the results folder takes records, notebooks, logs and locks, or a
  :class:`~helpers.sweep.config.SweepConfigError` naming the folder and what to do;
- :func:`folder_records`: the finished records already in the folder (their wall times time
  the progress estimate, :mod:`helpers.sweep.progress`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers.runs.records import read_json
from helpers.sweep.config import SweepConfigError
from helpers.sweep.locks import LOCKS_SUBDIR

OUTPUT_SUBDIRS = ("logs", "records", "notebooks", LOCKS_SUBDIR)
"""The folders a sweep writes under its output folder."""


def _is_digest(value: Any) -> bool:
    """A sha256 hex digest (what real records hold; a test stand-in's "fp" is not compared)."""
    return isinstance(value, str) and len(value) == 64 and all(
        c in "0123456789abcdef" for c in value)


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"


class InputCheck:
    """Data fingerprint, weights sha256 and external fingerprint a run would use now (training chapter).

    Memoised per data set / model / external set. A finished record is kept only when its
    ``provenance.data_fingerprint``, ``weights_sha256`` and ``external_fingerprint`` are what
    the run would use today: the same params on another data folder (or changed photos, other
    weights files, another external folder) make another run.
    """

    def __init__(self, data_root: Path | None, weights_dir: Path | None,
                 cache_dir: Path | None, external_root: Path | None = None,
                 external_masks: Path | None = None) -> None:
        self.data_root, self.weights_dir, self.cache_dir = data_root, weights_dir, cache_dir
        self.external_root, self.external_masks = external_root, external_masks
        self.notes: list[str] = []  # what the sweep should say, not an error (masks missing)
        self.memo: dict[tuple, tuple[str | None, str | None]] = {}

    def _data(self, params: Mapping[str, Any]) -> tuple[str | None, str | None]:
        """(fingerprint, None) or (None, the error's first line)."""
        key = ("data", params.get("dataset"), params.get("task"), params.get("seed"),
               params.get("split_seed"), params.get("balanced_eval"), params.get("max_images"),
               params.get("val_fraction"))
        if key not in self.memo:
            from helpers.data import DataError, data_fingerprint

            try:
                self.memo[key] = (data_fingerprint(
                    params["dataset"], params.get("task"), self.data_root, self.cache_dir,
                    seed=int(params.get("seed") or 0),
                    balanced_eval=bool(params.get("balanced_eval", False)),
                    max_images=params.get("max_images"), split_seed=params.get("split_seed"),
                    val_fraction=params.get("val_fraction")),
                    None)
            except (DataError, OSError, ValueError) as exc:
                self.memo[key] = (None, _first_line(exc))
        return self.memo[key]

    def _weights(self, params: Mapping[str, Any]) -> str | None:
        if params.get("weights") != "imagenet":
            return None
        key = ("weights", params.get("model"))
        if key not in self.memo:
            from helpers.training.weights import file_sha256, resolve_weights

            try:
                resolved = resolve_weights(str(params["model"]), "imagenet", self.weights_dir)
            except (OSError, ValueError, RuntimeError):
                resolved = None
            # keras-download weights: no local file to hash without importing Keras
            sha = (file_sha256(resolved.path, self.cache_dir)
                   if resolved is not None and resolved.path is not None else None)
            self.memo[key] = (sha, None)
        return self.memo[key][0]

    def _external(self, params: Mapping[str, Any]) -> tuple[str | None, str | None]:
        """(fingerprint, None) or (None, what is wrong with the external folder)."""
        key = ("external", params.get("external"), params.get("task"))
        if key not in self.memo:
            from helpers.data import DataError, external_fingerprint, get_source

            root, task = self.external_root, params.get("task")
            try:
                if root is None or not root.is_dir():
                    raise DataError(f"external folder {root} not found" if root else
                                    "no external folder given")
                classes = get_source("folder", root).tasks
                if task is not None and task not in classes:
                    raise DataError(f"external folder '{root.name}' has no class folder {task!r} "
                                    f"(the run's positive class); its class folders are "
                                    f"{sorted(classes)}")
                self.memo[key] = (external_fingerprint(root, str(task), self.cache_dir), None)
            except (DataError, OSError, ValueError) as exc:
                self.memo[key] = (None, _first_line(exc))
        return self.memo[key]

    def _masks(self) -> tuple[str | None, str | None]:
        """(masks fingerprint, None) or (None, what is wrong with the lesion-mask folder)."""
        key = ("masks",)
        if key not in self.memo:
            from helpers.data import DataError, external_masks

            try:
                if self.external_root is None or not self.external_root.is_dir():
                    raise DataError("no usable external folder to match the masks to")
                masks, missing, fp = external_masks(self.external_root, self.external_masks)
                if not masks:
                    raise DataError(f"no lesion mask in '{self.external_masks.name}' matches an "
                                    f"image of '{self.external_root.name}' (the mask of "
                                    "<class>/<stem>.jpg is named <stem>_*.png or <stem>.png)")
                self.memo[key] = (fp, None)
                if missing:
                    self.notes.append(f"{len(missing)} external image(s) have no lesion mask "
                                      f"(e.g. {missing[0]!r}): runs will not score 'lesion_box'")
            except (DataError, OSError, ValueError) as exc:
                self.memo[key] = (None, _first_line(exc))
        return self.memo[key]

    def problems(self, runs: Sequence[Mapping[str, Any]], *, data: bool = True) -> list[str]:
        """What makes the input folders of ``runs`` unusable, one line each (``--dry-run``).

        ``data=False`` checks only the external folders (a real sweep: a bad data folder fails
        each run at its start, a bad external folder only after its training).
        """
        out: dict[str, None] = {}
        for params in runs:
            if data and (err := self._data(params)[1]):
                out[f"data {params.get('dataset')!r}: {err} (check --data-root or "
                    "RESBOOK_DATA_DIR)"] = None
            if params.get("external") and (err := self._external(params)[1]):
                out[f"external set {params.get('external')!r}: {err} (check "
                    "--external-root)"] = None
            if (params.get("external") and self.external_masks is not None
                    and (err := self._masks()[1])):
                out[f"lesion masks of {params.get('external')!r}: {err} (check "
                    "--external-masks)"] = None
        return list(out)

    def changed(self, params: Mapping[str, Any], rec: Mapping[str, Any]) -> str | None:
        """Why ``rec`` no longer stands for ``params`` ("data changed: ..."), else None."""
        prov = rec.get("provenance") if isinstance(rec.get("provenance"), Mapping) else {}
        if params.get("external"):
            old_e, new_e = prov.get("external_fingerprint"), self._external(params)[0]
            if _is_digest(old_e) and new_e and old_e != new_e:
                return (f"external test set changed: fingerprint {old_e[:4]}\u2026 \u2192 "
                        f"{new_e[:4]}\u2026; re-running")
            why = self._masks_changed(prov) if self.external_masks is not None else None
            if why:
                return why
        old = prov.get("data_fingerprint")
        new, err = self._data(params)
        if new is None:
            return f"data not checked ({err}); kept" if err and old else None
        if _is_digest(old) and old != new:
            return f"data changed: fingerprint {old[:4]}\u2026 \u2192 {new[:4]}\u2026; re-running"
        old_w, new_w = prov.get("weights_sha256"), self._weights(params)
        if _is_digest(old_w) and new_w and old_w != new_w:
            return (f"weights changed: {prov.get('weights_file') or params.get('model')} sha256 "
                    f"{old_w[:4]}\u2026 \u2192 {new_w[:4]}\u2026; re-running")
        return None

    def _masks_changed(self, prov: Mapping[str, Any]) -> str | None:
        """Why a finished external run must score the lesion masks given now, else None."""
        old_m, new_m = prov.get("external_masks_fingerprint"), self._masks()[0]
        if new_m is None or old_m == new_m:
            return None
        if _is_digest(old_m):
            return (f"lesion masks changed: fingerprint {old_m[:4]}\u2026 \u2192 "
                    f"{new_m[:4]}\u2026; re-running")
        if old_m is None and _is_digest(prov.get("external_fingerprint")):
            return "lesion masks given now (the record has no lesion_box scores); re-running"
        return None


def output_error(out: Path, exc: OSError, n_runs: int) -> SweepConfigError:
    """The error for a results folder that cannot be written (names it, says what to do)."""
    what = exc.strerror or str(exc)
    where = f" ({exc.filename})" if exc.filename else ""
    return SweepConfigError(
        f"cannot write the results folder {out}: {type(exc).__name__}: {what}{where}. "
        f"{n_runs} run(s) need it for their records, notebooks, logs and locks: make the "
        "folder writable, or write elsewhere with --output-dir PATH (or RESBOOK_RESULTS_DIR)")


def check_writable(out: Path, n_runs: int) -> None:
    """Create the output folders and write (and remove) a probe file in each (training chapter).

    Raises :class:`~helpers.sweep.config.SweepConfigError` (:func:`output_error`) when any of
    them cannot be created or written, before a run starts.
    """
    try:
        for folder in (out, *(out / sub for sub in OUTPUT_SUBDIRS)):
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise output_error(out, exc, n_runs) from exc


def folder_records(out: Path) -> Iterator[dict[str, Any]]:
    """The readable run records in ``<out>/records`` (others are passed over)."""
    folder = out / "records"
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.json")):
        try:
            rec = read_json(path)
        except (OSError, ValueError):
            continue
        if isinstance(rec, dict):
            yield rec
