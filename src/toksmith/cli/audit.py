"""``toksmith audit``: vocab, coverage, morphology, numbers, chars (and mixture, see below).

Argument parsing only: each subcommand checks its inputs and output, loads the tokenizers,
calls one feature function of ``toksmith.audit`` and hands the result to
``toksmith.report.audit``, which renders it as a terminal report, JSON or Markdown.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

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
    audit_subcommands = add_command_group(
        subcommands,
        "audit",
        help="audit a vocabulary: problem tokens, coverage, morphology, numbers, characters",
        description="Audit tokenizer vocabularies. Each subcommand prints a report.",
    )
    _register_vocab(audit_subcommands)
    _register_coverage(audit_subcommands)
    _register_morphology(audit_subcommands)
    _register_numbers(audit_subcommands)
    _register_chars(audit_subcommands)
    _register_sticky(audit_subcommands)

    # ---- hook: `audit mixture` is owned by the data-mixture feature -----------------------
    from toksmith.cli import audit_mixture

    audit_mixture.register(audit_subcommands)


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
    parser.add_argument("--verify", action="store_true",
                        help="with --weights FOLDER (a causal LM the runtime runs): prompt the model "
                        "to repeat each of the --top candidates ('Fishing for Magikarp', 2024); "
                        "confirmed when it gives the token under 1%%")  # fmt: skip
    parser.set_defaults(run=run_vocab)


def run_vocab(args: argparse.Namespace) -> int:
    from toksmith.audit.vocab import audit_vocabularies
    from toksmith.report.audit import render_vocab

    if args.verify:
        return _run_vocab_verify(args)
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


def _run_vocab_verify(args: argparse.Namespace) -> int:
    """``audit vocab --weights FOLDER --verify``: the indicator on the model's embedding
    matrix, then the top candidates prompted (:mod:`toksmith.audit.prompting`)."""
    from pathlib import Path

    from toksmith.audit.prompting import VerifiedVocabReport, verify_by_prompting
    from toksmith.audit.vocab import audit_vocabularies
    from toksmith.models import load_model
    from toksmith.report.sticky import render_verified_vocab

    if not args.weights:
        raise UserError("--verify needs --weights FOLDER (a causal language model folder)")
    folder = Path(args.weights).expanduser()
    if not folder.is_dir():
        raise UserError(
            f"--verify needs --weights FOLDER, a model folder (config.json, model.safetensors, "
            f"tokenizer.json); {args.weights} is not a folder"
        )
    specs = _specs(args)
    if len(specs) != 1:
        raise UserError("--verify belongs to one model: give exactly one tokenizer with it")
    check_paths(args.output, corpora=[args.corpus])
    check_output(args.output, [str(folder)])
    model = load_model(folder)
    [tokenizer] = load_tokenizers(specs, args.special)
    _check_same_vocabulary(tokenizer, model.tokenizer, folder)
    key = args.embedding_key or model.output_embedding_key or model.input_embedding_key
    report = audit_vocabularies(
        [tokenizer],
        corpus=args.corpus,
        errors=args.errors,
        weights=folder / "model.safetensors",
        embedding_key=key,
        reference_ids=args.reference_ids,
        components=args.components,
        top=args.top,
        examples=args.examples,
    )
    weights = report.tokenizers[0].weights
    ranking = [] if weights is None else weights.ranking
    verification = verify_by_prompting(
        model, [t.id for t in ranking], ranks=list(range(1, len(ranking) + 1))
    )
    emit(render_verified_vocab(VerifiedVocabReport(report, verification), args.format), args.output)
    return 0


def _check_same_vocabulary(
    tokenizer: Tokenizer, model_tokenizer: Tokenizer, folder: object
) -> None:
    """A UserError when ``tokenizer`` is not the model folder's own tokenizer (other size or
    other tokens), naming the first id that differs."""
    if tokenizer.vocab_size != model_tokenizer.vocab_size:
        raise UserError(
            f"tokenizer {tokenizer.name} ({tokenizer.vocab_size} ids) does not match the model "
            f"in {folder} ({model_tokenizer.vocab_size} ids in its tokenizer.json)"
        )
    ours, theirs = tokenizer.vocab_bytes, model_tokenizer.vocab_bytes
    for token_id in range(tokenizer.vocab_size):
        if ours[token_id] != theirs[token_id]:
            raise UserError(
                f"tokenizer {tokenizer.name} does not match the model in {folder}: id "
                f"{token_id} is {ours[token_id]!r} here and {theirs[token_id]!r} in the model's "
                "tokenizer.json"
            )


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


# ---- audit sticky -----------------------------------------------------------------------------


def _register_sticky(audit_subcommands: argparse._SubParsersAction) -> None:
    from toksmith.cli.common import float_in_range

    parser = audit_subcommands.add_parser(
        "sticky",
        help="sticky tokens of a text embedding model (STD, 'Sticking to the Mean', 2025)",
        description="Find tokens that, inserted repeatedly into a sentence, pull its cosine "
        "similarity with any other sentence toward the mean similarity of the model's token "
        "embeddings (Chen et al., 2025): filter, score, shortlist, verify, and show the harm "
        "on a small local retrieval task.",
    )
    parser.add_argument("--model", required=True, metavar="minilm|PATH",
                        help="'minilm' (all-MiniLM-L6-v2 shipped offline) or a BERT "
                        "sentence-embedding model folder")  # fmt: skip
    parser.add_argument("--pairs", metavar="FILE",
                        help="TSV of sentence pairs, sentence1<TAB>sentence2 per line (default: "
                        "pairs of pydoc prose and, with --udhr, UDHR English sentences)")  # fmt: skip
    parser.add_argument("--udhr", metavar="FOLDER",
                        help="UDHR corpus folder (its eng.tsv): sentences for the pairs and the "
                        "documents of the retrieval task")  # fmt: skip
    parser.add_argument("--candidates", metavar="FILE",
                        help="fast mode: score and verify only these tokens (one id or token per "
                        "line)")  # fmt: skip
    parser.add_argument("--tokens", type=comma_list, metavar="LIST",
                        help="fast mode: comma-separated tokens or ids to check")  # fmt: skip
    parser.add_argument("--preset", choices=("paper", "budget"), default="paper",
                        help="paper: the paper's parameters (5 scoring pairs, 250 verification "
                        "pairs, 1..8 insertions; about a day on 2 cores for a full run); budget: "
                        "2 scoring pairs at 8 insertions, 32 verification pairs at 1,2,4,8 "
                        "insertions (a full MiniLM run within an hour). Default paper")  # fmt: skip
    parser.add_argument("--verify-pairs", type=int_in_range(1, 100_000), metavar="N",
                        help="verification pairs (overrides the preset)")  # fmt: skip
    parser.add_argument("--shortlist", type=float_in_range(0, 100, low_open=True), metavar="PCT",
                        help="percent of usable tokens shortlisted (default 2)")  # fmt: skip
    parser.add_argument("--mean-sample", type=int_in_range(2), metavar="N",
                        help="tokens embedded to estimate the mean similarity (default: all "
                        "in a full run, 2048 in the fast mode)")  # fmt: skip
    parser.add_argument("--controls", type=int_in_range(0, 10_000), metavar="N",
                        help="random usable tokens verified as a null (default 16)")  # fmt: skip
    parser.add_argument("--sentences", type=int_in_range(2, 100_000), default=400, metavar="N",
                        help="local sentences the pairs are drawn from (default 400)")  # fmt: skip
    parser.add_argument("--harm-k", type=int_in_range(1, 100), default=1, metavar="K",
                        help="recall@K of the retrieval task (default 1)")  # fmt: skip
    parser.add_argument("--harm-target", choices=("queries", "documents"), default="queries",
                        help="where the retrieval task inserts the tokens (default queries)")  # fmt: skip
    parser.add_argument("--no-harm", action="store_true", help="skip the retrieval task")
    parser.add_argument("--seed", type=int_in_range(0), default=0, help="seed (default 0)")
    parser.add_argument("--batch-size", type=int_in_range(1, 4096), default=64, metavar="N",
                        help="sentences per forward pass (default 64)")  # fmt: skip
    add_format_option(parser, FORMATS)
    add_output_option(parser)
    parser.set_defaults(run=run_sticky)


def run_sticky(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from toksmith.audit import sticky
    from toksmith.cli.common import progress_bar
    from toksmith.models import load_model, minilm_folder
    from toksmith.report.sticky import render_sticky

    if args.candidates and args.tokens:
        raise UserError("give --candidates FILE or --tokens LIST, not both")
    folder = minilm_folder() if args.model == "minilm" else args.model
    check_paths(args.output, files=[args.pairs, args.candidates], corpora=[args.udhr])
    check_output(args.output, [str(folder)])
    pairs = sticky.read_pairs(args.pairs) if args.pairs else None
    items = sticky.read_candidates(args.candidates) if args.candidates else args.tokens
    model = load_model(folder)
    embed = sticky.model_embedder(model, batch_size=args.batch_size)
    tokenizer = model.tokenizer
    candidates = sticky.resolve_candidates(tokenizer, items) if items else None
    settings = (
        sticky.StickySettings.paper() if args.preset == "paper" else sticky.StickySettings.budget()
    )
    mean_sample = args.mean_sample or (2048 if candidates is not None else None)
    settings = replace(
        settings, mean_sample=mean_sample, seed=args.seed, batch_size=args.batch_size
    )
    if args.verify_pairs:
        settings = replace(settings, verify_pairs=args.verify_pairs)
    if args.shortlist:
        settings = replace(settings, shortlist_percent=args.shortlist)
    if args.controls is not None:
        settings = replace(settings, control_tokens=args.controls)
    sentences = None if pairs else sticky.local_sentences(args.udhr, args.sentences, args.seed)
    source = (
        f"{args.pairs}" if pairs else ("udhr-eng + pydoc prose" if args.udhr else "pydoc prose")
    )
    name = "all-MiniLM-L6-v2" if args.model == "minilm" else str(args.model)
    with progress_bar("sticky tokens") as update:
        report = sticky.detect_sticky_tokens(
            embed, tokenizer, model_name=name, settings=settings, sentences=sentences,
            pairs=pairs, pair_source=source, candidates=candidates, progress=update,
        )  # fmt: skip
        sticky_ids = report.verified_ids(above_control=True) or report.verified_ids()
        if not args.no_harm and sticky_ids:
            # controls: usable tokens that were neither shortlisted nor given as candidates
            checked = {token.id for token in report.tokens}
            categories = sticky.filter_tokens(tokenizer)
            pool = [
                i for i in range(tokenizer.vocab_size)
                if categories[i] == "usable" and i not in checked
            ]  # fmt: skip
            harm = sticky.retrieval_harm(
                embed, tokenizer, sticky_ids, pool, udhr=args.udhr, k=args.harm_k,
                seed=args.seed, target=args.harm_target,
            )  # fmt: skip
            report = sticky.with_harm(report, harm)
    emit(render_sticky(report, args.format), args.output)
    return 0
