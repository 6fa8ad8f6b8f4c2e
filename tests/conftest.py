"""Test-suite set-up; helpers that are not fixtures live in *_fixtures.py."""

from __future__ import annotations

import pytest

# plain asserts in the shared training helpers report their values, as in a test module
pytest.register_assert_rewrite("train_fixtures")

