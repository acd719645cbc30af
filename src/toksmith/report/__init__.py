"""Reports: tables, JSON/CSV/Markdown/HTML, plots. Rendering only, never measuring.

One :class:`Table` (``tables.py``) with one missing-value glyph, one JSON rule and one writer
(``output.py``), one way to render a result (``render.py``); a module per kind of result
(``compare.py``, ``audit.py``, ``mixture.py``) and the charts (``plots.py``). Names are loaded
on first use, so importing one renderer never imports the features of the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toksmith.report.compare import FORMATS, cheapest_summary, render_compare
    from toksmith.report.output import emit, to_json, write_atomic
    from toksmith.report.render import render_result
    from toksmith.report.tables import MISSING, Table, render_table, render_tables

_HOMES = {
    "FORMATS": "toksmith.report.compare",
    "cheapest_summary": "toksmith.report.compare",
    "render_compare": "toksmith.report.compare",
    "emit": "toksmith.report.output",
    "to_json": "toksmith.report.output",
    "write_atomic": "toksmith.report.output",
    "render_result": "toksmith.report.render",
    "MISSING": "toksmith.report.tables",
    "Table": "toksmith.report.tables",
    "render_table": "toksmith.report.tables",
    "render_tables": "toksmith.report.tables",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'toksmith.report' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


def render(result: Any, fmt: str) -> str:
    """Render a compare result in ``fmt``: table, json, csv, md or html."""
    from toksmith.report.compare import render_compare

    return render_compare(result, fmt)


__all__ = [
    "FORMATS",
    "MISSING",
    "Table",
    "cheapest_summary",
    "emit",
    "render",
    "render_compare",
    "render_result",
    "render_table",
    "render_tables",
    "to_json",
    "write_atomic",
]
