"""Issue 28, `python -m helpers own-folder` and the data/results chapters it runs.

Every refusal is checked before any work: ``helpers.build.book.execute_chapter`` (the data chapter,
the first thing that runs) is replaced by a function that fails the test, so a check that
happens too late (or not at all) fails fast instead of training. The output trees of the
command-level tests live under a stand-in repository root in tmp_path (``fake_root``), never
under the book's ``results/``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from data_fixtures import make_folder

from helpers.build import ownfolder, ownfolder_checks
from helpers.data import DataError

ROOT = Path(__file__).resolve().parents[1]
NB01 = ROOT / "notebooks" / "01_data.py"
NB04 = ROOT / "notebooks" / "04_results.py"


class WorkStarted(AssertionError):
    """The data chapter was about to run: a check that should have refused came too late."""


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test the moment own-folder would execute a chapter (the first real work)."""
    import helpers.build.book

    def refuse(*args, **kwargs):
        raise WorkStarted("own-folder started executing a chapter")

    monkeypatch.setattr(helpers.build.book, "execute_chapter", refuse)


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    """A stand-in repository root: the training notebook, a committed results/kilaru/ folder."""
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "03_train.py", root / "notebooks" / "03_train.py")
    (root / "results" / "kilaru" / "records").mkdir(parents=True)
    (root / "results" / "kilaru" / "records" / "r.json").write_text("{}")
    monkeypatch.setattr(ownfolder, "repo_root", lambda: root)
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    return root


def photos(path: Path, n: int = 10, classes=("Acne", "Normal"), seed0: int = 0) -> Path:
    return make_folder(path, dict.fromkeys(classes, n), seed0=seed0)


def run(capsys, *argv: str) -> tuple[int, str]:
    code = ownfolder.main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out + cap.err


# ----------------------------------------------------------------------- row 01: one model
def _one_model_records(res: Path) -> None:
    from test_results import write_synthetic_records

    write_synthetic_records(res, models=("mobilenet",), resolutions=(64, 128), seeds=(0, 1),
                            regimes=("frozen",), dataset="folder", task="Acne", n_test=40,
                            n_val=20)


def test_row01_prose_and_table_use_the_models_run(tmp_path):
    from helpers.chapters import plots, results
    from helpers.chapters import results_prose as prose

    _one_model_records(tmp_path)
    runs = results.load_runs(tmp_path, dataset="folder", task="Acne")
    tests = results.resolution_tests(runs, split="test")
    values, text = prose.sweet_spot(plots.select(tests, results.main_setup(runs)))
    assert "mobilenet_best_res" in values and "resnet50_best_res" not in values
    assert "MobileNet" in text and "ResNet50" not in text
    table = ownfolder.short_table(runs)
    assert list(table.index) == ["mobilenet"] and list(table.columns) == ["64 px", "128 px"]


def test_row01_results_chapter_runs_on_one_model(tmp_path):
    """Chapter 04 on the records of `own-folder --models mobilenet`: results, no error."""
    import jupytext
    import papermill as pm

    res = tmp_path / "own"
    _one_model_records(res)
    out = pm.execute_notebook(jupytext.read(NB04), str(tmp_path / "04.ipynb"),
                              parameters={"results_dir": str(res), "dataset": "folder",
                                          "task": "Acne"},
                              kernel_name="python3", cwd=str(ROOT), progress_bar=False)
    text = json.dumps([c.get("outputs", []) for c in out.cells])
    assert "runs of MobileNet only (none of ResNet50)" in text
    assert "image/png" in text  # the figures were drawn


# ----------------------------------------------------------------------- row 02: too few images
def test_row02_too_few_images_refused_with_the_minimum(tmp_path, capsys, no_work, fake_root):
    folder = make_folder(tmp_path / "few", {"Acne": 3, "Normal": 6})
    code, text = run(capsys, "--folder", str(folder), "--positive", "Acne")
    assert code == 2
    assert "at least 10 images per class" in text and "DeLong" in text
    assert "test has 1 \"Acne\"" in text
    assert not (fake_root / "results" / "own").exists()  # nothing was written


