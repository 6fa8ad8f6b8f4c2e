"""Pure numerics on arrays: the book's statistics (no records, no words, nothing of ours below).

* :mod:`~helpers.stats.delong`: AUC, DeLong variance and paired test, intervals, Holm;
* :mod:`~helpers.stats.mrmc`: Obuchowski–Rockette–Hillis, training seeds as readers;
* :mod:`~helpers.stats.mrmc_size`: that test's size under the OR model (the appendix);
* :mod:`~helpers.stats.equivalence`: two one-sided tests at a declared ΔAUC margin;
* :mod:`~helpers.stats.operating`, :mod:`~helpers.stats.calibration`,
  :mod:`~helpers.stats.metrics`, :mod:`~helpers.stats.ratios`: thresholds, calibration,
  classification metrics, AUC ratios between input sizes.
"""
