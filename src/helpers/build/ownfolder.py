"""The whole book on your own images: data chapter, sweep, results chapter, one command.

``python -m helpers own-folder --folder PATH --positive NAME [--regime frozen|full]
[--resolutions 64 128 224 256] [--seeds 0 1 2] [--out results/own/<folder name>]
[--external PATH [--external-masks PATH]] [--preprocessing unit|native]
[--geometry squash|crop|pad] [--resample bilinear|area|bilinear_plain|nearest]``
(or ``make book DATASET=folder FOLDER=PATH POSITIVE=NAME``):

1. checks every option, the folder (one sub-folder per class, or ``train/``, ``val/``,
   ``test/`` holding them; photos of any size and format), that ``NAME`` is one of its class
   folders, that the validation and test splits will hold at least 2 images of each class
   (DeLong's minimum; fewer than 20 gets a warning: wide intervals) and that an external
   folder has the same class folders and shares no file with the training folder, all before
   any work;
2. writes a sweep config for that folder into the output tree (``<out>/sweep.yaml``: both
   models, every resolution, the seeds, the frozen regime unless ``--regime full``, and how
   photos of any shape become square: ``--geometry``, ``--resample``, see
   :mod:`helpers.data.resize`); ``--external-masks`` (lesion masks of the external folder)
   adds the external AUC of images cropped to the lesion to every run's record;
3. executes the data chapter (``<out>/01_data.ipynb``), the sweep (``<out>/records/``,
   ``<out>/notebooks/``, ``<out>/logs/``) and the two results chapters (``<out>/04_results.ipynb``, ``<out>/11_beyond_auc.ipynb``)
   with papermill, and prints Table I in short form (test AUC [95 % CI] per model × size).

Data root of a folder data set: ``data_root`` *is* the folder holding the class folders
(:class:`helpers.data.folder_source.FolderSource` has no sub-folder name of its own), so the
sweep and both chapters get ``data_root=<the folder>``. The output tree is separate from the
book: an output folder that is, holds or lies inside ``book/``, ``results/`` (other than a
folder below ``results/own/``) or any results folder named by ``configs/book.yaml`` or a sweep
config is refused, so the book's chapters and records are never overwritten. The output tree
remembers its folder (``own-folder.json``): a second folder with the same name is refused
rather than mixed in. Resumable like any sweep: running the command again skips finished runs
(their data fingerprint is checked, so changed photos are re-run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from helpers import config as hconfig
from helpers.build.ownfolder_checks import (
    MAX_RESOLUTION,
    MIN_MAX_IMAGES,
    MODELS,
    RESOLUTIONS,
    SEEDS,
    check_counts,
    check_external,
    check_folder,
    check_masks,
    check_options,
    planned_counts,
    quoted,
)
from helpers.model_names import MIN_RESOLUTION, PREPROCESSING

PROTECTED = ("results", "book")
OWN_ROOT = "results/own"  # the one place under results/ for a user's output trees
MARKER = "own-folder.json"  # in the output tree: the folder it was made for
GEOMETRY_TEXT = {"squash": "the whole photo resized to a square (aspect ratio not kept)",
                 "crop": "the largest centred square of each photo",
                 "pad": "each photo padded with black to a centred square"}
PREPROCESSING_TEXT = {"unit": "pixels scaled to [0, 1] (x / 255) for every model",
                      "native": "each model's own ImageNet preprocessing (MobileNet: [-1, 1]; "
                                "ResNet50: caffe, BGR minus the ImageNet means)"}


def repo_root() -> Path:
    """The checkout holding ``notebooks/03_train.py`` (this package's, else the cwd's)."""
    here = Path(__file__).resolve().parents[3]  # src/helpers/build/ownfolder.py → the checkout
    if (here / "notebooks" / "03_train.py").is_file():
        return here
    root = hconfig.project_root(markers=("pyproject.toml",))
    if root is not None and (root / "notebooks" / "03_train.py").is_file():
        return root
    raise FileNotFoundError("cannot find notebooks/03_train.py: run from the book's checkout")


def slug(name: str) -> str:
    """A folder-name-safe version of ``name`` (output folder and sweep name)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "folder"
























