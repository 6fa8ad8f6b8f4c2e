"""No silent wrong results: inputs that changed, typos, damaged files, duplicate keys, bad runs.

Fast tests (a tiny stand-in notebook, fake files); the training ones use 16 images at 32 px.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import book as B
from helpers import sweep as S
from helpers.yamlfile import DuplicateKeyError, loads_yaml

# ------------------------------------------------------------------ 4. duplicate YAML keys


def test_duplicate_yaml_key_in_a_sweep_config_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "dup.yaml"
    cfg.write_text("name: d\nnotebook: nb.py\ngrid:\n  resolution: [64]\n  seed: [0]\n"
                   "  resolution: [128]\n")
    with pytest.raises(S.SweepConfigError, match=r"dup\.yaml:6: key 'resolution' appears twice"):
        S.load_config(cfg)


def test_duplicate_yaml_key_in_the_book_registry_is_an_error(tmp_path: Path) -> None:
    reg = tmp_path / "book.yaml"
    reg.write_text("parts:\n  - caption: P\n    chapters:\n"
                   "      - notebook: a.py\n        output: a.ipynb\n        output: b.ipynb\n")
    with pytest.raises(DuplicateKeyError, match=r"book\.yaml:6: key 'output'.*line 5"):
        B.load_registry(reg)


def test_yaml_merge_keys_may_still_override() -> None:
    assert loads_yaml("a: &x {e: 1}\nb: {<<: *x, e: 2}\n") == {"a": {"e": 1}, "b": {"e": 2}}
