"""helpers.files (the one atomic write and file hash) and helpers.config's one root finder."""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import pytest

from helpers import config, files
from helpers.runs import records as R


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_get_new_file_permissions(tmp_path: Path, umask: int, mode: int) -> None:
    """Records (and every atomic write) get 0o666 less the umask, not mkstemp's 0600."""
    old = os.umask(umask)
    try:
        assert files.current_umask() == umask
        rec = R.write_json_atomic(tmp_path / "records" / "r.json", {"a": 1})
        raw = files.atomic_write_bytes(tmp_path / "b.bin", b"xyz", durable=False)
    finally:
        os.umask(old)
    assert rec.stat().st_mode & 0o777 == mode
    assert raw.stat().st_mode & 0o777 == mode and raw.read_bytes() == b"xyz"


def test_atomic_write_failing_writer_keeps_old_file(tmp_path: Path) -> None:
    path = files.atomic_write_bytes(tmp_path / "f.bin", b"old")

    def half(fh) -> None:
        fh.write(b"half of the new")
        raise RuntimeError("writer died")

    with pytest.raises(RuntimeError, match="writer died"):
        files.atomic_write(path, half)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_atomic_write_json_options_and_hash_file(tmp_path: Path) -> None:
    path = files.atomic_write_json(tmp_path / "t.json", {"b": 1, "a": math.nan}, indent=None,
                                   sort_keys=True, durable=False)
    assert path.read_text(encoding="utf-8") == '{"a": null, "b": 1}\n'
    assert files.hash_file(path, "md5") == hashlib.md5(path.read_bytes()).hexdigest()
    assert files.sha256_file(path) == R.sha256_file(path) == hashlib.sha256(
        path.read_bytes()).hexdigest()
    assert R.to_jsonable is files.to_jsonable


def test_find_root_wants_pyproject_only_and_falls_back_to_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "configs").mkdir()
    assert config.project_root(tmp_path / "configs") is None  # no _toc.yml: not the book
    assert config.find_root(tmp_path / "configs") == tmp_path.resolve()
    (tmp_path / "_toc.yml").write_text("root: intro\n")
    assert config.project_root(tmp_path / "configs") == tmp_path.resolve()
    elsewhere = tmp_path / "a" / "b"
    elsewhere.mkdir(parents=True)
    (tmp_path / "pyproject.toml").unlink()
    monkeypatch.chdir(elsewhere)
    assert config.find_root(tmp_path / "configs") == elsewhere.resolve()


def test_replace_marked_block_keeps_the_rest_and_names_missing_markers(tmp_path: Path) -> None:
    from helpers.files import replace_marked_block

    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- t:start -->\nold\nrows\n<!-- t:end -->\noutro\n")
    replace_marked_block(readme, "t", "| a |\n| 1 |\n")
    assert readme.read_text() == "intro\n<!-- t:start -->\n| a |\n| 1 |\n<!-- t:end -->\noutro\n"
    replace_marked_block(readme, "t", "| b |")  # idempotent shape: markers stay
    assert readme.read_text().count("<!-- t:start -->") == 1
    assert "| b |" in readme.read_text() and "| a |" not in readme.read_text()
    with pytest.raises(ValueError, match="<!-- u:start -->"):
        replace_marked_block(readme, "u", "x")
