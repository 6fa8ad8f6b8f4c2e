"""``python -m helpers`` dispatches to :func:`helpers.cli.main`."""

import sys

from helpers.cli import main

sys.exit(main())
