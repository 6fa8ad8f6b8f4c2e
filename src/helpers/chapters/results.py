"""Run records → tables, tests and prose for the results chapter (results chapter).

Everything here is computed from run records (CONTRIBUTING.md) written by sweeps; the only
typed-in numbers of the chapter are the paper's, in :mod:`helpers.paper_reference`.

One job per module; this package re-exports their public names, so ``results.X`` works for all:

* :mod:`~helpers.runs.frames`: records → one DataFrame row per run; configurations.
* :mod:`~helpers.chapters.results_tables`: Table I and Table II, the paper's Table I, display copies.
* :mod:`~helpers.analysis.compare`: DeLong AUC per run and paired DeLong tests.
* :mod:`~helpers.analysis.diagnostics`: training histories and fit summaries.
* :mod:`~helpers.chapters.reading`: short copies of those tables for reading on the page
  (``results.reading.table_one(...)``).
* :mod:`~helpers.chapters.results_prose`: glued numbers and sentences (``results.prose.models(...)``).
* :mod:`~helpers.chapters.coverage`: which runs of the sweep's grid exist and what they cost.
"""

from helpers.analysis.compare import (
    align_predictions,
    compare_if_run,
    compare_variants,
    delong_per_run,
    resolution_tests,
)
from helpers.analysis.diagnostics import (
    binary_entropy,
    fit_summary,
    focus_resolution,
    history_long,
    sizes_with_both_models,
    warned_runs,
)
from helpers.chapters import reading
from helpers.chapters import results_prose as prose
from helpers.chapters.results_external import external_section, external_table, has_external
from helpers.chapters.results_tables import (
    config_columns_from_table,
    display_table,
    format_p,
    paper_table_one,
    side_by_side,
    table_one,
    table_two,
)
from helpers.runs.frames import (
    DEFAULT_SWEEP_HINT,
    METRIC_LABELS,
    METRICS,
    MODEL_LABELS,
    PAPER_SETUP,
    PARAM_KEYS,
    PERCENT_METRICS,
    NoRunsError,
    config_columns,
    load_runs,
    main_setup,
    model_label,
    models_run,
    one_precision_per_cell,
    report_models,
    setting,
    variant_columns,
)

__all__ = [
    "warned_runs",
    "external_section",
    "external_table",
    "has_external",
    "focus_resolution",
    "DEFAULT_SWEEP_HINT",
    "METRICS",
    "METRIC_LABELS",
    "MODEL_LABELS",
    "PAPER_SETUP",
    "PARAM_KEYS",
    "PERCENT_METRICS",
    "NoRunsError",
    "align_predictions",
    "binary_entropy",
    "compare_if_run",
    "compare_variants",
    "config_columns",
    "config_columns_from_table",
    "delong_per_run",
    "display_table",
    "fit_summary",
    "format_p",
    "history_long",
    "load_runs",
    "main_setup",
    "model_label",
    "models_run",
    "one_precision_per_cell",
    "report_models",
    "paper_table_one",
    "prose",
    "reading",
    "resolution_tests",
    "setting",
    "side_by_side",
    "sizes_with_both_models",
    "table_one",
    "table_two",
    "variant_columns",
]
