"""Resumable sweeps: a YAML grid → one papermill run of the training notebook per cell (training chapter).

One module per job:

- :mod:`~helpers.sweep.config`: load a sweep YAML and expand it into runs (no Keras import);
- :mod:`~helpers.sweep.execute`: one papermill run → a summary dict and a run record;
- :mod:`~helpers.sweep.executors`: where runs execute (this process, a process pool, Dask);
- :mod:`~helpers.sweep.inputs`: the input folders and the results folder, checked up front;
- :mod:`~helpers.sweep.progress`: the sweep's summary and remaining-time estimate;
- :mod:`~helpers.sweep.plan`: step 1, the config → the planned runs with their ids, checked;
- :mod:`~helpers.sweep.skip`: step 2, which planned runs are skipped (a valid record) and why;
- :mod:`~helpers.sweep.runner`: step 3, driving the runs, and :func:`run_sweep` (steps 1-3);
- :mod:`~helpers.sweep.cli`: ``python -m helpers sweep CONFIG ...``;
- :mod:`~helpers.sweep.device` (+ ``device_job``, ``device_archive``): the GPU path, the same
  plan and skip rule, runs trained in-process on a device (``scripts/device_sweep.py``).

The names below are the package's public interface (the training chapter, ``helpers.cli``, the tests and
``scripts/benchmark.py`` import them from here).
"""

from helpers.sweep.cli import main
from helpers.sweep.config import (
    BLOCK_KEYS,
    CONFIG_KEYS,
    SweepConfigError,
    default_validator,
    expand,
    find_root,
    load_config,
    train_defaults,
)
from helpers.sweep.device import DeviceExecutor
from helpers.sweep.execute import KERNEL_NAME, execute_run, execute_run_detached, store_detached
from helpers.sweep.executors import (
    DaskExecutor,
    ProcessPool,
    SequentialExecutor,
    dask_executor,
    process_executor,
)
from helpers.sweep.plan import SweepPlan, plan_sweep
from helpers.sweep.progress import SweepSummary
from helpers.sweep.runner import drive_runs, run_sweep
from helpers.sweep.skip import skip_finished

__all__ = [
    "BLOCK_KEYS",
    "CONFIG_KEYS",
    "DaskExecutor",
    "DeviceExecutor",
    "KERNEL_NAME",
    "ProcessPool",
    "SequentialExecutor",
    "SweepConfigError",
    "SweepPlan",
    "SweepSummary",
    "dask_executor",
    "default_validator",
    "drive_runs",
    "execute_run",
    "execute_run_detached",
    "expand",
    "find_root",
    "load_config",
    "main",
    "plan_sweep",
    "process_executor",
    "run_sweep",
    "skip_finished",
    "store_detached",
    "train_defaults",
]
