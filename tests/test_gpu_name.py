"""Records made on a GPU name the card (issue 23: provenance carries the GPU's name)."""

from __future__ import annotations

import sys
import types

from helpers.runs.provenance import gpu_info


class _Dev:
    def __init__(self, platform: str, name: str, kind: str) -> None:
        self.platform, self._name, self.device_kind = platform, name, kind

    def __str__(self) -> str:
        return self._name


def test_jax_gpus_are_named_by_their_device_kind(monkeypatch) -> None:
    fake = types.SimpleNamespace(devices=lambda: [_Dev("gpu", "cuda:0", "NVIDIA H200"),
                                                  _Dev("cpu", "TFRT_CPU_0", "cpu")])
    for name in ("tensorflow", "torch"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setitem(sys.modules, "jax", fake)
    assert gpu_info() == ["cuda:0 (NVIDIA H200)"]
    fake.devices = lambda: [_Dev("cpu", "TFRT_CPU_0", "cpu")]
    assert gpu_info() is None
