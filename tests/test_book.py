"""The book builds offline with warnings as errors and renders in a real (headless) browser."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.build import book as B
from helpers.build.book import load_chapters

ROOT = Path(__file__).resolve().parents[1]


def test_chapter_list_points_at_existing_sources() -> None:
    chapters = load_chapters(ROOT / "configs" / "book.yaml")
    assert [c.output.name for c in chapters] == [
        "01_data.ipynb",
        "02_separable_cost.ipynb",
        "03_train.ipynb",
        "04_results.ipynb",
        "11_beyond_auc.ipynb",
        "09_external_site.ipynb",
        "07_pneumonia_mobilenetv2.ipynb",
        "08_findings_resolution.ipynb",
        "06_deployment.ipynb",
        "05_precision_parity.ipynb",
        "10_or_hillis_size.ipynb",
    ]
    for chapter in chapters:
        assert (ROOT / chapter.notebook).is_file(), chapter.notebook
        # No machine-specific location may be baked into the book's parameters.
        assert not any(k in chapter.parameters for k in ("data_root", "weights_dir", "cache_dir"))


def test_chapter_list_errors_are_explicit(tmp_path: Path) -> None:
    bad = tmp_path / "book.yaml"
    bad.write_text("parts:\n  - caption: P\n    chapters:\n      - notebook: a.py\n")
    with pytest.raises(ValueError, match="lacks \\['output'\\]"):
        load_chapters(bad)
    bad.write_text("parts:\n  - caption: P\n    chapters:\n"
                   "      - {notebook: a.py, output: a.ipynb, nbval: loose}\n")
    with pytest.raises(ValueError, match="nbval='loose'"):
        load_chapters(bad)
    bad.write_text("parts:\n  - caption: P\n    chapters:\n"
                   "      - {notebook: a.py, output: a.ipynb, parameter: {}}\n")
    with pytest.raises(ValueError, match="unknown key"):
        load_chapters(bad)
    bad.write_text("chapters:\n  - notebook: a.py\n")
    with pytest.raises(ValueError, match="'parts:'"):
        load_chapters(bad)
    with pytest.raises(FileNotFoundError, match="no such chapter list"):
        load_chapters(tmp_path / "missing.yaml")


def _chromium_or_skip() -> None:
    if shutil.which("chromium") or os.environ.get("RESBOOK_CHROMIUM"):
        return
    if os.environ.get("RESBOOK_REQUIRE_BROWSER"):
        pytest.fail("RESBOOK_REQUIRE_BROWSER is set but no chromium is installed")
    pytest.skip("no chromium: `apt-get install chromium` to run the rendering check")


REGISTRY = ROOT / "configs" / "book.yaml"


def test_toc_is_generated_from_the_registry() -> None:
    """_toc.yml is exactly what the registry produces: a page added in one place only fails."""
    assert (ROOT / "_toc.yml").read_text() == B.toc_yaml(REGISTRY)


def test_every_notebook_is_registered_and_every_page_exists() -> None:
    reg = B.load_registry(REGISTRY)
    sources = {c.notebook.as_posix() for c in reg.chapters}
    on_disk = {p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.py")
               if not p.name.startswith("_")}
    assert sources == on_disk, "register each notebooks/*.py in configs/book.yaml"
    for part in reg.parts:
        for entry in part.entries:
            if isinstance(entry, Path):
                assert (ROOT / entry).with_suffix(".md").is_file(), entry
            else:
                assert (ROOT / entry.output).is_file(), f"{entry.output}: run make notebooks"


def test_nbval_modes_partition_the_chapters() -> None:
    strict, lax = (set(B.nbval_outputs(REGISTRY, m)) for m in ("strict", "lax"))
    assert not strict & lax
    assert strict | lax == {str(c.output) for c in load_chapters(REGISTRY)}
    assert "book/chapters/03_train.ipynb" in lax  # training logs and timings vary
    with pytest.raises(ValueError, match="mode="):
        B.nbval_outputs(REGISTRY, "loose")


def test_committed_chapters_are_normalised() -> None:
    """No timing metadata or random cell ids: re-executing an unchanged chapter changes no byte
    outside its volatile outputs."""
    import json

    for chapter in load_chapters(REGISTRY):
        nb = json.loads((ROOT / chapter.output).read_text())
        meta = nb["metadata"]["papermill"]
        assert set(meta) <= set(B._PAPERMILL_KEEP), (chapter.output, sorted(meta))
        assert meta["input_path"] == chapter.notebook.as_posix()
        ids = [c["id"] for c in nb["cells"]]
        again = json.loads(json.dumps(nb))
        B.stable_cell_ids(again)
        assert ids == [c["id"] for c in again["cells"]], chapter.output
        for cell in nb["cells"]:
            assert "papermill" not in cell["metadata"] and "execution" not in cell["metadata"]


def test_committed_chapters_were_executed_from_the_current_inputs() -> None:
    """Each executed chapter stores the hash of its inputs (source, parameters, helpers, records):
    a change to any of them without `make notebooks` fails here, before nbval even runs."""
    stale = [str(c.output) for c in load_chapters(REGISTRY) if not B.is_current(c, ROOT)]
    assert not stale, f"re-execute with `make notebooks`: {stale}"


def test_normalise_is_idempotent_and_ids_follow_the_source() -> None:
    chapter = B.Chapter(Path("notebooks/x.py"), Path("book/chapters/x.ipynb"), {"a": 1})
    cells = [{"cell_type": "code", "source": "x = 1", "metadata": {"papermill": {"t": 1}},
              "outputs": [], "execution_count": 3},
             {"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": []},
             {"cell_type": "markdown", "source": "# T", "metadata": {}}]
    nb = {"cells": cells, "metadata": {"papermill": {"duration": 2.0, "parameters": {"a": 1},
                                                     "input_path": {"cells": []}}}}
    B.normalise_notebook(nb, chapter, "abc")
    first = [c["id"] for c in nb["cells"]]
    assert len(set(first)) == 3 and first[1] == first[0] + "-1"
    assert nb["metadata"]["papermill"] == {"parameters": {"a": 1}, "input_path": "notebooks/x.py",
                                           "output_path": "book/chapters/x.ipynb"}
    assert nb["metadata"][B.INPUTS_KEY] == "abc"
    assert nb["cells"][0]["execution_count"] == 3 and nb["cells"][0]["metadata"] == {}
    B.normalise_notebook(nb, chapter, "abc")
    assert [c["id"] for c in nb["cells"]] == first


def test_inputs_hash_follows_source_parameters_and_named_folders(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "x.py").write_text("print(1)\n")
    (tmp_path / "res" / "records").mkdir(parents=True)
    (tmp_path / "res" / "records" / "r.json").write_text("{}")
    ch = B.Chapter(Path("notebooks/x.py"), Path("out.ipynb"), {"results_dir": "res"})
    h0 = B.inputs_hash(ch, tmp_path)
    assert B.inputs_hash(ch, tmp_path) == h0
    (tmp_path / "res" / "records" / "r2.json").write_text("{}")
    h1 = B.inputs_hash(ch, tmp_path)
    assert h1 != h0
    assert B.inputs_hash(B.Chapter(ch.notebook, ch.output, {"results_dir": "res", "k": 2}),
                         tmp_path) != h1
    (tmp_path / "notebooks" / "x.py").write_text("print(2)\n")
    assert B.inputs_hash(ch, tmp_path) != h1


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


#: Desktop height budgets (px at 1366 px wide) of the longest pages; others get the default.
#: A page that grows past its budget fails: fold what a reader does not need first, or raise
#: the budget here on purpose. The results chapter keeps to the 15,000 px the reader-facing
#: issue asks for (it was about 30,000 before the threshold, calibration and fit analyses moved
#: to the companion chapter "Beyond the AUC").
DEFAULT_BUDGET_PX = 12_000
HEIGHT_BUDGET_PX = {
    "book/chapters/04_results.html": 15_000,
    "book/chapters/11_beyond_auc.html": 17_500,
    "book/chapters/02_separable_cost.html": 19_000,
    "book/chapters/09_external_site.html": 18_000,
    "book/chapters/06_deployment.html": 13_500,
    # the child as the unit (the split check, the widening and the folded image-vs-child
    # tests) and the three skin-vs-chest pairs: about 12,200 px with its long tables folded
    "book/chapters/08_findings_resolution.html": 13_000,
}


@pytest.mark.browser
def test_every_page_renders_fits_the_column_and_loads_its_figures(
    built_book: Path, tmp_path: Path
) -> None:
    _chromium_or_skip()
    from helpers.build.browser import book_pages, check_rendered_book

    pages = book_pages(REGISTRY)
    report = {p.page: p for p in check_rendered_book(built_book, tmp_path, pages)}
    assert set(report) == set(pages)
    assert "resolution" in report["index.html"].title.lower()
    problems = {name: (p.images_loaded, p.images_total, p.overflows, p.console_errors,
                       p.phone_overflows, p.images_without_alt, p.images_low_res,
                       p.phone_figures)
                for name, p in report.items() if not p.ok}
    assert not problems, problems
    too_tall = {name: (p.height_px, HEIGHT_BUDGET_PX.get(name, DEFAULT_BUDGET_PX))
                for name, p in report.items()
                if p.height_px > HEIGHT_BUDGET_PX.get(name, DEFAULT_BUDGET_PX)}
    assert not too_tall, f"pages taller than their budget at desktop width (px): {too_tall}"
    for p in report.values():
        assert p.screenshot.stat().st_size > 10_000, p.page
    # The data chapter shows samples at each resolution; the results chapter its summary figure;
    # "Beyond the AUC" the paper's other figures (cost, confusion, calibration, curves, fit).
    assert report["book/chapters/01_data.html"].images_total >= 1
    assert report["book/chapters/04_results.html"].images_total >= 1
    assert report["book/chapters/11_beyond_auc.html"].images_total >= 5


def test_chapter_template_has_the_header_every_chapter_needs() -> None:
    text = (ROOT / "notebooks" / "_template.py").read_text()
    for heading in ("**Purpose.**", "**Parameters**", "**Prerequisites.**", "**Time to run.**",
                    "**What you will learn.**", "Run it yourself", 'tags=["parameters"]'):
        assert heading in text, heading


@pytest.mark.browser
def test_the_page_check_catches_a_wide_table_and_a_broken_image(tmp_path: Path) -> None:
    """The checker itself must fail on what it is for (else the every-page test proves nothing)."""
    _chromium_or_skip()
    from helpers.build.browser import check_rendered_book

    html = tmp_path / "html"
    html.mkdir()
    cells = "".join(f"<th>column number {i}</th>" for i in range(30))
    (html / "wide.html").write_text(
        "<html><head><title>t</title></head><body><main><article class='bd-article' "
        f"style='width:600px'><table><tr>{cells}</tr></table><img src='missing.png'>"
        "<img src='missing.png' style='width:10px'></article></main></body></html>")
    (html / "ok.html").write_text(
        "<html><head><title>t</title></head><body><main><article class='bd-article' "
        "style='width:600px'><table><tr><th>a</th><th>b</th></tr></table></article></main>"
        "</body></html>")
    (html / "twice.html").write_text(  # e.g. a config script that a theme includes twice
        "<html><head><title>t</title><script>const X = 1;</script><script>const X = 1;</script>"
        "</head><body><main><article class='bd-article'>text</article></main></body></html>")
    wide, ok, twice = check_rendered_book(html, tmp_path / "shots",
                                          ["wide.html", "ok.html", "twice.html"])
    assert not wide.ok and wide.images_loaded == 0 and wide.images_total == 2
    assert any("column number 0" in o for o in wide.overflows), wide.overflows
    assert ok.ok and not ok.overflows and not ok.console_errors
    assert not twice.ok and any("already been declared" in e for e in twice.console_errors), (
        twice.console_errors)


def test_prose_names_chapters_and_sections_by_link_not_by_typed_number() -> None:
    """The TOC numbers chapters and sections; a typed "chapter 4" or "section 2" (or a heading
    numbered by hand, shown as "3.1. 1. ...") goes wrong when a page moves. Prose links instead
    ({doc}, {ref} to a section label)."""
    import re

    typed = re.compile(r"\b(?:[Cc]hapters?|[Ss]ections?) \d")
    offenders = []
    for path in [*sorted((ROOT / "notebooks").glob("*.py")), *sorted((ROOT / "book").glob("*.md"))]:
        for i, line in enumerate(path.read_text().splitlines(), 1):
            prose = line.startswith("# ") if path.suffix == ".py" else True
            if prose and (typed.search(line) or re.match(r"^(?:# )?#{2,3} \d+\. ", line)):
                offenders.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()[:80]}")
    assert not offenders, "\n".join(offenders)
