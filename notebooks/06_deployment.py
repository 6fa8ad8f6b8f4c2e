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
# # Deploying the models: LiteRT float and int8 on a phone-class CPU
#
# **Purpose.** The paper argues that MobileNet suits phones: "diagnostic feedback is provided in
# < 50 ms" and int8 quantisation takes the model "from 12.5 MB to < 4 MB"
# {cite}`achar2025resolution`; {cite:t}`kilaru2025lightweight` reports a lightweight model about
# 60 % faster. This chapter measures what each trained frozen-regime model costs once exported to
# LiteRT (TensorFlow Lite) in four formats — float32, float16, dynamic-range int8 and full int8 —
# and whether the export changes its test AUC; fine-tuned models add a fifth, full int8 with the
# logit as output ({ref}`06_deployment-s8`). It also asks what happens when a model trained at
# one input size is fed another (the train/test resolution discrepancy of
# {cite:t}`touvron2019fixing`).
#
# **Parameters** (papermill): `deploy_dir` (the deployment and mismatch records of
# `scripts/deploy_sweep.py`; default `results/deploy`).
#
# **Prerequisites.** {doc}`03_train` (the frozen regime) and {doc}`04_results` (DeLong AUC
# comparisons). The records come from re-training each frozen configuration of
# `configs/paper.yaml` (MobileNet and ResNet50 × 64/128/224/256 px, each architecture's own
# ImageNet scaling, seed 0): the head trains in seconds on cached base features.
#
# **Time to run.** About 20 s on a 2-core CPU: the chapter only reads JSON records; nothing is
# converted or timed here.
#
# **What you will learn.**
# - how much smaller and faster full int8 is than float32 on one CPU core, and what it costs in
#   AUC (paired DeLong ΔAUC against the float Keras model, same test images);
# - why dynamic-range int8 can be *slower* than float32 (read from the models' operator lists);
# - whether a model should be run at another input size than the one it was trained at.
#
# ```{admonition} Run it yourself
# :class: tip
# `python scripts/deploy_sweep.py --save-models` re-trains, exports and measures every
# configuration (ResNet50's int8 conversions take minutes each); pause other work and run
# `python scripts/deploy_sweep.py --latency-only` for the quiet timing pass;
# `python scripts/deploy_sweep.py --mismatch --models mobilenet` writes the resolution matrix;
# then `python -m helpers notebooks configs/book.yaml --only 06`. The `.tflite` files stay in
# `$RESBOOK_CACHE_DIR/deploy-models/`, never in the repository.
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

# %% tags=["hide-input", "nbval-ignore-output"]
# %matplotlib inline
from IPython.display import display
from myst_nb import glue

from helpers import config, paper_reference
from helpers.chapters import deployment as report
from helpers.chapters import multiplicity
from helpers.chapters import results_prose as prose
from helpers.chapters.figures import sharp_figures
from helpers.chapters.formatting import ci_text, number_text, p_text
from helpers.deploy import records as drec
from helpers.model_names import model_label

sharp_figures()  # 2× PNG figures, sharp on high-density screens

# %% tags=["parameters"]
deploy_dir = "results/deploy"
kept_dir = "results/deploy-kept"  # records of models that training runs kept (--from-records)
runs_dir = "results/paper"  # the run records the deployed frozen models were re-trained from

# %% [markdown]
# (06_deployment-s1)=
# ## The records
#
# One deployment record per (trained model, format): the `.tflite` file's size and hash, its
# test-set predictions, AUC with DeLong 95 % CI, the paired DeLong ΔAUC against the float Keras
# model on the same {glue:text}`n_test` test images, the latency of one image (batch 1) with one
# thread and with all threads, peak memory, and which operators LiteRT's CPU delegate (XNNPACK)
# runs. Re-training reproduced each run record's model: the largest difference between the
# re-trained Keras model's test probabilities and the run record's is
# {glue:text}`retrain_max_dp_txt`.

# %% tags=["hide-input"]
folder = config.results_dir(deploy_dir)  # resolved from any cwd
recs = drec.load_deployment_records(folder)
df = report.deployment_frame(recs)
mdf = report.mismatch_frame(report.load_mismatch_records(folder / "mismatch"))
if df.empty:
    raise RuntimeError(f"no deployment records in {folder}: run scripts/deploy_sweep.py")
