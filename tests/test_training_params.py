"""helpers.training.params without Keras, and its defaults as the notebook's parameters cell."""

from __future__ import annotations

import json
import subprocess
import sys

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
