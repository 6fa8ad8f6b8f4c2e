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
# # The data: ISIC 2017 instead of a private acne set
#
# **Purpose:** load the public stand-in for the main paper's {cite}`achar2025resolution`
# private acne photos, ISIC 2017 Part 3 dermoscopy {cite}`codella2018isic` (binary tasks,
# official splits), and show everything the loader did to it.<br>
# **Parameters:** `dataset` (`isic2017`, `kermany`, `pneumoniamnist` or `folder`), `task`
# (`None` = the data set's default), `resolutions` (input sizes in px), `seed` (split and
# subsampling seed), `data_root` (`None` = `RESBOOK_DATA_DIR`) and `balanced_eval` (count the
# balanced val/test sets).<br>
# **Prerequisites:** the data set under the data root (see [the data page](../data.md)); no
# network access once it is there.<br>
# **Time to run:** about 10 s on a 2-core CPU once the decoded images are cached; the first run
# decodes every JPEG (a few minutes).
#
# **What you will learn**
#
# * where the files come from and how many images each split and class has;
# * which duplicate images were found and dropped before any split was used, and which files
#   were skipped;
# * what the paper-style balanced evaluation sets look like, and what the images look like at
#   the four input sizes of the study ({numref}`fig-data-input-sizes`, the paper's Fig. 1).
#
# :::{admonition} Run it yourself
# :class: tip
# Execute `notebooks/01_data.py` with papermill (see [Reproducibility](../reproducibility.md))
# and change `dataset`, `task` or `resolutions`.
# With `dataset="folder"` and `data_root` pointing at a folder of class sub-folders (e.g. your
# own Acne/Normal photos) the same chapter describes your data.
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

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from helpers.chapters.data_figures import duplicate_summary, duplicates_table, sample_grid
from helpers.chapters.figures import sharp_figures
from helpers.chapters.found_values import data_found
from helpers.data import list_datasets, load_dataset, validate_data_params
from helpers.nbparams import check_injected, globals_snapshot

sharp_figures()  # 2× PNG figures, sharp on high-density screens

pd.set_option("display.max_colwidth", 80)
_globals_before_parameters = globals_snapshot(globals())  # see check_injected below

# %% tags=["parameters"]
dataset = "isic2017"
task = None
resolutions = [64, 128, 224, 256]
seed = 0
data_root = None
balanced_eval = False

# %% tags=["remove-input"]
check_injected(globals(), _globals_before_parameters,  # a typo'd papermill parameter stops here
               ["dataset", "task", "resolutions", "seed", "data_root", "balanced_eval"])

# %% [markdown]
# ## The registry
# Four data sets are registered; the first task listed is each one's default.

# %% tags=["hide-input"]
pd.DataFrame(
    [{"dataset": k, "tasks": ", ".join(v)} for k, v in list_datasets().items()]
).set_index("dataset")

# %% [markdown]
# ## Where the data comes from
# The loader reads the data set below the data root (shown relative to it: the root itself
# differs between machines). Loading at the largest size decodes each file once; the decoded
# arrays are cached on disk, keyed by a fingerprint of the source files, so later chapters do not
# decode the JPEGs again.

# %%
validate_data_params(dataset, task, resolutions, seed, data_root, balanced_eval)
ds = load_dataset(dataset, task=task, resolution=max(resolutions), data_root=data_root,
                  seed=seed, balanced_eval=balanced_eval)
rep = ds.report

# %% [markdown]
# What was loaded: the class names, the folder below the data root, how the splits were made,
# and the fingerprint of the source files that names the cache and goes into every run record.

# %% tags=["hide-input"]
display(Markdown(f"**{ds.name}**, task **{ds.task}**: class 0 = `{ds.class_names[0]}`, "
                 f"class 1 = `{ds.class_names[1]}`; source `{rep.source}`; split strategy "
                 f"`{rep.split_strategy}`; data fingerprint `{ds.fingerprint[:16]}`"))
for note in rep.notes:
    print("note:", note)

# %% [markdown]
# ## Images per split and class
# Counts after duplicate removal. ISIC's classes are unbalanced: melanoma is about one image in
# five, which matters for accuracy (a model saying "benign" always scores about 0.8) and is why
# the book reports AUC, sensitivity and specificity next to accuracy.

# %%
rep.to_frame()

# %% [markdown]
# ## Duplicates found and removed
# Byte-identical files share a sha256. Near-identical files (the same lesion re-imaged or
# colour-processed) have a 64-bit perceptual hash within a small Hamming distance *and* nearly the
# same 32x32 grey thumbnail (correlation of at least 0.95). The policy keeps the copy that sits in
# the evaluation split (test before val before train) and drops the others; when the copies'
# labels disagree every copy is dropped. For chest X-rays the near search is only reported:
# thumbnails of different patients' radiographs look alike.

