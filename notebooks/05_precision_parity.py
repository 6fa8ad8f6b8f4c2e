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
# # Appendix: training in bfloat16 — does it change the results?
#
# **Purpose.** The full fine-tuning cells at 224 and 256 px (and ResNet50 at 128 px) were too
# slow for this book's 2-core CPU in float32. ResNet50's are trained in bfloat16 mixed precision
# (Keras `mixed_bfloat16`: float32 weights, bf16 arithmetic, float32 output layer), which this
# CPU computes natively (AVX512-BF16), and most of them ended up on a GPU lent for one session.
# Before any of those runs is read beside float32 runs, this appendix re-runs cells that exist
# in float32 — MobileNet at 128 px and ResNet50 at 64 px, all layers trained, both
# preprocessings, seeds 0–2 — in bf16 and compares the two from their run records; then it
# compares the same run trained on the CPU and on the GPU.
#
# **Parameters** (papermill): `results_dir` (run records of `configs/paper.yaml`), `device_dir`
# (records of runs trained a second time on another machine), `bench_file`, `emulated_file`.
#
# **Prerequisites.** The records of the sweep's blocks 3 and 3b (`precision: mixed_bfloat16`,
# MobileNet 128 px and ResNet50 64 px) beside the float32 records of block 2; {doc}`04_results`
# for DeLong; the precision benchmark's files (`bench_file`, `emulated_file`).
#
# **Time to run.** A few seconds from committed records. The bf16 training runs behind it took
# minutes on the lent GPU and up to an hour each on a 2-core CPU with bf16 instructions
# (`timing.wall_s` in each record).
#
# **What you will learn.** Whether bf16 training moves the test AUC by more than training with
# another seed does; how much faster it is on this CPU; and why precision is part of a run's
# identity anyway.
#
# ```{admonition} Run it yourself
# :class: tip
# `python -m helpers sweep configs/paper.yaml --only=-bf16-` trains the bf16 runs that are
# missing (the float32 partners are block 2's), then
# `python -m helpers notebooks configs/book.yaml --only 05`.
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
import json

from IPython.display import Markdown, display
from myst_nb import glue

from helpers import config
from helpers.chapters import multiplicity
from helpers.chapters import precision_parity as parity
from helpers.chapters import results_prose as prose
from helpers.chapters.figures import sharp_figures
from helpers.chapters.formatting import format_p, styled
from helpers.runs import records

sharp_figures()  # 2× PNG figures, sharp on high-density screens

# %% tags=["parameters"]
results_dir = "results/paper"
device_dir = "results/device-parity"  # scripts/device_sweep.py collect --duplicates-dir
bench_file = "results/benchmarks/precision-cpu.json"  # scripts/benchmark.py --precision --out
emulated_file = "results/benchmarks/precision-cpu-avx2.json"  # the same on a CPU without bf16

# %% [markdown]
# (05_precision_parity-s1)=
# ## Seed by seed: the same run in two precisions
#
# Each row pairs two records that differ only in `precision`. The AUCs are compared with the
# paired DeLong test on the same {glue:text}`parity_n_images:d` test images; "same label" is the
# share of test images that get the same class at the 0.5 threshold; "bf16 on" names the
# machine of the bf16 run (every float32 run here was trained on the CPU).

# %% tags=["hide-input"]
recs = records.load_records(config.results_dir(results_dir))  # resolved from any cwd
pairs = parity.precision_pairs(recs)
shown = pairs.assign(**{"ΔAUC": pairs["delta_auc"].map("{:+.3f}".format),
                        "p": pairs["p_delong"].map(format_p),
                        "same label": pairs["label_agreement"].map("{:.1%}".format)})
shown = shown.rename(columns={"preprocessing": "prep.", "auc_ref": "AUC fp32",
                              "auc_cand": "AUC bf16", "device_cand": "bf16 on"})
cols = ["model", "resolution", "prep.", "seed", "AUC fp32", "AUC bf16", "ΔAUC", "p", "same label",
        "bf16 on"]
display(styled(shown[cols], "parity-seeds"))

