"""``toksmith audit``: vocab, coverage, morphology, numbers, chars (and mixture, see below).

Argument parsing only: each subcommand checks its inputs and output, loads the tokenizers,
calls one feature function of ``toksmith.audit`` and hands the result to
``toksmith.report.audit``, which renders it as a terminal report, JSON or Markdown.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from toksmith.cli.common import (
    add_errors_option,
    add_format_option,
    add_output_option,
    add_tokenizer_option,
    check_inputs,
    check_output,
    int_in_range,
    load_tokenizers,
)
from toksmith.errors import UserError
from toksmith.report.output import emit, write_atomic
from toksmith.tokenizers import Tokenizer, expand_specs

FORMATS = ("table", "json", "md")
# Larger runs are possible but would hold every sample in memory; they are not what the
# audits are for.
MAX_SAMPLES = 1_000_000
MAX_TASKS = 10_000_000


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "audit",
        help="audit a vocabulary: problem tokens, coverage, morphology, numbers, characters",
        description="Audit tokenizer vocabularies. Each subcommand prints a report.",
    )
    audit_subcommands = parser.add_subparsers(dest="audit_command", metavar="AUDIT")
    parser.set_defaults(run=lambda args: _missing_subcommand(parser))
    _register_vocab(audit_subcommands)
    _register_coverage(audit_subcommands)
    _register_morphology(audit_subcommands)
    _register_numbers(audit_subcommands)
    _register_chars(audit_subcommands)

    # ---- hook: `audit mixture` is owned by the data-mixture feature -----------------------
    from toksmith.cli import audit_mixture

    audit_mixture.register(audit_subcommands)


def _missing_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _common(parser: argparse.ArgumentParser, *, errors: bool = True, required: bool = True) -> None:
    add_tokenizer_option(parser, default_all=False, required=required)
    add_format_option(parser, FORMATS)
    add_output_option(parser)
    if errors:
        add_errors_option(parser)


def _specs(args: argparse.Namespace) -> list[str]:
    """The tokenizer specs given with -t, ``all`` expanded."""
    return expand_specs(args.tokenizers or [])


def check_paths(
    output: str | None, *, files: Sequence[str | None] = (), corpora: Sequence[str | None] = ()
) -> None:
    """Fail before any tokenizer is loaded when an input file or corpus is missing, or when
    ``output`` cannot be written or would overwrite one of the inputs."""
    check_inputs(corpora=corpora, files=files)
    check_output(output, [*files, *corpora])


def comma_list(value: str) -> list[str]:
    """An argparse ``type``: comma-separated names, blanks dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]


