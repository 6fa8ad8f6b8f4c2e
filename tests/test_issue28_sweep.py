"""Issue 28, the sweep and the training run: a read-only results folder (row 11), a killed pool
worker (row 15), and the UX items: ``--dry-run`` checks every input folder, the ETA comes from
measured runs of the same size and says when it guesses, the kernel's stderr noise is kept out
of the sweep's output, a record's wall time includes external scoring, the external set's
name is in the run id, and a long feature extraction reports its progress.

No Keras training: papermill runs use tiny stand-in notebooks, the pool runs a fake run
function, and the training run's steps are replaced by stubs.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from data_fixtures import make_folder
from test_sweep import TINY
from test_sweep_inputs import FOLDER_FIXED
from test_sweep_inputs import NB as FOLDER_NB

from helpers import sweep as S
from helpers.runs import records as R
from helpers.sweep import runner

REPO = Path(__file__).resolve().parents[1]


def _config(tmp_path: Path, seeds: list[int], notebook: str = TINY, **extra: Any) -> Path:
    """A sweep YAML under tmp_path (a project root) running ``notebook`` for ``seeds``.

    A sweep of ``FOLDER_NB`` fixes ``FOLDER_FIXED`` (its folder data set), under ``extra``'s
    ``fixed``: a sweep takes unset parameters from TrainParams, not from the notebook's cell.
    """
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "nb.py").write_text(notebook)
    fixed = {**(FOLDER_FIXED if notebook is FOLDER_NB else {}), **extra.pop("fixed", {})}
    cfg = {"name": "t", "notebook": "nb.py", "output_dir": "out", "validate": False,
           "grid": {"seed": seeds}, **({"fixed": fixed} if fixed else {}), **extra}
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _ok_record(out: Path, params: dict[str, Any], wall_s: float | None = None) -> str:
    rid = R.run_id(params)
    rec: dict[str, Any] = {"run_id": rid, "status": "ok", "params": R.canonical_params(params)}
    if wall_s is not None:
        rec["timing"] = {"wall_s": wall_s}
    R.write_json_atomic(R.record_path(out, rid), rec)
    return rid


# ----------------------------------------------------------------- row 11: read-only folder


def _make_read_only(folder: Path, monkeypatch: pytest.MonkeyPatch,
                    request: pytest.FixtureRequest) -> None:
    """Make ``folder`` read-only, as a read-only mount would be, for any user.

    chmod stops a normal user; root ignores it, so for root every write primitive (``open``
    for writing, ``os.open`` with write flags, ``os.mkdir``, ``os.replace``/``rename``/
    ``unlink``) also fails with EROFS for a path inside ``folder``.
    """
    paths = [folder, *folder.rglob("*")]
    for p in paths:
        p.chmod(0o555 if p.is_dir() else 0o444)
    request.addfinalizer(lambda: [p.chmod(0o755) for p in paths if p.exists()])
    if os.geteuid() != 0:
        return
    root = os.path.realpath(folder)

    def inside(path: Any) -> bool:
        if not isinstance(path, str | bytes | os.PathLike):
            return False
        real = os.path.realpath(os.fsdecode(path))
        return real == root or real.startswith(root + os.sep)

    def deny(path: Any) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))

    real_open, real_os_open = builtins.open, os.open
    real_mkdir, real_replace, real_rename, real_unlink = os.mkdir, os.replace, os.rename, os.unlink

    def fake_open(file: Any, mode: str = "r", *a: Any, **k: Any) -> Any:
        if inside(file) and any(c in mode for c in "wax+"):
            deny(file)
        return real_open(file, mode, *a, **k)

    def fake_os_open(path: Any, flags: int, *a: Any, **k: Any) -> int:
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            deny(path)
        return real_os_open(path, flags, *a, **k)

    def guard(real: Any) -> Any:
        def fake(path: Any, *a: Any, **k: Any) -> Any:
            if inside(path):
                if real is real_mkdir and os.path.isdir(path):
                    raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), path)
                deny(path)
            return real(path, *a, **k)
        return fake

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    for name, real in (("mkdir", real_mkdir), ("replace", real_replace),
                       ("rename", real_rename), ("unlink", real_unlink)):
        monkeypatch.setattr(os, name, guard(real))


def test_row11_read_only_results_folder(tmp_path: Path, monkeypatch, request, capsys) -> None:
    """Nothing to run: exit 0 with a note; runs to do: an error naming the folder, exit 2."""
    cfg = _config(tmp_path, [0])
    params = S.expand(S.load_config(cfg), validator=None)[0]
    out = tmp_path / "out"
    _ok_record(out, params)
    _make_read_only(out, monkeypatch, request)
    with pytest.raises(OSError):  # the stand-in really refuses writes
        (out / "records" / "x.json").write_text("{}")

    assert S.main([str(cfg)]) == 0  # every run done: nothing needs writing
    captured = capsys.readouterr()
    assert "1 already done, 0 to run" in captured.out
    assert f"results folder {out} cannot be written" in captured.out

    cfg2 = _config(tmp_path, [0, 1])  # seed 1 is left to run
    assert S.main([str(cfg2)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write the results folder {out}" in err and "--output-dir" in err
    with pytest.raises(S.SweepConfigError, match="1 run\\(s\\) need it"):
        S.run_sweep(cfg2)
    left = sorted(p.name for p in out.rglob("*"))
    assert left == sorted(["records", f"{R.run_id(params)}.json"])  # nothing written


# ----------------------------------------------------------------- row 15: a killed pool worker


def kill_once_run(spec: dict[str, Any]) -> dict[str, Any]:
    """Stands in for execute_run in a pool worker: the seed-1 run SIGKILLs its own worker the
    first time (a marker file says it happened); the seed-0 run is in flight meanwhile."""
    rid, cwd = spec["run_id"], Path(spec["cwd"])
    killed, started = cwd / "killed-once", cwd / f"started-{rid}"
    if "-s1-" in rid and not killed.exists():
        killed.write_text(str(os.getpid()))
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGKILL)
    if "-s0-" in rid and not started.exists():  # its first attempt
        started.write_text("")
        deadline = time.monotonic() + 60
        while not killed.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(2.0)  # still running when the other worker dies
    log = Path(spec["cwd"]) / "attempts.log"
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"{rid}\n")
    R.write_json_atomic(spec["record"], {"run_id": rid, "status": "ok",
                                         "params": R.canonical_params(spec["params"])})
    return {"run_id": rid, "status": "ok", "wall_s": 0.1, "record": spec["record"]}


def test_row15_killed_pool_worker_is_retried_and_the_other_run_kept(
        tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(runner, "execute_run", kill_once_run)
    cfg = _config(tmp_path, [0, 1])
    assert S.main([str(cfg), "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "killed-once").is_file()
    assert "retry" in out and "BrokenProcessPool" in out
    status = json.loads((tmp_path / "out" / "sweep.json").read_text())["counts"]
    assert status == {"ok": 2, "failed": 0, "skipped": 0, "not_run": 0}
    for rec in R.load_records(tmp_path / "out" / "records"):
        assert rec["status"] == "ok", rec["run_id"]
    assert not list((tmp_path / "out" / "locks").glob("*.lock"))


def test_row15_a_run_that_kills_every_worker_fails_alone(tmp_path: Path, monkeypatch) -> None:
    """Lost twice when running on its own: its failure is its own; the other run is ok."""
    monkeypatch.setattr(runner, "execute_run", kill_once_run)
    cfg = _config(tmp_path, [0, 1])
    pool = S.process_executor(2)

    class AlwaysKills:  # the marker never stays: seed 1 kills its worker every time
        _max_workers, retryable, lost_together = 2, (BrokenProcessPool,), True

        def submit(self, fn, spec):  # noqa: ANN001
            if "-s1-" in spec["run_id"]:
                (tmp_path / "killed-once").unlink(missing_ok=True)
            return pool.submit(fn, spec)

    try:
        summary = S.run_sweep(cfg, executor=AlwaysKills(), validator=None)
    finally:
        pool.shutdown()
    status = {r["run_id"].split("-")[-2]: r["status"] for r in summary.runs}
    assert status == {"s0": "ok", "s1": "failed"}
    assert getattr(pool, "rebuilt", 0) >= 1  # a fresh pool replaced the broken one


# ----------------------------------------------------------------- --dry-run checks the inputs


def test_ux_dry_run_checks_data_and_external_folders(tmp_path: Path, monkeypatch,
                                                     capsys) -> None:
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    photos = make_folder(tmp_path / "photos", {"Acne": 4, "Normal": 4})
    hosp = make_folder(tmp_path / "hosp", {"Acne": 2, "Normal": 2}, seed0=50)
    rosacea = make_folder(tmp_path / "rosacea", {"Acne": 2, "Rosacea": 2}, seed0=80)
    cfg = str(_config(tmp_path, [0], FOLDER_NB, fixed={"external": "hosp"}))
    ok = ["--data-root", str(photos), "--external-root", str(hosp), "--allow-dirty"]
    assert S.main([cfg, "--dry-run", *ok]) == 0
    assert "input problem" not in capsys.readouterr().out

    assert S.main([cfg, "--dry-run", *ok, "--data-root", str(tmp_path / "fotos")]) == 2
    out = capsys.readouterr().out
    assert "input problem: data 'folder'" in out and "'fotos' not found" in out
    assert S.main([cfg, "--dry-run", *ok, "--external-root", str(tmp_path / "hops")]) == 2
    assert f"external set 'hosp': DataError: external folder {tmp_path / 'hops'} not found" in (
        capsys.readouterr().out)
    assert S.main([cfg, "--dry-run", *ok, "--external-root", str(rosacea)]) == 2
    assert "no class folder 'Normal'" in capsys.readouterr().out

    def never(*_a: object) -> None:
        raise AssertionError("a run started with an unusable external folder")

    class Refuse(S.SequentialExecutor):
        submit = staticmethod(never)

    with pytest.raises(S.SweepConfigError, match="external set 'hosp'.*not found"):
        S.run_sweep(cfg, executor=Refuse(), data_root=photos, external_root=tmp_path / "hops",
                    allow_dirty=True)


# ----------------------------------------------------------------- the ETA


def test_ux_eta_is_measured_per_size_and_says_when_it_guesses() -> None:
    from helpers.sweep.progress import _Eta

    eta = _Eta(1)
    big = {"regime": "full", "model": "resnet50", "resolution": 256}
    assert eta.describe([big]).startswith("no ETA yet")
    assert eta.add_records([{"status": "ok", "params": big, "timing": {"wall_s": 387.0}},
                            {"status": "failed", "params": big, "timing": {"wall_s": 5.0}},
                            {"status": "ok", "params": big, "timing": {}}]) == 1
    assert eta.describe([big]) == "ETA 6m27s"
    small = {**big, "resolution": 128}  # never timed: a quarter of the pixels
    text = eta.describe([small])
    assert text.startswith("ETA ~1m37s (a guess: 1 of 1 runs") and "regime, model" in text
    assert eta.describe([big, small]).startswith("ETA ~8m04s (a guess: 1 of 2")


def test_ux_sweep_eta_uses_finished_records_of_the_folder(tmp_path: Path, capsys) -> None:
    cfg = _config(tmp_path, [0, 1])
    first = S.expand(S.load_config(cfg), validator=None)[0]
    _ok_record(tmp_path / "out", first, wall_s=387.0)  # seed 0, done in 6 min 27 s

    class Instant(S.SequentialExecutor):
        def submit(self, fn, spec):  # type: ignore[override]  # noqa: ANN001
            return super().submit(lambda s: {"run_id": s["run_id"], "status": "ok",
                                             "wall_s": 380.0}, spec)

    S.run_sweep(cfg, executor=Instant(), validator=None)
    out = capsys.readouterr().out
    assert "1 already done, 1 to run" in out
    assert "start " in out and "(ETA 6m27s)" in out


# ----------------------------------------------------------------- kernel stderr noise

NOISY = TINY.replace("prov = records.provenance", """import os
os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n"
            b"I0000 00:00:1796492917.130134    6404 port.cc:153] oneDNN custom operations are on.\\n"
            b"E0000 00:00:1796492917.1  6404 cuda_dnn.cc:8310] Unable to register cuDNN factory\\n"
            b"a real problem on stderr\\n")
