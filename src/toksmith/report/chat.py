"""Tables of chat-message counts (``toksmith count --messages``): rendering only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toksmith.report.render import render_result
from toksmith.report.tables import Table, columns_of

if TYPE_CHECKING:
    from toksmith.chat.count import MessageCountResult

FORMATS = ("table", "json", "csv", "md")
ROW_FIELDS = ["tokenizer", "conversation", "line", "messages", "content_tokens",
              "overhead_tokens", "total_tokens", "format"]  # fmt: skip
TOTAL_FIELDS = ["tokenizer", "conversations", "messages", "content_tokens", "overhead_tokens",
                "total_tokens", "format"]  # fmt: skip
_TITLES = {"content_tokens": "content", "overhead_tokens": "overhead", "total_tokens": "total"}


def render_messages(result: MessageCountResult, fmt: str) -> str:
    """The counts in ``fmt``: JSON from the result, else one row per tokenizer × conversation
    (and a totals table when the file holds several conversations), with the format of each
    tokenizer under the table. CSV is the one table of rows (its header the JSON field
    names)."""
    return render_result(result, fmt, lambda: message_tables(result)[: 1 if fmt == "csv" else 2])


def message_tables(result: MessageCountResult) -> list[Table]:
    footer = [f"{info.name}: {info.format_description}" for info in result.tokenizers]
    footer += list(result.notes)
    several = len({row.conversation for row in result.results}) > 1
    rows = Table(
        f"Chat message tokens: {result.file}",
        [_TITLES.get(name, name) for name in ROW_FIELDS],
        columns_of(result.results, ROW_FIELDS),
        footer=[] if several else footer,
        fields=list(ROW_FIELDS),
    )
    if not several:
        return [rows]
    totals = Table(
        "All conversations, per tokenizer",
        [_TITLES.get(name, name) for name in TOTAL_FIELDS],
        columns_of(result.totals, TOTAL_FIELDS),
        footer=footer,
        fields=list(TOTAL_FIELDS),
    )
    return [rows, totals]
