# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Beyond the AUC: cost, thresholds, calibration and training
#
# **Purpose.** {doc}`04_results` answers the paper's question with AUC, which ranks images and
# needs no threshold. A screening app needs more: what a point of accuracy costs (the paper's
# Table II and Figs 4 and 8 {cite}`achar2025resolution`), how often it is right at a threshold
# (the paper's 0.5 against thresholds chosen on validation; its Figs 2–3 and 6–7), whether its
# probabilities can be read as risks, and whether the fine-tuned networks fitted their training
# images (its Fig. 5 and its overfitting explanation). The same run records, the same cells.<br>
# **Parameters** (papermill): `results_dir` (folder of run records), `dataset`, `task` (which
# records to use), `split` (the split whose predictions are scored; `test` by default).<br>
# **Prerequisites:** {doc}`04_results` (Table I, the seed-aware tests); run records under
# `results_dir` as written by `python -m helpers sweep configs/paper.yaml`; no images or GPU.<br>
# **Time to run on a CPU:** about 40 seconds.
#
# :::{admonition} Run it yourself
# :class: tip dropdown
#
# Execute the chapter with papermill on your own sweep's records (parameters as in
# {doc}`04_results`):
#
# ```bash
# python -c "import jupytext, papermill as pm; pm.execute_notebook(jupytext.read('notebooks/11_beyond_auc.py'), 'my_beyond_auc.ipynb', parameters=dict(results_dir='results/mine', dataset='isic2017', task='melanoma'), kernel_name='python3', cwd='.')"
# ```
#
# The prose was written for the book's ISIC-2017 melanoma run; on your records the tables,
# figures and glued numbers are yours.
# :::

# %% tags=["remove-cell"]
# On Colab: fetch the book's repository (its package, configurations and committed run records),
# install the package and work from the repository's root; elsewhere this does nothing.
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

if "google.colab" in sys.modules and not os.path.isfile("pyproject.toml"):
    REPOSITORY = "https://github.com/resolution-tradeoff-book/resolution-tradeoff-book"  # _config.yml's repository.url
    if not os.path.isdir("resolution-tradeoff-book"):
        subprocess.run(["git", "clone", "--depth", "1", REPOSITORY, "resolution-tradeoff-book"],
                       check=True)
    os.chdir("resolution-tradeoff-book")
    get_ipython().run_line_magic("pip", "install -q .[tf,book]")  # noqa: F821

# %% tags=["remove-input"]
from helpers.nbparams import check_injected, globals_snapshot

_globals_before_parameters = globals_snapshot(globals())  # see check_injected below

# %% tags=["parameters"]
results_dir = "results/paper"
dataset = "isic2017"
task = "melanoma"
split = "test"

# %% tags=["remove-input"]
check_injected(globals(), _globals_before_parameters,  # a typo'd papermill parameter stops here
               ["results_dir", "dataset", "task", "split"])

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd

from helpers import paper_reference
from helpers.analysis import clinical, inference
from helpers.chapters import plots, reading, results
from helpers.chapters import results_prose as prose
from helpers.chapters.figures import sharp_figures
from helpers.chapters.formatting import MISSING, styled

pd.set_option("display.max_columns", 30)
pd.set_option("display.width", 200)
sharp_figures()  # 2× PNG figures, sharp on high-density screens
SWEEP = "python -m helpers sweep configs/paper.yaml  (or: make sweep SWEEP=configs/paper.yaml)"
PAPER = dataset == "isic2017"  # the paper's numbers are quoted beside the ISIC results only

# %% tags=["hide-input"]
runs = results.load_runs(results_dir, dataset=dataset, task=task, hint=SWEEP)
variants = results.variant_columns(runs)
setup = results.main_setup(runs)
table1 = results.table_one(runs, split=split, auc_interval="or_hillis")
main1 = plots.select(table1, setup)
paper1 = results.paper_table_one() if PAPER else None
res_cmp = inference.resolution_comparisons(runs, split=split)  # for each model's best size
FOCUS = results.focus_resolution(runs, paper_reference.TABLE_II_RESOLUTION)  # 128 px if run
print(f"{len(runs)} ok runs, {runs.attrs['n_failed']} failed; main set-up:",
      ", ".join(f"{k} {v}" for k, v in setup.items()) or "the only one")