# %% [markdown]
# (05_precision_parity-s2)=
# ## Per configuration: inside the seed-to-seed spread?
#
# A change of precision is harmless for this book's purposes if it moves the AUC less than
# changing the seed does. The rule, fixed before the runs: parity *holds* for a configuration
# when |mean ΔAUC| over the seeds is at most the standard deviation of the float32 seeds' AUCs
# **and** the two seed ensembles (mean probability over seeds) do not differ by the paired
# DeLong test at the 0.05 level.
#
# That rule has a flaw a reviewer would point out: "does not differ" is easier to pass the
# fewer seeds there are, so it cannot show sameness. The table therefore also gives the
# equivalence test (its margin fixed from the seed spread of the existing records, before any
# equivalence test was run): the seed-aware (OR–Hillis, seeds as readers)
# difference bf16 − float32 with its 90 % interval, the two one-sided tests against a margin
# of ±{glue:text}`parity_margin:.2f` in AUC (about one seed-to-seed SD; `helpers.stats.equivalence`),
# and Holm's adjustment over the {glue:text}`parity_n_cells` cells, one family, for both the
# difference and the equivalence test. Its verdict is one of *lower*, *higher* (a difference
# after Holm), *equivalent* (the equivalence test rejects after Holm) or *inconclusive*
# (neither).

# %% tags=["hide-input"]
cells = parity.parity_by_cell(recs)
display(styled(parity.cell_table(cells), "parity-cells"))

# %% tags=["remove-cell"]
for name, value in parity.parity_values(pairs, cells).items():
    glue(name, value, display=False)
prose.glue_values(multiplicity.family_values("05_parity", cells, [], p="or_p"))
prose.glue_md("parity_verdict", parity.verdict(cells))

# %% [markdown]
# (05_precision_parity-s3)=
# ## Verdict

# %% tags=["remove-input"]
display(Markdown(parity.verdict(cells)))

# %% [markdown]
# Across the {glue:text}`parity_n_pairs` paired runs the largest per-seed AUC change is
# {glue:text}`parity_max_abs_delta:.3f`, and the most significant per-seed paired DeLong test has
# {glue:text}`parity_min_p_txt`. How much faster bf16 trains is measured by the benchmark
# (`python scripts/benchmark.py --precision`, README), not from these runs' wall times: the bf16
# runs shared the CPU with other work, so their wall times say nothing about speed. With nothing
# else running, bf16 trained ResNet50 {glue:text}`bf16_train_min_resnet50:.2f`–
# {glue:text}`bf16_train_max_resnet50:.2f` times as fast as float32 on this CPU, but MobileNet
# only {glue:text}`bf16_train_min_mobilenet:.2f`–{glue:text}`bf16_train_max_mobilenet:.2f` times
# (synthetic input, all layers trained, batch 32): oneDNN's bf16 kernels pay off for ResNet50's
# dense convolutions, not for MobileNet's depthwise ones. So the MobileNets' remaining cells ran
# in float32 whatever their verdict above (there is no speed to gain), and ResNet50's in bf16
# because its own parity cells (ResNet50 at 64 px, both preprocessings: block 3b of
# `configs/paper.yaml`, the gate for its bf16 cells) hold by the rule above. That gate is the
# declared rule's, not an equivalence: {glue:text}`parity_n_equiv` of the
# {glue:text}`parity_n_cells` cells are shown equivalent within ±{glue:text}`parity_margin:.2f`
# (ResNet50 64 px with [0, 1] inputs: 90 % interval
# {glue:text}`par_resnet50_64_unit_eq_lo:+.3f` to {glue:text}`par_resnet50_64_unit_eq_hi:+.3f`),
# so ResNet50's bf16 cells in {doc}`04_results` carry a precision whose effect on AUC is not excluded
# beyond a few hundredths; the results chapter marks them as bf16, and the GPU grid (float32, five seeds)
# is what will replace them.
# {glue:text}`parity_gate_n_gpu` of those {glue:text}`parity_gate_n` bf16 runs were trained on
# the GPU (the "bf16 runs on" column; {ref}`05_precision_parity-s4` compares the machines).

# %% tags=["hide-input"]
bench = config.results_dir(bench_file)
if not bench.is_file():
    raise FileNotFoundError(f"{bench_file} not found: make it with `python scripts/benchmark.py "
                            f"--precision --no-pipeline --no-sweep --out {bench_file}`")
speed = parity.speed_table(json.loads(bench.read_text()))
prose.glue_values(parity.speed_values(speed))
display(styled(speed, "parity-speed", precision=2))

