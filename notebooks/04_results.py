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
# # Results: accuracy, AUC and cost across input resolutions
#
# **Purpose.** Turn the run records of the training sweep into the main paper's Table I and
# Table II {cite}`achar2025resolution`, its Figures 2–8, and the statistical tests that the paper
# leaves out: a DeLong standard deviation for every AUC and paired DeLong tests between
# resolutions {cite}`delong1988comparing,sun2014fast`, in the way
# {cite:t}`sabottke2020resolution` compared chest radiograph networks across input sizes.
#
# **Inputs.** Only the run records (one JSON file per training run) under `results_dir`, as
# written by `python -m helpers sweep configs/paper.yaml`. Every number in this chapter is
# computed from them, except the paper's own numbers, which are quoted from
# `helpers.paper_reference` and always labelled "paper".
#
# **Parameters** (papermill): `results_dir` (folder of run records), `dataset`, `task`
# (which records to use), `split` (the split whose predictions are scored; `test` by default).

# %% tags=["parameters"]
results_dir = "results/paper"
dataset = "isic2017"
task = "melanoma"
split = "test"

# %% [markdown]
# ## Loading the run records
#
# Each successful run contributes one row: its parameters, its metrics on the validation and
# test splits, its stored predictions, its cost (parameters, FLOPs, saved size) and its measured
# latency. Failed runs are counted, not used. If no records exist yet the next cell stops and
# names the sweep to run.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown
from myst_nb import glue

from helpers import paper_reference, plots, results

pd.set_option("display.max_columns", 30)
pd.set_option("display.width", 200)
plt.rcParams["figure.dpi"] = 90

SWEEP = "python -m helpers sweep configs/paper.yaml  (or: make sweep SWEEP=configs/paper.yaml)"
runs = results.load_runs(results_dir, dataset=dataset, task=task, hint=SWEEP)
variants = results.variant_columns(runs)
setup = results.main_setup(runs)
missing = [m for m in ("mobilenet", "resnet50") if m not in set(runs["model"])]
if missing:
    raise RuntimeError(f"no successful runs of {missing} for {dataset}/{task}: run {SWEEP}")


def gl(name, value, digits=4):
    """Glue a number rounded for display (deterministic outputs)."""
    if isinstance(value, float):
        value = round(value, digits) if math.isfinite(value) else value
    glue(name, value, display=False)


gl("n_ok", runs.attrs["n_ok"])
gl("n_failed", runs.attrs["n_failed"])
first = runs.iloc[0][f"pred_{split}"]
gl("n_images", int(first["labels"].size))
gl("n_pos", int(first["labels"].sum()))
setup_md = ", ".join(f"{k} = `{v}`" for k, v in setup.items()) or "a single set-up"
glue("setup_md", Markdown(setup_md), display=False)
print(f"{len(runs)} ok runs, {runs.attrs['n_failed']} failed; parameters that vary: {variants}")
print(f"set-up shown in the single-set-up figures: {setup or 'the only one'}")
shown = runs.assign(**{c: runs[c].astype("string").fillna("–") for c in variants})
shown.groupby(["model", *variants, "resolution"]).size().unstack("resolution", fill_value=0)

# %% [markdown]
# The table counts successful runs (seeds) per model, set-up and input size. The records hold
# {glue:text}`n_ok` successful and {glue:text}`n_failed` failed runs. Every comparison below
# checks that the runs it pairs were scored on the same images (matched by image id); the
# evaluated split has {glue:text}`n_images` images, {glue:text}`n_pos` of them positive.

# %% [markdown]
# ## Table I: classification performance per model and resolution
#
# For each configuration (model × input size × set-up) the runs differ only in their random
# seed. The table gives the mean over seeds with a 95 % Student-t interval in brackets (no
# interval with one seed). Accuracy, sensitivity and specificity use a 0.5 threshold on the
# predicted probability of the positive class; AUC needs no threshold.

# %%
table1 = results.table_one(runs, split=split)
results.display_table(table1)