# the model to ship is chosen on the validation AUC of the run each model came from
val_auc = report.validation_aucs(df["run_id"], config.results_dir(runs_dir))
nums = report.chapter_numbers(df, mdf, paper_reference.CLAIMED_LATENCY_MS, val_auc)
print(f"{len(df)} deployment records ({nums['n_configs']} trained models × formats), "
      f"{nums['n_quiet']} timed on a quiet CPU; {len(mdf)} mismatch cells")

# %% tags=["remove-cell"]
tiny = {k for k in nums if k.endswith("_dp")}  # probability differences: keep 2 digits
prose.glue_values({k: v for k, v in nums.items() if not isinstance(v, str) and k not in tiny})
for name in tiny:
    glue(name, float(f"{nums[name]:.2g}"), display=False)
    glue(f"{name}_txt", number_text(nums[name]), display=False)  # written out, no 1e-06
for name in [k for k in nums if k.endswith("_p")]:  # p-values for prose: p = 0.0123, p < 0.001
    glue(f"{name}_txt", p_text(nums[name]), display=False)
for name, text in nums.items():
    if isinstance(text, str):
        prose.glue_md(name, text)
prose.glue_values(multiplicity.family_values("06_int8", report.int8_tests(df), [], p="delta_p"))

# %% [markdown]
# ```{note}
# **Timing honesty.** Latency is measured, never estimated: the median (and 90th percentile) of
# `interpreter.invoke()` on one uint8 image after warm-up runs. A record says whether it was
# timed on a quiet CPU (`latency_ms.measured_quiet`, with the load average and the share of the
# CPU other processes used just before). The quiet timings come from a separate pass,
# `scripts/deploy_sweep.py --latency-only`, run after the exports with the book's training sweep
# paused (`kill -STOP`, then `kill -CONT`); a record whose pass still saw more than a quarter of
# the CPU busy keeps `measured_quiet: false`. {glue:text}`n_quiet` of the
# {glue:text}`n_records` records shown here carry a quiet timing; the others were timed while
# the training sweep shared the two cores, and their latencies are upper bounds.
# ```
#
# The tables below deploy the **frozen** regime, whose head re-trains in seconds. Fully
# fine-tuned models cost hours each to train on this CPU, so they are deployed only where their
# run kept its model ({ref}`06_deployment-s8`).
#
# (06_deployment-s2)=
# ## Size and accuracy after export
#
# Full int8 stores weights *and* activations in 8 bits (uint8 pixels in, activation ranges
# calibrated on {glue:text}`n_rep` training images) and is about {glue:text}`int8_shrink:.1f` times smaller than float32.
# ΔAUC is the paired DeLong difference AUC(int8) − AUC(float Keras) on the same test images.

# %% tags=["hide-input"]
display(report.styled(report.int8_summary(df), "deploy-int8"))

# %% [markdown]
# Across the {glue:text}`int8_n` int8 models the largest |ΔAUC| is
# {glue:text}`int8_max_abs_delta:.3f`. The {glue:text}`int8_n` comparisons are one family: in
# {glue:text}`int8_n_sig` of them the unadjusted 95 % interval excludes zero, and
# {glue:text}`int8_n_sig_holm` of them still differ after Holm's adjustment over the family
# (column "p (Holm)"), i.e. quantisation measurably changed the ranking of test images there.
# "No detectable difference" is not "no difference": a file is called *equivalent* only when
# the two one-sided tests, Holm-adjusted over the same family, put its ΔAUC inside
# ±{glue:text}`int8_margin:.2f` (a margin fixed from the seed-to-seed spread of test AUC before
# any equivalence test was run; `helpers.stats.equivalence`). That holds for
# {glue:text}`int8_n_equiv` of the {glue:text}`int8_n` files; for
# {glue:text}`int8_n_inconclusive` the data can neither show a difference nor rule out one of
# ±{glue:text}`int8_margin:.2f` or more (some of their point estimates lie beyond the margin). The usual
# remedies — a larger calibration set, per-layer float fallbacks, quantisation-aware training —
# were not tried here. The full
# table below (expand it) has every format: float32 reproduces Keras to within rounding (largest
# probability change {glue:text}`float32_max_dp_txt`), float16 moves probabilities by up to
# {glue:text}`float16_max_dp:.3f`.

# %% tags=["hide-input", "hide-output"]
display(report.styled(report.size_accuracy_table(df), "deploy-size-auc"))

# %% [markdown]
# (06_deployment-s3)=
# ## Latency on one core
#
# Median milliseconds per image, one thread, batch 1 (XNNPACK), on this book's machine: two
# cores of a virtualised {glue:md}`cpu` server CPU with AVX-512 and VNNI (as its CPU flags,
# stored in every record, report).
# These cells print measurements, so their outputs are not compared when the book is tested.

