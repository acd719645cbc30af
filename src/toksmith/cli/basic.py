"""``toksmith list`` and ``toksmith count``.

``list`` prints the registry's static index and loads no vocabulary; the modules ``count``
needs (metrics, report, tokenizers) are imported when it runs, so ``list`` starts at once.
"""

from __future__ import annotations

import argparse

from toksmith.cli import common
from toksmith.cli.common import add_errors_option, add_output_options, add_tokenizer_option
from toksmith.cli.messages import add_messages_arguments, run_count_messages
from toksmith.cluster.engine import add_cluster_option
from toksmith.errors import UserError
from toksmith.files import check_output_path

LIST_COLUMNS = ["name", "backend", "vocab_size", "engine", "description", "package", "file",
                "checked"]  # fmt: skip


def register(subcommands: argparse._SubParsersAction) -> None:
    listing = subcommands.add_parser("list", help="list the built-in tokenizers")
    listing.add_argument(
        "--engines",
        action="store_true",
        help="which engine encodes each built-in (vendor or fast) and why",
    )
    add_output_options(listing)
    listing.set_defaults(run=run_list)

    count = subcommands.add_parser("count", help="count the tokens of a text or file")
    count.add_argument("text", nargs="?", help="the text to count (or use --file)")
    count.add_argument("--file", metavar="PATH", help="count a file, folder or glob ('-' = stdin)")
    add_messages_arguments(count)
    add_errors_option(count)
    add_tokenizer_option(count)
    add_output_options(count)
    add_cluster_option(count)
    count.set_defaults(run=run_count)


def builtin_engine(name: str) -> tuple[str, str]:
    """``(engine, why)`` for the built-in ``name`` under ``--engine auto``, from the fast-engine
    module's pinned parity results; ``vendor`` when that module is not there."""
    try:
        from toksmith.tokenizers.fast import builtin_engine as pinned
    except ImportError:
        return "vendor", "vendor: no fast engine module"
    return pinned(name)


def list_rows(engines: bool) -> list[dict[str, object]]:
    """One row per built-in, from the registry's static index (no vocabulary is read)."""
    from toksmith.tokenizers.registry import BUILTINS

    rows: list[dict[str, object]] = []
    for entry in BUILTINS:
        engine, why = builtin_engine(entry.name)
        row: dict[str, object] = {
            "name": entry.name,
            "backend": entry.backend,
            "vocab_size": entry.vocab_size,
            "engine": engine,
            "description": entry.description,
            "package": entry.package,
            "file": entry.file,
            "checked": entry.checked,
        }
        if engines:
            row["why"] = why
        rows.append(row)
    return rows


def run_list(args: argparse.Namespace) -> int:
    from toksmith.report import Table, emit, render_table
    from toksmith.report.output import to_json

    check_output_path(args.output, [])
    rows = list_rows(args.engines)
    if args.format == "json":
        emit(to_json({"tokenizers": rows}), args.output)
        return 0
    if args.engines:
        columns = ["name", "backend", "engine", "why"]
        title = "Engines of the built-in tokenizers (--engine auto)"
    else:
        columns = LIST_COLUMNS
        title = "Built-in tokenizers"
    table = Table(title, columns, [[row[c] for c in columns] for row in rows])
    emit(render_table(table, args.format), args.output)
    return 0


def run_count(args: argparse.Namespace) -> int:
    """``count TEXT`` or ``count --file PATH``: the rule for each is that of
    :mod:`toksmith.metrics.count` (a file is counted whole, line breaks included)."""
    from toksmith.text import clean_text

    if args.messages is not None:
        return run_count_messages(args)
    if (args.text is None) == (args.file is None):
        raise UserError("give either a text or --file PATH (not both)")
    # Everything the user named is checked before the tokenizers load (seconds for all).
    if args.file is not None:
        common.check_inputs(corpora=[args.file])
    else:
        clean_text(args.text, args.errors, what="text argument")
    check_output_path(args.output, [args.file])
    from toksmith.metrics import CountResult, TokenizerInfo, count_corpus, count_text
    from toksmith.report import Table, emit, render_table
    from toksmith.report.output import to_json
    from toksmith.report.tables import columns_of

    if args.cluster and args.file is None:
        raise UserError("--cluster needs --file (a text argument is counted here)")
    if args.cluster:
        from toksmith.cluster import count_on_cluster
        from toksmith.tokenizers import expand_specs

        result = count_on_cluster(
            expand_specs(args.tokenizers or ["all"]),
            args.file,
            cluster=args.cluster,
            special=args.special,
            errors=args.errors,
            timeout_s=args.cluster_timeout,
        )
    elif args.file is not None:
        tokenizers = common.load_tokenizers(args.tokenizers, args.special)
        result = count_corpus(tokenizers, args.file, errors=args.errors)
    else:
        tokenizers = common.load_tokenizers(args.tokenizers, args.special)
        rows = count_text(tokenizers, args.text, errors=args.errors, what="text argument")
        result = CountResult(tokenizers=[TokenizerInfo.of(t) for t in tokenizers], results=rows)
    if args.format == "json":
        emit(to_json(result), args.output)
        return 0
    fields = ["tokenizer", "tokens", "bytes", "chars", "words", "bytes_per_token",
              "chars_per_token", "fertility"]  # fmt: skip
    rows = sorted(result.results, key=lambda row: row.tokens)
    table = Table("Token counts", fields, columns_of(rows, fields), footer=list(result.notes))
    emit(render_table(table, args.format), args.output)
    return 0
