"""The parameters a notebook declares, and refusing papermill parameters it does not (training chapter).

papermill injects every parameter it is given as a new cell after the notebook's cell tagged
``parameters``, whether or not the notebook uses that name: ``resoluton=64`` would silently
train at the default resolution. The sweep (:func:`helpers.sweep.run_sweep`) and the book
(:func:`helpers.build.book.execute_chapters`) therefore check every parameter against the names the
``parameters`` cell assigns before executing anything, with :func:`check_parameters`; the
error names the typo and the closest valid name. Inside a notebook run by plain papermill,
:func:`check_injected` does the same check on the kernel's globals: the notebook takes a
:func:`globals_snapshot` right before its ``parameters`` cell and calls :func:`check_injected`
with its parameter names right after it (the data and results chapters;
:func:`helpers.training.params.check_injected` is the training chapter's, whose names are the
``TrainParams`` fields). This module imports neither Keras nor papermill (jupytext parses the
notebook).
"""

from __future__ import annotations

import ast
import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


class UnknownParameterError(ValueError):
    """A parameter the notebook's ``parameters`` cell does not define (a typo, usually)."""


def parameter_nodes(notebook: str | os.PathLike[str]) -> list[tuple[str, ast.expr]]:
    """(name, value expression) of every assignment in the notebook's ``parameters`` cells."""
    import jupytext

    nb = jupytext.read(str(notebook))
    out: list[tuple[str, ast.expr]] = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" not in cell.metadata.get("tags", []):
            continue
        for node in ast.parse(cell.source).body:
            target = value = None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            if isinstance(target, ast.Name) and value is not None:
                out.append((target.id, value))
    return out


def parameter_names(notebook: str | os.PathLike[str]) -> list[str]:
    """Names the notebook's ``parameters`` cell assigns, in order."""
    return [name for name, _ in parameter_nodes(notebook)]


def suggest(name: str, valid: Iterable[str]) -> str:
    """``" (did you mean 'resolution'?)"`` for the closest valid name, else ``""``."""
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_message(unknown: Iterable[str], valid: Iterable[str], where: str) -> str:
    """One message naming each unknown parameter with its closest valid name."""
    valid = list(valid)
    parts = [f"{u!r}{suggest(u, valid)}" for u in sorted(unknown)]
    return (f"{where}: unknown parameter(s) {', '.join(parts)}; the notebook's parameters "
            f"cell defines {valid}")


def check_parameters(
    parameters: Iterable[str], notebook: str | os.PathLike[str], where: str | None = None
) -> None:
    """Raise UnknownParameterError for a parameter not in the notebook's ``parameters`` cell."""
    valid = parameter_names(notebook)
    unknown = set(parameters) - set(valid)
    if unknown:
        raise UnknownParameterError(unknown_message(unknown, valid, where or Path(notebook).name))


# -------------------------------------------------- parameters injected by plain papermill
def globals_snapshot(namespace: Mapping[str, Any]) -> dict[str, int]:
    """``{name: id(value)}`` of the public globals, taken right before the parameters cell.

    With :func:`check_injected` right after the parameters cell, this is how a chapter run by
    plain papermill sees what was injected: every name the ``parameters`` cell or papermill's
    ``injected-parameters`` cell binds is new or rebound in the kernel's globals (the data chapter, 04).
    """
    return {k: id(v) for k, v in namespace.items() if not k.startswith("_")}


def check_injected(namespace: Mapping[str, Any], before: Mapping[str, int],
                   parameters: Iterable[str], where: str = "papermill parameters") -> None:
    """Raise UnknownParameterError for a global bound since ``before`` that is no parameter.

    ``parameters`` are the names the notebook's ``parameters`` cell assigns (a test checks the
    list against the cell). Catches a typo'd parameter (``resultsdir=...``) and one that rebinds
    a name imported before the snapshot, naming the closest valid name; names starting with
    ``_`` (IPython's ``_i3``, ``_3``, ...) are ignored. Used by the data and results chapters.
    """
    valid = list(parameters)
    bound = {k for k, v in namespace.items() if not k.startswith("_") and before.get(k) != id(v)}
    unknown = bound - set(valid)
    if unknown:
        raise UnknownParameterError(unknown_message(unknown, valid, where))