# %% tags=["hide-input", "nbval-ignore-output"]
display(report.styled(report.latency_table(df), "deploy-latency"))

# %% tags=["hide-input", "hide-output", "nbval-ignore-output"]
display(report.styled(report.latency_full(df), "deploy-latency-full"))

# %% [markdown]
# Full int8 runs {glue:text}`int8_speedup_min:.1f` to {glue:text}`int8_speedup_max:.1f` times as
# fast as float32. Dynamic-range int8 — int8 weights, float activations — takes a median
# {glue:text}`dyn_over_float_mobilenet:.2f` times float32's time for MobileNet and
# {glue:text}`dyn_over_float_resnet50:.2f` times for ResNet50 ({ref}`06_deployment-s6` explains the
# difference).
#
# (06_deployment-s4)=
# ## Accuracy against cost: the Pareto view
#
# In {numref}`fig-deploy-pareto` each point is one model × input size × format; the dashed line
# joins the points no other point beats on both axes. The red line is the paper's "< 50 ms"
# claim; orange segments show where each float32 model would sit if it were 60 % faster
# (latency ÷ 1.6), one reading of Kilaru's claim.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Test AUC of every exported model against its one-thread, batch-1 latency (left) and its file size (right), both on log scales; colour is the format, marker the network and marker size the input size, the dashed line is the Pareto front, the red vertical line the paper's phone latency claim and the orange segments Kilaru's '60 % faster' applied to each float32 model. Look at how the int8 formats move a model left, faster and smaller, at nearly the same height, and at which models lie right of the claim line.", "name": "fig-deploy-pareto"}, "image": {"alt": "Two scatter plots sharing a y axis of test AUC: left against one-thread latency in milliseconds, right against file size in megabytes, both on log scales; points coloured by format (float32, float16, dynamic-range int8, full int8), circles for MobileNet and crosses for ResNet50, larger markers for larger input sizes, a dashed Pareto-front line, a vertical red line at the paper's latency claim and short horizontal orange segments from each float32 point"}}
fig = report.pareto_figure(df, claim_ms=paper_reference.CLAIMED_LATENCY_MS, claim_speedup=1.6)

# %% [markdown]
# {glue:text}`n_under_claim` of the {glue:text}`n_records` exported models answer in under
# 50 ms on one core; the slowest takes {glue:text}`slowest_ms:.1f` ms.
#
# ```{warning}
# A server (or desktop) x86 core is not a phone core. It has a higher clock, wider vector
# units (AVX-512 with VNNI int8 dot products, where phone cores have 128-bit NEON) and far more
# cache than the mid-range or efficiency cores a phone runs an app on, and a phone throttles
# when warm. These latencies
# rank the models; they do not show that a given phone meets 50 ms. The paper does not say which
# phone or runtime its "< 50 ms" refers to, and Kilaru's "60 % faster" compares other models on
# other hardware, so both are drawn as reference marks, not as results reproduced here.
# ```
#
# (06_deployment-s5)=
# ## Accuracy per MB and per millisecond
#
# The paper's Table II divides accuracy (%) by model size (MB), its "accuracy density", for
# float models at 128 px. Here it is for our float32 and int8 files, with the paper's value
# beside our float32 128 px rows (the paper's data set is acne vs normal, ours ISIC-2017
# melanoma, so only the ratio's behaviour is comparable).

# %% tags=["hide-input"]
paper_density = {m: d for m, _, _, d in paper_reference.TABLE_II}
display(report.styled(report.density_table(df, paper_density), "deploy-density"))

# %% tags=["hide-input", "nbval-ignore-output"]
display(report.styled(report.per_ms_table(df), "deploy-per-ms"))

