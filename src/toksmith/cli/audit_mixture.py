"""The ``toksmith audit mixture`` subcommand: data mixture inference (Hayase et al., 2024).

``toksmith.cli.audit`` calls :func:`register` with the ``audit`` subparsers. Parsing and
rendering only: the estimate comes from :func:`toksmith.audit.mixture.infer_mixture`.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json

from toksmith.audit.mixture import (
    DEFAULT_MERGES,
    DEFAULT_REPLAYS,
    DEFAULT_SAMPLE_MB,
    MIN_CATEGORY_BYTES,
    MixtureEstimate,
)
from toksmith.report.output import emit
from toksmith.report.tables import Table, format_value, to_terminal

FORMATS = ("table", "json", "md", "html")
BAR_WIDTH = 40


def register(audit_subcommands: argparse._SubParsersAction) -> None:
    """Adds ``audit mixture``."""
    parser = audit_subcommands.add_parser(
        "mixture",
        help="estimate what a BPE tokenizer was trained on (data mixture inference)",
        description="Replay the merge list of a byte-level BPE tokenizer on a sample of each "
        "category and solve the linear program of Hayase et al. (2024), 'Data Mixture "
        "Inference: What do BPE Tokenizers Reveal about their Training Data?', for the share "
        "of each category in the tokenizer's training data.",
    )
    parser.add_argument("-t", "--tokenizer", required=True, metavar="SPEC",
                        help="built-in name or tokenizer file (HF BPE tokenizer.json, tiktoken "
                        "or Tekken rank file)")  # fmt: skip
    parser.add_argument("--categories", required=True, metavar="DIR",
                        help="folder with one file or sub-folder of sample text per category "
                        f"(at least {MIN_CATEGORY_BYTES:,} bytes each)")  # fmt: skip
    parser.add_argument("--merges", type=int, default=DEFAULT_MERGES, metavar="N",
                        help=f"number of first merges to use (default {DEFAULT_MERGES:,})")  # fmt: skip
    parser.add_argument("--sample-mb", type=float, default=DEFAULT_SAMPLE_MB, metavar="X",
                        help=f"MB of text read per category (default {DEFAULT_SAMPLE_MB:g})")  # fmt: skip
    parser.add_argument("--replays", type=int, default=DEFAULT_REPLAYS, metavar="N",
                        help="replays looking for violated constraints the candidate pool "
                        f"missed (default {DEFAULT_REPLAYS}; more is slower and closer to the "
                        "exact LP)")  # fmt: skip
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.set_defaults(run=run_mixture)


def run_mixture(args: argparse.Namespace) -> int:
    from toksmith.audit.mixture import infer_mixture, read_categories
    from toksmith.audit.mixture_merges import merge_list
    from toksmith.cli.common import progress_bar
    from toksmith.errors import UserError
    from toksmith.tokenizers import load_tokenizer

    if args.replays < 0:
        raise UserError(f"--replays {args.replays}: expected 0 or more")
    tokenizer = load_tokenizer(args.tokenizer)
    merge_list(tokenizer, 1)  # refuse a tokenizer without merges before reading any text
    categories = read_categories(args.categories, sample_mb=args.sample_mb)
    with progress_bar("mixture") as update:
        estimate = infer_mixture(
            tokenizer, categories, max_merges=args.merges, replays=args.replays, progress=update
        )
    emit(render_mixture(estimate, args.format), args.output)
    return 0


def render_mixture(estimate: MixtureEstimate, fmt: str) -> str:
    """The estimate as a terminal table, JSON, Markdown (text bar chart) or HTML (PNG chart)."""
    if fmt == "json":
        return json.dumps(estimate.to_dict(), indent=2, ensure_ascii=False)
    if fmt == "md":
        return _markdown(estimate)
    if fmt == "html":
        return _html(estimate)
    return to_terminal(_table(estimate))


def _ordered(estimate: MixtureEstimate) -> list:
    return sorted(estimate.categories, key=lambda category: -category.share)


def _table(estimate: MixtureEstimate) -> Table:
    rows: list[list[object]] = [
        [c.name, round(100 * c.share, 2), c.sample_bytes, c.distinct_pretokens, _bar(c.share)]
        for c in _ordered(estimate)
    ]
    return Table(
        title=f"Estimated training mixture of {estimate.tokenizer}",
        columns=["category", "share %", "sample bytes", "pre-tokens", ""],
        rows=rows,
        footer=_summary(estimate),
    )


def _summary(estimate: MixtureEstimate) -> list[str]:
    lines = [
        f"solver: HiGHS, {estimate.solver_status}; "
        f"{'verified' if estimate.verified else 'not verified'} against all merge constraints",
        f"merges used: {estimate.merges_used:,} of {estimate.merges_available:,}; constraints "
        f"in the LP: {estimate.constraints_used:,} (candidate pool {estimate.candidate_constraints:,}); "
        f"LP rounds: {estimate.lp_rounds}, checking replays: {estimate.verification_replays}",
        f"total slack: {estimate.total_slack_per_mb:,.1f} pair counts per MB; "
        f"elapsed: {estimate.elapsed_s:.1f} s",
    ]
    lines += [f"note: {note}" for note in estimate.notes]
    lines.append(
        "Shares are of training bytes, relative to the categories given: text of any other kind "
        "in the training data is spread over the nearest categories or absorbed by the slack."
    )
    return lines


def _bar(share: float) -> str:
    eighths = round(share * BAR_WIDTH * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + ("" if rest == 0 else chr(0x2590 - rest))


def _markdown(estimate: MixtureEstimate) -> str:
    lines = [f"## Estimated training mixture of {estimate.tokenizer}", ""]
    lines += ["| category | share % | sample bytes | pre-tokens | |", "|---|---:|---:|---:|---|"]
    for c in _ordered(estimate):
        lines.append(
            f"| {c.name} | {100 * c.share:.2f} | {format_value(c.sample_bytes)} | "
            f"{format_value(c.distinct_pretokens)} | `{_bar(c.share)}` |"
        )
    lines.append("")
    lines += [f"- {line}" for line in _summary(estimate)]
    return "\n".join(lines) + "\n"


def _chart_png(estimate: MixtureEstimate) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    ordered = _ordered(estimate)[::-1]
    figure, axes = pyplot.subplots(figsize=(7, 0.35 * len(ordered) + 1.2))
    axes.barh([c.name for c in ordered], [100 * c.share for c in ordered], color="#4878a8")
    axes.set_xlabel("estimated share of training bytes (%)")
    axes.set_title(f"Training mixture of {estimate.tokenizer}")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    pyplot.close(figure)
    return buffer.getvalue()


def _html(estimate: MixtureEstimate) -> str:
    png = base64.b64encode(_chart_png(estimate)).decode("ascii")
    rows = "\n".join(
        f"<tr><td>{html.escape(c.name)}</td><td>{100 * c.share:.2f}</td>"
        f"<td>{c.sample_bytes:,}</td><td>{c.distinct_pretokens:,}</td></tr>"
        for c in _ordered(estimate)
    )
    summary = "\n".join(f"<li>{html.escape(line)}</li>" for line in _summary(estimate))
    title = html.escape(f"Estimated training mixture of {estimate.tokenizer}")
    return (
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{title}</title></head>\n"
        f"<body><h2>{title}</h2>\n<img alt='bar chart of the estimated shares' "
        f"src='data:image/png;base64,{png}'>\n<table><tr><th>category</th><th>share %</th>"
        f"<th>sample bytes</th><th>pre-tokens</th></tr>\n{rows}\n</table>\n<ul>{summary}</ul>"
        "</body></html>"
    )
