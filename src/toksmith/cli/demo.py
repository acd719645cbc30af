"""``toksmith demo``: every built-in tokenizer on the wordfreq lists of every language."""

from __future__ import annotations

import argparse

from toksmith.cli.common import load_tokenizers, progress_bar
from toksmith.metrics import compare_wordfreq
from toksmith.report import Table, cheapest_summary, emit, render_table
from toksmith.report.tables import columns_of

FIELDS = ["language", "tokenizer", "fertility", "bytes_per_token", "continued_word_ratio"]
TITLES = ["language", "tokenizer", "tokens/word", "bytes/token", "words split 2+"]


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "demo", help="the main job on the built-in default: all built-ins × wordfreq languages"
    )
    parser.add_argument("--top-n", type=int, default=5000, help="words per language (default 5000)")
    parser.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    tokenizers = load_tokenizers(["all"])
    with progress_bar("wordfreq languages") as update:
        result = compare_wordfreq(tokenizers, top_n=args.top_n, progress=update)
    rows = sorted(result.results, key=lambda r: (r.language, r.fertility))
    table = Table(
        f"Every built-in tokenizer on {result.corpus} (frequency-weighted)",
        TITLES,
        columns_of(rows, FIELDS),
        footer=[cheapest_summary(result)],
    )
    emit(render_table(table, "table"), None)
    return 0
