"""Tests for helpers.sweep: grid expansion, resume, failure records, executors (chapter 03).

Real papermill runs use a tiny notebook written to tmp_path (it writes a record at once), so
these tests do not depend on training speed. One slow test runs configs/smoke.yaml for real.
"""

from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from train_fixtures import parameters_cell

from helpers import sweep as S
from helpers.runs import records as R

REPO = Path(__file__).resolve().parents[1]

TINY = """# %% [markdown]
# Tiny stand-in for notebooks/03_train.py: writes a run record at once.

""" + parameters_cell(
    resolution=64, regime="frozen", unfreeze_blocks=0, epochs=1, batch_size=8, patience_es=3,
    max_images=16, output_dir="results") + """
# %%
from pathlib import Path

from helpers.runs import records

params = {k: globals()[k] for k in records.IDENTITY_KEYS}
if seed == 13:
    raise ValueError("seed 13 is unlucky")
assert data_root is None or not Path(data_root).is_absolute(), data_root
prov = records.provenance("fp", None)
rid = records.run_id(params)
if seed != 14:  # seed 14: "forgets" to write its record
    records.write_json_atomic(
        records.record_path(output_dir, rid),
        {"schema": 1, "run_id": rid, "status": "ok", "params": records.canonical_params(params),
         "locations": {"data_root": data_root}, "provenance": prov, "save_model": save_model},
    )
"""


@pytest.fixture
def tiny(tmp_path: Path) -> dict:
    nb = tmp_path / "tiny.py"
    nb.write_text(TINY)
    return {
        "name": "tiny",
        "notebook": "tiny.py",
        "output_dir": "out",
        "grid": {"model": ["mobilenet"], "seed": [0]},
        "fixed": {"epochs": 1},
        "_root": str(tmp_path),
    }


def _check(params: dict) -> dict:
    """Stand-in for helpers.training.validate_params: rejects unknown keys and models."""
    unknown = set(params) - set(R.IDENTITY_KEYS)
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}")
    if params["model"] not in {"mobilenet", "resnet50"}:
        raise ValueError(f"unknown model {params['model']!r}")
    return {**params, "unfreeze_blocks": 0}


# ----------------------------------------------------------------------------- expansion


def test_expand_counts_and_trainparams_defaults(tiny: dict) -> None:
    cfg = {
        **tiny,
        "grid": {"model": ["mobilenet", "resnet50"], "resolution": [64, 128, 224, 256],
                 "seed": [0, 1, 2], "preprocessing": ["unit", "native"]},
        "fixed": {"epochs": 30, "lr": 0.001, "regime": "frozen"},
        "include": [
            {"grid": {"regime": ["full"], "resolution": [64, 128]}, "fixed": {"epochs": 5}},
            {"fixed": {"epochs": 30}},  # identical to the top block: not run twice
        ],
    }  # fmt: skip
    runs = S.expand(cfg, validator=None)
    assert len(runs) == 2 * 4 * 3 * 2 + 2 * 2 * 3 * 2
    assert len({R.run_id(p) for p in runs}) == len(runs)
    full = [p for p in runs if p["regime"] == "full"]
    assert len(full) == 24 and {p["epochs"] for p in full} == {5}
    assert {p["resolution"] for p in full} == {64, 128}
    # TrainParams' defaults, not the tiny notebook's (batch_size=8, max_images=16)
    assert all(p["batch_size"] == 32 and p["max_images"] is None for p in runs)
    assert all(set(p) == set(R.IDENTITY_KEYS) - set(R.OMITTED_AT_DEFAULT) for p in runs)


