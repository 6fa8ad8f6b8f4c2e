"""Shared pieces of the training and sweep tests (training chapter, ``notebooks/03_train.py``).

* :func:`parameters_cell`: the ``parameters`` cell of a tiny stand-in for the training notebook,
  generated from :class:`helpers.training.params.TrainParams`, so a new parameter needs no edit
  in the sweep tests.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

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
