"""Latency and peak memory of a LiteRT model at batch 1 on this CPU (deployment chapter).

Latency: :func:`measure_latency` times ``interpreter.invoke()`` alone (the input tensor is set
before the clock starts) on one random uint8 image after ``warmup`` runs, ``repeats`` times, and
reports the median and 90th percentile in milliseconds. This is what TFLite's ``benchmark_model``
measures; pre-processing is inside the model, so nothing else runs per image.

Peak memory: :func:`peak_memory_mb` starts a **fresh Python subprocess** that imports only NumPy
and the LiteRT interpreter (no TensorFlow), reads ``VmHWM`` (the resident-set high-water mark) from
``/proc/self/status``, then loads the file, allocates tensors, runs ``runs`` inferences and reads
``VmHWM`` again. ``delta_mb`` (after − before) is the memory the model costs: flatbuffer, arena,
XNNPACK's packed weights and scratch; ``peak_rss_mb`` is the whole process. ``tracemalloc`` would
see none of it (C++ allocations), and a measurement in the parent process would be swamped by
TensorFlow. Linux only; elsewhere the values are None.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from helpers.deploy.runtime import LiteRTModel


def all_threads() -> int:
    """The CPU cores this process may use (the "all threads" setting of a record)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - macOS/Windows
        return os.cpu_count() or 1


def load_average() -> dict[str, float] | None:
    """``os.getloadavg()`` as ``{"1min", "5min", "15min"}`` (None where it does not exist)."""
    try:
        one, five, fifteen = os.getloadavg()
    except (AttributeError, OSError):  # pragma: no cover - Windows
        return None
    return {"1min": float(one), "5min": float(five), "15min": float(fifteen)}


def _cpu_times() -> tuple[int, int] | None:
    try:
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]), idle


def cpu_busy_fraction(seconds: float = 1.0) -> float | None:
    """Share of all cores' time spent busy over the next ``seconds`` (``/proc/stat``; Linux).

    Sampled while this process sleeps, it is what *other* processes use: close to 0 on a quiet
    machine, about ``k / cores`` while ``k`` busy processes run. Unlike the load average (a
    one-minute moving average) it reacts at once when a training sweep is paused (SIGSTOP).
    Stopped processes count as idle. None where ``/proc/stat`` does not exist.
    """
    a = _cpu_times()
    time.sleep(seconds)
    b = _cpu_times()
    if a is None or b is None or b[0] <= a[0]:
        return None
    total, idle = b[0] - a[0], b[1] - a[1]
    return float(max(0.0, min(1.0, 1 - idle / total)))


def measure_latency(litert_model: LiteRTModel | bytes | str | os.PathLike[str],
                    resolution: int | None = None, threads: int = 1, *, repeats: int = 50,
                    warmup: int = 5, seed: int = 0) -> dict[str, Any]:
    """Median and p90 milliseconds of one batch-1 ``invoke()`` with ``threads`` threads.

    ``litert_model`` may be a :class:`LiteRTModel` (re-opened with ``threads`` if its thread count
    differs) or a flatbuffer's bytes/path. ``resolution`` is checked against the model's input
    when given. Returns ``{"median_ms", "p90_ms", "mean_ms", "min_ms", "n", "threads",
    "warmup"}``.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0; got {repeats}, {warmup}")
    if not isinstance(litert_model, LiteRTModel) or litert_model.num_threads != threads:
        src = litert_model.content if isinstance(litert_model, LiteRTModel) else litert_model
        litert_model = LiteRTModel(src, num_threads=threads)
    m = litert_model
    if resolution is not None and m.resolution != resolution:
        raise ValueError(f"the model takes {m.resolution} px, not resolution={resolution}")
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, m.input_shape, dtype=np.uint8)
    it = m.interpreter
    it.set_tensor(m._in["index"], m.prepare_input(image))  # noqa: SLF001
    for _ in range(warmup):
        it.invoke()
    times = np.empty(repeats)
    for i in range(repeats):
        t = time.perf_counter()
        it.invoke()
        times[i] = (time.perf_counter() - t) * 1000
    return {"median_ms": float(np.median(times)), "p90_ms": float(np.percentile(times, 90)),
            "mean_ms": float(times.mean()), "min_ms": float(times.min()), "n": int(repeats),
            "threads": int(threads), "warmup": int(warmup)}


_PROBE = r"""
import json, sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter

def hwm():
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None

path, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
before = hwm()
it = Interpreter(model_path=path, num_threads=threads)
it.allocate_tensors()
d = it.get_input_details()[0]
x = np.random.default_rng(0).integers(0, 256, d["shape"]).astype(d["dtype"])
for _ in range(runs):
    it.set_tensor(d["index"], x)
    it.invoke()
after = hwm()
print(json.dumps({"before_mb": before, "peak_rss_mb": after}))
"""


def peak_memory_mb(litert_model: LiteRTModel | bytes | str | os.PathLike[str], threads: int = 1,
                   *, runs: int = 3, timeout: float = 300.0) -> dict[str, Any]:
    """Peak resident memory of a fresh process that loads and runs the model (see module doc).

    Returns ``{"peak_rss_mb", "baseline_mb", "delta_mb", "threads", "method"}`` (MiB); the
    values are None where ``/proc/self/status`` does not exist.
    """
    if isinstance(litert_model, LiteRTModel):
        content = litert_model.content
    elif isinstance(litert_model, bytes | bytearray):
        content = bytes(litert_model)
    else:
        content = Path(litert_model).read_bytes()
    with tempfile.TemporaryDirectory(prefix="resbook-mem-") as d:
        path = Path(d) / "model.tflite"
        path.write_bytes(content)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        proc = subprocess.run([sys.executable, "-c", _PROBE, str(path), str(threads), str(runs)],
                              capture_output=True, text=True, timeout=timeout, env=env,
                              check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"memory probe failed ({proc.returncode}): {proc.stderr[-2000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    r = json.loads(line)
    before, peak = r["before_mb"], r["peak_rss_mb"]
    return {"peak_rss_mb": peak, "baseline_mb": before,
            "delta_mb": None if before is None or peak is None else peak - before,
            "threads": int(threads),
            "method": "VmHWM of a fresh subprocess (numpy + ai_edge_litert only) after load + "
                      f"allocate + {runs} invokes, minus VmHWM before loading"}