# %% [markdown]
# (06_deployment-s6)=
# ## Why int8 is faster here, and why dynamic-range int8 can be slower
#
# **Full int8.** Every convolution runs as an 8-bit × 8-bit → int32 dot product. XNNPACK has
# AVX-512 VNNI kernels for these and picks them at run time on CPUs that have VNNI, as this one
# does: one `vpdpbusd` instruction does 64 multiply-adds of 8-bit values into 16 int32 sums,
# four times the 16 float32 multiply-adds of an AVX-512 FMA, and int8 tensors move a quarter of
# the bytes through the caches. The whole graph is one XNNPACK partition (table below): activations
# are quantised once at the input and dequantised once at the output.
#
# **Dynamic-range int8** stores weights in int8 but keeps activations in float32. Each
# convolution must quantise its input on the fly, run the int8 kernel and dequantise its output —
# work that full int8 does not do. Worse, the table shows which operators XNNPACK accepts in this
# "hybrid" form: pointwise `CONV_2D` and `FULLY_CONNECTED` yes, but the **depthwise**
# convolutions with int8 weights stay outside the delegate and run on LiteRT's built-in hybrid
# kernels, cutting MobileNet's graph into many XNNPACK partitions with a hand-over
# between each. MobileNet is mostly depthwise and pointwise convolutions, so it suffers;
# ResNet50 has no depthwise convolutions, and its dynamic-range graph stays one partition. (The
# `REVERSE_V2` left outside in every ResNet50 file is its own ImageNet pre-processing, RGB → BGR,
# one cheap operation on the input; `QUANTIZE` is the uint8 → int8 step of full int8.)

# %% tags=["hide-input"]
display(report.styled(report.delegation_table(recs), "deploy-delegation"))

# %% [markdown]
# (06_deployment-s7)=
# ## Train at one size, test at another
#
# MobileNet and ResNet50 are fully convolutional up to global average pooling, so a model
# trained at one input size can be run at any other. {cite:t}`touvron2019fixing` showed that
# for ImageNet classifiers trained with random-resized crops, testing at a *larger* size than
# training helps. Our models were trained without crop augmentation. Each row of a matrix in
# {numref}`fig-deploy-mismatch` is one model (frozen, own scaling, seed 0) trained at that size
# and evaluated on the same {glue:text}`n_test` test images resized (as in training) to each
# size; the boxed diagonal is the trained size. MobileNet has all {glue:text}`mm_rows_mobilenet` rows, ResNet50
# {glue:text}`mm_rows_resnet50` so far (each ResNet50 row takes about 15 minutes on this CPU;
# `python scripts/deploy_sweep.py --mismatch --models resnet50` adds the missing ones).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Test AUC of each frozen model trained at one input size (rows) and evaluated at each test-time size (columns), one heat map per network, the trained size boxed in white: look at how the cells left of the diagonal, tested smaller than trained, are darker than the diagonal, while the cells to its right stay close to it.", "name": "fig-deploy-mismatch"}, "image": {"alt": "Two heat maps, MobileNet and ResNet50, of test AUC on a viridis colour scale with rows for the training input size and columns for the test-time input size (64, 128, 224 and 256 px), each cell annotated with its AUC and the diagonal cells outlined in white"}}
fig = report.mismatch_heatmap(mdf, ["mobilenet", "resnet50"])

# %% tags=["hide-input", "hide-output"]
display(report.styled(report.mismatch_table(mdf), "deploy-mismatch"))

# %% [markdown]
# Of the {glue:text}`mm_n_off` off-diagonal cells, {glue:text}`mm_n_off_worse` are worse than the
# trained size with a 95 % paired interval below zero and {glue:text}`mm_n_off_better` are
# better. Testing *smaller* than trained hurts most: a mean ΔAUC of
# {glue:text}`mm_down_mean:+.3f` over {glue:text}`mm_down_n` cells (worst
# {glue:text}`mm_down_worst:+.3f`; {glue:text}`mm_down_n_worse` significant). Testing *larger*
# costs less — mean {glue:text}`mm_up_mean:+.3f`, best {glue:text}`mm_up_best:+.3f`, and
# {glue:text}`mm_up_n_better` of {glue:text}`mm_up_n` cells significantly better. Between the two
# large sizes the step is small either way: MobileNet trained at 224 px changes by
# {glue:text}`mm_224_256:+.3f` at 256 px ({glue:text}`mm_224_256_p_txt`), trained at 256 px
# by {glue:text}`mm_256_224:+.3f` at 224 px ({glue:text}`mm_256_224_p_txt`). Touvron et
# al.'s gain from a larger test size comes from random-resized-crop training, which makes
# objects look larger during training than in a centre crop at test time; this book's models
# see the whole image resized, with no crops, so there is no apparent-size shift to undo.
#
# **Advice.** Run each model at exactly the size it was trained at, and make the resize to that
# size part of the app's pre-processing rather than trusting whatever resolution the camera
# pipeline delivers. If the size cannot be controlled, too large is less harmful than too
# small. Changing the input size after training would need Touvron's fix — fine-tuning the
# classifier (and batch-norm statistics) at the new size — not a bare resize.
#
# (06_deployment-s8)=
# ## Fine-tuned models, and Part II's MobileNetV2
#
# Training runs started with `python -m helpers sweep CONFIG --save-models` keep their trained
# model in the cache; `scripts/deploy_sweep.py --from-records <results>/records
# --output-dir results/deploy-kept` exports those (nothing re-trained) exactly as above. The
# paper's regime (all layers trained, ISIC) and the paper's protocol of Kilaru et al. (chapter
# 07, chest X-rays) are there as far as their runs kept models; the int8 question is the same:
# how much AUC does full-integer quantisation cost a network whose every layer was trained?
# A model trained in bf16 mixed precision computes in bfloat16, which the LiteRT converter does
# not translate: it is exported through a float32 twin with the same weights, so its "float32
# file" column measures what that change of arithmetic alone costs against the Keras model
# that produced the run record. The last column is a second full-int8 file of the same model
# whose output is the logit instead of the probability (format `int8_logit`, explained below).

