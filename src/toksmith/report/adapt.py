"""Rendering ``toksmith adapt``: transplant summaries, bits-per-byte tables and the length
reduction of dynamic merges (table and plot)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from toksmith.files import write_atomic
from toksmith.report.plots import figure_bytes, plot_format
from toksmith.report.render import render_result
from toksmith.report.tables import Table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from toksmith.adapt.dynamic import DynamicReport
    from toksmith.adapt.evaluate import EvalResult
    from toksmith.adapt.transplant import TransplantResult


def transplant_table(result: TransplantResult) -> Table:
    """How many rows each estimate built, with the warnings under the table."""
    rows: list[list[object]] = [[name, count] for name, count in result.rows_by_method.items()]
    footer = [
        f"{result.base_model} ({result.old_vocab_size:,} ids) → {result.output} "
        f"({result.new_vocab_size:,} ids, tokenizer {result.tokenizer}); method {result.method}"
        + (f", k = {result.k}" if result.k else "")
        + f"; {'tied' if result.tied_embeddings else 'untied'} embeddings; "
        f"{result.elapsed_s:.1f} s",
        *[f"warning: {warning}" for warning in result.warnings],
    ]
    return Table(
        title="Transplanted rows",
        columns=["built by", "rows"],
        rows=rows,
        footer=footer,
        fields=["built_by", "rows"],
    )


def render_transplant(result: TransplantResult, fmt: str) -> str:
    """``adapt transplant``'s summary as a table, CSV, Markdown or JSON."""
    return render_result(result, fmt, lambda: [transplant_table(result)])


def eval_table(result: EvalResult) -> Table:
    """Bits per byte side by side (lower is better)."""
    rows: list[list[object]] = [
        [s.model, s.vocab_size, s.tokens, round(s.tokens_per_byte, 4), round(s.bits_per_byte, 4)]
        for s in result.results
    ]
    return Table(
        title=f"Bits per byte on {result.corpus} ({result.bytes:,} bytes, {result.texts:,} texts)",
        columns=["model", "vocab", "tokens", "tokens/byte", "bits/byte"],
        rows=rows,
        footer=["bits per byte compare across tokenizers; per-token perplexity does not"],
        fields=["model", "vocab_size", "tokens", "tokens_per_byte", "bits_per_byte"],
    )


def render_eval(result: EvalResult, fmt: str) -> str:
    """``adapt eval`` as a table, CSV, Markdown or JSON."""
    return render_result(result, fmt, lambda: [eval_table(result)])


def dynamic_table(report: DynamicReport) -> Table:
    """Tokens and length reduction against merges per batch, one row per tokenizer × merges."""
    rows: list[list[object]] = []
    for result in report.results:
        for row in result.rows:
            rows.append(
                [
                    result.tokenizer,
                    result.boundary,
                    row.merges,
                    row.tokens,
                    round(row.tokens_per_sequence, 2),
                    round(100 * row.length_reduction, 2),
                ]
            )
    footer = [
        f"{r.tokenizer}: {r.sequences:,} sequences in {r.batches:,} batches of {r.batch_size} "
        f"(≤ {r.max_length} tokens), {r.merges_learned_mean:.0f} merges learned per batch on "
        f"average (pairs seen ≥ {r.min_count}×), {r.elapsed_s:.2f} s"
        for r in report.results
    ]
    return Table(
        title=f"Dynamic merges per batch on {report.corpus}",
        columns=["tokenizer", "boundary", "merges", "tokens", "tokens/seq", "reduction %"],
        rows=rows,
        footer=footer,
        fields=[
            "tokenizer",
            "boundary",
            "merges",
            "tokens",
            "tokens_per_sequence",
            "length_reduction_percent",
        ],
    )


def render_dynamic(report: DynamicReport, fmt: str) -> str:
    """``adapt dynamic`` as a table, CSV, Markdown or JSON."""
    return render_result(report, fmt, lambda: [dynamic_table(report)])


def dynamic_figure(report: DynamicReport) -> Figure:
    """Length reduction (%) against merges per batch, one line per tokenizer."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    for result in report.results:
        points = [(max(r.merges, 1), 100 * r.length_reduction) for r in result.rows]
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o",
                  label=result.tokenizer)  # fmt: skip
    axes.set_xscale("log")
    axes.set_xlabel("merges per batch (0 drawn at 1)")
    axes.set_ylabel("length reduction (%)")
    boundary = report.results[0].boundary if report.results else ""
    axes.set_title(f"Dynamic tokenization ({boundary} boundaries)")
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def plot_dynamic(report: DynamicReport, path: str | Path) -> None:
    """Write :func:`dynamic_figure` to ``path`` (PNG, SVG or PDF by its extension)."""
    write_atomic(path, figure_bytes(dynamic_figure(report), plot_format(path)))
