"""The discussion's claims re-checked against the glued numbers of the executed results chapter.

A claim whose evidence flips when chapter 04 is re-executed on new records fails here; so does a
glue name that the discussion page cites but the chapter no longer glues.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.results import claims

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "chapters" / "04_results.ipynb"
DISCUSSION = ROOT / "book" / "discussion.md"


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
    assert p_names and all(n.endswith(("_p_adj", "_p_adj_txt", "_p_ens")) for n in p_names), p_names
    for phrase in ("comes close", "come close", "trails it", "usually reach", "linear probes"):
        assert phrase not in text, phrase


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