# %% [markdown]
# ## What a point of accuracy costs (the paper's Table II and Figs 4 and 8)
#
# The paper's "accuracy density" is accuracy points per megabyte of stored model. We add two
# more denominators that matter on a phone: accuracy points per GFLOP of compute per image
# (from `helpers.training.costs`) and per millisecond of measured single-image latency on the machine
# that trained the run. Sizes are of the saved float32 Keras model.

# %% tags=["hide-input"]
table2 = results.table_two(runs, split=split)
styled(reading.table_two(table2.loc[table2["resolution"] == FOCUS]), "res-table2", index=True,
       precision=2)

# %% [markdown]
# The full Table II at every input size (GFLOPs, latency, runs that measured it):

# %% tags=["hide-output"]
styled(results.display_table(table2), "res-table2-full")

# %% [markdown]
# The paper's Table II, as printed (128 px):

# %% tags=["hide-input"]
reading.paper_table_two() if PAPER else None

# %% tags=["remove-input"]
main2 = plots.select(table2, setup)
values = prose.focus_numbers(main1, main2, FOCUS, paper_reference.TABLE_II if PAPER else (),
                             hint=SWEEP)
prose.glue_values(values)

# %% [markdown]
# At {glue:text}`focus_res` px our MobileNet reaches {glue:text}`mobilenet_acc_focus:.1f` %
# accuracy with a {glue:text}`mobilenet_size_mb:.1f` MB model, an accuracy density of
# {glue:text}`mobilenet_density:.2f` points/MB (paper: {glue:text}`paper_mobilenet_density:.2f`
# at {glue:text}`paper_mobilenet_size_mb:.1f` MB); ResNet50 reaches
# {glue:text}`resnet50_acc_focus:.1f` % with {glue:text}`resnet50_size_mb:.1f` MB,
# {glue:text}`resnet50_density:.2f` points/MB (paper: {glue:text}`paper_resnet50_density:.2f`).
# Accuracy density divides a bounded score by size, so it mostly measures size: a model that
# predicts the majority class for every image would still score
# *(majority share × 100) / MB*. Read it together with the AUC tests of {doc}`04_results`.

# %% tags=["hide-input", "nbval-ignore-output"] mystnb={"figure": {"caption": "Accuracy points per megabyte, per GFLOP and per millisecond of latency, per model and input size. Look at how much more accuracy MobileNet buys per unit of every cost.", "name": "fig-results-efficiency"}, "image": {"alt": "Three bar charts of accuracy per megabyte, per GFLOP and per millisecond (y) by input size (x), one bar per model"}}
fig = plots.efficiency(table2, setup)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Accuracy against stored model size and against compute per image, one point per model and input size. Look at how the small model reaches the large one's accuracy at a fraction of its size and compute.", "name": "fig-results-size"}, "image": {"alt": "Two scatter plots of accuracy (y) against model size in MB and against GFLOPs per image (x), one colour per model, points labelled by input size"}}
fig = plots.model_size(table2, setup)

# %% [markdown]
# ## Operating points: the 0.5 threshold and thresholds chosen on validation
#
# With {glue:text}`test_prevalence_pct:.1f` % melanoma in the test set and over-confident fully
# fine-tuned models, 0.5 is a poor threshold. Below, each seed's threshold is chosen on its
# **validation** predictions (Youden's J; the lowest threshold reaching 90 % validation
# sensitivity) and applied unchanged to test; cells show test sensitivity / specificity in %,
# means over seeds (`helpers.stats.operating`). The last column reads the test ROC curve itself
# (sensitivity at 90 % specificity): an upper bound, not a rule. The paper's sensitivity and
# specificity are at its own threshold and are comparable only to the 0.5 column.

# %% tags=["hide-input"]
ops = clinical.operating_table(runs)
prose.glue_values(prose.operating_values(ops, runs))
prevalence_pct = 100 * runs.iloc[0]["pred_test"]["labels"].mean()
prose.glue_values({"test_prevalence_pct": prevalence_pct,  # and what "always benign" scores:
                   "majority_acc_pct": 100 - prevalence_pct})
styled(reading.operating_points(ops), "res-ops", index=True)

# %% [markdown]
# The same with thresholds and every configuration's numbers in full:

