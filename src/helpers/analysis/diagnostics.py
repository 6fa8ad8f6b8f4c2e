"""Training diagnostics: per-epoch histories and how far each configuration fitted (results chapter).

Job: the training histories of the run records in long form (loss and accuracy figures) and a
per-configuration summary of the last epoch against the constant-answer baseline
(:func:`fit_summary`). Used by the results chapter (04).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd

from helpers.runs.frames import cell_groups, config_columns, record_location


def history_long(df: pd.DataFrame) -> pd.DataFrame:
    """Per-epoch training history of every run in long form, for the loss figure (results chapter)."""
    keys = config_columns(df)
    frames = []
    for _, run in df.iterrows():
        hist = run["history"] or {}
        if "val_loss" not in hist:
            raise ValueError(f"{record_location(run['run_id'])} has no history.val_loss")
        n = len(hist["val_loss"])
        epoch = hist.get("epoch") or list(range(1, n + 1))
        frame = pd.DataFrame(
            {
                "epoch": epoch,
                **{
                    k: hist[k]
                    for k in ("loss", "val_loss", "accuracy", "val_accuracy")
                    if k in hist
                },
            }
        )
        for k in (*keys, "seed", "run_id"):
            frame[k] = run[k]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def binary_entropy(p: float) -> float:
    """Cross-entropy (nats) of always answering the class prior ``p``: a loss floor (results chapter)."""
    if not 0.0 < p < 1.0:
        return 0.0
    return float(-(p * math.log(p) + (1.0 - p) * math.log(1.0 - p)))


def fit_summary(df: pd.DataFrame, *, margin: float = 0.05) -> pd.DataFrame:
    """How far each configuration fitted its training images, from the histories (results chapter).

    Per configuration (seeds pooled): the last epoch's training accuracy (mean, min, max) and
    loss, the training set's majority-class share and the loss of a constant answer at the class
    prior, how many seeds ended more than ``margin`` above that share (fitted beyond the constant
    answer), and the epoch of the lowest validation loss with that loss and the last one.
    """
    keys = config_columns(df)
    rows = []
    for where, sub in cell_groups(df, keys):
        shares = (
            sub["train_majority_share"].dropna().unique() if "train_majority_share" in sub else []
        )
        if len(shares) != 1:
            raise ValueError(
                f"configuration {dict(where)} has no single training class balance in its records "
                "(data.counts.train): re-run its sweep with the current helpers"
            )
        share = float(shares[0])
        acc, loss, best_epoch, vmin, vlast = [], [], [], [], []
        for _, run in sub.iterrows():
            hist = run["history"] or {}
            for key in ("accuracy", "loss", "val_loss"):
                if not hist.get(key):
                    raise ValueError(f"{record_location(run['run_id'])} has no history.{key}")
            acc.append(float(hist["accuracy"][-1]))
            loss.append(float(hist["loss"][-1]))
            vl = [float(v) for v in hist["val_loss"]]
            i = int(np.argmin(vl))
            epochs = hist.get("epoch") or list(range(1, len(vl) + 1))
            best_epoch.append(int(epochs[i]))
            vmin.append(vl[i])
            vlast.append(vl[-1])
        rows.append(
            {
                **where,
                "n_seeds": len(sub),
                "train_acc_last": float(np.mean(acc)),
                "train_acc_min": float(np.min(acc)),
                "train_acc_max": float(np.max(acc)),
                "majority_share": share,
                "n_beyond_majority": int(sum(a > share + margin for a in acc)),
                "train_loss_last": float(np.mean(loss)),
                "prior_loss": binary_entropy(share),
                "best_val_epoch": float(np.mean(best_epoch)),
                "val_loss_min": float(np.mean(vmin)),
                "val_loss_last": float(np.mean(vlast)),
            }
        )
    return pd.DataFrame(rows)


def sizes_with_both_models(df: pd.DataFrame) -> list[int]:
    """Input sizes at which more than one model was run, smallest first (results chapter)."""
    if df.empty:
        return []
    n_models = df.groupby("resolution")["model"].nunique()
    return sorted(int(r) for r, n in n_models.items() if n > 1)


def focus_resolution(df: pd.DataFrame, preferred: int = 128) -> int:
    """The size the single-size figures show: ``preferred`` (the paper's 128 px) when run,
    else the run size closest to it, the larger on a tie (the results chapter, a user's own folder)."""
    sizes = sorted(int(r) for r in df["resolution"].unique())
    if not sizes:
        raise ValueError("no runs: no input size to focus on")
    return preferred if preferred in sizes else min(sizes, key=lambda r: (abs(r - preferred), -r))


def warned_runs(results_dir: str | os.PathLike[str] | None, dataset: str | None = None,
                task: str | None = None) -> pd.DataFrame:
    """Runs whose record carries ``warnings`` (diverged loss, no gain over the class prior,
    a damaged checkpoint discarded …): run id, status and each warning (results chapter).

    Records made before runs kept a ``warnings`` list have none to show.
    """
    from helpers import config
    from helpers.runs import records

    rows = []
    for rec in records.load_records(config.results_dir(results_dir)):
        params = rec.get("params", {})
        if (dataset and params.get("dataset") != dataset) or (task and params.get("task") != task):
            continue
        for warning in rec.get("warnings") or []:
            rows.append({"run": rec["run_id"], "status": rec.get("status"), "warning": warning})
    return pd.DataFrame(rows, columns=["run", "status", "warning"])
