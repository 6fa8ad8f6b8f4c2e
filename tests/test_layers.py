"""The package's layers (CONTRIBUTING.md, "Where does X go"), kept by reading the code's imports.

Each module belongs to a layer named by its folder; a layer imports only the layers below it:

    ground (files, yamlfile, config, paper_reference, model_names, nbparams)
    stats → data → runs → training → deploy, analysis, sweep → chapters → build → cli

Plotting and notebook display (matplotlib, seaborn, IPython, myst_nb) are imported only by
``chapters/``; a run record's JSON is opened only by ``runs/``; no module imports another
package's ``_private`` name. Imports inside functions count as much as those at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "helpers"

GROUND = {"files", "yamlfile", "config", "paper_reference", "model_names", "nbparams", "__init__"}
#: What each layer may import (its own layer is always allowed).
ALLOWED: dict[str, set[str]] = {
    "ground": {"ground"},
    "stats": {"ground"},
    "data": {"ground", "stats"},
    "runs": {"ground", "stats"},
    "training": {"ground", "stats", "data", "runs"},
    "deploy": {"ground", "stats", "data", "runs", "training"},
    "analysis": {"ground", "stats", "data", "runs", "training"},
    "sweep": {"ground", "stats", "data", "runs", "training"},
    "chapters": {"ground", "stats", "data", "runs", "training", "deploy", "analysis", "sweep"},
    "build": {"ground", "stats", "data", "runs", "training", "deploy", "analysis", "sweep",
              "chapters"},
    "cli": {"ground", "stats", "data", "runs", "training", "deploy", "analysis", "sweep",
            "chapters", "build"},
}
PRESENTATION = {"matplotlib", "seaborn", "IPython", "myst_nb"}
#: Modules outside runs/ that parse JSON, and what they parse (none of it a run record).
JSON_READERS = {
    "build/book.py": "executed chapter notebooks (.ipynb)",
    "chapters/formatting.py": "executed chapter notebooks, to scan what a page shows",
    "chapters/claims.py": "executed chapter notebooks, to read their glued values",
    "build/ownfolder.py": "the own-folder marker file (which folder a results tree is for)",
    "data/cache.py": "the image cache's metadata",
    "training/checkpoints.py": "a checkpoint's training state",
    "training/weights.py": "the local weights table",
    "deploy/latency.py": "the latency benchmark subprocess's output line",
    "deploy/records.py": "a deep copy of a deployment record (json round trip)",
    "sweep/execute.py": "a detached run's summary",
    "sweep/locks.py": "a sweep lock file",
    "sweep/device_travel.py": "the inputs.json of a GPU job's carried parts",
}


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py"))


def _layer(path: Path) -> str:
    rel = path.relative_to(SRC)
    if len(rel.parts) > 1:
        return rel.parts[0]
    if rel.stem in {"cli", "__main__"}:
        return "cli"
    assert rel.stem in GROUND, f"{rel}: a top-level module that belongs to no layer"
    return "ground"


def _target_layer(dotted: str) -> str | None:
    parts = dotted.split(".")
    if parts[0] != "helpers":
        return None
    if len(parts) == 1:
        return "ground"
    if (SRC / parts[1]).is_dir():
        return parts[1]
    return "cli" if parts[1] in {"cli", "__main__"} else "ground"


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import in ``path``, relative ones made absolute."""
    rel = path.relative_to(SRC.parent).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names = [a.name for a in node.names]
            out.append((node.lineno, mod, names))
            # ``from helpers import stats`` imports a package: count the sub-module's layer
            for n in names:
                if mod == "helpers" and (SRC / n).is_dir():
                    out.append((node.lineno, f"helpers.{n}", []))
    return out


def _violations(check) -> list[str]:
    found = []
    for path in _modules():
        for line, mod, names in _imports(path):
            why = check(path, mod, names)
            if why:
                found.append(f"{path.relative_to(SRC)}:{line}: {why}")
    return found


def test_every_layer_imports_only_the_layers_below_it():
    def check(path, mod, names):
        src, dst = _layer(path), _target_layer(mod)
        if dst is None or dst == src or (mod == "helpers" and not any(
                (SRC / n).is_dir() for n in names)):
            return None
        return None if dst in ALLOWED[src] else f"{src} imports {mod} ({dst})"

    assert _violations(check) == []


