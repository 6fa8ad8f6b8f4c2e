"""Copies of the result tables for reading on a book page (results chapter).

Job: the tables of :mod:`~helpers.chapters.results_tables`, :mod:`~helpers.analysis.compare` and
:mod:`~helpers.analysis.diagnostics` keep every column (for glue, tests and the collapsed "full
table" cells); the functions here make the copy a reader sees: rows named by model and set-up
(no 0..N index), one short "value [CI]" string per cell, short headers and only the key
columns, so that a table fits the ~700 px content column (at most 7 columns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from helpers import paper_reference as ref
from helpers.chapters import formatting
from helpers.chapters.formatting import MISSING, format_p
from helpers.chapters.results_tables import config_columns_from_table
from helpers.runs.frames import METRIC_LABELS, PERCENT_METRICS, model_label, variant_columns

SHORT_VALUES: dict[str, str] = {"float32": "fp32", "mixed_bfloat16": "bf16"}
"""Short spellings of parameter values in set-up labels."""


def setup_label(row: pd.Series, keys: Sequence[str]) -> str:
    """``"frozen · unit"``: a row's set-up (without model and input size) in words (results chapter)."""
    parts = []
    for key in keys:
        value = row[key]
        if key in ("model", "resolution"):
            continue
        if key == "unfreeze_blocks":
            if not pd.isna(value):
                parts.append(f"{int(value)} blocks")
        else:
            parts.append(SHORT_VALUES.get(str(value), str(value)))
    return " · ".join(parts) or "–"


