"""The summary ``toksmith wordcount`` prints (the counts themselves go to the TSV file)."""

from __future__ import annotations

from toksmith.cluster.wordcount import WordCounts
from toksmith.report.output import to_json
from toksmith.report.tables import Table, render_table


def render_wordcount(result: WordCounts, output: str, fmt: str) -> str:
    """``result``'s summary as a table or JSON, naming the file written."""
    if fmt == "json":
        return to_json({"output": output, **result.to_dict()})
    rows: list[list[object]] = [
        ["written", output],
        ["corpus", ", ".join(result.corpus)],
        ["pre-tokenizer", result.settings.pattern],
        ["numbers", result.settings.numbers or "-"],
        ["normalizer", result.settings.normalizer],
        ["distinct pre-tokens", result.distinct],
        ["occurrences", result.occurrences],
    ]
    if result.replaced_bytes:
        rows.append(["replaced invalid bytes", result.replaced_bytes])
    return render_table(Table("pre-token counts", ["", "value"], rows), "table")
