"""The GPU path's archive: written on the device by ``run``, vetted and filed here by ``collect``.

``run`` re-writes one tar after every finished run (:func:`write_archive`): ``records/`` (the
run records), ``logs/`` (each run's log) and ``logs/verification.json`` (the outcome of
:func:`~helpers.sweep.device_job.check_copy`), so a call cut short still returns what finished.

``collect`` (:func:`collect_archive`) reads it back here: every record is checked against its
planned identity and run id (:func:`vet_record`), its metrics are recomputed from its
predictions (:func:`metric_mismatches`: a record whose stored metrics differ is not filed), and
it is filed (:func:`file_record`) into the results folder (replacing a failed record of the
run, or one of other params) or, when the run already has an ok record here, into the
duplicates folder (the same cell on two machines: the bf16-parity appendix compares them). Members it cannot
read or check are listed with the reason, the others filed all the same. The archive's own
``verification.json`` decides whether records may name the job's commit
(:func:`correct_commit`). Run records are read through :mod:`helpers.runs`
(:func:`~helpers.runs.records.read_json`), as every run record is.
"""

from __future__ import annotations

import io
import math
import os
import re
import sys
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers.files import json_text
from helpers.runs import records
from helpers.sweep.device_job import read_job

VERIFICATION = "verification.json"  # in the archive's logs/: the outcome of check_copy


