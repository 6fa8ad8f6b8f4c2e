"""The only place that makes words, Markdown, figures, table styles and glue names.

One number formatter and table style (:mod:`~helpers.chapters.formatting`), one wording rule
for a comparison (:mod:`~helpers.chapters.verdicts`), and a module per chapter named by its
subject (``results``, ``precision_parity``, ``deployment``, ``chest_xray``, ``external_site``,
``separable_cost``, ...); a chapter module re-exports the analysis it words, so a chapter imports
one module. The claims the prose makes are checked from :mod:`~helpers.chapters.claims`.
"""
