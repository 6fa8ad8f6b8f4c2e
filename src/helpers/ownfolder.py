"""The whole book on your own images: data chapter, sweep, results chapter, one command.

``python -m helpers own-folder --folder PATH --positive NAME [--regime frozen|full]
[--resolutions 64 128 224 256] [--seeds 0 1 2] [--out results/own/<folder name>]
[--external PATH]``
(or ``make book DATASET=folder FOLDER=PATH POSITIVE=NAME``):

1. checks the folder (one sub-folder per class, or ``train/``, ``val/``, ``test/`` holding them;
   photos of any size and format) and that ``NAME`` is one of its class folders;
2. writes a sweep config for that folder into the output tree (``<out>/sweep.yaml``: both
   models, every resolution, the seeds, the frozen regime unless ``--regime full``);
3. executes the data chapter (``<out>/01_data.ipynb``), the sweep (``<out>/records/``,
   ``<out>/notebooks/``, ``<out>/logs/``) and the results chapter (``<out>/04_results.ipynb``)
   with papermill, and prints Table I in short form (test AUC [95 % CI] per model × size).

Data root of a folder data set: ``data_root`` *is* the folder holding the class folders
(:class:`helpers.data.sources.FolderSource` has no sub-folder name of its own), so the
sweep and both chapters get ``data_root=<the folder>``. The output tree is separate from the
book: an output folder inside ``results/paper`` or ``book/`` is refused, so the ISIC book's
chapters and records are never overwritten. Resumable like any sweep: running the command again
skips finished runs (their data fingerprint is checked, so changed photos are re-run).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from helpers import config as hconfig

RESOLUTIONS = (64, 128, 224, 256)
SEEDS = (0, 1, 2)
MODELS = ("mobilenet", "resnet50")
PROTECTED = ("results/paper", "book")


def repo_root() -> Path:
    """The checkout holding ``notebooks/03_train.py`` (this package's, else the cwd's)."""
    here = Path(__file__).resolve().parents[2]
    if (here / "notebooks" / "03_train.py").is_file():
        return here
    root = hconfig.project_root(markers=("pyproject.toml",))
    if root is not None and (root / "notebooks" / "03_train.py").is_file():
        return root
    raise FileNotFoundError("cannot find notebooks/03_train.py: run from the book's checkout")


def slug(name: str) -> str:
    """A folder-name-safe version of ``name`` (output folder and sweep name)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "folder"


def check_folder(folder: Path, positive: str) -> tuple[str, str]:
    """(negative, positive) class folder names; DataError when the folder or name is wrong."""
    from helpers.data import DataError
    from helpers.data.sources import FolderSource

    classes = FolderSource(folder).tasks  # raises DataError naming the layout problem
    if positive not in classes:
        raise DataError(f"--positive {positive!r} is not a class folder of '{folder.name}': "
                        f"its class folders are {sorted(classes)} (names are case-sensitive)")
    return next(c for c in classes if c != positive), positive


def sweep_config(name: str, out: Path, positive: str, *, regime: str = "frozen",
                 resolutions: Sequence[int] = RESOLUTIONS, seeds: Sequence[int] = SEEDS,
                 models: Sequence[str] = MODELS, epochs: int | None = None,
                 max_images: int | None = None, external: str | None = None) -> dict[str, Any]:
    """The sweep config of one folder: models × resolutions × seeds in one regime."""
    fixed: dict[str, Any] = {"dataset": "folder", "task": positive, "regime": regime,
                             "preprocessing": "unit", "weights": "imagenet",
                             # one split (and test set) for every training seed: paired tests
                             "split_seed": int(seeds[0])}
    if epochs is not None:
        fixed["epochs"] = int(epochs)
    if max_images is not None:
        fixed["max_images"] = int(max_images)
    if external is not None:  # its folder is a location: --external-root / external_root=
        fixed["external"] = external
    return {"name": name, "notebook": "notebooks/03_train.py", "output_dir": str(out),
            "grid": {"model": list(models), "resolution": [int(r) for r in resolutions],
                     "seed": [int(s) for s in seeds]},
            "fixed": fixed}


def _check_out(out: Path, root: Path) -> None:
    for rel in PROTECTED:
        prot = (root / rel).resolve()
        if out == prot or prot in out.parents:
            raise ValueError(f"--out {out} is inside {rel}/, the book's own output: choose a "
                             "folder of its own, e.g. results/own/<name>")


def short_table(runs) -> Any:
    """Table I in short form: test AUC [95 % CI] (OR-Hillis over seeds), model × resolution."""
    import pandas as pd

    from helpers import results
    from helpers.results.reading import ci_text

    t1 = results.table_one(runs, split="test", auc_interval="or_hillis")
    t1["cell"] = [ci_text("auc", r["auc"], r["auc_lo"], r["auc_hi"]) for _, r in t1.iterrows()]
    t1["px"] = [f"{int(r)} px" for r in t1["resolution"]]
    wide = t1.pivot_table(index="model", columns="px", values="cell", aggfunc="first")
    wide = wide[[f"{r} px" for r in sorted(t1["resolution"].unique())]]
    wide.columns.name = None
    wide.index.name = "test AUC [95% CI]"
    return pd.DataFrame(wide)