# ---------------------------------------------------------------------------- run (device)
def write_archive(records_dir: Path, logs_dir: Path, archive: Path) -> int:
    """Tar of every record (and run log) so far, written atomically; returns the record count.

    Gzip-compressed when ``archive`` ends in ``.gz`` or ``.tgz`` (records are JSON of floats:
    about a third of the size, so 80 ISIC records with their PH2 predictions stay under the
    16 MiB a file may have to come back from a lent machine); ``collect`` reads either.
    """
    buf = io.BytesIO()
    n = 0
    mode = "w:gz" if archive.name.endswith((".gz", ".tgz")) else "w"
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for folder, arc in ((records_dir, "records"), (logs_dir, "logs")):
            for p in sorted(folder.glob("*")) if folder.is_dir() else []:
                if p.is_file() and not p.name.startswith("."):
                    tar.add(p, arcname=f"{arc}/{p.name}")
                    n += arc == "records"
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(f".{archive.name}.tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, archive)
    return n


# ---------------------------------------------------------------------------- collect (here)
def verified_commit(log: str, commit: str) -> str:
    """The job's commit, if the device's log says its tree was verified against it."""
    text = Path(log).read_text(errors="replace")
    m = re.search(r"tree verified: commit ([0-9a-f]{7,40})", text)
    if not m or not commit.startswith(m.group(1)):
        raise SystemExit(f"{log}: no 'tree verified: commit {commit[:10]}' line; the records "
                         "keep the commit they name")
    return commit


def correct_commit(rec: dict[str, Any], commit: str) -> bool:
    """Name the verified commit in a record whose copy of the tree carried a stale .git.

    Made for records written before the device's check named the commit in
    :func:`helpers.runs.provenance.git_state`: what git said there is kept under
    ``provenance.device_git``.
    """
    prov = rec.get("provenance") or {}
    if prov.get("git_commit") == commit and prov.get("git_dirty") is False:
        return False
    prov["device_git"] = {k: prov.get(k) for k in ("git_commit", "git_dirty", "git_diff_sha256")}
    prov.update(git_commit=commit, git_dirty=False, git_diff_sha256=None,
                source_check=f"tree verified file by file against {commit[:10]} on the device "
                             "(scripts/device_sweep.py)")
    return True


def open_archive(path: str) -> tarfile.TarFile:
    """The archive ``run --archive`` wrote, or an error that names the file and says why."""
    try:
        return tarfile.open(path)
    except FileNotFoundError:
        raise SystemExit(f"collect: {path}: no such file; give the tar that "
                         "'device_sweep.py run --archive' wrote") from None
    except (tarfile.TarError, OSError) as exc:
        raise SystemExit(f"collect: {path} is not a readable tar archive ({exc}); give the tar "
                         "that 'device_sweep.py run --archive' wrote, copied whole") from None


def archive_members(tar: tarfile.TarFile, bad: list[tuple[str, str]]) -> list[tarfile.TarInfo]:
    """Every member up to the first damaged header; a damaged or cut-short archive goes in bad.

    ``tarfile`` ends an archive silently at a header it cannot read; what follows that point
    (anything but the zero blocks of a proper end) is reported, not ignored.
    """
    members: list[tarfile.TarInfo] = []
    try:
        members.extend(tar)
        tar.fileobj.seek(tar.offset)
        rest = tar.fileobj.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        rest, why = b"?", str(exc)
    else:
        why = "no end-of-archive blocks" if not rest else "unreadable data after them"
    if len(rest) < tarfile.BLOCKSIZE or rest.strip(b"\0"):
        last = members[-1].name if members else "none"
        bad.append((str(tar.name or "archive"), f"damaged or cut short ({why}; last member "
                    f"found: {last}): members after that point were not read; copy it again"))
    return members


def member_json(tar: tarfile.TarFile, member: tarfile.TarInfo) -> Any:
    """The JSON in one member, parsed by :func:`helpers.runs.records.parse_json` (runs/ is the
    one reader of records); ValueError saying why it cannot be read."""
    try:
        fh = tar.extractfile(member)
        data = fh.read() if fh is not None else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValueError(f"cannot be read from the archive ({exc})") from exc
    try:
        return records.parse_json(data)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ValueError(f"not valid JSON ({exc})") from exc


def archive_verification(tar: tarfile.TarFile, members: Sequence[tarfile.TarInfo]
                         ) -> dict[str, Any] | None:
    """The archive's ``logs/verification.json`` (written by ``run``), or None in older ones."""
    for member in members:
        if member.name == f"logs/{VERIFICATION}":
            info = member_json(tar, member)
            if not isinstance(info, dict):
                raise ValueError("not a JSON object")
            return info
    return None


def job_verified_commit(info: Mapping[str, Any] | None, commit: str,
                        log: str | None) -> str | None:
    """The job's commit if the device checked its copy against it, else None.

    The archive's own verification.json (``info``) decides; ``--verified-log`` is read only
    for archives made before it existed. A verification of another commit is an error (wrong
    job folder).
    """
    if info is None:
        return verified_commit(log, commit) if log else None
    if info.get("commit") != commit:
        raise SystemExit(f"the archive was run from commit {str(info.get('commit'))[:10]}, "
                         f"the job folder plans {commit[:10]}: give the matching job folder")
    if not info.get("verified"):
        print(f"the device's copy was NOT verified ({info.get('n_differs')} files differ, "
              f"dirty manifest: {info.get('dirty_manifest')}): records keep the commit they "
              "name (none)")
        return None
    return commit


def archive_verified_commit(tar: tarfile.TarFile, members: Sequence[tarfile.TarInfo],
                            commit: str, log: str | None,
                            bad: list[tuple[str, str]]) -> str | None:
    """:func:`job_verified_commit` of the archive; a damaged verification.json goes in bad."""
    try:
        info = archive_verification(tar, members)
    except ValueError as exc:
        bad.append((f"logs/{VERIFICATION}", f"{exc}: records keep the commit they name"))
        return None
    return job_verified_commit(info, commit, log)


def same_run(rec: Mapping[str, Any], path: Path) -> bool:
    """True when ``path`` holds this very run (same start time and host), e.g. filed before.

    A record without a start time is never "the same run": it cannot be told apart.
    """
    if not path.is_file():
        return False
    other = records.read_json(path)
    a, b = rec.get("provenance") or {}, other.get("provenance") or {}
    if not a.get("started_at"):
        return False
    return (a.get("started_at"), a.get("host")) == (b.get("started_at"), b.get("host"))


def replaceable(path: Path, params: Mapping[str, Any]) -> bool:
    """True when the record at ``path`` is a failed run or one of other params: a new ok run
    of the planned identity takes its place (it is not a second machine's twin)."""
    old = records.read_json(path)
    return old.get("status") != "ok" or not records.record_matches(old, params)


METRIC_TOLERANCE = 1e-9  # float rounding across machines; any edit of a metric is far larger


def _same_metric(stored: Any, fresh: Any) -> bool:
    """One stored metric against its recomputed value (NaN is stored as null)."""
    if isinstance(fresh, float) and math.isnan(fresh):
        return stored is None or (isinstance(stored, float) and math.isnan(stored))
    if isinstance(stored, bool) or not isinstance(stored, int | float):
        return False
    return math.isclose(stored, fresh, rel_tol=METRIC_TOLERANCE, abs_tol=METRIC_TOLERANCE)


def metric_mismatches(rec: Mapping[str, Any]) -> list[str]:
    """Where a record's stored metrics are not what its own predictions give (``collect``).

    Each split of ``metrics`` (``metrics_plain``) is recomputed from ``predictions[split]``'s
    labels and ``probs`` (``probs_plain``) with the training chapter's
    :func:`helpers.stats.metrics.binary_metrics`, and each geometry of ``metrics.external_geometry``
    from ``predictions.external_geometry``; a value that differs beyond float rounding, a
    metric missing or added, or a split without usable predictions is listed.
    """
    preds = rec.get("predictions")
    preds = preds if isinstance(preds, Mapping) else {}
    out = []
    for key, probs_key in (("metrics", "probs"), ("metrics_plain", "probs_plain")):
        splits = rec.get(key) or {}
        if not isinstance(splits, Mapping):
            out.append(f"{key}: not a mapping of splits")
            continue
        for split, stored in splits.items():
            if split == GEOMETRY_SPLIT and key == "metrics":
                by_geometry = preds.get(split)
                by_geometry = by_geometry if isinstance(by_geometry, Mapping) else {}
                if not isinstance(stored, Mapping):
                    out.append(f"{key}.{split}: not a mapping of geometries")
                    continue
                for geometry, one in stored.items():
                    out += _metric_mismatch(f"{key}.{split}.{geometry}", one,
                                            by_geometry.get(geometry), probs_key)
                continue
            out += _metric_mismatch(f"{key}.{split}", stored, preds.get(split), probs_key)
    return out


GEOMETRY_SPLIT = "external_geometry"  # the external set scored each way (issue 29)


def _metric_mismatch(where: str, stored: Any, pred: Any, probs_key: str) -> list[str]:
    """:func:`metric_mismatches` for one set of metrics and the predictions behind it."""
    from helpers.stats.metrics import binary_metrics

    if not isinstance(stored, Mapping) or not isinstance(pred, Mapping) or probs_key not in pred:
        split = where.split(".", 1)[1]
        return [f"{where}: no predictions.{split}.{probs_key} to check it by"]
    try:
        fresh = binary_metrics(pred.get("labels"), pred[probs_key])
    except (TypeError, ValueError) as exc:
        return [f"{where}: its predictions cannot be scored ({exc})"]
    return [f"{where}.{name}: stored {stored.get(name)!r}, the predictions give "
            f"{fresh.get(name)!r}"
            for name in sorted((set(stored) | set(fresh)) - {"note"})
            if name not in stored or name not in fresh
            or not _same_metric(stored[name], fresh[name])]


def vet_record(rec: Any, planned: Mapping[str, Any]) -> tuple[str, str | None]:
    """("refused" | "bad" | "failed" | "ok", why) for one archive record (``collect``).

    Refused: not a planned run of this job. Bad: not a run record, or an ok record whose
    metrics are not what its predictions give (edited, or damaged). Only "ok" is filed.
    """
    if not isinstance(rec, dict):
        return "bad", "not a JSON object (a run record)"
    rid = rec.get("run_id")
    params = planned.get(rid) if isinstance(rid, str) else None
    try:
        if params is None or not records.record_matches(rec, params) \
                or records.run_id(rec.get("params", {})) != rid:
            return "refused", "not a planned run of this job"
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        return "bad", f"not a run record ({exc!r:.200})"
    if rec.get("status") != "ok":
        return "failed", str((rec.get("error") or {}).get("message"))
    wrong = metric_mismatches(rec)
    if wrong:
        return "bad", (f"its metrics are not what its predictions give ({len(wrong)} values), "
                       f"e.g. {'; '.join(wrong[:3])}")
    return "ok", None


def file_record(rec: dict[str, Any], params: Mapping[str, Any], into: Path,
                dup_dir: Path | None, counts: dict[str, int]) -> None:
    """File one checked ok record under ``into`` (or ``dup_dir``), counting what happened."""
    rid = rec["run_id"]
    target = records.record_path(into.parent, rid)
    dup = records.record_path(dup_dir.parent, rid) if dup_dir else None
    if any(same_run(rec, t) for t in (target, dup) if t is not None):
        counts["already filed"] += 1
        return
    if target.is_file() and replaceable(target, params):
        print(f"{rid}: replaces a failed record or one of other params")
        counts["replaced"] += 1
    elif target.is_file():
        if dup_dir is None:
            print(f"kept the existing record of {rid} (no --duplicates-dir)")
            counts["duplicate"] += 1
            return
        target = records.record_path(dup_dir.parent, rid)
        counts["duplicate"] += 1
    else:
        counts["filed"] += 1
    records.write_json_atomic(target, rec)
    print(f"{rid} -> {target}")


def collect_archive(archive: str, job_dir: str | os.PathLike[str], into: str | os.PathLike[str],
                    *, duplicates_dir: str | os.PathLike[str] | None = None,
                    verified_log: str | None = None) -> int:
    """``collect``: vet and file the records of ``archive`` (module docstring); the exit status.

    0 when every record member was a planned run and could be read and checked, else 1 (the
    counts go to stdout as one JSON line, what was not filed to stderr).
    """
    job = read_job(job_dir)
    planned = {r["run_id"]: r["params"] for r in job["runs"]}
    into_records = Path(into) / "records"
    dup_dir = Path(duplicates_dir) / "records" if duplicates_dir else None
    counts = {"filed": 0, "replaced": 0, "already filed": 0, "duplicate": 0, "failed": 0,
              "refused": 0, "bad": 0, "commit corrected": 0}
    bad: list[tuple[str, str]] = []  # (member, why): listed at the end, none of them filed
    with open_archive(archive) as tar:
        members = archive_members(tar, bad)
        verified = archive_verified_commit(tar, members, job["commit"], verified_log, bad)
        for member in members:
            if not (member.isfile() and member.name.startswith("records/")
                    and member.name.endswith(".json")):
                continue
            try:
                rec = member_json(tar, member)
            except ValueError as exc:
                bad.append((member.name, str(exc)))
                continue
            verdict, why = vet_record(rec, planned)
            if verdict == "bad":
                bad.append((member.name, str(why)))
                continue
            if verdict == "refused":
                print(f"refused {member.name}: {why}", file=sys.stderr)
                counts["refused"] += 1
                continue
            if verdict == "failed":
                print(f"failed run {rec['run_id']}: {why}")
                counts["failed"] += 1
                continue
            if verified and correct_commit(rec, verified):
                counts["commit corrected"] += 1
            file_record(rec, planned[rec["run_id"]], into_records, dup_dir, counts)
    counts["bad"] = len(bad)
    for name, why in bad:
        print(f"NOT FILED {name}: {why}", file=sys.stderr)
    if bad:
        print(f"{len(bad)} archive members not filed (above; the others were): copy the "
              "archive again, or run those runs again", file=sys.stderr)
    print(json_text(counts, indent=None))
    return 0 if counts["refused"] == 0 and not bad else 1
