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
# # Training one model: the paper's protocol, one run, one record
#
# **Purpose:** train one network on one data set at one input resolution with the protocol of
# the main paper {cite}`achar2025resolution`, evaluate it, measure its cost and write the whole
# *run record* (CONTRIBUTING.md) to `output_dir/records/<run_id>.json`. The sweep behind
# {doc}`04_results` runs this same notebook once per configuration; the book shows one small, fast example:
# MobileNet at 128 px with a frozen base (the paper fine-tunes every layer, `regime="full"`,
# which the sweep does).<br>
# **Parameters:** `dataset`, `task`, `model` (`mobilenet`, `mobilenetv2`, `resnet50`),
# `resolution` (px, ≥ 32), `regime` (`full`: every layer trained, the paper's; `frozen`: only
# the head, on cached ImageNet features; `partial`: the top `unfreeze_blocks` blocks too),
# `preprocessing` (`unit`: x/255, the paper's; `native`: the network's own ImageNet scaling),
# `epochs`, `batch_size`, `lr`, `seed`, `weights` (`"imagenet"`, `None` or a file),
# `early_stopping` and `patience_es` (a deviation, off by default), `balanced_eval`,
# `max_images` (a stratified subset per split, for smoke runs), `precision` (`float32`,
# `mixed_bfloat16`, or `auto`: bf16 where the hardware computes it natively), `geometry`
# (`squash`, `crop`, `pad`) and `resample` (`bilinear`, `area`, `bilinear_plain`, `nearest`): how
# every image becomes square, and the locations `data_root`, `weights_dir`, `cache_dir` (default:
# the `RESBOOK_*` environment variables), `output_dir`, and `external_root`/`external_masks` for
# an external test set and its lesion masks.<br>
# **Prerequisites:** the data of {doc}`01_data` and the ImageNet weights under `RESBOOK_WEIGHTS_DIR`
# (or network access for Keras to fetch them).<br>
# **Time to run:** under a minute on a 2-core CPU for the book's frozen example once its
# features are cached (the first run extracts them, a few minutes); a `full` run at 224 px takes
# hours.
#
# **What you will learn**
#
# * how a run is configured, checked and named (its id is a hash of its parameters);
# * what the paper's training protocol does, and how to read its learning curves;
# * how a model is evaluated (accuracy, F1, sensitivity, specificity, AUC) and costed, and what
#   the run record stores.
#
# :::{admonition} Run it yourself
# :class: tip
# Execute `notebooks/03_train.py` with papermill (see [Reproducibility](../reproducibility.md))
# and change `model`, `resolution`, `regime`, `precision` or `seed`, e.g.
# `parameters=dict(model="resnet50", resolution=224, regime="full")`; the record lands in
# `output_dir/records/`. `max_images=64` makes a smoke run of any configuration.
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

# %% tags=["hide-input", "nbval-ignore-output"]
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # oneDNN kernels on AVX2-only CPUs too

import keras
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display
from myst_nb import glue

from helpers.chapters.figures import sharp_figures
from helpers.chapters.found_values import train_found
from helpers.data import load_dataset
from helpers.runs import records
from helpers.training import params_from_namespace, run_training, save_record
from helpers.training.models import BLOCK_DOC
from helpers.training.params import check_injected, globals_snapshot

sharp_figures()  # 2× PNG figures, sharp on high-density screens

print("Keras", keras.__version__, "backend", keras.backend.backend())
_globals_before_parameters = globals_snapshot(globals())  # see check_injected below

