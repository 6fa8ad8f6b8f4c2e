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
# # Another hospital's images
#
# **Purpose.** Every AUC of the results chapter ({doc}`04_results`) is measured on ISIC 2017's
# own test split: the same archive, similar dermoscopes, the same preparation. This chapter
# scores the same ISIC-trained networks on PH2 (Hospital Pedro Hispano, Portugal;
# {cite:t}`mendonca2013ph2`), 200 dermoscopy images from another clinic, and asks whether the
# resolution trade-off of {cite:t}`achar2025resolution` holds there, and how much the way an
# image is made square decides what a network sees.
#
# **Parameters** (papermill; set in `configs/book.yaml`): `results_dir` (the run records of
# `configs/ph2-external.yaml`: ISIC-trained runs with PH2 as their external test set) and
# `subgroups` (PH2's diagnosis per image, `results/ph2/subgroups.csv`, written by
# `scripts/ph2_subgroups.py`).
#
# **Prerequisites.** {doc}`04_results` (paired DeLong tests, Holm families) and
# {doc}`11_beyond_auc` (seed ensembles, operating points chosen on validation, calibration); the data page (PH2 and the resize
# policy).
#
# **Time to run.** On a 2-core CPU: under a minute from the committed records (DeLong tests).
#
# **What you will learn.**
# * How far the AUC of each network and input size moves from ISIC's test split to PH2, with
#   intervals, and whether the best input size and the model ranking survive the move.
# * What a threshold chosen on ISIC validation does at another hospital, and how calibrated the
#   probabilities are there.
# * How much centre crop, padding or a crop to the lesion change PH2's AUC against the declared
#   way of making images square, and what the interpolation filter does at 64 px.
#
# ```{admonition} Run it yourself
# :class: tip
# `python -m helpers sweep configs/ph2-external.yaml` (with `--external-root` pointing at PH2's
# `images/` folder and `--external-masks` at its `masks/`), then
# `python -m helpers notebooks configs/book.yaml --only 09_external_site --force`. Change
# `results_dir` to read your own sweep's records; see the README for your own external folder.
# ```

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
results_dir = "results/ph2"
subgroups = "results/ph2/subgroups.csv"
geometry_evidence = "results/ph2/isic-geometry.json"  # scripts/isic_geometry.py's record
isic_diagnoses = "results/ph2/isic-test-diagnoses.csv"  # scripts/isic_test_diagnoses.py

# %% tags=["remove-input"]
check_injected(globals(), _globals_before_parameters,
               ["results_dir", "subgroups", "geometry_evidence", "isic_diagnoses"])

# %% tags=["hide-input", "nbval-ignore-output"]
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from myst_nb import glue

from helpers import config
from helpers.analysis import external_ablations as A
from helpers.analysis import external_site as X
from helpers.chapters import coverage
from helpers.chapters import external_case_mix as CM
from helpers.chapters import external_site as P
from helpers.chapters import external_site_figures as F
from helpers.chapters.figures import sharp_figures
from helpers.chapters.found_values import external_found

pd.set_option("display.width", 200)
sharp_figures()  # 2× PNG figures, sharp on high-density screens

# %% [markdown]
# ## Loading the run records
#
# Each successful run that scored the external set contributes one row: its ISIC validation and
# test predictions and its predictions on every PH2 image. The *main grid* is the runs made with
# the declared way of making images square and the declared interpolation filter; the runs with
# other filters belong to the interpolation ablation only. A grid that is still running is
# shown as far as it goes: a cell that cannot be computed yet is left out and listed at the end,
# never filled in.

# %%
runs = X.load(results_dir)  # ok runs that scored an external set
main = X.declared(runs)  # the main grid: the declared geometry and interpolation filter
site = X.site_table(main)  # per cell: ISIC test and external AUC, seed ensemble and seed mean
LABEL = P.external_label(runs)

