"""One number formatter and one table style for every chapter (all chapters).

Job: how a number reaches the page. p-values are ``<0.001`` or three significant digits
(:func:`format_p`, :func:`p_text`); small numbers are written out, never in scientific notation
(:func:`number_text`); counts carry their noun in the right number (:func:`plural`: "1 seed",
"3 seeds"); a missing value is :data:`MISSING` ("—"), explained by a footnote line under its
table; tables are shown through :func:`styled`, which gives them the book theme's ``dataframe``
table style. :func:`scan_notebook` finds what reaches a page of an executed chapter without them
(``tests/test_page_formats.py``).
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd

MISSING = "—"
"""The one missing-value mark on a page (an em dash); a table that has one gets a footnote."""

MISSING_NOTE = f"{MISSING} no value: not run, not defined or not applicable here."
"""The footnote under a table with a missing value, unless the caller says more."""

TABLE_CLASS = 'class="dataframe"'
"""The class the book's theme styles tables by (borders, header rule, zebra rows)."""

P_HEADER = re.compile(r"^p(?:\b|_)")
"""Column names of p-values: ``p``, ``p_holm``, ``p (Holm)``, ``p adj.`` (not ``px``, ``prep.``)."""


def _finite(x: object) -> bool:
    try:
        return x is not None and math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def format_p(p: float | None) -> str:
    """A p-value for a table: ``<0.001``, else three significant digits; ``—`` when undefined."""
    if not _finite(p):
        return MISSING
    p = float(p)  # type: ignore[arg-type]
    return "<0.001" if p < 0.001 else f"{p:#.3g}"


def p_text(p: float | None) -> str:
    """A p-value for prose: ``p = 0.0123`` or ``p < 0.001`` (``p = —`` when undefined)."""
    shown = format_p(p)
    return f"p < {shown[1:]}" if shown.startswith("<") else f"p = {shown}"


def number_text(x: float | None, digits: int = 2) -> str:
    """``x`` in plain decimals with ``digits`` significant ones (``0.0000069``, never ``6.9e-06``;
    the integer part is kept whole: ``123``)."""
    if not _finite(x):
        return MISSING
    x = float(x)  # type: ignore[arg-type]
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    return f"{x:.{decimals}f}"


