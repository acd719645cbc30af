"""The ``toksmith`` command: argument parsing only.

Each subcommand lives in a module of this package, which defines ``register(subcommands)``: it
adds its parser and sets ``run`` to a function taking the parsed arguments and returning an
exit status. Feature logic stays in the feature packages.

:data:`COMMANDS` names every command, its module and its one-line help. Only the module of the
command being run is imported (``toksmith count`` never imports the trainers, the bridge, the
web server or the audits); the top-level help is drawn from the table alone.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence

from toksmith import __version__
from toksmith.cli.common import OneLineErrorParser, resolve_format
from toksmith.errors import UserError

# command name → (module that registers it, one-line help); add a new command here. A module
# may register several commands (list and count; lm and bridge); its register() adds them all.
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("toksmith.cli.basic", "list the built-in tokenizers"),
    "count": ("toksmith.cli.basic", "count the tokens of a text or file"),
    "compare": (
        "toksmith.cli.compare",
        "compare tokenizers on a corpus (default: wordfreq word lists)",
    ),
    "demo": (
        "toksmith.cli.demo",
        "the main job on the built-in default: all built-ins × wordfreq languages",
    ),
    "audit": (
        "toksmith.cli.audit",
        "audit a vocabulary: problem tokens, coverage, morphology, numbers, characters",
    ),
    "train": ("toksmith.cli.train", "train a tokenizer (bpe, unigram, wordpiece, superbpe, lib)"),
    "sweep": (
        "toksmith.cli.train",
        "train a series of vocabulary sizes and pick the smallest near-best one",
    ),
    "lm": ("toksmith.cli.bridge", "train the built-in n-gram language model"),
    "bridge": (
        "toksmith.cli.bridge",
        "exact byte-level probabilities from token-level LMs (Phan et al. 2024)",
    ),
    "wordcount": (
        "toksmith.cli.wordcount",
        "count the pre-tokens of a corpus (for train --from-counts), optionally on Dask",
    ),
    "adapt": (
        "toksmith.cli.adapt",
        "adapt a model to a new tokenizer: transplant embeddings, compare, dynamic merges",
    ),
    "cost": ("toksmith.cli.cost", "what a text, file or conversation costs under each model"),
    "prices": ("toksmith.cli.cost", "the bundled model price table"),
    "billing": (
        "toksmith.cli.billing",
        "check a bill: canonical counts (Velasco et al.) and CoIn audits",
    ),
    "serve": ("toksmith.cli.serve", "open the local web page: tokenize, compare, view results"),
}


def build_parser(only: str | None = None, *, stubs_only: bool = False) -> OneLineErrorParser:
    """The ``toksmith`` parser. Every command's module is imported and registered, unless
    ``only`` names a command (then only its module is; the others are placeholders that carry
    their help) or ``stubs_only`` (the top-level help: no command module is imported)."""
    parser = OneLineErrorParser(
        prog="toksmith",
        description="Count, compare, train, audit, adapt, bridge and bill LLM tokenizers, and "
        "serve a local web page for them.",
    )
    parser.add_argument("--version", action="version", version=f"toksmith {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    registered: set[str] = set()
    chosen = COMMANDS[only][0] if only in COMMANDS else None
    for name, (module_name, help_text) in COMMANDS.items():
        real = not stubs_only and (only is None or module_name == chosen)
        if not real:
            subcommands.add_parser(name, help=help_text, add_help=False)
        elif module_name not in registered:
            registered.add(module_name)
            importlib.import_module(module_name).register(subcommands)
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The command named on the command line: the first argument that is not an option (the
    top-level options, ``-h`` and ``--version``, take no value)."""
    for item in argv:
        if not item.startswith("-"):
            return item
    return None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = command_of(arguments)
    parser = build_parser(command) if command in COMMANDS else build_parser(stubs_only=True)
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exit:  # usage errors (one line, status 2), --help and --version
        return exit.code if isinstance(exit.code, int) else 2
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    resolve_format(args)
    try:
        engine = getattr(args, "engine", None)
        if engine in (None, "auto"):  # the default: nothing to import before the command
            return int(args.run(args) or 0)
        from toksmith.tokenizers.load import engine_choice

        with engine_choice(engine):
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
    finally:
        if argv is None:
            # The process is about to exit: keep the collector's final passes off everything
            # the command loaded (about 0.15 s of CPU after a 200k-token vocabulary); every
            # object is still freed and every atexit handler still runs.
            gc.freeze()


def registered_commands(parser: argparse.ArgumentParser) -> list[str]:
    """The command names ``parser`` accepts, in the order its help lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


if __name__ == "__main__":
    sys.exit(main())
