"""A failed or killed chapter run never replaces the book's chapter (helpers.build.book; issue 30)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from helpers.build import book as B

SOURCE = '''# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
fail = False
marker = ""

# %%
import pathlib
import time

if marker:
    pathlib.Path(marker).write_text("started")
    time.sleep(120)

# %%
if fail:
    raise ValueError("boom: no data here")
print("chapter ran")
'''
COMMITTED = b'{"committed": "the executed chapter as it is in git"}\n'


def _tree(tmp_path: Path, **params: object) -> tuple[Path, B.Chapter]:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "x.py").write_text(SOURCE, encoding="utf-8")
    out = tmp_path / "book" / "chapters" / "x.ipynb"
    out.parent.mkdir(parents=True)
    out.write_bytes(COMMITTED)
    return out, B.Chapter(Path("notebooks/x.py"), Path("book/chapters/x.ipynb"), dict(params))


def _running_files(out: Path) -> list[Path]:
    return sorted(out.parent.glob(".*.running-*"))


def test_a_chapter_that_raises_leaves_the_committed_file_and_keeps_its_notebook(
        tmp_path: Path) -> None:
    out, chapter = _tree(tmp_path, fail=True)
    with pytest.raises(Exception) as info:  # noqa: PT011 - the file is checked first
        B.execute_chapter(chapter, tmp_path)
    assert out.read_bytes() == COMMITTED
    assert isinstance(info.value, B.ChapterFailed)
    failed = tmp_path / "_build" / "failed" / "book" / "chapters" / "x.ipynb"
    assert info.value.failed == failed
    message = str(info.value)
    assert str(failed) in message and "ValueError: boom: no data here" in message
    assert "book/chapters/x.ipynb was left as it was" in message
    nb = nbformat.read(failed, as_version=4)  # readable, with the error where it happened
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "ValueError"
    assert not _running_files(out)


def test_a_chapter_run_killed_midway_leaves_the_committed_file(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    out, _ = _tree(tmp_path, marker=str(marker))
    code = ("import sys\nfrom pathlib import Path\nfrom helpers.build import book as B\n"
            "root = Path(sys.argv[1])\n"
            "ch = B.Chapter(Path('notebooks/x.py'), Path('book/chapters/x.ipynb'), "
            "{'marker': sys.argv[2]})\n"
            "B.execute_chapter(ch, root)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path), str(marker)],
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():  # the kernel is inside the chapter's second cell
            assert proc.poll() is None, "the chapter run ended before it could be killed"
            assert time.monotonic() < deadline, "the chapter never started"
            time.sleep(0.2)
        assert out.read_bytes() == COMMITTED
        assert _running_files(out), "papermill writes its progress beside the chapter"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the runner and its kernel, as kill -9 would
        proc.wait(timeout=30)
    assert out.read_bytes() == COMMITTED
    stale = _running_files(out)
    assert stale, "a killed run leaves only its hidden running file"
    assert B.remove_stale_running(out.parent) == stale
    assert not _running_files(out)


def test_a_chapter_that_finishes_is_written_normalised(tmp_path: Path) -> None:
    out, chapter = _tree(tmp_path)
    B.execute_chapter(chapter, tmp_path)
    nb = json.loads(out.read_text(encoding="utf-8"))
    assert nb["metadata"]["papermill"]["output_path"] == "book/chapters/x.ipynb"
    assert nb["metadata"]["papermill"]["input_path"] == "notebooks/x.py"
    assert nb["metadata"][B.INPUTS_KEY] == B.inputs_hash(chapter, tmp_path, [B.helpers_dir()])
    outputs = "".join("".join(o.get("text", "")) for c in nb["cells"]
                      for o in c.get("outputs", []))
    assert "chapter ran" in outputs
    for cell in nb["cells"]:
        assert "papermill" not in cell["metadata"] and "execution" not in cell["metadata"]
    tagged = {tuple(c["metadata"].get("tags", [])) for c in nb["cells"]}
    assert ("parameters", "remove-cell") in tagged  # the page names parameters in prose
    assert not _running_files(out)
    assert not (tmp_path / "_build" / "failed").exists()


def test_a_running_file_of_a_live_process_is_not_removed(tmp_path: Path) -> None:
    mine = tmp_path / f".x.ipynb.running-{os.getpid()}.ipynb"
    mine.write_text("{}")
    assert B.remove_stale_running(tmp_path) == [] and mine.exists()


def test_the_notebooks_command_exits_nonzero_when_a_chapter_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = _tree(tmp_path)
    (tmp_path / "book.yaml").write_text(
        "parts:\n  - caption: P\n    chapters:\n"
        "      - {notebook: notebooks/x.py, output: book/chapters/x.ipynb, "
        "parameters: {fail: true}}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    from helpers.cli import _cmd_notebooks

    assert _cmd_notebooks(["book.yaml", "--force"]) == 1
    assert "_build/failed/book/chapters/x.ipynb" in capsys.readouterr().err
    assert out.read_bytes() == COMMITTED


def test_a_failed_own_folder_chapter_keeps_the_previous_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`own-folder`: a data chapter that raises exits 1 and leaves the folder's chapter as it was."""
    import shutil

    from data_fixtures import make_folder

    from helpers.build import ownfolder

    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[1] / "notebooks" / "03_train.py",
                root / "notebooks" / "03_train.py")  # the sweep's runs are checked first
    (root / "notebooks" / "01_data.py").write_text(
        SOURCE.replace('fail = False\nmarker = ""',
                       'dataset = "folder"\ntask = None\nresolutions = [64]\nseed = 0\n'
                       'data_root = None\nfail = True\nmarker = ""'), encoding="utf-8")
    monkeypatch.setattr(ownfolder, "repo_root", lambda: root)
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    photos = make_folder(tmp_path / "photos", {"Acne": 12, "Normal": 12})
    out = tmp_path / "own"
    code = ownfolder.main(["--folder", str(photos), "--positive", "Acne", "--seeds", "0",
                           "--resolutions", "64", "--out", str(out)])
    before = out / "01_data.ipynb"
    assert code == 1 and not before.exists()
    err = capsys.readouterr().err
    assert "ValueError: boom: no data here" in err
    where = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:8]
    failed = root / "_build" / "failed" / f"own-{where}" / "01_data.ipynb"
    assert str(failed) in err and failed.is_file()
    before.write_bytes(COMMITTED)  # a chapter from an earlier, good run
    assert ownfolder.main(["--folder", str(photos), "--positive", "Acne", "--seeds", "0",
                           "--resolutions", "64", "--out", str(out)]) == 1
    assert before.read_bytes() == COMMITTED


