"""``python -m helpers.sweep CONFIG ...``: the same as ``python -m helpers sweep`` (training chapter)."""

from helpers.sweep.cli import main

raise SystemExit(main())