# %% tags=["hide-input"]
emu = config.results_dir(emulated_file)
if not emu.is_file():
    raise FileNotFoundError(f"{emulated_file} not found: on a CPU without bf16 make it with "
                            "`python scripts/benchmark.py --precision --no-pipeline --no-sweep "
                            f"--models resnet50 --resolutions 128 --out {emulated_file}`")
emu_bench = json.loads(emu.read_text())
prose.glue_values(parity.emulation_cost(emu_bench, recs))
glue("emu_cpu", f"{emu_bench['cpu']['model']}: {', '.join(emu_bench['cpu']['simd'])}",
     display=False)

# %% [markdown]
# **Where the CPU has no bf16 instructions.** A later session's machine had vector extensions
# up to AVX2 only ({glue:text}`emu_cpu`; no AVX-512): there oneDNN has no bf16 kernels and
# TensorFlow falls back to slow generic ones. The same benchmark on it (`emulated_file`), with
# a run's size taken from the ResNet50 128 px full-regime records: float32 trained
# {glue:text}`emu_fp32_img_s:.1f` images/s, `mixed_bfloat16` {glue:text}`emu_bf16_img_s:.1f`
# ({glue:text}`emu_train_ratio:.2f` times the float32 speed), so one 20-epoch run of ResNet50 at
# 128 px would train for {glue:text}`emu_run_h_bf16:.0f` hours there instead of
# {glue:text}`emu_run_h_fp32:.1f` in float32. That is why `precision: auto` chooses float32 on
# such CPUs, and why ResNet50's remaining bf16 cells (seeds 1–2 at 128–256 px, the results chapter's
# list of runs still to do) wait for a CPU with bf16 instructions or a GPU rather than run
# emulated. Running them in float32 instead would make them other cells (see the end of this
# chapter) and leave each of them with a mix of arithmetics across its seeds.

# %% [markdown]
# (05_precision_parity-s4)=
# ## The same run on two machines: CPU (TensorFlow) and GPU (JAX)
#
# One session had a GPU lent for 15 minutes (one NVIDIA H200). `scripts/device_sweep.py` ran
# the sweep's missing full-regime cells there with Keras's JAX backend (no TensorFlow on that
# machine), in the same precision per cell, from a copy of the code checked file by file
# against its commit; records from it say so (`provenance.gpu`, `provenance.keras_backend`).
# Runs that already had a CPU record were trained again there as a check (a CPU run that
# finished after its GPU twin is kept the same way). Each row is one run id (same identity, seed and precision)
# on two machines; the second machine's record is kept in `device_dir`.

# %% tags=["hide-input"]
other = config.results_dir(device_dir)
other_recs = records.load_records(other) if other.is_dir() else []
twins = parity.machine_pairs(recs, other_recs)
display(styled(parity.twin_table(twins), "parity-machines"))
prose.glue_values(parity.twin_values(twins, cells))
prose.glue_values(parity.cell_values(cells, "par"))  # the per-configuration cells, for the prose below
prose.glue_values(parity.cell_values(parity.parity_by_cell(parity.with_twins(recs, other_recs)),
                                     "twindraw"))  # the same cells with the twins swapped in

# %% [markdown]
# The {glue:text}`twin_n` runs trained on both machines differ by at most
# {glue:text}`twin_max_abs_delta:.3f` in test AUC (smallest paired DeLong
# {glue:text}`twin_min_p_txt`), and they give the same label to at least
# {glue:text}`twin_min_agree:.1%` of the test images. A run id does not make two machines draw
# the same model: Keras seeds its initialisers and dropout through the backend's own random
# generator, so the same seed on TensorFlow and on JAX draws a different initial head and
# different dropout masks, and the kernels differ too. Across machines a seed is another draw,
# and a twin's difference is to be read against the seed-to-seed spread of its cell, not
# against zero. The largest one ({glue:text}`twin_worst_run`) is
# {glue:text}`twin_worst_in_sd:.1f` times the standard deviation of that cell's float32 seeds
# ({glue:text}`twin_worst_seed_sd:.3f`): ResNet50 fine-tuned at 64 px mostly stays at the
# constant answer ({doc}`11_beyond_auc`), and the ranking left in such a model moves a lot from one draw
# to the next. {glue:text}`twin_n` twins are too few to say more, but they matter for the bf16
# gate: with the GPU's draws of those seeds swapped in, the mean ΔAUC of ResNet50 at 64 px with
# [0, 1] inputs is {glue:text}`twindraw_resnet50_64_unit_mean_delta:+.3f` instead of
# {glue:text}`par_resnet50_64_unit_mean_delta:+.3f`, against a float32 seed SD of
# {glue:text}`par_resnet50_64_unit_seed_sd:.3f`, and parity by the rule of {ref}`05_precision_parity-s2`
# {glue:text}`twindraw_resnet50_64_unit_verdict` (with the committed draws it
# {glue:text}`par_resnet50_64_unit_verdict`). So a cell's seeds should come from one machine
# where possible, and a GPU run is another draw, not a copy, of a CPU run. On
# the CPU the same seed gives the same predictions (TensorFlow with op determinism); the GPU
# runs asked XLA for deterministic ops, which no second GPU run has checked yet. The records
# keep each run's machine, so no number is read as the other's; GPU records' latencies timed
# the GPU and are left out of every latency column of the book ({doc}`11_beyond_auc` keeps CPU
# latencies only).

