"""Helpers for the book "Image resolution vs accuracy and cost" (one package, every chapter).

Notebooks tell the story; the functions here do the work. Each public helper's docstring names
the chapter that uses it. Nothing in this package names a machine-specific path: data, weights,
caches and results are located through :mod:`helpers.config`.
"""

import os

__version__ = "0.1.0"

# TensorFlow turns its oneDNN CPU kernels on by default only on CPUs with AVX-512; on AVX2-only
# CPUs (e.g. AMD Zen 3) it falls back to Eigen kernels, which train the book's networks about 3x
# slower. Ask for oneDNN everywhere unless the user chose otherwise; the value is recorded in
# every run record (provenance.tf_enable_onednn_opts). It only takes effect if set before
# TensorFlow is imported, so the chapters set it too.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