def test_row02_minimum_follows_the_split_rules(tmp_path):
    assert ownfolder_checks.min_per_class() == 10
    folder = photos(tmp_path / "ten", n=10)
    counts = ownfolder_checks.planned_counts(folder, "Acne", seed=0)
    assert counts == {"train": (6, 6), "val": (2, 2), "test": (2, 2)}
    split = make_folder(tmp_path / "split", {"Acne": 1, "Normal": 2}, splits=True)
    counts = ownfolder_checks.planned_counts(split, "Acne", seed=0)
    assert counts["test"] == (2, 1)
    with pytest.raises(DataError, match="put at least 2 images of each class in test/"):
        ownfolder_checks.check_counts(counts, ("Normal", "Acne"), True, None)
    many = make_folder(tmp_path / "many", {"Acne": 20, "Normal": 60})
    counts = ownfolder_checks.planned_counts(many, "Acne", 0, max_images=5)
    assert counts["test"] == (4, 1)  # a stratified subset keeps the 1:3 proportion
    with pytest.raises(DataError, match="raise --max-images"):
        ownfolder_checks.check_counts(counts, ("Normal", "Acne"), False, 5)


def test_ux_small_test_split_warns_of_wide_intervals():
    counts = {"train": (50, 50), "val": (8, 8), "test": (15, 40)}
    (note,) = ownfolder_checks.check_counts(counts, ("Normal", "Acne"), False, None)
    assert "15 \"Normal\"" in note and "wide" in note
    assert ownfolder_checks.check_counts({**counts, "test": (20, 20)}, ("Normal", "Acne"), False,
                                  None) == []


# ----------------------------------------------------------------------- row 07: external classes
def test_row07_external_with_other_classes_is_refused(tmp_path, capsys, no_work, fake_root):
    folder = photos(tmp_path / "train")
    ext = photos(tmp_path / "hospital", n=3, classes=("Acne", "Rosacea"), seed0=500)
    code, text = run(capsys, "--folder", str(folder), "--positive", "Acne",
                     "--external", str(ext))
    assert code == 2
    assert '["Acne", "Rosacea"]' in text and '["Acne", "Normal"]' in text


# ----------------------------------------------------------------------- row 12: options
@pytest.mark.parametrize("option,value,expected", [
    ("--seeds", "-1", "--seeds [-1]"),
    ("--resolutions", "8", "--resolutions [8]"),
    ("--resolutions", "5000", "--resolutions [5000]"),
    ("--epochs", "0", "--epochs 0"),
    ("--max-images", "1", "--max-images 1"),
    ("--workers", "0", "--workers 0"),
])
def test_row12_options_checked_before_any_work(tmp_path, capsys, no_work, fake_root, option,
                                               value, expected):
    folder = photos(tmp_path / "photos")
    code, text = run(capsys, "--folder", str(folder), "--positive", "Acne", option, value)
    assert code == 2 and f"error: {expected}: expected" in text
    assert not (fake_root / "results" / "own").exists()


def test_row12_repeated_seed_refused():
    with pytest.raises(ValueError, match="each value once"):
        ownfolder_checks.check_options(resolutions=[64], seeds=[0, 0], models=["mobilenet"],
                                epochs=None, max_images=None, workers=1)


# ----------------------------------------------------------------------- row 13: names escaped
def test_row13_class_name_with_newline_cannot_add_yaml(tmp_path, no_work, fake_root):
    evil = "Normal\ninclude:\n- {model: resnet50, resolution: 32, seed: 9}"
    folder = tmp_path / "photos"
    make_folder(folder, {"Acne": 10})
    make_folder(folder, {evil: 10}, seed0=100)
    with pytest.raises(WorkStarted):
        ownfolder.main(["--folder", str(folder), "--positive", "Acne", "--seeds", "0",
                        "--resolutions", "64", "--models", "mobilenet"])
    text = (fake_root / "results" / "own" / "photos" / "sweep.yaml").read_text()
    lines = text.splitlines()
    assert lines[0].startswith("# ") and "\\ninclude:" in lines[0]
    assert lines[1].startswith("name: ")
    assert set(yaml.safe_load(text)) == {"name", "notebook", "output_dir", "grid", "fixed"}


