"""Tests for helpers.runs.records: run ids, atomic JSON, provenance, loading (chapter 03)."""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import pytest

from helpers.runs import records as R

PARAMS = {
    "dataset": "isic2017",
    "task": "melanoma",
    "model": "mobilenet",
    "resolution": 64,
    "regime": "frozen",
    "unfreeze_blocks": 0,
    "preprocessing": "unit",
    "epochs": 1,
    "batch_size": 32,
    "lr": 0.001,
    "seed": 0,
    "weights": "imagenet",
    "early_stopping": False,
    "patience_es": 3,
    "balanced_eval": False,
    "max_images": 64,
}


def test_run_id_format_and_stability() -> None:
    rid = R.run_id(PARAMS)
    assert rid.startswith("isic2017-melanoma-mobilenet-64-frozen-unit-s0-")
    assert len(rid.rsplit("-", 1)[1]) == 8
    # order, locations, int/float spelling and a dataclass wrapper do not change the identity
    shuffled = dict(reversed(list(PARAMS.items())))
    located = {**PARAMS, "data_root": "/somewhere", "cache_dir": "x", "output_dir": "y"}
    as_float = {**PARAMS, "resolution": 64.0}
    assert R.run_id(shuffled) == R.run_id(located) == R.run_id(as_float) == rid
    assert R.params_hash(PARAMS) == rid[-8:]


@pytest.mark.parametrize(
    ("key", "value"),
    [("lr", 0.0005), ("seed", 1), ("epochs", 2), ("max_images", None), ("balanced_eval", True)],
)
def test_run_id_sensitive_to_every_identity_param(key: str, value: object) -> None:
    assert R.run_id({**PARAMS, key: value}) != R.run_id(PARAMS)


def test_canonical_params_drops_locations_and_absolute_weight_paths() -> None:
    p = {**PARAMS, "weights": "/abs/dir/mobilenet_1_0_224_tf_no_top.h5", "data_root": "/d"}
    canon = R.canonical_params(p)
    assert list(canon) == sorted(canon)
    assert not set(R.LOCATION_KEYS) & set(canon)
    assert canon["weights"] == "mobilenet_1_0_224_tf_no_top.h5"
    assert set(canon) == set(R.IDENTITY_KEYS) - set(R.OMITTED_AT_DEFAULT)


def test_precision_is_identity_but_float32_keeps_earlier_run_ids() -> None:
    """Records made before the precision setting (float32) keep their run ids; bf16 gets its own."""
    assert R.run_id({**PARAMS, "precision": "float32"}) == R.run_id(PARAMS)
    bf16 = R.run_id({**PARAMS, "precision": "mixed_bfloat16"})
    assert bf16 != R.run_id(PARAMS)
    assert "-bf16-s" in bf16
    assert R.canonical_params({**PARAMS, "precision": "mixed_bfloat16"})["precision"] == (
        "mixed_bfloat16")


def test_run_id_requires_naming_fields() -> None:
    bad = {k: v for k, v in PARAMS.items() if k != "model"}
    with pytest.raises(KeyError, match="model"):
        R.run_id(bad)


def test_write_json_atomic_strict_json(tmp_path: Path) -> None:
    import numpy as np

    path = R.write_json_atomic(
        tmp_path / "sub" / "r.json",
        {
            "a": math.nan,
            "b": [1.0, math.inf],
            "c": np.float32(0.5),
            "d": np.arange(3),
            "p": tmp_path,
        },
    )
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    obj = json.loads(text)
    assert obj == {"a": None, "b": [1.0, None], "c": 0.5, "d": [0, 1, 2], "p": str(tmp_path)}
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]


def test_write_json_atomic_crash_keeps_old_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "r.json"
    R.write_json_atomic(path, {"version": 1})

    def boom(src: str, dst: str) -> None:
        raise OSError("killed mid-write")

    monkeypatch.setattr(R.os, "replace", boom)
    with pytest.raises(OSError, match="killed"):
        R.write_json_atomic(path, {"version": 2, "big": list(range(10_000))})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"version": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # no temp file left


def test_write_json_atomic_unserialisable_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="cannot store"):
        R.write_json_atomic(tmp_path / "r.json", {"x": object()})
    assert list(tmp_path.iterdir()) == []


