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
# counts (its *size*; 0.05 is the target), what a floor on the seed-interaction variance would
# change in the results chapter, and a conservative companion the book reports beside it: the
# generalized p-value {cite}`tsui1989generalized`.
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
# seeds; which verdicts of the results chapter would change with a constrained denominator or
# with the generalized p-value, and which are robust to the few-seed problem.
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
    get_ipython().run_line_magic("pip", "install -q .[tf,book]")  # noqa: F821

# %% tags=["hide-input", "nbval-ignore-output"]
from myst_nb import glue

from helpers import config
from helpers.analysis import or_hillis_size as S
from helpers.chapters import comparison_prose, results
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
# (10_or_hillis_size-s1)=
# ## The simulation
#
# For each source (a pair of configurations of the book whose covariances were estimated from
# its records: ISIC 2017 MobileNet 64 vs 128 px in both regimes and preprocessings, and Kermany
# MobileNetV2 64 vs 128 px frozen and fine-tuned), the null hypothesis is made true: the two
# configurations' AUCs are drawn with the same mean, with the source's image-sampling
# covariances (for Kermany with the child as the unit, as {doc}`08_findings_resolution` takes
# them) and a seed-interaction variance σ²_TR set four ways (zero, the source's own
# estimate, the estimate pooled over its family, four times the image-sampling floor). The
# covariance estimates the test uses are drawn too (from the source's number of sampling units:
# test images for ISIC, children for Kermany). Each
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
# (10_or_hillis_size-s2)=
# ## Why no F reference fixes three seeds, and a conservative companion
#
# With the image-sampling covariances known, a two-configuration comparison has two independent
# mean squares: MS(T), whose null expectation is λ + r·b, and MS(T×R), which estimates λ alone
# with r − 1 degrees of freedom (λ is the seed-interaction plus image-sampling variance of one
# seed's difference, b = Cov2 − Cov3 the image-sampling covariance between seeds). The null
# distribution of the F ratio therefore depends on the unknown r·b/λ, which two degrees of
# freedom barely estimate: Hillis's degrees of freedom (a Satterthwaite approximation) are
# liberal where r·b/λ is small, the floor conservative where it is large, and no single F
# reference is exact across it. The generalized p-value {cite}`tsui1989generalized` does not
# plug in an estimate of λ: it averages the χ²₁ tail of MS(T)/(λ + r·b) over λ's fiducial
# distribution, (r − 1)·MS(T×R)/W with W ~ χ²_{r−1} (`helpers.stats.mrmc_generalized`). It
# is the F(1, r − 1) test when b = 0 and the fixed-seed χ²₁ test when MS(T×R) = 0. Simulated
# exactly as above:

# %% tags=["hide-input"]
gen = sizes.pivot_table(index=["source", "setting"], columns="seeds", values="generalized")
gen.columns = [f"generalized, {r} seeds" for r in gen.columns]
styled(gen.reset_index(), "size-table-generalized", precision=3)

# %% [markdown]
# The generalized p-value never rejects a true null more often than
# {glue:text}`size_generalized_3_max:.3f` at three seeds (lowest {glue:text}`size_generalized_3_min:.3f`):
# it is conservative where the published test is liberal, at the price of power. At five seeds it
# reaches {glue:text}`size_generalized_5_max:.3f`, at 0.05 within Monte Carlo error, and at two it
# is very conservative (at most {glue:text}`size_generalized_2_max:.3f`), so it has little power there. The book therefore reports both: a "higher" or "lower" on
# which both agree is *robust* to the few-seed problem; one that only the published test finds
# is borderline.
#
# (10_or_hillis_size-s3)=
# ## What the floor and the generalized p-value would change in the results chapter
#
# Every seed-aware comparison of {doc}`04_results`, with its Holm-adjusted p as published, with
# σ²_TR ≥ 0 and by the generalized p-value (Holm in the same families); the rows where one of
# them falls on the other side of 0.05:

# %% tags=["hide-input"]
runs = results.load_runs(config.results_dir(results_dir), dataset=dataset, task=task)
changes = S.verdict_changes(runs)
glue("size_n_compared", len(changes), display=False)
glue("size_n_changed", int(changes["changes"].sum()), display=False)
glue("size_n_changed_generalized", int(changes["changes_generalized"].sum()), display=False)
robust = comparison_prose.robustness([changes], generalized="p_holm_generalized")
for name in ("found", "robust", "not_robust"):  # of the differences the published test finds
    glue(f"size_n_{name}", robust[name], display=False)
shown = changes[changes["changes"] | changes["changes_generalized"]]
shown = shown.assign(**{c: shown[c].map(format_p)
                        for c in ("p_holm", "p_holm_constrained", "p_holm_generalized")})
styled(shown.rename(columns={"p_holm": "published", "p_holm_constrained": "σ²_TR ≥ 0",
                             "p_holm_generalized": "generalized", "resolution": "px"})
       .drop(columns=["changes", "changes_generalized"]), "size-changes")

# %% [markdown]
# Of the {glue:text}`size_n_compared` comparisons, {glue:text}`size_n_changed` would change
# side of 0.05 with the floor and {glue:text}`size_n_changed_generalized` with the generalized
# p-value (listed above). Of the {glue:text}`size_n_found` differences the published test finds,
# the generalized p-value confirms {glue:text}`size_n_robust` (robust) and not
# {glue:text}`size_n_not_robust` (not robust). The book words its verdicts by the published test,
# whose size {ref}`10_or_hillis_size-s1` documents, and says where a verdict is not robust.

# %% tags=["remove-cell"]
# which comparison the floor moves across 0.05, for the findings below
moved = changes[changes["changes"]]
glue("size_changed_txt", "; ".join(
    f"{r.family} at {r.resolution} px (adjusted p {format_p(r.p_holm)} with the published test, "
    f"{format_p(r.p_holm_constrained)} with the floor)" for r in moved.itertuples()) or "none",
    display=False)
glue("size_changed_generalized_txt", robust["text"], display=False)

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
# * **The generalized p-value is the conservative companion:** at three seeds its size is
#   {glue:text}`size_generalized_3_min:.3f` to {glue:text}`size_generalized_3_max:.3f`, never
#   above 0.05. Of the {glue:text}`size_n_found` differences the published test finds among the
#   {glue:text}`size_n_compared` comparisons of {doc}`04_results`, it confirms
#   {glue:text}`size_n_robust`; {glue:text}`size_n_not_robust` are reported as not robust:
#   {glue:text}`size_changed_generalized_txt`.
# * **The floor would move {glue:text}`size_n_changed` comparison across 0.05**
#   ({glue:text}`size_changed_txt`). No published correction holds the size within 0.04–0.06
#   at three seeds for every source; five seeds per cell (the GPU grid still to run) would.
#
# ## Next
#
# {doc}`../references` lists the works cited in the book.
