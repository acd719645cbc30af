"""Plain tables of results, rendered for a terminal (rich), CSV or Markdown.

Feature results are turned into a :class:`Table` here; rendering never computes a measure.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Table:
    """Column titles, rows of plain values, and lines to print under the table."""

    title: str
    columns: list[str]
    rows: list[list[object]]
    footer: list[str] = field(default_factory=list)


def format_value(value: object, digits: int = 3) -> str:
    """Numbers for people: floats rounded, NaN and None as an em dash, ints with separators."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def to_csv(table: Table) -> str:
    """CSV with raw (unrounded) values; empty cells for missing values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if _missing(v) else v for v in row])
    return buffer.getvalue()


def to_markdown(table: Table) -> str:
    lines = [f"## {table.title}", ""] if table.title else []
    lines.append("| " + " | ".join(table.columns) + " |")
    lines.append(
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(table.columns))) + "|"
    )
    for row in table.rows:
        lines.append("| " + " | ".join(_md_cell(format_value(v)) for v in row) + " |")
    if table.footer:
        lines.append("")
        lines += table.footer
    return "\n".join(lines) + "\n"


def to_terminal(table: Table, width: int | None = None) -> str:
    """The table drawn by rich, as text (colours only when writing to a terminal)."""
    from rich.console import Console
    from rich.table import Table as RichTable

    rich_table = RichTable(title=table.title or None, header_style="bold")
    for position, column in enumerate(table.columns):
        numeric = position > 0 and any(
            isinstance(row[position], int | float) for row in table.rows if row
        )
        rich_table.add_column(column, justify="right" if numeric else "left")
    for row in table.rows:
        rich_table.add_row(*(format_value(v) for v in row))
    console = Console(record=True, width=width or 200, force_terminal=False)
    with console.capture() as capture:
        console.print(rich_table)
        for line in table.footer:
            console.print(line, highlight=False, markup=False)
    return capture.get()


def render_table(table: Table, fmt: str) -> str:
    if fmt == "csv":
        return to_csv(table)
    if fmt == "md":
        return to_markdown(table)
    return to_terminal(table)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def columns_of(rows: Sequence[object], names: Sequence[str]) -> list[list[object]]:
    """The named attributes of each row object, as lists."""
    return [[getattr(row, name) for name in names] for row in rows]