# %% tags=["hide-input"]
V = P.loading_values(runs, site)
P.glue_strings(V)
P.glue_strings(A.policy_values(config.results_dir(geometry_evidence)))
status = P.empty_md(runs, results_dir)
P.glue_md("status_md", status or "Every section below is computed from these records.")
if not status:  # which runs of the sweep's grid exist (when the folder names its config)
    coverage.show(coverage.load(config.results_dir(results_dir)), "ph2-grid-coverage")

# %% [markdown]
# ```{glue:md} status_md
# ```
#
# The records hold {glue:text}`n_runs` runs that scored {glue:text}`ext_label`
# ({glue:text}`n_failed` failed runs are counted, not used), in {glue:text}`n_cells` cells of the
# main grid. {glue:text}`ext_label` has {glue:text}`n_external_pos` melanomas and
# {glue:text}`n_external_neg` nevi; ISIC's test split {glue:text}`n_test_pos` melanomas and
# {glue:text}`n_test_neg` other lesions.
#
# ## The question
#
# A reader who deploys a 64 px MobileNet on a phone needs to know whether the resolution
# trade-off measured on ISIC holds on images from somewhere else. PH2 differs from ISIC in
# clinic, dermoscope, population and preparation, so it asks three questions of the same
# ISIC-trained runs (nothing is retrained on PH2): does each network keep its AUC; do the
# verdicts of {doc}`04_results` (the best input size, MobileNet vs ResNet50) still hold; and
# does a threshold chosen on ISIC validation still mean what it meant.
#
# ## The resize policy
#
# PH2's images are 4:3 photographs (about 765 × 574 px); the networks only take N × N. How an
# image is made square decides what a network sees at small N, so the policy was declared
# before any PH2 AUC was computed, and it follows one rule: **bring test images to N × N the way
# the training images were brought there.** The ISIC copy the networks were trained on is
# already 256 × 256, squared by someone else by an unrecorded method, so we measured how
# (`scripts/isic_geometry.py`, `results/ph2/isic-geometry.json`). A dermoscope sees a round field
# of view; in a squashed 4:3 photograph that circle becomes an upright ellipse 4/3 as tall as it
# is wide, in a centre-cropped one it stays round. In the {glue:text}`policy_n_fov` ISIC images
# whose dark round border is clearly visible, the field of view measures
# {glue:text}`policy_fov` times as tall as wide (interquartile range
# {glue:text}`policy_fov_q1`–{glue:text}`policy_fov_q3`), and across
# {glue:text}`policy_n_lesion` segmented lesions the median is {glue:text}`policy_lesion`, with
# {glue:text}`policy_lesion_taller` taller than wide, where lesions have no reason to prefer an
# orientation. PH2 is the control: its field of view measures {glue:text}`policy_ph2_native`
# as it comes and {glue:text}`policy_ph2_squashed` once we squash it to 256 × 256; its lesions,
# segmented the same way as ISIC's, measure {glue:text}`policy_ph2_mask_squashed` squashed and
# {glue:text}`policy_ph2_mask_cropped` centre-cropped. All the measurable fields of view are in
# ISIC's training split, and not all of them are near 4/3 (some originals were portrait or 3:2),
# so the finding is that the copy *appears* squashed, from mostly 4:3 originals. Only {glue:text}`policy_n_bars` of
# {glue:text}`policy_n_isic` ISIC images show the constant bars that padding would leave on
# two opposite sides. The record's verdict is **{glue:text}`policy_verdict`**, so PH2 is
# squashed too, with Pillow's bilinear filter (the filter of every chapter; the ISIC copy's own
# filter cannot be recovered; the project's own `download('isic2017')` squashes with it too).
# A phone app meets the same choice: a landscape phone photograph is 4:3 as well, and an app
# that feeds these networks should squash it the same way (turning portrait photographs first).
# The section "Geometry ablation" below shows what each other choice costs, on the
# same runs.
#
# The records of the main grid were made with geometry {glue:text}`declared_geometry` and
# interpolation filter {glue:text}`declared_resample` (`data.resize` in every record). The
# ablations below use the {glue:text}`ablation_prep` preprocessing.
#
# ## ISIC test vs PH2
#
# For each cell the runs of the seeds are averaged into a **seed ensemble** (mean probability
# over seeds), scored once on each set with its DeLong 95 % interval. The two sets hold
# different images, so the difference PH2 − ISIC has independent parts: its variance is the
# sum of the two DeLong variances.

