"""Step 1 of a sweep: its config → the planned runs, each with its id, checked up front (training chapter).

:func:`plan_sweep` reads the config, expands it into runs (:func:`~helpers.sweep.config.expand`:
a parameter the config leaves out takes :class:`~helpers.training.params.TrainParams`' default),
and checks, before anything is read from the results folder or written: the git checkout of the
notebook is clean (or ``allow_dirty``), the locations are given where the runs need them (an
external set needs ``external_root``; ``external_masks`` needs it too), and the notebook's
``parameters`` cell names every parameter papermill will inject (a typo would otherwise be
injected and ignored). The result, a :class:`SweepPlan`, holds one run spec per run: the plain,
picklable dict an executor passes to :func:`~helpers.sweep.execute.execute_run`.

Only the *names* of the notebook's ``parameters`` cell are read, never its values: a run is told
every identity parameter the notebook names, so the cell's defaults never decide a sweep's run.
That includes a parameter left out of the run id at its default
(:data:`~helpers.runs.records.OMITTED_AT_DEFAULT`, e.g. ``geometry="squash"``): the spec's
``defaults`` carry it. A notebook that lacks such a parameter (one older than it) is not refused:
it runs what every run did before that parameter existed.

Step 2, which planned runs are skipped, is :mod:`helpers.sweep.skip`; step 3, driving the rest,
is :mod:`helpers.sweep.runner`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers import config as hconfig
from helpers.nbparams import parameter_names, unknown_message
from helpers.runs.provenance import git_diff_sha256, git_state
from helpers.runs.records import OMITTED_AT_DEFAULT, record_path, run_id, utc_now
from helpers.sweep.config import (
    SweepConfigError,
    _rel,
    _resolve,
    _where,
    expand,
    load_config,
    train_defaults,
)
from helpers.sweep.execute import KERNEL_NAME
from helpers.sweep.inputs import InputCheck

_INPUTS = ("data_root", "weights_dir", "cache_dir", "external_root", "external_masks")
"""The locations a run reads, in :class:`~helpers.sweep.inputs.InputCheck`'s argument order."""


@dataclass
class SweepPlan:
    """A sweep config made concrete: where it runs, what every run gets, the runs (training chapter)."""

    cfg: dict[str, Any]  # the config as loaded (``_root``, ``_source`` included)
    root: Path  # the repository root: relative paths in the config and the runs start here
    name: str
    notebook: Path
    out: Path  # the results folder: records/, notebooks/, logs/, locks/ and sweep.json
    locations: dict[str, str]  # passed to every run, relative to ``root``
    options: dict[str, Any]  # run options outside the identity (``save_model``)
    check: InputCheck  # the input folders the runs read
    runs: list[dict[str, Any]] = field(default_factory=list)  # one run spec per run, in order
    dirty_note: str | None = None  # the warning for a dirty checkout under ``allow_dirty``
    started_at: str = field(default_factory=utc_now)


def _check_clean(nb_path: Path, *, allow_dirty: bool) -> str | None:
    """Refuse a dirty checkout of the notebook's repository; with ``allow_dirty`` a note."""
    commit, dirty = git_state(nb_path.parent)
    if commit is None or not dirty:
        return None  # clean, or no git checkout (e.g. a notebook in a temporary folder)
    if not allow_dirty:
        raise SweepConfigError(
            f"the git checkout holding {nb_path.name} has uncommitted changes: records would "
            "not say which code made them. Commit (or stash) them, or pass --allow-dirty "
            "(each record then stores provenance.git_diff_sha256, a hash of the diff)"
        )
    return (f"warning: running from a dirty checkout (commit {commit[:10]}, diff sha256 "
            f"{(git_diff_sha256(nb_path.parent) or '?')[:12]}); --allow-dirty")