def _id_list(value: str) -> list[int]:
    try:
        ids = [int(item) for item in comma_list(value)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated ids, got {value!r}") from None
    if any(token_id < 0 for token_id in ids):
        raise argparse.ArgumentTypeError(f"expected ids of 0 or more, got {value!r}")
    return ids


# ---- audit vocab ------------------------------------------------------------------------------


def _register_vocab(audit_subcommands: argparse._SubParsersAction) -> None:
    parser = audit_subcommands.add_parser(
        "vocab",
        help="problem tokens: unreachable, partial UTF-8, unused, duplicates, under-trained",
        description="Flag problem tokens of each tokenizer, by indicator. With --weights, add "
        "the under-trained indicator of 'Fishing for Magikarp' (2024) from a safetensors matrix.",
    )
    _common(parser)
    parser.add_argument("--corpus", help="also flag tokens never produced on this corpus")
    parser.add_argument("--weights", metavar="FILE", help="safetensors file of the model")
    parser.add_argument(
        "--embedding-key", metavar="NAME", help="tensor name of the (un)embedding matrix"
    )
    parser.add_argument(
        "--reference-ids",
        metavar="IDS",
        type=_id_list,
        help="comma-separated ids known to be unused (default: tokens flagged unused_special, "
        "unreachable or empty_id)",
    )
    parser.add_argument("--components", type=int_in_range(0), default=1, metavar="N",
                        help="principal components removed (default 1)")  # fmt: skip
    parser.add_argument("--top", type=int_in_range(0), default=20, metavar="N",
                        help="length of the under-trained ranking (default 20)")  # fmt: skip
    parser.add_argument("--examples", type=int_in_range(0), default=4, metavar="N",
                        help="example tokens shown per indicator (default 4)")  # fmt: skip
    parser.set_defaults(run=run_vocab)


def run_vocab(args: argparse.Namespace) -> int:
    from toksmith.audit.vocab import audit_vocabularies
    from toksmith.report.audit import render_vocab

    if args.weights and not args.embedding_key:
        raise UserError("--weights needs --embedding-key NAME (the tensor to read)")
    if args.embedding_key and not args.weights:
        raise UserError("--embedding-key needs --weights FILE")
    specs = _specs(args)
    if args.weights and len(specs) != 1:
        raise UserError("--weights belongs to one model: give exactly one tokenizer with it")
    check_paths(args.output, files=[args.weights], corpora=[args.corpus])
    report = audit_vocabularies(
        load_tokenizers(specs, args.special),
        corpus=args.corpus,
        errors=args.errors,
        weights=args.weights,
        embedding_key=args.embedding_key,
        reference_ids=args.reference_ids,
        components=args.components,
        top=args.top,
        examples=args.examples,
    )
    emit(render_vocab(report, args.format), args.output)
    return 0


# ---- audit coverage ---------------------------------------------------------------------------


def _register_coverage(audit_subcommands: argparse._SubParsersAction) -> None:
    parser = audit_subcommands.add_parser(
        "coverage",
        help="which scripts and languages the vocabulary serves",
        description="Tokens per Unicode script and category (Qtok, 2025); with a parallel "
        "corpus, per-language coverage, average rank and overlap (Limisiewicz et al., 2023).",
    )
    _common(parser)
    parser.add_argument("--corpus", help="a parallel corpus folder (e.g. the UDHR) or a corpus")
    parser.add_argument("--languages", type=comma_list, metavar="LIST",
                        help="comma-separated languages to measure")  # fmt: skip
    parser.add_argument("--overlap", type=comma_list, metavar="LIST",
                        help="comma-separated languages to compare pairwise")  # fmt: skip
    parser.add_argument("--scripts", type=int_in_range(1), default=12, metavar="N",
                        help="scripts shown in the table (default 12; JSON has all)")  # fmt: skip
    parser.set_defaults(run=run_coverage)


def run_coverage(args: argparse.Namespace) -> int:
    from toksmith.audit.coverage import audit_coverage
    from toksmith.report.audit import render_coverage

    specs = _specs(args)
    check_paths(args.output, corpora=[args.corpus])
    reports = [
        audit_coverage(
            tokenizer,
            corpus=args.corpus,
            languages=args.languages or None,
            overlap_languages=args.overlap or None,
            errors=args.errors,
        )
        for tokenizer in load_tokenizers(specs, args.special)
    ]
    emit(render_coverage(reports, args.format, scripts=args.scripts), args.output)
    return 0


# ---- audit morphology -------------------------------------------------------------------------


def _register_morphology(audit_subcommands: argparse._SubParsersAction) -> None:
    parser = audit_subcommands.add_parser(
        "morphology",
        help="%%TR and %%Pure: tokens that are words and morphemes of a language",
        description="%TR (tokens that are valid words) and %Pure (tokens on morpheme "
        "boundaries) next to fertility (Bayram et al., 2025). Turkish uses the zeyrek analyzer.",
    )
    _common(parser)
    parser.add_argument("--language", required=True, help="language code, e.g. tr or tur")
    parser.add_argument(
        "--corpus", help="text to tokenize (default: the 5,000 most frequent wordfreq words)"
    )
    parser.add_argument("--lexicon", metavar="FILE", help="word list file, one word per line")
    parser.add_argument("--segmentation", metavar="FILE",
                        help="file of 'word<TAB>morph morph ...' lines")  # fmt: skip
    parser.set_defaults(run=run_morphology)


def run_morphology(args: argparse.Namespace) -> int:
    from toksmith.audit.morphology import audit_morphology, resolve_language
    from toksmith.report.audit import render_morphology

    specs = _specs(args)
    check_paths(args.output, files=[args.lexicon, args.segmentation], corpora=[args.corpus])
    if args.lexicon is None:  # a language wordfreq does not know needs a lexicon file
        resolve_language(args.language)
    report = audit_morphology(
        load_tokenizers(specs, args.special),
        args.language,
        corpus=args.corpus,
        lexicon=args.lexicon,
        segmentation=args.segmentation,
        errors=args.errors,
    )
    emit(render_morphology(report, args.format), args.output)
    return 0


# ---- audit numbers ----------------------------------------------------------------------------


def _register_numbers(audit_subcommands: argparse._SubParsersAction) -> None:
    parser = audit_subcommands.add_parser(
        "numbers",
        help="how numbers of 1-12 digits are cut into tokens",
        description="Digit grouping per tokenizer (Singh and Strouse, 'Tokenization counts', "
        "2024): single digits, left-to-right or right-to-left groups, or irregular.",
    )
    _common(parser, errors=False)  # reads no text: the numbers are generated
    parser.add_argument("--max-digits", type=int_in_range(1, 18), default=12, metavar="N",
                        help="longest numbers tested, in digits (1-18, default 12)")  # fmt: skip
    parser.add_argument("--samples", type=int_in_range(1, MAX_SAMPLES), default=200, metavar="N",
                        help="random numbers per length (default 200)")  # fmt: skip
    parser.add_argument("--seed", type=int_in_range(0), default=0,
                        help="seed of the random numbers (default 0)")  # fmt: skip
    parser.set_defaults(run=run_numbers)


def run_numbers(args: argparse.Namespace) -> int:
    from toksmith.audit.numbers import audit_numbers
    from toksmith.report.audit import render_numbers

    specs = _specs(args)
    check_paths(args.output)
    audits = [
        audit_numbers(tokenizer, max_digits=args.max_digits, samples=args.samples, seed=args.seed)
        for tokenizer in load_tokenizers(specs, args.special)
    ]
    emit(render_numbers(audits, args.format), args.output)
    return 0


# ---- audit chars ------------------------------------------------------------------------------


def _task_kinds(value: str) -> list[str]:
    from toksmith.audit.chars import TASK_KINDS

    kinds = comma_list(value)
    for kind in kinds:
        if kind not in TASK_KINDS:
            raise argparse.ArgumentTypeError(
                f"unknown task kind {kind!r}; expected one of {', '.join(TASK_KINDS)}"
            )
    if not kinds:
        raise argparse.ArgumentTypeError(f"expected task kinds, got {value!r}")
    return kinds


def _register_chars(audit_subcommands: argparse._SubParsersAction) -> None:
    parser = audit_subcommands.add_parser(
        "chars",
        help="character counting/locating tasks (CharBench-style) and their scorer",
        description="--emit-tasks N writes N tasks as JSONL to -o FILE with how each tokenizer "
        "cuts the word (the report goes to stdout); --score ANSWERS --tasks FILE reports "
        "accuracy split by token properties (to -o FILE when given).",
    )
    _common(parser, required=False)
    parser.add_argument("--emit-tasks", type=int_in_range(1, MAX_TASKS), metavar="N",
                        help="number of tasks to write")  # fmt: skip
    parser.add_argument("--words", metavar="FILE",
                        help="word list file (default: frequent English words)")  # fmt: skip
    parser.add_argument("--kinds", type=_task_kinds, default=["count", "locate"], metavar="LIST",
                        help="task kinds, comma-separated: count, locate (default both)")  # fmt: skip
    parser.add_argument("--seed", type=int_in_range(0), default=0,
                        help="seed for drawing words and letters (default 0)")  # fmt: skip
    parser.add_argument("--tasks", metavar="FILE",
                        help="tasks JSONL written by --emit-tasks (for --score)")  # fmt: skip
    parser.add_argument("--score", metavar="ANSWERS", help='JSONL of {"id", "answer"} to score')
    parser.add_argument("--answer-field", default="answer", metavar="NAME",
                        help="field of each answer record holding the answer (default answer)")  # fmt: skip
    parser.set_defaults(run=run_chars)


def run_chars(args: argparse.Namespace) -> int:
    if args.score:
        return _score_chars(args)
    return _emit_chars(args)


def _score_chars(args: argparse.Namespace) -> int:
    from toksmith.audit.chars import score_answers
    from toksmith.report.audit import render_char_score

    if not args.tasks:
        raise UserError("--score needs --tasks FILE (the tasks the answers belong to)")
    check_paths(args.output, files=[args.tasks, args.score])
    score = score_answers(args.tasks, args.score, answer_field=args.answer_field)
    emit(render_char_score(score, args.format), args.output)
    return 0


def _emit_chars(args: argparse.Namespace) -> int:
    from toksmith.audit.chars import (
        default_words,
        make_tasks,
        read_words,
        summarize_tasks,
        tasks_jsonl,
    )
    from toksmith.report.audit import render_task_set

    if args.emit_tasks is None:
        raise UserError("give --emit-tasks N (with -o FILE) or --score ANSWERS --tasks FILE")
    if not args.output:
        raise UserError("--emit-tasks needs -o FILE for the tasks JSONL")
    if not args.tokenizers:
        raise UserError("--emit-tasks needs at least one -t TOKENIZER")
    specs = _specs(args)
    check_paths(args.output, files=[args.words])
    tokenizers: list[Tokenizer] = load_tokenizers(specs, args.special)
    words = read_words(args.words, args.errors) if args.words else default_words()
    tasks = make_tasks(words, tokenizers, count=args.emit_tasks, seed=args.seed, kinds=args.kinds)
    write_atomic(args.output, tasks_jsonl(tasks))
    task_set = summarize_tasks(tasks, [t.name for t in tokenizers], tasks_file=args.output)
    # -o named the tasks file; the report goes to stdout.
    emit(render_task_set(task_set, args.format), None)
    return 0
