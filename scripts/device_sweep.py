"""Run a sweep's missing training runs on a machine without Jupyter or git, e.g. a lent GPU.

The book's sweeps execute the training notebook with papermill (``python -m helpers sweep``).
A GPU node with JAX but no Jupyter, no TensorFlow and no copy of ``.git`` can still make the
same run records: this script calls the training chapter's own ``run_training`` and
``save_record`` in worker processes, with Keras's JAX backend by default. Three steps:

here (the checkout, clean)::

    python scripts/device_sweep.py prepare configs/paper.yaml --only=-224-full- \\
        --only=-256-full- --seed0-first --to .gpu/job

writes ``.gpu/job/runs.json`` (the runs with no ok record yet, in order, with their run ids)
and ``.gpu/job/manifest.json`` (HEAD and the git blob id of every tracked file).

there (a copy of the tree, the data, the weights; the folders given as options)::

    python scripts/device_sweep.py run .gpu/job --output-dir .gpu/results/paper \\
        --data-root … --weights-dir … --cache-dir … --workers 6 --archive $OUT/records.tar

checks the copy file by file against the manifest (only then do the records name the commit:
the check's outcome is handed to each worker explicitly, :func:`helpers.runs.provenance.set_copy_check`;
``$RESBOOK_VERIFIED_COMMIT`` set by hand counts for nothing; a copy that fails the check makes
records that name no commit, never what a stale ``.git`` there says; the outcome travels in the
archive as ``logs/verification.json``), trains each run in a fresh process and
re-writes the archive of finished records after every run, so a call cut short still returns
what finished. ``--stop-after S`` starts no run after S seconds. A worker killed outright
(out of memory) is reported and a fresh process pool takes the runs not yet started.

here again::

    python scripts/device_sweep.py collect records.tar .gpu/job --into results/paper \\
        --duplicates-dir results/device-parity

checks every record against its planned identity and run id, recomputes its metrics from its
predictions (a record whose stored metrics differ is not filed) and files it (replacing a failed
record of the run, or one of other params); members it cannot read or check are listed with the
reason, the others filed all the same, and it exits 1. A record whose run already has an ok record here
goes to ``--duplicates-dir`` (the same cell on two machines:
chapter 05 compares them). Records from a GPU say so: ``provenance.gpu``,
``provenance.keras_backend``. On the GPU, JAX runs with deterministic XLA ops and float32
matrix products at full precision (no TF32); see ``device_env``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import multiprocessing
import os
import re
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import redirect_stderr, redirect_stdout
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from helpers.files import atomic_write_json  # noqa: E402
from helpers.runs.provenance import set_copy_check  # noqa: E402

LOCATIONS = ("data_root", "weights_dir", "cache_dir", "external_root", "external_masks")
VERIFICATION = "verification.json"  # in the archive's logs/: the outcome of check_copy


# ---------------------------------------------------------------------------- the tree
def git_blob_id(data: bytes) -> str:
    """git's object id of a file's content (``git hash-object``): sha1 of 'blob <n>\\0' + data."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's id


def tree_manifest(root: Path, *, allow_dirty: bool = False) -> dict[str, Any]:
    """HEAD and {path: blob id} of every tracked file; refuses a checkout with changes.

    With ``allow_dirty`` (trying the script out) the manifest says ``dirty`` and the device's
    records then name no commit.
    """
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                              text=True).stdout

    dirty = bool(git("status", "--porcelain", "--untracked-files=no").strip())
    if dirty and not allow_dirty:
        raise SystemExit("prepare: the checkout has uncommitted changes; commit them first "
                         "(the records must name a commit)")
    files = {}
    for line in git("ls-files", "-s").splitlines():
        meta, path = line.split("\t", 1)
        mode, blob, _stage = meta.split()
        if mode != "160000":  # submodules carry no content here
            files[path] = blob
    return {"commit": git("rev-parse", "HEAD").strip(), "dirty": dirty, "files": files}


def verify_tree(root: Path, manifest: Mapping[str, Any]) -> list[str]:
    """Paths whose content differs from the manifest's blob ids (missing ones included)."""
    bad = []
    for path, blob in manifest["files"].items():
        p = root / path
        if p.is_symlink():
            data = os.readlink(p).encode()
        elif p.is_file():
            data = p.read_bytes()
        else:
            bad.append(f"{path} (missing)")
            continue
        if git_blob_id(data) != blob:
            bad.append(path)
    return bad