def test_row13_header_comment_is_one_line():
    line = ownfolder.header_comment('a\nb: "c"', "x\ry", "z")
    assert line.count("\n") == 1 and line.endswith("\n") and "\r" not in line
    assert yaml.safe_load(line + "k: 1\n") == {"k": 1}


# ----------------------------------------------------------------------- row 14: committed results
@pytest.mark.parametrize("rel", ["results/kilaru", "results/kilaru/sub", "results",
                                 "results/own", "results/new-folder", "book", "."])
def test_row14_book_results_refused(rel):
    with pytest.raises(ValueError, match="the book's own output"):
        ownfolder._check_out((ROOT / rel).resolve(), ROOT)


def test_row14_own_and_outside_folders_allowed(tmp_path):
    ownfolder._check_out((ROOT / "results" / "own" / "photos").resolve(), ROOT)
    ownfolder._check_out(tmp_path / "out", ROOT)
    prot = {p.relative_to(ROOT).as_posix() for p in ownfolder.protected_dirs(ROOT)}
    assert {"results/paper", "results/kilaru", "results/xray", "results/smoke", "book"} <= prot


def test_row14_out_results_kilaru_refused_and_untouched(tmp_path, capsys, no_work, fake_root):
    folder = photos(tmp_path / "photos")
    before = sorted(p.name for p in (fake_root / "results" / "kilaru").rglob("*"))
    code, text = run(capsys, "--folder", str(folder), "--positive", "Acne",
                     "--out", "results/kilaru")
    assert code == 2 and "results/kilaru" in text and "book's own output" in text
    assert sorted(p.name for p in (fake_root / "results" / "kilaru").rglob("*")) == before


# ----------------------------------------------------------------------- row 16: overlap
def test_row16_external_same_as_training_refused(tmp_path, capsys, no_work, fake_root):
    folder = photos(tmp_path / "photos")
    code, text = run(capsys, "--folder", str(folder), "--positive", "Acne",
                     "--external", str(folder))
    assert code == 2 and "shares 20 image file(s)" in text
    assert '"Acne/acne_x_000.jpg" = "Acne/acne_x_000.jpg"' in text


def test_row16_one_copied_file_is_found_by_content(tmp_path):
    folder = photos(tmp_path / "photos")
    ext = photos(tmp_path / "hospital", n=3, seed0=500)
    shutil.copy(folder / "Normal" / "normal_x_004.jpg", ext / "Acne" / "renamed.jpg")
    assert ownfolder_checks.overlapping_files(folder, ext) == [("Acne/renamed.jpg",
                                                         "Normal/normal_x_004.jpg")]
    with pytest.raises(DataError, match=r"shares 1 image file\(s\)"):
        ownfolder_checks.check_external(folder, ext, ("Normal", "Acne"))


# ----------------------------------------------------------------------- row 18: same base name
def test_row18_second_folder_with_the_same_name_refused(tmp_path, capsys, no_work, fake_root):
    first, second = photos(tmp_path / "a" / "photos"), photos(tmp_path / "b" / "photos", seed0=99)
    opts = ["--positive", "Acne", "--seeds", "0", "--resolutions", "64"]
    with pytest.raises(WorkStarted):  # the first folder claims results/own/photos
        ownfolder.main(["--folder", str(first), *opts])
    out = fake_root / "results" / "own" / "photos"
    assert json.loads((out / "own-folder.json").read_text()) == {"folder": str(first)}
    capsys.readouterr()
    code, text = run(capsys, "--folder", str(second), *opts)
    assert code == 2 and str(first) in text and "--out" in text and "photos-" in text
    with pytest.raises(WorkStarted):  # the first folder again: resumes in its own tree
        ownfolder.main(["--folder", str(first), *opts])