# %% tags=["hide-input"]
P.show(P.site_reading(site, LABEL), "ph2-site-site")

# %% [markdown]
# The same cells with the **seed mean** (mean ± SD of the per-seed AUCs) beside the ensemble
# AUC, and the p-value of the difference:

# %% tags=["hide-input", "hide-output"]
P.show(P.site_full(site, LABEL), "ph2-site-full")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "AUC of the seed ensemble against input size on ISIC 2017's test split (left) and on PH2 (right), with DeLong 95 % intervals; colour: network, line style: preprocessing. Look at how most PH2 curves sit at or above their ISIC counterparts rather than below, and at how much wider PH2's intervals are; a network at chance on ISIC says nothing about PH2.", "name": "fig-external-auc"}, "image": {"alt": "Two line charts sharing a y axis of seed-ensemble AUC with 95 % confidence-interval error bars, left ISIC 2017 test and right PH2, against input size 64 to 256 px; one line per network (MobileNet, ResNet50, by colour) and preprocessing (native solid, unit dashed)"}}
fig = F.auc_figure(site, LABEL)
plt.show() if fig is not None else print("No cells yet: no figure.")

# %% tags=["remove-input"]
OK = CM.learnt_families(site)  # families that beat chance on ISIC test: the counts use them
new = P.site_values(CM.only_learnt(site, OK)) | {"excluded": CM.excluded_text(site, OK),
       "n_learnt_cells": str(len(CM.only_learnt(site, OK)))}
V |= new
P.glue_strings(new)

# %% [markdown]
# {glue:text}`excluded` is at chance on ISIC's own test split ({doc}`04_results`) and says
# nothing about another hospital: its rows stay in the tables, but the counts and medians of
# this chapter cover the {glue:text}`n_learnt_cells` cells of the families that learnt
# something. Across those cells ({numref}`fig-external-auc`), PH2 − ISIC AUC ranges from
# {glue:text}`diff_min` to {glue:text}`diff_max` (median {glue:text}`diff_median`); in
# {glue:text}`n_diff_below` cells the 95 % interval of the difference lies entirely below zero.
#
# **Is PH2 simply an easier task?** One difference is built into the sets. ISIC 2017's melanoma
# task counts seborrheic keratoses among its negatives as well as nevi, while PH2's negatives
# are nevi only. Scored on melanomas vs its {glue:text}`mix_n_neg` nevi alone, ISIC's test AUC
# changes by a median {glue:text}`mix_isic_gain_median`, so the negative classes do not explain
# the gap. Against that like-for-like figure, PH2 − ISIC ranges from
# {glue:text}`mix_diff_min` to {glue:text}`mix_diff_max` (median {glue:text}`mix_diff_median`).
# Its interval lies above zero in {glue:text}`mix_n_above` and below zero in
# {glue:text}`mix_n_below` of {glue:text}`mix_n` cells. With 200 images from one clinic and one
# dermoscope, this book cannot say what makes PH2 easier for these networks: image quality, the
# melanomas themselves, or the nevi (half of them atypical; see the subgroups below). A higher
# PH2 AUC is a property of this pair of sets. It is not evidence that the networks do better at
# other hospitals.

# %% tags=["hide-input"]
mix = CM.case_mix_table(main, P.load_subgroups(isic_diagnoses))
P.show(CM.case_mix_reading(mix, LABEL), "ph2-case-mix")

# %% tags=["remove-input"]
new = CM.case_mix_values(CM.only_learnt(mix, OK), CM.only_learnt(site, OK))
V |= new
P.glue_strings(new)

# %% [markdown]
#
# ## Do the resolution verdicts hold on PH2?
#
# {doc}`04_results` asks, per model and set-up, which input size is best and which sizes are
# detectably worse. Here the same question is asked on each set separately: the best size is
# the one with the highest seed-ensemble AUC on that set, every other size is compared with it
# by the paired DeLong test on the same images, and Holm's adjustment runs within one family
# (the sizes of one model × set-up on one set).

