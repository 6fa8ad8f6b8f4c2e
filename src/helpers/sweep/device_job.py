"""The GPU path's job: which runs a device makes, and the code tree it makes them with (bf16-parity appendix).

A device job is a folder of two files, written here by ``scripts/device_sweep.py prepare``:

- ``runs.json``: the config, the results folder, the commit and the planned runs
  (``{"run_id", "params"}`` each, in run order). :func:`plan_runs` plans them with the sweep's
  own steps 1 and 2 (:func:`~helpers.sweep.plan.plan_sweep`,
  :func:`~helpers.sweep.skip.skip_finished`): the same config file, the same run ids and the
  same skip rule as ``python -m helpers sweep``, not an expansion of its own;
- ``manifest.json``: HEAD and the git blob id of every tracked file (:func:`tree_manifest`).

On the device, :func:`check_copy` checks its copy of the tree against the manifest file by file
(:func:`verify_tree`); only a copy that passes makes records that name the commit
(:func:`helpers.runs.provenance.set_copy_check`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers.files import atomic_write_json
from helpers.runs.provenance import set_copy_check
from helpers.runs.records import read_json
from helpers.sweep.config import load_config
from helpers.sweep.plan import plan_sweep
from helpers.sweep.skip import skip_finished

LOCATIONS = ("data_root", "weights_dir", "cache_dir", "external_root", "external_masks")
"""The input folders of a run: options of ``prepare`` (for the skip rule) and ``run``."""
EXTERNAL_ELSEWHERE = ".device-sweep/external-root-not-given"
"""``external_root`` of a plan made without one (the device has the folder, this machine not):
a folder that does not exist, so the skip rule leaves the external set unchecked, as the sweep
does with an external folder it cannot read (the data fingerprint is still compared)."""


# ---------------------------------------------------------------------------- the plan
def plan_runs(config: Mapping[str, Any] | str | os.PathLike[str], only: Sequence[str] = (),
              output_dir: str | os.PathLike[str] | None = None, seed0_first: bool = False,
              rerun: Sequence[str] = (), *, root: str | os.PathLike[str] | None = None,
              locations: Mapping[str, Any] | None = None,
              say: Callable[[str], None] = print) -> tuple[list[dict[str, Any]], Path]:
    """The sweep's planned runs that are not skipped, as ``{"run_id", "params"}``, and its folder.

    Planned and skipped as ``python -m helpers sweep`` plans and skips them
    (:func:`~helpers.sweep.plan.plan_sweep`, then :func:`~helpers.sweep.skip.skip_finished`:
    a valid ok record, made with today's inputs, is skipped; a run another live sweep holds is
    not planned). ``locations``: the input folders the skip rule compares a record's inputs
    with (else ``RESBOOK_*``, as the sweep). Then filtered by any of ``only`` (substrings of the
    run id); runs skipped for an ok record whose id contains one of ``rerun`` are planned too
    (the same cell on another machine: ``collect`` files their records apart). ``seed0_first``:
    seed 0 of every cell first, then the other seeds, each in the config's order.

    Cleanliness of the checkout is not checked here: the manifest does that (every tracked
    file, :func:`tree_manifest`).
    """
    cfg = load_config(config) if isinstance(config, str | os.PathLike) else dict(config)
    given = {k: v for k, v in (locations or {}).items() if k in LOCATIONS and v}
    if not given.get("external_root") and not given.get("external_masks") \
            and _scores_external(cfg):
        given["external_root"] = EXTERNAL_ELSEWHERE  # read by the skip rule only: unreadable
    plan = plan_sweep(cfg, root=root, output_dir=output_dir, allow_dirty=True, **given)
    todo, summary = skip_finished(plan, say)
    to_run = {spec["run_id"] for spec, _row in todo}
    skipped = {row["run_id"] for row in summary.runs if row["status"] == "skipped"}
    planned = [
        {"run_id": spec["run_id"], "params": dict(spec["params"])} for spec in plan.runs
        if (spec["run_id"] in to_run
            or (spec["run_id"] in skipped and any(s in spec["run_id"] for s in rerun)))
        and (not only or any(s in spec["run_id"] for s in only))]
    if seed0_first:
        planned.sort(key=lambda r: r["params"].get("seed", 0) != 0)  # stable: config order
    return planned, plan.out


def _scores_external(cfg: Mapping[str, Any]) -> bool:
    """True when a block of the config sets ``external`` (runs that score an external set)."""
    for block in [cfg, *(cfg.get("include") or [])]:
        if not isinstance(block, Mapping):
            continue
        fixed, grid = block.get("fixed") or {}, block.get("grid") or {}
        values = grid.get("external") if isinstance(grid, Mapping) else None
        if (isinstance(fixed, Mapping) and fixed.get("external")) or (
                any(values) if isinstance(values, list) else bool(values)):
            return True
    return False


def prepare_job(config: str, to: str | os.PathLike[str], *, root: Path,
                only: Sequence[str] = (), output_dir: str | None = None,
                rerun: Sequence[str] = (), seed0_first: bool = False,
                allow_dirty: bool = False, locations: Mapping[str, Any] | None = None,
                leave_out: Sequence[str] = ()) -> int:
    """``prepare``: write ``runs.json`` and ``manifest.json`` of ``root``'s checkout into ``to``.

    Refuses (SystemExit) a checkout with uncommitted changes unless ``allow_dirty``.
    ``leave_out``: top folders the manifest does not list (:func:`tree_manifest`).
    """
    manifest = tree_manifest(root, allow_dirty=allow_dirty, leave_out=leave_out)
    runs, out = plan_runs(config, only, output_dir, seed0_first, rerun, locations=locations)
    folder = Path(to)
    folder.mkdir(parents=True, exist_ok=True)
    job = {"config": config, "output_dir": os.path.relpath(out, root),
           "commit": manifest["commit"], "runs": runs}
    atomic_write_json(folder / "runs.json", job)
    atomic_write_json(folder / "manifest.json", manifest, indent=None)
    print(f"{len(runs)} runs planned (commit {manifest['commit'][:10]}, "
          f"{len(manifest['files'])} tracked files) -> {folder}")
    for r in runs:
        print("  ", r["run_id"])
    return 0


def read_job(job_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """A job folder's ``runs.json`` (what :func:`prepare_job` planned)."""
    return read_json(Path(job_dir) / "runs.json")