def test_tiny_notebook_declares_every_train_param(tiny: dict) -> None:
    """Its parameters cell is generated from TrainParams, like the real one in notebooks/03."""
    import ast
    import dataclasses

    from helpers.nbparams import parameter_nodes
    from helpers.training.params import TrainParams

    cell = {k: ast.literal_eval(v) for k, v in parameter_nodes(Path(tiny["_root"]) / "tiny.py")}
    assert list(cell) == [f.name for f in dataclasses.fields(TrainParams)]
    assert (cell["resolution"], cell["output_dir"], cell["lr"]) == (64, "results", 1e-3)
    with pytest.raises(ValueError, match="resoluton"):
        parameters_cell(resoluton=64)


def test_expand_uses_validator_output(tiny: dict) -> None:
    runs = S.expand({**tiny, "fixed": {"unfreeze_blocks": 3}}, validator=_check)
    assert runs[0]["unfreeze_blocks"] == 0


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"grid": {"modle": ["mobilenet"]}}, "modle"),  # typo in a parameter name
        ({"fixed": {"epoch": 3}}, "epoch"),
        ({"grid": {"model": ["mobilnet"]}}, "mobilnet"),  # typo in a value (validator)
        ({"gird": {}}, "gird"),  # typo in a top-level key
        ({"fixed": {"data_root": "/x"}}, "location"),
        ({"fixed": {"save_model": True}}, "--save-models"),  # an option, not silently dropped
        ({"grid": {"seed": []}}, "empty"),
        ({"grid": {"seed": [0]}, "fixed": {"seed": 1}}, "both"),
        ({"include": [{"grid": {"seed": [1]}, "fixd": {}}]}, "include"),
        ({"notebook": "missing.py"}, "not found"),
        ({"fixed": {"weights": "/abs/w.h5"}}, "weights-dir"),
    ],
)
def test_expand_rejects_bad_configs(tiny: dict, change: dict, match: str) -> None:
    with pytest.raises(S.SweepConfigError, match=match):
        S.expand({**tiny, **change}, validator=_check)


def test_load_config_repo_configs_expand() -> None:
    """The committed configs parse and expand (without the training notebook if absent)."""
    for name, n_min in [("smoke.yaml", 2), ("paper.yaml", 48), ("frozen-bench.yaml", 40)]:
        cfg = S.load_config(REPO / "configs" / name)
        assert Path(cfg["_root"]) == REPO
        defaults = None if (REPO / cfg["notebook"]).is_file() else {}
        runs = S.expand(cfg, validator=None, defaults=defaults)
        assert len(runs) >= n_min, name


def test_repo_configs_pass_the_training_validator() -> None:
    """Every run of the committed configs is valid for helpers.training.validate_params."""
    validator = S.default_validator()
    if validator is None:
        pytest.skip("helpers.training is not importable")
    # paper: 48 frozen + 18 full float32 + 6 + 6 bf16 parity + 30 full (block 4)
    for name, n in [("smoke.yaml", 7), ("paper.yaml", 108), ("frozen-bench.yaml", 40),
                    ("kilaru.yaml", 6), ("kermany-resolution.yaml", 102)]:
        cfg = S.load_config(REPO / "configs" / name)
        defaults = None if (REPO / cfg["notebook"]).is_file() else {}
        runs = S.expand(cfg, validator=validator, defaults=defaults)
        assert len(runs) == n, name
    with pytest.raises(S.SweepConfigError, match="mobilnet"):
        S.expand(
            {**cfg, "fixed": {**cfg["fixed"], "model": "mobilnet"}, "grid": {"seed": [0]}},
            validator=validator,
            defaults={},
        )


