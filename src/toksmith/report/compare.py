"""Rendering compare results: table, JSON, CSV, Markdown (HTML lives in ``html.py``)."""

from __future__ import annotations

import json
from collections import defaultdict

from toksmith.metrics import CompareResult
from toksmith.metrics.compare import MetricRow
from toksmith.report.tables import Table, columns_of, render_table

FORMATS = ("table", "json", "csv", "md", "html")

ALL_FIELDS = [
    "tokenizer", "language", "tokens", "bytes", "chars", "words", "bytes_per_token",
    "chars_per_token", "fertility", "continued_word_ratio", "premium", "vocab_utilization",
    "renyi_efficiency", "partial_char_token_ratio",
]  # fmt: skip
TERMINAL_FIELDS = [
    "language", "tokenizer", "tokens", "bytes_per_token", "chars_per_token", "fertility",
    "continued_word_ratio", "premium", "vocab_utilization", "renyi_efficiency",
    "partial_char_token_ratio",
]  # fmt: skip
SHORT_TITLES = {
    "bytes_per_token": "bytes/tok", "chars_per_token": "chars/tok",
    "continued_word_ratio": "continued", "vocab_utilization": "vocab used",
    "renyi_efficiency": "Rényi 2.5", "partial_char_token_ratio": "partial-char",
}  # fmt: skip


def cheapest_per_language(result: CompareResult) -> dict[str, str]:
    """For each language, the tokenizer with the fewest tokens (ties: the first listed)."""
    best: dict[str, MetricRow] = {}
    for row in result.results:
        current = best.get(row.language)
        if current is None or row.tokens < current.tokens:
            best[row.language] = row
    return {language: row.tokenizer for language, row in best.items()}


def cheapest_summary(result: CompareResult) -> str:
    """One line: how many languages each tokenizer is the cheapest for."""
    wins: dict[str, list[str]] = defaultdict(list)
    for language, tokenizer in sorted(cheapest_per_language(result).items()):
        wins[tokenizer].append(language)
    if not wins:
        return "No results."
    ranked = sorted(wins.items(), key=lambda item: (-len(item[1]), item[0]))
    parts = []
    for tokenizer, languages in ranked:
        shown = ", ".join(languages[:8]) + (", …" if len(languages) > 8 else "")
        parts.append(f"{tokenizer} in {len(languages)} ({shown})")
    return "Cheapest (fewest tokens) per language: " + "; ".join(parts) + "."


def compare_table(result: CompareResult, fields: list[str] | None = None) -> Table:
    fields = fields or ALL_FIELDS
    rows = sorted(result.results, key=lambda r: (r.language, r.tokenizer))
    footer = [cheapest_summary(result)] if len({r.tokenizer for r in rows}) > 1 else []
    footer += result.notes
    title = f"toksmith compare — {result.corpus}" if result.corpus else "toksmith compare"
    if result.reference:
        title += f" (premium relative to {result.reference})"
    return Table(
        title=title,
        columns=[SHORT_TITLES.get(f, f) for f in fields],
        rows=columns_of(rows, fields),
        footer=footer,
    )


def render_compare(result: CompareResult, fmt: str) -> str:
    """``result`` as text in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
    if fmt == "html":
        from toksmith.report.html import render_compare_html

        return render_compare_html(result)
    if fmt == "table":
        return render_table(compare_table(result, TERMINAL_FIELDS), fmt)
    return render_table(compare_table(result), fmt)
