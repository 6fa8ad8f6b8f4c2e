"""The chapter registry and the execution of chapters (every chapter; CONTRIBUTING.md).

``configs/book.yaml`` is the one list of the book's pages. Each part has a caption and a list
of entries; an entry is either a prose page (``page: book/data``) or an executed chapter::

    - notebook: notebooks/01_data.py        # jupytext source
      output: book/chapters/01_data.ipynb   # executed copy that Jupyter Book renders
      parameters: {dataset: isic2017}       # papermill parameters
      nbval: strict                         # strict: every output checked; lax: marked cells

From it :func:`toc_yaml` writes ``_toc.yml``, :func:`nbval_outputs` gives the Makefile its
strict/lax lists, and :func:`execute_chapters` runs the chapters (``make notebooks``).

An executed chapter is reproducible as a file: cell ids are derived from the source cells,
papermill's timing metadata is removed, and the chapter stores a hash of its inputs (its
source, parameters, the ``helpers`` package and any repository file or folder named by a
parameter, e.g. the records folder). ``make notebooks`` re-executes a chapter only when that
hash changed (like Jupyter Book's own execution cache), so running it twice on an unchanged
tree leaves ``git status`` clean; ``--force`` re-executes everything.

A chapter run never replaces the book's chapter unless it finished: papermill writes a hidden
file beside the output, which replaces the chapter atomically after normalisation. A run that
raises keeps its notebook under ``_build/failed/`` (named in the error), and one that is killed
leaves only the hidden file, removed by the next ``make notebooks``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.yamlfile import load_yaml

NBVAL_MODES = ("strict", "lax")
INPUTS_KEY = "resbook_inputs_sha256"
_PAPERMILL_KEEP = ("parameters", "input_path", "output_path", "version")


@dataclass(frozen=True)
class Chapter:
    """One notebook source, its executed output, its papermill parameters and nbval mode."""

    notebook: Path
    output: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    nbval: str = "strict"


@dataclass(frozen=True)
class Part:
    """A captioned group of entries: prose pages (``Path`` to .md, no suffix) and chapters."""

    caption: str
    entries: tuple[Path | Chapter, ...]


@dataclass(frozen=True)
class Registry:
    """The whole book: its root page and its parts, in reading order."""

    root: str
    parts: tuple[Part, ...]

    @property
    def chapters(self) -> list[Chapter]:
        return [e for part in self.parts for e in part.entries if isinstance(e, Chapter)]


def _chapter(entry: dict[str, Any], where: str) -> Chapter:
    missing = {"notebook", "output"} - set(entry)
    if missing:
        raise ValueError(f"{where} lacks {sorted(missing)}")
    unknown = set(entry) - {"notebook", "output", "parameters", "nbval"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; "
                         "allowed: notebook, output, parameters, nbval")
    params = entry.get("parameters") or {}
    if not isinstance(params, dict):
        raise ValueError(f"{where}: 'parameters' must be a mapping")
    mode = entry.get("nbval", "strict")
    if mode not in NBVAL_MODES:
        raise ValueError(f"{where}: nbval={mode!r}; expected one of {list(NBVAL_MODES)}")
    return Chapter(Path(entry["notebook"]), Path(entry["output"]), params, mode)


def load_registry(config_path: str | os.PathLike[str]) -> Registry:
    """Read ``configs/book.yaml``; ValueError names the entry that is wrong."""
    path = Path(config_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such chapter list (expected e.g. configs/book.yaml)")
    raw = load_yaml(path) or {}  # a key given twice is an error (helpers.yamlfile)
    parts_raw = raw.get("parts")
    if not isinstance(parts_raw, list) or not parts_raw:
        raise ValueError(f"{path}: expected a non-empty list under 'parts:'")
    parts = []
    for i, part in enumerate(parts_raw):
        if not isinstance(part, dict) or not part.get("caption") or not part.get("chapters"):
            raise ValueError(f"{path}: part {i} needs a 'caption' and a list of 'chapters'")
        entries: list[Path | Chapter] = []
        for j, entry in enumerate(part["chapters"]):
            where = f"{path}: part {i} ({part['caption']}), entry {j}"
            if isinstance(entry, dict) and set(entry) == {"page"}:
                entries.append(Path(entry["page"]))
            elif isinstance(entry, dict):
                entries.append(_chapter(entry, where))
            else:
                raise ValueError(f"{where}: expected a mapping with 'page' or 'notebook'")
        parts.append(Part(str(part["caption"]), tuple(entries)))
    return Registry(str(raw.get("root", "book/intro")), tuple(parts))


def load_chapters(config_path: str | os.PathLike[str]) -> list[Chapter]:
    """The executed chapters of the registry, in reading order (``make book``)."""
    return load_registry(config_path).chapters


def nbval_outputs(config_path: str | os.PathLike[str], mode: str) -> list[str]:
    """Executed chapter files checked with nbval in ``mode`` (strict or lax) (``make test``)."""
    if mode not in NBVAL_MODES:
        raise ValueError(f"mode={mode!r}; expected one of {list(NBVAL_MODES)}")
    return [str(c.output) for c in load_chapters(config_path) if c.nbval == mode]


def toc_yaml(config_path: str | os.PathLike[str]) -> str:
    """The text of ``_toc.yml`` (Jupyter Book 1.x) generated from the registry."""
    reg = load_registry(config_path)
    lines = [
        "# GENERATED from the chapter registry (configs/book.yaml) by `make toc`: "
        "edit the registry, not this file.",
        "format: jb-book",
        f"root: {reg.root}",
        "parts:",
    ]
    for part in reg.parts:
        # every part numbers its pages, so the reader sees "1.", "2." ... in the table of contents
        lines += [f"  - caption: {json.dumps(part.caption, ensure_ascii=False)}",
                  "    numbered: true", "    chapters:"]
        for e in part.entries:
            target = e.output.with_suffix("") if isinstance(e, Chapter) else e
            lines.append(f"      - file: {target.as_posix()}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------- reproducible files
def _hash_path(h: Any, path: Path, base: Path) -> None:
    """Add every file under ``path`` (names relative to ``base``, so any clone agrees)."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        rel = f.relative_to(base)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        h.update(rel.as_posix().encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())


