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
# # Appendix: does the seed-aware test keep its error rate with three seeds?
#
# **Purpose.** Every comparison between two configurations in this book treats the training
# seeds as random readers and the test images as random cases, with the
# Obuchowski–Rockette analysis and Hillis's degrees of freedom {cite}`hillis2007comparison`.
# That test is built for many readers; the book has two to five seeds per cell. This appendix
# measures, by simulation, how often the test rejects a true null hypothesis at those seed
# counts (its *size*; 0.05 is the target), and what a floor on the seed-interaction variance
# would change in the results chapter.
#
# **Parameters** (papermill): `size_file` (the simulation record of
# `scripts/or_hillis_size.py`), `results_dir`, `dataset`, `task` (the results chapter's run
# records).
#
# **Prerequisites.** {doc}`04_results` (the seed-aware tests and their families).
#
# **Time to run.** A few seconds from the committed simulation record (the simulation itself,
# `python scripts/or_hillis_size.py --reps 20000 --seed 2025`, takes about a minute).
#
# **What you will learn.** How liberal or conservative the book's tests are at 2, 3 and 5
# seeds; which verdict of the results chapter would change with a constrained denominator.
#
# ```{admonition} Run it yourself
# :class: tip
# `python scripts/or_hillis_size.py --reps 20000 --seed 2025` re-simulates (it reads the
# covariances from the committed records), then
# `python -m helpers notebooks configs/book.yaml --only 10_or_hillis`.
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
    get_ipython().run_line_magic("pip", "install -q .[tf]")  # noqa: F821

# %% tags=["hide-input", "nbval-ignore-output"]
from myst_nb import glue

from helpers import config
from helpers.analysis import or_hillis_size as S
from helpers.chapters import results
from helpers.chapters import results_prose as prose
from helpers.chapters.figures import sharp_figures
from helpers.chapters.formatting import format_p, styled
from helpers.runs.records import read_json

sharp_figures()  # 2× PNG figures, sharp on high-density screens

# %% tags=["parameters"]
size_file = "results/stats/or_hillis_size.json"
results_dir = "results/paper"
dataset = "isic2017"  # the results chapter's data set and task
task = "melanoma"

# %% [markdown]
# ## 1. The simulation
#
# For each source (a pair of configurations of the book whose covariances were estimated from
# its records: ISIC 2017 MobileNet 64 vs 128 px in both regimes and preprocessings, and Kermany
# MobileNetV2 64 vs 128 px frozen and fine-tuned), the null hypothesis is made true: the two
# configurations' AUCs are drawn with the same mean, with the source's image-sampling
# covariances and a seed-interaction variance σ²_TR set four ways (zero, the source's own
# estimate, the estimate pooled over its family, four times the image-sampling floor). The
# covariance estimates the test uses are drawn too (the source's number of test images). Each
# row is 20,000 simulated comparisons; the Monte Carlo standard error of a rate near 0.05 is
# about 0.0015. *published* is the test as the book runs it; *σ²_TR ≥ 0* floors the
# seed-interaction mean square at what image sampling alone implies.

# %% tags=["hide-input"]
sizes = S.size_table(read_json(config.results_dir(size_file)))
wide = sizes.pivot_table(index=["source", "setting"], columns="seeds",
                         values=["hillis", "constrained"])
wide.columns = [f"{'published' if m == 'hillis' else 'σ²_TR ≥ 0'}, {r} seeds"
                for m, r in wide.columns]
wide = wide[[c for r in (2, 3, 5) for c in (f"published, {r} seeds", f"σ²_TR ≥ 0, {r} seeds")]]
prose.glue_values(S.size_range(sizes))
styled(wide.reset_index(), "size-table", precision=3)

# %% [markdown]
# At five seeds the published test holds its size: it rejects a true null in
# {glue:text}`size_hillis_5_min:.3f` to {glue:text}`size_hillis_5_max:.3f` of the simulations.
# At three seeds, the book's usual number, it is nominal to liberal:
# {glue:text}`size_hillis_3_min:.3f` to {glue:text}`size_hillis_3_max:.3f`, the high end where
# the seed interaction is large against the image-sampling variance (fine-tuned networks,
# whose seeds disagree most). At two seeds it reaches {glue:text}`size_hillis_2_max:.3f`. The
# floor σ²_TR ≥ 0 lowers the worst case only a little at three seeds
# ({glue:text}`size_constrained_3_max:.3f`) and makes the test conservative where the seed
# interaction is small ({glue:text}`size_constrained_3_min:.3f`), so it is no remedy on its
# own: neither version keeps the size within 0.04–0.06 at three seeds for every source. The
# honest reading is that a "higher" or "lower" whose adjusted p lies just under 0.05 with three
# seeds is weaker evidence than its p suggests, and that the five-seed grid (on a GPU, still to
# run) is what brings these tests to their nominal error rate.
#
# ## 2. What the floor would change in the results chapter
#
# Every seed-aware comparison of {doc}`04_results`, with its Holm-adjusted p as published and
# with σ²_TR ≥ 0:

# %% tags=["hide-input"]
runs = results.load_runs(config.results_dir(results_dir), dataset=dataset, task=task)
changes = S.verdict_changes(runs)
glue("size_n_compared", len(changes), display=False)
glue("size_n_changed", int(changes["changes"].sum()), display=False)
shown = changes[changes["changes"]].assign(
    p_holm=lambda d: d["p_holm"].map(format_p),
    p_holm_constrained=lambda d: d["p_holm_constrained"].map(format_p))
styled(shown.rename(columns={"p_holm": "p (Holm)", "p_holm_constrained": "p (Holm), σ²_TR ≥ 0",
                             "resolution": "px"}).drop(columns="changes"), "size-changes")

# %% [markdown]
# Of the {glue:text}`size_n_compared` comparisons, {glue:text}`size_n_changed` would change
# side of 0.05 with the floor (listed above). The book keeps the published test, whose size the
# table of section 1 documents, and reads that comparison as borderline.

# %% tags=["remove-cell"]
# which comparison the floor moves across 0.05, for the findings below
moved = changes[changes["changes"]]
glue("size_changed_txt", "; ".join(
    f"{r.family} at {r.resolution} px (adjusted p {format_p(r.p_holm)} with the published test, "
    f"{format_p(r.p_holm_constrained)} with the floor)" for r in moved.itertuples()) or "none",
    display=False)

# %% [markdown]
# ## What we found
#
# * **At five seeds the published test keeps its size:** it rejects a true null in
#   {glue:text}`size_hillis_5_min:.3f` to {glue:text}`size_hillis_5_max:.3f` of the simulations.
# * **At three seeds, the book's usual number, it is nominal to liberal**
#   ({glue:text}`size_hillis_3_min:.3f` to {glue:text}`size_hillis_3_max:.3f`, the high end where
#   fine-tuned seeds disagree most), and at two seeds it reaches
#   {glue:text}`size_hillis_2_max:.3f`: an adjusted p just under 0.05 with three seeds is
#   borderline evidence.
# * **Flooring the seed interaction at σ²_TR ≥ 0 is no remedy:** it lowers the three-seed worst
#   case only to {glue:text}`size_constrained_3_max:.3f` and makes the test conservative where
#   seeds agree ({glue:text}`size_constrained_3_min:.3f`).
# * **The floor would move {glue:text}`size_n_changed` of the {glue:text}`size_n_compared`
#   comparisons of {doc}`04_results` across 0.05:** {glue:text}`size_changed_txt`; the book
#   keeps the published test and reads what the floor moves as borderline.
#
# ## Next
#
# {doc}`../references` lists the works cited in the book.
