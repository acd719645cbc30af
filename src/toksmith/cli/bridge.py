"""The ``toksmith lm`` and ``toksmith bridge`` subcommands: argument parsing and printing only.

The work is done by :mod:`toksmith.bridge`.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

from toksmith.errors import UserError
from toksmith.report.output import emit

FORMATS = ("text", "json")


def register(subcommands: argparse._SubParsersAction) -> None:
    """Adds ``lm train`` and ``bridge complete|score|ensemble|fim-eval``."""
    lm = subcommands.add_parser("lm", help="train the built-in n-gram language model")
    lm_commands = lm.add_subparsers(dest="lm_command", metavar="LM_COMMAND", required=True)
    train = lm_commands.add_parser(
        "train", help="train a token-level n-gram LM (interpolated Kneser-Ney) over a tokenizer"
    )
    train.add_argument("--tokenizer", "-t", required=True, help="tokenizer name or path")
    train.add_argument("--corpus", required=True, help="file, folder or glob of training text")
    train.add_argument("--order", type=int, default=4, help="n-gram order (default 4)")
    train.add_argument("--output", "-o", required=True, help="folder to write the model to")
    train.add_argument("--errors", choices=["strict", "replace"], default="strict")
    train.set_defaults(run=run_train)

    bridge = subcommands.add_parser(
        "bridge", help="exact byte-level probabilities from token-level LMs (Phan et al. 2024)"
    )
    commands = bridge.add_subparsers(dest="bridge_command", metavar="BRIDGE_COMMAND", required=True)

    complete = commands.add_parser("complete", help="continue a prompt that may end mid-token")
    complete.add_argument("--lm", required=True, help="n-gram LM folder or HF causal LM folder")
    source = complete.add_mutually_exclusive_group(required=True)
    source.add_argument("--prompt", help=r"prompt text; \n, \t and \\ are unescaped")
    source.add_argument("--prompt-file", help="read the prompt's bytes from this file")
    complete.add_argument("--max-bytes", type=int, default=40)
    complete.add_argument("--mode", choices=["token", "heal", "byte"], default="byte")
    complete.add_argument("--sample", action="store_true", help="sample instead of greedy")
    complete.add_argument("--seed", type=int, default=0)
    complete.add_argument("--format", choices=FORMATS, default="text")
    complete.set_defaults(run=run_complete)

    score = commands.add_parser("score", help="exact bits per byte of a text")
    score.add_argument("--lm", required=True)
    score.add_argument("--text", required=True, help="file to score")
    score.add_argument("--format", choices=FORMATS, default="text")
    score.set_defaults(run=run_score)

    ensemble = commands.add_parser(
        "ensemble", help="bits per byte of a byte-level ensemble of LMs with any tokenizers"
    )
    ensemble.add_argument("--lm", action="append", required=True, help="give two or more")
    ensemble.add_argument("--text", required=True, help="file to score")
    ensemble.add_argument("--weights", type=float, nargs="+", help="one per --lm (default equal)")
    ensemble.add_argument("--format", choices=FORMATS, default="text")
    ensemble.set_defaults(run=run_ensemble)

    fim = commands.add_parser(
        "fim-eval", help="exact match of the next bytes after random cuts of code, 3 modes"
    )
    fim.add_argument("--lm", required=True)
    fim.add_argument("--corpus", required=True, help="held-out code: file, folder or glob")
    fim.add_argument("--n", type=int, default=500, help="number of cuts (default 500)")
    fim.add_argument("--k", type=int, default=8, help="bytes to predict (default 8)")
    fim.add_argument("--cuts", choices=["mid-token", "boundary", "any"], default="mid-token")
    fim.add_argument("--context-bytes", type=int, default=512)
    fim.add_argument("--seed", type=int, default=0)
    fim.add_argument("--format", choices=FORMATS, default="text")
    fim.add_argument("--output", "-o", help="write the table here instead of stdout")
    fim.set_defaults(run=run_fim)


def run_train(args: argparse.Namespace) -> int:
    from toksmith.bridge.lm import train_ngram
    from toksmith.corpus import iter_texts
    from toksmith.tokenizers import load_tokenizer

    tokenizer = load_tokenizer(args.tokenizer)
    spec = args.tokenizer
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

    if args.prompt is not None:
        prompt = _unescape(args.prompt).encode("utf-8", "surrogateescape")
    else:
        prompt = _read_bytes(args.prompt_file)
    model = ByteLevelModel(load_lm(args.lm))
    result = complete(
        model, prompt, args.max_bytes, mode=args.mode, sample=args.sample, seed=args.seed
    )
    if args.format == "json":
        record = asdict(result)
        record["prompt"] = result.prompt.decode("utf-8", "replace")
        record["text"] = result.text.decode("utf-8", "replace")
        emit(json.dumps(record, indent=2), None)
    else:
        emit(result.text.decode("utf-8", "replace"), None)
    return 0


def run_score(args: argparse.Namespace) -> int:
    from toksmith.bridge import ByteLevelModel, load_lm, score_bytes

    data = _read_text_bytes(args.text)
    model = ByteLevelModel(load_lm(args.lm))
    result = score_bytes(model, data)
    if args.format == "json":
        emit(json.dumps(asdict(result), indent=2), None)
    else:
        emit(
            f"{args.text}: {result.bytes} bytes, {result.tokens} tokens of {model.tokenizer.name}\n"
            f"byte-level (exact):      {result.bits_per_byte:.4f} bits/byte\n"
            f"token-level (canonical): {result.token_bits_per_byte:.4f} bits/byte\n"
            f"{result.lm_calls} LM calls, {result.elapsed_s:.1f} s",
            None,
        )
    return 0


def run_ensemble(args: argparse.Namespace) -> int:
    from toksmith.bridge import ByteLevelModel, ensemble_score, load_lm

    if len(args.lm) < 2:
        raise UserError("bridge ensemble needs two or more --lm folders")
    data = _read_text_bytes(args.text)
    models = [ByteLevelModel(load_lm(folder)) for folder in args.lm]
    result = ensemble_score(models, data, weights=args.weights, names=args.lm)
    if args.format == "json":
        emit(json.dumps(asdict(result), indent=2), None)
        return 0
    lines = [f"{args.text}: {result.bytes} bytes", f"{'model':<40} {'tokenizer':<20} bits/byte"]
    for member in result.members:
        lines.append(f"{member.name:<40} {member.tokenizer:<20} {member.bits_per_byte:.4f}")
    lines.append(f"{'mixture (weighted average)':<40} {'':<20} {result.mixture_bits_per_byte:.4f}")
    lines.append(
        f"{'product (weighted geometric)':<40} {'':<20} {result.product_bits_per_byte:.4f}"
    )
    emit("\n".join(lines), None)
    return 0


def run_fim(args: argparse.Namespace) -> int:
    from toksmith.bridge import ByteLevelModel, fim_cases, fim_eval, load_lm
    from toksmith.corpus import iter_segments

    model = ByteLevelModel(load_lm(args.lm))
    sources = [(s.source, s.text) for s in iter_segments(args.corpus, whole_files=True)]
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
        emit(json.dumps(asdict(result), indent=2), args.output)
        return 0
    lines = [
        f"FIM / mid-token evaluation: {result.cases} {result.cuts} cuts of {args.corpus}, "
        f"exact match of the next {result.k_bytes} bytes, greedy, "
        f"LM {result.lm} ({result.tokenizer}), seed {result.seed}",
        f"{'mode':<6} {'exact match':>11} {'correct':>8} {'LM calls':>9} {'seconds':>8}",
    ]
    for row in result.modes:
        lines.append(
            f"{row.mode:<6} {row.exact_match:>11.1%} {row.correct:>8} {row.lm_calls:>9} "
            f"{row.elapsed_s:>8.1f}"
        )
    lines.append(f"total {time.perf_counter() - started:.1f} s")
    emit("\n".join(lines), args.output)
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


def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from None


def _read_text_bytes(path: str) -> bytes:
    """The bytes of a UTF-8 text file (a UserError naming the offset otherwise)."""
    data = _read_bytes(path)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: invalid UTF-8 at byte {error.start}") from None
    return data
