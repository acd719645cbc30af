"""``toksmith list`` and ``toksmith count``."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from toksmith.cli.common import add_output_options, add_tokenizer_option, load_tokenizers
from toksmith.corpus import iter_texts
from toksmith.errors import UserError
from toksmith.metrics import TokenizerInfo, count_texts
from toksmith.report import Table, emit, render_table
from toksmith.report.tables import columns_of
from toksmith.tokenizers import BUILTINS, load_tokenizer


def register(subcommands: argparse._SubParsersAction) -> None:
    listing = subcommands.add_parser("list", help="list the built-in tokenizers")
    add_output_options(listing)
    listing.set_defaults(run=run_list)

    count = subcommands.add_parser("count", help="count the tokens of a text or file")
    count.add_argument("text", nargs="?", help="the text to count (or use --file)")
    count.add_argument("--file", metavar="PATH", help="count a file, folder or glob ('-' = stdin)")
    count.add_argument("--errors", choices=("strict", "replace"), default="strict",
                       help="invalid UTF-8: fail (default) or replace and count")  # fmt: skip
    add_tokenizer_option(count)
    add_output_options(count)
    count.set_defaults(run=run_count)


def run_list(args: argparse.Namespace) -> int:
    rows = []
    for entry in BUILTINS:
        tokenizer = load_tokenizer(entry.name)
        rows.append(
            {
                "name": entry.name,
                "backend": tokenizer.backend,
                "vocab_size": tokenizer.vocab_size,
                "description": entry.description,
                "package": entry.package,
                "file": entry.file,
            }
        )
    if args.format == "json":
        emit(json.dumps({"tokenizers": rows}, indent=2), args.output)
        return 0
    columns = ["name", "backend", "vocab_size", "description", "package", "file"]
    table = Table("Built-in tokenizers", columns, [[row[c] for c in columns] for row in rows])
    emit(render_table(table, args.format), args.output)
    return 0


def run_count(args: argparse.Namespace) -> int:
    if (args.text is None) == (args.file is None):
        raise UserError("give either a text or --file PATH (not both)")
    tokenizers = load_tokenizers(args.tokenizers)
    if args.file is not None:
        texts = iter_texts(args.file, errors=args.errors, whole_files=True)
    else:
        texts = iter([args.text])
    rows = count_texts(tokenizers, texts)
    if args.format == "json":
        payload = {
            "tokenizers": [asdict(TokenizerInfo.of(t)) for t in tokenizers],
            "results": [asdict(row) for row in rows],
        }
        emit(json.dumps(payload, indent=2, ensure_ascii=False), args.output)
        return 0
    fields = ["tokenizer", "tokens", "bytes", "chars", "words", "bytes_per_token",
              "chars_per_token", "fertility"]  # fmt: skip
    rows.sort(key=lambda row: row.tokens)
    table = Table("Token counts", fields, columns_of(rows, fields))
    emit(render_table(table, args.format), args.output)
    return 0
