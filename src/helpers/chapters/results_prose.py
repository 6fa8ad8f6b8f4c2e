"""Sentences and glued numbers of the results chapter (results chapter), built from result tables.

Job: turn the tables of :mod:`~helpers.chapters.results_tables`, :mod:`~helpers.analysis.compare` and
:mod:`~helpers.analysis.diagnostics` into (a) the numbers the chapter and the discussion page
quote through MyST glue, as a ``{name: value}`` dict, and (b) the Markdown sentences or bullet
lists that the chapter glues under its tables. The functions return plain data; only
:func:`glue_values` and :func:`glue_md` talk to ``myst_nb``.

Glue names follow ``<regime>_<model>_<preprocessing>_...`` and friends; a configuration run in
bf16 mixed precision gets ``_bf16`` after its set-up part, so its numbers never overwrite the
float32 ones (float32 names are those of the records made before precision existed).

The comparisons' bullets and the sweet-spot verdicts are in
:mod:`helpers.chapters.comparison_prose`; both use the glue-name scheme and cell labels here.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from helpers import paper_reference as ref
from helpers.chapters.formatting import MISSING, plural
from helpers.runs.frames import model_label, models_run, setting

Values = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Glue
# --------------------------------------------------------------------------------------------


def rounded(value: Any, digits: int = 4) -> Any:
    """A finite float rounded to ``digits`` (deterministic glued text); anything else as is.

    NumPy scalars become Python numbers, so the glued text is ``19.598``, not
    ``np.float64(19.598)`` (which ``{glue:text}`` cannot format).
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float) and math.isfinite(value):
        return round(float(value), digits)
    return value


def glue_values(values: Mapping[str, Any], digits: int = 4) -> None:
    """Glue every ``name: value`` (floats rounded to ``digits``), without displaying it (results chapter)."""
    from myst_nb import glue

    for name, value in values.items():
        glue(name, rounded(value, digits), display=False)


def glue_md(name: str, text: str) -> None:
    """Glue Markdown ``text`` as ``name`` for a ``{glue:md}`` directive (results chapter)."""
    from IPython.display import Markdown
    from myst_nb import glue

    glue(name, Markdown(text), display=False)


def precision_tag(row: pd.Series, runs: pd.DataFrame) -> str:
    """``"_bf16"`` for a bf16 row (see the module docstring), else ``""`` (results chapter)."""
    if "precision" not in runs and "precision" not in row.index:
        return ""
    return "_bf16" if setting(row, "precision", runs) == "mixed_bfloat16" else ""


def bullets(
    table: pd.DataFrame,
    key: Callable[[pd.Series], str],
    numbers: Mapping[str, str | Callable[[pd.Series], Any]],
    sentence: Callable[[pd.Series], str],
) -> tuple[Values, str]:
    """Glue values and a Markdown bullet list, one bullet per row of a comparison (results chapter).

    For every row: ``f"{key(row)}_{suffix}"`` → ``float(row[column])`` for each
    ``suffix: column`` of ``numbers`` (or ``fn(row)`` when the entry is a function), and the
    bullet ``"* " + sentence(row)``.
    """
    values: Values = {}
    lines = []
    for _, row in table.iterrows():
        prefix = key(row)
        for suffix, column in numbers.items():
            values[f"{prefix}_{suffix}"] = column(row) if callable(column) else float(row[column])
        lines.append(f"* {sentence(row)}")
    return values, "\n".join(lines)


def _model(row: pd.Series) -> str:
    return str(row["model"]).lower()


def setup_parts(row: pd.Series, runs: pd.DataFrame, keys: Iterable[str]) -> str:
    parts = []
    for key in keys:
        value = _model(row) if key == "model" else str(setting(row, key, runs))
        parts.append(value)
    return "_".join(parts) + precision_tag(row, runs)


SETUP: tuple[str, ...] = ("regime", "model", "preprocessing")
"""The parts of a configuration's glue name, in order (:func:`config_key`)."""


