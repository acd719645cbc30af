"""Rendering a data mixture estimate (``toksmith audit mixture``): terminal table, JSON,
Markdown with a text bar chart, and a self-contained HTML page with a PNG chart."""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

from toksmith.report.output import to_json
from toksmith.report.tables import Table, fixed, to_markdown, to_terminal

if TYPE_CHECKING:
    from toksmith.audit.mixture import CategoryShare, MixtureEstimate

FORMATS = ("table", "json", "md", "html")
BAR_WIDTH = 40


def render_mixture(estimate: MixtureEstimate, fmt: str) -> str:
    """The estimate as a terminal table, JSON, Markdown (text bar chart) or HTML (PNG chart)."""
    if fmt == "json":
        return to_json(estimate)
    if fmt == "md":
        return to_markdown(mixture_table(estimate, markdown=True))
    if fmt == "html":
        return mixture_html(estimate)
    return to_terminal(mixture_table(estimate))


def ordered(estimate: MixtureEstimate) -> list[CategoryShare]:
    """The categories, largest share first."""
    return sorted(estimate.categories, key=lambda category: -category.share)


def mixture_table(estimate: MixtureEstimate, *, markdown: bool = False) -> Table:
    """Shares in percent with a bar each, and the solver summary as the footer (as a bullet
    list for Markdown, where the bar is set in code so it keeps its width)."""
    rows: list[list[object]] = []
    for c in ordered(estimate):
        bar = f"`{share_bar(c.share)}`" if markdown else share_bar(c.share)
        share = fixed(100 * c.share, 2) if markdown else round(100 * c.share, 2)
        rows.append([c.name, share, c.sample_bytes, c.distinct_pretokens, bar])
    summary = mixture_summary(estimate)
    return Table(
        title=f"Estimated training mixture of {estimate.tokenizer}",
        columns=["category", "share %", "sample bytes", "pre-tokens", ""],
        rows=rows,
        footer=[f"- {line}" for line in summary] if markdown else summary,
    )


def mixture_summary(estimate: MixtureEstimate) -> list[str]:
    """How the LP got there: solver status, merges and constraints, slack, time, notes."""
    lines = [
        f"solver: HiGHS, {estimate.solver_status}; "
        f"{'verified' if estimate.verified else 'not verified'} against all merge constraints",
        f"merges used: {estimate.merges_used:,} of {estimate.merges_available:,}; constraints "
        f"in the LP: {estimate.constraints_used:,} (candidate pool "
        f"{estimate.candidate_constraints:,}); LP rounds: {estimate.lp_rounds}, checking "
        f"replays: {estimate.verification_replays}",
        f"total slack: {estimate.total_slack_per_mb:,.1f} pair counts per MB; "
        f"elapsed: {estimate.elapsed_s:.1f} s",
    ]
    lines += [f"note: {note}" for note in estimate.notes]
    lines.append(
        "Shares are of training bytes, relative to the categories given: text of any other kind "
        "in the training data is spread over the nearest categories or absorbed by the slack."
    )
    return lines


def share_bar(share: float) -> str:
    """A bar of up to :data:`BAR_WIDTH` characters, in eighths of a character."""
    eighths = round(share * BAR_WIDTH * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + ("" if rest == 0 else chr(0x2590 - rest))


def mixture_chart_png(estimate: MixtureEstimate) -> bytes:
    """The shares as a horizontal bar chart, PNG bytes."""
    from toksmith.report.plots import bar_chart, figure_bytes

    categories = ordered(estimate)
    figure = bar_chart(
        [c.name for c in categories],
        [100 * c.share for c in categories],
        xlabel="estimated share of training bytes (%)",
        title=f"Training mixture of {estimate.tokenizer}",
    )
    return figure_bytes(figure, "png")


def mixture_html(estimate: MixtureEstimate) -> str:
    """One self-contained page: the chart inline as a data URI, the table, the summary."""
    png = base64.b64encode(mixture_chart_png(estimate)).decode("ascii")
    rows = "\n".join(
        f"<tr><td>{html.escape(c.name)}</td><td>{100 * c.share:.2f}</td>"
        f"<td>{c.sample_bytes:,}</td><td>{c.distinct_pretokens:,}</td></tr>"
        for c in ordered(estimate)
    )
    summary = "\n".join(f"<li>{html.escape(line)}</li>" for line in mixture_summary(estimate))
    title = html.escape(f"Estimated training mixture of {estimate.tokenizer}")
    return (
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{title}</title></head>\n"
        f"<body><h2>{title}</h2>\n<img alt='bar chart of the estimated shares' "
        f"src='data:image/png;base64,{png}'>\n<table><tr><th>category</th><th>share %</th>"
        f"<th>sample bytes</th><th>pre-tokens</th></tr>\n{rows}\n</table>\n<ul>{summary}</ul>"
        "</body></html>"
    )
