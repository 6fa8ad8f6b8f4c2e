"""helpers.training: parameter validation, batching, determinism, resume, frozen feature cache.

The training tests use a tiny stratified real subset (``max_images`` per split) at 32 px so the
whole file stays within a couple of minutes on two CPU cores.
"""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras")

from train_fixtures import assert_resumes_like, needs_env  # noqa: E402

from helpers import training as train  # noqa: E402
from helpers.training import TrainParams, run_training, save_record, validate_params  # noqa: E402

needs_data = needs_env("RESBOOK_DATA_DIR", "the training tests need the real ISIC 2017 images")
needs_weights = needs_env("RESBOOK_WEIGHTS_DIR", "the frozen-regime tests need local ImageNet weights")

# ------------------------------------------------------------------------------ validation


def test_validate_params_defaults_and_identity():
    p = validate_params({})
    assert p == TrainParams()
    assert (p.regime, p.preprocessing, p.epochs, p.batch_size, p.lr) == ("full", "unit", 20, 32,
                                                                          1e-3)
    p = validate_params({"regime": "partial", "unfreeze_blocks": 2, "lr": 0.01,
                         "weights": None, "output_dir": "somewhere"})
    assert p.weights is None and p.unfreeze_blocks == 2 and p.output_dir == "somewhere"
    ident = p.identity()
    assert "output_dir" not in ident and ident["unfreeze_blocks"] == 2
    assert validate_params({"regime": "frozen", "unfreeze_blocks": 0}).unfreeze_blocks == 0
    assert validate_params({"lr": 1e-4, "resolution": np.int64(64)}).resolution == 64


def test_lr_one_is_rejected():
    with pytest.raises(ValueError, match="lr=1"):
        validate_params({"lr": 1})


def test_progress_verbosity(monkeypatch):
    monkeypatch.setenv("RESBOOK_PROGRESS", "1")
    assert train.progress_verbosity() == 1
    monkeypatch.delenv("RESBOOK_PROGRESS")
    monkeypatch.setattr("sys.stdout", io.StringIO())  # a log file, not a terminal
    assert train.progress_verbosity() == 2