# %% tags=["hide-output"]
styled(results.display_table(ops), "res-ops-full")

# %% [markdown]
# ## Confusion matrices at the paper's Table II size (its Figs 2–3)
#
# Mean counts over seeds (rows: true class, columns: predicted class at threshold 0.5), for the
# main set-up at {glue:text}`focus_res` px. The paper reports these for its two models at 128 px
# (on other records, the size nearest to it that was run).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Confusion matrices at the paper's Table II size (128 px in the book) for the main set-up, mean counts over seeds at the 0.5 threshold (rows: true class; columns: predicted). Look at how few melanomas land in the melanoma column: at 0.5 the networks mostly answer benign.", "name": "fig-results-confusion"}, "image": {"alt": "Two heat-map grids of two by two confusion counts, one per model, rows true class benign and melanoma, columns predicted class"}}
fig = plots.confusion_matrices(runs, FOCUS, split=split, variant=setup)

# %% [markdown]
# ## Calibration: can a predicted probability be read as a risk?
#
# AUC only says how well a model *ranks* lesions. A screening app that shows "12 % melanoma risk"
# or refers above a fixed probability also needs the probability to mean what it says. For each
# model at its best input size in each regime and preprocessing, the table gives the Brier score,
# the expected calibration error (ECE, ten equal-width bins) and the mean predicted probability
# against the test prevalence ({glue:text}`test_prevalence_pct:.1f` %), means over seeds.

# %% tags=["hide-input"]
cal = clinical.calibration_table(runs)
prose.glue_values(prose.calibration_values(cal, runs))
best = clinical.best_cells(res_cmp)
best_cal = best[["model", "resolution", *variants]].merge(cal, on=["model", "resolution", *variants])
styled(reading.calibration(best_cal), "res-calibration", index=True)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Reliability diagrams at each model's best input size, every seed's test predictions pooled into ten quantile bins, one panel per regime. Look at the fine-tuned curves lying below the diagonal: their probabilities are over-confident.", "name": "fig-results-reliability"}, "image": {"alt": "Reliability diagrams: observed melanoma rate (y) against mean predicted probability (x) with Wilson intervals, one panel per training regime, the diagonal of perfect calibration dashed"}}
fig = plots.reliability(runs, best)

# %% [markdown]
# The reliability diagrams pool every seed's test predictions into ten bins of equal size
# (quantile bins, as over-confident models put most images in the lowest equal-width bin); the
# bars are Wilson 95 % intervals. A curve below the diagonal is over-confident.
#
# Fully fine-tuned MobileNet at 128 px with [0, 1] inputs has an ECE of
# {glue:text}`cal_full_mobilenet_unit_128_ece:.3f`, against
# {glue:text}`cal_frozen_mobilenet_unit_256_ece:.3f` for the frozen MobileNet at its best size:
# full fine-tuning for 20 epochs drives the outputs towards 0 and 1. For a screening app that is
# the dangerous direction: an over-confident "1 % risk" for a melanoma reassures exactly when it
# should not, and a threshold copied from another data set (0.5) misses most melanomas (the
# operating points above).
#
# **Temperature scaling**, fitted on each seed's validation split and applied to its test
# predictions, is reported separately (it changes probabilities, not the ranking, so AUCs are
# unchanged): for that model the fitted temperature is
# {glue:text}`cal_full_mobilenet_unit_128_temperature:.1f` and the ECE falls to
# {glue:text}`cal_full_mobilenet_unit_128_ece_ts:.3f`.

# %% tags=["hide-output"]
styled(results.display_table(cal), "res-calibration-full")