def for_reading(
    table: pd.DataFrame,
    columns: Mapping[str, str],
    *,
    digits: int = 3,
    setup_keys: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Reading copy: rows named by model, set-up and input size, short headers (results chapter).

    ``columns`` maps a column of ``table`` to its header, in display order. Floats are rounded
    to ``digits``; p-values (``p``, ``p_holm``) are written as :func:`format_p` does. Rows are
    named by up to three index levels: Model, Set-up (:func:`setup_label` of ``setup_keys``;
    default: the table's configuration columns) and Input (size in px), each only when present
    and not the same in every row.
    """
    keys = config_columns_from_table(table)
    rest = [k for k in keys if k != "model"] if setup_keys is None else list(setup_keys)
    order = [k for k in ("model", *(k for k in rest if k != "resolution")) if k in table]
    order += ["resolution"] if "resolution" in table else []
    table = table.sort_values(order, kind="stable") if order else table
    out = pd.DataFrame(index=table.index)
    for col, header in columns.items():
        values = table[col]
        if col in ("p", "p_holm"):
            values = values.map(format_p)
        elif pd.api.types.is_float_dtype(values):
            values = values.round(digits)
        out[header] = values
    arrays, names = [], []
    if "model" in keys:
        arrays.append(table["model"].map(model_label).to_numpy())
        names.append("Model")
    if any(k != "resolution" for k in rest):
        arrays.append([setup_label(row, rest) for _, row in table.iterrows()])
        names.append("Set-up")
    if "resolution" in rest:
        arrays.append([f"{int(r)} px" for r in table["resolution"]])
        names.append("Input")
    if len(arrays) > 1:  # a level with one value says nothing row by row
        keep = [i for i, a in enumerate(arrays) if len(set(a)) > 1] or [0]
        arrays, names = [arrays[i] for i in keep], [names[i] for i in keep]
    out.index = pd.MultiIndex.from_arrays(arrays, names=names)
    return out


def ci_text(metric: str, mean: float, lo: float, hi: float) -> str:
    """Short "value [CI]": ``80.0 [79, 81]`` for percentages, ``0.669 [0.656, 0.683]`` (results chapter)."""
    if metric in PERCENT_METRICS:
        return formatting.ci_text(mean, lo, hi, scale=100.0, digits=1, ci_digits=0)
    return formatting.ci_text(mean, lo, hi, digits=3)


TABLE_ONE_SHORT: dict[str, str] = {"accuracy": "Acc. %", "sensitivity": "Sens. %", "auc": "AUC"}
"""Table I's key columns for reading (F1 and specificity are in the full table)."""


def _with_ci_text(table: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    out = table.copy()
    for m in metrics:
        out[f"{m}_text"] = [
            ci_text(m, r[m], r[f"{m}_lo"], r[f"{m}_hi"]) for _, r in table.iterrows()
        ]
    return out


def table_one(table: pd.DataFrame, metrics: Sequence[str] = tuple(TABLE_ONE_SHORT)) -> pd.DataFrame:
    """Table I for reading: ``metrics`` (default accuracy, sensitivity and AUC) as "mean [CI]".

    ValueError on a metric that Table I's reading form does not know.
    """
    unknown = [m for m in metrics if m not in TABLE_ONE_SHORT]
    if unknown or not metrics:
        raise ValueError(f"metrics must be some of {list(TABLE_ONE_SHORT)}; got {list(metrics)}")
    out = _with_ci_text(table, list(metrics))
    return for_reading(out, {f"{m}_text": TABLE_ONE_SHORT[m] for m in metrics})


def auc_by_size(table: pd.DataFrame) -> pd.DataFrame:
    """Table I's AUC "mean [CI]" with one column per input size, one row per model and set-up.

    The compact form the results chapter shows (its thresholded metrics are in the folded full
    table); a size a configuration has no runs at reads :data:`MISSING`.
    """
    long = table_one(table, metrics=["auc"])
    if "Input" not in long.index.names:  # one input size: nothing to spread
        return long
    rest = [n for n in long.index.names if n != "Input"]
    sizes = list(dict.fromkeys(long.index.get_level_values("Input")))
    sizes.sort(key=lambda s: int(str(s).split()[0]))
    if not rest:  # one model and set-up: one row
        one = dict(zip(long.index.get_level_values("Input"), long["AUC"], strict=True))
        wide = pd.DataFrame([[one[s] for s in sizes]], columns=sizes, index=["AUC"])
        wide.columns.name = "AUC at"
        return wide
    wide = long["AUC"].unstack("Input").reindex(columns=sizes).fillna(MISSING)
    if rest:
        order = list(dict.fromkeys(long.index.droplevel("Input")))
        wide = wide.reindex(order)
    wide.columns.name = "AUC at"
    return wide


def machines_by_size(runs: pd.DataFrame, table: pd.DataFrame, regime: str = "full") -> pd.DataFrame:
    """Which machine trained each ``regime`` cell of Table I, laid out as :func:`auc_by_size`.

    An entry counts the cell's seeds per machine: "CPU 3", "GPU 1", "CPU 2 + GPU 1" (a cell
    from two machines mixes TensorFlow on a CPU with JAX on a GPU, which draw different models
    from one seed); :data:`MISSING` where the cell has no run (results chapter).
    """
    keys = list(dict.fromkeys(config_columns_from_table(table)))
    sub = runs[runs["regime"] == regime] if "regime" in runs else runs
    rows = []
    for values, g in sub.groupby(keys, dropna=False, sort=False):
        row = pd.Series(dict(zip(keys, values, strict=True)))
        counts = g["device"].str.upper().value_counts().sort_index()
        rows.append({"Model": model_label(str(row["model"])), "Set-up": setup_label(row, keys),
                     "Input": f"{int(row['resolution'])} px",
                     "machine": " + ".join(f"{d} {n}" for d, n in counts.items())})
    if not rows:
        return pd.DataFrame()
    wide = pd.DataFrame(rows).set_index(["Model", "Set-up", "Input"])["machine"].unstack("Input")
    auc = auc_by_size(table)
    order = [i for i in auc.index if i in wide.index] if isinstance(auc.index, pd.MultiIndex) \
        else list(wide.index)
    wide = wide.reindex(index=order, columns=[c for c in auc.columns if c in wide.columns])
    wide.columns.name = "seeds per machine at"
    return wide.fillna(MISSING)


def machine_values(machines: pd.DataFrame) -> dict[str, float]:
    """Counts behind :func:`machines_by_size` (results chapter): rows, rows whose sizes come from
    more than one machine (``plat_rows_split``), cells that mix machines (``plat_cells_mixed``)."""
    def kinds(text: str) -> set[str]:
        return {part.split()[0] for part in str(text).split(" + ") if part != MISSING}

    rows = [set().union(*(kinds(v) for v in row)) for _, row in machines.iterrows()]
    split = sum(1 for _, row in machines.iterrows()
                if len({frozenset(kinds(v)) for v in row if v != MISSING}) > 1)
    mixed = int(sum(" + " in str(v) for v in machines.to_numpy().ravel()))
    return {"plat_rows": float(len(rows)), "plat_rows_split": float(split),
            "plat_cells_mixed": float(mixed)}


def machines_text(machines: pd.DataFrame) -> str:
    """What :func:`machines_by_size` shows, in a sentence with its counts (results chapter)."""
    if machines.empty:
        return "These records hold no run of the paper's regime: there is no machine to name."
    v = machine_values(machines)
    split, rows, mixed = (int(v[k]) for k in ("plat_rows_split", "plat_rows", "plat_cells_mixed"))
    if split == 0 and mixed == 0:
        return ("Every row here comes from one machine, so a comparison of sizes compares "
                "training procedures, not machines.")
    cells = "cell mixes" if mixed == 1 else "cells mix"
    return (f"In {split} of these {rows} rows the input sizes come from different machines, so "
            f"there a comparison of sizes is also a comparison of machines, and {mixed} {cells} "
            "machines within itself ({doc}`05_precision_parity` measures how far the two "
            "machines' draws from one seed differ). The GPU grid `configs/paper-gpu.yaml`, not "
            "yet run, is built to give every paper-regime cell one machine, one backend and one "
            "precision.")


def side_by_side(ours: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """Our accuracy, balanced accuracy (mean of sensitivity and specificity at 0.5) and AUC at
    each input size next to the paper's accuracy (on a balanced set) and AUC (one set-up; the
    results chapter)."""
    left = _with_ci_text(ours, ["accuracy", "auc"])
    # the paper's validation set is balanced (302 acne, 304 normal), so its accuracy is a
    # balanced accuracy; ISIC 2017's test set is 20 % melanoma, where accuracy rewards "benign"
    left["balanced_text"] = [f"{50 * (se + sp):.1f}" for se, sp in
                             zip(left["sensitivity"], left["specificity"], strict=True)]
    right = paper[["model", "resolution", METRIC_LABELS["accuracy"], METRIC_LABELS["auc"]]]
    right = right.rename(columns={METRIC_LABELS[m]: f"{m}_paper" for m in ("accuracy", "auc")})
    merged = left.merge(right, on=["model", "resolution"], how="left")
    merged[["accuracy_paper", "auc_paper"]] = merged[["accuracy_paper", "auc_paper"]].fillna(MISSING)
    columns = {
        "accuracy_text": "Acc. % ours",
        "balanced_text": "Bal. acc.",
        "accuracy_paper": "Acc. % paper",
        "auc_text": "AUC ours",
        "auc_paper": "AUC paper",
    }
    return for_reading(merged, columns, setup_keys=["resolution"])


def _wide(long: pd.DataFrame, column: str, value: str, fill: object) -> pd.DataFrame:
    """``long`` with ``column``'s values as columns, rows kept in their order."""
    wide = long.set_index(column, append=True)[value].unstack(column, fill_value=fill)
    wide = wide.reindex(long.index.unique())
    wide.columns.name = None
    return wide


def run_counts(runs: pd.DataFrame) -> pd.DataFrame:
    """Successful runs (seeds) per model and set-up (rows) and input size (columns) (results chapter)."""
    variants = variant_columns(runs)
    keys = ["model", *variants, "resolution"]
    cells = runs.groupby(keys, dropna=False).size().rename("n").reset_index()
    cells["px"] = [f"{int(r)} px" for r in cells["resolution"]]
    long = for_reading(cells, {"n": "n", "px": "px"}, setup_keys=variants)
    wide = _wide(long, "px", "n", 0)
    return wide[[f"{int(r)} px" for r in sorted(runs["resolution"].unique())]]


def per_run(per_run_table: pd.DataFrame) -> pd.DataFrame:
    """AUC ± DeLong SD of every run: set-ups in rows, seeds in columns (results chapter)."""
    long = for_reading(per_run_table, {"seed": "seed", "AUC ± SD": "AUC ± SD"})
    long["seed"] = [f"seed {s}" for s in long["seed"]]
    return _wide(long, "seed", "AUC ± SD", MISSING)


TESTS_SHORT: dict[str, str] = {
    "auc": "AUC",
    "p": "p",
    "p_holm": "p (Holm)",
    "seeds p<0.05": "seeds p<.05",
}
"""The resolution tests' key columns for reading (the difference to the best is in the full
table)."""


def resolution_tests(tests: pd.DataFrame) -> pd.DataFrame:
    """The paired tests against each set-up's best input size, for reading (results chapter)."""
    return for_reading(tests, TESTS_SHORT)


def comparison(table: pd.DataFrame, a: str, b: str, labels: Sequence[str] = ()) -> pd.DataFrame:
    """A :func:`helpers.chapters.results.compare_variants` table (``a`` vs ``b``) for reading (results chapter)."""
    la, lb = labels or (model_label(a), model_label(b))
    columns = {
        f"auc_{a}": f"AUC {la}",
        f"auc_{b}": f"AUC {lb}",
        "p": "p",
        "seeds p<0.05": "seeds p<.05",
    }
    return for_reading(table, columns)


def fit(table: pd.DataFrame) -> pd.DataFrame:
    """The fit summary for reading: last-epoch training accuracy, validation loss (results chapter).

    ``> majority``: seeds whose training accuracy ended more than the margin above the majority
    share; the training loss and the prior loss are in the full table.
    """
    beyond = zip(table["n_beyond_majority"], table["n_seeds"], strict=True)
    val = zip(table["val_loss_min"], table["val_loss_last"], strict=True)
    out = table.assign(
        beyond=[f"{int(b)}/{int(n)}" for b, n in beyond],
        val=[f"{lo:.3f} → {last:.3f}" for lo, last in val],
    )
    columns = {
        "train_acc_last": "Train acc.",
        "beyond": "> majority",
        "best_val_epoch": "Best epoch",
        "val": "Val. loss min → last",
    }
    return for_reading(out, columns, digits=3)


TABLE_TWO_SHORT: dict[str, str] = {
    "model_size_mb": "MB",
    "accuracy_pct": "Acc. %",
    "accuracy_density": "Acc./MB",
    "accuracy_per_gflop": "Acc./GFLOP",
    "accuracy_per_ms": "Acc./ms",
}
"""Table II's key columns for reading (GFLOPs, latency and counts are in the full table)."""


def table_two(table: pd.DataFrame) -> pd.DataFrame:
    """Table II for reading: size, accuracy, and accuracy per MB / GFLOP / ms (results chapter)."""
    return for_reading(table, TABLE_TWO_SHORT, digits=2)


def paper_table_two() -> pd.DataFrame:
    """The paper's Table II as printed, rows named by model (results chapter)."""
    df = pd.DataFrame(list(ref.TABLE_II), columns=list(ref.TABLE_II_COLUMNS))
    headers = {"model_size_mb": "MB", "accuracy_pct": "Acc. %", "accuracy_density": "Acc./MB"}
    return df.set_index("model").rename_axis("Model").rename(columns=headers)


def text_width(table: pd.DataFrame) -> int:
    """Characters in the widest line of a table's plain-text rendering (a width check, the results chapter)."""
    return max(len(line) for line in table.to_string().splitlines())


def _family_short(family: str) -> str:
    """``"resolution · MobileNet · frozen · unit"`` → ``"MN·frozen·unit"``: the fixed part only."""
    parts = family.split(" · ")[1:]
    short = {"MobileNet": "MN", "ResNet50": "RN"}
    return "·".join(short.get(p, p) for p in parts)


def seed_comparison(table: pd.DataFrame, a: str | None = None, b: str | None = None,
                    labels: Sequence[str] = ()) -> pd.DataFrame:  # fmt: skip
    """A :mod:`helpers.analysis.inference` table for reading: AUCs, raw and Holm p, family (results chapter).

    Without ``a``/``b`` it is the resolution table (one seed-mean AUC per size; the best size has
    no p). ``p``: OR–Hillis (seeds as readers); ``p adj.``: Holm within the family shown.
    """
    out = table.assign(fam=table["family"].map(_family_short))
    if a is None or b is None:
        columns = {"auc": "AUC"}
    else:
        la, lb = labels or (model_label(a), model_label(b))
        columns = {f"auc_{a}": f"AUC {la}", f"auc_{b}": f"AUC {lb}"}
    columns.update({"p": "p", "p_holm": "p adj.", "fam": "Family"})
    return for_reading(out, columns)


def operating_points(table: pd.DataFrame) -> pd.DataFrame:
    """Test sensitivity / specificity (%) under each threshold rule, for reading (results chapter)."""
    out = table.copy()
    for rule in ("0.5", "youden", "sens90"):
        out[f"ss_{rule}"] = [
            f"{100 * a:.0f} / {100 * b:.0f}"
            for a, b in zip(table[f"sens_{rule}"], table[f"spec_{rule}"], strict=True)
        ]
    out["s90"] = [f"{100 * v:.0f}" for v in table["sens_at_spec90"]]
    columns = {"ss_0.5": "@ 0.5", "ss_youden": "@ Youden", "ss_sens90": "@ 90% sens", "s90": "Sens@90%spec"}
    return for_reading(out, columns)


def calibration(table: pd.DataFrame) -> pd.DataFrame:
    """Brier, ECE, mean predicted probability and temperature at each best cell (results chapter)."""
    columns = {"brier": "Brier", "ece": "ECE", "mean_prob": "Mean p", "ece_ts": "ECE (T)",
               "temperature": "T"}  # fmt: skip
    return for_reading(table, columns)
