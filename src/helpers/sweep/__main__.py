"""``python -m helpers.sweep CONFIG ...``: the same as ``python -m helpers sweep`` (chapter 03)."""

from helpers.sweep.cli import main

raise SystemExit(main())
