"""Rendering the results of ``toksmith train`` and ``toksmith sweep``."""

from __future__ import annotations

from toksmith.report.output import to_json
from toksmith.report.render import render_result
from toksmith.report.tables import Table, render_table
from toksmith.train.run import TrainResult
from toksmith.train.sweep import SweepResult


def render_trained(result: TrainResult, fmt: str, preset: str | None = None) -> str:
    """A trained tokenizer: ``json`` (output, algorithm, vocabulary, time, corpus, details) or a
    two-column table."""
    if fmt == "json":
        return to_json(
            {
                "output": str(result.output),
                "algorithm": result.algorithm,
                "vocab_size": result.vocab_size,
                "elapsed_s": round(result.elapsed_s, 3),
                "corpus": result.corpus,
                "details": result.details,
            }
        )
    algorithm = result.algorithm + (f" (preset {preset})" if preset else "")
    rows: list[list[object]] = [
        ["tokenizer", str(result.tokenizer_json)],
        ["algorithm", algorithm],
        ["vocabulary", result.vocab_size],
        ["trained on", ", ".join(result.corpus.sources)],
        ["corpus bytes", result.corpus.bytes],
        ["elapsed (s)", round(result.elapsed_s, 2)],
    ]
    for key, value in result.details.items():
        rows.append([key, to_json(value, indent=None) if isinstance(value, dict) else value])
    return render_table(Table("trained", ["", "value"], rows), fmt)


def render_sweep(result: SweepResult, fmt: str) -> str:
    """A vocabulary sweep: ``json`` (sizes, points, choices), ``csv`` with one row per size ×
    language headed by field names, or a table/Markdown with one row per language."""
    if fmt == "json":
        return to_json(
            {
                "algorithm": result.algorithm,
                "vocab_sizes": result.vocab_sizes,
                "tolerance": result.tolerance,
                "points": result.points,
                "choices": result.choices,
            }
        )
    if fmt == "csv":
        return render_table(sweep_points_table(result), "csv")
    return render_result(result, fmt, lambda: [sweep_table(result)])


def sweep_points_table(result: SweepResult) -> Table:
    """One row per vocabulary size × language, as in the JSON points."""
    columns = ["vocab_size", "language", "tokens", "bytes", "bytes_per_token", "chosen"]
    chosen_sizes = {c.language: c.chosen_vocab_size for c in result.choices}
    rows: list[list[object]] = [
        [
            p.vocab_size,
            p.language,
            p.tokens,
            p.bytes,
            p.bytes_per_token,
            p.vocab_size == chosen_sizes.get(p.language),
        ]
        for p in result.points
    ]
    return Table("", columns, rows)


def sweep_table(result: SweepResult) -> Table:
    """Held-out bytes per token of each language at each size, with the best and chosen size."""
    table = Table(
        f"{result.algorithm} vocabulary sweep (held-out bytes per token)",
        ["language", *[f"{size:,}" for size in result.vocab_sizes], "best", "chosen"],
        [],
        footer=[
            f"chosen = smallest vocabulary within {result.tolerance:.0%} of the best "
            "bytes/token of that language"
        ],
    )
    for choice in result.choices:
        by_size = {
            p.vocab_size: p.bytes_per_token for p in result.points if p.language == choice.language
        }
        table.rows.append(
            [
                choice.language,
                *[by_size.get(size) for size in result.vocab_sizes],
                choice.best_vocab_size,
                choice.chosen_vocab_size,
            ]
        )
    return table