def inputs_hash(chapter: Chapter, root: Path, extra: Iterable[Path] = ()) -> str:
    """sha256 over what decides a chapter's outputs: source, parameters, helpers, named files.

    Data and weights outside the repository are not hashed (their fingerprints are in the run
    records); ``--force`` re-executes after they change.
    """
    h = hashlib.sha256()
    h.update(json.dumps(chapter.parameters, sort_keys=True, default=str).encode())
    _hash_path(h, root / chapter.notebook, root)
    for value in chapter.parameters.values():
        if isinstance(value, str) and value and (root / value).exists():
            _hash_path(h, root / value, root)
    for path in extra:
        _hash_path(h, path, path.parent)
    return h.hexdigest()


def stable_cell_ids(nb: dict[str, Any]) -> None:
    """Cell ids derived from each cell's type and source (unique; unchanged by re-execution)."""
    seen: dict[str, int] = {}
    for cell in nb.get("cells", []):
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        base = hashlib.sha1(f"{cell.get('cell_type')}\n{src}".encode()).hexdigest()[:10]
        n = seen.get(base, 0)
        seen[base] = n + 1
        cell["id"] = base if n == 0 else f"{base}-{n}"


def normalise_notebook(nb: dict[str, Any], chapter: Chapter, digest: str | None = None) -> None:
    """Remove what churns between executions (timings, absolute paths); set stable cell ids."""
    meta = nb.setdefault("metadata", {})
    pm_meta = meta.get("papermill") or {}
    pm_meta = {k: v for k, v in pm_meta.items() if k in _PAPERMILL_KEEP}
    pm_meta["input_path"] = chapter.notebook.as_posix()
    pm_meta["output_path"] = chapter.output.as_posix()
    meta["papermill"] = pm_meta
    if digest is not None:
        meta[INPUTS_KEY] = digest
    for cell in nb.get("cells", []):
        cmeta = cell.get("metadata", {})
        cmeta.pop("papermill", None)
        cmeta.pop("execution", None)
        # execution counts stay: they are deterministic (1, 2, … in order), and nbval takes a
        # cell without one for an unrun cell
        hide_parameter_cell(cmeta)
    stable_cell_ids(nb)


PARAMETER_TAGS = ("parameters", "injected-parameters")
"""Tags of the notebook's defaults cell and of the cell papermill adds after it."""


def hide_parameter_cell(cell_metadata: dict[str, Any]) -> None:
    """Tag a parameters cell ``remove-cell``: the page names its parameters in prose instead.

    The defaults and the values papermill injected stand one above the other at the top of a
    chapter and may disagree (``task = None``, then ``task = "melanoma"``); a reader of the
    page learns the parameters from the chapter's header and its "Run it yourself" box, while
    the notebook itself (Binder, Colab, papermill) keeps both cells.
    """
    tags = cell_metadata.get("tags") or []
    if any(t in tags for t in PARAMETER_TAGS) and "remove-cell" not in tags:
        cell_metadata["tags"] = [*tags, "remove-cell"]


def helpers_dir() -> Path:
    """The installed ``helpers`` package folder (its code is an input of every chapter)."""
    return Path(__file__).resolve().parents[1]  # src/helpers/build/book.py → src/helpers


def check_chapter_parameters(chapter: Chapter, root: Path) -> None:
    """UnknownParameterError (a ValueError) for a registry parameter the notebook lacks."""
    from helpers.nbparams import check_parameters

    check_parameters(chapter.parameters, root / chapter.notebook,
                     f"configs/book.yaml, {chapter.notebook}")


FAILED_DIR = Path("_build") / "failed"
"""Where a chapter run that raised keeps its notebook (under the repository root; ignored by git)."""


