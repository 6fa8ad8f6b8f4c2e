"""helpers.training.params without Keras: its defaults as the notebook's parameters cell, what
validate_params rejects (Parts I and II), and params_from_namespace (the notebook's globals)."""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

NO_KERAS = """
import json, sys
from helpers.training.params import TrainParams, validate_params
p = validate_params({"model": "resnet50", "regime": "partial", "unfreeze_blocks": 2,
                     "precision": "auto", "resolution": 64})
try:
    validate_params({"model": "vgg"})
except ValueError as e:
    err = str(e)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("keras", "tensorflow", "jax", "torch"))
print(json.dumps({"heavy": heavy, "blocks": p.unfreeze_blocks, "err": err}))
"""


def test_validate_params_imports_no_keras_or_tensorflow():
    """Sweeps validate every run up front: that must not cost a TensorFlow import."""
    out = subprocess.run([sys.executable, "-c", NO_KERAS], capture_output=True, text=True,
                         check=True, timeout=120)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["heavy"] == []
    assert got["blocks"] == 2 and "['mobilenet', 'mobilenetv2', 'resnet50']" in got["err"]


NOTEBOOK_ONLY = {"output_dir": "results/book-example"}
"""Where the training notebook's cell may differ from TrainParams: a location, not identity (the
book's example writes its record under results/; a sweep always passes its own output_dir)."""


def _parameters_cell(notebook) -> dict:
    """Literal assignments of the notebook's ``parameters`` cell, in order."""
    jupytext = pytest.importorskip("jupytext")
    cells = [c for c in jupytext.read(str(notebook)).cells
             if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{notebook}: expected one cell tagged 'parameters'"
    out = {}
    for node in ast.parse(cells[0].source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, ast.unparse(node)
        out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def _drift(notebook) -> list[str]:
    """How the notebook's ``parameters`` cell differs from TrainParams' defaults (none: [])."""
    from helpers.training.params import TrainParams, default_params

    cell, defaults = _parameters_cell(notebook), {**default_params(), **NOTEBOOK_ONLY}
    fields = [f.name for f in dataclasses.fields(TrainParams)]
    problems = [f"{n}: not a TrainParams field" for n in cell if n not in defaults]
    problems += [f"{n}: missing from the cell" for n in fields if n not in cell]
    if not problems and list(cell) != fields:
        problems.append("the cell's order is not TrainParams' field order")
    problems += [f"{n}: cell {cell[n]!r}, TrainParams {v!r}" for n, v in defaults.items()
                 if n in cell and (cell[n] != v or type(cell[n]) is not type(v))]
    return problems


def test_notebook_parameters_cell_repeats_trainparams_defaults():
    """One source of defaults: the training notebook's cell says exactly what TrainParams says.

    A sweep takes the parameters its config leaves out from TrainParams, and the cell is what
    the notebook runs with on its own (the book's example, plain papermill): a cell that drifted
    from TrainParams would make the book's run other than the documented defaults.
    """
    assert _drift(REPO / "notebooks" / "03_train.py") == []


def test_a_drifted_parameters_cell_is_caught(tmp_path):
    """The check above fails on a changed value, a changed type, a missing or an extra name."""
    text = (REPO / "notebooks" / "03_train.py").read_text(encoding="utf-8")
    for old, new, needle in [
        ("\nbatch_size = 32\n", "\nbatch_size = 16\n", "batch_size: cell 16, TrainParams 32"),
        ("\nresolution = 128\n", "\nresolution = 128.0\n", "resolution: cell 128.0"),
        ('\ngeometry = "squash"\n', "\n", "geometry: missing from the cell"),
        ("\ntta = 0\n", "\ntta = 0\nttta = 0\n", "ttta: not a TrainParams field"),
        ('output_dir = "results/book-example"', "output_dir = None", "output_dir: cell None"),
    ]:
        assert old in text, old
        nb = tmp_path / "03_train.py"
        nb.write_text(text.replace(old, new, 1), encoding="utf-8")
        assert any(needle in p for p in _drift(nb)), (needle, _drift(nb))


def test_default_params_are_trainparams_defaults_in_field_order():
    from helpers.training.params import TrainParams, default_params

    assert default_params() == {f.name: f.default for f in dataclasses.fields(TrainParams)}
    assert list(default_params()) == [f.name for f in dataclasses.fields(TrainParams)]


def test_folder_dataset_takes_any_positive_class_and_seed_is_32_bit() -> None:
    import pytest

    from helpers.training.params import validate_params

    assert validate_params({"dataset": "folder", "task": "acne"}).task == "acne"
    with pytest.raises(ValueError, match="task"):
        validate_params({"dataset": "isic2017", "task": "acne"})
    assert validate_params({"seed": 2**32 - 1}).seed == 2**32 - 1
    with pytest.raises(ValueError, match=r"seed=4294967296"):
        validate_params({"seed": 2**32})


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"resolution": "128"}, "resolution='128'"),
        ({"resolution": 16}, "resolution=16"),
        ({"epochs": 1.5}, "epochs=1.5"),
        ({"epochs": True}, "epochs=True"),
        ({"model": "vgg"}, "['mobilenet', 'mobilenetv2', 'resnet50']"),
        ({"regime": "half"}, "['full', 'frozen', 'partial']"),
        ({"preprocessing": "caffe"}, "['unit', 'native']"),
        ({"lr": "0.001"}, "lr='0.001'"),
        ({"lr": 0}, "lr=0"),
        ({"early_stopping": "yes"}, "True or False"),
        ({"max_images": 1}, "max_images=1"),
        ({"regime": "partial"}, "unfreeze_blocks"),
        ({"regime": "partial", "unfreeze_blocks": 14}, "at most 13"),
        ({"regime": "full", "unfreeze_blocks": 2}, "only used with regime='partial'"),
        ({"weights": "/no/such/weights.h5"}, "does not exist"),
        ({"weights": "none"}, "None, 'imagenet' or an existing weights file"),
        ({"task": 3}, "task=3"),
        ({"epocs": 3}, "unknown parameter(s) ['epocs']"),
        # Part II (chest X-rays) parameters
        ({"aug_rotation": -1}, "aug_rotation=-1"),
        ({"aug_rotation": "10"}, "aug_rotation='10'"),
        ({"aug_brightness": 1.5}, "aug_brightness=1.5"),
        ({"aug_hflip": 1}, "True or False"),
        ({"class_weight": "auto"}, "['none', 'balanced']"),
        ({"lr_schedule": "step"}, "['plateau', 'cosine', 'constant']"),
        ({"tta": 1}, "tta=1"),
        ({"tta": 4}, "aug_rotation > 0 or aug_hflip=True"),
        ({"unfreeze_layers": 3}, "only used with regime='partial'"),
        ({"regime": "partial", "unfreeze_layers": 86}, "1..85 for mobilenet"),
        ({"regime": "partial", "unfreeze_layers": 3, "unfreeze_blocks": 2}, "not both"),
    ],
)
def test_validate_params_rejects(raw, needle) -> None:
    from helpers.training.params import validate_params

    with pytest.raises(ValueError) as e:
        validate_params(raw)
    assert needle in str(e.value)


