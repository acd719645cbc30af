"""The ``toksmith`` command: argument parsing only.

Each subcommand lives in its own module of this package, which defines
``register(subcommands)``: it adds its parser and sets ``run`` to a function taking the parsed
arguments and returning an exit status. Feature logic stays in the feature packages.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from toksmith import __version__
from toksmith.cli.common import OneLineErrorParser, resolve_format
from toksmith.errors import UserError

# One module per group of subcommands; add a new feature's CLI module here.
COMMAND_MODULES = [
    "toksmith.cli.basic",
    "toksmith.cli.compare",
    "toksmith.cli.demo",
    "toksmith.cli.audit",
    "toksmith.cli.train",
    "toksmith.cli.bridge",
    "toksmith.cli.serve",
]


def build_parser() -> OneLineErrorParser:
    parser = OneLineErrorParser(
        prog="toksmith",
        description="Count, compare, train, audit, adapt and bridge LLM tokenizers.",
    )
    parser.add_argument("--version", action="version", version=f"toksmith {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    resolve_format(args)
    try:
        return int(args.run(args) or 0)
    except UserError as error:
        print(f"toksmith: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("toksmith: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