def test_only_chapters_import_plotting_or_notebook_display():
    def check(path, mod, names):
        top = mod.split(".")[0]
        if top in PRESENTATION and _layer(path) != "chapters":
            return f"imports {mod}: plotting and display belong in chapters/"
        return None

    assert _violations(check) == []


def test_no_module_imports_another_packages_private_name():
    def check(path, mod, names):
        if _target_layer(mod) is None:
            return None
        own = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
        other_package = mod != own and not mod.startswith(own + ".") and mod != "helpers"
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        if private and (other_package or _target_layer(mod) != _layer(path)):
            return f"imports {', '.join(private)} from {mod}: make it public or move it"
        return None

    assert _violations(check) == []


def _json_parsers(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "json"
                and node.func.attr in {"load", "loads"}):
            lines.append(node.lineno)
    return lines


def test_only_runs_opens_a_record_s_json():
    found = []
    for path in _modules():
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("runs/") or not _json_parsers(path):
            continue
        if rel not in JSON_READERS:
            found.append(f"{rel}:{_json_parsers(path)}: parses JSON; read records through "
                         "helpers.runs, or list what else it reads in JSON_READERS")
    assert found == []
    unused = [m for m in JSON_READERS if not _json_parsers(SRC / m)]
    assert unused == [], f"JSON_READERS lists modules that parse no JSON: {unused}"


@pytest.mark.parametrize("rule", ["layer", "private"])
def test_the_rules_catch_a_planted_violation(tmp_path, rule):
    """Each rule fails on a module that breaks it (so the tests above can fail)."""
    pkg = tmp_path / "helpers"
    (pkg / "stats").mkdir(parents=True)
    (pkg / "chapters").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "chapters" / "__init__.py").write_text("")
    (pkg / "chapters" / "page.py").write_text("_hidden = 1\n")
    body = ("from helpers.chapters.page import x\n" if rule == "layer"
            else "from helpers.chapters.page import _hidden\n")
    (pkg / "stats" / "__init__.py").write_text(body)
    globals()["SRC"], saved = pkg, SRC
    try:
        with pytest.raises(AssertionError):
            if rule == "layer":
                test_every_layer_imports_only_the_layers_below_it()
            else:
                test_no_module_imports_another_packages_private_name()
    finally:
        globals()["SRC"] = saved


MAX_LINES = 450


def test_no_module_is_over_450_lines_without_saying_why():
    long = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if len(text.splitlines()) > MAX_LINES and "Why over 450 lines:" not in doc:
            long.append(f"{path.relative_to(SRC)} ({len(text.splitlines())} lines)")
    assert long == [], ("split these, or say at the top of the module why it must stay whole "
                        "(a line starting 'Why over 450 lines:')")


def test_the_top_level_holds_only_the_ground_floor():
    """A new top-level module must be placed in a layer (folder) or declared ground here."""
    top = {p.stem for p in SRC.glob("*.py")} - {"cli", "__main__"}
    assert top <= GROUND, f"modules outside the layers: {sorted(top - GROUND)}"


def test_paths_derived_from_a_module_s_own_file_survive_the_layout(tmp_path, monkeypatch):
    """Code that finds the package or the checkout from ``__file__`` (moved one floor down by
    the re-layout): the chapters' staleness hash must cover the whole package, and the
    own-folder book must find this checkout from any working directory."""
    from helpers.build import book, ownfolder

    assert book.helpers_dir() == SRC
    monkeypatch.chdir(tmp_path)
    assert ownfolder.repo_root() == SRC.parents[1]


def test_the_package_names_chapters_by_what_they_are_not_by_number():
    """Reordering the book must not touch the package: no "chapter 04" or "ch. 04" in it."""
    import re

    numbered = re.compile(r"\b(?:[Cc]hapters?|ch\.) ?0[1-9]\b")
    found = [f"{p.relative_to(SRC)}:{i}" for p in _modules()
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if numbered.search(line)]
    assert found == [], found


def test_every_package_says_what_it_holds():
    """Each layer's ``__init__`` has a real docstring (not a placeholder)."""
    for init in sorted(SRC.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert len(doc.split()) >= 8 and "TODO" not in doc, init.relative_to(SRC)
