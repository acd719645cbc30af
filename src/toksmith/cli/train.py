"""``toksmith train`` and ``toksmith sweep``: train tokenizers, and search vocabulary sizes."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from toksmith.cli import common
from toksmith.cli.common import (
    add_errors_option,
    add_format_option,
    add_output_option,
    add_output_options,
    add_special_option,
    float_in_range,
    int_in_range,
    progress_bar,
)
from toksmith.errors import UserError
from toksmith.files import check_output_folder_path, check_output_path
from toksmith.report.output import emit
from toksmith.report.plots import plot_sweep
from toksmith.report.train import render_sweep, render_trained
from toksmith.text import clean_text
from toksmith.train import ALGORITHMS, PRESETS, TrainSettings, apply_preset, train_tokenizer
from toksmith.train.output import check_output_folder
from toksmith.train.pretokenize import NUMBER_MODES, PATTERNS
from toksmith.train.settings import NORMALIZERS, validate
from toksmith.train.sweep import parse_vocab_sizes, sweep_vocab_sizes

# The largest vocabulary accepted. 2**24 (16.8M ids) is 60x the largest production vocabulary
# (262k) and far below the trainers' 32-bit id limit: HF's Rust trainer aborts the whole
# process (no exception, no cleanup) on sizes such as 99999999999.
MAX_VOCAB_SIZE = 2**24
MAX_TOKEN_BYTES = 1024
# What matplotlib's Agg backend writes.
PLOT_SUFFIXES = (".png", ".svg", ".pdf")

# argparse destinations that map one-to-one onto TrainSettings fields
_SETTING_OPTIONS = {
    "algorithm", "vocab_size", "pattern", "numbers", "normalizer", "special_tokens",
    "max_token_length", "min_frequency", "transition", "superword_max_subwords", "seed",
    "lib_epochs",
}  # fmt: skip


def register(subcommands: argparse._SubParsersAction) -> None:
    train = subcommands.add_parser(
        "train",
        help="train a tokenizer (bpe, unigram, wordpiece, superbpe, lib)",
        allow_abbrev=False,  # --special is not short for --special-token
        description="Train a byte-level tokenizer and write OUTPUT/tokenizer.json (loads in HF "
        "tokenizers) and OUTPUT/toksmith.json (settings, corpus fingerprint, elapsed time).",
    )
    _add_training_options(train)
    train.add_argument("--vocab-size", type=_size, metavar="N",
                       help="ids in the vocabulary, specials included, e.g. 32000 or 32k "
                       f"(default 32000, at most {MAX_VOCAB_SIZE:,}; LiB: an upper bound, "
                       "default none)")  # fmt: skip
    train.add_argument("--from-wordfreq", metavar="LANGS",
                       help="train on wordfreq word counts of these languages (e.g. en,tr,de) "
                       "instead of a corpus")  # fmt: skip
    train.add_argument("--from-counts", metavar="FILE",
                       help="train BPE from the pre-token counts of 'toksmith wordcount' (TSV, "
                       "optionally .gz) instead of a corpus: the same merges as training on "
                       "the counted corpus")  # fmt: skip
    train.add_argument("--temperature", type=float_in_range(0, 100, low_open=True), default=3.0,
                       help="language balancing for --from-wordfreq: share ∝ size^(1/T), "
                       "above 0 and at most 100 (default 3)")  # fmt: skip
    add_output_option(train, what="FOLDER", required=True)
    train.add_argument("--force", action="store_true",
                       help="replace FOLDER when it already holds a trained tokenizer")  # fmt: skip
    add_format_option(train, ("table", "json"))
    train.set_defaults(run=run_train)

    sweep = subcommands.add_parser(
        "sweep",
        help="train a series of vocabulary sizes and pick the smallest near-best one",
        allow_abbrev=False,
        description="Train one tokenizer per vocabulary size, measure bytes per token on "
        "held-out text (per language for a parallel folder) and report the smallest size within "
        "--tolerance of the best compression.",
    )
    _add_training_options(sweep)
    sweep.add_argument("--vocab-sizes", required=True, type=_sizes, metavar="LIST",
                       help="comma-separated sizes, e.g. 8k,16k,32k,64k "
                       f"(each at most {MAX_VOCAB_SIZE:,})")  # fmt: skip
    sweep.add_argument("--eval", required=True, metavar="PATH", dest="eval_corpus",
                       help="held-out text: file, folder, or parallel folder")  # fmt: skip
    sweep.add_argument("--tolerance", type=float_in_range(0, 0.99), default=0.01,
                       help="within this share of the best bytes/token, 0 to 0.99 "
                       "(default 0.01)")  # fmt: skip
    sweep.add_argument("--out-dir", metavar="FOLDER", default="sweep",
                       help="where the trained tokenizers go, one folder per size "
                       "(default ./sweep)")  # fmt: skip
    sweep.add_argument("--plot", metavar="FILE", type=_plot_path,
                       help="write a plot of held-out bytes/token against vocabulary size "
                       f"({', '.join(PLOT_SUFFIXES)})")  # fmt: skip
    add_special_option(sweep)
    add_output_options(sweep, ("table", "json", "csv", "md"))
    sweep.set_defaults(run=run_sweep)


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--algorithm", choices=ALGORITHMS, default="bpe",
                        help="bpe (byte-level BPE, default), unigram, wordpiece, superbpe (BPE "
                        "with superwords across spaces) or lib (least-effort learner)")  # fmt: skip
    parser.add_argument("--corpus", action="append", metavar="PATH",
                        help="training text: file, folder, glob or -; repeat for several")  # fmt: skip
    parser.add_argument("--preset", choices=tuple(PRESETS),
                        help="domain preset after KL3M: pre-tokenization + special tokens")  # fmt: skip
    parser.add_argument("--pattern", metavar="NAME|REGEX",
                        help=f"pre-tokenization regex: {', '.join(PATTERNS)} or your own "
                        "(default gpt4)")  # fmt: skip
    parser.add_argument("--numbers", choices=tuple(NUMBER_MODES),
                        help="digit grouping: digits (1 2 3), l2r3 (123 4), r2l3 (1 234)")  # fmt: skip
    parser.add_argument("--normalizer", choices=NORMALIZERS,
                        help="Unicode normalization before pre-tokenization: none (default), "
                        "nfc or nfkc")  # fmt: skip
    parser.add_argument("--special-token", dest="special_tokens", action="append",
                        metavar="TOKEN", help="special token; repeat (default <|endoftext|>)")  # fmt: skip
    parser.add_argument("--max-token-length", type=int_in_range(1, MAX_TOKEN_BYTES), metavar="N",
                        help=f"longest token in bytes, 1 to {MAX_TOKEN_BYTES}")  # fmt: skip
    parser.add_argument("--min-frequency", type=int_in_range(0, 2**31 - 1), metavar="N",
                        help="BPE/WordPiece: merge only pairs seen at least N times "
                        "(default 0)")  # fmt: skip
    parser.add_argument("--transition", type=_size, metavar="N",
                        help="SuperBPE: vocabulary size where superwords start (default 90%%)")  # fmt: skip
    parser.add_argument("--superword-max-subwords", type=int_in_range(2, 64), metavar="N",
                        help="SuperBPE: most stage-1 tokens in one superword, 2 to 64 "
                        "(default 4)")  # fmt: skip
    parser.add_argument("--lib-epochs", type=int_in_range(1, 1_000_000), metavar="N",
                        help="LiB: batches to read, at least 1 (default 200)")  # fmt: skip
    parser.add_argument("--seed", type=int_in_range(0, 2**32 - 1), metavar="N",
                        help="random seed of the trainers that sample (LiB; default 0)")  # fmt: skip
    add_errors_option(parser)


def _sizes(text: str) -> list[int]:
    """An argparse ``type``: vocabulary sizes such as ``8k,16k,32000``, each 1 to
    :data:`MAX_VOCAB_SIZE`."""
    try:
        sizes = parse_vocab_sizes(text)
    except UserError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    for size in sizes:
        if not 1 <= size <= MAX_VOCAB_SIZE:
            raise argparse.ArgumentTypeError(
                f"vocabulary size {size:,} out of range: expected 1 to {MAX_VOCAB_SIZE:,}"
            )
    return sizes


def _size(text: str) -> int:
    """An argparse ``type``: one vocabulary size such as ``32000`` or ``32k``."""
    sizes = _sizes(text)
    if len(sizes) != 1:
        raise argparse.ArgumentTypeError(f"one size expected, not {text!r}")
    return sizes[0]


def _plot_path(text: str) -> str:
    """An argparse ``type``: a plot file with an extension matplotlib's Agg backend writes."""
    if Path(text).suffix.lower() not in PLOT_SUFFIXES:
        raise argparse.ArgumentTypeError(
            f"plot file {text!r}: expected a name ending in {', '.join(PLOT_SUFFIXES)}"
        )
    return text


