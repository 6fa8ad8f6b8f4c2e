"""The book builds offline with warnings as errors and renders in a real (headless) browser."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.book import load_chapters

ROOT = Path(__file__).resolve().parents[1]


def test_chapter_list_points_at_existing_sources() -> None:
    chapters = load_chapters(ROOT / "configs" / "book.yaml")
    assert [c.output.name for c in chapters] == [
        "01_data.ipynb",
        "02_separable_cost.ipynb",
        "03_train.ipynb",
        "04_results.ipynb",
    ]
    for chapter in chapters:
        assert (ROOT / chapter.notebook).is_file(), chapter.notebook
        # No machine-specific location may be baked into the book's parameters.
        assert not any(k in chapter.parameters for k in ("data_root", "weights_dir", "cache_dir"))


def test_chapter_list_errors_are_explicit(tmp_path: Path) -> None:
    bad = tmp_path / "book.yaml"
    bad.write_text("chapters:\n  - notebook: a.py\n")
    with pytest.raises(ValueError, match="lacks \\['output'\\]"):
        load_chapters(bad)
    with pytest.raises(FileNotFoundError, match="no such chapter list"):
        load_chapters(tmp_path / "missing.yaml")


def _chromium_or_skip() -> None:
    if shutil.which("chromium") or os.environ.get("RESBOOK_CHROMIUM"):
        return
    if os.environ.get("RESBOOK_REQUIRE_BROWSER"):
        pytest.fail("RESBOOK_REQUIRE_BROWSER is set but no chromium is installed")
    pytest.skip("no chromium: `apt-get install chromium` to run the rendering check")


@pytest.fixture(scope="module")
def built_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run(
        [str(jb), "build", str(ROOT), "--path-output", str(out), "--warningiserror", "--keep-going"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out / "_build" / "html"


def test_book_builds_offline_without_warnings(built_book: Path) -> None:
    for page in ["index.html", "book/data.html", "book/reproducibility.html"]:
        assert (built_book / page).is_file(), page
    for chapter in load_chapters(ROOT / "configs" / "book.yaml"):
        page = built_book / chapter.output.with_suffix(".html")
        assert page.is_file(), page


@pytest.mark.browser
def test_index_and_data_chapter_render_with_figures(built_book: Path, tmp_path: Path) -> None:
    _chromium_or_skip()
    from helpers.browser import check_rendered_book

    index, data = check_rendered_book(built_book, tmp_path)
    assert "resolution" in index.title.lower()
    assert index.screenshot.stat().st_size > 10_000
    # The data chapter shows Fig. 1 (samples at each resolution): it must be on the page and load.
    assert data.images_total >= 1
    assert data.images_loaded == data.images_total
    assert data.screenshot.stat().st_size > 10_000
