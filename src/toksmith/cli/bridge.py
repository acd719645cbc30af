"""The ``toksmith lm`` and ``toksmith bridge`` subcommands: argument parsing and printing only.

The work is done by :mod:`toksmith.bridge`. Every input (LM folders, text files, corpora) and
every output is checked before a language model or tokenizer is loaded.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from toksmith.bridge.lm.ngram import MAX_ORDER
from toksmith.cli import common
from toksmith.cli.common import (
    add_errors_option,
    add_format_option,
    add_output_option,
    add_output_options,
    add_tokenizer_option,
    float_in_range,
    int_in_range,
)
from toksmith.errors import UserError
from toksmith.files import check_output_path
from toksmith.report.output import emit, to_json
from toksmith.report.tables import Table, render_table
from toksmith.text import clean_text

# `complete` prints the completion itself ("text"); the other commands print tables.
COMPLETE_FORMATS = ("text", "json")
TABLE_FORMATS = ("table", "json", "csv", "md")
MAX_BYTES = 1 << 20  # longest completion or context, in bytes
MAX_CASES = 1_000_000
SEED = int_in_range(0, 2**32 - 1)


def register(subcommands: argparse._SubParsersAction) -> None:
    """Adds ``lm train`` and ``bridge complete|score|ensemble|fim-eval``."""
    lm = subcommands.add_parser("lm", help="train the built-in n-gram language model")
    lm_commands = lm.add_subparsers(dest="lm_command", metavar="LM_COMMAND", required=True)
    train = lm_commands.add_parser(
        "train", help="train a token-level n-gram LM (interpolated Kneser-Ney) over a tokenizer"
    )
    add_tokenizer_option(train, required=True)
    train.add_argument("--corpus", required=True, metavar="PATH",
                       help="training text: file, folder or glob")  # fmt: skip
    train.add_argument("--order", type=int_in_range(1, MAX_ORDER), default=4, metavar="N",
                       help=f"n-gram order, 1 to {MAX_ORDER} (default 4)")  # fmt: skip
    add_output_option(train, what="FOLDER", required=True)
    add_errors_option(train)
    train.set_defaults(run=run_train)

    bridge = subcommands.add_parser(
        "bridge", help="exact byte-level probabilities from token-level LMs (Phan et al. 2024)"
    )
    commands = bridge.add_subparsers(dest="bridge_command", metavar="BRIDGE_COMMAND", required=True)

    complete = commands.add_parser("complete", help="continue a prompt that may end mid-token")
    _add_lm_option(complete)
    source = complete.add_mutually_exclusive_group(required=True)
    source.add_argument("--prompt", help=r"prompt text; \n, \t and \\ are unescaped")
    source.add_argument("--prompt-file", metavar="FILE",
                        help="read the prompt's bytes from this file")  # fmt: skip
    complete.add_argument("--max-bytes", type=int_in_range(0, MAX_BYTES), default=40,
                          metavar="N", help=f"bytes to generate, 0 to {MAX_BYTES:,} "
                          "(default 40)")  # fmt: skip
    complete.add_argument("--mode", choices=["token", "heal", "byte"], default="byte",
                          help="token: the tokenizer's own tokens after the prompt; heal: "
                          "token healing (back up one token); byte: exact next-byte "
                          "distribution (default)")  # fmt: skip
    complete.add_argument("--sample", action="store_true", help="sample instead of greedy")
    complete.add_argument("--seed", type=SEED, default=0, metavar="N",
                          help="random seed for --sample (default 0)")  # fmt: skip
    add_errors_option(complete)
    add_format_option(complete, COMPLETE_FORMATS)
    add_output_option(complete)
    complete.set_defaults(run=run_complete)

    score = commands.add_parser("score", help="exact bits per byte of a text")
    _add_lm_option(score)
    score.add_argument("--text", required=True, metavar="FILE", help="UTF-8 text file to score")
    add_errors_option(score)
    add_output_options(score, TABLE_FORMATS)
    score.set_defaults(run=run_score)

    ensemble = commands.add_parser(
        "ensemble", help="bits per byte of a byte-level ensemble of LMs with any tokenizers"
    )
    _add_lm_option(ensemble, several=True)
    ensemble.add_argument("--text", required=True, metavar="FILE",
                          help="UTF-8 text file to score")  # fmt: skip
    ensemble.add_argument("--weights", type=float_in_range(0, low_open=True), nargs="+",
                          metavar="W", help="one positive finite weight per --lm, normalized "
                          "to sum to 1 (default equal)")  # fmt: skip
    add_errors_option(ensemble)
    add_output_options(ensemble, TABLE_FORMATS)
    ensemble.set_defaults(run=run_ensemble)

    fim = commands.add_parser(
        "fim-eval", help="exact match of the next bytes after random cuts of code, 3 modes"
    )
    _add_lm_option(fim)
    fim.add_argument("--corpus", required=True, metavar="PATH",
                     help="held-out code: file, folder or glob")  # fmt: skip
    fim.add_argument("--n", type=int_in_range(1, MAX_CASES), default=500, metavar="N",
                     help=f"number of cuts, 1 to {MAX_CASES:,} (default 500)")  # fmt: skip
    fim.add_argument("--k", type=int_in_range(1, 4096), default=8, metavar="N",
                     help="bytes to predict after each cut, 1 to 4096 (default 8)")  # fmt: skip
    fim.add_argument("--cuts", choices=["mid-token", "boundary", "any"], default="mid-token",
                     help="where to cut: inside a token (default), at a token boundary, "
                     "or anywhere")  # fmt: skip
    fim.add_argument("--context-bytes", type=int_in_range(1, MAX_BYTES), default=512,
                     metavar="N", help="bytes of context before each cut, 1 to "
                     f"{MAX_BYTES:,} (default 512)")  # fmt: skip
    fim.add_argument("--seed", type=SEED, default=0, metavar="N",
                     help="random seed of the cuts (default 0)")  # fmt: skip
    add_errors_option(fim)
    add_output_options(fim, TABLE_FORMATS)
    fim.set_defaults(run=run_fim)


def _add_lm_option(parser: argparse.ArgumentParser, *, several: bool = False) -> None:
    parser.add_argument(
        "--lm",
        required=True,
        action="append" if several else "store",
        metavar="FOLDER",
        help="toksmith n-gram LM folder (lm train) or HF causal LM folder"
        + ("; give two or more" if several else ""),
    )


def _check_lm_folders(folders: list[str]) -> None:
    for folder in folders:
        path = Path(folder).expanduser()
        if not path.exists():
            raise UserError(f"language model folder {folder} does not exist")
        if not path.is_dir():
            raise UserError(f"{folder} is a file; expected a language model folder")


def run_train(args: argparse.Namespace) -> int:
    from toksmith.bridge.lm import train_ngram
    from toksmith.bridge.lm.ngram import check_lm_folder
    from toksmith.corpus import iter_texts

    if len(args.tokenizers) != 1:
        raise UserError(f"lm train takes one tokenizer, not {len(args.tokenizers)}")
    common.check_inputs(corpora=[args.corpus])
    check_lm_folder(args.output, [args.corpus])
    spec = args.tokenizers[0]
    tokenizer = common.load_one_tokenizer(spec, args.special)
    if Path(spec).expanduser().exists():
        spec = str(Path(spec).expanduser().resolve())
    texts = iter_texts(args.corpus, whole_files=True, errors=args.errors)
    model = train_ngram(
        tokenizer,
        texts,
        order=args.order,
        tokenizer_spec=spec,
        corpus_name=str(args.corpus),
        name=Path(args.output).name or "ngram",
        special=args.special,
    )
    model.save(args.output)
    stats = model.stats
    counts = ", ".join(f"{n}-grams {c}" for n, c in enumerate(stats.ngrams_per_order, 1))
    emit(
        f"trained {model.order}-gram LM over {tokenizer.name} on {stats.texts} texts "
        f"({stats.bytes} bytes, {stats.tokens} tokens) in {stats.elapsed_s:.1f} s: {counts}\n"
        f"saved to {args.output}",
        None,
    )
    return 0


def run_complete(args: argparse.Namespace) -> int:
    from toksmith.bridge import ByteLevelModel, complete, load_lm

    _check_lm_folders([args.lm])
    common.check_inputs(files=[args.prompt_file])
    check_output_path(args.output, [args.lm, args.prompt_file])
    if args.prompt is not None:
        prompt = _prompt_bytes(_unescape(args.prompt), args.errors)
    else:
        prompt = _read_bytes(args.prompt_file)
    model = ByteLevelModel(load_lm(args.lm))
    result = complete(
        model, prompt, args.max_bytes, mode=args.mode, sample=args.sample, seed=args.seed
    )
    if args.format == "json":
        record = {
            "mode": result.mode,
            "prompt": result.prompt.decode("utf-8", "replace"),
            "text": result.text.decode("utf-8", "replace"),
            "lm_calls": result.lm_calls,
            "elapsed_s": result.elapsed_s,
        }
        emit(to_json(record), args.output)
    else:
        emit(result.text.decode("utf-8", "replace"), args.output)
    return 0


def run_score(args: argparse.Namespace) -> int:
    from toksmith.bridge import ByteLevelModel, load_lm, score_bytes

    _check_lm_folders([args.lm])
    common.check_inputs(files=[args.text])
    check_output_path(args.output, [args.lm, args.text])
    data = _read_text_bytes(args.text, args.errors)
    model = ByteLevelModel(load_lm(args.lm))
    result = score_bytes(model, data)
    if args.format == "json":
        emit(to_json(result), args.output)
        return 0
    columns = ["name", "bytes", "tokens", "bits_per_byte", "token_bits_per_byte", "lm_calls",
               "elapsed_s"]  # fmt: skip
    rows = [[getattr(result, column) for column in columns]]
    footer = [
        f"{args.text} with {model.tokenizer.name}: bits_per_byte is exact (byte-level), "
        "token_bits_per_byte is that of the tokenizer's own (canonical) encoding"
    ]
    emit(render_table(Table("bits per byte", columns, rows, footer), args.format), args.output)
    return 0


def run_ensemble(args: argparse.Namespace) -> int:
    from toksmith.bridge import ByteLevelModel, ensemble_score, load_lm

    if len(args.lm) < 2:
        raise UserError("bridge ensemble needs two or more --lm folders")
    if args.weights is not None and len(args.weights) != len(args.lm):
        raise UserError(f"--weights: give one weight per --lm ({len(args.lm)}), not "
                        f"{len(args.weights)}")  # fmt: skip
    _check_lm_folders(args.lm)
    common.check_inputs(files=[args.text])
    check_output_path(args.output, [*args.lm, args.text])
    data = _read_text_bytes(args.text, args.errors)
    models = [ByteLevelModel(load_lm(folder)) for folder in args.lm]
    result = ensemble_score(models, data, weights=args.weights, names=args.lm)
    if args.format == "json":
        emit(to_json(result), args.output)
        return 0
    columns = ["model", "tokenizer", "weight", "bits_per_byte"]
    rows: list[list[object]] = [
        [member.name, member.tokenizer, member.weight, member.bits_per_byte]
        for member in result.members
    ]
    rows.append(["mixture (weighted average)", "", None, result.mixture_bits_per_byte])
    rows.append(["product (weighted geometric)", "", None, result.product_bits_per_byte])
    title = f"byte-level ensemble on {args.text} ({result.bytes} bytes)"
    emit(render_table(Table(title, columns, rows), args.format), args.output)
    return 0


def run_fim(args: argparse.Namespace) -> int:
    from toksmith.bridge import ByteLevelModel, fim_cases, fim_eval, load_lm
    from toksmith.corpus import iter_segments

    _check_lm_folders([args.lm])
    common.check_inputs(corpora=[args.corpus])
    check_output_path(args.output, [args.lm, args.corpus])
    model = ByteLevelModel(load_lm(args.lm))
    segments = iter_segments(args.corpus, whole_files=True, errors=args.errors)
    sources = [(s.source, s.text) for s in segments]
    started = time.perf_counter()
    cases = fim_cases(
        model,
        sources,
        n=args.n,
        k_bytes=args.k,
        cuts=args.cuts,
        context_bytes=args.context_bytes,
        seed=args.seed,
    )
    result = fim_eval(
        model, cases, cuts=args.cuts, context_bytes=args.context_bytes, seed=args.seed
    )
    if args.format == "json":
        emit(to_json(result), args.output)
        return 0
    columns = ["mode", "exact_match", "correct", "cases", "lm_calls", "elapsed_s"]
    rows = [[getattr(row, column) for column in columns] for row in result.modes]
    title = (
        f"FIM / mid-token evaluation: {result.cases} {result.cuts} cuts of {args.corpus}, "
        f"exact match of the next {result.k_bytes} bytes, greedy, "
        f"LM {result.lm} ({result.tokenizer}), seed {result.seed}"
    )
    footer = [f"total {time.perf_counter() - started:.1f} s"]
    emit(render_table(Table(title, columns, rows, footer), args.format), args.output)
    return 0


def _unescape(text: str) -> str:
    r"""Turn ``\n``, ``\t`` and ``\\`` into a newline, a tab and a backslash."""
    out = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text) and text[position + 1] in "nt\\":
            out.append({"n": "\n", "t": "\t", "\\": "\\"}[text[position + 1]])
            position += 2
            continue
        out.append(char)
        position += 1
    return "".join(out)


def _prompt_bytes(text: str, errors: str) -> bytes:
    """The bytes of a ``--prompt`` argument. Invalid UTF-8 from the command line arrives as
    lone surrogates (``surrogateescape``): with ``errors="replace"`` each becomes U+FFFD;
    otherwise the original bytes are kept, and the bridge's own check names the byte offset
    in the prompt (a prompt may end inside a character, which it allows)."""
    if errors == "replace":
        return clean_text(text, "replace", what="--prompt").encode("utf-8")
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate argv decoding never makes (from the Python API)
        return clean_text(text, errors, what="--prompt").encode("utf-8")


def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from None


def _read_text_bytes(path: str, errors: str = "strict") -> bytes:
    """The bytes of a UTF-8 text file: a UserError naming the offset of invalid UTF-8, or
    with ``errors="replace"`` the file with each invalid sequence replaced by U+FFFD."""
    data = _read_bytes(path)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        if errors == "replace":
            return data.decode("utf-8", "replace").encode("utf-8")
        raise UserError(
            f"{path}: invalid UTF-8 at byte {error.start} (use --errors replace to replace it)"
        ) from None
    return data
