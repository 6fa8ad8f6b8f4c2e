"""Every glue name a page cites is glued, once, by the executed chapter it names.

A ``{glue:text}`name``` (or ``{glue}``, ``{glue:md}``, ``{glue:figure}`` …) in a chapter's
Markdown cells (``notebooks/<chapter>.py``) must be glued by that chapter's executed notebook
(``book/chapters/<chapter>.ipynb``); a ``chapters/<chapter>.ipynb::name`` on a book page
(``book/*.md``) must be glued by the notebook it names. Jupyter Book only warns about a missing
name and prints the page without the number, so a renamed glue would pass unnoticed. The converse
that is cheap: a name glued twice in one chapter (the page shows whichever came last) is reported.

Only JSON and text are read (no chapter is executed): about a second. The checker runs on any
executed notebook, e.g. a chapter executed into a temporary file::

    .venv/bin/python tests/test_glue_names.py 04_results=/tmp/ch04.ipynb
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BOOK = ROOT / "book"
EXECUTED = BOOK / "chapters"

#: ``{glue}`…```, ``{glue:text}`…```, ``{glue:md}`…``` … (a role, inline).
ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`]+)`")
#: ```` ```{glue:figure} name ```` or ``:::{glue:md} name`` (a directive, on its own line).
DIRECTIVE = re.compile(r"^\s*(?:`{3,}|:{3,})\{glue(?::[a-z]+)?\}\s+(\S+)")
FENCE = re.compile(r"^\s*(`{3,}|:{3,})(.*)$")

Citation = tuple[str, str, str]
"""(chapter, glue name, where it is cited: ``file:line``)."""


def _target(text: str, own: str | None) -> tuple[str, str] | None:
    """(chapter, name) of a role's or directive's target; ``None`` for an unqualified name on a
    page that is not a chapter. ``name:fmt`` loses its format; ``chapters/<c>.ipynb::name`` its path.
    """
    if "::" in text:
        path, rest = text.split("::", 1)
        return Path(path).stem, rest.split(":", 1)[0]
    if own is None:
        return None
    return own, text.split(":", 1)[0]


def _markdown_citations(lines: Iterable[str], own: str | None, where: str,
                        first_line: int = 1) -> Iterator[Citation]:
    """Glue citations in Markdown ``lines``; code blocks (a fence without a ``{directive}``, or a
    ``{code…}`` one) are skipped, directives (``{glue:figure}``, admonitions …) are read."""
    fences: list[tuple[str, bool]] = []  # (fence, is a code block)
    for number, line in enumerate(lines, first_line):
        in_code = any(code for _, code in fences)
        fence = FENCE.match(line)
        if fence:
            marks, info = fence.group(1), fence.group(2).strip()
            if fences and not info and marks[0] == fences[-1][0][0] and len(marks) >= len(fences[-1][0]):
                fences.pop()
                continue
            if not in_code and (info or marks[0] == "`"):
                code = marks[0] == "`" and (not info.startswith("{") or info.startswith("{code"))
                fences.append((marks, code))
        if in_code:
            continue
        directive = DIRECTIVE.match(line)
        texts = [directive.group(1)] if directive else []
        texts += ROLE.findall(line)
        for text in texts:
            target = _target(text, own)
            if target:
                yield (*target, f"{where}:{number}")


def notebook_citations(source: Path) -> list[Citation]:
    """Glue citations in the Markdown cells of a jupytext (percent) chapter ``source``."""
    import jupytext

    nb = jupytext.read(source)
    out: list[Citation] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            out += _markdown_citations(cell.source.splitlines(), source.stem,
                                       f"{source.name} cell {index}")
    return out


def page_citations(page: Path) -> list[Citation]:
    """Glue citations (``chapters/<chapter>.ipynb::name``) on a book page ``page``."""
    return list(_markdown_citations(page.read_text(encoding="utf-8").splitlines(), None, page.name))


def glued_names(executed: Path) -> Counter[str]:
    """How often each name is glued in an executed notebook (outputs whose metadata carries
    ``scrapbook.name``: what ``myst_nb.glue`` writes, data under ``application/papermill.record/``)."""
    nb = json.loads(Path(executed).read_text(encoding="utf-8"))
    names: Counter[str] = Counter()
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            meta = (output.get("metadata") or {}).get("scrapbook") or {}
            if "name" in meta:
                names[meta["name"]] += 1
    return names


def check(citations: Iterable[Citation], executed: Mapping[str, Path]) -> list[str]:
    """Problems, one line each: a cited name its chapter does not glue, a chapter that is not
    executed, and a name glued more than once in one of the ``executed`` chapters."""
    problems = []
    glued = {chapter: glued_names(path) for chapter, path in executed.items() if Path(path).is_file()}
    for chapter, name, where in citations:
        if chapter not in executed:
            problems.append(f"{where}: cites {chapter}::{name}, but {chapter} is not an executed chapter")
        elif chapter not in glued:
            problems.append(f"{where}: cites {chapter}::{name}; {executed[chapter]} does not exist")
        elif name not in glued[chapter]:
            problems.append(f"{where}: {name!r} is not glued by {chapter} ({executed[chapter]})")
    for chapter, names in glued.items():
        problems += [f"{chapter}: {name!r} is glued {n} times" for name, n in sorted(names.items()) if n > 1]
    return problems


def book_citations() -> list[Citation]:
    """Every glue citation of the chapters (``notebooks/*.py``) and pages (``book/*.md``)."""
    out: list[Citation] = []
    for source in sorted(NOTEBOOKS.glob("[0-9]*.py")):
        out += notebook_citations(source)
    for page in sorted(BOOK.glob("*.md")):
        out += page_citations(page)
    return out


def executed_chapters(overrides: Mapping[str, Path] = {}) -> dict[str, Path]:
    """``{chapter: executed notebook}`` for every chapter source, with ``overrides`` applied."""
    chapters = {p.stem: EXECUTED / f"{p.stem}.ipynb" for p in sorted(NOTEBOOKS.glob("[0-9]*.py"))}
    return {**chapters, **{k: Path(v) for k, v in overrides.items()}}


# --------------------------------------------------------------------------------------------
# The book
# --------------------------------------------------------------------------------------------


def test_every_cited_glue_name_is_glued_once_by_its_chapter() -> None:
    citations = book_citations()
    assert len(citations) > 500, len(citations)  # the reader finds the book's citations
    assert {c for c, _, _ in citations} >= {"04_results", "05_precision_parity", "08_findings_resolution"}
    problems = check(citations, executed_chapters())
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------------


def _glue(name: str) -> dict:
    prefix = "application/papermill.record/"
    return {"output_type": "display_data", "data": {f"{prefix}text/plain": "1"},
            "metadata": {"scrapbook": {"name": name, "mime_prefix": prefix}}}  # fmt: skip


def _fake_book(tmp_path: Path, glued: list[str]) -> tuple[list[Citation], dict[str, Path]]:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_x.py").write_text(
        "# %% [markdown]\n# AUC {glue:text}`auc:.3f` of {glue}`n` images.\n#\n"
        "# ```{glue:figure} fig\n# Caption with {glue:text}`cap:d`.\n# ```\n#\n"
        "# ```python\n# {glue:text}`in_a_code_block`\n# ```\n\n"
        "# %%\nx = '{glue:text}`in_code_cell`'\n"
    )
    (tmp_path / "page.md").write_text(
        "See {glue:text}`chapters/01_x.ipynb::auc:.2f` and\n"
        ":::{note}\n{glue:md}`chapters/01_x.ipynb::md_name`\n:::\n"
        "```{glue:md} chapters/01_x.ipynb::block\n```\n"
    )
    executed = tmp_path / "01_x.ipynb"
    executed.write_text(json.dumps({"cells": [{"cell_type": "code", "outputs": [_glue(n) for n in glued]}]}))
    citations = notebook_citations(tmp_path / "notebooks" / "01_x.py") + page_citations(tmp_path / "page.md")
    return citations, {"01_x": executed}


def test_the_checker_reads_roles_and_directives_but_not_code(tmp_path: Path) -> None:
    citations, executed = _fake_book(tmp_path, ["auc", "n", "fig", "cap", "md_name", "block"])
    assert sorted({name for _, name, _ in citations}) == ["auc", "block", "cap", "fig", "md_name", "n"]
    assert check(citations, executed) == []


def test_the_checker_reports_a_missing_name_a_twice_glued_one_and_a_missing_chapter(
    tmp_path: Path,
) -> None:
    citations, executed = _fake_book(tmp_path, ["auc", "auc", "n", "fig", "cap", "md_name"])
    problems = check([*citations, ("02_y", "z", "page.md:9")], executed)
    assert len(problems) == 3, problems
    assert "page.md:5: 'block' is not glued by 01_x" in problems[0]
    assert "02_y is not an executed chapter" in problems[1]
    assert problems[2] == "01_x: 'auc' is glued 2 times"
    assert "does not exist" in check(citations, {"01_x": tmp_path / "none.ipynb"})[0]


if __name__ == "__main__":  # chapter=executed.ipynb … : check the book against other executions
    found = check(book_citations(), executed_chapters(dict(a.split("=", 1) for a in sys.argv[1:])))
    print("\n".join(found) or "every cited glue name is glued once")
    sys.exit(bool(found))
