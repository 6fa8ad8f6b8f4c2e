"""Where data, weights, caches and results live (every chapter).

Resolution order for each location: an explicit argument (CLI option or papermill parameter),
then an environment variable, then a per-user default under ``~/.cache/resbook``.
Library code never names a site-specific path; CI and developers set the variables.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA_DIR = "RESBOOK_DATA_DIR"
ENV_WEIGHTS_DIR = "RESBOOK_WEIGHTS_DIR"
ENV_CACHE_DIR = "RESBOOK_CACHE_DIR"
ENV_RESULTS_DIR = "RESBOOK_RESULTS_DIR"

_DEFAULT_BASE = Path("~/.cache/resbook")


BOOK_MARKERS: tuple[str, ...] = ("_toc.yml", "pyproject.toml")
"""Files that together mark the book's project root (the repository root)."""


def project_root(
    start: str | os.PathLike[str] | None = None, markers: tuple[str, ...] = BOOK_MARKERS
) -> Path | None:
    """The nearest folder at or above ``start`` (default: cwd) holding every file in ``markers``.

    The one root finder of the package: by default it looks for the book (``_toc.yml`` and
    ``pyproject.toml``); :func:`find_root` asks for ``pyproject.toml`` only.
    """
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if all((folder / m).is_file() for m in markers):
            return folder
    return None


def find_root(start: str | os.PathLike[str]) -> Path:
    """Nearest folder at or above ``start`` holding ``pyproject.toml``, else the cwd (sweeps)."""
    return project_root(start, ("pyproject.toml",)) or Path.cwd().resolve()


def _relative(path: Path) -> Path:
    """Resolve a relative path against the cwd, or against the project root when only it has it.

    Chapters are executed by papermill from the project root but re-executed by nbval from
    their own folder (``book/chapters``); a parameter such as ``results/paper`` means the same
    folder in both cases.
    """
    if path.is_absolute() or path.exists():
        return path.resolve()
    root = project_root()
    if root is not None and (root / path).exists():
        return (root / path).resolve()
    return path.resolve()


def _resolve(explicit: str | os.PathLike[str] | None, env: str, default: Path) -> Path:
    if explicit not in (None, ""):
        return _relative(Path(explicit).expanduser())
    value = os.environ.get(env, "").strip()
    if value:
        return Path(value).expanduser().resolve()
    return default.expanduser().resolve()


def data_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Root folder holding one sub-folder per dataset (data chapter and every run)."""
    return _resolve(explicit, ENV_DATA_DIR, _DEFAULT_BASE / "data")


def weights_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Folder of local ImageNet weight files, or None when none is configured (training chapter)."""
    if explicit not in (None, ""):
        return Path(explicit).expanduser().resolve()
    value = os.environ.get(ENV_WEIGHTS_DIR, "").strip()
    return Path(value).expanduser().resolve() if value else None


def cache_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Folder for decoded image arrays and cached base features (data and training chapters)."""
    return _resolve(explicit, ENV_CACHE_DIR, _DEFAULT_BASE / "cache")


def results_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Folder where sweeps write run records (training and results chapters)."""
    return _resolve(explicit, ENV_RESULTS_DIR, Path("results"))