def ci_text(est: float | None, lo: float | None, hi: float | None, *, digits: int = 3,
            ci_digits: int | None = None, sign: bool = False, scale: float = 1.0) -> str:
    """The book's one "value [CI]": ``0.812 [0.790, 0.834]``; ``+0.004 [-0.012, +0.020]`` with
    ``sign``; percentages with ``scale=100, digits=1``. ``ci_digits`` (default ``digits``)
    shortens the bounds; without finite bounds only the value; ``—`` without a value."""
    if not _finite(est):
        return MISSING
    plus = "+" if sign else ""
    ci = digits if ci_digits is None else ci_digits
    text = f"{float(est) * scale:{plus}.{digits}f}"  # type: ignore[arg-type]
    if _finite(lo) and _finite(hi):
        text += (f" [{float(lo) * scale:{plus}.{ci}f}, "  # type: ignore[arg-type]
                 f"{float(hi) * scale:{plus}.{ci}f}]")  # type: ignore[arg-type]
    return text


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``"1 seed"``, ``"3 seeds"``: a count with its noun in the right number."""
    return f"{n} {noun if n == 1 else (nouns or noun + 's')}"


OLD_MISSING = frozenset({"–", "-"})
"""Dashes that helpers wrote for a missing value before :data:`MISSING`; :func:`styled` shows
them as :data:`MISSING`."""


def has_missing(table: pd.DataFrame) -> bool:
    """Whether a table shows a missing value (NaN, None, :data:`MISSING` or a dash) in a cell."""
    if table.empty:
        return False
    marks = table.astype(str).isin(OLD_MISSING | {MISSING})
    return bool(table.isna().to_numpy().any() or marks.to_numpy().any())


def _cell_text(value: object, precision: int) -> str:
    """One cell of a text column: a dash or NaN as :data:`MISSING`, floats to ``precision``."""
    if isinstance(value, str):
        return MISSING if value.strip() in OLD_MISSING else value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return f"{value:.{precision}f}" if isinstance(value, float) else str(value)


def _counts_with_gaps(col: pd.Series) -> bool:
    """A column of whole numbers made float by a missing value (shown without decimals)."""
    if not pd.api.types.is_float_dtype(col) or not col.isna().any():
        return False
    values = col.dropna()
    return bool(len(values)) and bool((values == values.round()).all())


def styled(
    table: pd.DataFrame,
    uuid: str,
    *,
    index: bool = False,
    precision: int = 3,
    p_columns: Iterable[str] = (),
    note: str = MISSING_NOTE,
):
    """The book's table: theme style, fixed id (stable nbval output), ``—`` for missing values.

    ``index``: show the row labels (reading copies named by model and set-up); the default
    hides a 0..N index. Floats are shown to ``precision`` decimals; p-values (``p_columns`` and
    float columns named ``p``, ``p_…`` or ``p (…)``) by :func:`format_p`. A table with a missing
    value gets ``note`` as a footnote line under it.
    """
    if table is None:  # a section with nothing to show (e.g. a sweep of one set-up)
        return None
    style = table.style.set_uuid(uuid).set_table_attributes(TABLE_CLASS)
    style = style.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    style = style.format(precision=precision, na_rep=MISSING, escape="html")
    counts = [c for c in table.columns if _counts_with_gaps(table[c])]
    if counts:
        style = style.format("{:.0f}", subset=counts, na_rep=MISSING)
    text = [c for c in table.columns
            if pd.api.types.is_object_dtype(table[c]) or pd.api.types.is_string_dtype(table[c])]
    if text:
        style = style.format(lambda v: escape(_cell_text(v, precision)), subset=text)
    p_cols = [c for c in table.columns if c in set(p_columns)
              or (P_HEADER.match(str(c)) and pd.api.types.is_float_dtype(table[c]))]
    if p_cols:
        style = style.format(lambda v: escape(format_p(v)), subset=p_cols)
    if not index:
        style = style.hide(axis="index")
    if has_missing(table):
        style = style.set_caption(note).set_table_styles(
            [{"selector": "caption", "props": "caption-side: bottom; text-align: left; "
              "font-size: 0.9em; padding-top: 0.3em;"}], overwrite=False)  # fmt: skip
    return style


# ----------------------------------------------------------------- what reaches the page
RAW_TEXT: dict[str, re.Pattern[str]] = {
    "raw missing value": re.compile(r"(?<![\w.])(?:NaN|nan|NaT|<NA>|None(?!\s+of\b))(?!\w)"),
    "p = 0": re.compile(r"\bp\s*(?:=|<|≤)\s*0(?:\.0+)?(?!\.?\d)"),
    "scientific notation": re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?[eE][-+]?\d+(?!\w|\.\d)"),
    "Python list": re.compile(r"\w\s*=\s*\[[\w.,\s'\"+-]*\]"),
    "(s) plural": re.compile(r"\w\(s\)"),
}
"""Raw formats in the text a reader sees (prose, glued text, table cells, printed output)."""

OTHER_MISSING_MARKS = frozenset({"–", "-", "n/a", "N/A", "NA"})
"""Table cells that mean "missing" but are not :data:`MISSING`."""

_GLUE_ROLE = re.compile(r"\{glue(?::(\w+))?\}`([^`]+)`")
_GLUE_BLOCK = re.compile(r"(```|:::)\{glue(?::(\w+))?\}[ \t]+(\S+)[^\n]*\n.*?\1", re.S)
_CODE_BLOCK = re.compile(r"(```+|~~~+)(?!\{)[^\n]*\n.*?\1", re.S)
_ROLE = re.compile(r"\{[\w:.-]+\}`[^`]*`")
_INLINE_CODE = re.compile(r"``[^`]+``|`[^`\n]+`")


@dataclass(frozen=True)
class Finding:
    """One raw format on a page: which page, which cell (index in the notebook), what."""

    page: str
    cell: int
    rule: str
    text: str

    def __str__(self) -> str:
        return f"{self.page} cell {self.cell} [{self.rule}]: {self.text}"


@dataclass(frozen=True)
class Allowed:
    """A place where a raw format is right (a log the reader can open, a literal value)."""

    page: str
    rule: str
    pattern: str
    why: str

    def covers(self, f: Finding) -> bool:
        return f.page == self.page and f.rule == self.rule and bool(re.search(self.pattern, f.text))


def _plain(text: str, spec: str) -> str:
    """A glued text/plain value through a format spec, as myst-nb's ``{glue:text}`` does."""
    try:
        value: Any = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if spec == "":
        return str(value)
    kind = spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, spec)