def test_load_config_errors(tmp_path: Path) -> None:
    with pytest.raises(S.SweepConfigError, match="does not exist"):
        S.load_config(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("- just\n- a list\n")
    with pytest.raises(S.SweepConfigError, match="bad.yaml"):
        S.load_config(tmp_path / "bad.yaml")


def test_package_import_is_light() -> None:
    """Parsing and expanding configs needs neither Keras nor TensorFlow nor papermill."""
    import subprocess
    import sys

    code = (
        "import sys, helpers.sweep, helpers.sweep.config; "
        "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'papermill', 'distributed') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- running


def test_save_models_reaches_the_runs_without_changing_their_identity(
    tiny: dict, tmp_path: Path
) -> None:
    """``--save-models`` passes save_model=True to each run (a papermill parameter, not identity)."""
    plain = S.run_sweep({**tiny, "output_dir": "plain"}, validator=None)
    kept = S.run_sweep({**tiny, "output_dir": "kept"}, validator=None, save_models=True)
    (a,), (b,) = plain.runs, kept.runs
    assert a["run_id"] == b["run_id"] and a["status"] == b["status"] == "ok"
    rec = lambda d: R.read_json(R.record_path(tmp_path / d, a["run_id"]))  # noqa: E731
    assert rec("plain")["save_model"] is False and rec("kept")["save_model"] is True


def test_resume_skips_matching_ok_record(tiny: dict, tmp_path: Path) -> None:
    params = S.expand(tiny, validator=None)[0]
    rid = R.run_id(params)
    R.write_json_atomic(
        R.record_path(tmp_path / "out", rid),
        {"run_id": rid, "status": "ok", "params": params},
    )

    def never(*_a: object, **_k: object) -> None:
        raise AssertionError("a finished run was submitted again")

    class Refuse(S.SequentialExecutor):
        submit = staticmethod(never)

    summary = S.run_sweep(tiny, executor=Refuse(), validator=None)
    assert [r["status"] for r in summary.runs] == ["skipped"]
    assert summary.runs[0]["wall_s"] is None  # the pre-made record has no timing
    assert summary.ok
    sweep_json = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert sweep_json["counts"]["skipped"] == 1


def test_dry_run_only_and_max_runs(tiny: dict, tmp_path: Path, capsys) -> None:
    cfg = {**tiny, "grid": {"model": ["mobilenet", "resnet50"], "seed": [0, 1]}}
    summary = S.run_sweep(cfg, dry_run=True, only="resnet50", validator=None)
    out = capsys.readouterr().out
    assert out.count("would run") == 2 and "mobilenet" not in out.split("filtered out")[1]
    assert summary.count("not_run") == 2
    assert not (tmp_path / "out").exists()  # a dry run writes nothing
    summary = S.run_sweep(cfg, dry_run=True, max_runs=1, validator=None)
    assert summary.count("planned") == 1 and summary.count("not_run") == 3


def test_sweep_runs_records_failures_and_resumes(
    tiny: dict, tmp_path: Path, monkeypatch, capsys
) -> None:
    """Real papermill runs: ok, failing and record-less runs; then a resumed sweep."""
    monkeypatch.setenv("RESBOOK_DATA_DIR", str(tmp_path / "data"))
    cfg = {**tiny, "grid": {"seed": [0, 13, 14]}}
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        summary = S.run_sweep(cfg, executor=pool, validator=None)
    print(f"3 tiny runs: {time.perf_counter() - t0:.1f} s")
    status = {r["run_id"].split("-")[-2]: r["status"] for r in summary.runs}
    assert status == {"s0": "ok", "s13": "failed", "s14": "failed"}
    assert not summary.ok
    out = capsys.readouterr().out
    assert "/3] start" in out and "ETA" in out and "seed 13 is unlucky" in out

    recs = {r["params"]["seed"]: r for r in R.load_records(tmp_path / "out" / "records")}
    assert recs[0]["status"] == "ok"
    assert recs[0]["locations"]["data_root"] == "data"  # injected, relative to the root
    failed = recs[13]
    assert failed["status"] == "failed" and failed["error"]["type"] == "ValueError"
    assert "unlucky" in failed["error"]["message"]
    assert "raise ValueError" in failed["error"]["traceback"]
    assert "\x1b[" not in failed["error"]["traceback"]
    assert failed["provenance"]["python"]
    assert "without writing" in recs[14]["error"]["message"]
    for rec in recs.values():
        text = json.dumps(rec["params"])
        assert str(tmp_path) not in text
    nbs = sorted(p.name for p in (tmp_path / "out" / "notebooks").iterdir())
    assert len(nbs) == 3
    executed = (tmp_path / "out" / "notebooks" / f"{summary.runs[0]['run_id']}.ipynb").read_text()
    assert str(tmp_path) not in executed  # locations passed relative to the root
    sweep_json = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert sweep_json["counts"] == {"ok": 1, "failed": 2, "skipped": 0, "not_run": 0}
    assert (tmp_path / "out" / "logs" / "sweep.log").is_file()

    # resume: the ok run is skipped, the failed ones are retried (sequentially this time)
    summary2 = S.run_sweep(cfg, validator=None, only="-s13-")
    status2 = {r["run_id"].split("-")[-2]: r["status"] for r in summary2.runs}
    assert status2 == {"s0": "skipped", "s13": "failed", "s14": "not_run"}


def test_execute_run_is_picklable_plain_dict_api() -> None:
    import pickle

    assert pickle.loads(pickle.dumps(S.execute_run)) is S.execute_run


def test_worker_crash_becomes_failed_record(tiny: dict, tmp_path: Path) -> None:
    class Crashing(S.SequentialExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
            return super().submit(lambda *_a: (_ for _ in ()).throw(OSError("worker died")))

    summary = S.run_sweep(tiny, executor=Crashing(), validator=None)
    assert summary.count("failed") == 1
    rec = R.read_json(tmp_path / "out" / "records" / f"{summary.runs[0]['run_id']}.json")
    assert rec["status"] == "failed" and rec["error"]["message"] == "worker died"


def test_foreign_future_type_is_polled(tiny: dict, tmp_path: Path) -> None:
    """Executors whose futures are not concurrent.futures.Future (e.g. Dask's) also work."""

    class OwnFuture:
        def __init__(self, value: dict) -> None:
            self.value, self.polls = value, 0

        def done(self) -> bool:
            self.polls += 1
            return self.polls > 2

        def result(self) -> dict:
            return self.value

    class OwnExecutor:
        def submit(self, fn, /, *args):  # noqa: ANN001
            spec = args[0]
            return OwnFuture({"run_id": spec["run_id"], "status": "ok", "wall_s": 1.5})

    summary = S.run_sweep(tiny, executor=OwnExecutor(), validator=None)
    assert [(r["status"], r["wall_s"]) for r in summary.runs] == [("ok", 1.5)]


def test_main_exit_codes(tiny: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml
    from data_fixtures import make_folder

    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RESBOOK_DATA_DIR", raising=False)
    photos = make_folder(tmp_path / "photos", {"Acne": 3, "Normal": 3})
    cfg_path = tmp_path / "configs" / "t.yaml"
    cfg_path.parent.mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    cfg = {k: v for k, v in tiny.items() if not k.startswith("_")}
    cfg["validate"] = False
    cfg["fixed"] = {**cfg.get("fixed", {}), "dataset": "folder", "task": "Normal"}
    cfg_path.write_text(yaml.safe_dump(cfg))
    assert S.main(["sweep", str(cfg_path), "--dry-run", "--data-root", str(photos)]) == 0
    assert S.main([str(cfg_path), "--dry-run"]) == 2  # no data: an input problem
    cfg_path.write_text(yaml.safe_dump({**cfg, "grid": {"modle": ["x"]}}))
    assert S.main([str(cfg_path), "--dry-run"]) == 2


# ----------------------------------------------------------------------------- Dask, detached runs

VOLATILE = ("provenance", "timing", "wall_s")


def _stable(rec: dict) -> dict:
    """A record without the fields that change from one execution to the next."""
    return {k: v for k, v in rec.items() if k not in VOLATILE}


def _tiny_config(tiny: dict, tmp_path: Path, seeds: list[int]) -> Path:
    import yaml

    (tmp_path / "pyproject.toml").write_text("")
    cfg = {k: v for k, v in tiny.items() if not k.startswith("_")}
    cfg.update(validate=False, grid={"seed": seeds})
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


class _Lost(Exception):
    """Stands in for distributed's KilledWorker."""


def test_lost_worker_is_retried_once_and_detached_files_written_here(
    tiny: dict, tmp_path: Path, monkeypatch, capsys
) -> None:
    """A detached executor whose worker is lost once: the run is resubmitted, and succeeds."""
    monkeypatch.setenv("RESBOOK_DATA_DIR", str(tmp_path / "data"))

    class LosesFirst(S.SequentialExecutor):
        detached = True
        retryable = (_Lost,)

        def __init__(self, losses: int) -> None:
            self.losses, self.calls = losses, []

        def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
            self.calls.append(fn)
            if len(self.calls) <= self.losses:
                return super().submit(lambda *_a: (_ for _ in ()).throw(_Lost("worker gone")))
            return super().submit(fn, *args, **kwargs)

    ex = LosesFirst(losses=1)
    summary = S.run_sweep(tiny, executor=ex, validator=None)
    assert ex.calls[-1] is S.execute_run_detached and len(ex.calls) == 2
    assert [r["status"] for r in summary.runs] == ["ok"]
    assert "retry" in capsys.readouterr().out
    rid = summary.runs[0]["run_id"]
    out = tmp_path / "out"
    rec = R.read_json(out / "records" / f"{rid}.json")
    assert rec["status"] == "ok" and rec["locations"]["data_root"] == "data"
    nb = (out / "notebooks" / f"{rid}.ipynb").read_text()
    assert "resbook-run-" not in nb and '"output_path": "out/notebooks/' in nb
    injected = [c for c in json.loads(nb)["cells"] if "injected-parameters" in c["metadata"]["tags"]]
    assert 'output_dir = "out"' in "".join(injected[0]["source"])  # the client's, not the worker's

    # lost twice: no third try, a failed record (written here) names the error
    ex = LosesFirst(losses=2)
    summary = S.run_sweep({**tiny, "grid": {"seed": [1]}}, executor=ex, validator=None)
    assert len(ex.calls) == 2 and summary.count("failed") == 1
    rec = R.read_json(out / "records" / f"{summary.runs[0]['run_id']}.json")
    assert rec["status"] == "failed" and rec["error"]["message"] == "worker gone"


def test_dask_local_matches_process_pool_and_resumes(
    tiny: dict, tmp_path: Path, monkeypatch, capsys
) -> None:
    """--executor dask-local --workers 2 writes the records the process pool writes; resumes."""
    pytest.importorskip("distributed")
    monkeypatch.setenv("RESBOOK_DATA_DIR", str(tmp_path / "data"))
    cfg = str(_tiny_config(tiny, tmp_path, [0, 13, 14]))
    t0 = time.perf_counter()
    assert S.main([cfg, "--workers", "2", "--output-dir", "proc"]) == 1  # seeds 13, 14 fail
    t1 = time.perf_counter()
    argv = [cfg, "--executor", "dask-local", "--workers", "2", "--output-dir", "dask"]
    assert S.main(argv) == 1
    t2 = time.perf_counter()
    print(f"process pool {t1 - t0:.1f} s, dask-local {t2 - t1:.1f} s")

    names = sorted(p.name for p in (tmp_path / "proc" / "records").glob("*.json"))
    assert len(names) == 3
    assert sorted(p.name for p in (tmp_path / "dask" / "records").glob("*.json")) == names
    for name in names:
        proc = R.read_json(tmp_path / "proc" / "records" / name)
        dask = R.read_json(tmp_path / "dask" / "records" / name)
        if proc["status"] == "failed":  # where each executor put its output differs, only
            for rec, folder in ((proc, "proc"), (dask, "dask")):
                rec["error"] = json.loads(json.dumps(rec["error"]).replace(f"/{folder}/", "/"))
        assert _stable(dask) == _stable(proc), name
    for f in (tmp_path / "dask").rglob("*.*"):
        assert "resbook-run-" not in f.read_text(), f.name  # no worker-local path leaks
    assert len(list((tmp_path / "dask" / "notebooks").glob("*.ipynb"))) == 3
    log = (tmp_path / "dask" / "logs" / "sweep.log").read_text()
    assert "/3] start" in log and "ETA" in log

    capsys.readouterr()
    assert S.main([*argv, "--only=-s0-"]) == 0  # resume: the ok run is skipped
    assert "1 already done, 0 to run" in capsys.readouterr().out
    counts = json.loads((tmp_path / "dask" / "sweep.json").read_text())["counts"]
    assert counts == {"ok": 0, "failed": 0, "skipped": 1, "not_run": 2}


def test_dask_options_are_checked(tiny: dict, tmp_path: Path, monkeypatch, capsys) -> None:
    cfg = str(_tiny_config(tiny, tmp_path, [0]))
    assert S.main([cfg, "--executor", "dask"]) == 2  # no --scheduler
    assert S.main([cfg, "--scheduler", "tcp://h:8786"]) == 2  # not with the process pool
    import builtins

    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):  # noqa: ANN001
        if name.startswith("distributed"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    assert S.main([cfg, "--executor", "dask-local"]) == 2
    assert 'pip install -e ".[dask]"' in capsys.readouterr().err


# ----------------------------------------------------------------------------- CI smoke sweep


@pytest.mark.slow
def test_smoke_sweep_end_to_end(tmp_path: Path) -> None:
    """The CI smoke sweep: configs/smoke.yaml with the real training notebook and data."""
    if not (REPO / "notebooks" / "03_train.py").is_file():
        pytest.skip("notebooks/03_train.py (training engineer) does not exist yet")
    for var in ("RESBOOK_DATA_DIR", "RESBOOK_WEIGHTS_DIR"):
        if not os.environ.get(var):
            pytest.skip(f"{var} is not set: the smoke sweep needs the real data and weights")
    t0 = time.perf_counter()
    summary = S.run_sweep(
        REPO / "configs" / "smoke.yaml", output_dir=tmp_path / "smoke", allow_dirty=True
    )
    wall = time.perf_counter() - t0
    print(f"smoke sweep: {len(summary.runs)} runs in {wall:.1f} s")
    assert summary.ok, [r for r in summary.runs if r["status"] == "failed"]
    recs = R.load_records(tmp_path / "smoke")
    assert len(recs) == len(summary.runs) >= 2
    for rec in recs:
        assert rec["status"] == "ok"
        assert 0.0 <= rec["metrics"]["test"]["auc"] <= 1.0
        assert rec["provenance"]["weights_sha256"]
    # no absolute path of this machine in the records or the executed notebooks
    roots = {str(REPO), str(tmp_path), os.environ["RESBOOK_DATA_DIR"]}
    absolute = re.compile("|".join(rf"(?<![\w.]){re.escape(r)}" for r in roots))  # not ../x
    for f in [*(tmp_path / "smoke").rglob("*.json"), *(tmp_path / "smoke").rglob("*.ipynb")]:
        hit = absolute.search(f.read_text())
        assert hit is None, f"{f.name}: {hit and hit.group(0)}"
    # resume: nothing left to do; sweep.json keeps each run's wall time
    again = S.run_sweep(
        REPO / "configs" / "smoke.yaml", output_dir=tmp_path / "smoke", allow_dirty=True
    )
    assert again.count("skipped") == len(summary.runs)
    assert all(r["wall_s"] > 0 for r in again.runs)


def test_process_executor_sequential_for_one_worker():
    from helpers.sweep import process_executor

    assert process_executor(1) is None and process_executor(0) is None
    pool = process_executor(2)
    try:
        assert pool._max_workers == 2
        assert pool.submit(abs, -3).result(timeout=60) == 3  # spawn start-up works
    finally:
        pool.shutdown()