# %% [markdown]
# The same numbers for the main set-up ({glue:md}`setup_md`), next to the paper's Table I as
# printed. The main set-up uses the paper's [0, 1] input scaling, in the training regime that
# has runs in the most model × size cells (the paper itself trains every layer, regime `full`).
# The paper classified Acne vs Normal photographs from a private collection; this book
# classifies ISIC 2017 dermoscopy images, so agreement is not expected in level, only (perhaps)
# in shape across resolutions. Note that the paper's prose swaps sensitivity and specificity at MobileNet 128 px
# relative to its own table; the table is quoted.

# %%
main1 = plots.select(table1, setup)
paper1 = results.paper_table_one()
results.side_by_side(main1, paper1)

# %% [markdown]
# ## AUC ± DeLong standard deviation for every run
#
# {cite:t}`sabottke2020resolution` report each network's AUC with the standard deviation from
# DeLong's method. We do the same for every run, from its stored test predictions, using the
# midrank algorithm of {cite:t}`sun2014fast` (`helpers.stats.fast_delong`). The spread across
# seeds of the same configuration shows how much of the difference between two resolutions could
# be training noise rather than test-set noise.

# %%
per_run = results.delong_per_run(runs, split=split)
per_run = per_run.assign(**{c: per_run[c].astype("string").fillna("–") for c in variants})
per_run.pivot_table(
    index=["model", *variants, "resolution"], columns="seed", values="AUC ± SD", aggfunc="first"
)

# %% [markdown]
# ## Is there a "sweet spot"? Paired DeLong tests against the best resolution
#
# The paper calls 128 px MobileNet's sweet spot because its accuracy peaks there, ahead of
# 224 px by {glue:text}`paper_sweet_gap:.2f` accuracy points, without a test. Here the claim becomes a test. Within each model and set-up we
# average the predicted probabilities of the seeds (a small ensemble, which removes most of the
# seed noise), take the input size with the highest AUC as the reference, and compare every
# other size with it by a two-sided paired DeLong z-test on the same test images
# {cite}`delong1988comparing`. Images are matched by id. We also give the per-seed p-values
# (each seed's run at one size against the same seed at the best size) and Holm-adjusted
# p-values within each model and set-up.
#
# Two cautions. The reference is chosen on the same test set it is then tested on, which favours
# finding differences; and "not significantly different" with a test set of this size is not
# evidence of equality: the DeLong standard deviations below show how large a difference the
# test could detect.

# %%
tests = results.resolution_tests(runs, split=split)
results.display_table(tests)

# %%
main_tests = plots.select(tests, setup)
paper_acc = {(m, r): acc for m, r, acc, *_ in paper_reference.TABLE_I}
gl("paper_sweet_gap", paper_acc[("MobileNet", 128)] - paper_acc[("MobileNet", 224)], 2)
verdicts = []
for model in ("mobilenet", "resnet50"):
    sub = main_tests[main_tests["model"] == model]
    others = sub[sub["resolution"] != sub["best_resolution"]]
    worse = others[others["p"] < 0.05]
    gl(f"{model}_best_res", int(sub["best_resolution"].iloc[0]))
    gl(f"{model}_best_auc", float(sub["auc_best"].iloc[0]))
    gl(f"{model}_n_other", len(others))
    gl(f"{model}_n_worse", len(worse))
    label = results.model_label(model)
    if others.empty:
        verdicts.append(f"* {label}: only one input size was run in this set-up; nothing to test.")
    elif worse.empty:
        verdicts.append(
            f"* {label}: no other input size has a significantly lower AUC than "
            f"{sub['best_resolution'].iloc[0]} px (p ≥ 0.05 for all), so the data do not single "
            "out one best resolution."
        )
    else:
        sizes = " and ".join(", ".join(str(r) for r in worse["resolution"]).rsplit(", ", 1))
        verdicts.append(
            f"* {label}: the AUC at {sizes} px is significantly lower than at "
            f"{sub['best_resolution'].iloc[0]} px (p < 0.05, unadjusted)."
        )
glue("sweet_spot_md", Markdown("\n".join(verdicts)), display=False)
fig = plots.auc_vs_resolution(tests, setup)

# %% [markdown]
# In the main set-up, MobileNet's seed-averaged AUC is highest at
# {glue:text}`mobilenet_best_res` px ({glue:text}`mobilenet_best_auc:.3f`); for ResNet50 at
# {glue:text}`resnet50_best_res` px ({glue:text}`resnet50_best_auc:.3f`). Of the other input
# sizes, {glue:text}`mobilenet_n_worse` of {glue:text}`mobilenet_n_other` (MobileNet) and
# {glue:text}`resnet50_n_worse` of {glue:text}`resnet50_n_other` (ResNet50) are significantly
# worse at the 5 % level. In words:
#
# ```{glue:md} sweet_spot_md
# ```