class _Glue:
    """The glued values of a notebook and of the notebooks its ``doc::key`` references name."""

    PREFIX = "application/papermill.record/"

    def __init__(self, path: Path) -> None:
        self.path, self.stores = path, {}

    def store(self, doc: str = "") -> dict[str, dict[str, str]]:
        path = (self.path.parent / doc).resolve() if doc else self.path
        if path not in self.stores:
            nb = json.loads(path.read_text()) if path.is_file() else {"cells": []}
            self.stores[path] = {
                o["metadata"]["scrapbook"]["name"]: {
                    k.removeprefix(self.PREFIX): "".join(v) for k, v in o.get("data", {}).items()
                }
                for c in nb["cells"] for o in c.get("outputs", [])
                if "scrapbook" in o.get("metadata", {})
            }  # fmt: skip
        return self.stores[path]

    def get(self, ref: str) -> dict[str, str] | None:
        doc, _, key = ref.rpartition("::")
        return self.store(doc).get(key)


def _glue_role(glue: _Glue, kind: str | None, body: str, found: list[tuple[str, str]]) -> str:
    """The text a glue role puts on the page; a p-value or ``e`` format spec is a finding."""
    ref, spec = body, ""
    if kind == "text":
        head, sep, tail = body.rpartition(":")
        if sep and not head.endswith(":"):
            ref, spec = head, tail
    data = glue.get(ref)
    if data is None:
        return ""
    key = ref.rpartition("::")[2]
    if spec[-1:] in ("e", "E"):
        found.append(("scientific notation", f"{{glue:text}}`{body}` (an e format spec)"))
    if spec[-1:] in tuple("eEfFgG%") and "p" in key.split("_"):
        found.append(("p-value format", f"{{glue:text}}`{body}`: glue formatting.p_text instead"))
    if kind == "md" or (kind in (None, "any") and "text/markdown" in data):
        return data.get("text/markdown", "")
    return _plain(data.get("text/plain", ""), spec)


def _without_code(src: str) -> str:
    """Markdown without code blocks, code spans and roles (``{doc}`...```): only prose."""
    src = _CODE_BLOCK.sub(" ", src)
    src = _ROLE.sub(" ", src)
    return _INLINE_CODE.sub(" ", src)


def _markdown_text(src: str, glue: _Glue, found: list[tuple[str, str]]) -> str:
    """The prose of a markdown cell with glue filled in and code left out."""
    src = _GLUE_BLOCK.sub(lambda m: (glue.get(m.group(3)) or {}).get("text/markdown", ""), src)
    src = _GLUE_ROLE.sub(lambda m: _glue_role(glue, m.group(1), m.group(2), found), src)
    return _without_code(src)


class _Tables(HTMLParser):
    """The tables of an HTML output: class, caption, header and body rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, Any]] = []
        self.outside: list[str] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "table":
            self.tables.append({"class": dict(attrs).get("class") or "", "caption": "",
                                "head": [], "body": [], "section": "body"})  # fmt: skip
        elif self.tables and tag in ("thead", "tbody"):
            self.tables[-1]["section"] = "head" if tag == "thead" else "body"
        elif self.tables and tag == "tr":
            t = self.tables[-1]
            t[t["section"]].append([])
        elif self.tables and tag in ("td", "th"):
            self._cell = []
        elif self.tables and tag == "caption":
            self._caption = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None:
            t = self.tables[-1]
            rows = t[t["section"]] or [[]]
            rows[-1].append((tag, " ".join("".join(self._cell).split())))
            t[t["section"]] = rows
            self._cell = None
        elif tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = "".join(self._caption)
            self._caption = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        for part in (self._cell, self._caption):
            if part is not None:
                part.append(data)
                return
        self.outside.append(data)


def _p_ok(cell: str) -> bool:
    """Whether a p-value cell is ``<0.001``, three significant digits, or no number at all."""
    for item in cell.split(","):
        item = item.strip()
        if not re.search(r"\d", item) or item in ("<0.001", "< 0.001"):
            continue
        if not re.fullmatch(r"[01]\.\d+", item) or len(item.replace(".", "").lstrip("0")) != 3:
            return False
    return True


def _table_findings(html: str) -> tuple[list[tuple[str, str]], str]:
    """Findings about the tables of an HTML output, and the output's text for the text rules."""
    parser = _Tables()
    parser.feed(html)
    found, outside = [], "".join(parser.outside)
    texts = [outside]
    for t in parser.tables:
        cells = [text for row in t["head"] + t["body"] for _, text in row]
        texts += [t["caption"], *cells]
        head = " | ".join(c for _, c in (t["head"][0] if t["head"] else []) if c)[:80]
        if "dataframe" not in t["class"].split():
            found.append(("unstyled table", f"table without the book's style: {head}"))
        odd = sorted({c for c in cells if c in OTHER_MISSING_MARKS})
        if odd:
            found.append(("missing-value mark", f"{odd} instead of {MISSING!r}: {head}"))
        if MISSING in cells and MISSING not in t["caption"] + outside:
            found.append(("missing value without footnote", f"no {MISSING} footnote: {head}"))
        found += _p_column_findings(t)
    return found, "\n".join(texts)