def config_key(
    prefix: str, row: pd.Series, runs: pd.DataFrame, keys: Iterable[str] = SETUP
) -> str:
    """Glue prefix ``<prefix>_<keys' values>[_bf16]_<resolution>`` of one table row (results chapter).

    E.g. ``config_key("op", row, runs)`` → ``op_full_mobilenet_unit_128``; a section of one
    regime leaves the regime out (``keys=("model", "preprocessing")`` for the fit summary).
    """
    return f"{prefix}_{setup_parts(row, runs, keys)}_{int(row['resolution'])}"


def cell_bullets(
    table: pd.DataFrame,
    runs: pd.DataFrame,
    prefix: str,
    keys: Iterable[str],
    numbers: Mapping[str, str | Callable[[pd.Series], Any]],
    sentence: Callable[[pd.Series], str],
    empty: str = "",
) -> tuple[Values, str]:
    """:func:`bullets` glued as ``config_key(prefix, row, runs, keys)``; ``({}, empty)`` if no row.

    The one builder of the chapter's per-cell bullet lists (results chapter): only the glue prefix, the
    parameters named in it, the numbers and the sentence differ between sections.
    """
    if table.empty:
        return {}, empty
    keys = tuple(keys)
    return bullets(table, lambda row: config_key(prefix, row, runs, keys), numbers, sentence)


def _cell(row: pd.Series, runs: pd.DataFrame) -> str:
    """``MobileNet, 128 px, `unit```: a table cell of one regime in words (", bf16" added
    for a bf16 row when the runs hold both precisions)."""
    bf16 = (row.get("precision") == "mixed_bfloat16" and "precision" in runs
            and runs["precision"].nunique() > 1)
    return (
        f"{model_label(row['model'])}, {int(row['resolution'])} px, "
        f"`{setting(row, 'preprocessing', runs)}`" + (", bf16" if bf16 else "")
    )


# --------------------------------------------------------------------------------------------
# The chapter's sections
# --------------------------------------------------------------------------------------------


def loading_numbers(runs: pd.DataFrame, setup: Mapping[str, Any], split: str) -> tuple[Values, str]:
    """Runs ok/failed, images and positives of ``split``; the main set-up in words (results chapter)."""
    first = runs.iloc[0][f"pred_{split}"]
    values = {
        "n_ok": runs.attrs["n_ok"],
        "n_failed": runs.attrs["n_failed"],
        "n_images": int(first["labels"].size),
        "n_pos": int(first["labels"].sum()),
    }
    return values, ", ".join(f"{k} = `{v}`" for k, v in setup.items()) or "a single set-up"


def sweet_spot(
    main_tests: pd.DataFrame, models: Iterable[str] | None = None, alpha: float = 0.05
) -> tuple[Values, str]:
    """Best input size per model and how many others are significantly worse, in words (results chapter).

    ``models``: default the study's models that were run. Also ``paper_sweet_gap``: the
    paper's MobileNet accuracy at 128 px minus that at 224 px.
    """
    paper_acc = {(m, r): acc for m, r, acc, *_ in ref.TABLE_I}
    gap = paper_acc[("MobileNet", 128)] - paper_acc[("MobileNet", 224)]
    values: Values = {"paper_sweet_gap": rounded(gap, 2)}
    verdicts = []
    for model in models_run(main_tests, models):
        sub = main_tests[main_tests["model"] == model]
        others = sub[sub["resolution"] != sub["best_resolution"]]
        worse = others[others["p"] < alpha]
        best = sub["best_resolution"].iloc[0]
        values[f"{model}_best_res"] = int(best)
        values[f"{model}_best_auc"] = float(sub["auc_best"].iloc[0])
        values[f"{model}_n_other"] = len(others)
        values[f"{model}_n_worse"] = len(worse)
        label = model_label(model)
        if others.empty:
            verdicts.append(
                f"* {label}: only one input size was run in this set-up; nothing to test."
            )
        elif worse.empty:
            verdicts.append(
                f"* {label}: no other input size has a significantly lower AUC than "
                f"{best} px (p ≥ 0.05 for all), so the data do not single out one best resolution."
            )
        else:
            sizes = " and ".join(", ".join(str(r) for r in worse["resolution"]).rsplit(", ", 1))
            verdicts.append(
                f"* {label}: the AUC at {sizes} px is significantly lower than at "
                f"{best} px (p < 0.05, unadjusted)."
            )
    return values, "\n".join(verdicts)


