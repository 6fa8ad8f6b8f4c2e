"""How every chapter with figures draws them: sharp on a high-density screen (2× PNG).

The inline backend renders each Matplotlib figure as a PNG at twice the figure's resolution and
tells the page to show it at its 1× size (the ``retina`` format of ``matplotlib_inline``), so a
phone or laptop with a high-density screen shows it sharp; the browser check of the built book
(``helpers.build.browser``) fails on a figure drawn with fewer than about two image pixels per
CSS pixel.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

BOOK_DPI = 90.0
"""The figures' 1× resolution on the page (CSS pixels per inch of figure size)."""


def sharp_figures(dpi: float = BOOK_DPI) -> None:
    """Draw the chapter's inline figures as 2× PNGs shown at ``dpi`` (every chapter with figures)."""
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    plt.rcParams["figure.dpi"] = dpi
    set_matplotlib_formats("retina")
