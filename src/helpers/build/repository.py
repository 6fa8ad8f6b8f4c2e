"""The book's repository address: read from ``_config.yml`` and moved everywhere in one command.

``_config.yml``'s ``repository.url`` is the one place the address is set (the repository button
and the Binder/Colab launch buttons derive from it). A few files must repeat it because they are
read where the package is not installed yet or by other tools: ``CITATION.cff``, the intro's
"Cite this book" block, and each chapter's first cell, which clones the repository on Colab.
:func:`set_repository_url` rewrites every copy at once (``python -m helpers repository-url
NEW_URL``, reproducibility page); ``tests/test_publish.py`` fails while any copy differs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

URL_PATTERN = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+")
"""What a repository address must look like (no trailing slash, no ``.git``)."""

TEXT_GLOBS = ("README.md", "CONTRIBUTING.md", "CITATION.cff", "environment.yml", "pyproject.toml",
              "_config.yml", "book/**/*.md", "book/chapters/*.ipynb", "notebooks/*.py",
              "src/**/*.py", ".github/**/*.yml", ".github/**/*.yaml")  # fmt: skip
"""The text files that may name the repository."""


def configured_url(root: str | os.PathLike[str]) -> str:
    """``repository.url`` of ``<root>/_config.yml``; ValueError naming the file if absent."""
    path = Path(root) / "_config.yml"
    url = ((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("repository") or {}).get("url")
    if not isinstance(url, str) or not URL_PATTERN.fullmatch(url):
        raise ValueError(f"{path}: repository.url must be https://github.com/OWNER/NAME; got {url!r}")
    return url


def files_naming(root: str | os.PathLike[str], url: str) -> list[Path]:
    """The text files under ``root`` (:data:`TEXT_GLOBS`) that contain ``url``, sorted."""
    base = Path(root)
    found = {p for pattern in TEXT_GLOBS for p in base.glob(pattern)
             if p.is_file() and url in p.read_text(encoding="utf-8", errors="replace")}  # fmt: skip
    return sorted(found)


def set_repository_url(root: str | os.PathLike[str], new_url: str) -> list[Path]:
    """Replace the configured address by ``new_url`` in every file that names it; the files changed.

    ValueError (nothing written) when ``new_url`` is not ``https://github.com/OWNER/NAME``.
    The chapters' first cells change too, so the chapters must be re-executed afterwards
    (``make notebooks``).
    """
    new_url = new_url.rstrip("/")
    if new_url.endswith(".git"):
        new_url = new_url[: -len(".git")]
    if not URL_PATTERN.fullmatch(new_url):
        raise ValueError(f"new repository URL must be https://github.com/OWNER/NAME; got {new_url!r}")
    old = configured_url(root)
    if old == new_url:
        return []
    pattern = re.compile(re.escape(old) + r"(\.git)?(?![\w.-])")
    texts = {}
    for path in files_naming(root, old):  # read everything first: a bad file changes nothing
        with open(path, encoding="utf-8", newline="") as fh:  # keeps CRLF line endings
            texts[path] = fh.read()
    changed = []
    for path, text in texts.items():
        new_text = pattern.sub(lambda m: new_url + (m.group(1) or ""), text)
        if new_text != text:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(new_text)
            changed.append(path)
    return changed
