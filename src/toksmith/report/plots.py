"""Charts as PNG or SVG bytes (matplotlib, no display needed): the one place toksmith plots.

Charts are drawn on a :class:`matplotlib.figure.Figure` (never pyplot's global state) and
returned as bytes, or written atomically.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from toksmith.errors import UserError
from toksmith.files import write_atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from toksmith.train.sweep import SweepResult

PLOT_FORMATS = ("png", "svg", "pdf")


def plot_format(path: str | Path) -> str:
    """The image format a plot path names by its extension (no extension: png); a UserError
    for any other extension. Check it before the work whose result is plotted."""
    suffix = Path(path).suffix.lower().lstrip(".") or "png"
    if suffix not in PLOT_FORMATS:
        raise UserError(
            f"plot file {path}: unknown image type '.{suffix}', expected "
            + ", ".join(f".{name}" for name in PLOT_FORMATS)
        )
    return suffix


def figure_bytes(figure: Figure, fmt: str = "png", dpi: int = 100) -> bytes:
    """``figure`` saved in ``fmt`` (one of :data:`PLOT_FORMATS`), as bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=dpi)
    return buffer.getvalue()


def bar_chart(labels: Sequence[str], values: Sequence[float], *, xlabel: str, title: str) -> Figure:
    """Horizontal bars, the first label at the top."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 0.35 * len(labels) + 1.2))
    axes = figure.add_subplot()
    axes.barh(list(labels)[::-1], list(values)[::-1], color="#4878a8")
    axes.set_xlabel(xlabel)
    axes.set_title(title)
    figure.tight_layout()
    return figure


def sweep_figure(result: SweepResult) -> Figure:
    """Bytes per token against vocabulary size, one line per language; the chosen size of
    each language is marked with a star."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    languages = list(dict.fromkeys(p.language for p in result.points))
    chosen = {c.language: c.chosen_vocab_size for c in result.choices}
    for language in languages:
        rows = sorted((p for p in result.points if p.language == language),
                      key=lambda p: p.vocab_size)  # fmt: skip
        line = axes.plot([p.vocab_size for p in rows], [p.bytes_per_token for p in rows],
                         marker="o", label=language)  # fmt: skip
        pick = next(p for p in rows if p.vocab_size == chosen[language])
        axes.plot([pick.vocab_size], [pick.bytes_per_token], marker="*", markersize=14,
                  color=line[0].get_color())  # fmt: skip
    axes.set_xscale("log", base=2)
    axes.set_xlabel("vocabulary size")
    axes.set_ylabel("bytes per token (held-out)")
    axes.set_title(
        f"{result.algorithm}: ★ = smallest size within {result.tolerance:.0%} of the best"
    )
    if len(languages) <= 12:
        axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def plot_sweep(result: SweepResult, path: str | Path) -> None:
    """Write :func:`sweep_figure` to ``path`` (PNG, SVG or PDF by its extension), atomically."""
    fmt = plot_format(path)
    write_atomic(path, figure_bytes(sweep_figure(result), fmt))
