"""Reports: tables, JSON/CSV/Markdown/HTML, plots. Rendering only, never measuring."""

from toksmith.report.compare import FORMATS, cheapest_summary, render_compare
from toksmith.report.output import emit, write_atomic
from toksmith.report.tables import Table, render_table


def render(result, fmt: str) -> str:  # noqa: ANN001 - any result with a renderer
    """Render a compare result in ``fmt``: table, json, csv, md or html."""
    return render_compare(result, fmt)


__all__ = [
    "FORMATS",
    "Table",
    "cheapest_summary",
    "emit",
    "render",
    "render_compare",
    "render_table",
    "write_atomic",
]