def settings_from_args(args: argparse.Namespace) -> TrainSettings:
    """TrainSettings from the options given; a preset fills in what was not given."""
    names = {f.name for f in fields(TrainSettings)}
    given = {
        name: getattr(args, name)
        for name in _SETTING_OPTIONS & names
        if getattr(args, name, None) is not None
    }
    # Text from the command line reaches HF's trainer only as valid Unicode.
    if "special_tokens" in given:
        given["special_tokens"] = tuple(
            clean_text(token, args.errors, what="--special-token")
            for token in given["special_tokens"]
        )
    if "pattern" in given:
        given["pattern"] = clean_text(given["pattern"], args.errors, what="--pattern")
    if args.algorithm == "lib" and "vocab_size" not in given:
        given["vocab_size"] = None
    settings = TrainSettings(**given)
    return apply_preset(settings, args.preset, set(given))


def run_train(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    validate(settings)
    corpus = args.corpus or []
    if args.from_counts is not None:
        return _train_from_counts(args, settings, corpus)
    # Inputs and the output folder are checked before any work (reading, training).
    common.check_inputs(corpora=corpus)
    check_output_folder(args.output, corpus, force=args.force)
    languages = [x for x in (args.from_wordfreq or "").split(",") if x.strip()]
    with progress_bar(f"training {settings.algorithm}") as update:
        result = train_tokenizer(
            settings,
            args.output,
            corpus=corpus,
            wordfreq_languages=languages,
            temperature=args.temperature,
            errors=args.errors,
            progress=update,
        )
    emit(render_trained(result, args.format, settings.preset), None)
    return 0


def _train_from_counts(args: argparse.Namespace, settings: TrainSettings, corpus: list[str]) -> int:
    """``train --from-counts FILE``: BPE from a ``toksmith wordcount`` file, whose own
    pre-tokenization settings are used (a conflicting --pattern/--numbers/--normalizer is
    refused)."""
    from toksmith.train.from_counts import train_from_counts

    if corpus or args.from_wordfreq:
        raise UserError("--from-counts replaces --corpus and --from-wordfreq: give only one")
    common.check_inputs(corpora=[args.from_counts])
    check_output_folder(args.output, [args.from_counts], force=args.force)
    explicit = {n for n in ("pattern", "numbers", "normalizer") if getattr(args, n) is not None}
    with progress_bar("training bpe from counts") as update:
        result = train_from_counts(
            settings, args.output, args.from_counts, explicit=explicit, progress=update
        )
    emit(render_trained(result, args.format, settings.preset), None)
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    sizes: list[int] = args.vocab_sizes
    corpus = args.corpus or []
    inputs = [*corpus, args.eval_corpus]
    common.check_inputs(corpora=inputs)
    check_output_folder_path(args.out_dir, inputs)
    check_output_path(args.output, inputs)
    check_output_path(args.plot, inputs)
    with progress_bar(f"sweeping {settings.algorithm}") as update:
        result = sweep_vocab_sizes(
            settings,
            sizes,
            args.out_dir,
            corpus=corpus,
            eval_corpus=args.eval_corpus,
            tolerance=args.tolerance,
            errors=args.errors,
            special=args.special,
            progress=update,
        )
    if args.plot:
        plot_sweep(result, args.plot)
    emit(render_sweep(result, args.format), args.output)
    return 0