# %% [markdown]
# ## Figures 2–3: confusion matrices at 128 px
#
# Mean counts over seeds (rows: true class, columns: predicted class at threshold 0.5), for the
# set-up above. The paper reports these for its two models at 128 px.

# %%
FOCUS = paper_reference.TABLE_II_RESOLUTION  # the paper's reference size, 128 px
fig = plots.confusion_matrices(runs, FOCUS, split=split, variant=setup)

# %% [markdown]
# ## Figure 5: validation loss across resolutions
#
# Validation loss per epoch (mean ± SD over seeds). The paper describes MobileNet's validation
# loss as low and stable and ResNet50's as high and fluctuating.

# %%
fig = plots.validation_loss(runs, setup)

# %% [markdown]
# ## Figures 6 and 7: accuracy and ROC curves across resolutions
#
# Accuracy against input size with 95 % intervals over seeds; the paper's Table I values are drawn
# dashed for the same models. Then one panel per model with the ROC curve of each input size
# from the seed-averaged predictions. One figure pair per training regime present.

# %%
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
# ## Table II and Figures 4 and 8: what a point of accuracy costs
#
# The paper's "accuracy density" is accuracy points per megabyte of stored model. We add two
# more denominators that matter on a phone: accuracy points per GFLOP of compute per image
# (from `helpers.costs`) and per millisecond of measured single-image latency on the machine
# that trained the run. Sizes are of the saved float32 Keras model.

# %%
table2 = results.table_two(runs, split=split)
results.display_table(table2.loc[table2["resolution"] == FOCUS])

# %% [markdown]
# The paper's Table II, as printed (128 px):

# %%
pd.DataFrame(list(paper_reference.TABLE_II), columns=list(paper_reference.TABLE_II_COLUMNS))

# %%
main2 = plots.select(table2, setup)
for model in ("mobilenet", "resnet50"):
    row = main2[(main2["model"] == model) & (main2["resolution"] == FOCUS)]
    if row.empty:
        raise RuntimeError(f"no {model} runs at {FOCUS} px in set-up {setup}: run {SWEEP}")
    row = row.iloc[0]
    m1 = main1[(main1["model"] == model) & (main1["resolution"] == FOCUS)].iloc[0]
    gl(f"{model}_acc_focus", 100 * float(m1["accuracy"]), 2)
    gl(f"{model}_auc_focus", float(m1["auc"]))
    gl(f"{model}_size_mb", float(row["model_size_mb"]), 2)
    gl(f"{model}_density", float(row["accuracy_density"]), 3)
    gl(f"{model}_per_gflop", float(row["accuracy_per_gflop"]), 2)
    paper_row = [r for r in paper_reference.TABLE_II if r[0].lower() == model][0]
    gl(f"paper_{model}_size_mb", paper_row[1])
    gl(f"paper_{model}_acc", paper_row[2])
    gl(f"paper_{model}_density", paper_row[3])
gl("focus_res", FOCUS)

# %% [markdown]
# At {glue:text}`focus_res` px our MobileNet reaches {glue:text}`mobilenet_acc_focus:.1f` %
# accuracy with a {glue:text}`mobilenet_size_mb:.1f` MB model, an accuracy density of
# {glue:text}`mobilenet_density:.2f` points/MB (paper: {glue:text}`paper_mobilenet_density:.2f`
# at {glue:text}`paper_mobilenet_size_mb:.1f` MB); ResNet50 reaches
# {glue:text}`resnet50_acc_focus:.1f` % with {glue:text}`resnet50_size_mb:.1f` MB,
# {glue:text}`resnet50_density:.2f` points/MB (paper: {glue:text}`paper_resnet50_density:.2f`).
# Accuracy density divides a bounded score by size, so it mostly measures size: a model that
# predicts the majority class for every image would still score
# *(majority share × 100) / MB*. Read it together with the AUC tests above.

# %%
fig = plots.efficiency(table2, setup)

