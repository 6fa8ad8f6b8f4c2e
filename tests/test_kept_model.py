"""helpers.training.kept: a run's model kept in the cache, checked against its record (ch. 06)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.runs import records
from helpers.training import kept
from helpers.training.params import TrainParams, validate_params


@pytest.fixture(scope="module")
def tiny_model():
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inp))
    model = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(x), name="tiny")
    model.compile(optimizer="adam", loss="binary_crossentropy")  # optimizer state is dropped
    return model


def test_kept_model_round_trip_and_checks(tiny_model, tmp_path) -> None:
    x = np.random.default_rng(0).random((4, 8, 8, 3), dtype=np.float32)
    entry = kept.keep_model(tiny_model, "run-a", tmp_path)
    path = tmp_path / "models" / "run-a.keras"
    from helpers.files import hash_file

    assert entry == {"path": "models/run-a.keras", "bytes": path.stat().st_size,
                     "sha256": hash_file(path)}
    assert not list(path.parent.glob(".*"))  # no temporary file left behind
    record = {"run_id": "run-a", "kept_model": entry}
    back = kept.load_kept_model(record, tmp_path)
    np.testing.assert_array_equal(back.predict(x, verbose=0), tiny_model.predict(x, verbose=0))

    with pytest.raises(kept.KeptModelError, match="did not keep its model.*--only=run-b"):
        kept.load_kept_model({"run_id": "run-b"}, tmp_path)
    with pytest.raises(kept.KeptModelError, match="not in this cache"):
        kept.load_kept_model({"run_id": "run-c", "kept_model": entry}, tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    path.write_bytes(bytes(data))
    with pytest.raises(kept.KeptModelError, match="not the model run run-a kept"):
        kept.load_kept_model(record, tmp_path)


def test_save_model_is_an_option_not_identity() -> None:
    on, off = TrainParams(save_model=True), TrainParams()
    assert on.identity() == off.identity()
    assert records.run_id(on.identity()) == records.run_id(off.identity())
    assert "save_model" not in records.canonical_params({"save_model": True, "seed": 1})
    with pytest.raises(ValueError, match="save_model"):
        validate_params({"save_model": "yes"})


def test_a_kept_book_model_loads_in_a_fresh_process(tmp_path) -> None:
    """The book's models have a custom preprocessing layer: loading must not need its import."""
    import subprocess
    import sys

    from helpers.training.models import build_model

    model = build_model("mobilenet", 32, weights=None, preprocessing="native")
    entry = kept.keep_model(model, "run-m", tmp_path)
    x = np.random.default_rng(1).integers(0, 255, (2, 32, 32, 3)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "p.npy", model.predict(x, verbose=0))
    code = ("import json, sys, numpy as np; from helpers.training.kept import load_kept_model; "
            f"m = load_kept_model({{'run_id': 'run-m', 'kept_model': {entry!r}}}, sys.argv[1]); "
            "x = np.load(sys.argv[1] + '/x.npy'); "
            "assert np.array_equal(m.predict(x, verbose=0), np.load(sys.argv[1] + '/p.npy'))")
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
