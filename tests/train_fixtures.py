"""Shared pieces of the training and sweep tests (training chapter, ``notebooks/03_train.py``).

* :func:`parameters_cell`: the ``parameters`` cell of a tiny stand-in for the training notebook,
  generated from :class:`helpers.training.params.TrainParams`, so a new parameter needs no edit
  in the sweep tests;
* :func:`needs_env`: skip a test that needs the real data or weights when they are not set;
* :func:`assert_resumes_like`: kill a training run after its first epoch, resume it, and compare
  it with an uninterrupted run.

Keras is imported only inside the functions that train, so keras-free tests can import this.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from helpers.training.params import TrainParams


def parameters_cell(**overrides: Any) -> str:
    """A py:percent ``parameters`` cell assigning every TrainParams field, in field order.

    The values are the dataclass defaults, as in ``notebooks/03_train.py`` (training chapter),
    except ``overrides``; an override that names no field raises ValueError.
    """
    values = {f.name: f.default for f in dataclasses.fields(TrainParams)}
    unknown = sorted(set(overrides) - set(values))
    if unknown:
        raise ValueError(f"no TrainParams field(s) {unknown}")
    values.update(overrides)
    lines = (f"{k} = {json.dumps(v) if isinstance(v, str) else repr(v)}\n"  # "str", as 03 does
             for k, v in values.items())
    return '# %% tags=["parameters"]\n' + "".join(lines)


def needs_env(var: str, why: str) -> pytest.MarkDecorator:
    """Skip unless the environment variable ``var`` is set; ``why`` says what needs it.

    For the training chapter's tests of real runs (``RESBOOK_DATA_DIR``, ``RESBOOK_WEIGHTS_DIR``).
    """
    return pytest.mark.skipif(not os.environ.get(var, "").strip(), reason=f"{var} is unset: {why}")


class Killed(RuntimeError):
    """The simulated kill raised by :func:`kill_after_first_epoch` (training chapter tests)."""


def kill_after_first_epoch() -> Any:
    """A Keras callback raising :class:`Killed` once epoch 1 is done (training chapter tests).

    Its checkpoint is written by then, so a second run of the same params resumes at epoch 2.
    """
    import keras

    class KillAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if epoch == 0:
                raise Killed("simulated kill after epoch 1")

    return KillAfterFirstEpoch()


def assert_resumes_like(
    reference: dict[str, Any], params: dict[str, Any], output_dir: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Kill a run of ``params`` after epoch 1, run it again: it must resume into ``reference``.

    ``reference`` is the uninterrupted run's record (training chapter). Asserts that the kill
    left ``checkpoints/<run_id>/state.json`` at epoch 1 under ``output_dir``, that the second run
    resumed from epoch 1 with the reference's history and predictions, and that it removed its
    checkpoints once complete. Returns (the checkpoint state at the kill, the resumed record).
    """
    from helpers.training import run_training

    run = {**params, "output_dir": str(output_dir)}
    with pytest.raises(Killed):
        run_training(run, verbose=0, measure=False, callbacks=[kill_after_first_epoch()])
    checkpoint = output_dir / "checkpoints" / reference["run_id"]
    state = json.loads((checkpoint / "state.json").read_text())
    assert state["epoch"] == 1
    resumed = run_training(run, verbose=0, measure=False)
    assert resumed["timing"]["resumed_from_epoch"] == 1
    assert resumed["history"] == reference["history"]
    assert resumed["predictions"] == reference["predictions"]
    assert not checkpoint.exists()
    return state, resumed
