"""``toksmith train`` and ``toksmith sweep``: train tokenizers, and search vocabulary sizes."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, fields

from toksmith.cli.common import progress_bar
from toksmith.report.output import emit
from toksmith.report.tables import Table, render_table
from toksmith.train import ALGORITHMS, PRESETS, TrainSettings, apply_preset, train_tokenizer
from toksmith.train.pretokenize import NUMBER_MODES, PATTERNS
from toksmith.train.settings import NORMALIZERS
from toksmith.train.sweep import parse_vocab_sizes, plot_sweep, sweep_vocab_sizes

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
        description="Train a byte-level tokenizer and write OUTPUT/tokenizer.json (loads in HF "
        "tokenizers) and OUTPUT/toksmith.json (settings, corpus fingerprint, elapsed time).",
    )
    _add_training_options(train)
    train.add_argument("--vocab-size", type=_size, metavar="N",
                       help="ids in the vocabulary, specials included (default 32000; "
                       "LiB: an upper bound, default none)")  # fmt: skip
    train.add_argument("--from-wordfreq", metavar="LANGS",
                       help="train on wordfreq word counts of these languages (e.g. en,tr,de) "
                       "instead of a corpus")  # fmt: skip
    train.add_argument("--temperature", type=float, default=3.0,
                       help="language balancing for --from-wordfreq: share ∝ size^(1/T) "
                       "(default 3)")  # fmt: skip
    train.add_argument("-o", "--output", required=True, metavar="FOLDER", help="output folder")
    train.add_argument("--format", choices=("table", "json"), default="table")
    train.set_defaults(run=run_train)

    sweep = subcommands.add_parser(
        "sweep",
        help="train a series of vocabulary sizes and pick the smallest near-best one",
        description="Train one tokenizer per vocabulary size, measure bytes per token on "
        "held-out text (per language for a parallel folder) and report the smallest size within "
        "--tolerance of the best compression.",
    )
    _add_training_options(sweep)
    sweep.add_argument("--vocab-sizes", required=True, metavar="LIST",
                       help="comma-separated sizes, e.g. 8k,16k,32k,64k")  # fmt: skip
    sweep.add_argument("--eval", required=True, metavar="PATH", dest="eval_corpus",
                       help="held-out text: file, folder, or parallel folder")  # fmt: skip
    sweep.add_argument("--tolerance", type=float, default=0.01,
                       help="within this share of the best bytes/token (default 0.01)")  # fmt: skip
    sweep.add_argument("--out-dir", metavar="FOLDER", default="sweep",
                       help="where the trained tokenizers go (default ./sweep)")  # fmt: skip
    sweep.add_argument("--plot", metavar="FILE", help="write a PNG/SVG plot")
    sweep.add_argument("--format", choices=("table", "json", "csv", "md"), default="table")
    sweep.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    sweep.set_defaults(run=run_sweep)


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--algorithm", choices=ALGORITHMS, default="bpe")
    parser.add_argument("--corpus", action="append", metavar="PATH",
                        help="training text: file, folder, glob or -; repeat for several")  # fmt: skip
    parser.add_argument("--preset", choices=tuple(PRESETS),
                        help="domain preset after KL3M: pre-tokenization + special tokens")  # fmt: skip
    parser.add_argument("--pattern", metavar="NAME|REGEX",
                        help=f"pre-tokenization regex: {', '.join(PATTERNS)} or your own "
                        "(default gpt4)")  # fmt: skip
    parser.add_argument("--numbers", choices=tuple(NUMBER_MODES),
                        help="digit grouping: digits (1 2 3), l2r3 (123 4), r2l3 (1 234)")  # fmt: skip
    parser.add_argument("--normalizer", choices=NORMALIZERS)
    parser.add_argument("--special-token", dest="special_tokens", action="append",
                        metavar="TOKEN", help="special token; repeat (default <|endoftext|>)")  # fmt: skip
    parser.add_argument("--max-token-length", type=int, metavar="N",
                        help="longest token in bytes")  # fmt: skip
    parser.add_argument("--min-frequency", type=int, metavar="N")
    parser.add_argument("--transition", type=_size, metavar="N",
                        help="SuperBPE: vocabulary size where superwords start (default 90%%)")  # fmt: skip
    parser.add_argument("--superword-max-subwords", type=int, metavar="N",
                        help="SuperBPE: most stage-1 tokens in one superword (default 4)")  # fmt: skip
    parser.add_argument("--lib-epochs", type=int, metavar="N", help="LiB batches to read")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--errors", choices=("strict", "replace"), default="strict",
                        help="invalid UTF-8 in the corpus: fail (default) or replace")  # fmt: skip


def _size(text: str) -> int:
    sizes = parse_vocab_sizes(text)
    if len(sizes) != 1:
        raise argparse.ArgumentTypeError(f"one size expected, not {text!r}")
    return sizes[0]


def settings_from_args(args: argparse.Namespace) -> TrainSettings:
    """TrainSettings from the options given; a preset fills in what was not given."""
    names = {f.name for f in fields(TrainSettings)}
    given = {
        name: getattr(args, name)
        for name in _SETTING_OPTIONS & names
        if getattr(args, name, None) is not None
    }
    if "special_tokens" in given:
        given["special_tokens"] = tuple(given["special_tokens"])
    if args.algorithm == "lib" and "vocab_size" not in given:
        given["vocab_size"] = None
    settings = TrainSettings(**given)
    return apply_preset(settings, args.preset, set(given))


def run_train(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    languages = [x for x in (args.from_wordfreq or "").split(",") if x.strip()]
    with progress_bar(f"training {settings.algorithm}") as update:
        result = train_tokenizer(
            settings,
            args.output,
            corpus=args.corpus or (),
            wordfreq_languages=languages,
            temperature=args.temperature,
            errors=args.errors,
            progress=update,
        )
    if args.format == "json":
        data = {
            "output": str(result.output),
            "algorithm": result.algorithm,
            "vocab_size": result.vocab_size,
            "elapsed_s": round(result.elapsed_s, 3),
            "corpus": asdict(result.corpus),
            "details": result.details,
        }
        emit(json.dumps(data, indent=2, ensure_ascii=False), None)
        return 0
    rows: list[list[object]] = [
        ["tokenizer", str(result.tokenizer_json)],
        [
            "algorithm",
            result.algorithm + (f" (preset {settings.preset})" if settings.preset else ""),
        ],
        ["vocabulary", result.vocab_size],
        ["trained on", ", ".join(result.corpus.sources)],
        ["corpus bytes", result.corpus.bytes],
        ["elapsed (s)", round(result.elapsed_s, 2)],
    ]
    for key, value in result.details.items():
        rows.append(
            [key, json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value]
        )
    emit(render_table(Table("trained", ["", "value"], rows), "table"), None)
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    sizes = parse_vocab_sizes(args.vocab_sizes)
    with progress_bar(f"sweeping {settings.algorithm}") as update:
        result = sweep_vocab_sizes(
            settings,
            sizes,
            args.out_dir,
            corpus=args.corpus or (),
            eval_corpus=args.eval_corpus,
            tolerance=args.tolerance,
            progress=update,
        )
    if args.plot:
        plot_sweep(result, args.plot)
    if args.format == "json":
        data = {
            "algorithm": result.algorithm,
            "vocab_sizes": result.vocab_sizes,
            "tolerance": result.tolerance,
            "points": [asdict(p) for p in result.points],
            "choices": [asdict(c) for c in result.choices],
        }
        emit(json.dumps(data, indent=2), args.output)
        return 0
    chosen = {c.language: c for c in result.choices}
    table = Table(
        f"{result.algorithm} vocabulary sweep (held-out bytes per token)",
        ["language", *[f"{size:,}" for size in result.vocab_sizes], "best", "chosen"],
        [],
        footer=[
            f"chosen = smallest vocabulary within {result.tolerance:.0%} of the best "
            "bytes/token of that language"
        ],
    )
    for language, choice in chosen.items():
        by_size = {p.vocab_size: p.bytes_per_token for p in result.points if p.language == language}
        table.rows.append(
            [
                language,
                *[by_size.get(s) for s in result.vocab_sizes],
                choice.best_vocab_size,
                choice.chosen_vocab_size,
            ]  # fmt: skip
        )
    emit(render_table(table, args.format), args.output)
    return 0
