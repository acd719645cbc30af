"""One way to render a result: JSON from the result itself, everything else from its tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from toksmith.report.output import to_json
from toksmith.report.tables import Table, render_tables


def render_result(result: object, fmt: str, tables: Callable[[], Sequence[Table]]) -> str:
    """``result`` as text in ``fmt``: ``json`` is the result's ``to_dict()`` under the one NaN
    rule (:func:`toksmith.report.output.to_json`); ``table``, ``csv`` and ``md`` render the
    tables that ``tables()`` builds from it (built only when needed)."""
    if fmt == "json":
        return to_json(result)
    return render_tables(tables(), fmt)