def _locations(out: Path, root: Path, given: Mapping[str, Any]) -> dict[str, str]:
    """``output_dir`` and each input location, given or from ``RESBOOK_*``, relative to ``root``."""
    locations: dict[str, str] = {"output_dir": _rel(out, root)}
    for key, env in (
        ("data_root", hconfig.ENV_DATA_DIR),
        ("weights_dir", hconfig.ENV_WEIGHTS_DIR),
        ("cache_dir", hconfig.ENV_CACHE_DIR),
        ("external_root", None),  # runs with external=<name> score it
        ("external_masks", None),  # ... and its images cropped to the lesion
    ):
        value = given.get(key) or (os.environ.get(env, "").strip() if env else None) or None
        if value:
            locations[key] = _rel(Path(value).expanduser().resolve(), root)
    return locations


def plan_sweep(
    config: Mapping[str, Any] | str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    data_root: str | os.PathLike[str] | None = None,
    weights_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    external_root: str | os.PathLike[str] | None = None,
    external_masks: str | os.PathLike[str] | None = None,
    validator: Callable[[dict[str, Any]], Any] | None | str = "default",
    allow_dirty: bool = False,
    save_models: bool = False,
) -> SweepPlan:
    """Every run of a sweep config as a run spec with its id; SweepConfigError if any is wrong.

    Reads the config and the notebook's parameter *names*; writes nothing and opens no record.
    The arguments are :func:`~helpers.sweep.runner.run_sweep`'s (training chapter).
    """
    cfg = load_config(config) if isinstance(config, str | os.PathLike) else dict(config)
    root_p = Path(root or cfg.get("_root") or Path.cwd()).resolve()
    cfg.setdefault("_root", str(root_p))
    name = str(cfg.get("name") or "sweep")
    if not cfg.get("notebook"):
        raise SweepConfigError(f"{_where(cfg)}: 'notebook' is missing (e.g. notebooks/03_train.py)")
    nb_path = _resolve(root_p, cfg["notebook"])
    out = (
        _resolve(root_p, output_dir)
        if output_dir
        else _resolve(root_p, cfg["output_dir"])
        if cfg.get("output_dir")
        else hconfig.results_dir() / name
    )
    runs = expand(cfg, validator=validator)
    dirty_note = _check_clean(nb_path, allow_dirty=allow_dirty)

    locations = _locations(out, root_p, {
        "data_root": data_root, "weights_dir": weights_dir, "cache_dir": cache_dir,
        "external_root": external_root, "external_masks": external_masks})
    if "external_root" not in locations and any(p.get("external") for p in runs):
        raise SweepConfigError(f"{_where(cfg)}: runs set external=<name>: pass the folder to "
                               "score with --external-root PATH")
    if "external_masks" in locations and "external_root" not in locations:
        raise SweepConfigError("--external-masks belongs to an external set: pass its folder "
                               "with --external-root PATH too")
    options = {"save_model": True} if save_models else {}
    # papermill injects any name it is given: refuse one the notebook does not define
    names = parameter_names(nb_path)
    unknown = ({k for params in runs for k in params} | set(locations) | set(options)) - set(names)
    if unknown:
        raise SweepConfigError(unknown_message(
            unknown, names, f"{_where(cfg)} (notebook {_rel(nb_path, root_p)})"))
    # a parameter left out of a run's id at its default is still told to a notebook naming it
    told = {k: v for k, v in train_defaults().items() if k in OMITTED_AT_DEFAULT and k in names}

    check = InputCheck(*(
        (_resolve(root_p, locations[k]) if k in locations else None) for k in _INPUTS))
    plan = SweepPlan(cfg=cfg, root=root_p, name=name, notebook=nb_path, out=out,
                     locations=locations, options=options, check=check, dirty_note=dirty_note)
    base = {"locations": locations, "options": options, "notebook": str(nb_path),
            "cwd": str(root_p), "kernel_name": KERNEL_NAME}
    for params in runs:
        rid = run_id(params)
        plan.runs.append({"run_id": rid, "params": params, **base,
                          "defaults": {k: v for k, v in told.items() if k not in params},
                          "notebook_out": str(out / "notebooks" / f"{rid}.ipynb"),
                          "record": str(record_path(out, rid))})
    return plan