# %%
verdicts = X.resolution_verdicts(main)  # each size vs the best size, on ISIC test and on PH2
summary = X.resolution_summary(verdicts)
P.show(P.resolution_reading(summary, LABEL), "ph2-resolution-summary")

# %% tags=["remove-input"]
new = P.resolution_values(CM.only_learnt(summary, OK))
V |= new
P.glue_strings(new)

# %% [markdown]
# The best size on PH2 is ISIC's best in {glue:text}`n_same_best` of
# {glue:text}`n_res_families` model × set-up families, and every size gets the same verdict on
# both sets in {glue:text}`n_same_verdicts` of them. Read that with care: PH2 has
# {glue:text}`n_external_pos` melanomas against ISIC test's {glue:text}`n_test_pos`, so it finds
# fewer sizes detectably lower; a "best" size that differs between the sets may not differ
# detectably from the other set's best; and the best size is chosen on the set it is then
# tested on, which favours finding differences. Nothing here tests whether the effect of size
# differs between the two sites.
#
# Every size on each set, with the ensemble AUCs and the adjusted p-values:

# %% tags=["hide-input", "hide-output"]
P.show(P.full(verdicts), "ph2-full-verdicts", index=False)

# %% [markdown]
# **MobileNet vs ResNet50 on PH2.** At each input size the two networks' seed ensembles are
# compared by the paired DeLong test on PH2's images; Holm within one family (the sizes of one
# set-up). "MobileNet is" reads "MobileNet's AUC is higher / lower than ResNet50's".

# %%
models = X.model_comparison(main)  # paired DeLong per size, on each set; Holm over sizes
P.show(P.model_reading(models, LABEL), "ph2-model-models")

# %% tags=["remove-input"]
mod = P.prefixed("mod_external", P.verdict_counts(CM.only_learnt(models, OK), {"set": "external"}))
mod |= P.prefixed("mod_test", P.verdict_counts(CM.only_learnt(models, OK), {"set": "test"}))
V |= mod
P.glue_strings(mod)

# %% [markdown]
# On PH2, MobileNet's AUC is higher in {glue:text}`mod_external_higher`, lower in
# {glue:text}`mod_external_lower` and not detectably different in
# {glue:text}`mod_external_nodiff` of {glue:text}`mod_external_tested` comparisons (on ISIC
# test: {glue:text}`mod_test_higher`, {glue:text}`mod_test_lower` and
# {glue:text}`mod_test_nodiff` of {glue:text}`mod_test_tested`). The full table, both sets:

# %% tags=["hide-input", "hide-output"]
P.show(P.full(models), "ph2-full-models", index=False)

# %% [markdown]
# ## The threshold a deployment carries
#
# A deployed model carries a threshold chosen before it met its users' images. For each cell
# the seed ensemble's threshold is chosen on **ISIC validation** by the rules of
# {doc}`11_beyond_auc` (`helpers.stats.operating`: Youden's J; the lowest threshold reaching 90 %
# validation sensitivity) and applied unchanged to ISIC test and to PH2. Cells show
# sensitivity and specificity in % with Wilson 95 % intervals; Youden's rule first.

# %%
thr = X.carried_threshold(main)  # thresholds from ISIC validation, carried to both sets
P.show(P.threshold_reading(thr, LABEL, "youden"), "ph2-threshold-thr")

# %% tags=["remove-input"]
new = P.threshold_values(CM.only_learnt(thr, OK))
V |= new
P.glue_strings(new)

# %% [markdown]
# The median sensitivity moves from {glue:text}`thr_sens_test` % on ISIC test to
# {glue:text}`thr_sens_external` % on PH2, the median specificity from
# {glue:text}`thr_spec_test` % to {glue:text}`thr_spec_external` %. The same for the 90 %
# sensitivity rule:

# %% tags=["hide-input", "hide-output"]
P.show(P.threshold_reading(thr, LABEL, "sens90"), "ph2-threshold-thr-1")

# %% [markdown]
# ## Calibration on PH2
#
# Expected calibration error (ECE, ten equal-width bins, mean over seeds) on each set, beside
# the mean predicted probability and the prevalence of melanoma in PH2 (`helpers.stats.calibration`).

# %%
cal = X.calibration_by_set(main)  # ECE, Brier, mean probability per cell and set
P.show(P.calibration_reading(cal, LABEL), "ph2-calibration-cal")

# %% tags=["remove-input"]
new = P.calibration_values(CM.only_learnt(cal, OK))
V |= new
P.glue_strings(new)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Reliability of each network at its best PH2 input size: the seeds' predictions pooled into ten bins of equal size, observed melanoma rate with Wilson 95 % intervals, on ISIC test and on PH2, against the dashed diagonal of perfect calibration. Look at where each curve leaves the diagonal: a curve below it is over-confident, one above it under-confident.", "name": "fig-external-reliability"}, "image": {"alt": "Reliability diagrams, one panel per network at its best PH2 input size, of observed positive rate (y) against mean predicted probability (x), both 0 to 1, with a dashed diagonal for perfect calibration and one line with error bars each for ISIC test and PH2"}}
best = X.best_external_cells(site)
best = best[best["preprocessing"] == A.ablation_preprocessing(main)] if len(best) else best
fig = F.reliability_figure(main, best, LABEL)
plt.show() if fig is not None else print("No cells yet: no figure.")

# %% [markdown]
# {numref}`fig-external-reliability` draws the runs with the {glue:text}`ablation_prep`
# preprocessing. The median ECE is {glue:text}`ece_test` on ISIC test and
# {glue:text}`ece_external` on PH2; {glue:text}`n_ece_worse` of {glue:text}`n_ece` cells have a
# higher ECE on PH2 (point estimates, not tested). PH2's prevalence of melanoma ({glue:text}`n_external_pos` of
# {glue:text}`n_external` images) is close to ISIC test's ({glue:text}`n_test_pos` melanomas
# and {glue:text}`n_test_neg` other lesions), so the prior does not explain it.
#
# ## Geometry ablation: how an image is made square
#
# The same runs (no retraining) score PH2 brought to N×N each way: squash (the whole image,
# aspect ratio not kept), centre crop, pad to a square, and the lesion mask's bounding box with
# a margin. Per network and input size, each way's seed-ensemble AUC is compared with the
# declared geometry by the paired DeLong test on the same images; Holm runs over the whole
# table (one family). "No detectable difference" is not evidence of equivalence: with
# {glue:text}`n_external` images and Holm over the whole table, differences as large as
# {glue:text}`geo_max_nd` went undetected.

# %%
geo = A.geometry_ablation(main)  # each geometry vs the declared one, same runs and images
P.show(P.geometry_reading(geo), "ph2-geometry-geo")

# %% [markdown]
# Each cell: the seed ensemble's PH2 AUC in that geometry and its verdict against the declared
# one (n.d.: no detectable difference). The full table, with standard errors and adjusted p-values:

# %% tags=["hide-input", "hide-output"]
P.show(P.full(geo), "ph2-full-geo", index=False)

# %% tags=["remove-input"]
g = P.prefixed("geo", P.verdict_counts(geo))
nd = geo[geo["verdict"] == "no detectable difference"] if len(geo) else geo
g["geo_max_nd"] = f"{nd['diff'].abs().max():.2f}" if len(nd) else P.NA
V |= g
P.glue_strings(g)
P.glue_md("geometry_md", P.geometry_md(geo))

# %% [markdown]
# ```{glue:md} geometry_md
# ```
#
# ## Interpolation at 64 px
#
# At 64 px downsampling destroys most detail, so the filter that does it may matter. These runs were
# trained *and* tested with each filter (area averaging, antialiased bilinear, plain bilinear
# without antialiasing, nearest neighbour), with the main grid's seeds. Each filter's seed
# ensemble is compared with antialiased bilinear (the project's filter so far) by the paired
# DeLong test; Holm within each set's table.