class ChapterFailed(RuntimeError):
    """A chapter's execution raised: the committed chapter is unchanged (``make notebooks``)."""

    def __init__(self, chapter: Chapter, failed: Path | None, cause: BaseException) -> None:
        where = (f"the failed execution is in {failed}" if failed is not None
                 else "papermill wrote no notebook")
        super().__init__(f"{chapter.notebook} failed ({error_summary(cause)}); "
                         f"{chapter.output} was left as it was; {where}")
        self.chapter, self.failed = chapter, failed


def error_summary(exc: BaseException) -> str:
    """``"DataError: no folder …"``: the error a notebook cell raised (papermill keeps its name)."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def failed_path(chapter: Chapter, root: Path) -> Path:
    """Where a failed run of ``chapter`` keeps its notebook: ``_build/failed/<output path>``."""
    out = root / chapter.output
    try:
        rel = out.resolve().relative_to(root.resolve())
    except ValueError:  # an own-folder chapter outside the repository: one folder per tree
        where = hashlib.sha256(str(out.resolve().parent).encode()).hexdigest()[:8]
        rel = Path(f"{out.parent.name}-{where}") / out.name
    return root / FAILED_DIR / rel


def execute_chapter(chapter: Chapter, root: Path | None = None, *, record_inputs: bool = True
                    ) -> float:
    """Run one jupytext source through papermill into its executed ``.ipynb``; returns seconds.

    Papermill writes a hidden file beside the output (:func:`helpers.files.in_progress_path`); the normalised
    notebook replaces the chapter atomically only when the run finished. A run that raises
    moves its notebook to :func:`failed_path` and raises :class:`ChapterFailed`; the chapter
    on disk stays byte-identical. ``record_inputs=False`` (chapters run on a user's folder,
    ``helpers.build.ownfolder``) stores no inputs hash: it would read every photo of a folder named
    by a parameter once more.
    """
    import jupytext
    import nbformat
    import papermill as pm

    from helpers.files import atomic_write_bytes, in_progress_path

    root = Path.cwd() if root is None else root
    if not (root / chapter.notebook).is_file():
        raise FileNotFoundError(f"{chapter.notebook}: notebook source not found")
    check_chapter_parameters(chapter, root)
    out = root / chapter.output
    out.parent.mkdir(parents=True, exist_ok=True)
    running = in_progress_path(out)
    start = time.perf_counter()
    try:
        try:
            pm.execute_notebook(
                jupytext.read(root / chapter.notebook),
                str(running),
                parameters=chapter.parameters,
                kernel_name="python3",
                language="python",
                cwd=str(root),
                progress_bar=False,
            )
        except Exception as exc:  # noqa: BLE001 - reported with the failed notebook's place
            failed = None
            if running.is_file():
                failed = failed_path(chapter, root)
                failed.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(running, failed)  # the output may lie on another file system
            raise ChapterFailed(chapter, failed, exc) from exc
        seconds = time.perf_counter() - start
        nb = json.loads(running.read_text(encoding="utf-8"))
        digest = inputs_hash(chapter, root, [helpers_dir()]) if record_inputs else None
        normalise_notebook(nb, chapter, digest)
        atomic_write_bytes(out, nbformat.writes(nbformat.from_dict(nb)).encode("utf-8"))
    finally:
        running.unlink(missing_ok=True)
    return seconds


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_running(folder: Path) -> list[Path]:
    """Delete the running files that killed chapter runs left in ``folder`` (``make notebooks``).

    A file whose process (the pid in its name) is still alive belongs to a run in progress and
    is kept.
    """
    stale = []
    for path in sorted(folder.glob(".*.running-*.ipynb")) if folder.is_dir() else []:
        pid = path.name.rsplit(".running-", 1)[1].removesuffix(".ipynb")
        if pid.isdigit() and not _pid_alive(int(pid)):
            path.unlink(missing_ok=True)
            stale.append(path)
    return stale


def is_current(chapter: Chapter, root: Path) -> bool:
    """True when the executed chapter was made from exactly the current inputs."""
    out = root / chapter.output
    if not out.is_file():
        return False
    try:
        stored = json.loads(out.read_text(encoding="utf-8"))["metadata"].get(INPUTS_KEY)
    except (OSError, ValueError, KeyError):
        return False
    return stored == inputs_hash(chapter, root, [helpers_dir()])


def execute_chapters(
    config_path: str | os.PathLike[str], only: str | None = None, *, force: bool = False
) -> None:
    """Execute the registry's chapters whose inputs changed (``make notebooks``)."""
    root = Path.cwd()
    chapters = load_chapters(config_path)
    for chapter in chapters:  # every typo is reported before anything runs
        if (root / chapter.notebook).is_file():
            check_chapter_parameters(chapter, root)
    for chapter in chapters:
        if only and only not in str(chapter.output):
            continue
        if not force and is_current(chapter, root):
            print(f"up to date: {chapter.output} (inputs unchanged; --force re-executes)")
            continue
        for path in remove_stale_running((root / chapter.output).parent):
            print(f"removed {path.relative_to(root)} (left by a killed chapter run)")
        print(f"executing {chapter.notebook} -> {chapter.output}", flush=True)
        seconds = execute_chapter(chapter, root)
        print(f"  done in {seconds:.0f} s", flush=True)
