"""``toksmith demo``: every built-in tokenizer on the wordfreq lists of every language."""

from __future__ import annotations

import argparse

from toksmith.cli import common
from toksmith.cli.common import add_output_options, int_in_range, progress_bar
from toksmith.files import check_output_path
from toksmith.metrics import compare_wordfreq
from toksmith.report import Table, cheapest_summary, emit, render_table
from toksmith.report.tables import columns_of

# wordfreq's largest lists hold a few hundred thousand words; more is never needed.
MAX_TOP_N = 1_000_000
FIELDS = ["language", "tokenizer", "fertility", "bytes_per_token", "continued_word_ratio"]
TITLES = ["language", "tokenizer", "tokens/word", "bytes/token", "words split 2+"]


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "demo", help="the main job on the built-in default: all built-ins × wordfreq languages"
    )
    parser.add_argument(
        "--top-n",
        type=int_in_range(1, MAX_TOP_N),
        default=5000,
        metavar="N",
        help=f"most frequent words per language, 1 to {MAX_TOP_N:,} (default 5000)",
    )
    add_output_options(parser, ("table", "csv", "md"))
    parser.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    check_output_path(args.output, [])
    tokenizers = common.load_tokenizers(["all"])
    with progress_bar("wordfreq languages") as update:
        result = compare_wordfreq(tokenizers, top_n=args.top_n, progress=update)
    rows = sorted(result.results, key=lambda r: (r.language, r.fertility))
    table = Table(
        f"Every built-in tokenizer on {result.corpus} (frequency-weighted)",
        FIELDS if args.format == "csv" else TITLES,  # CSV headers are field names
        columns_of(rows, FIELDS),
        footer=[cheapest_summary(result)],
    )
    emit(render_table(table, args.format), args.output)
    return 0