# %%
interp = A.interpolation_ablation(runs, resolution=64)  # trained and tested with each filter
P.show(P.interpolation_reading(interp, "external"), "ph2-interpolation-interp")

# %% tags=["remove-input"]
ip = P.prefixed("interp_external", P.verdict_counts(interp, {"set": "external"}))
ip |= P.prefixed("interp_test", P.verdict_counts(interp, {"set": "test"}))
V |= ip
P.glue_strings(ip)

# %% [markdown]
# On PH2, {glue:text}`interp_external_higher` filter comparisons were higher,
# {glue:text}`interp_external_lower` lower and {glue:text}`interp_external_nodiff` not
# detectably different from bilinear (of {glue:text}`interp_external_tested`); on ISIC test
# {glue:text}`interp_test_higher`, {glue:text}`interp_test_lower` and
# {glue:text}`interp_test_nodiff` (of {glue:text}`interp_test_tested`). ISIC test:

# %% tags=["hide-input"]
P.show(P.interpolation_reading(interp, "test"), "ph2-interpolation-interp-1")

# %% [markdown]
# ## Subgroups: common and atypical nevi
#
# PH2 names the diagnosis of every nevus: common or atypical. Atypical nevi look most like
# melanoma, so they are the hard negatives. The seed ensemble's PH2 AUC is computed twice, on
# the melanomas with the common nevi only and with the atypical nevi only (DeLong 95 %
# intervals; the two share the melanomas, so they are not independent).

# %%
diagnoses = P.load_subgroups(subgroups)  # image id -> diagnosis (scripts/ph2_subgroups.py)
sub = A.subgroup_auc(main, diagnoses)
P.show(P.subgroup_reading(sub), "ph2-subgroup-sub")

# %% tags=["remove-input"]
new = P.subgroup_values(CM.only_learnt(sub, OK))
V |= new
P.glue_strings(new)

# %% [markdown]
# The median AUC is {glue:text}`sub_common_nevus` against common nevi and
# {glue:text}`sub_atypical_nevus` against atypical nevi; the atypical nevi were the harder
# negatives in {glue:text}`n_sub_harder` of {glue:text}`n_sub` cells.
#
# ## The fine-tuned regime
#
# The rows above come from runs with a frozen ImageNet base, which a CPU can afford. The
# fine-tuned rows (regime `full`, the paper's) come from the GPU grid (the issue on the
# one-platform grid), whose runs score PH2 as they train; they join these tables when their
# records are added to `results_dir`. What the records hold now:

# %% tags=["hide-input"]
counts = A.regime_counts(runs)
P.glue_md("regime_md", P.regime_md(counts, LABEL))

# %% [markdown]
# ```{glue:md} regime_md
# ```
#
# Cells left out of an analysis (a grid still running) and image ids without a diagnosis:

# %% tags=["hide-input"]
tables = {"ISIC vs PH2": site, "resolution": verdicts, "models": models, "threshold": thr,
          "calibration": cal, "geometry": geo, "interpolation": interp, "subgroups": sub}
P.glue_md("left_out_md", P.left_out_md(tables))
P.glue_md("findings_md", P.findings_md(V, LABEL))

# %% [markdown]
# ```{glue:md} left_out_md
# ```

# %% tags=["remove-cell"]
# The closing bullets' numbers as numbers (the glue above is text), for the book's claim checks;
# names start with found_.
for name, value in external_found(V, counts).items():
    glue(name, value, display=False)

# %% [markdown]
# ## What we found
#
# ```{glue:md} findings_md
# ```
#
# Every bullet is the frozen base's: {glue:text}`found_n_full_runs` runs of the paper's fully
# fine-tuned regime have scored {glue:text}`ext_label` so far, so whether fine-tuned networks
# keep their AUC at another hospital is still open.
#
# ## Next
#
# {doc}`../discussion` closes Part I: claim by claim, what reproduced on ISIC 2017 and what did
# not, including how far these verdicts carry to PH2.