def focus_numbers(
    main1: pd.DataFrame,
    main2: pd.DataFrame,
    focus: int,
    paper_table_two: Iterable[tuple[Any, ...]],
    models: Iterable[str] | None = None,
    hint: str = "the sweep",
) -> Values:
    """Table I/II numbers at the paper's reference size, ours and the paper's (results chapter).

    ``models``: default the study's models that were run. Values are rounded here (accuracy
    and size to 2 decimals, density to 3).
    """
    values: Values = {}
    paper_rows = list(paper_table_two)
    for model in models if models is not None else models_run(main2):
        row2 = main2[(main2["model"] == model) & (main2["resolution"] == focus)]
        if row2.empty:
            raise RuntimeError(f"no {model} runs at {focus} px in the main set-up: run {hint}")
        row2 = row2.iloc[0]
        row1 = main1[(main1["model"] == model) & (main1["resolution"] == focus)].iloc[0]
        values[f"{model}_acc_focus"] = rounded(100 * float(row1["accuracy"]), 2)
        values[f"{model}_auc_focus"] = float(row1["auc"])
        values[f"{model}_size_mb"] = rounded(float(row2["model_size_mb"]), 2)
        values[f"{model}_density"] = rounded(float(row2["accuracy_density"]), 3)
        values[f"{model}_per_gflop"] = rounded(float(row2["accuracy_per_gflop"]), 2)
        paper_row = [r for r in paper_rows if str(r[0]).lower() == model]
        if not paper_row:  # no paper numbers (a data set other than ISIC)
            continue
        paper_row = paper_row[0]
        values[f"paper_{model}_size_mb"] = paper_row[1]
        values[f"paper_{model}_acc"] = paper_row[2]
        values[f"paper_{model}_density"] = paper_row[3]
    values["focus_res"] = focus
    return values


FIT_NUMBERS: tuple[str, ...] = (
    "train_acc_last",
    "train_acc_min",
    "train_acc_max",
    "train_loss_last",
    "best_val_epoch",
    "val_loss_min",
    "val_loss_last",
)


def fit(table: pd.DataFrame, runs: pd.DataFrame) -> tuple[Values, str]:
    """Did the fully fine-tuned models fit? Glue values and one bullet per cell (results chapter).

    ``table`` is :func:`helpers.chapters.results.fit_summary` of the fully fine-tuned ``runs``, or empty.
    """
    if table.empty:
        return {}, "No configuration was fully fine-tuned."

    def sentence(row: pd.Series) -> str:
        return (
            f"{_cell(row, runs)}: last-epoch training accuracy {row['train_acc_last']:.3f} "
            f"({row['train_acc_min']:.3f}–{row['train_acc_max']:.3f} over "
            f"{plural(int(row['n_seeds']), 'seed')}; {int(row['n_beyond_majority'])} above the majority share "
            f"{row['majority_share']:.3f} by more than 0.05), training loss "
            f"{row['train_loss_last']:.3f} (prior loss {row['prior_loss']:.3f}); lowest "
            f"validation loss {row['val_loss_min']:.3f} at epoch {row['best_val_epoch']:.1f} on "
            f"average, {row['val_loss_last']:.3f} at the last epoch."
        )

    numbers: dict[str, Any] = {c: c for c in FIT_NUMBERS}
    numbers["n_beyond"] = lambda row: int(row["n_beyond_majority"])
    numbers["n_seeds"] = lambda row: int(row["n_seeds"])
    values, text = cell_bullets(
        table, runs, "fit_full", ("model", "preprocessing"), numbers, sentence
    )
    shared = {
        "fit_majority_share": float(table["majority_share"].iloc[0]),
        "fit_prior_loss": float(table["prior_loss"].iloc[0]),
    }
    return {**shared, **values}, text


