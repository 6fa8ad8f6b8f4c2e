"""The discussion's and the intro's claims re-checked against the glued numbers of the chapters.

A claim whose evidence flips when chapter 04 is re-executed on new records fails here; so does a
glue name that the discussion page cites but the chapter no longer glues. The same holds for the
findings that open the landing page (``book/intro.md``), which quote chapters 04, 06, 07 and 08.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.chapters import claims

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "chapters" / "04_results.ipynb"
DISCUSSION = ROOT / "book" / "discussion.md"
INTRO = ROOT / "book" / "intro.md"
CITED = re.compile(r"chapters/(\w+)\.ipynb::([A-Za-z0-9_.]+?)(?::[^`]*)?`")


@pytest.fixture(scope="module")
def glued() -> dict:
    return claims.read_glue(CHAPTER)


def test_every_claim_holds_on_the_executed_chapter(glued: dict) -> None:
    failures = claims.check(glued)
    assert not failures, "\n".join(failures)


def test_every_glue_name_cited_by_the_discussion_exists(glued: dict) -> None:
    cited = set(re.findall(r"04_results\.ipynb::([A-Za-z0-9_.]+?)(?::|`)", DISCUSSION.read_text()))
    assert cited, "the discussion cites no glued number"
    missing = sorted(cited - set(glued))
    assert not missing, missing


def test_comparisons_in_the_discussion_cite_adjusted_p_values() -> None:
    text = DISCUSSION.read_text()
    cited = re.findall(r"04_results\.ipynb::([A-Za-z0-9_.]+?)(?::|`)", text)
    p_names = [n for n in cited if re.search(r"_p(_\w+)?$", n)]
    assert p_names and all(n.endswith(("_p_adj", "_p_adj_txt", "_p_gen_adj_txt", "_p_ens"))
                           for n in p_names), p_names
    for phrase in ("comes close", "come close", "trails it", "usually reach", "linear probes"):
        assert phrase not in text, phrase


def test_the_pages_cite_the_seed_aware_comparisons_not_the_ensemble_blocks() -> None:
    """Chapter 04 glues its comparisons once, seed-aware (``or_regime_``, ``or_models_``,
    ``or_prep_``); the seed-blind ensemble blocks' ``regime_``, ``models_`` and ``ablation_``
    names are gone, and no page may cite them."""
    for page in (DISCUSSION, INTRO, ROOT / "book" / "discussion_xray.md", ROOT / "book" / "reproducibility.md"):
        cited = re.findall(r"04_results\.ipynb::([A-Za-z0-9_.]+)", page.read_text())
        old = [n for n in cited if n.startswith(("regime_", "models_", "ablation_"))]
        assert not old, (page.name, old)


def test_check_reports_a_flipped_claim_and_a_missing_name() -> None:
    glued = {"a": 0.8, "b": 0.7, "adj": 0.02}
    ok = [("a above b", "a", ">", "b"), ("detectable", "adj", "<", 0.05)]
    assert claims.check(glued, ok) == []
    flipped = claims.check({**glued, "a": 0.6}, ok)
    assert len(flipped) == 1 and flipped[0].startswith("a above b")
    assert "missing" in claims.check(glued, [("x", "nope", ">", 0)])[0]


def test_read_glue_parses_numbers_and_strings(tmp_path: Path) -> None:
    def out(name: str, text: str) -> dict:
        prefix = "application/papermill.record/"
        meta = {"scrapbook": {"name": name, "mime_prefix": prefix}}
        return {"output_type": "display_data", "metadata": meta, "data": {f"{prefix}text/plain": text}}

    nb = {"cells": [{"cell_type": "code", "outputs": [out("n", "66"), out("v", "'untestable'"),
                                                      out("p", "0.0187")]}]}  # fmt: skip
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    assert claims.read_glue(path) == {"n": 66, "v": "untestable", "p": 0.0187}


def _intro_findings() -> str:
    """The intro's "What this book found" block (the admonition), as written."""
    text = INTRO.read_text()
    start = text.index(":::{admonition} What this book found")
    return text[start:text.index("\n:::\n", start)]


@pytest.fixture(scope="module")
def intro_glued() -> dict:
    cited = {chapter for chapter, _ in CITED.findall(INTRO.read_text())}
    return claims.read_chapters_glue(ROOT / "book" / "chapters",
                                     [*claims.claim_chapters(claims.INTRO_CLAIMS), *sorted(cited)])


def test_every_intro_claim_holds_on_the_executed_chapters(intro_glued: dict) -> None:
    failures = claims.check(intro_glued, claims.INTRO_CLAIMS)
    assert not failures, "\n".join(failures)


def test_every_glue_name_cited_by_the_intro_exists(intro_glued: dict) -> None:
    cited = {f"{chapter}::{name}" for chapter, name in CITED.findall(INTRO.read_text())}
    assert len(cited) > 30, "the intro's findings cite the chapters' glued numbers"
    missing = sorted(cited - set(intro_glued))
    assert not missing, missing


