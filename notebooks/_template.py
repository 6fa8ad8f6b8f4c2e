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
# # Title: the question this chapter answers
#
# **Purpose.** One or two sentences: which claim of which paper this chapter checks or extends,
# with a citation, e.g. {cite}`achar2025resolution`.
#
# **Parameters** (papermill; set in `configs/book.yaml`): `results_dir` (run records to read),
# `dataset`, `task`. Say what each one changes.
#
# **Prerequisites.** Chapters or sweeps whose outputs this one reads (e.g. "the records of
# `configs/paper.yaml`, committed under `results/paper/`"), and the concepts a reader needs.
#
# **Time to run.** On a 2-core CPU: about N s from committed records (state what dominates).
#
# **What you will learn.** Two or three bullet points, each a result the reader can check.
#
# ```{admonition} Run it yourself
# :class: tip
# Open this page on Binder or Colab (rocket icon above), or run
# `python -m helpers notebooks configs/book.yaml --only NN_topic --force`. Change `results_dir`
# to read your own sweep's records (`python -m helpers sweep YOUR.yaml`).
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
# Plumbing (imports, settings) is collapsed on the page; keep it short.
from myst_nb import glue

from helpers.runs import records

# %% tags=["parameters"]
results_dir = "results/paper"
dataset = "isic2017"
task = "melanoma"

# %% [markdown]
# (NN_topic-first-step)=
# ## A section per step, prose first
#
# Headings are not numbered by hand (the TOC numbers them); to point at a section, give it a
# label as above and link it with {ref}`NN_topic-first-step`, never by a typed number.
#
# Say what the next cell computes and why; the code that *is* the method stays visible.

# %% tags=["hide-input"]
runs = records.load_records(results_dir)
glue("n_runs", len(runs), display=False)

# %% [markdown]
# The prose cites glued numbers, e.g. {glue:text}`n_runs` run records, never typed-in ones.
