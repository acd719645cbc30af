"""``toksmith adapt``: transplant a model to a new tokenizer, compare models in bits per byte,
and measure dynamic batch-level merges.

Argument parsing only: each subcommand checks its inputs and outputs before any work, calls one
feature function of ``toksmith.adapt`` and hands the result to ``toksmith.report.adapt``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from toksmith.cli.common import (
    add_command_group,
    add_errors_option,
    add_format_option,
    add_output_option,
    add_tokenizer_option,
    check_inputs,
    check_output,
    int_in_range,
    load_tokenizers,
    progress_bar,
)
from toksmith.errors import UserError
from toksmith.files import check_output_folder_path
from toksmith.report.output import emit

FORMATS = ("table", "json", "csv", "md")
MAX_K = 4096
MAX_MERGES = 1_000_000


def register(subcommands: argparse._SubParsersAction) -> None:
    adapt_subcommands = add_command_group(
        subcommands,
        "adapt",
        help="adapt a model to a new tokenizer: transplant embeddings, compare, dynamic merges",
        description="Adapt a model to a new tokenizer. Each subcommand prints a report.",
    )
    _register_transplant(adapt_subcommands)
    _register_eval(adapt_subcommands)
    _register_dynamic(adapt_subcommands)


# ---- transplant ----------------------------------------------------------------------------


def _register_transplant(subcommands: argparse._SubParsersAction) -> None:
    from toksmith.adapt.methods import METHODS

    parser = subcommands.add_parser(
        "transplant",
        help="give a model a new tokenizer: shared tokens copied, the others estimated",
        description="Write a copy of a model folder (config.json, model.safetensors, "
        "tokenizer.json) that uses a new tokenizer. Tokens both vocabularies share keep their "
        "rows; the others are estimated by --method.",
    )
    parser.add_argument("--model", required=True, metavar="DIR", help="the base model folder")
    parser.add_argument(
        "--tokenizer", required=True, metavar="FILE", help="the new tokenizer.json (or its folder)"
    )
    parser.add_argument("--method", required=True, choices=METHODS, help="how new rows are built")
    parser.add_argument(
        "--k",
        type=int_in_range(1, MAX_K),
        default=64,
        help="omp: anchor tokens per new token (default 64)",
    )
    parser.add_argument(
        "--donor",
        metavar="DIR",
        help="omp: a donor model folder whose vocabulary knows the new tokens",
    )
    parser.add_argument(
        "--donor-layer",
        type=int_in_range(0, 1000),
        metavar="L",
        help="omp without --donor, BERT models: the donor space is the base model's own hidden "
        "state after L layers of each new token's old pieces (4 for all-MiniLM-L6-v2, chosen "
        "on a development split; see the README)",
    )
    parser.add_argument(
        "--corpus",
        metavar="PATH",
        help="focus (and omp without --donor or --donor-layer): text to train static token "
        "vectors on",
    )
    parser.add_argument(
        "--max-texts",
        type=int_in_range(1, 10_000_000),
        default=200_000,
        help="read at most this many corpus segments (default 200,000)",
    )
    add_errors_option(parser)
    add_format_option(parser, FORMATS)
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="the new model folder (must not exist)")  # fmt: skip
    parser.set_defaults(run=run_transplant)


def run_transplant(args: argparse.Namespace) -> int:
    from toksmith.adapt.transplant import transplant
    from toksmith.report.adapt import render_transplant

    for folder in [args.model, args.donor]:
        if folder is not None and not Path(folder).expanduser().is_dir():
            raise UserError(f"model folder {folder} does not exist")
    if not Path(args.tokenizer).expanduser().exists():
        raise UserError(f"tokenizer file {args.tokenizer} does not exist")
    if args.corpus is not None:
        check_inputs(corpora=[args.corpus])
    if Path(args.output).expanduser().exists():
        raise UserError(f"output folder {args.output} already exists: choose a new folder")
    check_output_folder_path(args.output, [args.model, args.tokenizer, args.donor, args.corpus])
    texts = _read_texts(args.corpus, args.errors, args.max_texts) if args.corpus else None
    with progress_bar(f"transplant ({args.method})") as update:
        result = transplant(
            args.model,
            args.tokenizer,
            args.output,
            args.method,
            k=args.k,
            donor=args.donor,
            donor_layer=args.donor_layer,
            corpus_texts=texts,
            corpus=args.corpus,
            progress=update,
        )
    emit(render_transplant(result, args.format), None)
    return 0


def _read_texts(corpus: str, errors: str, limit: int) -> list[str]:
    from toksmith.corpus import iter_texts

    texts: list[str] = []
    for text in iter_texts(corpus, errors=errors):  # type: ignore[arg-type]
        texts.append(text)
        if len(texts) >= limit:
            break
    return texts


# ---- eval ----------------------------------------------------------------------------------


def _register_eval(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "eval",
        help="bits per byte of causal LMs on held-out text, side by side",
        description="Score model folders on held-out text in bits per byte (never per-token "
        "perplexity: perplexities under different tokenizers do not compare).",
    )
    parser.add_argument("--model", dest="models", action="append", required=True,
                        metavar="DIR", help="a model folder; repeat to compare")  # fmt: skip
    parser.add_argument("--corpus", required=True, metavar="PATH", help="held-out text")
    parser.add_argument(
        "--max-texts",
        type=int_in_range(1, 10_000_000),
        default=10_000,
        help="score at most this many segments (default 10,000)",
    )
    add_errors_option(parser)
    add_format_option(parser, FORMATS)
    add_output_option(parser)
    parser.set_defaults(run=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from toksmith.adapt.evaluate import evaluate_models
    from toksmith.report.adapt import render_eval

    for folder in args.models:
        if not Path(folder).expanduser().is_dir():
            raise UserError(f"model folder {folder} does not exist")
    check_inputs(corpora=[args.corpus])
    check_output(args.output, [args.corpus, *args.models])
    texts = _read_texts(args.corpus, args.errors, args.max_texts)
    with progress_bar("scoring") as update:
        result = evaluate_models(args.models, texts, corpus=args.corpus, progress=update)
    emit(render_eval(result, args.format), args.output)
    return 0


# ---- dynamic -------------------------------------------------------------------------------


def _merge_counts(text: str) -> list[int]:
    """An argparse ``type``: comma-separated numbers of merges, e.g. ``0,100,1000``."""
    counts: list[int] = []
    for item in text.split(","):
        item = item.strip().replace("_", "")
        if not item.isdigit():
            raise argparse.ArgumentTypeError(
                f"expected comma-separated whole numbers such as 0,100,1000, got {text!r}"
            )
        value = int(item)
        if value > MAX_MERGES:
            raise argparse.ArgumentTypeError(f"at most {MAX_MERGES:,} merges, got {value:,}")
        counts.append(value)
    return sorted(set(counts))


def _register_dynamic(subcommands: argparse._SubParsersAction) -> None:
    from toksmith.adapt.dynamic import BOUNDARIES

    parser = subcommands.add_parser(
        "dynamic",
        help="length reduction of BPE merges learned per batch (dynamic tokenization)",
        description="Learn BPE-style merges on each batch of sequences, on top of a "
        "tokenizer's ids, never across word or pre-token boundaries or special tokens, and "
        "report the length reduction against the number of merges.",
    )
    add_tokenizer_option(parser, default_all=False, required=True)
    parser.add_argument("--corpus", required=True, metavar="PATH", help="text to tokenize")
    parser.add_argument("--merges", type=_merge_counts, default=[0, 100, 1000, 10000],
                        help="numbers of merges per batch (default 0,100,1000,10000)")  # fmt: skip
    parser.add_argument("--boundary", choices=BOUNDARIES, default="word",
                        help="what no merge crosses (default word)")  # fmt: skip
    parser.add_argument("--batch-size", type=int_in_range(1, 65_536), default=32,
                        help="sequences per batch (default 32)")  # fmt: skip
    parser.add_argument("--max-length", type=int_in_range(1, 1_000_000), default=512,
                        help="tokens per sequence at most (default 512)")  # fmt: skip
    parser.add_argument("--min-count", type=int_in_range(1, 1_000_000), default=2,
                        help="merge a pair only while it occurs this often in the batch "
                        "(default 2)")  # fmt: skip
    parser.add_argument(
        "--max-texts",
        type=int_in_range(1, 10_000_000),
        default=100_000,
        help="read at most this many segments (default 100,000)",
    )
    parser.add_argument("--plot", metavar="FILE", help="write the curve as PNG, SVG or PDF")
    add_errors_option(parser)
    add_format_option(parser, FORMATS)
    add_output_option(parser)
    parser.set_defaults(run=run_dynamic)


def run_dynamic(args: argparse.Namespace) -> int:
    from toksmith.adapt.dynamic import DynamicReport, dynamic_lengths
    from toksmith.report.adapt import plot_dynamic, render_dynamic
    from toksmith.report.plots import plot_format

    check_inputs(corpora=[args.corpus])
    check_output(args.output, [args.corpus])
    if args.plot:
        plot_format(args.plot)
        check_output(args.plot, [args.corpus, args.output])
    texts = _read_texts(args.corpus, args.errors, args.max_texts)
    tokenizers = load_tokenizers(args.tokenizers, args.special)
    results = []
    with progress_bar("dynamic merges") as update:
        for tokenizer in tokenizers:
            results.append(
                dynamic_lengths(
                    tokenizer,
                    texts,
                    args.merges,
                    boundary=args.boundary,
                    batch_size=args.batch_size,
                    max_length=args.max_length,
                    min_count=args.min_count,
                    progress=update,
                )
            )
    report = DynamicReport(corpus=args.corpus, results=results)
    emit(render_dynamic(report, args.format), args.output)
    if args.plot:
        plot_dynamic(report, args.plot)
    return 0