# ------------------------------------------------------------- a sweep's run notebooks likewise
def _run_spec(tmp_path: Path, **options: object) -> dict:
    nb = tmp_path / "run.py"
    names = ["dataset", "task", "model", "resolution", "regime", "preprocessing", "seed"]
    nb.write_text(SOURCE.replace('fail = False', "\n".join(f"{n} = None" for n in names)
                                 + "\nfail = False"), encoding="utf-8")
    out = tmp_path / "out" / "notebooks" / "r.ipynb"
    out.parent.mkdir(parents=True)
    out.write_bytes(COMMITTED)
    params = {"dataset": "folder", "task": "Acne", "model": "mobilenet", "resolution": 64,
              "regime": "frozen", "preprocessing": "unit", "seed": 0}
    return {"run_id": "r", "params": params, "locations": {}, "options": dict(options),
            "notebook": str(nb), "notebook_out": str(out),
            "record": str(tmp_path / "out" / "records" / "r.json"), "cwd": str(tmp_path)}


def test_a_sweep_run_killed_midway_leaves_its_last_notebook(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    spec = _run_spec(tmp_path, marker=str(marker))
    out = Path(spec["notebook_out"])
    code = ("import json, sys\nfrom helpers.sweep.execute import execute_run\n"
            "execute_run(json.loads(sys.argv[1]))\n")
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(spec)],
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.2)
        assert out.read_bytes() == COMMITTED
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert out.read_bytes() == COMMITTED
    assert _running_files(out), "the killed run left only its hidden running file"


def test_a_sweep_run_puts_its_notebook_in_place_when_it_ends(tmp_path: Path) -> None:
    from helpers.sweep.execute import execute_run

    spec = _run_spec(tmp_path)
    out = Path(spec["notebook_out"])
    stale = out.with_name(f".{out.name}.running-999999999.ipynb")  # a killed run's leftover
    stale.write_text("{}")
    summary = execute_run(spec)
    assert summary["status"] == "failed"  # the stand-in notebook writes no record
    nb = json.loads(out.read_text(encoding="utf-8"))
    assert nb["metadata"]["papermill"]["output_path"] == "out/notebooks/r.ipynb"
    assert "chapter ran" in json.dumps(nb)
    assert not _running_files(out)


def test_failed_chapters_of_two_outside_trees_do_not_overwrite_each_other(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    a = B.failed_path(B.Chapter(Path("n.py"), tmp_path / "a" / "own" / "01_data.ipynb"), root)
    b = B.failed_path(B.Chapter(Path("n.py"), tmp_path / "b" / "own" / "01_data.ipynb"), root)
    inside = B.failed_path(B.Chapter(Path("n.py"), Path("book/chapters/x.ipynb")), root)
    assert a != b and a.name == b.name == "01_data.ipynb"
    assert inside == root / "_build" / "failed" / "book" / "chapters" / "x.ipynb"