# %% [markdown]
# ## Accuracy and ROC curves across resolutions (the paper's Figs 6 and 7)
#
# Accuracy against input size with 95 % intervals over seeds; the paper's Table I values are drawn
# dashed for the same models. Then one panel per model with the ROC curve of each input size
# from the seed-averaged predictions. One figure pair per training regime present.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "For each training regime: accuracy against input size with 95 % intervals (the paper's values dashed), then the ROC curve of each input size from the seed-averaged predictions. Look at how little the curves move between sizes next to the gap between the models."}, "image": {"alt": "Pairs of charts per training regime: a line chart of accuracy against input size per model with the paper's values dashed, and ROC curves per model with one line per input size"}}
regimes = sorted(runs["regime"].unique()) if "regime" in variants else [None]
for regime in regimes:
    if regime is None:
        variant = setup
    else:  # the regime's own main set-up (e.g. its number of unfrozen blocks)
        variant = {**results.main_setup(runs[runs["regime"] == regime]), "regime": regime}
    fig = plots.accuracy_vs_resolution(table1, paper=paper1, variant=variant)
    if regime is not None:
        fig.suptitle(f"regime: {regime}")
    plt.show()
    fig = plots.roc_curves(runs, split=split, variant=variant)
    if regime is not None:
        fig.suptitle(f"regime: {regime}")
    plt.show()

# %% [markdown]
# ## Did the fully fine-tuned models fit their training images?
#
# The paper blames ResNet50's weak results on overfitting. Overfitting leaves a trace in the
# training histories: training accuracy close to 100 % while the validation loss climbs after an
# early minimum. The table sums up the last epoch of every fully fine-tuned configuration.
# Training accuracy is Keras's running value over the last epoch (dropout active); the
# *majority share* is what always answering the more frequent class scores on the training set,
# and the *prior loss* is the cross-entropy of always answering the class prior, the loss a
# model reaches without learning anything from the images.

# %% tags=["hide-input"]
full_runs = runs[runs["regime"] == "full"] if "regime" in runs else runs.iloc[0:0]
fit = results.fit_summary(full_runs) if not full_runs.empty else pd.DataFrame()
values, fit_md = prose.fit(fit, full_runs)
prose.glue_values(values)
prose.glue_md("fit_md", fit_md)
styled(reading.fit(fit), "res-fit", index=True) if not fit.empty else print(fit_md)

# %% [markdown]
# ````{dropdown} Every configuration's fit, one line each
# ```{glue:md} fit_md
# ```
# ````
#
# The full fit summary, with training and prior losses and the range over seeds:

# %% tags=["hide-output"]
styled(results.display_table(fit), "res-fit-full") if not fit.empty else None

# %% [markdown]
# The training accuracy of every fully fine-tuned run, epoch by epoch, at the smallest input
# size at which both models were fine-tuned (one line per seed):

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Training accuracy per epoch of every fully fine-tuned run at the smallest size at which both models were fine-tuned, one line per seed, the majority share dashed. Look at which runs never climb above the dashed line (the constant answer).", "name": "fig-results-train-acc"}, "image": {"alt": "Line charts of training accuracy (y) against epoch (x), one panel per model, one line per seed, with a dashed line at the majority-class share"}}
common = results.sizes_with_both_models(full_runs)
if common:
    prose.glue_values({"fit_fig_res": common[0]})
    fig = plots.training_accuracy(full_runs, common[0])
else:
    print("No input size at which both models were fully fine-tuned.")

# %% [markdown]
# ### Validation loss across resolutions (the paper's Fig. 5)
#
# Validation loss per epoch (mean ± SD over seeds). The paper describes MobileNet's validation
# loss as low and stable and ResNet50's as high and fluctuating.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Validation loss per epoch, mean and SD over seeds, one panel per model and one line per input size. Look at whether a curve turns upward (over-fitting) and how far apart the sizes end.", "name": "fig-results-val-loss"}, "image": {"alt": "Line charts of validation loss (y) against epoch (x), one panel per model, one coloured line per input size with a shaded band"}}
fig = plots.validation_loss(runs, setup)

# %% [markdown]
# ## Runs flagged while training
#
# A run whose training loss became non-finite, never went below the loss of always predicting
# the class prior, or that restarted after a damaged checkpoint carries a `warnings` list in its
# record. Such runs are listed here rather than silently averaged in (records made before the
# list existed carry none).

# %% tags=["hide-input"]
flagged = results.warned_runs(results_dir, dataset, task)
flagged.set_index("run") if len(flagged) else print("No run record carries a warning.")

# %% [markdown]
# ## AUC ± DeLong standard deviation for every run
#
# {cite:t}`sabottke2020resolution` report each network's AUC with the standard deviation from
# DeLong's method. We do the same for every run, from its stored test predictions, using the
# midrank algorithm of {cite:t}`sun2014fast` (`helpers.stats.delong.fast_delong`). The spread across
# seeds of the same configuration shows how much of the difference between two resolutions could
# be training noise rather than test-set noise.

