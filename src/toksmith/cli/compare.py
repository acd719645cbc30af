"""``toksmith compare``: every measure per tokenizer × language."""

from __future__ import annotations

import argparse

from toksmith.cli import common
from toksmith.cli.common import (
    add_errors_option,
    add_output_options,
    add_tokenizer_option,
    float_in_range,
    progress_bar,
)
from toksmith.cluster.engine import add_cluster_option
from toksmith.errors import UserError
from toksmith.files import check_output_path
from toksmith.metrics import compare_corpus, compare_wordfreq
from toksmith.report import FORMATS, emit, render_compare


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "compare",
        help="compare tokenizers on a corpus (default: wordfreq word lists)",
        description="Measure tokenizers on a corpus: a parallel folder (one file per language) "
        "gives rows per language and premiums; a file, folder, glob or '-' is one corpus; "
        "without --corpus the wordfreq word-frequency lists of ~40 languages are used.",
    )
    add_tokenizer_option(parser)
    parser.add_argument("--corpus", metavar="PATH", help="file, folder, glob or - (stdin)")
    parser.add_argument("--reference", metavar="LANG", help="language premiums are relative to")
    parser.add_argument("--languages", metavar="LIST", help="comma-separated languages to keep")
    parser.add_argument(
        "--memory",
        metavar="MIB",
        type=float_in_range(0),
        default=None,
        help="measure the tokenizers in groups that hold at most about MIB MiB of vocabularies, "
        "one pass over the corpus each (default 600; 0: one pass, all loaded at once: faster, "
        "more memory); the numbers are the same",
    )
    add_errors_option(parser)
    add_output_options(parser, tuple(FORMATS))
    add_cluster_option(parser)
    parser.set_defaults(run=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    if args.cluster and args.corpus is None:
        raise UserError("--cluster needs --corpus (the wordfreq default runs in one process)")
    common.check_inputs(corpora=[args.corpus])
    check_output_path(args.output, [args.corpus])
    languages = (
        [x.strip() for x in args.languages.split(",") if x.strip()] if args.languages else None
    )
    if args.cluster:
        from toksmith.cluster import compare_on_cluster
        from toksmith.tokenizers import expand_specs

        # Workers load the tokenizers from their specs; nothing loaded here is sent to them.
        with progress_bar("measuring on the cluster") as update:
            result = compare_on_cluster(
                expand_specs(args.tokenizers or ["all"]),
                args.corpus,
                cluster=args.cluster,
                special=args.special,
                reference=args.reference,
                errors=args.errors,
                languages=languages,
                progress=update,
                timeout_s=args.cluster_timeout,
            )
        emit(render_compare(result, args.format), args.output)
        return 0
    tokenizers = common.load_tokenizers(args.tokenizers, args.special)
    with progress_bar("measuring") as update:
        if args.corpus is None:
            result = compare_wordfreq(tokenizers, languages, progress=update)
        else:
            result = compare_corpus(
                tokenizers,
                args.corpus,
                reference=args.reference,
                errors=args.errors,
                languages=languages,
                progress=update,
                memory_mib=float("inf") if args.memory == 0 else args.memory,
            )
    emit(render_compare(result, args.format), args.output)
    return 0