# -------------------------------------------------------------------- the output tree
def protected_dirs(root: Path) -> list[Path]:
    """The book's output folders, deepest first: ``book/``, ``results/``, every folder named by
    a chapter parameter of ``configs/book.yaml`` and every sweep config's ``output_dir``."""
    from helpers.build.book import load_chapters

    found = {root / rel for rel in PROTECTED}
    registry = root / "configs" / "book.yaml"
    if registry.is_file():
        for chapter in load_chapters(registry):
            found |= {root / v for v in chapter.parameters.values()
                      if isinstance(v, str) and (v.startswith("results/") or (root / v).exists())}
    for path in sorted((root / "configs").glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            cfg = yaml.safe_load(fh)
        if isinstance(cfg, dict) and isinstance(cfg.get("output_dir"), str):
            found.add(root / cfg["output_dir"])
    return sorted({p.resolve() for p in found}, key=lambda p: (-len(p.parts), p))


def _check_out(out: Path, root: Path) -> None:
    """ValueError when ``out`` is, holds or lies inside one of the book's output folders."""
    own = (root / OWN_ROOT).resolve()
    if own in out.parents:
        return  # results/own/<name>: a user's tree (every committed folder is elsewhere)
    for prot in protected_dirs(root):
        if out == prot or prot in out.parents or out in prot.parents:
            rel = prot.relative_to(root) if root in prot.parents else prot
            where = "is" if out == prot else "is inside" if prot in out.parents else "holds"
            raise ValueError(f"--out {out} {where} {rel}/, the book's own output: choose a "
                             f"folder of its own, e.g. {OWN_ROOT}/<name>")


def claim_out(out: Path, folder: Path) -> None:
    """Record in ``out`` the folder it is for; ValueError when it was made for another folder.

    Two folders with the same name (``/a/photos``, ``/b/photos``) would otherwise share
    ``results/own/photos`` and the second would overwrite the first's chapters.
    """
    marker = out / MARKER
    if marker.is_file():
        try:
            made_for = json.loads(marker.read_text(encoding="utf-8")).get("folder")
        except (ValueError, AttributeError) as exc:
            raise ValueError(f"{marker} is damaged ({exc}): delete it if {out} holds the "
                             f"results of {quoted(str(folder))}") from exc
        if made_for != str(folder):
            tag = hashlib.sha256(str(folder).encode()).hexdigest()[:8]
            raise ValueError(f"--out {out} holds the results of the folder {quoted(made_for)}, "
                             f"not {quoted(str(folder))}: pass --out "
                             f"{out.parent / f'{out.name}-{tag}'} (or delete {out})")
        return
    from helpers.files import atomic_write_json

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(marker, {"folder": str(folder)})


def header_comment(folder_name: str, neg: str, pos: str) -> str:
    """The one comment line above ``sweep.yaml``: names quoted, nothing can start a new line."""
    return (f"# written by `python -m helpers own-folder` for the folder {quoted(folder_name)} "
            f"({quoted(neg)} = 0, {quoted(pos)} = 1)\n")


def sweep_config(name: str, out: Path, positive: str, *, regime: str = "frozen",
                 resolutions: Sequence[int] = RESOLUTIONS, seeds: Sequence[int] = SEEDS,
                 models: Sequence[str] = MODELS, epochs: int | None = None,
                 max_images: int | None = None, external: str | None = None,
                 preprocessing: str = "unit", geometry: str = "squash",
                 resample: str = "bilinear") -> dict[str, Any]:
    """The sweep config of one folder: models × resolutions × seeds in one regime."""
    fixed: dict[str, Any] = {"dataset": "folder", "task": positive, "regime": regime,
                             "preprocessing": preprocessing, "weights": "imagenet",
                             "geometry": geometry, "resample": resample,
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


# -------------------------------------------------------------------- Table I, short form
LEARNT_NOTHING_MARK = "*"


def learnt_nothing(out: Path, positive: str) -> dict[str, str]:
    """``{run id: warning}`` of the runs whose training loss never beat the class prior (or
    was not finite): they learnt nothing usable (see the findings chapter and ``warned_runs``)."""
    from helpers.chapters.results import warned_runs

    warned = warned_runs(out, dataset="folder", task=positive)
    keep = warned["warning"].str.contains("class-prior|non-finite", regex=True)
    return dict(zip(warned.loc[keep, "run"], warned.loc[keep, "warning"], strict=True))


def short_table(runs, flagged: dict[str, str] | None = None) -> Any:
    """Table I in short form: test AUC [95 % CI] (OR-Hillis over seeds), model × resolution.

    A cell holding a run in ``flagged`` (:func:`learnt_nothing`) ends in ``*``.
    """
    import pandas as pd

    from helpers.chapters import results
    from helpers.chapters.reading import ci_text

    t1 = results.table_one(runs, split="test", auc_interval="or_hillis")
    marked = {(m, int(r)) for m, r, rid in zip(runs["model"], runs["resolution"], runs["run_id"],
                                              strict=True) if rid in (flagged or {})}
    t1["cell"] = [ci_text("auc", r["auc"], r["auc_lo"], r["auc_hi"])
                  + (f" {LEARNT_NOTHING_MARK}" if (r["model"], int(r["resolution"])) in marked
                     else "") for _, r in t1.iterrows()]
    t1["px"] = [f"{int(r)} px" for r in t1["resolution"]]
    wide = t1.pivot_table(index="model", columns="px", values="cell", aggfunc="first")
    wide = wide[[f"{r} px" for r in sorted(t1["resolution"].unique())]]
    wide.columns.name = None
    wide.index.name = "test AUC [95% CI]"
    return pd.DataFrame(wide)


def _print_table(table, flagged: dict[str, str], title: str) -> None:
    print(f"\n{title}")
    print(table.to_string())
    if flagged:
        print(f"{LEARNT_NOTHING_MARK} learnt nothing: {len(flagged)} run(s) whose training loss "
              "never went below the class-prior loss (or was not finite); their AUC is no "
              "evidence of the model:")
        for rid, warning in sorted(flagged.items()):
            print(f"  {rid}: {warning}")


# -------------------------------------------------------------------- the command
def _prepare(folder: str | os.PathLike[str], positive: str, *, seed: int,
             max_images: int | None, external: str | os.PathLike[str] | None,
             out: str | os.PathLike[str] | None, root: Path,
             external_masks: str | os.PathLike[str] | None = None,
             ) -> tuple[Path, tuple[str, str], Path | None, Path, list[str]]:
    """Every check that reads the folders: (folder, classes, external, output, warnings)."""
    folder_p = Path(folder).expanduser().resolve()
    classes = check_folder(folder_p, positive)
    counts = planned_counts(folder_p, classes[1], seed, max_images)
    split_folders = any((folder_p / s).is_dir() for s in ("train", "test"))
    notes = check_counts(counts, classes, split_folders, max_images)
    ext_p = Path(external).expanduser().resolve() if external else None
    if ext_p is not None:
        check_external(folder_p, ext_p, classes)
    if external_masks is not None:
        notes += check_masks(ext_p, Path(external_masks).expanduser().resolve())
    out_p = Path(out).expanduser() if out else Path(OWN_ROOT) / slug(folder_p.name)
    out_p = (out_p if out_p.is_absolute() else root / out_p).resolve()
    _check_out(out_p, root)
    return folder_p, classes, ext_p, out_p, notes


def run_own_folder(folder: str | os.PathLike[str], positive: str, *, regime: str = "frozen",
                   resolutions: Sequence[int] = RESOLUTIONS, seeds: Sequence[int] = SEEDS,
                   out: str | os.PathLike[str] | None = None, models: Sequence[str] = MODELS,
                   epochs: int | None = None, max_images: int | None = None,
                   allow_dirty: bool = False, workers: int = 1,
                   external: str | os.PathLike[str] | None = None,
                   preprocessing: str = "unit", geometry: str = "squash",
                   resample: str = "bilinear",
                   external_masks: str | os.PathLike[str] | None = None) -> int:
    """Data chapter, sweep and results chapter on one folder; prints Table I (exit status)."""
    from helpers.build.book import Chapter, execute_chapter
    from helpers.chapters.results import load_runs
    from helpers.sweep import process_executor, run_sweep
    from helpers.sweep.config import expand, load_config

    check_options(resolutions=resolutions, seeds=seeds, models=models, epochs=epochs,
                  max_images=max_images, workers=workers, preprocessing=preprocessing,
                  regime=regime, geometry=geometry, resample=resample)
    root = repo_root()
    folder_p, (neg, pos), ext_p, out_p, notes = _prepare(
        folder, positive, seed=int(seeds[0]), max_images=max_images, external=external,
        out=out, root=root, external_masks=external_masks)
    masks_p = Path(external_masks).expanduser().resolve() if external_masks else None
    name = slug(folder_p.name)
    cfg = sweep_config(f"own-{name}", out_p, pos, regime=regime, resolutions=resolutions,
                       seeds=seeds, models=models, epochs=epochs, max_images=max_images,
                       external=slug(ext_p.name) if ext_p else None, preprocessing=preprocessing,
                       geometry=geometry, resample=resample)
    expand({**cfg, "_root": str(root)})  # every run's parameters checked before any work
    claim_out(out_p, folder_p)
    cfg_path = out_p / "sweep.yaml"
    cfg_path.write_text(header_comment(folder_p.name, neg, pos)
                        + yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    print(f"own folder {quoted(folder_p.name)}: {quoted(neg)} = 0, {quoted(pos)} = 1 -> "
          f"{out_p}\npreprocessing {preprocessing}: {PREPROCESSING_TEXT[preprocessing]}\n"
          f"geometry {geometry}: {GEOMETRY_TEXT[geometry]}; resample {resample}"
          + (f"\nlesion masks of the external folder: {quoted(str(masks_p))}" if masks_p
             else ""), flush=True)
    for note in notes:
        print(f"warning: {note}", file=sys.stderr, flush=True)

    data_nb = Chapter(Path("notebooks/01_data.py"), out_p / "01_data.ipynb",
                      {"dataset": "folder", "task": pos, "resolutions": [int(r) for r in resolutions],
                       "seed": int(seeds[0]), "data_root": str(folder_p)})
    print(f"executing {data_nb.notebook} -> {data_nb.output}", flush=True)
    execute_chapter(data_nb, root, record_inputs=False)

    sweep_cfg = load_config(cfg_path)
    sweep_cfg["_root"] = str(root)  # the notebook is the book's, wherever the output tree is
    executor = process_executor(workers) if workers > 1 else None
    summary = run_sweep(sweep_cfg, root=root, data_root=folder_p, executor=executor,
                        allow_dirty=allow_dirty, external_root=ext_p,
                        external_masks=masks_p)
    if not summary.ok:
        print(f"some runs failed: see {out_p / 'records'} and {out_p / 'logs'}", file=sys.stderr)
        return 1

    for name in ("04_results", "11_beyond_auc"):  # the tests, then cost, thresholds and fit
        results_nb = Chapter(Path(f"notebooks/{name}.py"), out_p / f"{name}.ipynb",
                             {"results_dir": str(out_p), "dataset": "folder", "task": pos})
        print(f"executing {results_nb.notebook} -> {results_nb.output}", flush=True)
        execute_chapter(results_nb, root, record_inputs=False)

    runs = load_runs(out_p, dataset="folder", task=pos)
    flagged = learnt_nothing(out_p, pos)
    table = short_table(runs, flagged)
    table.to_csv(out_p / "table1_auc.csv")
    _print_table(table, flagged, f"Table I (short form), folder {quoted(folder_p.name)}, "
                 f"positive class {quoted(pos)}, regime {regime}, preprocessing {preprocessing}, "
                 f"{len(runs)} runs:")
    from helpers.chapters.results import external_table

    ext = external_table(runs)
    if len(ext):
        ext.to_csv(out_p / "external_auc.csv")
        print(f"\nExternal test set {quoted(ext_p.name if ext_p else '')} (seed ensemble, "
              "DeLong CI):")
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
    p.add_argument("--resolutions", type=int, nargs="+", default=list(RESOLUTIONS),
                   help=f"input sizes in px ({MIN_RESOLUTION} to {MAX_RESOLUTION})")
    p.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS), help="ints >= 0")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--preprocessing", choices=PREPROCESSING, default="unit",
                   help="unit: pixels scaled to [0, 1] (the paper's); native: each model's own "
                        "ImageNet preprocessing")
    p.add_argument("--out", default=None,
                   help=f"output tree (default {OWN_ROOT}/<folder name>; never inside the "
                        "book's results/ or book/)")
    p.add_argument("--epochs", type=int, default=None, help="default: the notebook's (20)")
    p.add_argument("--max-images", type=int, default=None,
                   help=f"images per split (a quick trial; at least {MIN_MAX_IMAGES}; default all)")
    p.add_argument("--external", default=None, metavar="PATH",
                   help="an extra labelled folder (exactly the training folder's class folder "
                        "names, no file shared with it) scored by every run")
    p.add_argument("--external-masks", default=None, metavar="PATH",
                   help="lesion masks of the --external images (<image stem>_*.png): they are "
                        "also scored cropped to the lesion (lesion_box)")
    p.add_argument("--geometry", choices=GEOMETRY_TEXT, default="squash",
                   help="how a photo becomes square: squash (whole photo, stretched), crop "
                        "(largest centred square) or pad (black bars)")
    p.add_argument("--resample", default="bilinear",
                   choices=("bilinear", "area", "bilinear_plain", "nearest"),
                   help="resampling filter: bilinear (antialiased, default), area, "
                        "bilinear_plain (no antialiasing) or nearest")
    p.add_argument("--workers", type=int, default=1, help="parallel runs (processes, >= 1)")
    p.add_argument("--allow-dirty", action="store_true",
                   help="run from a checkout with uncommitted changes")
    args = p.parse_args(argv)
    from helpers.build.book import ChapterFailed
    from helpers.data import DataError
    from helpers.sweep import SweepConfigError

    try:
        return run_own_folder(args.folder, args.positive, regime=args.regime,
                              resolutions=args.resolutions, seeds=args.seeds, out=args.out,
                              models=args.models, epochs=args.epochs, max_images=args.max_images,
                              allow_dirty=args.allow_dirty, workers=args.workers,
                              external=args.external, preprocessing=args.preprocessing,
                              geometry=args.geometry, resample=args.resample,
                              external_masks=args.external_masks)
    except (DataError, SweepConfigError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ChapterFailed as exc:  # the chapter's notebook is kept under _build/failed/
        print(f"error: {exc}", file=sys.stderr)
        return 1
