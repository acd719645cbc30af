"""``toksmith cost`` and ``toksmith prices``."""

from __future__ import annotations

import argparse
from pathlib import Path

from toksmith.cli import common
from toksmith.cli.common import add_errors_option, add_output_options, add_special_option
from toksmith.errors import UserError
from toksmith.files import check_output_path
from toksmith.report.output import emit


def register(subcommands: argparse._SubParsersAction) -> None:
    cost = subcommands.add_parser(
        "cost", help="what a text, file or conversation costs under each model"
    )
    cost.add_argument("text", nargs="?", help="the text to price (or --file / --messages)")
    cost.add_argument("--file", metavar="PATH", help="price a file's whole text")
    cost.add_argument(
        "--messages",
        metavar="FILE",
        help="price a conversation: an OpenAI-style JSON list of {role, content}, or JSONL",
    )
    cost.add_argument(
        "-m", "--model", dest="models", action="append", required=True, metavar="MODEL",
        help="model name as in the price table (repeat; see 'toksmith prices --search')",
    )  # fmt: skip
    count = common.int_in_range(0, 10**12)
    cost.add_argument("--output-tokens", type=count, default=0, metavar="N",
                      help="output tokens to price (default 0)")  # fmt: skip
    cost.add_argument(
        "--cached-input-tokens",
        type=count,
        default=0,
        metavar="N",
        help="input tokens read from the provider's cache (part of the input)",
    )
    cost.add_argument("--reasoning-tokens", type=count, default=0, metavar="N",
                      help="hidden reasoning tokens to price (default 0)")  # fmt: skip
    cost.add_argument(
        "--exact",
        action="store_true",
        help="refuse models whose tokenizer is not public instead of estimating",
    )
    add_prices_option(cost)
    add_errors_option(cost)
    add_special_option(cost)
    add_output_options(cost)
    cost.set_defaults(run=run_cost)

    prices = subcommands.add_parser("prices", help="the bundled model price table")
    prices.add_argument("--search", metavar="WORDS", default="",
                        help="only models whose name contains every word")  # fmt: skip
    add_prices_option(prices)
    add_output_options(prices)
    prices.set_defaults(run=run_prices)


def add_prices_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prices", metavar="FILE",
        help="a price table in litellm's JSON shape (default: the one litellm ships)",
    )  # fmt: skip


def run_prices(args: argparse.Namespace) -> int:
    from toksmith.accounting.prices import load_prices
    from toksmith.report.accounting import render_prices

    check_output_path(args.output, [args.prices])
    table = load_prices(args.prices)
    emit(render_prices(table.search(args.search), table.snapshot, args.format), args.output)
    return 0


def run_cost(args: argparse.Namespace) -> int:
    from toksmith.accounting.cost import (
        ESTIMATE_TOKENIZERS,
        MESSAGE_ESTIMATE_TOKENIZERS,
        compute_cost,
        messages_counter,
        text_counter,
    )
    from toksmith.accounting.prices import load_prices
    from toksmith.report.accounting import render_cost
    from toksmith.text import clean_text

    given = [name for name in ("text", "file", "messages") if getattr(args, name) is not None]
    if len(given) != 1:
        raise UserError("give exactly one of a text, --file PATH or --messages FILE")
    inputs = [args.file, args.messages, args.prices]
    common.check_inputs(files=[args.file, args.messages, args.prices])
    check_output_path(args.output, inputs)
    table = load_prices(args.prices)
    for name in args.models:  # unknown names fail before any tokenizer loads
        table.resolve(name)
    estimators: tuple[str, ...] = ESTIMATE_TOKENIZERS
    if args.messages is not None:
        counter = messages_counter(args.messages, args.special, args.errors)
        what, estimators = f"messages {args.messages}", MESSAGE_ESTIMATE_TOKENIZERS
    else:
        if args.file is not None:
            text = read_text_file(args.file, args.errors)
            what = f"file {args.file}"
        else:
            text, what = clean_text(args.text, args.errors, what="text argument"), "text"
        counter = text_counter(text, args.special)
    result = compute_cost(
        args.models, counter, what=what, prices=table, output_tokens=args.output_tokens,
        cached_input_tokens=args.cached_input_tokens, reasoning_tokens=args.reasoning_tokens,
        exact_only=args.exact, estimate_tokenizers=estimators,
    )  # fmt: skip
    emit(render_cost(result, args.format), args.output)
    return 0


def read_text_file(path: str, errors: str) -> str:
    """A whole file as text ('-' = stdin), or a one-line error naming it."""
    import sys

    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8", errors=errors)
    except UnicodeDecodeError as error:
        raise UserError(
            f"file {path}: invalid UTF-8 at byte {error.start} (use --errors replace)"
        ) from None
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from None