# %% tags=["hide-input"]
kept_recs = (drec.load_deployment_records(config.results_dir(kept_dir))
             if config.results_dir(kept_dir).exists() else [])
kept = report.deployment_frame(kept_recs)
if kept.empty:
    print("No kept fine-tuned model deployed yet: run a sweep with --save-models, then "
          "scripts/deploy_sweep.py --from-records <results>/records --output-dir "
          "results/deploy-kept.")
else:
    display(report.styled(report.kept_summary(kept), "deploy-kept"))

# %% [markdown]
# **Why full int8 can fail on a confident model.** The int8 sigmoid has a fixed output step of
# 1/256: every probability above 255/256 becomes the same number. A network that is sure of
# most test images (Kilaru's fine-tuned MobileNetV2 says "pneumonia" with p > 0.996 for most of
# them) then ranks those images as ties, and AUC, a ranking measure, falls. The table separates
# that effect from every other quantisation error: "saturated" is the share of test images
# whose float32-file probability lies within one step of 0 or 1; "float32 on the int8 grid"
# is the float32 file's AUC after rounding its probabilities to that grid, i.e. what the ties
# alone cost; then the int8 file, and the `int8_logit` file, which is the same full-integer
# model without its final sigmoid (`helpers.deploy.export.logit_model`): its int8 output is the
# logit, calibrated like any other activation, and the app applies the sigmoid in float.

# %% tags=["hide-input"]
sat = report.int8_saturation(kept_recs)
sat_kx = sat[sat["run_id"].str.startswith("kermany")]
display(report.styled(report.saturation_table(sat), "deploy-saturation"))
sat_frozen = report.int8_saturation(recs)  # the frozen models of the sections above
glue("sat_n_kilaru", len(sat_kx), display=False)
for key, value in report.saturation_values(sat_kx, sat_frozen).items():
    glue(key, value, display=False)

# %% [markdown]
# For the {glue:text}`sat_n_kilaru` Kilaru networks, {glue:text}`sat_share_min:.0%`–
# {glue:text}`sat_share_max:.0%` of the test images are saturated. Rounding their float32
# probabilities to the int8 grid alone takes the test AUC from
# {glue:text}`sat_auc_f32_min:.3f`–{glue:text}`sat_auc_f32_max:.3f` to
# {glue:text}`sat_auc_grid_min:.3f`–{glue:text}`sat_auc_grid_max:.3f`; the int8 files reach
# {glue:text}`sat_auc_int8_min:.3f`–{glue:text}`sat_auc_int8_max:.3f` (the ties plus every
# other quantisation error, which moves more probabilities into the last step), and the
# logit-out int8 files {glue:text}`sat_auc_logit_min:.3f`–{glue:text}`sat_auc_logit_max:.3f`,
# in files of the same size. So the failure is the output layer's, not the network's: ship a confident binary
# classifier in full int8 with its logit as output. The frozen models of the sections above
# have at most {glue:text}`sat_frozen_max:.0%` of their test images saturated, and the grid
# costs them at most {glue:text}`sat_frozen_grid_cost_max:.4f` in AUC: where their int8 files
# lose AUC ({ref}`06_deployment-s2`), the cause lies elsewhere in the network.