# ------------------------------------------------- the training notebook's globals → params


def _notebook_globals() -> dict:
    """What the training notebook's kernel holds after its parameters cell: every parameter,
    plus imports, IPython's history names and other globals that are no parameter."""
    from helpers.training.params import TrainParams

    return {**dataclasses.asdict(TrainParams()), "resolution": 64, "regime": "partial",
            "unfreeze_blocks": 2, "output_dir": "results/x", "json": json, "_i3": "x",
            "In": [], "params": "an older value", "ds": object()}


def test_params_from_namespace_equals_the_explicit_validate_params() -> None:
    """The notebook's former ``validate_params(dict(dataset=dataset, ...))`` gives the same run."""
    from helpers.runs import records
    from helpers.training import params_from_namespace as reexported
    from helpers.training.params import TrainParams, params_from_namespace, validate_params

    ns = _notebook_globals()
    explicit = validate_params({f.name: ns[f.name] for f in dataclasses.fields(TrainParams)})
    got = params_from_namespace(ns)
    assert got == explicit and reexported is params_from_namespace
    assert (got.resolution, got.unfreeze_blocks, got.output_dir) == (64, 2, "results/x")
    assert records.run_id(got.identity()) == records.run_id(explicit.identity())


def test_params_from_namespace_names_a_missing_parameter() -> None:
    from helpers.training.params import params_from_namespace

    ns = _notebook_globals()
    del ns["lr"], ns["external_root"]
    with pytest.raises(ValueError, match=r"missing parameter\(s\) \['lr', 'external_root'\]"):
        params_from_namespace(ns)


def test_params_from_namespace_still_validates() -> None:
    from helpers.training.params import params_from_namespace

    with pytest.raises(ValueError, match="resolution='128'"):
        params_from_namespace({**_notebook_globals(), "resolution": "128"})