def run_own_folder(folder: str | os.PathLike[str], positive: str, *, regime: str = "frozen",
                   resolutions: Sequence[int] = RESOLUTIONS, seeds: Sequence[int] = SEEDS,
                   out: str | os.PathLike[str] | None = None, models: Sequence[str] = MODELS,
                   epochs: int | None = None, max_images: int | None = None,
                   allow_dirty: bool = False, workers: int = 1,
                   external: str | os.PathLike[str] | None = None) -> int:
    """Data chapter, sweep and results chapter on one folder; prints Table I (exit status)."""
    from helpers.book import Chapter, execute_chapter
    from helpers.results import load_runs
    from helpers.sweep import process_executor, run_sweep
    from helpers.sweep.config import load_config

    root = repo_root()
    folder_p = Path(folder).expanduser().resolve()
    neg, pos = check_folder(folder_p, positive)
    name = slug(folder_p.name)
    ext_p = Path(external).expanduser().resolve() if external else None
    if ext_p is not None:
        check_folder(ext_p, pos)
    out_p = Path(out).expanduser() if out else Path("results") / "own" / name
    out_p = (out_p if out_p.is_absolute() else root / out_p).resolve()
    _check_out(out_p, root)
    out_p.mkdir(parents=True, exist_ok=True)
    cfg = sweep_config(f"own-{name}", out_p, pos, regime=regime, resolutions=resolutions,
                       seeds=seeds, models=models, epochs=epochs, max_images=max_images,
                       external=slug(ext_p.name) if ext_p else None)
    cfg_path = out_p / "sweep.yaml"
    cfg_path.write_text(f"# written by `python -m helpers own-folder` for the folder "
                        f"'{folder_p.name}' ({neg} = 0, {pos} = 1)\n"
                        + yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    print(f"own folder '{folder_p.name}': {neg} = 0, {pos} = 1 -> {out_p}", flush=True)

    data_nb = Chapter(Path("notebooks/01_data.py"), out_p / "01_data.ipynb",
                      {"dataset": "folder", "task": pos, "resolutions": [int(r) for r in resolutions],
                       "seed": int(seeds[0]), "data_root": str(folder_p)})
    print(f"executing {data_nb.notebook} -> {data_nb.output}", flush=True)
    execute_chapter(data_nb, root, record_inputs=False)

    sweep_cfg = load_config(cfg_path)
    sweep_cfg["_root"] = str(root)  # the notebook is the book's, wherever the output tree is
    executor = process_executor(workers) if workers > 1 else None
    summary = run_sweep(sweep_cfg, root=root, data_root=folder_p, executor=executor,
                        allow_dirty=allow_dirty, external_root=ext_p)
    if not summary.ok:
        print(f"some runs failed: see {out_p / 'records'} and {out_p / 'logs'}", file=sys.stderr)
        return 1

    results_nb = Chapter(Path("notebooks/04_results.py"), out_p / "04_results.ipynb",
                         {"results_dir": str(out_p), "dataset": "folder", "task": pos})
    print(f"executing {results_nb.notebook} -> {results_nb.output}", flush=True)
    execute_chapter(results_nb, root, record_inputs=False)

    runs = load_runs(out_p, dataset="folder", task=pos)
    table = short_table(runs)
    table.to_csv(out_p / "table1_auc.csv")
    print(f"\nTable I (short form), folder '{folder_p.name}', positive class {pos}, regime "
          f"{regime}, {len(runs)} runs:")
    print(table.to_string())
    from helpers.results import external_table

    ext = external_table(runs)
    if len(ext):
        ext.to_csv(out_p / "external_auc.csv")
        print(f"\nExternal test set '{ext_p.name if ext_p else ''}' (seed ensemble, DeLong CI):")
        print(ext.drop(columns=["test_auc", "external_auc"]).to_string())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m helpers own-folder --folder PATH --positive NAME ...``."""
    p = argparse.ArgumentParser(prog="python -m helpers own-folder",
                                description="The whole book (data, sweep, results) on a folder "
                                            "of class folders of your own images.")
    p.add_argument("--folder", required=True, help="folder holding one sub-folder per class")
    p.add_argument("--positive", required=True, help="name of the positive class folder")
    p.add_argument("--regime", choices=("frozen", "full"), default="frozen")
    p.add_argument("--resolutions", type=int, nargs="+", default=list(RESOLUTIONS))
    p.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--out", default=None, help="output tree (default results/own/<folder name>)")
    p.add_argument("--epochs", type=int, default=None, help="default: the notebook's (20)")
    p.add_argument("--max-images", type=int, default=None,
                   help="images per split (a quick trial; default all)")
    p.add_argument("--external", default=None, metavar="PATH",
                   help="an extra labelled folder (same class folder names) scored by every run")
    p.add_argument("--workers", type=int, default=1, help="parallel runs (processes)")
    p.add_argument("--allow-dirty", action="store_true",
                   help="run from a checkout with uncommitted changes")
    args = p.parse_args(argv)
    from helpers.data import DataError
    from helpers.sweep import SweepConfigError

    try:
        return run_own_folder(args.folder, args.positive, regime=args.regime,
                              resolutions=args.resolutions, seeds=args.seeds, out=args.out,
                              models=args.models, epochs=args.epochs, max_images=args.max_images,
                              allow_dirty=args.allow_dirty, workers=args.workers,
                              external=args.external)
    except (DataError, SweepConfigError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
