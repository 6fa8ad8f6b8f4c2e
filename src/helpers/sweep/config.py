"""Sweep configs: a YAML grid → the list of runs, each as canonical identity params (training chapter).

Config format (see ``configs/paper.yaml`` for a commented example)::

    name: paper                          # used in messages; default output folder results/<name>
    notebook: notebooks/03_train.py      # jupytext py:percent notebook, run with papermill
    output_dir: results/paper            # records/, notebooks/, logs/ and sweep.json below it
    grid:                                # cartesian product of these lists
      dataset: [isic2017]
      model: [mobilenet, resnet50]
      resolution: [64, 128, 224, 256]
      seed: [0, 1, 2]
    fixed: {epochs: 30, batch_size: 32, lr: 0.001, weights: imagenet}
    include:                             # optional extra blocks, each run in addition
      - grid: {regime: [full], resolution: [64, 128]}   # overrides/extends the top-level grid
        fixed: {epochs: 10}                             # overrides the top-level fixed values
    validate: true                       # check every run with helpers.training.validate_params

Rules. Relative paths (``notebook``, ``output_dir``) are relative to the repository root: the
nearest folder above the config file holding ``pyproject.toml`` (else the current folder). A key
may not be both in ``grid`` and ``fixed`` of one block. An ``include`` block starts from the
top-level grid and fixed values; a key it names in ``grid`` or ``fixed`` replaces the top-level
one. Parameters the config does not set take their default from
:class:`helpers.training.params.TrainParams`, the one source of a training run's defaults (the
training notebook's ``parameters`` cell repeats them, and ``tests/test_training_params.py`` keeps
the two equal); the sweep reads only the *names* in a notebook's ``parameters`` cell, to refuse a
parameter it does not define (:mod:`helpers.sweep.plan`). Runs that come out identical in two
blocks are run once. Locations (``data_root``, ``weights_dir``, ``cache_dir``) are *not* config
keys: they come from CLI options or the ``RESBOOK_*`` environment variables, are passed to the
notebook as paths relative to the repository root, and never enter a run's identity
(:mod:`helpers.runs.records`).

This module imports neither Keras nor TensorFlow: the training validator
(``helpers.training.validate_params``) and the defaults (:func:`train_defaults`) are imported only
when :func:`expand` needs them (``helpers.training.params`` is light, but the package's first
import stays cheap).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from helpers import config as hconfig
from helpers.runs.records import IDENTITY_KEYS, LOCATION_KEYS, OPTION_KEYS, canonical_params, run_id
from helpers.yamlfile import DuplicateKeyError, load_yaml

CONFIG_KEYS = {"name", "notebook", "output_dir", "grid", "fixed", "include", "validate"}
BLOCK_KEYS = {"grid", "fixed"}


class SweepConfigError(ValueError):
    """A sweep config that cannot be expanded; the message names the file and the fix."""


find_root = hconfig.find_root  # the package's one root finder (pyproject.toml, else cwd)


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a sweep YAML; adds ``_source`` and ``_root`` (repository root) keys (training chapter)."""
    path = Path(path)
    if not path.is_file():
        raise SweepConfigError(f"sweep config {path} does not exist")
    try:
        cfg = load_yaml(path)
    except DuplicateKeyError as exc:
        raise SweepConfigError(str(exc)) from exc
    except yaml.YAMLError as exc:
        raise SweepConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(cfg, dict):
        raise SweepConfigError(f"{path}: expected a mapping with name/notebook/grid/fixed keys")
    cfg["_source"] = str(path)
    cfg["_root"] = str(find_root(path.parent))
    return cfg


def _where(cfg: Mapping[str, Any]) -> str:
    return str(cfg.get("_source", "sweep config"))


def _as_list(key: str, value: Any, where: str) -> list[Any]:
    if isinstance(value, list):
        if not value:
            raise SweepConfigError(f"{where}: grid key {key!r} has an empty list; give values")
        return value
    if isinstance(value, dict):
        raise SweepConfigError(f"{where}: grid key {key!r} must be a list, not a mapping")
    return [value]


def _check_keys(keys: Sequence[str], where: str, block: str) -> None:
    for k in keys:
        if k in LOCATION_KEYS:
            raise SweepConfigError(
                f"{where}: {block} sets {k!r}, a location; pass it with --{k.replace('_', '-')}"
                " or the RESBOOK_* environment variables instead (locations are not run params)"
            )
        if k in OPTION_KEYS:
            raise SweepConfigError(
                f"{where}: {block} sets {k!r}, a run option outside the run's identity; pass "
                f"--{k.replace('_', '-')}s to `python -m helpers sweep` instead"
            )