# %% tags=["hide-input"]
display(duplicate_summary(rep))
print(f"{len(rep.removed_ids)} images removed in total "
      f"(near-duplicate action: {rep.near_dup_action}, pHash distance <= {rep.near_dup_threshold})")
glue("data_n_removed", len(rep.removed_ids), display=False)  # cited by the discussion

# %% [markdown]
# The groups one by one: the images of each group, the splits they came from, their largest
# pHash distance (0 for byte-identical files) and the copy that was kept; the others were
# dropped.

# %%
duplicates_table(rep)

# %% [markdown]
# ## The evaluation sets
# The official validation and test sets are used as published (minus duplicates). The paper
# evaluated on a class-balanced set; `balanced_eval=True` gives the same kind of set here:
# val and test subsampled (seeded) to equal class counts, train untouched.

# %%
balanced = load_dataset(dataset, task=task, resolution=min(resolutions), data_root=data_root,
                        seed=seed, balanced_eval=True)
official = load_dataset(dataset, task=task, resolution=min(resolutions), data_root=data_root,
                        seed=seed, balanced_eval=False)
pd.concat({"as published": official.report.to_frame(),
           f"balanced (seed {seed})": balanced.report.to_frame()}, axis=0)

# %% [markdown]
# ## Skipped files
# Files that are not images, or images that cannot be decoded, are never dropped silently: they
# are listed here with the reason (an empty table means nothing was skipped).

# %%
rep.skipped_frame()

# %% [markdown]
# ## The same images at the four input sizes (the paper's Fig. 1)
# In {numref}`fig-data-input-sizes` each column is the loader's own array at that size
# (bilinear downsampling, the method of the paper's Keras pipeline), drawn at the same physical
# size so that the loss of detail at 64 px shows as coarse pixels.

# %% mystnb={"figure": {"caption": "Two training images of each class (rows) at each input size of the study (columns), all drawn at the same physical size: look at the coarse pixels at the smallest size, where fine structure such as the pigment network and the ruler's ticks is lost, and at how little changes between the two largest sizes.", "name": "fig-data-input-sizes"}, "image": {"alt": "A four by four grid of dermoscopy photographs of skin lesions: rows are two benign lesions and two melanomas, columns the same image at 64, 128, 224 and 256 px, blocky at 64 px and smooth at the larger sizes"}}
fig = sample_grid(dataset, task=task, resolutions=resolutions, n_per_class=2, seed=seed,
                  data_root=data_root, panel_inches=2.0)
plt.show()

# %% tags=["remove-cell"]
# The numbers "What we found" cites (counts after duplicate removal; the official splits).
for name, value in data_found(rep, balanced.report).items():
    glue(name, value, display=False)

# %% [markdown]
# ## What we found
#
# * After duplicate removal the official splits hold {glue:text}`data_n_train:,d` training,
#   {glue:text}`data_n_val` validation and {glue:text}`data_n_test` test images; melanoma is
#   {glue:text}`data_pct_pos_train:.1f` % of the training and {glue:text}`data_pct_pos_test:.1f` %
#   of the test images, so a model that calls every lesion benign already has a test accuracy of
#   {glue:text}`data_majority_test:.3f`.
# * The loader removed {glue:text}`data_n_removed` images in {glue:text}`data_n_groups` duplicate
#   groups ({glue:text}`data_n_exact_groups` byte-identical, {glue:text}`data_n_near_groups`
#   near-identical); {glue:text}`data_n_cross` of the groups joined a training image to a
#   validation or test image, copies that would otherwise have shown the networks evaluation
#   lesions during training.
# * The paper's kind of balanced evaluation set keeps the {glue:text}`data_n_test_pos` test
#   melanomas and as many benign lesions ({glue:text}`data_n_bal_test` test and
#   {glue:text}`data_n_bal_val` validation images); the book's runs are evaluated on the full
#   official splits instead, so their accuracies are not comparable with the paper's.
# * {glue:text}`data_n_skipped` files were skipped (not images, or not decodable). The images are dermoscopy
#   photographs of melanoma and other lesions, not the paper's private acne photos: the later
#   chapters test the paper's method and its resolution claim, not its published numbers.
#
# ## Next
#
# {doc}`02_separable_cost` derives what a standard and a depthwise-separable convolution cost, and
# measures what MobileNet and ResNet50 cost at these four input sizes, before any model is
# trained.