def test_the_intro_findings_are_checked_claims() -> None:
    """Every p-value and verdict the findings quote is claimed (the p as its number), and every
    AUC comes with its interval: a re-executed chapter that contradicts the intro fails here."""
    findings = _intro_findings()
    cited = [f"{c}::{n}" for c, n in CITED.findall(findings)]
    claimed = {ref for _, left, _, right in claims.INTRO_CLAIMS for ref in (left, right)
               if isinstance(ref, str)}  # fmt: skip
    p_values = [n for n in cited if re.search(r"_p(_adj)?_txt$", n)]
    assert len(p_values) >= 8 and all(n.endswith("_txt") for n in p_values), p_values
    unchecked = [n for n in p_values if n.removesuffix("_txt") not in claimed]
    verdicts = [n for n in cited if n.endswith("_verdict") and n not in claimed]
    assert not unchecked and not verdicts, unchecked + verdicts
    points = [n for n in cited if re.search(r"::fig_auc_\w+_\d+$", n)]
    assert points and all(f"{n}_lo" in cited and f"{n}_hi" in cited for n in points), points
    assert not re.search(r"_p(_adj)?:", findings), "p-values are glued as text (p_text)"


def test_the_intro_opens_with_the_findings_and_the_figure() -> None:
    text = INTRO.read_text()
    order = [text.index(s) for s in ("# ", ":::{admonition} What this book found",
                                     "{glue}`chapters/04_results.ipynb::fig_auc_vs_size`",
                                     "## How to read this book", "## Cite this book")]  # fmt: skip
    assert order == sorted(order), order
    bullets = re.findall(r"^- \*\*", _intro_findings(), re.M)
    assert 5 <= len(bullets) <= 7, len(bullets)


def test_chapter_claims_read_qualified_names_and_name_a_missing_chapter(tmp_path: Path) -> None:
    prefix = "application/papermill.record/"
    out = {"output_type": "display_data", "data": {f"{prefix}text/plain": "0.7"},
           "metadata": {"scrapbook": {"name": "a", "mime_prefix": prefix}}}  # fmt: skip
    (tmp_path / "04_x.ipynb").write_text(json.dumps({"cells": [{"outputs": [out]}]}))
    some = [("a below b", "04_x::a", "<", "05_y::b")]
    assert claims.claim_chapters(some) == ["04_x", "05_y"]
    with pytest.raises(FileNotFoundError, match="05_y"):
        claims.read_chapters_glue(tmp_path, claims.claim_chapters(some))
    glued = claims.read_chapters_glue(tmp_path, ["04_x"])
    assert glued == {"04_x::a": 0.7}
    assert "'05_y::b' missing" in claims.check(glued, some)[0]


# Chapters 05-08, the X-ray discussion, and the discussion where it reads chapter 05
CHAPTERS = ROOT / "book" / "chapters"


@pytest.fixture(scope="module")
def pages_glued() -> dict:
    pages = claims.CHAPTER_CLAIMS.values()
    return claims.read_chapters_glue(CHAPTERS, claims.claim_chapters(c for page in pages for c in page))


@pytest.mark.parametrize("page", sorted(claims.CHAPTER_CLAIMS))
def test_every_chapter_claim_holds_on_the_executed_chapters(pages_glued: dict, page: str) -> None:
    failures = claims.check(pages_glued, claims.CHAPTER_CLAIMS[page])
    assert not failures, "\n".join(failures)


def test_chapter_claims_cover_every_page_and_read_their_own_chapter() -> None:
    """One list per page of the issue (chapters 05-08, the X-ray discussion); a chapter's list
    claims that chapter's glue, and every list reads qualified names."""
    pages = {"05_precision_parity", "06_deployment", "07_pneumonia_mobilenetv2",
             "08_findings_resolution", "discussion_xray"}  # fmt: skip
    assert pages <= set(claims.CHAPTER_CLAIMS), pages - set(claims.CHAPTER_CLAIMS)
    for page, some in claims.CHAPTER_CLAIMS.items():
        assert some, page
        assert all("::" in left for _, left, _, _ in some), page
        if (CHAPTERS / f"{page}.ipynb").is_file():
            assert all(left.startswith(f"{page}::") for _, left, _, _ in some), page
        texts = [text for text, *_ in some]
        assert len(texts) == len(set(texts)), page


def test_the_x_ray_discussion_cites_glue_that_its_claims_can_read(pages_glued: dict) -> None:
    text = (ROOT / "book" / "discussion_xray.md").read_text()
    cited = {f"{chapter}::{name}" for chapter, name in CITED.findall(text)}
    claimed = claims.claim_chapters(claims.CHAPTER_CLAIMS["discussion_xray"])
    missing = sorted(n for n in cited if n.split("::")[0] in claimed and n not in pages_glued)
    assert cited and not missing, missing


def test_read_glue_returns_markdown_glue_as_its_text(tmp_path: Path) -> None:
    prefix = "application/papermill.record/"
    out = {"output_type": "display_data", "metadata": {"scrapbook": {"name": "m", "mime_prefix": prefix}},
           "data": {f"{prefix}text/markdown": "ResNet50",
                    f"{prefix}text/plain": "<IPython.core.display.Markdown object>"}}  # fmt: skip
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [{"outputs": [out]}]}))
    assert claims.read_glue(path) == {"m": "ResNet50"}