prov = records.provenance""")


def test_ux_kernel_stderr_noise_is_filtered_and_logged(tmp_path: Path, capfd) -> None:
    cfg = _config(tmp_path, [0], NOISY)
    summary = S.run_sweep(cfg, validator=None)
    assert summary.ok
    err = capfd.readouterr().err
    rid = summary.runs[0]["run_id"]
    assert f"  {rid}: a real problem on stderr" in err
    for noise in ("absl::InitializeLog", "oneDNN", "cuDNN factory", "without encryption"):
        assert noise not in err, noise
    log = (tmp_path / "out" / "logs" / f"{rid}.stderr.log").read_text()
    assert "oneDNN custom operations" in log and "a real problem on stderr" in log
    assert "Unable to register cuDNN factory" in log


# ----------------------------------------------------------------- the training run


def test_ux_wall_time_includes_external_scoring(tmp_path: Path, monkeypatch) -> None:
    """The run's steps are stubs; scoring the external set takes 0.4 s of the wall time."""
    from types import SimpleNamespace

    from helpers.training import run
    from helpers.training.params import validate_params

    class Split:
        labels = np.array([0, 1, 0, 1])

        def __len__(self) -> int:
            return 4

        def class_counts(self) -> tuple[int, int]:
            return (2, 2)

    data = SimpleNamespace(splits={s: Split() for s in run.SPLITS}, class_names=("a", "b"),
                           task="Acne", fingerprint="fp")

    def external(record: dict, *_a: object) -> None:
        time.sleep(0.4)
        record["metrics"]["external"] = {}

    stubs = {
        "seed_everything": lambda seed: None,
        "load_data": lambda p, dataset: data,
        "build_model": lambda p, dataset: run.BuiltModel(None, None, {}),
        "fit_inputs": lambda p, built, dataset: run.FitInputs(None, {}, {}, images=True),
        "fit_with_resume": lambda *a, **k: run.FitResult({"history": {}, "epoch": 1}, 0, 0.01,
                                                         tmp_path / "ckpt"),
        "evaluate": lambda inputs, dataset, p: ({}, {"val": {}, "test": {}}, None),
        "measure_model": lambda model, res, measure: ({}, {}),
        "add_external": external,
    }
    for name, fn in stubs.items():
        monkeypatch.setattr(run, name, fn)
    p = validate_params(dict(dataset="folder", task="Acne", model="mobilenet", resolution=32,
                             regime="frozen", seed=0, external="hosp", external_root="/x"))
    rec = run._train_in_policy(p, dataset=None, callbacks=None, verbose=0, measure=False)
    assert rec["timing"]["wall_s"] >= 0.4 and rec["timing"]["external_s"] >= 0.4
    assert rec["provenance"]["finished_at"]