# ---------------------------------------------------------------------------- prepare
def plan_runs(config: str, only: Sequence[str], output_dir: str | None,
              seed0_first: bool, rerun: Sequence[str] = ()) -> tuple[list[dict[str, Any]], Path]:
    """The config's runs without an ok record, filtered by any of ``only``, in run order.

    Runs with an ok record whose id contains one of ``rerun`` are planned too (the same cell
    on another machine; ``collect`` files their records apart).
    """
    from helpers.runs import records
    from helpers.sweep.config import _resolve, expand, load_config

    cfg = load_config(config)
    cfg.setdefault("_root", str(ROOT))
    out = _resolve(ROOT, output_dir or cfg["output_dir"])
    planned = []
    for params in expand(cfg):
        rid = records.run_id(params)
        if only and not any(s in rid for s in only):
            continue
        path = records.record_path(out, rid)
        if path.is_file():
            rec = records.read_json(path)
            if rec.get("status") == "ok" and records.record_matches(rec, params) \
                    and not any(s in rid for s in rerun):
                continue
        planned.append({"run_id": rid, "params": dict(params)})
    if seed0_first:
        planned.sort(key=lambda r: r["params"].get("seed", 0) != 0)  # stable: config order
    return planned, out


def cmd_prepare(args: argparse.Namespace) -> int:
    runs, out = plan_runs(args.config, args.only, args.output_dir, args.seed0_first,
                          args.rerun)
    to = Path(args.to)
    to.mkdir(parents=True, exist_ok=True)
    manifest = tree_manifest(ROOT, allow_dirty=args.allow_dirty)
    job = {"config": args.config, "output_dir": os.path.relpath(out, ROOT),
           "commit": manifest["commit"], "runs": runs}
    (to / "runs.json").write_text(json.dumps(job, indent=1))
    (to / "manifest.json").write_text(json.dumps(manifest))
    print(f"{len(runs)} runs planned (commit {manifest['commit'][:10]}, "
          f"{len(manifest['files'])} tracked files) -> {to}")
    for r in runs:
        print("  ", r["run_id"])
    return 0


# ---------------------------------------------------------------------------- run
def device_env(env: dict[str, str] | os._Environ, mem_fraction: float) -> None:
    """Keras on JAX unless a backend is set; deterministic XLA; fp32 products without TF32."""
    env.setdefault("KERAS_BACKEND", "jax")
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    env.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{mem_fraction:.3f}")
    flags = env.get("XLA_FLAGS", "")
    if "xla_gpu_deterministic_ops" not in flags:
        env["XLA_FLAGS"] = (flags + " --xla_gpu_deterministic_ops=true").strip()
    env.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "highest")
    env.setdefault("PYTHONHASHSEED", "0")


def train_one(spec: Mapping[str, Any], locations: Mapping[str, str], log_dir: str,
              verified_commit: str | None) -> dict[str, Any]:
    """One run in this (fresh) process: train, save the record (a failure record on error).

    ``verified_commit``: the commit ``check_copy`` verified this copy against (None: it failed),
    handed over explicitly: the worker's records name it, and nothing in the environment can.
    """
    from helpers.runs import records
    from helpers.training import run_training, save_record
    from helpers.training.params import validate_params

    set_copy_check(verified_commit)
    params = {**spec["params"], **locations}
    log = Path(log_dir) / f"{spec['run_id']}.log"
    t0 = time.monotonic()
    with log.open("w") as fh, redirect_stdout(fh), redirect_stderr(fh):
        try:
            rec = run_training(params, verbose=2)
        except Exception as exc:  # noqa: BLE001 - the record says why; the sweep goes on
            ident = validate_params(params).identity()
            save_record(records.failure_record(ident, exc), locations["output_dir"])
            return {"run_id": spec["run_id"], "status": "failed", "error": repr(exc)[:300],
                    "wall_s": time.monotonic() - t0}
        save_record(rec, locations["output_dir"])
    auc = (rec.get("metrics") or {}).get("test", {}).get("auc")
    return {"run_id": spec["run_id"], "status": rec.get("status"), "test_auc": auc,
            "wall_s": time.monotonic() - t0}


def write_archive(records_dir: Path, logs_dir: Path, archive: Path) -> int:
    """Tar of every record (and run log) so far, written atomically; returns the record count."""
    buf = io.BytesIO()
    n = 0
    with tarfile.open(fileobj=buf, mode="w") as tar:
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


def check_copy(manifest: Mapping[str, Any], root: Path = ROOT) -> dict[str, Any]:
    """Check this copy of the tree against the manifest; tell provenance the outcome.

    Verified: records made in this process (and by workers given ``checked_commit(info)``)
    name the commit. Not verified (files differ, or the manifest came from a dirty checkout):
    they name no commit instead of whatever a stale ``.git`` in the copy says
    (:func:`helpers.runs.provenance.set_copy_check`). Returns what ``verification.json`` in the
    archive says (``collect`` reads it).
    """
    bad = verify_tree(root, manifest)
    info: dict[str, Any] = {"commit": manifest["commit"], "files": len(manifest["files"]),
                            "dirty_manifest": bool(manifest.get("dirty")),
                            "differs": bad[:20], "n_differs": len(bad)}
    info["verified"] = not info["dirty_manifest"] and not bad
    if info["dirty_manifest"]:
        print("the manifest was made from a checkout with changes: records name no commit",
              flush=True)
    elif bad:
        print(f"the tree differs from commit {manifest['commit'][:10]} in {len(bad)} files "
              f"(e.g. {bad[:3]}): records will name no commit", flush=True)
    else:
        print(f"tree verified: commit {manifest['commit'][:10]}, "
              f"{len(manifest['files'])} files", flush=True)
    set_copy_check(checked_commit(info))
    return info


