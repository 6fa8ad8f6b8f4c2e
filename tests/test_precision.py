"""Precision setting (helpers.training.precision): auto-detection, validation, policy scope."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.training import precision as P


def test_cpu_flags_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert P.cpu_flags(info) == {"fpu", "avx2", "avx512f", "avx512_bf16"}
    assert P.cpu_flags(tmp_path / "missing") == set()


@pytest.mark.parametrize(
    ("flags", "gpu", "expected"),
    [
        ({"avx2", "avx512f"}, False, "float32"),  # AVX-512 without BF16: emulated, slower
        ({"avx512_bf16"}, False, "mixed_bfloat16"),
        ({"amx_bf16"}, False, "mixed_bfloat16"),
        (set(), True, "mixed_bfloat16"),
    ],
)
def test_auto_uses_bf16_only_on_native_hardware(flags: set[str], gpu: bool, expected: str) -> None:
    assert P.resolve("auto", flags=flags, gpu=gpu) == expected


def test_explicit_precision_is_kept_and_unknown_rejected() -> None:
    assert P.resolve("float32", flags={"avx512_bf16"}, gpu=True) == "float32"
    assert P.resolve("mixed_bfloat16", flags=set(), gpu=False) == "mixed_bfloat16"
    with pytest.raises(ValueError, match="precision='bf16'"):
        P.resolve("bf16")


def test_validate_params_resolves_auto_and_names_bad_value() -> None:
    from helpers.training import validate_params

    p = validate_params({"precision": "auto"})
    assert p.precision in ("float32", "mixed_bfloat16")
    with pytest.raises(ValueError, match="precision"):
        validate_params({"precision": "half"})


@pytest.mark.slow
def test_policy_scope_restores_and_output_layer_stays_float32() -> None:
    import keras

    from helpers.training.models import build_model

    before = keras.config.dtype_policy().name
    with P.policy("mixed_bfloat16"):
        model = build_model("mobilenet", 32, weights=None)
        assert model.get_layer("base").dtype_policy.name == "mixed_bfloat16"
        assert model.get_layer("output").compute_dtype == "float32"
    assert keras.config.dtype_policy().name == before


def test_explicit_bf16_on_hardware_that_emulates_it_is_warned() -> None:
    native, plain = {"avx512f", "avx512_bf16"}, {"avx2", "fma"}
    text = P.emulation_warning("mixed_bfloat16", flags=plain, gpu=False)
    assert text is not None and "emulated" in text and "precision=auto" in text
    assert P.emulation_warning("mixed_bfloat16", flags=native, gpu=False) is None
    assert P.emulation_warning("mixed_bfloat16", flags=plain, gpu=True) is None
    assert P.emulation_warning("float32", flags=plain, gpu=False) is None