# %%
fig = plots.model_size(table2, setup)

# %% [markdown]
# ## Ablation: does scaling inputs to [0, 1] explain ResNet50's weak results?
#
# The paper scales pixels to [0, 1] for both networks. Keras' MobileNet was trained on ImageNet
# with inputs in [−1, 1], close to that; ResNet50's ImageNet weights expect "caffe"
# preprocessing (BGR channels, ImageNet means subtracted, range about ±128). Feeding [0, 1]
# inputs to ResNet50 presents its first layer with almost constant images, which may explain
# the paper's poor ResNet50 numbers better than the overfitting the paper proposes. The sweep
# trains every configuration both ways (`unit` = [0, 1], `native` = the architecture's own
# preprocessing); below, for each model, resolution and regime, the two are compared by a
# paired DeLong test on the seed-averaged predictions.

# %%
def p_text(p):
    """'p = 0.012' or 'p < 0.001' for prose."""
    shown = results.format_p(p)
    return f"p {shown[0]} {shown[1:]}" if shown[0] in "<>" else f"p = {shown}"


if "preprocessing" in variants and {"unit", "native"} <= set(runs["preprocessing"]):
    ablation = results.compare_variants(runs, "preprocessing", "unit", "native", split=split)
    main_ab = ablation
    if "regime" in variants:
        main_ab = ablation[ablation["regime"] == setup["regime"]]
    rn = main_ab[main_ab["model"] == "resnet50"]
    gain = rn["auc_native"] - rn["auc_unit"]
    n_sig = int((rn["p"] < 0.05).sum())
    ab_md = (
        f"In the `{setup.get('regime', 'single')}` regime, ResNet50 with its native preprocessing "
        f"changes the seed-averaged AUC by {gain.min():+.3f} to {gain.max():+.3f} across "
        f"{len(rn)} input sizes relative to [0, 1] scaling; the difference is significant "
        f"(p < 0.05) at {n_sig} of them."
    )
    for _, row in ablation.iterrows():  # every pair, for the discussion page
        regime = results.setting(row, "regime", runs)
        key = f"ablation_{regime}_{str(row['model']).lower()}_{int(row['resolution'])}"
        gl(f"{key}_auc_unit", float(row["auc_unit"]))
        gl(f"{key}_auc_native", float(row["auc_native"]))
        gl(f"{key}_p", float(row["p"]))
        if regime != setup.get("regime"):
            ab_md += (
                f"\n\nIn the `{regime}` regime, {results.model_label(row['model'])} at "
                f"{int(row['resolution'])} px: AUC {row['auc_unit']:.3f} with [0, 1] inputs vs "
                f"{row['auc_native']:.3f} with native preprocessing; paired DeLong "
                f"{p_text(float(row['p']))}."
            )
    shown = results.display_table(ablation)
else:
    ab_md = "The records hold no `unit` vs `native` pair, so the ablation cannot be shown."
    shown = pd.DataFrame()
glue("ablation_md", Markdown(ab_md), display=False)
shown

# %% [markdown]
# ```{glue:md} ablation_md
# ```
#
# ## Frozen base vs full fine-tuning, where both were run
#
# The paper fine-tunes every layer (`full`); on a CPU only the cheapest cells could be trained
# that way (the reproducibility page explains how to run the rest on a GPU). Where a cell exists
# in both regimes, the seed-averaged predictions are compared by a paired DeLong test.

# %%
regime_md = "No configuration was run in both the `frozen` and the `full` regime."
regime_cmp = pd.DataFrame()
if "regime" in variants and {"frozen", "full"} <= set(runs["regime"]):
    try:
        regime_cmp = results.compare_variants(runs, "regime", "frozen", "full", split=split)
    except results.NoRunsError:
        regime_cmp = pd.DataFrame()

if not regime_cmp.empty:
    lines = []
    for _, row in regime_cmp.iterrows():
        prep = results.setting(row, "preprocessing", runs)
        key = f"regime_{str(row['model']).lower()}_{prep}_{int(row['resolution'])}"
        gl(f"{key}_auc_frozen", float(row["auc_frozen"]))
        gl(f"{key}_auc_full", float(row["auc_full"]))
        gl(f"{key}_p", float(row["p"]))
        lines.append(
            f"* {results.model_label(row['model'])}, {int(row['resolution'])} px, `{prep}`: "
            f"AUC {row['auc_frozen']:.3f} frozen vs {row['auc_full']:.3f} fully fine-tuned "
            f"({int(row['n_seeds_full'])} seed(s)); paired DeLong {p_text(row['p'])}."
        )
    regime_md = "\n".join(lines)