def read_manifest(job_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """A job folder's ``manifest.json`` (:func:`tree_manifest` of the checkout it came from)."""
    return read_json(Path(job_dir) / "manifest.json")


# ---------------------------------------------------------------------------- the tree
def git_blob_id(data: bytes) -> str:
    """git's object id of a file's content (``git hash-object``): sha1 of 'blob <n>\\0' + data."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's id


def tree_manifest(root: Path, *, allow_dirty: bool = False,
                  leave_out: Sequence[str] = ()) -> dict[str, Any]:
    """HEAD and {path: blob id} of every tracked file; refuses a checkout with changes.

    With ``allow_dirty`` (trying the script out) the manifest says ``dirty`` and the device's
    records then name no commit. ``leave_out``: top folders (e.g. ``results``, ``book``) the
    manifest does not list, for a copy that travels without them
    (:func:`helpers.sweep.device_travel.slim`); the device then verifies the code it runs, and
    the manifest says what it left out.
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
        if mode != "160000" and path.split("/", 1)[0] not in leave_out:  # no submodules
            files[path] = blob
    return {"commit": git("rev-parse", "HEAD").strip(), "dirty": dirty, "files": files,
            "left_out": sorted(leave_out)}


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


def check_copy(manifest: Mapping[str, Any], root: Path) -> dict[str, Any]:
    """Check the copy of the tree at ``root`` against the manifest; tell provenance the outcome.

    Verified: records made in this process (and by workers given ``checked_commit(info)``)
    name the commit. Not verified (files differ, or the manifest came from a dirty checkout):
    they name no commit instead of whatever a stale ``.git`` in the copy says
    (:func:`helpers.runs.provenance.set_copy_check`). Returns what ``verification.json`` in the
    archive says (``collect`` reads it).
    """
    bad = verify_tree(root, manifest)
    info: dict[str, Any] = {"commit": manifest["commit"], "files": len(manifest["files"]),
                            "left_out": list(manifest.get("left_out", [])),
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
        left = ", ".join(f"{d}/" for d in manifest.get("left_out", []))
        print(f"tree verified: commit {manifest['commit'][:10]}, {len(manifest['files'])} files"
              + (f" ({left} left out: a training run reads none of it)" if left else ""),
              flush=True)
    set_copy_check(checked_commit(info))
    return info


def checked_commit(info: Mapping[str, Any]) -> str | None:
    """The commit of a passed :func:`check_copy` (what workers' records name), else None."""
    return str(info["commit"]) if info.get("verified") else None
