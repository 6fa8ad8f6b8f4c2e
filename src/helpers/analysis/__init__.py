"""Runs → tables of numbers (no words, no plotting, no notebook display).

One module per question: :mod:`~helpers.analysis.compare` and
:mod:`~helpers.analysis.inference` (paired and seed-aware tests, Holm per family),
:mod:`~helpers.analysis.clinical` and :mod:`~helpers.analysis.diagnostics` (operating points,
calibration, fit), :mod:`~helpers.analysis.parity` (bf16 vs float32),
:mod:`~helpers.analysis.chest_xray` (Part II), :mod:`~helpers.analysis.deployment`,
:mod:`~helpers.analysis.external_site`, :mod:`~helpers.analysis.external_ablations`,
:mod:`~helpers.analysis.geometry_evidence` (another hospital's images) and
:mod:`~helpers.analysis.or_hillis_size` (the size appendix).
"""