glue("regime_md", Markdown(regime_md), display=False)
results.display_table(regime_cmp) if not regime_cmp.empty else print(regime_md)

# %% [markdown]
# ```{glue:md} regime_md
# ```
#
# ## MobileNet vs ResNet50 at the same input size
#
# The paper's central comparison is between the two architectures. For every input size and
# set-up where both were trained, the seed-averaged predictions of MobileNet and ResNet50 on
# the same test images are compared by a paired DeLong test.

# %%
model_md = "No configuration was run with both models."
try:
    model_cmp = results.compare_variants(runs, "model", "mobilenet", "resnet50", split=split)
except results.NoRunsError:
    model_cmp = pd.DataFrame()
if not model_cmp.empty:
    lines = []
    for _, row in model_cmp.iterrows():
        regime = results.setting(row, "regime", runs)
        prep = results.setting(row, "preprocessing", runs)
        res = int(row["resolution"])
        key = f"models_{regime}_{prep}_{res}"
        gl(f"{key}_auc_mobilenet", float(row["auc_mobilenet"]))
        gl(f"{key}_auc_resnet50", float(row["auc_resnet50"]))
        gl(f"{key}_p", float(row["p"]))
        better = "MobileNet" if row["auc_mobilenet"] > row["auc_resnet50"] else "ResNet50"
        verdict = f"{better} better" if row["p"] < 0.05 else "no significant difference"
        lines.append(
            f"* `{regime}`, `{prep}`, {res} px: AUC {row['auc_mobilenet']:.3f} (MobileNet, "
            f"{int(row['n_seeds_mobilenet'])} seed(s)) vs {row['auc_resnet50']:.3f} (ResNet50, "
            f"{int(row['n_seeds_resnet50'])} seed(s)); paired DeLong {p_text(row['p'])}: {verdict}."
        )
    model_md = "\n".join(lines)
glue("model_md", Markdown(model_md), display=False)
results.display_table(model_cmp) if not model_cmp.empty else print(model_md)

# %% [markdown]
# ```{glue:md} model_md
# ```
#
# ## Did the fully fine-tuned models fit their training images?
#
# The paper blames ResNet50's weak results on overfitting. Overfitting leaves a trace in the
# training histories: training accuracy close to 100 % while the validation loss climbs after an
# early minimum. The table sums up the last epoch of every fully fine-tuned configuration.
# Training accuracy is Keras's running value over the last epoch (dropout active); the
# *majority share* is what always answering the more frequent class scores on the training set,
# and the *prior loss* is the cross-entropy of always answering the class prior, the loss a
# model reaches without learning anything from the images.

# %%
full_runs = runs[runs["regime"] == "full"] if "regime" in runs else runs.iloc[0:0]
fit = results.fit_summary(full_runs) if not full_runs.empty else pd.DataFrame()
fit_md = "No configuration was fully fine-tuned."
if not fit.empty:
    gl("fit_majority_share", float(fit["majority_share"].iloc[0]))
    gl("fit_prior_loss", float(fit["prior_loss"].iloc[0]))
    lines = []
    for _, row in fit.iterrows():
        prep = results.setting(row, "preprocessing", full_runs)
        key = f"fit_full_{str(row['model']).lower()}_{prep}_{int(row['resolution'])}"
        for col in ("train_acc_last", "train_acc_min", "train_acc_max", "train_loss_last",
                    "best_val_epoch", "val_loss_min", "val_loss_last"):
            gl(f"{key}_{col}", float(row[col]))
        gl(f"{key}_n_beyond", int(row["n_beyond_majority"]))
        gl(f"{key}_n_seeds", int(row["n_seeds"]))
        lines.append(
            f"* {results.model_label(row['model'])}, {int(row['resolution'])} px, `{prep}`: "
            f"last-epoch training accuracy {row['train_acc_last']:.3f} "
            f"({row['train_acc_min']:.3f}–{row['train_acc_max']:.3f} over {int(row['n_seeds'])} "
            f"seed(s); {int(row['n_beyond_majority'])} above the majority share "
            f"{row['majority_share']:.3f} by more than 0.05), training loss "
            f"{row['train_loss_last']:.3f} (prior loss {row['prior_loss']:.3f}); lowest "
            f"validation loss {row['val_loss_min']:.3f} at epoch {row['best_val_epoch']:.1f} on "
            f"average, {row['val_loss_last']:.3f} at the last epoch."
        )
    fit_md = "\n".join(lines)
