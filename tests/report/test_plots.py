from __future__ import annotations

import pytest

from toksmith.errors import UserError
from toksmith.report.plots import bar_chart, figure_bytes, plot_format


def test_plot_format_comes_from_the_extension_and_defaults_to_png():
    assert plot_format("a/sweep.SVG") == "svg" and plot_format("sweep") == "png"


def test_plot_format_refuses_an_unknown_extension():
    with pytest.raises(UserError, match=r"\.gif"):
        plot_format("sweep.gif")


def test_bar_chart_is_a_png():
    figure = bar_chart(["a", "b"], [60.0, 40.0], xlabel="share (%)", title="t")
    assert figure_bytes(figure, "png")[:8] == b"\x89PNG\r\n\x1a\n"