def test_array_batches_seeded_shuffle():
    x = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1).repeat(3, axis=-1)
    y = np.arange(10) % 2
    seq = train.array_batches(x, y, 4, shuffle=True, seed=7)
    assert len(seq) == 3

    def epoch_order(s):
        return np.concatenate([s[i][0][:, 0, 0, 0] for i in range(len(s))]).astype(int)

    first = epoch_order(seq)
    assert sorted(first) == list(range(10))
    seq.set_epoch(1)
    second = epoch_order(seq)
    assert sorted(second) == list(range(10)) and not np.array_equal(first, second)
    again = train.array_batches(x, y, 4, shuffle=True, seed=7)
    again.set_epoch(1)
    np.testing.assert_array_equal(epoch_order(again), second)  # same (seed, epoch) → same order
    xb, yb = seq[0]
    assert xb.dtype == np.float32 and yb.shape == (4, 1)
    np.testing.assert_array_equal(xb[:, 0, 0, 0], yb[:, 0] + 2 * (xb[:, 0, 0, 0] // 2))
    plain = train.array_batches(x, y, 4)
    np.testing.assert_array_equal(epoch_order(plain), np.arange(10))


# -------------------------------------------------------------------------------- training

TINY = {"dataset": "isic2017", "task": "melanoma", "model": "mobilenet", "resolution": 32,
        "regime": "full", "epochs": 2, "max_images": 16, "weights": None}


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    return run_training({**TINY, "output_dir": str(out)}, verbose=0), out


@needs_data
def test_record_contents(reference_run):
    rec, out = reference_run
    assert rec["status"] == "ok" and rec["run_id"].startswith("isic2017-melanoma-mobilenet-32-full")
    assert rec["history"]["epoch"] == [1, 2] and len(rec["history"]["val_loss"]) == 2
    for split in ("val", "test"):
        pr = rec["predictions"][split]
        assert len(pr["ids"]) == len(pr["labels"]) == len(pr["probs"]) == rec["metrics"][split]["n"]
        assert set(rec["metrics"][split]) >= {"accuracy", "f1", "sensitivity", "specificity",
                                              "auc", "tn", "fp", "fn", "tp", "n"}
    assert rec["cost"]["params"] == rec["cost"]["trainable_params"] + 21888  # BN moving stats
    assert rec["cost"]["model_size_mb"] > 12  # 3.2 M float32 parameters, no optimizer state
    assert rec["latency_ms"]["batch1"] > 0 and rec["latency_ms"]["batch32_per_image"] > 0
    assert rec["timing"]["epochs_run"] == 2 and rec["timing"]["train_images_per_s"] > 0
    assert rec["provenance"]["data_fingerprint"] and "output_dir" not in rec["params"]
    assert not (out / "checkpoints").exists()  # removed once the run completed
    path = save_record(rec, out)
    assert path == out / "records" / f"{rec['run_id']}.json"
    stored = json.loads(path.read_text())
    assert stored["predictions"]["test"]["probs"] == pytest.approx(
        rec["predictions"]["test"]["probs"])


@needs_data
def test_same_seed_same_predictions(reference_run, tmp_path):
    rec, _ = reference_run
    again = run_training({**TINY, "output_dir": str(tmp_path)}, verbose=0, measure=False)
    assert again["predictions"] == rec["predictions"]
    assert again["history"] == rec["history"]


@needs_data
def test_resume_after_kill_matches_uninterrupted(reference_run, tmp_path):
    rec, _ = reference_run
    state, resumed = assert_resumes_like(rec, TINY, tmp_path)  # state: the kill's, at epoch 1
    assert state["history"]["epoch"] == [1]
    assert resumed["history"]["epoch"] == [1, 2]


@needs_data
@needs_weights
def test_frozen_feature_cache_hit(tmp_path):
    params = {**TINY, "regime": "frozen", "weights": "imagenet", "epochs": 3,
              "cache_dir": str(tmp_path / "cache"), "output_dir": str(tmp_path)}
    first = run_training(params, verbose=0, measure=False)
    assert first["timing"]["feature_cache"] == "miss"
    files = list((tmp_path / "cache" / "features").glob("*.npz"))
    assert len(files) == 1
    second = run_training({**params, "seed": 0}, verbose=0, measure=False)
    assert second["timing"]["feature_cache"] == "hit"
    assert second["predictions"] == first["predictions"]
    assert first["cost"]["trainable_params"] == 1024 + 1
    assert first["provenance"]["weights_sha256"].startswith("7dee8558")
    other_seed = run_training({**params, "seed": 1}, verbose=0, measure=False)
    assert other_seed["predictions"]["val"]["probs"] != first["predictions"]["val"]["probs"]


@needs_data
def test_partial_regime_trains_top_blocks_only(tmp_path):
    rec = run_training({**TINY, "regime": "partial", "unfreeze_blocks": 1, "epochs": 1,
                        "output_dir": str(tmp_path)}, verbose=0, measure=False)
    # block 13 = depthwise 3x3x1024 + pointwise 1024x1024 kernels, plus the Dense head
    assert rec["cost"]["trainable_params"] == 3 * 3 * 1024 + 1024 * 1024 + 1024 + 1


@needs_data
@needs_weights
def test_early_stopping_state_survives_resume(tmp_path):
    """Frozen regime (cheap): EarlyStopping + ReduceLROnPlateau counters and best weights resume."""
    params = {**TINY, "regime": "frozen", "weights": "imagenet", "epochs": 8, "lr": 0.05,
              "early_stopping": True, "patience_es": 2, "cache_dir": str(tmp_path / "cache")}
    whole = run_training({**params, "output_dir": str(tmp_path / "a")}, verbose=0, measure=False)
    assert 1 <= whole["timing"]["epochs_run"] <= 8
    assert_resumes_like(whole, params, tmp_path / "b")


@needs_data
def test_on_model_gets_the_trained_model_that_made_the_predictions(tmp_path):
    got = []
    rec = run_training({**TINY, "output_dir": str(tmp_path)}, verbose=0, measure=False,
                       on_model=got.append)
    assert len(got) == 1 and got[0].get_layer("output").dtype_policy.name == "float32"
    from helpers.data import load_dataset

    ds = load_dataset("isic2017", task="melanoma", resolution=32, max_images=16, seed=0)
    probs = got[0].predict(ds.splits["test"].images.astype("float32"), verbose=0).reshape(-1)
    np.testing.assert_allclose(probs, rec["predictions"]["test"]["probs"], atol=1e-6)


@needs_data
def test_bf16_same_seed_same_predictions_and_own_identity(tmp_path):
    params = {**TINY, "precision": "mixed_bfloat16", "output_dir": str(tmp_path)}
    first = run_training(params, verbose=0, measure=False)
    again = run_training(params, verbose=0, measure=False)
    assert first["predictions"] == again["predictions"]
    assert first["params"]["precision"] == "mixed_bfloat16" and "-bf16-" in first["run_id"]
    assert first["provenance"]["precision"]["policy"] == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "float32"  # restored after the run


@needs_data
def test_record_lists_its_warnings(reference_run):
    """Every ok record has ``warnings``; a loss that never beat the class prior is one."""
    rec, _ = reference_run
    assert isinstance(rec["warnings"], list)
    counts = rec["data"]["counts"]["train"]
    p = counts[1] / sum(counts)
    prior = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    no_gain = min(v for v in rec["history"]["loss"] if v is not None) >= prior
    assert no_gain == any("class-prior loss" in w for w in rec["warnings"])