def key_numbers(
    tests: pd.DataFrame, table1: pd.DataFrame, runs: pd.DataFrame
) -> tuple[Values, pd.DataFrame]:
    """The numbers the discussion page quotes, and a set-up × key table of them (results chapter).

    From the resolution tests: per ``<regime>_<model>_<preprocessing>`` the best size and its
    AUC, every size's seed-averaged AUC and its paired p against the best (also under the
    order-free key ``p_<small>_<large>``); from Table I, for the fully fine-tuned cells, the seeds
    run and the threshold-0.5 sensitivity and specificity.
    """
    values: Values = {}
    rows = []
    for _, row in tests.iterrows():
        parts = [
            str(setting(row, "regime", runs)),
            _model(row),
            str(setting(row, "preprocessing", runs)),
        ]
        prefix = "_".join(parts) + precision_tag(row, runs)
        res, best = int(row["resolution"]), int(row["best_resolution"])
        if res == best:
            values[f"{prefix}_best_res"] = best
            values[f"{prefix}_best_auc"] = float(row["auc_best"])
            rows.append((prefix, "best_res", best))
            rows.append((prefix, "best_auc", round(float(row["auc_best"]), 3)))
        values[f"{prefix}_auc_{res}"] = float(row["auc"])
        if res != best:  # paired DeLong p against the best size
            values[f"{prefix}_p_{res}"] = float(row["p"])
            low, high = sorted((res, best))
            values[f"{prefix}_p_{low}_{high}"] = float(row["p"])  # the same test, order-free key
        rows.append((prefix, f"auc_{res}", round(float(row["auc"]), 3)))
    for _, row in table1.iterrows():
        if "regime" in row.index and row["regime"] == "full":
            prep = setting(row, "preprocessing", runs)
            setup = f"{_model(row)}_{prep}{precision_tag(row, runs)}"
            key = f"t1_full_{setup}_{int(row['resolution'])}"
            values[f"{key}_n_seeds"] = int(row["n_seeds"])
            values[f"{key}_sensitivity"] = float(row["sensitivity"])
            values[f"{key}_specificity"] = float(row["specificity"])
            rows.append((f"full_{setup}", f"n_seeds_{int(row['resolution'])}", int(row["n_seeds"])))
    long = pd.DataFrame(rows, columns=["set-up", "key", "value"], dtype=object).astype(str)
    return values, long.pivot(index="set-up", columns="key", values="value").fillna(MISSING)


# --------------------------------------------------------------------------------------------
# Operating points, calibration (the seed-aware comparisons are in comparison_prose)
# --------------------------------------------------------------------------------------------


def operating_values(table: pd.DataFrame, runs: pd.DataFrame) -> Values:
    """``op_<regime>_<model>_<prep>[_bf16]_<res>_{sens,spec}_{0.5→05,youden,sens90}`` etc. (results chapter)."""
    values: Values = {}
    for _, row in table.iterrows():
        key = config_key("op", row, runs)
        for rule in ("0.5", "youden", "sens90"):
            tag = rule.replace("0.5", "05")
            values[f"{key}_sens_{tag}"] = float(row[f"sens_{rule}"])
            values[f"{key}_spec_{tag}"] = float(row[f"spec_{rule}"])
        values[f"{key}_sens_at_spec90"] = float(row["sens_at_spec90"])
    return values


CAL_NUMBERS: tuple[str, ...] = ("brier", "ece", "ece_q", "brier_ts", "ece_ts", "temperature", "mean_prob")


def calibration_values(table: pd.DataFrame, runs: pd.DataFrame) -> Values:
    """``cal_<regime>_<model>_<prep>[_bf16]_<res>_<number>`` for :data:`CAL_NUMBERS` (results chapter)."""
    values: Values = {}
    for _, row in table.iterrows():
        key = config_key("cal", row, runs)
        values.update({f"{key}_{n}": float(row[n]) for n in CAL_NUMBERS})
    return values