# %% [markdown]
# (06_deployment-s9)=
# ## The model to ship
#
# By this chapter's rule — among the full-int8 files under 50 ms on one core, the one whose
# network has the highest **validation** AUC (its training run's record; the test set plays no
# part in the choice, so the test AUC below is an honest estimate, not the winner of a contest
# on the test images; the int8 files themselves are scored on test only, so the choice ranks
# the float networks and relies on the int8 file's test ΔAUC, in the table above, to show what
# quantisation costs it) — the choice is **{glue:md}`rec_model` at {glue:text}`rec_px` px**:
# validation AUC {glue:text}`rec_val_auc:.3f`, test AUC {glue:text}`rec_auc:.3f`,
# {glue:text}`rec_mb:.1f` MB, {glue:text}`rec_ms:.2f` ms per image.
# Its `.tflite` is not in the repository; `scripts/deploy_sweep.py --save-models` with that
# model and size rebuilds it and checks its sha256 against the committed record (README,
# "Getting the recommended model").

# %% tags=["remove-cell"]
# The numbers "What we found" cites that the sections above do not glue (names start with ship_).
int8_rows = df[df["format"] == "int8"]
mn_int8 = int8_rows[(int8_rows["model"] == "mobilenet")
                    & (int8_rows["resolution"] == paper_reference.TABLE_II_RESOLUTION)]
rec_row = int8_rows[(int8_rows["model"].map(model_label) == nums["rec_model"])
                    & (int8_rows["resolution"] == nums["rec_px"])]
ship = {"ship_claim_int8_mb": paper_reference.CLAIMED_INT8_SIZE_MB,
        "ship_claim_ms": paper_reference.CLAIMED_LATENCY_MS,
        "ship_px_table_ii": paper_reference.TABLE_II_RESOLUTION}
if len(mn_int8):
    ship["ship_mobilenet_int8_mb"] = float(mn_int8["size_mb"].iloc[0])
prose.glue_values(ship)
if len(rec_row):
    row = rec_row.iloc[0]
    glue("ship_rec_auc_ci", ci_text(row["auc"], row["auc_lo"], row["auc_hi"]), display=False)

# %% [markdown]
# ## What we found
#
# * Full int8 files are {glue:text}`int8_shrink:.1f` times smaller than float32 and run
#   {glue:text}`int8_speedup_min:.1f` to {glue:text}`int8_speedup_max:.1f` times as fast on one
#   core; MobileNet's at {glue:text}`ship_px_table_ii` px is
#   {glue:text}`ship_mobilenet_int8_mb:.1f` MB, under the paper's target of
#   {glue:text}`ship_claim_int8_mb:.0f` MB.
# * Quantisation is not free: the largest |ΔAUC| against the float model is
#   {glue:text}`int8_max_abs_delta:.3f`, {glue:text}`int8_n_sig_holm` of the
#   {glue:text}`int8_n` int8 files differ detectably after Holm's adjustment, and
#   {glue:text}`int8_n_equiv` is shown equivalent within ±{glue:text}`int8_margin:.2f` (for
#   {glue:text}`int8_n_inconclusive` the data cannot rule out a change of that size or more).
# * A confident network breaks the int8 sigmoid: for the {glue:text}`sat_n_kilaru` MobileNetV2
#   networks trained by Kilaru's protocol (chest X-rays) the test AUC falls from {glue:text}`sat_auc_f32_min:.3f`–{glue:text}`sat_auc_f32_max:.3f`
#   (float32 file) to {glue:text}`sat_auc_int8_min:.3f`–{glue:text}`sat_auc_int8_max:.3f` (int8),
#   while int8 files with the logit as output keep
#   {glue:text}`sat_auc_logit_min:.3f`–{glue:text}`sat_auc_logit_max:.3f`.
# * No model did detectably better at a larger input size than it was trained at
#   ({glue:text}`mm_up_n_better` of {glue:text}`mm_up_n` cells), and a smaller one costs most
#   (mean ΔAUC {glue:text}`mm_down_mean:+.3f`, against {glue:text}`mm_up_mean:+.3f` for larger):
#   run each model at its training size.
# * The chapter's rule ships {glue:md}`rec_model` at {glue:text}`rec_px` px in full int8 (test AUC
#   {glue:text}`ship_rec_auc_ci`), at {glue:text}`rec_ms:.1f` ms per image, and
#   {glue:text}`n_under_claim` of the {glue:text}`n_records` files answer within the paper's
#   {glue:text}`ship_claim_ms:.0f` ms; these are timings on one core of a server CPU, so
#   whether a phone meets the paper's claim is not tested here.
#
# ## Next
#
# The appendices follow: {doc}`../reproducibility` shows how to re-run every chapter, the sweeps
# and the deployment exports behind these tables from the repository.