def checked_commit(info: Mapping[str, Any]) -> str | None:
    """The commit of a passed ``check_copy`` (what workers' records name), else None."""
    return str(info["commit"]) if info.get("verified") else None


def _pool(workers: int) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=ctx, max_tasks_per_child=1)


def run_pool(fn: Callable[[Any], Any], items: Sequence[Any], workers: int, *,
             on_result: Callable[[Any, Any], None], stop_after: float | None = None,
             on_start: Callable[[Any], None] | None = None,
             log: Callable[[str], None] = print) -> int:
    """Call ``fn(item)`` for each item, each in a fresh spawned process, ``workers`` at a time.

    ``on_result(item, result)`` follows each call; a call that raised gives ``{"status":
    "worker died", "error": …}``. A worker killed outright (e.g. out of memory) breaks a
    ``ProcessPoolExecutor``: the calls in flight are reported as died and a new pool takes the
    items not yet started (a killed call is not retried: it would likely be killed again).
    No item starts after ``stop_after`` seconds. Returns the number of calls started.
    """
    t0 = time.monotonic()
    pending = list(items)
    futures: dict[Future, Any] = {}
    started = 0
    pool = _pool(workers)
    try:
        while pending or futures:
            while pending and len(futures) < workers:
                if stop_after is not None and time.monotonic() - t0 > stop_after:
                    log(f"--stop-after {stop_after:.0f} s: {len(pending)} runs not started")
                    pending = []
                    break
                item = pending.pop(0)
                futures[pool.submit(fn, item)] = item
                started += 1
                if on_start is not None:
                    on_start(item)
            if not futures:
                break
            finished, _ = wait(list(futures), return_when=FIRST_COMPLETED)
            broken = False
            for fut in finished:
                item = futures.pop(fut)
                try:
                    res = fut.result()
                except BrokenProcessPool as exc:
                    broken = True
                    res = {"status": "worker died", "error": repr(exc)[:300]}
                except Exception as exc:  # noqa: BLE001 - the call raised: say so, go on
                    res = {"status": "worker died", "error": repr(exc)[:300]}
                on_result(item, res)
            if broken:
                for item in futures.values():
                    on_result(item, {"status": "worker died", "error": "the pool broke"})
                futures.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                log("the process pool broke: a new one takes the runs not yet started")
                pool = _pool(workers)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return started


def cmd_run(args: argparse.Namespace) -> int:
    job_dir = Path(args.job)
    job = json.loads((job_dir / "runs.json").read_text())
    manifest = json.loads((job_dir / "manifest.json").read_text())
    verification = check_copy(manifest)
    device_env(os.environ, args.mem_fraction)
    out = Path(args.output_dir)
    records_dir, logs_dir = out / "records", out / "logs"
    records_dir.mkdir(parents=True, exist_ok=True)
    logs_dir.mkdir(parents=True, exist_ok=True)
    # The archive carries the check's outcome, so collect need not trust a separate log.
    atomic_write_json(logs_dir / VERIFICATION, verification)
    locations = {k: str(Path(getattr(args, k)).resolve()) for k in LOCATIONS
                 if getattr(args, k)}
    locations["output_dir"] = str(out.resolve())
    runs = [r for r in job["runs"] if not args.only or any(s in r["run_id"] for s in args.only)]
    archive = Path(args.archive) if args.archive else None
    t0 = time.monotonic()
    done = 0

    def report(spec: Mapping[str, Any], res: Mapping[str, Any]) -> None:
        nonlocal done
        done += 1
        res = {"run_id": spec["run_id"], **res}
        print(f"{time.monotonic() - t0:7.0f} s [{done}/{len(runs)}] {json.dumps(res)}",
              flush=True)
        if archive:
            write_archive(records_dir, logs_dir, archive)

    run_pool(partial(train_one, locations=locations, log_dir=str(logs_dir),
                     verified_commit=checked_commit(verification)), runs,
             args.workers, on_result=report, stop_after=args.stop_after,
             on_start=lambda spec: print(f"{time.monotonic() - t0:7.0f} s start "
                                         f"{spec['run_id']}", flush=True),
             log=lambda m: print(f"{time.monotonic() - t0:7.0f} s {m}", flush=True))
    if archive:
        n = write_archive(records_dir, logs_dir, archive)
        print(f"{n} records in {archive}", flush=True)
    return 0


