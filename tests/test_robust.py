"""No silent wrong results: inputs that changed, typos, damaged files, duplicate keys, bad runs.

Fast tests (a tiny stand-in notebook, fake files); the training ones use 16 images at 32 px.
"""

from __future__ import annotations

import json as json_mod
from pathlib import Path

import pytest

from helpers import sweep as S
from helpers.build import book as B
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


# ------------------------------------------------------------------ 6. dirty checkouts, --max-runs


def _git(repo: Path, *args: str) -> str:
    import subprocess

    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout


def _tiny_repo(tmp_path: Path) -> tuple[Path, Path]:
    """A committed git repository holding the tiny notebook and a sweep config."""
    import yaml
    from test_sweep import TINY

    repo = tmp_path / "repo"
    (repo / "configs").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("")
    (repo / "tiny.py").write_text(TINY)
    cfg = repo / "configs" / "t.yaml"
    cfg.write_text(yaml.safe_dump({"name": "t", "notebook": "tiny.py", "output_dir": "out",
                                   "grid": {"seed": [0]}, "validate": False}))
    (repo / ".gitignore").write_text("out/\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "tiny")
    return repo, cfg


class _Instant(S.SequentialExecutor):
    """Pretends every run succeeded, without papermill."""

    def submit(self, fn, spec):  # type: ignore[override]
        return super().submit(lambda s: {"run_id": s["run_id"], "status": "ok", "wall_s": 0.1},
                              spec)


def test_sweep_refuses_a_dirty_checkout_unless_allowed(tmp_path: Path, capsys) -> None:
    from helpers.runs.provenance import git_diff_sha256

    repo, cfg = _tiny_repo(tmp_path)
    assert S.run_sweep(cfg, executor=_Instant()).ok  # clean: runs
    assert git_diff_sha256(repo) is None
    (repo / "tiny.py").write_text((repo / "tiny.py").read_text() + "\n# edited\n")
    with pytest.raises(S.SweepConfigError, match="uncommitted changes.*--allow-dirty"):
        S.run_sweep(cfg, executor=_Instant())
    assert S.main([str(cfg)]) == 2
    assert "uncommitted changes" in capsys.readouterr().err
    assert S.run_sweep(cfg, dry_run=True).count("planned") == 1  # a dry run only lists
    summary = S.run_sweep(cfg, executor=_Instant(), allow_dirty=True)
    assert summary.ok and "dirty checkout" in capsys.readouterr().out
    first = git_diff_sha256(repo)
    assert first is not None and len(first) == 64
    (repo / "tiny.py").write_text((repo / "tiny.py").read_text() + "# again\n")
    assert git_diff_sha256(repo) not in (None, first)  # another diff, another hash


def test_records_store_the_diff_hash_of_a_dirty_checkout() -> None:
    from helpers.runs import records as R

    prov = R.provenance(None, None)
    assert "git_diff_sha256" in prov
    if prov["git_dirty"]:
        assert len(prov["git_diff_sha256"]) == 64
    else:
        assert prov["git_diff_sha256"] is None


def test_negative_max_runs_is_an_error(tmp_path: Path, capsys) -> None:
    _repo, cfg = _tiny_repo(tmp_path)
    assert S.main([str(cfg), "--max-runs", "-1"]) == 2
    assert "--max-runs must be 0 or more" in capsys.readouterr().err
    with pytest.raises(S.SweepConfigError, match="max_runs=-1"):
        S.run_sweep(cfg, max_runs=-1, dry_run=True)


# ------------------------------------------------------------------ 8. file permissions


def test_sweep_outputs_get_new_file_permissions(tmp_path: Path) -> None:
    """Records (the notebook's and the runner's failed ones) and executed notebooks: 0o666 & ~umask."""
    import os

    from test_sweep import TINY

    (tmp_path / "tiny.py").write_text(TINY)
    cfg = {"name": "p", "notebook": "tiny.py", "output_dir": "out", "grid": {"seed": [0, 14]},
           "_root": str(tmp_path)}
    old = os.umask(0o002)
    try:
        summary = S.run_sweep(cfg, validator=None)
    finally:
        os.umask(old)
    assert [r["status"] for r in summary.runs] == ["ok", "failed"]  # seed 14 writes no record
    files = [*(tmp_path / "out" / "records").glob("*.json"),
             *(tmp_path / "out" / "notebooks").glob("*.ipynb"), tmp_path / "out" / "sweep.json"]
    assert len(files) == 5
    for f in files:
        assert f.stat().st_mode & 0o777 == 0o664, f.name


# ------------------------------------------------------------------ 2. unknown papermill parameters


def test_sweep_refuses_a_parameter_the_notebook_does_not_define(tmp_path: Path) -> None:
    from test_sweep import TINY

    (tmp_path / "tiny.py").write_text(TINY.replace('precision = "float32"\n', ""))
    cfg = {"name": "u", "notebook": "tiny.py", "output_dir": "out", "_root": str(tmp_path),
           "grid": {"seed": [0]}, "fixed": {"precision": "mixed_bfloat16"}}
    with pytest.raises(S.SweepConfigError, match=r"unknown parameter\(s\) 'precision'"):
        S.run_sweep(cfg, validator=None, dry_run=True)
    assert not (tmp_path / "out").exists()


def test_validate_params_names_the_closest_valid_parameter() -> None:
    from helpers.training.params import validate_params

    with pytest.raises(ValueError, match=r"'resoluton' \(did you mean 'resolution'\?\)"):
        validate_params({"resoluton": 64})


def test_book_registry_typo_fails_helpers_notebooks(tmp_path: Path, monkeypatch, capsys) -> None:
    from helpers.cli import main

    (tmp_path / "nb.py").write_text('# %% tags=["parameters"]\ndataset = "isic2017"\n'
                                    "resolution = 64\n\n# %%\nprint(dataset)\n")
    reg = tmp_path / "book.yaml"
    reg.write_text("parts:\n  - caption: P\n    chapters:\n      - notebook: nb.py\n"
                   "        output: nb.ipynb\n        parameters: {datset: kermany}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["notebooks", str(reg)]) == 2
    err = capsys.readouterr().err
    assert "'datset' (did you mean 'dataset'?)" in err and "nb.py" in err
    assert not (tmp_path / "nb.ipynb").exists()  # nothing was executed


TYPO_NB = """# %%
from helpers.training.params import check_injected, globals_snapshot
import json
_before = globals_snapshot(globals())

# %% tags=["parameters"]
dataset = "isic2017"
resolution = 64

# %%
check_injected(globals(), _before)
print("ran with", resolution)
"""


def test_notebook_run_by_plain_papermill_stops_at_a_typo(tmp_path: Path) -> None:
    import jupytext
    import papermill as pm

    from helpers.nbparams import UnknownParameterError
    from helpers.training.params import check_injected, globals_snapshot

    ns: dict = {"json": json_mod, "In": []}
    before = globals_snapshot(ns)
    ns.update(dataset="isic2017", resolution=64, _i3="x")
    check_injected(ns, before)  # the parameters cell alone: fine
    ns["json"] = 1  # a parameter that rebinds an import
    with pytest.raises(UnknownParameterError, match="'json'"):
        check_injected(ns, before)

    nb = jupytext.reads(TYPO_NB, fmt="py:percent")
    pm.execute_notebook(nb, str(tmp_path / "ok.ipynb"), parameters={"resolution": 32},
                        kernel_name="python3", language="python", progress_bar=False)
    with pytest.raises(pm.PapermillExecutionError, match="did you mean 'resolution'"):
        pm.execute_notebook(nb, str(tmp_path / "bad.ipynb"), parameters={"resoluton": 32},
                            kernel_name="python3", language="python", progress_bar=False)


def test_training_notebook_checks_injected_parameters() -> None:
    """03_train.py snapshots its globals right before the parameters cell, checks right after."""
    import jupytext

    nb = jupytext.read(str(Path(__file__).resolve().parents[1] / "notebooks" / "03_train.py"))
    code = [c for c in nb.cells if c.cell_type == "code"]
    i = next(i for i, c in enumerate(code) if "parameters" in c.metadata.get("tags", []))
    assert code[i - 1].source.rstrip().splitlines()[-1].startswith(
        "_globals_before_parameters = globals_snapshot(globals())")
    assert code[i + 1].source.startswith("check_injected(globals(), _globals_before_parameters)")


# ------------------------------------------------------------------ 7. run locks


def _lock(path: Path, pid: int) -> None:
    import json
    import socket

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started_at": "t"}))


def test_a_locked_run_is_left_to_the_sweep_running_it(tmp_path: Path, capsys) -> None:
    import os
    import subprocess
    import sys

    from test_sweep import TINY

    from helpers.runs import records as R
    from helpers.sweep import locks

    (tmp_path / "tiny.py").write_text(TINY)
    cfg = {"name": "l", "notebook": "tiny.py", "output_dir": "out", "_root": str(tmp_path),
           "grid": {"seed": [0, 1]}}
    rids = [R.run_id(p) for p in S.expand(cfg, validator=None)]
    out = tmp_path / "out"
    _lock(locks.lock_path(out, rids[0]), os.getppid())  # a live process of this host
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _lock(locks.lock_path(out, rids[1]), dead.pid)  # a killed sweep's stale lock
    summary = S.run_sweep(cfg, executor=_Instant(), validator=None)
    assert [(r["status"], r.get("note")) for r in summary.runs] == [
        ("not_run", "running elsewhere"), ("ok", None)]
    assert f"{rids[0]}: running elsewhere (pid {os.getppid()}" in capsys.readouterr().out
    assert locks.lock_path(out, rids[0]).exists()  # the other sweep's lock stays
    assert not locks.lock_path(out, rids[1]).exists()  # ours is released when the run ends
    # two acquisitions: exactly one wins
    path = locks.lock_path(out, "x")
    assert locks.acquire(path) == (True, None)
    got, holder = locks.acquire(path)
    assert not got and holder["pid"] == os.getpid()
    locks.release(path)
    assert not path.exists()


# ------------------------------------------------------------------ 3. damaged caches, checkpoints


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_damaged_data_caches_are_named_and_rebuilt(tmp_path: Path) -> None:
    import numpy as np
    from data_fixtures import make_folder

    from helpers.data import load_dataset

    root = make_folder(tmp_path / "f", {"a": 10, "b": 10})
    kw = {"data_root": root, "cache_dir": tmp_path / "cache", "resolution": 16}
    ds = load_dataset("folder", **kw)
    cached = sorted((tmp_path / "cache" / "arrays").glob("*"))
    assert {p.suffix for p in cached} == {".npz", ".npy", ".json"}
    for p in cached:
        _truncate(p)
    with pytest.warns(UserWarning, match=r"damaged file .*index-v\d\.npz \(BadZipFile"):
        again = load_dataset("folder", **kw)
    assert again.fingerprint == ds.fingerprint and again.report.cache["index"] == "miss"
    np.testing.assert_array_equal(again.splits["test"].images, ds.splits["test"].images)
    assert load_dataset("folder", **kw).report.cache == {"index": "hit", "arrays": "hit"}


def test_damaged_feature_cache_is_named_and_recomputed(tmp_path: Path) -> None:
    import numpy as np

    from helpers.training.features import cached_features

    class Extractor:
        output_shape = (None, 2)

        def predict_on_batch(self, batch):
            return batch.reshape(len(batch), -1)[:, :2]

    x = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)
    ids = np.array(["a", "b"])
    path = tmp_path / "f.npz"
    feats, hit = cached_features(Extractor(), x, ids, path)
    assert not hit
    _truncate(path)
    with pytest.warns(UserWarning, match=r"damaged file .*f\.npz \(BadZipFile.*recomputing"):
        again, hit = cached_features(Extractor(), x, ids, path)
    assert not hit and np.array_equal(again, feats)
    assert cached_features(Extractor(), x, ids, path)[1]


def test_damaged_checkpoint_is_discarded_with_a_warning(tmp_path: Path) -> None:
    import json

    import numpy as np

    from helpers.training import checkpoints as C

    identity = {"seed": 0}
    folder = tmp_path / "checkpoints" / "run"
    (folder / "epoch-0001").mkdir(parents=True)
    C.save_arrays(folder / "epoch-0001" / "model.npz", [np.ones((3, 3))])
    C.save_arrays(folder / "epoch-0001" / "optimizer.npz", [np.zeros(2)])
    (folder / "state.json").write_text(json.dumps(
        {"params": identity, "epoch": 1, "dir": "epoch-0001", "lr_now": 0.001}))
    state, arrays, warning = C.open_checkpoint(folder, identity)
    assert state["epoch"] == 1 and warning is None and arrays["model"][0].shape == (3, 3)
    assert C.open_checkpoint(folder, {"seed": 1}) == (None, None, None)  # another run's
    _truncate(folder / "epoch-0001" / "optimizer.npz")
    with pytest.warns(UserWarning, match=r"optimizer\.npz \(BadZipFile.*from epoch 0"):
        state, arrays, warning = C.open_checkpoint(folder, identity)
    assert state is None and "optimizer.npz" in warning and not folder.exists()
    folder.mkdir(parents=True)
    (folder / "state.json").write_text('{"params": {"se')  # cut mid-write
    with pytest.warns(UserWarning, match=r"state\.json"):
        assert C.open_checkpoint(folder, identity)[0] is None


# ------------------------------------------------------------------ 5. runs that learnt nothing


def test_loss_warnings_for_non_finite_loss_and_no_gain_over_the_prior() -> None:
    import math

    from helpers.training.run import loss_warnings

    labels = [0, 0, 0, 1]  # prevalence 0.25: the prior's loss is 0.5623
    assert loss_warnings({"epoch": [1, 2], "loss": [0.7, 0.3]}, labels) == []
    w = loss_warnings({"epoch": [1, 2], "loss": [0.70, 0.57]}, labels)
    assert len(w) == 1 and "never went below the class-prior loss" in w[0] and "0.5623" in w[0]
    w = loss_warnings({"epoch": [1, 2, 3], "loss": [0.4, math.nan, None]}, labels)
    assert w == ["non-finite training loss (NaN/inf) at epoch(s) [2, 3]"]
    # balanced class weights {0: 4/6, 1: 4/2}: a constant prediction's weighted loss is ln 2
    balanced = {0: 4 / 6, 1: 2.0}
    assert loss_warnings({"epoch": [1, 2], "loss": [0.70, 0.60]}, labels, balanced) == []
    w = loss_warnings({"epoch": [1, 2], "loss": [0.75, 0.70]}, labels, balanced)
    assert len(w) == 1 and "0.6931" in w[0] and "class-weighted" in w[0]


def test_failed_record_keeps_the_history_and_warnings() -> None:
    from helpers.runs import records as R

    params = {"dataset": "d", "task": "t", "model": "mobilenet", "resolution": 32,
              "regime": "full", "preprocessing": "unit", "seed": 0}
    exc = ValueError("Input contains NaN")
    exc.history = {"epoch": [1, 2], "loss": [0.6, float("nan")]}
    exc.run_warnings = ["non-finite training loss (NaN/inf) at epoch(s) [2]"]
    rec = R.failure_record(params, exc)
    assert rec["history"] == {"epoch": [1, 2], "loss": [0.6, None]}
    assert rec["warnings"] == exc.run_warnings
    assert "history" not in R.failure_record(params, ValueError("x"))
