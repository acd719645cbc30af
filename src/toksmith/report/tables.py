"""Plain tables of results, rendered for a terminal (rich), CSV or Markdown.

Feature results are turned into a :class:`Table` here; rendering never computes a measure.
There is one missing-value glyph, :data:`MISSING`: a table shows None and every non-finite
number (NaN, ±Infinity) as it, and CSV leaves the cell empty.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

MISSING = "–"
"""How a table shows a value that is not defined (None, NaN, ±Infinity)."""


@dataclass
class Table:
    """Column titles, rows of plain values, and lines to print under the table.

    ``fields`` are the field names of the columns (as in the JSON output); CSV uses them as its
    header, while the terminal and Markdown show the friendlier ``columns``. Without
    ``fields``, CSV uses ``columns``.
    """

    title: str
    columns: list[str]
    rows: list[list[object]] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    fields: list[str] | None = None


def is_missing(value: object) -> bool:
    """True for None and for every non-finite float."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def format_value(value: object, digits: int = 3) -> str:
    """Numbers for people: floats rounded, missing values as :data:`MISSING`, ints with
    separators, booleans as yes/no."""
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def fixed(value: float | None, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals, or :data:`MISSING`."""
    return MISSING if is_missing(value) else f"{value:.{digits}f}"


def percent(value: float | None, digits: int = 1) -> str:
    """A share in 0..1 as a percentage (``0.123`` → ``12.3%``), or :data:`MISSING`."""
    return MISSING if is_missing(value) else f"{100 * value:.{digits}f}%"  # type: ignore[operator]


def to_csv(table: Table) -> str:
    """CSV with raw (unrounded) values under the field names; empty cells for missing values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.fields or table.columns)
    for row in table.rows:
        writer.writerow(["" if is_missing(v) else v for v in row])
    return buffer.getvalue()


def to_markdown(table: Table) -> str:
    """A Markdown table under a ``##`` heading, with the footer lines below it."""
    lines = [f"## {table.title}", ""] if table.title else []
    lines.append("| " + " | ".join(_md_cell(column) for column in table.columns) + " |")
    lines.append(
        "|"
        + "|".join("---:" if _numeric(table, i) else "---" for i in range(len(table.columns)))
        + "|"
    )
    for row in table.rows:
        lines.append("| " + " | ".join(_md_cell(format_value(v)) for v in row) + " |")
    if table.footer:
        lines.append("")
        lines += table.footer
    return "\n".join(lines) + "\n"


def to_terminal(table: Table, width: int | None = None) -> str:
    """The table drawn by rich, as text. Cells are never read as rich markup, so a token such
    as ``[UNK]`` or ``[/b]`` shows as itself."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table as RichTable

    rich_table = RichTable(title=escape(table.title) if table.title else None, header_style="bold")
    for position, column in enumerate(table.columns):
        if _numeric(table, position):
            rich_table.add_column(escape(column), justify="right")
        else:
            rich_table.add_column(escape(column), justify="left")
    for row in table.rows:
        rich_table.add_row(*(escape(format_value(v)) for v in row))
    console = Console(record=True, width=width or 200, force_terminal=False)
    with console.capture() as capture:
        console.print(rich_table)
        for line in table.footer:
            console.print(line, highlight=False, markup=False)
    return capture.get()


def render_table(table: Table, fmt: str) -> str:
    """One table as ``csv``, ``md`` or (any other ``fmt``) terminal text."""
    if fmt == "csv":
        return to_csv(table)
    if fmt == "md":
        return to_markdown(table)
    return to_terminal(table)


def render_tables(tables: Sequence[Table], fmt: str) -> str:
    """Several tables one after another, each as :func:`render_table` renders it (CSV
    tables are separated by an empty line)."""
    return "\n".join(render_table(table, fmt) for table in tables)


def _numeric(table: Table, position: int) -> bool:
    """Whether a column (other than the first, which names the row) holds numbers, so that it
    is aligned right."""
    return position > 0 and any(
        isinstance(row[position], int | float) for row in table.rows if len(row) > position
    )


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def columns_of(rows: Sequence[object], names: Sequence[str]) -> list[list[object]]:
    """The named attributes of each row object, as lists."""
    return [[getattr(row, name) for name in names] for row in rows]
