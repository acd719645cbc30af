"""``toksmith count --messages FILE``: chat conversations counted as each model family formats
them. The ``count`` command adds :func:`add_messages_arguments` and calls
:func:`run_count_messages` when ``--messages`` is given."""

from __future__ import annotations

import argparse

from toksmith.errors import UserError
from toksmith.files import check_output_path

FORMATS = ("table", "json", "csv", "md")


def add_messages_arguments(parser: argparse.ArgumentParser) -> None:
    """``--messages FILE`` on ``count`` (its -t, --special, --format, -o and --errors are the
    shared options the command already has)."""
    parser.add_argument(
        "--messages",
        metavar="FILE",
        help="count chat conversations: a JSON list of {role, content} messages (or "
        '{"messages": [...]}), or JSONL with one conversation per line; each tokenizer '
        "formats them as its model family does (OpenAI, Llama 3/4, Mistral, HF chat template)",
    )


def run_count_messages(args: argparse.Namespace) -> int:
    """Read and check the conversations and the output, load the tokenizers, find each one's
    chat format (a tokenizer named with -t that has none is an error), count, print.

    Without -t (or with ``-t all``), every built-in that has a known chat format is counted and
    a note names the built-ins left out.
    """
    from toksmith.chat import chat_format_for, count_messages, read_conversations
    from toksmith.cli import common
    from toksmith.report.chat import render_messages
    from toksmith.report.output import emit
    from toksmith.tokenizers import builtin_names

    if getattr(args, "text", None) is not None or getattr(args, "file", None) is not None:
        raise UserError("give --messages FILE alone, without a text or --file")
    fmt = getattr(args, "format", None) or "table"
    if fmt not in FORMATS:
        raise UserError(f"--messages output format {fmt!r} is not one of {', '.join(FORMATS)}")
    errors = getattr(args, "errors", "strict")
    special = getattr(args, "special", "text")
    specs: list[str] = list(getattr(args, "tokenizers", None) or [])
    common.check_inputs(files=[args.messages])
    check_output_path(args.output, [args.messages])
    conversations = read_conversations(args.messages, errors=errors)
    every_builtin = not specs or "all" in specs
    named = [spec for spec in specs if spec != "all"]
    if every_builtin:
        named += builtin_names()
    named = list(dict.fromkeys(named))
    tokenizers = common.load_tokenizers(named, special)
    chosen, formats, skipped = [], [], []
    explicit = set(specs)
    for spec, tokenizer in zip(named, tokenizers, strict=True):
        try:
            chat_format = chat_format_for(tokenizer)
        except UserError:
            if spec in explicit:
                raise
            skipped.append(tokenizer.name)
            continue
        chosen.append(tokenizer)
        formats.append(chat_format)
    notes = []
    if skipped:
        notes.append(f"built-ins without a known chat format, not counted: {', '.join(skipped)}")
    result = count_messages(chosen, conversations, formats=formats, notes=notes)
    emit(render_messages(result, fmt), args.output)
    return 0
