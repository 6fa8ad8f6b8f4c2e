"""Locations come from arguments, then environment variables, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import config


def test_explicit_beats_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.ENV_DATA_DIR, str(tmp_path / "env"))
    assert config.data_root(tmp_path / "arg") == (tmp_path / "arg").resolve()
    assert config.data_root() == (tmp_path / "env").resolve()
    monkeypatch.delenv(config.ENV_DATA_DIR)
    assert config.data_root().parts[-2:] == ("resbook", "data")


def test_weights_dir_is_none_when_unconfigured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(config.ENV_WEIGHTS_DIR, raising=False)
    assert config.weights_dir() is None


def test_relative_path_found_from_a_chapter_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "_toc.yml").write_text("root: intro\n")
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "results" / "paper").mkdir(parents=True)
    chapters = tmp_path / "book" / "chapters"
    chapters.mkdir(parents=True)
    monkeypatch.chdir(chapters)  # where nbval runs a chapter's kernel
    assert config.project_root() == tmp_path.resolve()
    assert config.results_dir("results/paper") == (tmp_path / "results" / "paper").resolve()
    # a relative path that exists nowhere stays relative to the working directory
    assert config.results_dir("results/nothing") == (chapters / "results" / "nothing").resolve()