# ----------------------------------------------------------------------- row 20: typos
def test_row20_check_injected_names_the_typo():
    from helpers.nbparams import UnknownParameterError, check_injected, globals_snapshot

    ns = {"pd": object(), "In": []}
    before = globals_snapshot(ns)
    ns.update(results_dir="x", task="t", _i3="ignored")
    check_injected(ns, before, ["results_dir", "task"])
    ns["resultsdir"] = "y"
    with pytest.raises(UnknownParameterError, match="'resultsdir' \\(did you mean 'results_dir'"):
        check_injected(ns, before, ["results_dir", "task"])
    del ns["resultsdir"]
    ns["pd"] = 1  # a parameter that rebinds an import
    with pytest.raises(UnknownParameterError, match="'pd'"):
        check_injected(ns, before, ["results_dir", "task"])


@pytest.mark.parametrize("notebook,params,hint", [
    (NB01, {"dataset": "folder", "data_root": "/nonexistent/x", "resolutons": [16]},
     "did you mean 'resolutions'"),
    (NB04, {"results_dir": "/nonexistent/x", "taks": "Acne"}, "did you mean 'task'"),
])
def test_row20_papermill_typo_stops_the_chapter(tmp_path, notebook, params, hint):
    import jupytext
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError, match=hint):
        pm.execute_notebook(jupytext.read(notebook), str(tmp_path / "out.ipynb"),
                            parameters=params, kernel_name="python3", cwd=str(ROOT),
                            progress_bar=False)


@pytest.mark.parametrize("notebook", [NB01, NB04])
def test_row20_check_cell_follows_parameters_and_lists_them(notebook):
    """Snapshot last before the parameters cell, check (with the cell's names) right after."""
    import ast

    import jupytext

    from helpers.nbparams import parameter_names

    code = [c for c in jupytext.read(str(notebook)).cells if c.cell_type == "code"]
    i = next(i for i, c in enumerate(code) if "parameters" in c.metadata.get("tags", []))
    assert code[i - 1].source.rstrip().splitlines()[-1].startswith(
        "_globals_before_parameters = globals_snapshot(globals())")
    check = code[i + 1]
    assert check.source.startswith("check_injected(globals(), _globals_before_parameters,")
    assert check.metadata.get("tags") == ["remove-input"]
    call = ast.parse(check.source).body[0].value
    assert ast.literal_eval(call.args[2]) == parameter_names(notebook)


# ----------------------------------------------------------------------- UX items
def test_ux_short_table_marks_runs_that_learnt_nothing(tmp_path):
    from helpers.chapters import results

    _one_model_records(tmp_path)
    runs = results.load_runs(tmp_path, dataset="folder", task="Acne")
    rid = runs.loc[runs["resolution"] == 64, "run_id"].iloc[0]
    table = ownfolder.short_table(runs, {rid: "training loss never went below ..."})
    assert table.loc["mobilenet", "64 px"].endswith(" *")
    assert not table.loc["mobilenet", "128 px"].endswith("*")
    rec_path = next((tmp_path / "records").glob(f"{rid}.json"))
    rec = json.loads(rec_path.read_text())
    rec["warnings"] = ["training loss never went below the class-prior loss: best ..."]
    rec_path.write_text(json.dumps(rec))
    assert list(ownfolder.learnt_nothing(tmp_path, "Acne")) == [rid]


def test_ux_preprocessing_option_stated_and_used(tmp_path, capsys, no_work, fake_root):
    folder = photos(tmp_path / "photos")
    with pytest.raises(WorkStarted):
        ownfolder.main(["--folder", str(folder), "--positive", "Acne", "--seeds", "0",
                        "--preprocessing", "native"])
    assert "preprocessing native: each model's own ImageNet preprocessing" in capsys.readouterr().out
    cfg = yaml.safe_load((fake_root / "results" / "own" / "photos" / "sweep.yaml").read_text())
    assert cfg["fixed"]["preprocessing"] == "native"
    with pytest.raises(SystemExit):
        ownfolder.main(["--folder", str(folder), "--positive", "Acne", "--preprocessing", "raw"])