glue("fit_md", Markdown(fit_md), display=False)
results.display_table(fit) if not fit.empty else print(fit_md)

# %% [markdown]
# ```{glue:md} fit_md
# ```
#
# The training accuracy of every fully fine-tuned run, epoch by epoch, at the smallest input
# size at which both models were fine-tuned (one line per seed):

# %%
both = full_runs.groupby("resolution")["model"].nunique() if not full_runs.empty else pd.Series()
common = sorted(int(r) for r, n in both.items() if n > 1)
if common:
    gl("fit_fig_res", common[0])
    fig = plots.training_accuracy(full_runs, common[0])
else:
    print("No input size at which both models were fully fine-tuned.")

# %% [markdown]
# ## What the records say, and what they cannot
#
# * Every table and figure above is computed from the run records; the paper's numbers are
#   quoted for comparison only and come from a different data set and task.
# * Seeds give the training-noise interval; DeLong gives the test-set interval of one model.
#   A difference between input sizes counts as real here only if it survives the paired test
#   on the seed ensemble and recurs across seeds.
# * The choice of the "best" resolution and its test use the same test images; with several
#   input sizes per model the unadjusted p-values overstate the evidence, which is why
#   Holm-adjusted values are shown too.
#
# The works cited are listed in the book's references.

# %% [markdown]
# ## Key numbers for the discussion
#
# The discussion page quotes the numbers below; they are glued from the records here so that
# the page cannot drift from the tables. Keys are `<regime>_<model>_<preprocessing>_...`; the
# AUC is that of the seed-averaged predictions (as in the resolution tests).

# %%
key_rows = []
for _, row in tests.iterrows():
    parts = [
        str(results.setting(row, "regime", runs)),
        str(row["model"]).lower(),
        str(results.setting(row, "preprocessing", runs)),
    ]
    prefix = "_".join(parts)
    if row["resolution"] == row["best_resolution"]:
        gl(f"{prefix}_best_res", int(row["best_resolution"]))
        gl(f"{prefix}_best_auc", float(row["auc_best"]))
        key_rows.append((prefix, "best_res", int(row["best_resolution"])))
        key_rows.append((prefix, "best_auc", round(float(row["auc_best"]), 3)))
    gl(f"{prefix}_auc_{int(row['resolution'])}", float(row["auc"]))
    if row["resolution"] != row["best_resolution"]:  # paired DeLong p against the best size
        gl(f"{prefix}_p_{int(row['resolution'])}", float(row["p"]))
        pair = sorted((int(row["resolution"]), int(row["best_resolution"])))
        gl(f"{prefix}_p_{pair[0]}_{pair[1]}", float(row["p"]))  # the same test, order-free key
    key_rows.append((prefix, f"auc_{int(row['resolution'])}", round(float(row["auc"]), 3)))
# Fully fine-tuned cells: seeds run and threshold-0.5 sensitivity / specificity (Table I).
for _, row in table1.iterrows():
    if "regime" in row.index and row["regime"] == "full":
        prep = results.setting(row, "preprocessing", runs)
        key = f"t1_full_{str(row['model']).lower()}_{prep}_{int(row['resolution'])}"
        gl(f"{key}_n_seeds", int(row["n_seeds"]))
        gl(f"{key}_sensitivity", float(row["sensitivity"]))
        gl(f"{key}_specificity", float(row["specificity"]))
        key_rows.append((f"full_{str(row['model']).lower()}_{prep}",
                         f"n_seeds_{int(row['resolution'])}", int(row["n_seeds"])))
keys_df = pd.DataFrame(key_rows, columns=["set-up", "key", "value"], dtype=object).astype(str)
keys_df.pivot(index="set-up", columns="key", values="value").fillna("–")