def test_provenance_keys_and_weights_hash(tmp_path: Path) -> None:
    w = tmp_path / "w.h5"
    w.write_bytes(b"weights")
    prov = R.provenance("fp123", w)
    expected = {
        "git_commit", "git_dirty", "git_diff_sha256", "python", "packages", "keras_backend",
        "tf_enable_onednn_opts", "platform", "cpu",
        "gpu", "host", "data_fingerprint", "weights_file", "weights_sha256", "started_at",
        "finished_at",
    }  # fmt: skip
    assert set(prov) == expected
    assert prov["data_fingerprint"] == "fp123"
    assert prov["weights_file"] == "w.h5"
    assert prov["weights_sha256"] == hashlib.sha256(b"weights").hexdigest()
    assert prov["packages"]["numpy"]
    assert prov["cpu"]["cores"] >= 1
    assert isinstance(prov["cpu"]["simd"], list)
    # importing helpers asks TensorFlow for its oneDNN kernels unless the user chose otherwise
    assert prov["tf_enable_onednn_opts"] == os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    assert os.environ.get("TF_ENABLE_ONEDNN_OPTS") is not None
    assert prov["started_at"].endswith("+00:00")
    # the repo under test is a git checkout: commit is a 40-hex sha
    if prov["git_commit"] is not None:
        assert len(prov["git_commit"]) == 40 and isinstance(prov["git_dirty"], bool)
    json.dumps(prov, allow_nan=False)
    text = json.dumps(prov)
    assert os.uname().nodename not in text  # host name only hashed
    assert str(tmp_path) not in text  # no absolute path


def test_git_state_outside_checkout(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("RESBOOK_VERIFIED_COMMIT", raising=False)
    assert R.git_state(tmp_path) == (None, None)
    # a commit in the variable alone names nothing (issue 28 row 8): git decides, with a warning
    monkeypatch.setenv("RESBOOK_VERIFIED_COMMIT", "a" * 40)
    with pytest.warns(UserWarning, match="is ignored"):
        assert R.git_state(tmp_path) == (None, None)
    # a verified copy of a commit's tree (device_sweep.py's check) names it, even with a stale .git
    from helpers.runs import provenance
    monkeypatch.setattr(provenance, "_copy_check", None)
    provenance.set_copy_check("a" * 40)  # env restored by monkeypatch; the check is then inert
    assert R.git_state(tmp_path) == ("a" * 40, False)
    assert R.git_state(Path(__file__).parent) == ("a" * 40, False)
    # a copy that failed the check names no commit, even inside this real checkout
    monkeypatch.setenv("RESBOOK_VERIFIED_COMMIT", "unverified")
    assert R.git_state(Path(__file__).parent) == (None, None)
    assert R.git_diff_sha256(Path(__file__).parent) is None


def test_sha256_file_cache_invalidated_on_change(tmp_path: Path) -> None:
    f = tmp_path / "x.bin"
    f.write_bytes(b"one")
    assert R.sha256_file(f) == hashlib.sha256(b"one").hexdigest()
    f.write_bytes(b"two!")  # size changes, so the cache key does
    assert R.sha256_file(f) == hashlib.sha256(b"two!").hexdigest()


def test_load_records_and_matches(tmp_path: Path) -> None:
    rid = R.run_id(PARAMS)
    rec = {"schema": 1, "run_id": rid, "status": "ok", "params": R.canonical_params(PARAMS)}
    R.write_json_atomic(R.record_path(tmp_path, rid), rec)
    R.write_json_atomic(tmp_path / "nested" / "records" / "b.json", {**rec, "run_id": "b"})
    R.write_json_atomic(tmp_path / "sweep.json", {"name": "not a record"})
    (tmp_path / "records" / "broken.json").write_text('{"run_id": ')
    with pytest.warns(UserWarning, match="broken.json"):
        recs = R.load_records(tmp_path)
    assert sorted(r["run_id"] for r in recs) == sorted([rid, "b"])
    assert R.record_matches(recs[0], {**PARAMS, "data_root": "/elsewhere"})
    assert not R.record_matches(recs[0], {**PARAMS, "seed": 1})
    assert not R.record_matches({"run_id": rid}, PARAMS)
    with pytest.raises(FileNotFoundError, match="run a sweep"):
        R.load_records(tmp_path / "missing")


def test_failure_record_from_exception() -> None:
    try:
        raise ValueError("bad model")
    except ValueError as exc:
        rec = R.failure_record(PARAMS, exc, {"started_at": "t"})
    assert rec["status"] == "failed" and rec["run_id"] == R.run_id(PARAMS)
    assert rec["error"]["type"] == "ValueError" and rec["error"]["message"] == "bad model"
    assert "raise ValueError" in rec["error"]["traceback"]
    assert rec["provenance"]["finished_at"]


def test_git_state_ignores_the_sweeps_own_outputs(tmp_path: Path) -> None:
    """A changed record or log under results/ does not make the code dirty; a changed source does."""
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text("x = 1\n")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "log.txt").write_text("a\n")
    git("init", "-q")
    git("-c", "user.email=a@b", "-c", "user.name=a", "add", ".")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "x")
    assert R.git_state(tmp_path / "src")[1] is False
    (tmp_path / "results" / "log.txt").write_text("b\n")
    assert R.git_state(tmp_path / "src")[1] is False
    (tmp_path / "src" / "m.py").write_text("x = 2\n")
    assert R.git_state(tmp_path / "src")[1] is True
