"""One number formatter and one table style on every page (issue 27, item 3).

The executed chapters are read as a reader sees them (prose with its glued values, printed
output, HTML tables cell by cell) by :func:`helpers.chapters.formatting.scan_notebook`; a raw format that
reaches a page fails here, named by chapter, cell and text.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from helpers.build.book import load_chapters
from helpers.chapters import formatting as F

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = load_chapters(ROOT / "configs" / "book.yaml")

ALLOWED = (
    # Keras's own epoch log, folded under "hide-output" in the training chapter: the reader who
    # opens it sees what `fit` prints in a terminal (its learning rate in Keras's notation).
    F.Allowed("03_train", "scientific notation", r"learning_rate: \d\.\d+e-\d+",
              "Keras's epoch log"),
    # The run's identity, every value as its Python repr ('melanoma', None): what a reader
    # passes as a papermill parameter to make the same run.
    F.Allowed("03_train", "raw missing value", r"\bNone\b", "parameter values as Python reprs"),
)
"""Places where such text is right: a log the reader can open, literal parameter values."""


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.output.stem for c in CHAPTERS])
def test_no_raw_format_reaches_the_page(chapter) -> None:
    path = ROOT / chapter.output
    found = F.scan_notebook(path, ALLOWED)
    assert not found, f"{len(found)} raw formats on the page:\n" + "\n".join(map(str, found))


PAGES = sorted(ROOT.glob("book/*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_no_raw_format_reaches_a_prose_page(page: Path) -> None:
    """The discussion pages cite chapters' glued values: those must read as the chapters do."""
    found = F.scan_markdown(page)
    assert not found, f"{len(found)} raw formats on the page:\n" + "\n".join(map(str, found))


def test_format_p_is_p_below_0001_or_three_significant_digits() -> None:
    shown = [F.format_p(p) for p in (2.71e-34, 0.0, 0.00099, 0.001, 0.01234, 0.2, 0.9996, 1.0)]
    assert shown == ["<0.001", "<0.001", "<0.001", "0.00100", "0.0123", "0.200", "1.00", "1.00"]
    assert F.format_p(math.nan) == F.format_p(None) == F.MISSING
    assert F.p_text(1e-9) == "p < 0.001" and F.p_text(0.0456) == "p = 0.0456"


def test_numbers_are_never_in_scientific_notation() -> None:
    assert F.number_text(6.93e-6) == "0.0000069" and F.number_text(0.0) == "0"
    assert F.number_text(123.4) == "123" and F.number_text(math.inf) == F.MISSING
    assert "e" not in F.number_text(1.2e-12)


def test_counts_carry_their_noun_in_the_right_number() -> None:
    assert F.plural(1, "seed") == "1 seed" and F.plural(3, "seed") == "3 seeds"
    assert F.plural(0, "run") == "0 runs" and F.plural(2, "paired seed") == "2 paired seeds"
    assert F.plural(2, "analysis", "analyses") == "2 analyses"


def test_styled_table_has_the_theme_class_a_dash_for_missing_and_a_footnote() -> None:
    df = pd.DataFrame({"AUC": [0.79312, math.nan], "n": [3.0, math.nan], "p": [1e-5, 0.0412],
                       "kept": ["yes", "–"]})  # fmt: skip
    html = F.styled(df, "t-missing", p_columns=["p"], note="— not run.").to_html()
    assert 'class="dataframe"' in html and 'id="T_t-missing"' in html
    assert "<caption>— not run.</caption>" in html and "caption-side: bottom" in html
    assert ">0.793<" in html and ">3<" in html and ">&lt;0.001<" in html and ">0.0412<" in html
    assert "nan" not in html.lower() and ">–<" not in html
    full = F.styled(df.iloc[:1, :3], "t-full").to_html()
    assert "<caption>" not in full  # nothing missing, no footnote
    assert F.has_missing(df) and not F.has_missing(df.iloc[:1])
    named = pd.DataFrame({"p (Holm)": [2e-9], "p_seeds": ["<0.001"], "seeds p<0.05": ["3/3"]})
    html = F.styled(named, "t-names").to_html()
    assert ">&lt;0.001<" in html and "seeds p&lt;0.05" in html and "0.000" not in html


