"""`make book` refuses what it would silently drop and passes paths as they are (issue 28)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _fake_venv(tmp_path: Path) -> tuple[Path, Path]:
    """A venv whose python only writes down its arguments (nothing is installed or run)."""
    bin_ = tmp_path / "venv" / "bin"
    bin_.mkdir(parents=True)
    calls = tmp_path / "calls.jsonl"
    python = bin_ / "python"
    python.write_text("#!/usr/bin/env python3\nimport json, sys\n"
                      f"open({str(calls)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n")
    python.chmod(0o755)
    installed = bin_ / ".installed"
    installed.touch()
    later = (ROOT / "pyproject.toml").stat().st_mtime + 10
    os.utime(installed, (later, later))
    return tmp_path / "venv", calls


def _make(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    venv, calls = _fake_venv(tmp_path)
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATASET", "FOLDER", "POSITIVE", "REGIME", "MAKEFLAGS", "MFLAGS"}}
    proc = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "book",
                           f"VENV={venv}", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    made = [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
    return proc, made


@pytest.mark.parametrize("args, named", [
    (["DATASET=Folder", "FOLDER=/photos", "POSITIVE=Acne"], "DATASET='Folder'"),
    (["FOLDER=/photos", "POSITIVE=Acne"], "FOLDER is set but DATASET is not 'folder'"),
    (["POSITIVE=Acne"], "POSITIVE is set but DATASET is not 'folder'"),
    (["DATASET=folder", "FOLDER=/photos"], "needs FOLDER=/path/to/photos POSITIVE="),
])
def test_row03_make_book_refuses_a_dataset_typo_or_folder_without_dataset(
        tmp_path: Path, args: list[str], named: str) -> None:
    proc, made = _make(tmp_path, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert named in proc.stderr
    assert made == [], "nothing may run (no chapter, no ISIC book) after a wrong variable"


def test_row17_make_book_passes_folder_and_positive_as_they_are(tmp_path: Path) -> None:
    touched = tmp_path / "X"
    folder = f"a`touch {touched}` $(touch {touched}) \"quoted\" 'single'"
    proc, made = _make(tmp_path, "DATASET=folder", f"FOLDER={folder}", 'POSITIVE=Ac"ne')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not touched.exists(), "a value from the command line was run by the shell"
    assert made == [["-m", "helpers", "own-folder", "--folder", folder, "--positive", 'Ac"ne',
                     "--regime", "frozen"]]
