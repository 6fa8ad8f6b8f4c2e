"""Run records: the only code that opens one (layer above data and stats).

* :mod:`~helpers.runs.records`: run ids, writing and reading a record;
* :mod:`~helpers.runs.provenance`: code, package, data and machine provenance of a run;
* :mod:`~helpers.runs.frames`: records → one DataFrame row per run, configurations, labels;
* :mod:`~helpers.runs.align`: several runs' predictions joined by image id.
"""