# %% tags=["parameters", "hide-input"]
dataset = "isic2017"
task = "melanoma"
model = "mobilenet"
resolution = 128
regime = "full"
unfreeze_blocks = None
preprocessing = "unit"
epochs = 20
batch_size = 32
lr = 1e-3
seed = 0
weights = "imagenet"
early_stopping = False
patience_es = 10
balanced_eval = False
max_images = None
precision = "float32"
aug_rotation = 0.0
aug_hflip = False
aug_brightness = 0.0
aug_contrast = 0.0
class_weight = "none"
lr_schedule = "plateau"
unfreeze_layers = None
tta = 0
split_seed = None
external = None
val_fraction = None
geometry = "squash"
resample = "bilinear"
save_model = False  # keep the trained model in the cache (not part of the run's identity)
data_root = None
weights_dir = None
cache_dir = None
output_dir = "results/book-example"
external_root = None
external_masks = None

# %% [markdown]
# (03_train-s1)=
# ## Parameters, checked before anything runs
#
# `check_injected` stops a run given a parameter this notebook does not define (papermill
# would inject `resoluton=64` silently and train at the default), naming the closest valid
# name. `params_from_namespace` gathers the parameters above by name for `validate_params`, which
# rejects an unknown name, a wrong type (`resolution="128"`, `epochs=1.5`) or a value outside
# the allowed set (`model="vgg"`) with a message that names the parameter and what is allowed,
# before any data is loaded. The *identity* of the run is every parameter
# except the four locations; its hash ends the run id, so the same configuration always gets
# the same record file, on any machine.

# %% tags=["nbval-check-output"]
check_injected(globals(), _globals_before_parameters)  # a typo'd papermill parameter stops here
params = params_from_namespace(globals())  # every parameter above, by name, validated
identity = params.identity()
run_id = records.run_id(identity)
print("run id:", run_id)
display(pd.DataFrame({"value": [repr(v) for v in identity.values()]}, index=list(identity)))

# %% [markdown]
# What the training does with these parameters (the paper's protocol; the epoch count is ours,
# since the paper does not state one):
#
# * **Model**: the Keras ImageNet network without its classifier, then global average pooling,
#   Dropout(0.5) and one sigmoid unit. Pixels enter as values in [0, 255]; the preprocessing
#   is a layer inside the model, so the saved model is self-contained.
# * **Optimisation**: Adam at `lr`, binary cross-entropy, batches of 32, and
#   ReduceLROnPlateau on the validation loss (factor 0.2 after 5 epochs without improvement).
#   We default to 20 epochs: enough for up to three learning-rate reductions, affordable for
#   the whole sweep on a CPU.
# * **Regimes**: in `frozen` the ImageNet base is fixed, so its pooled features are computed
#   once, cached on disk, and reused by every run with the same images, network, resolution,
#   preprocessing and weights; only the 1,025 (MobileNet) or 2,049 (ResNet50) head parameters
#   learn. In `partial` the top blocks learn as well, with BatchNorm kept in inference mode.
# * **Reproducibility**: one seed fixes the initialisation, the dropout masks and the order
#   of the batches; on a CPU the same parameters give the same predictions. A run that is
#   killed resumes from its last completed epoch.
# * **Options used for the chest X-rays (Part II)**, all off by default, so earlier runs keep
#   their ids: seeded training augmentation (`aug_rotation` in degrees, `aug_hflip`,
#   `aug_brightness`, `aug_contrast`), `class_weight="balanced"` (weighted cross-entropy),
#   `lr_schedule` (`"plateau"` as above, `"cosine"` annealing per epoch, `"constant"`),
#   `unfreeze_layers` (regime `partial` by top layers instead of blocks) and `tta` (the mean
#   prediction over the image and `tta - 1` flipped/rotated copies; the record keeps both).

# %% tags=["nbval-check-output"]
print("a 'block' for partial fine-tuning of", params.model, "is", BLOCK_DOC[params.model])

# %% [markdown]
# (03_train-s2)=
# ## Data
#
# The images come from `helpers.data` ({doc}`01_data`) as uint8 arrays at the requested
# resolution, with duplicates removed before any split is used. The counts per split and
# class, and the data fingerprint that goes into the record, are:

# %% tags=["nbval-check-output"]
ds = load_dataset(params.dataset, task=params.task, resolution=params.resolution,
                  data_root=params.data_root, cache_dir=params.cache_dir, seed=params.seed,
                  balanced_eval=params.balanced_eval, max_images=params.max_images,
                  split_seed=params.split_seed, val_fraction=params.val_fraction,
                  geometry=params.geometry, resample=params.resample)
counts = pd.DataFrame(
    {s: ds.splits[s].class_counts() for s in ("train", "val", "test")},
    index=list(ds.class_names)).T
counts["total"] = counts.sum(axis=1)
display(counts)
print("data fingerprint:", ds.fingerprint[:16])

# %% [markdown]
# (03_train-s3)=
# ## Training
#
# `run_training` builds the model, trains it (printing one line per epoch when executed by
# papermill, a progress bar when interactive), predicts every validation and test image,
# and measures the model. Its log and timings vary from machine to machine, so this cell's
# output is not compared by the book's tests; on this page the per-epoch log is folded (open it
# below the cell), and the learning curves after it show the same epochs.

# %% tags=["nbval-ignore-output", "hide-output"]
try:
    record = run_training(params, dataset=ds)
except Exception as exc:
    # a failed run still leaves a record that says why (the sweep reads it)
    save_record(records.failure_record(identity, exc), params.output_dir)
    raise

# %% tags=["nbval-ignore-output"]
print(f"{record['timing']['epochs_run']} epochs in {record['timing']['train_s']:.1f} s; "
      f"run wall time {record['timing']['wall_s']:.1f} s")

# %% [markdown]
# The learning curves ({numref}`fig-train-learning-curves`): training and validation loss per
# epoch, and the learning rate that ReduceLROnPlateau set.

# %% tags=["hide-input", "nbval-ignore-output"] mystnb={"figure": {"caption": "Training and validation loss of this run per epoch (left) and the learning rate that ReduceLROnPlateau set (right, log scale): look at whether the validation loss flattens while the training loss keeps falling, the gap between them being overfitting, and at the steps down of the learning rate that follow each plateau.", "name": "fig-train-learning-curves"}, "image": {"alt": "Two line charts against epoch, one marker per epoch: left, binary cross-entropy of the training loss and of the validation loss; right, the learning rate on a log scale, a staircase that steps down"}}
hist = pd.DataFrame(record["history"]).set_index("epoch")
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
hist[["loss", "val_loss"]].plot(ax=axes[0], marker="o")
axes[0].set(xlabel="epoch", ylabel="binary cross-entropy", title="loss")
hist["lr"].plot(ax=axes[1], marker="o", logy=True)
axes[1].set(xlabel="epoch", ylabel="learning rate", title="learning rate")
fig.tight_layout()
plt.show()

# %% [markdown]
# (03_train-s4)=
# ## Evaluation
#
# Metrics at the 0.5 threshold with the positive class = the second class name
# (here the disease), plus the threshold-free AUC. Sensitivity is the share of positive images
# found, specificity the share of negative images correctly cleared. For the imbalanced
# ISIC melanoma task, accuracy alone rewards calling everything benign; AUC and the
# sensitivity/specificity pair show what the model really does.

# %% tags=["hide-input", "nbval-check-output"]
rates = ["accuracy", "f1", "sensitivity", "specificity", "auc"]
counts_cm = ["tn", "fp", "fn", "tp", "n"]
table = pd.DataFrame({s: record["metrics"][s] for s in ("val", "test")}).T
table = pd.concat([table[rates].astype(float).round(3), table[counts_cm].astype(int)], axis=1)
display(table)

# %% [markdown]
# (03_train-s5)=
# ## Cost
#
# The parameter counts and multiply-accumulates come from the counter of {doc}`02_separable_cost`; the saved size
# is the `.keras` file of the trained model without optimizer state; latency is the median of
# repeated predictions after a warm-up, per image at batch size 1 and at batch size 32, on
# this machine (so it is not compared by the tests).

