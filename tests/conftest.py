"""Fixtures shared by several test files; helpers that are not fixtures live in *_fixtures.py."""

from __future__ import annotations

import pytest

# plain asserts in the shared training helpers report their values, as in a test module
pytest.register_assert_rewrite("train_fixtures")


@pytest.fixture
def folder_env(tmp_path, monkeypatch):
    """A fresh ``RESBOOK_CACHE_DIR`` under tmp_path and no ``RESBOOK_DATA_DIR`` (data chapter).

    For the folder data set tests: every image comes from the test's own folder, and no cache
    of another test or of the real data is read.
    """
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RESBOOK_DATA_DIR", raising=False)