def test_ux_run_id_names_the_external_set_and_keeps_every_other_id() -> None:
    base = dict(dataset="folder", task="Acne", model="mobilenet", resolution=32,
                regime="frozen", preprocessing="native", seed=3)
    rid = R.run_id({**base, "external": "Hospital B"})
    assert "-native-ext_Hospital_B-s3-" in rid
    assert "ext_" not in R.run_id(base) and "ext_" not in R.run_id({**base, "external": None})
    committed = sorted(REPO.glob("results/**/records/*.json"))
    assert committed, "no committed records to compare"
    for path in committed:
        rec = R.read_json(path)
        if isinstance(rec, dict) and "params" in rec and "run_id" in rec:
            # records made before the external name joined the id have no external set, so
            # none of their ids changed; those made since (results/ph2) carry it
            ext = rec["params"].get("external")
            assert (f"-ext_{ext}-" in rec["run_id"]) if ext else ("-ext_" not in rec["run_id"])
            assert R.run_id(rec["params"]) == rec["run_id"], path.name


# ----------------------------------------------------------------- feature extraction progress


class _SlowExtractor:
    output_shape = (None, 3)

    def __init__(self, pause_s: float = 0.0) -> None:
        self.pause_s = pause_s

    def predict_on_batch(self, batch: np.ndarray) -> np.ndarray:
        time.sleep(self.pause_s)
        return np.zeros((len(batch), 3), np.float32)


def test_ux_feature_extraction_reports_progress(tmp_path: Path) -> None:
    from helpers.training.features import cached_features, compute_features

    images = np.zeros((10, 4, 4, 3), np.uint8)
    stream = io.StringIO()
    feats = compute_features(_SlowExtractor(0.01), images, batch_size=4,
                             label="resnet50 256 px", every_s=0.0, stream=stream)
    assert feats.shape == (10, 3)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("features resnet50 256 px: 4/10 images (40%), 0 s elapsed")
    assert "about" in lines[0] and lines[1].startswith("features resnet50 256 px: 8/10 images")
    assert lines[-1].startswith("features resnet50 256 px: 10/10 images (100%)")
    assert lines[-1].endswith("in all") and len(lines) == 3

    quiet = io.StringIO()  # a fast extraction says nothing
    compute_features(_SlowExtractor(), images, batch_size=4, stream=quiet)
    assert quiet.getvalue() == ""
    ids = np.array([f"i{k}" for k in range(10)])
    feats, hit = cached_features(_SlowExtractor(), images, ids, tmp_path / "f.npz",
                                 label="mobilenet 64 px")
    assert not hit and feats.shape == (10, 3)