# %% tags=["nbval-check-output"]
cost = record["cost"]
print(f"parameters {cost['params']:,}; trainable in this regime {cost['trainable_params']:,}; "
      f"MACs per image {cost['macs']:,}" if cost["macs"] is not None else
      f"parameters {cost['params']:,}; trainable {cost['trainable_params']:,}")

# %% tags=["hide-input", "nbval-ignore-output"]
timing = record["timing"]
display(pd.Series({
    "saved model size (MB)": round(cost["model_size_mb"], 2),
    "latency, batch 1 (ms/image)": round(record["latency_ms"]["batch1"], 2),
    "latency, batch 32 (ms/image)": round(record["latency_ms"]["batch32_per_image"], 2),
    "training throughput (images/s)": round(timing["train_images_per_s"] or 0, 1),
    "frozen features": timing.get("feature_cache", "not used"),
}, name="value").to_frame())

# %% [markdown]
# In the `frozen` regime the throughput counts only the head's training on cached features;
# the one-off feature extraction time is recorded separately (`timing.features_s`).
#
# (03_train-s6)=
# ## The run record
#
# Everything above, plus every per-image prediction with its image id (for paired tests
# between runs in {doc}`04_results`) and the provenance (code version, packages, machine, data
# fingerprint, weights file and its sha256), is written atomically as one JSON file.

# %% tags=["nbval-check-output"]
path = save_record(record, params.output_dir)
print("record written:", os.path.join(params.output_dir or "results", "records", path.name))
print("keys:", ", ".join(record))
print("weights:", record["provenance"]["weights_file"],
      (record["provenance"]["weights_sha256"] or "")[:12])

# %% tags=["remove-cell"]
# The numbers "What we found" cites, read from the record just written (names start with
# train_; the test AUC's interval is DeLong's, from the record's test predictions).
for name, value in train_found(record, hist, cost, params).items():
    glue(name, value, display=False)

# %% [markdown]
# ## What we found
#
# * This run ({glue:text}`train_model` at {glue:text}`train_resolution` px, regime
#   {glue:text}`train_regime`, seed {glue:text}`train_seed`) has a test AUC of
#   {glue:text}`train_test_auc_ci` (DeLong 95 % interval) on {glue:text}`train_n_test` test
#   images, and a validation AUC of {glue:text}`train_val_auc:.3f`.
# * At the 0.5 threshold it finds {glue:text}`train_test_tp` of the {glue:text}`train_test_pos`
#   test melanomas (sensitivity {glue:text}`train_test_sens:.3f`, specificity
#   {glue:text}`train_test_spec:.3f`); its accuracy, {glue:text}`train_test_acc:.3f`, is barely
#   above the {glue:text}`train_test_majority:.3f` of always answering "benign", which is why the
#   later chapters rank models by AUC and choose thresholds on the validation set.
# * ReduceLROnPlateau cut the learning rate {glue:text}`train_n_lr_cuts` times in
#   {glue:text}`train_epochs` epochs; the validation loss was lowest
#   ({glue:text}`train_val_loss_min:.3f`) at epoch {glue:text}`train_val_loss_best_epoch` and
#   ended at {glue:text}`train_val_loss_last:.3f`.
# * Only {glue:text}`train_trainable:,d` of the model's {glue:text}`train_params:,d` parameters learnt
#   here (regime {glue:text}`train_regime`; the paper trains every layer), and one AUC of one
#   seed at one size says nothing yet about the resolution trade-off. The model costs {glue:text}`train_gmacs:.3f` GMACs per
#   image and its saved file {glue:text}`train_size_mb:.1f` MB.
#
# ## Next
#
# {doc}`04_results` reads the records of the whole sweep, this run's configuration among them
# (every model, input size, regime and seed), and asks whether 128 px is the sweet spot the paper
# reports.