def _blocks(cfg: Mapping[str, Any]) -> list[tuple[dict[str, list[Any]], dict[str, Any]]]:
    where = _where(cfg)
    unknown = set(cfg) - CONFIG_KEYS - {"_source", "_root"}
    if unknown:
        raise SweepConfigError(
            f"{where}: unknown top-level keys {sorted(unknown)}; allowed: {sorted(CONFIG_KEYS)}"
        )
    grid_raw = cfg.get("grid") or {}
    fixed = dict(cfg.get("fixed") or {})
    if not isinstance(grid_raw, dict) or not isinstance(fixed, dict):
        raise SweepConfigError(f"{where}: 'grid' and 'fixed' must be mappings of param: value(s)")
    grid = {k: _as_list(k, v, where) for k, v in grid_raw.items()}
    both = set(grid) & set(fixed)
    if both:
        raise SweepConfigError(f"{where}: {sorted(both)} appear in both 'grid' and 'fixed'")
    _check_keys([*grid, *fixed], where, "the top level")
    blocks = [(grid, fixed)] if grid or fixed else []
    include = cfg.get("include") or []
    if not isinstance(include, list):
        raise SweepConfigError(f"{where}: 'include' must be a list of {{grid, fixed}} blocks")
    for i, blk in enumerate(include):
        if not isinstance(blk, dict) or set(blk) - BLOCK_KEYS:
            raise SweepConfigError(
                f"{where}: include[{i}] must be a mapping with only 'grid' and/or 'fixed'"
            )
        g_over = {k: _as_list(k, v, where) for k, v in (blk.get("grid") or {}).items()}
        f_over = dict(blk.get("fixed") or {})
        both = set(g_over) & set(f_over)
        if both:
            raise SweepConfigError(f"{where}: include[{i}] has {sorted(both)} in grid and fixed")
        _check_keys([*g_over, *f_over], where, f"include[{i}]")
        g = {k: v for k, v in grid.items() if k not in f_over} | g_over
        f = {k: v for k, v in fixed.items() if k not in g_over} | f_over
        blocks.append((g, f))
    if not blocks:
        raise SweepConfigError(f"{where}: no 'grid', 'fixed' or 'include': nothing to run")
    return blocks


def train_defaults() -> dict[str, Any]:
    """Every training parameter's default, :class:`~helpers.training.params.TrainParams`' (training chapter).

    The one source of a run's defaults: a sweep fills the parameters its config leaves out from
    here, whatever the values in its notebook's ``parameters`` cell.
    """
    from helpers.training.params import default_params

    return default_params()


def default_validator() -> Callable[[dict[str, Any]], Any] | None:
    """``helpers.training.validate_params`` when that module imports, else None (training chapter)."""
    try:
        from helpers.training import validate_params
    except ImportError:
        return None
    return validate_params


def _resolve(root: Path, p: str | os.PathLike[str]) -> Path:
    q = Path(p).expanduser()
    return (q if q.is_absolute() else root / q).resolve()


def _rel(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (with ``..`` if need be); absolute only across drives."""
    try:
        return os.path.relpath(path, root)
    except ValueError:  # another drive on Windows
        return str(path)


def expand(
    config: Mapping[str, Any],
    *,
    validator: Callable[[dict[str, Any]], Any] | None | str = "default",
    defaults: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every run of a sweep config as canonical identity params, validated (training chapter).

    ``validator="default"`` uses :func:`default_validator` unless the config says
    ``validate: false``; ``defaults`` (else :func:`train_defaults`, and the config's notebook
    must exist) fill unset params.
    """
    where = _where(config)
    blocks = _blocks(config)
    if defaults is None:
        nb = config.get("notebook")
        root = Path(config.get("_root") or Path.cwd())
        if nb and not _resolve(root, nb).is_file():
            raise SweepConfigError(f"{where}: notebook {nb} not found (under {root.name}/)")
        defaults = train_defaults()
    base = {k: v for k, v in defaults.items() if k in IDENTITY_KEYS}
    if validator == "default":
        validator = default_validator() if config.get("validate", True) else None
    runs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for grid, fixed in blocks:
        keys = list(grid)
        for combo in itertools.product(*(grid[k] for k in keys)):
            raw = {**base, **fixed, **dict(zip(keys, combo, strict=True))}
            if validator is None:
                unknown = sorted(set(raw) - set(IDENTITY_KEYS))
                if unknown:
                    raise SweepConfigError(
                        f"{where}: unknown parameter(s) {unknown}; known: {list(IDENTITY_KEYS)}"
                    )
                params = canonical_params(raw)
            else:
                try:
                    params = canonical_params(validator(dict(raw)))
                except Exception as exc:  # the validator's own message says what is wrong
                    raise SweepConfigError(
                        f"{where}: invalid run {canonical_params(raw)}: {exc}"
                    ) from exc
            if params.get("weights") not in (None, "imagenet"):
                raise SweepConfigError(
                    f"{where}: weights={raw.get('weights')!r}: a sweep takes weights 'imagenet' "
                    "or null; put local ImageNet files in --weights-dir / $RESBOOK_WEIGHTS_DIR"
                )
            try:
                rid = run_id(params)
            except KeyError as exc:
                raise SweepConfigError(
                    f"{where}: {exc.args[0]}; set them in grid or fixed"
                ) from exc
            if rid not in seen:
                seen.add(rid)
                runs.append(params)
    return runs
