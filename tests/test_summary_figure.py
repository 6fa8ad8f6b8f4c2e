"""The book's summary figure (AUC vs input size per network and regime): chapter 04 glues it, the
landing page (``book/intro.md``) pastes it from there, with its alt text in words."""

from __future__ import annotations

import base64
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.chapters import results, summary_figure  # noqa: E402


def _table1() -> pd.DataFrame:
    """A Table I with a parity cell (float32 and bf16) and a bf16-only cell, as chapter 04 has."""
    rows = []
    for model in ("mobilenet", "resnet50"):
        for regime in ("frozen", "full"):
            for res in (64, 128):
                auc = 0.6 + 0.1 * (res == 128) + 0.05 * (regime == "full")
                precision = "mixed_bfloat16" if (model, regime, res) == ("resnet50", "full", 128) \
                    else "float32"  # fmt: skip
                rows.append((model, res, regime, "unit", precision, 3 - 2 * (precision != "float32"),
                             auc, auc - 0.05, auc + 0.05))  # fmt: skip
    rows.append(("mobilenet", 128, "full", "unit", "mixed_bfloat16", 3, 0.99, 0.98, 1.0))
    cols = ["model", "resolution", "regime", "preprocessing", "precision", "n_seeds", "auc",
            "auc_lo", "auc_hi"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def test_points_keep_float32_where_a_cell_has_both_and_bf16_where_it_is_alone() -> None:
    points = summary_figure.auc_vs_size_points(_table1())
    assert len(points) == 8  # the parity twin (AUC 0.99) is not drawn
    full_mn = points[(points["model"] == "mobilenet") & (points["regime"] == "full")]
    assert set(full_mn["precision"]) == {"float32"} and full_mn["auc"].max() < 0.9
    values = summary_figure.auc_vs_size_values(points)
    assert values["fig_auc_full_resnet50_unit_bf16_128_n_seeds"] == 1
    assert values["fig_auc_frozen_mobilenet_unit_64_lo"] == pytest.approx(0.55)
    assert "fig_auc_full_mobilenet_unit_bf16_128" not in values


def test_points_refuse_a_table_that_mixes_another_setting() -> None:
    mixed = _table1().assign(geometry=["squash", "crop"] * 4 + ["squash"])
    with pytest.raises(ValueError, match="geometry"):
        summary_figure.auc_vs_size_points(mixed)


def test_figure_has_a_panel_per_regime_and_the_paper_only_where_it_trained() -> None:
    points = summary_figure.auc_vs_size_points(_table1())
    fig = summary_figure.auc_vs_size(points, paper=results.paper_table_one())
    frozen, full = fig.axes
    assert (frozen.get_title(), full.get_title()) == ("Frozen ImageNet base", "Every layer fine-tuned")
    crosses = [line for ax in fig.axes for line in ax.get_lines() if line.get_marker() == "X"]
    assert len(crosses) == 2 and all(line.axes is full for line in crosses)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "hollow: bf16 cell (1 seed)" in legend and "MobileNet, [0, 1] inputs" in legend
    matplotlib.pyplot.close(fig)


def test_alt_figure_pastes_a_png_with_its_alt_text_in_words() -> None:
    points = summary_figure.auc_vs_size_points(_table1())
    alt = summary_figure.auc_vs_size_alt(points, results.paper_table_one())
    assert "MobileNet [0, 1] inputs: 0.65 at 64 px, 0.75 at 128 px" in alt
    assert "The paper's AUCs" in alt and "0.96" in alt
    figure = summary_figure.AltFigure(summary_figure.auc_vs_size(points), alt + ' "quoted" & <b>')
    html = figure._repr_html_()
    src = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(src) == figure._repr_png_() and figure.png.startswith(b"\x89PNG")
    assert 'alt="Test AUC' in html and "&quot;quoted&quot; &amp; &lt;b&gt;" in html
    assert "max-width: 100%" in html and figure.width == 768
    assert "0x" not in repr(figure)  # a stable text/plain: nbval compares it