# %% tags=["hide-output"]
per_run = results.delong_per_run(runs, split=split)
styled(reading.per_run(per_run), "res-per-run", index=True, note=f"{MISSING} seed not run.")

# %% [markdown]
# ### The seed ensembles
#
# The paired DeLong tests on the seed **ensembles** (mean probability over seeds) against the
# best size of each curve: seed-blind, a statement about the ensembles trained here, not about
# the training procedures that {doc}`04_results` compares.

# %% tags=["hide-output"]
tests = results.resolution_tests(runs, split=split)
styled(results.display_table(tests), "res-tests", note=f"{MISSING} the best size of its family: the reference the others are tested against.")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paired DeLong tests of the seed ensembles for the main set-up: AUC against input size per model, the best size of each curve circled. Look at which sizes lie near the circled best and which fall clearly below it.", "name": "fig-results-auc-tests"}, "image": {"alt": "Line chart of test AUC (y) against input size 64 to 256 px (x), one line per model with error bars, the best size of each line circled"}}
fig = plots.auc_vs_resolution(tests, setup)

# %% [markdown]
# ## What these tables cannot say
#
# * Sensitivity and specificity depend on the threshold; at the paper's 0.5 they mostly reflect
#   over-confidence, not ranking ability; the validation-chosen thresholds come from the small
#   validation split ({doc}`01_data`), so they move from seed to seed.
# * Accuracy density and the per-GFLOP and per-millisecond ratios divide a bounded score by a
#   cost, so they rank models mostly by cost; read them with the AUC tests of {doc}`04_results`.
# * Latency here is that of the machine that trained the run; {doc}`06_deployment` measures the
#   models on a phone-class CPU.

# %% [markdown]
# ## What we found
#
# * **Accuracy density mostly measures model size.** At {glue:text}`focus_res` px MobileNet
#   scores {glue:text}`mobilenet_density:.2f` accuracy points per MB and ResNet50
#   {glue:text}`resnet50_density:.2f` (paper: {glue:text}`paper_mobilenet_density:.2f` and
#   {glue:text}`paper_resnet50_density:.2f`), while their accuracies are
#   {glue:text}`mobilenet_acc_focus:.1f` % and {glue:text}`resnet50_acc_focus:.1f` %.
# * **The 0.5 threshold is the weak point, not the ranking.** Fine-tuned MobileNet at 128 px has
#   a sensitivity of {glue:text}`op_full_mobilenet_unit_128_sens_05:.2f` at 0.5 and
#   {glue:text}`op_full_mobilenet_unit_128_sens_youden:.2f` at a Youden threshold chosen on
#   validation (specificity {glue:text}`op_full_mobilenet_unit_128_spec_05:.2f` and
#   {glue:text}`op_full_mobilenet_unit_128_spec_youden:.2f` respectively).
# * **Fine-tuned probabilities are over-confident.** ECE
#   {glue:text}`cal_full_mobilenet_unit_128_ece:.3f` against
#   {glue:text}`cal_frozen_mobilenet_unit_256_ece:.3f` for the frozen MobileNet at its best size;
#   {glue:text}`cal_full_mobilenet_unit_128_ece_ts:.3f` after temperature scaling (temperature
#   {glue:text}`cal_full_mobilenet_unit_128_temperature:.1f`).
# * **MobileNet memorises its training images; ResNet50 often does not get past the constant
#   answer.** Fine-tuned at 64 px MobileNet ends at a training accuracy of
#   {glue:text}`fit_full_mobilenet_unit_64_train_acc_last:.3f` while its validation loss climbs
#   after epoch {glue:text}`fit_full_mobilenet_unit_64_best_val_epoch:.0f`; ResNet50 gets past
#   the majority share in {glue:text}`fit_full_resnet50_unit_64_n_beyond:d` of
#   {glue:text}`fit_full_resnet50_unit_64_n_seeds:d` seeds.
#
# ## Next
#
# {doc}`09_external_site` scores the same ISIC-trained networks on another hospital's
# dermoscopy images (PH2) and asks whether the verdicts of {doc}`04_results` survive the change
# of clinic.
