"""``toksmith wordcount``: pre-token counts of a corpus, for ``train --from-counts``."""

from __future__ import annotations

import argparse

from toksmith.cli import common
from toksmith.cli.common import add_errors_option, add_format_option, progress_bar
from toksmith.cluster import WordcountSettings, add_cluster_option, word_counts, write_word_counts
from toksmith.files import check_output_path
from toksmith.report.output import emit
from toksmith.report.wordcount import render_wordcount
from toksmith.text import clean_text
from toksmith.train.pretokenize import NUMBER_MODES, PATTERNS
from toksmith.train.settings import NORMALIZERS


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "wordcount",
        help="count the pre-tokens of a corpus (for train --from-counts), optionally on Dask",
        description="Count every pre-token of a corpus after the pre-tokenizer 'toksmith "
        "train' uses (regex preset, digit groups, ByteLevel), exactly as HF's BPE trainer "
        "counts them, and write them as TSV (gzip when FILE ends in .gz). 'toksmith train "
        "--algorithm bpe --from-counts FILE' then learns the same merges as training on the "
        "corpus.",
    )
    parser.add_argument("--corpus", action="append", metavar="PATH", required=True,
                        help="file, folder, glob or - (stdin, not with --cluster); repeat "
                        "for several")  # fmt: skip
    parser.add_argument("--pretokenizer", "--pattern", dest="pattern", default="gpt4",
                        metavar="NAME|REGEX",
                        help=f"pre-tokenization regex: {', '.join(PATTERNS)} or your own "
                        "(default gpt4), as train --pattern")  # fmt: skip
    parser.add_argument("--numbers", choices=tuple(NUMBER_MODES),
                        help="digit grouping, as train --numbers")  # fmt: skip
    parser.add_argument("--normalizer", choices=NORMALIZERS, default="none",
                        help="Unicode normalization, as train --normalizer (default none)")  # fmt: skip
    add_errors_option(parser)
    add_cluster_option(parser)
    parser.add_argument("-o", "--output", metavar="FILE", required=True,
                        help="the counts file to write (TSV; .gz compresses)")  # fmt: skip
    add_format_option(parser, ("table", "json"))
    parser.set_defaults(run=run_wordcount)


def run_wordcount(args: argparse.Namespace) -> int:
    settings = WordcountSettings(
        pattern=clean_text(args.pattern, args.errors, what="--pretokenizer"),
        numbers=args.numbers,
        normalizer=args.normalizer,
    )
    common.check_inputs(corpora=args.corpus)
    check_output_path(args.output, args.corpus)
    with progress_bar("counting pre-tokens") as update:
        result = word_counts(
            args.corpus,
            settings,
            cluster=args.cluster,
            errors=args.errors,
            progress=update,
            timeout_s=args.cluster_timeout,
        )
    write_word_counts(result, args.output)
    emit(render_wordcount(result, args.output, args.format), None)
    return 0
