"""Execute the book's chapters with papermill from a YAML of parameter sets (every chapter)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Chapter:
    """One notebook source, its executed output and its papermill parameters."""

    notebook: Path
    output: Path
    parameters: dict[str, Any] = field(default_factory=dict)


def load_chapters(config_path: str | os.PathLike[str]) -> list[Chapter]:
    """Read the chapter list (``configs/book.yaml``) used by ``make book``."""
    path = Path(config_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such chapter list (expected e.g. configs/book.yaml)")
    raw = yaml.safe_load(path.read_text()) or {}
    entries = raw.get("chapters")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: expected a non-empty list under 'chapters:'")
    chapters = []
    for i, entry in enumerate(entries):
        missing = {"notebook", "output"} - set(entry)
        if missing:
            raise ValueError(f"{path}: chapter {i} lacks {sorted(missing)}")
        params = entry.get("parameters") or {}
        if not isinstance(params, dict):
            raise ValueError(f"{path}: chapter {i} 'parameters' must be a mapping")
        chapters.append(Chapter(Path(entry["notebook"]), Path(entry["output"]), params))
    return chapters


def execute_chapter(chapter: Chapter) -> float:
    """Run one jupytext source through papermill into its executed ``.ipynb``; returns seconds."""
    import jupytext
    import papermill as pm

    if not chapter.notebook.is_file():
        raise FileNotFoundError(f"{chapter.notebook}: notebook source not found")
    chapter.output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    pm.execute_notebook(
        jupytext.read(chapter.notebook),
        str(chapter.output),
        parameters=chapter.parameters,
        kernel_name="python3",
        cwd=str(Path.cwd()),
        progress_bar=False,
    )
    return time.perf_counter() - start


def execute_chapters(config_path: str | os.PathLike[str], only: str | None = None) -> None:
    """Execute every chapter listed in the YAML (``make book`` / ``make notebooks``)."""
    for chapter in load_chapters(config_path):
        if only and only not in str(chapter.output):
            continue
        print(f"executing {chapter.notebook} -> {chapter.output}", flush=True)
        seconds = execute_chapter(chapter)
        print(f"  done in {seconds:.0f} s", flush=True)