# ---------------------------------------------------------------------------- collect
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
    """The JSON in one member; ValueError saying why it cannot be read."""
    try:
        fh = tar.extractfile(member)
        data = fh.read() if fh is not None else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValueError(f"cannot be read from the archive ({exc})") from exc
    try:
        return json.loads(data)
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
    other = json.loads(path.read_text())
    a, b = rec.get("provenance") or {}, other.get("provenance") or {}
    if not a.get("started_at"):
        return False
    return (a.get("started_at"), a.get("host")) == (b.get("started_at"), b.get("host"))


def replaceable(path: Path, params: Mapping[str, Any]) -> bool:
    """True when the record at ``path`` is a failed run or one of other params: a new ok run
    of the planned identity takes its place (it is not a second machine's twin)."""
    from helpers.runs import records

    old = json.loads(path.read_text())
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
    from helpers.runs import records

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
    from helpers.runs import records

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


def cmd_collect(args: argparse.Namespace) -> int:
    job = json.loads((Path(args.job) / "runs.json").read_text())
    planned = {r["run_id"]: r["params"] for r in job["runs"]}
    into = Path(args.into) / "records"
    dup_dir = Path(args.duplicates_dir) / "records" if args.duplicates_dir else None
    counts = {"filed": 0, "replaced": 0, "already filed": 0, "duplicate": 0, "failed": 0,
              "refused": 0, "bad": 0, "commit corrected": 0}
    bad: list[tuple[str, str]] = []  # (member, why): listed at the end, none of them filed
    with open_archive(args.archive) as tar:
        members = archive_members(tar, bad)
        verified = archive_verified_commit(tar, members, job["commit"], args.verified_log, bad)
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
            file_record(rec, planned[rec["run_id"]], into, dup_dir, counts)
    counts["bad"] = len(bad)
    for name, why in bad:
        print(f"NOT FILED {name}: {why}", file=sys.stderr)
    if bad:
        print(f"{len(bad)} archive members not filed (above; the others were): copy the "
              "archive again, or run those runs again", file=sys.stderr)
    print(json.dumps(counts))
    return 0 if counts["refused"] == 0 and not bad else 1


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="plan the missing runs and write the tree manifest")
    p.add_argument("config")
    p.add_argument("--only", action="append", default=[],
                   help="keep run ids containing this substring (repeatable: any of them)")
    p.add_argument("--output-dir", help="records folder to skip done runs from "
                   "(default: the config's output_dir)")
    p.add_argument("--rerun", action="append", default=[],
                   help="also plan done runs whose id contains this (repeatable)")
    p.add_argument("--seed0-first", action="store_true",
                   help="seed 0 of every cell first, then the other seeds")
    p.add_argument("--allow-dirty", action="store_true",
                   help="try it out from a checkout with changes (records name no commit)")
    p.add_argument("--to", required=True, help="folder for runs.json and manifest.json")
    p.set_defaults(fn=cmd_prepare)
    r = sub.add_parser("run", help="train the planned runs (on the device)")
    r.add_argument("job", help="folder with runs.json and manifest.json")
    r.add_argument("--output-dir", required=True, help="where records and run logs go")
    r.add_argument("--data-root")
    r.add_argument("--weights-dir")
    r.add_argument("--cache-dir")
    r.add_argument("--external-root", help="folder of class folders scored by runs with "
                   "external=<name> (e.g. PH2's images/)")
    r.add_argument("--external-masks", help="its lesion masks (e.g. PH2's masks/)")
    r.add_argument("--only", action="append", default=[],
                   help="run ids containing this substring (repeatable)")
    r.add_argument("--workers", type=int, default=1, help="runs in parallel (processes)")
    r.add_argument("--mem-fraction", type=float, default=0.08,
                   help="share of the GPU's memory each JAX process may take")
    r.add_argument("--archive", help="tar re-written with every finished record and log")
    r.add_argument("--stop-after", type=float, help="start no run after this many seconds")
    r.set_defaults(fn=cmd_run)
    c = sub.add_parser("collect", help="file the records of an archive (here)")
    c.add_argument("archive")
    c.add_argument("job", help="the folder prepare wrote (runs.json)")
    c.add_argument("--into", required=True, help="sweep results folder, e.g. results/paper")
    c.add_argument("--duplicates-dir",
                   help="where a record of a run already recorded here goes")
    c.add_argument("--verified-log",
                   help="for archives without logs/verification.json (made before it existed): "
                        "the run's log, whose 'tree verified: commit …' line lets records that "
                        "name another commit (a stale .git in the copy) name the verified one")
    c.set_defaults(fn=cmd_collect)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    raise SystemExit(main())
