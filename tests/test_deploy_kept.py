"""scripts/deploy_sweep.py --from-records: deploy kept models, skip (named) runs that kept none."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from record_factory import make_record, write_record

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "deploy_sweep.py"


def _sweep():
    spec = importlib.util.spec_from_file_location("deploy_sweep", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_from_records_selects_runs_and_skips_those_without_a_kept_model(tmp_path, capsys):
    recs = tmp_path / "records"  # isic2017 melanoma mobilenet, full, 64 px unless changed
    write_record(tmp_path, make_record(run_id="run-full-64", preprocessing="native"))
    write_record(tmp_path, make_record(run_id="run-frozen-64", preprocessing="native",
                                       regime="frozen"))
    write_record(tmp_path, make_record(run_id="run-full-128", preprocessing="native",
                                       resolution=128))
    sweep = _sweep()
    args = sweep.parse_args(["--from-records", str(recs), "--resolutions", "64",
                             "--regime", "full", "--output-dir", str(tmp_path / "out")])
    assert [rid for rid, _ in sweep.kept_items(args)] == ["run-full-64"]

    capsys.readouterr()
    argv = ["--from-records", str(recs), "--output-dir", str(tmp_path / "out")]  # any run
    assert sweep.main(argv) == 0
    out = capsys.readouterr().out
    assert "3 records, 0 not ok, 0 not selected, 3 selected" in out
    for rid in ("run-full-64", "run-frozen-64", "run-full-128"):  # every one named, none trained
        assert f"skip {rid}: run {rid} did not keep its model" in out
    assert "--save-models --only=run-full-64" in out
    assert "done: 0 record(s) written, 3 configuration(s) skipped" in out
    assert not (tmp_path / "out" / "records").exists() or not any(
        (tmp_path / "out" / "records").iterdir())


def test_a_bf16_model_exports_through_its_float32_twin() -> None:
    """Kept models of bf16 runs compute in bfloat16, which LiteRT cannot convert."""
    import numpy as np

    from helpers.deploy import export
    from helpers.deploy.runtime import LiteRTModel
    from helpers.training import precision
    from helpers.training.models import build_model

    with precision.policy("mixed_bfloat16"):
        model = build_model("mobilenet", 32, weights=None, preprocessing="native")
    plain = build_model("mobilenet", 32, weights=None)
    assert export.float32_copy(plain) is plain  # nothing to do in float32
    twin = export.float32_copy(model)
    assert twin is not model
    assert set(export._policy_names(twin.get_config())) == {"float32"}
    x = np.random.default_rng(0).integers(0, 255, (4, 32, 32, 3)).astype("uint8").astype("float32")
    p_bf16, p_32 = model.predict(x, verbose=0), twin.predict(x, verbose=0)
    assert np.abs(p_bf16.astype("float32") - p_32).max() < 0.05  # bf16 rounding only
    data = export.to_litert(model, "float32")  # would fail on bf16 ops without the twin
    lm = LiteRTModel(data, num_threads=1)
    assert np.abs(lm.predict(x) - p_32.reshape(-1)).max() < 1e-3


def test_from_records_options_that_do_not_apply_are_refused(tmp_path) -> None:
    import pytest

    sweep = _sweep()
    with pytest.raises(SystemExit):
        sweep.parse_args(["--regime", "full"])  # the grid is the frozen regime
    with pytest.raises(SystemExit):
        sweep.parse_args(["--from-records", str(tmp_path), "--untrained"])
    args = sweep.parse_args([])
    assert (args.models, args.seeds, args.preprocessing) == (["mobilenet", "resnet50"], [0],
                                                            ["native"])


def test_a_kept_run_scored_on_other_test_images_is_a_named_skip(tmp_path, monkeypatch) -> None:
    import pytest
    from test_data_kermany_mnist import make_kermany

    from helpers.training import kept
    from helpers.training.models import build_model

    monkeypatch.setenv("RESBOOK_DATA_DIR", str(make_kermany(tmp_path / "data")))
    monkeypatch.setenv("RESBOOK_CACHE_DIR", str(tmp_path / "cache"))
    entry = kept.keep_model(build_model("mobilenetv2", 32, weights=None), "run-x")
    rec = make_record(run_id="run-x", dataset="kermany", task="pneumonia", model="mobilenetv2",
                      resolution=32, regime="frozen", preprocessing="unit", seed=0,
                      weights=None, test=([0, 1], [0.1, 0.9], ["not", "these"]))
    rec["kept_model"] = entry
    recs = write_record(tmp_path, rec).parent
    sweep = _sweep()
    ((rid, get),) = list(sweep.kept_items(sweep.parse_args(["--from-records", str(recs)])))
    with pytest.raises(kept.KeptModelError, match="run-x: the test images loaded now are not"):
        get()
