"""Make this Python see only what the lent GPU machine has (scripts/device_dryrun.sh).

Put this folder on PYTHONPATH and Python imports it at start-up (every spawned worker too):
the packages the GPU machine lacks and the GPU path must not need (TensorFlow, papermill,
Jupyter, Dask, LiteRT, the book's tools) then fail to import, as they would there.
"""

import importlib.abc
import sys

ABSENT = ("tensorflow", "tf_keras", "papermill", "jupytext", "nbformat", "nbclient", "ipykernel",
          "IPython", "myst_nb", "jupyter_book", "dask", "distributed", "ai_edge_litert",
          "playwright")


class _Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):  # noqa: ANN001, ANN201 - import protocol
        if name.split(".")[0] in ABSENT:
            raise ImportError(f"{name} is not on the GPU machine (scripts/gpu_machine_imports)")
        return None


sys.meta_path.insert(0, _Absent())