# %% [markdown]
#
# **Why precision is still part of a run's identity.** Parity here is statistical, not
# bitwise: bf16 runs of one seed give other predictions than float32 runs (the "same label"
# column is not 100 %), so a record must say which arithmetic produced its numbers, and a
# float32 re-run on a CPU without bf16 gets a run id of its own. A run id that omitted it
# would let the sweep skip a float32 run because a bf16 record exists, and "same seed, same
# metrics" would no longer hold. Records made before the setting existed are float32 and
# keep their run ids (float32 is left out of the identity hash).

# %% [markdown]
# ## What we found
#
# * **By the declared rule, bf16 parity holds in {glue:text}`parity_n_hold` of the
#   {glue:text}`parity_n_cells` cells**, among them both ResNet50 64 px cells that gate its bf16
#   runs ("{glue:text}`par_resnet50_64_unit_verdict:s`" with [0, 1] inputs,
#   "{glue:text}`par_resnet50_64_native_verdict:s`" with native ones); it fails for MobileNet
#   128 px with native inputs, whose float32 seeds agree so closely (SD
#   {glue:text}`par_mobilenet_128_native_seed_sd:.3f`) that a mean ΔAUC of
#   {glue:text}`par_mobilenet_128_native_mean_delta:+.3f` exceeds it.
# * **Parity is not equivalence:** {glue:text}`parity_n_equiv` of the
#   {glue:text}`parity_n_cells` cells are shown equivalent within
#   ±{glue:text}`parity_margin:.2f` in AUC (ResNet50 64 px, [0, 1]: 90 % interval
#   {glue:text}`par_resnet50_64_unit_eq_lo:+.3f` to {glue:text}`par_resnet50_64_unit_eq_hi:+.3f`),
#   so the bf16 cells of {doc}`04_results` carry a precision effect of a few hundredths that
#   these seeds cannot exclude.
# * **bf16 is worth it for ResNet50 only, and only on a CPU with bf16 instructions:** it trains
#   ResNet50 {glue:text}`bf16_train_min_resnet50:.2f`–{glue:text}`bf16_train_max_resnet50:.2f`
#   times as fast as float32 but MobileNet
#   {glue:text}`bf16_train_min_mobilenet:.2f`–{glue:text}`bf16_train_max_mobilenet:.2f` times, and emulated on an AVX2 CPU it runs at
#   {glue:text}`emu_train_ratio:.2f` times the float32 speed ({glue:text}`emu_run_h_bf16:.0f` h
#   instead of {glue:text}`emu_run_h_fp32:.1f` h for one ResNet50 128 px run).
# * **A GPU run is another draw, not a copy, of a CPU run:** the {glue:text}`twin_n` runs
#   trained on both machines differ by up to {glue:text}`twin_max_abs_delta:.3f` in test AUC,
#   {glue:text}`twin_worst_in_sd:.1f` times the seed SD of their cell, and with the GPU's draws
#   swapped in, parity for ResNet50 64 px with [0, 1] inputs
#   {glue:text}`twindraw_resnet50_64_unit_verdict`.
#
# ## Next
#
# {doc}`10_or_hillis_size` asks whether the seed-aware test that every comparison of the book
# uses keeps its nominal error rate with only two to five seeds per cell.
