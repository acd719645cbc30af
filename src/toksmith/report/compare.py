"""Rendering compare results: table, JSON, CSV, Markdown (HTML lives in ``html.py``)."""

from __future__ import annotations

from collections import defaultdict

from toksmith.metrics import UNKNOWN_WARN_SHARE, CompareResult, is_baseline
from toksmith.metrics.compare import MetricRow
from toksmith.report.output import to_json
from toksmith.report.tables import Table, columns_of, render_table

FORMATS = ("table", "json", "csv", "md", "html")

ALL_FIELDS = [
    "tokenizer", "language", "tokens", "bytes", "chars", "words", "bytes_per_token",
    "chars_per_token", "fertility", "continued_word_ratio", "premium", "vocab_utilization",
    "renyi_efficiency", "partial_char_token_ratio", "unknown_token_ratio", "byte_fallback_ratio",
    "premium_median", "premium_q1", "premium_q3", "premium_ci_low", "premium_ci_high",
]  # fmt: skip
TERMINAL_FIELDS = [
    "language", "tokenizer", "tokens", "bytes_per_token", "chars_per_token", "fertility",
    "continued_word_ratio", "premium", "premium_ci_low", "premium_ci_high", "vocab_utilization", "renyi_efficiency", "partial_char_token_ratio", "unknown_token_ratio",
    "byte_fallback_ratio",
]  # fmt: skip
SHORT_TITLES = {
    "bytes_per_token": "bytes/tok", "chars_per_token": "chars/tok",
    "continued_word_ratio": "continued", "vocab_utilization": "vocab used",
    "renyi_efficiency": "Rényi 2.5", "partial_char_token_ratio": "partial-char",
    "unknown_token_ratio": "unknown", "byte_fallback_ratio": "byte-fallback",
    "premium_median": "seg. median", "premium_q1": "seg. Q1", "premium_q3": "seg. Q3",
    "premium_ci_low": "CI low", "premium_ci_high": "CI high",
}  # fmt: skip
PREMIUM_FIELDS = ("premium", "premium_median", "premium_q1", "premium_q3", "premium_ci_low",
                  "premium_ci_high")  # fmt: skip


def has_many_unknowns(row: MetricRow) -> bool:
    """More than :data:`toksmith.metrics.UNKNOWN_WARN_SHARE` of the row's tokens are unknown."""
    share = row.unknown_token_ratio
    return share is not None and share == share and share > UNKNOWN_WARN_SHARE


def _baselines(result: CompareResult) -> set[str]:
    return {info.name for info in result.tokenizers if is_baseline(info.backend)}


def cheapest_per_language(result: CompareResult) -> dict[str, str]:
    """For each language, the tokenizer with the fewest tokens, or ``"tie: a, b"`` when
    several have the same fewest tokens. Baselines (``ws:``) and rows with more than
    :data:`~toksmith.metrics.UNKNOWN_WARN_SHARE` unknown tokens are not candidates: their
    counts do not describe the text. A language with no candidate is left out."""
    baselines = _baselines(result)
    by_language: dict[str, list[MetricRow]] = defaultdict(list)
    for row in result.results:
        if row.tokenizer not in baselines and not has_many_unknowns(row):
            by_language[row.language].append(row)
    cheapest = {}
    for language, rows in by_language.items():
        fewest = min(row.tokens for row in rows)
        names = [row.tokenizer for row in rows if row.tokens == fewest]
        cheapest[language] = names[0] if len(names) == 1 else "tie: " + ", ".join(names)
    return cheapest


def _passed_over(result: CompareResult, cheapest: dict[str, str]) -> dict[str, list[str]]:
    """Tokenizer → languages where it has the fewest tokens of all non-baseline rows but was
    not named cheapest because of its unknown tokens."""
    baselines = _baselines(result)
    fewest: dict[str, int] = {}
    for row in result.results:
        if row.tokenizer not in baselines:
            fewest[row.language] = min(row.tokens, fewest.get(row.language, row.tokens))
    passed: dict[str, list[str]] = defaultdict(list)
    for row in result.results:
        if (
            row.tokenizer not in baselines
            and has_many_unknowns(row)
            and row.tokens == fewest[row.language]
            and cheapest.get(row.language) != row.tokenizer
        ):
            passed[row.tokenizer].append(row.language)
    return passed


def cheapest_summary(result: CompareResult) -> str:
    """One line: how many languages each tokenizer is the cheapest for, ties as ties, and
    which tokenizers had fewer tokens but are not counted (too many unknown tokens)."""
    cheapest = cheapest_per_language(result)
    wins: dict[str, list[str]] = defaultdict(list)
    for language, tokenizer in sorted(cheapest.items()):
        wins[tokenizer].append(language)
    passed = _passed_over(result, cheapest)
    if not wins and not passed:
        return "No results."
    ranked = sorted(wins.items(), key=lambda item: (-len(item[1]), item[0]))
    parts = []
    for tokenizer, languages in ranked:
        shown = ", ".join(languages[:8]) + (", …" if len(languages) > 8 else "")
        parts.append(f"{tokenizer} in {len(languages)} ({shown})")
    line = "Cheapest (fewest tokens) per language: " + ("; ".join(parts) or "none") + "."
    for tokenizer, languages in sorted(passed.items()):
        languages.sort()
        shown = ", ".join(languages[:8]) + (", …" if len(languages) > 8 else "")
        line += (
            f" Not counted: {tokenizer} has the fewest tokens in {shown}, but over "
            f"{100 * UNKNOWN_WARN_SHARE:.0f}% of them are unknown tokens."
        )
    baselines = sorted(_baselines(result))
    if baselines:
        line += f" Baselines, never cheapest: {', '.join(baselines)}."
    return line


def compare_table(
    result: CompareResult, fields: list[str] | None = None, *, drop_empty_parity: bool = True
) -> Table:
    """The rows of ``result`` under ``fields`` (default: every field), sorted by language and
    tokenizer, with the cheapest summary and the notes below. With ``drop_empty_parity`` the
    per-segment premium columns are left out when no row has a premium (no reference
    language); CSV keeps them (empty) so its header is always the same."""
    fields = list(fields or ALL_FIELDS)
    if drop_empty_parity and all(row.premium is None for row in result.results):
        fields = [f for f in fields if f not in PREMIUM_FIELDS or f == "premium"]
    rows = sorted(result.results, key=lambda r: (r.language, r.tokenizer))
    footer = [cheapest_summary(result)] if len({r.tokenizer for r in rows}) > 1 else []
    footer += result.notes
    title = f"toksmith compare — {result.corpus}" if result.corpus else "toksmith compare"
    if result.reference:
        title += f" (premium relative to {result.reference})"
    return Table(
        title=title,
        columns=[SHORT_TITLES.get(f, f) for f in fields],
        fields=list(fields),
        rows=columns_of(rows, fields),
        footer=footer,
    )


def render_compare(result: CompareResult, fmt: str) -> str:
    """``result`` as text in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return to_json(result)
    if fmt == "html":
        from toksmith.report.html import render_compare_html

        return render_compare_html(result)
    if fmt == "table":
        return render_table(compare_table(result, TERMINAL_FIELDS), fmt)
    return render_table(compare_table(result, drop_empty_parity=fmt != "csv"), fmt)