def _notebook(tmp_path: Path, cells: list[dict]) -> Path:
    path = tmp_path / "99_page.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))  # fmt: skip
    return path


def _glue(name: str, plain: str) -> dict:
    prefix = "application/papermill.record/"
    return {"output_type": "display_data", "data": {f"{prefix}text/plain": plain},
            "metadata": {"scrapbook": {"name": name, "mime_prefix": prefix}}}  # fmt: skip


def _code(*outputs: dict, tags: tuple[str, ...] = ()) -> dict:
    return {"cell_type": "code", "source": "x", "metadata": {"tags": list(tags)},
            "outputs": list(outputs), "execution_count": 1}  # fmt: skip


def _html(html: str) -> dict:
    return {"output_type": "display_data", "data": {"text/html": html, "text/plain": "t"},
            "metadata": {}}


def _md(text: str) -> dict:
    return {"cell_type": "markdown", "source": text, "metadata": {}}


def test_scan_finds_every_raw_format_with_chapter_cell_and_text(tmp_path: Path) -> None:
    table = ("<table><thead><tr><th>model</th><th>p</th></tr></thead><tbody>"
             "<tr><td>MobileNet22474.47</td><td>0.000</td></tr>"
             "<tr><td>ResNet50</td><td>–</td></tr></tbody></table>")  # fmt: skip
    cells = [
        _code(_glue("p_val", "2.71e-34"), _glue("n", "1"), _glue("dp", "0.0")),
        _md("Worse (p = {glue:text}`p_val:.3f`), over {glue:text}`n` seed(s); "
            "change {glue:text}`dp:.1e`; `None` in code is fine."),
        _code({"output_type": "stream", "name": "stdout", "text": "N = [72], AUC nan\n"}),
        _code(_html(table)),
        _code(_html("<p>NaN</p>"), tags=("remove-output",)),  # never on the page
        _md("A sentence with 2.71e-34 in it. None of this is code."),
    ]
    found = F.scan_notebook(_notebook(tmp_path, cells))
    rules = {(f.cell, f.rule) for f in found}
    assert rules == {
        (1, "p = 0"), (1, "p-value format"), (1, "(s) plural"), (1, "scientific notation"),
        (2, "Python list"), (2, "raw missing value"),
        (3, "unstyled table"), (3, "p-value format"), (3, "missing-value mark"),
        (5, "scientific notation"),
    }, sorted(rules)
    text = "\n".join(map(str, found))
    assert "99_page cell 1 [p = 0]" in text and "p = 0.000" in text and "'0.000'" in text


def test_scan_checks_footnotes_and_respects_the_allow_list(tmp_path: Path) -> None:
    df = pd.DataFrame({"AUC": [0.8, math.nan], "p": [0.2, math.nan]})
    good = F.styled(df, "ok", p_columns=["p"]).to_html()
    bare = df.style.set_table_attributes('class="dataframe"').format(na_rep="—").to_html()
    log = {"output_type": "stream", "name": "stdout", "text": "learning_rate: 2.0000e-04\n"}
    path = _notebook(tmp_path, [_code(_html(good)), _code(_html(bare)), _code(log)])
    found = F.scan_notebook(path)
    assert {(f.cell, f.rule) for f in found} == {
        (1, "missing value without footnote"), (1, "p-value format"), (2, "scientific notation")}
    allowed = [F.Allowed("99_page", "scientific notation", r"learning_rate", "a log")]
    assert {f.cell for f in F.scan_notebook(path, allowed)} == {1}


def test_one_value_with_interval_formatter():
    from helpers.chapters.formatting import MISSING, ci_text

    assert ci_text(0.8123, 0.79, 0.834) == "0.812 [0.790, 0.834]"
    assert ci_text(0.004, -0.0121, 0.02, sign=True) == "+0.004 [-0.012, +0.020]"
    assert ci_text(0.8, 0.79, 0.81, scale=100, digits=1, ci_digits=0) == "80.0 [79, 81]"
    assert ci_text(0.8, float("nan"), 0.9) == "0.800"  # no interval: the value alone
    assert ci_text(float("nan"), 0.1, 0.2) == MISSING
