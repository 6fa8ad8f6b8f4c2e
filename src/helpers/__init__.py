"""Helpers for the book "Image resolution vs accuracy and cost" (one package, every chapter).

Notebooks tell the story; the functions here do the work. Each public helper's docstring names
the chapter that uses it. Nothing in this package names a machine-specific path: data, weights,
caches and results are located through :mod:`helpers.config`.
"""

__version__ = "0.1.0"