def _p_column_findings(table: dict[str, Any]) -> list[tuple[str, str]]:
    """p-value cells not written by :func:`format_p` (columns named ``p``, ``p (Holm)``, ...)."""
    if not table["head"]:
        return []
    header = [text for _, text in table["head"][0]]
    found = []
    for row in table["body"]:
        data = [text for tag, text in row if tag == "td"]
        if len(data) > len(header):  # a header this reading cannot line up: not checked
            continue
        for name, cell in zip(header[len(header) - len(data):], data, strict=True):
            if P_HEADER.match(name) and not _p_ok(cell):
                found.append(("p-value format", f"{name} = {cell!r}"))
    return found


def _output_texts(output: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """(findings about tables, texts) of one code-cell output, as the page shows it."""
    if output["output_type"] == "stream":
        return [], ["".join(output["text"])]
    data = output.get("data", {})
    if any(k.startswith("application/papermill.record") for k in data):
        return [], []  # glue: on the page where a markdown cell names it
    if "text/html" in data:
        found, text = _table_findings("".join(data["text/html"]))
        return found, [text]
    if "text/markdown" in data:
        return [], [_without_code("".join(data["text/markdown"]))]
    if any(k.startswith(("image/", "text/latex")) for k in data):
        return [], []
    return [], ["".join(data.get("text/plain", ""))]


def _snippet(text: str, m: re.Match[str]) -> str:
    return " ".join(text[max(0, m.start() - 50): m.end() + 30].split())


def scan_notebook(path: str | Path, allowed: Iterable[Allowed] = ()) -> list[Finding]:
    """Raw formats that reach the page of an executed chapter, cell by cell (all chapters).

    Reads what a reader sees: markdown with its ``{glue}`` values filled in (code spans and
    blocks left out), and the outputs of code cells not tagged ``remove-output``/``remove-cell``
    (HTML tables cell by cell). ``allowed`` lists the places where such text is right.
    """
    path = Path(path)
    nb, glue, page = json.loads(path.read_text()), _Glue(path), path.stem
    allowed = list(allowed)
    out: list[Finding] = []
    for i, cell in enumerate(nb["cells"]):
        found: list[tuple[str, str]] = []
        texts: list[str] = []
        tags = set(cell.get("metadata", {}).get("tags", []))
        if "remove-cell" in tags:
            continue
        if cell["cell_type"] == "markdown":
            texts.append(_markdown_text("".join(cell["source"]), glue, found))
        elif cell["cell_type"] == "code" and "remove-output" not in tags:
            for output in cell.get("outputs", []):
                f, t = _output_texts(output)
                found += f
                texts += t
        for text in texts:
            found += [(rule, _snippet(text, m)) for rule, rx in RAW_TEXT.items()
                      for m in rx.finditer(text)]  # fmt: skip
        for rule, text in dict.fromkeys(found):
            f = Finding(page, i, rule, text)
            if not any(a.covers(f) for a in allowed):
                out.append(f)
    return out


def scan_markdown(path: str | Path, allowed: Iterable[Allowed] = ()) -> list[Finding]:
    """:func:`scan_notebook` for a Markdown page (the discussion pages), its glue read from the
    chapters it names (``chapters/04_results.ipynb::key``); ``cell`` is 0."""
    path = Path(path)
    found: list[tuple[str, str]] = []
    text = _markdown_text(path.read_text(), _Glue(path), found)
    found += [(rule, _snippet(text, m)) for rule, rx in RAW_TEXT.items() for m in rx.finditer(text)]
    out = [Finding(path.stem, 0, rule, t) for rule, t in dict.fromkeys(found)]
    return [f for f in out if not any(a.covers(f) for a in allowed)]
