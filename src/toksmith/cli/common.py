"""Options and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from toksmith.errors import UserError
from toksmith.files import check_output_path
from toksmith.progress import Progress

if TYPE_CHECKING:  # the tokenizers load only when a command loads one (``list`` never does)
    from toksmith.tokenizers import Tokenizer

SPECIAL_POLICIES = ("text", "allow")

OUTPUT_FORMATS = ("table", "json", "csv", "md")
# File extensions -o infers --format from, when --format is not given.
FORMAT_OF_SUFFIX = {
    ".json": "json",
    ".csv": "csv",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".txt": "table",
}


def add_tokenizer_option(
    parser: argparse.ArgumentParser, *, default_all: bool = True, required: bool = False
) -> None:
    """``-t/--tokenizer SPEC``, repeatable, and ``--special text|allow``: the one definition
    every command uses."""
    parser.add_argument(
        "-t",
        "--tokenizer",
        dest="tokenizers",
        action="append",
        metavar="SPEC",
        required=required,
        help="built-in name ('all' for every one), tokenizer file/folder, or hf:/sp:/tiktoken:/"
        "tekken: + path; repeat for several"
        + (" (default: all)" if default_all and not required else ""),
    )
    add_special_option(parser)


def add_one_tokenizer_option(parser: argparse.ArgumentParser, *, default: str) -> None:
    """``-t/--tokenizer SPEC`` (the one definition of :func:`add_tokenizer_option`) for a
    command that works with exactly one tokenizer: read it with :func:`one_tokenizer_spec`."""
    add_tokenizer_option(parser, default_all=False)
    parser.set_defaults(tokenizer_default=default)


def one_tokenizer_spec(args: argparse.Namespace) -> str:
    """The one tokenizer a single-tokenizer command was given (its default when none)."""
    specs = args.tokenizers or [args.tokenizer_default]
    if len(specs) != 1 or specs[0] == "all":
        raise UserError(f"this command takes one tokenizer (-t SPEC), got {', '.join(specs)}")
    return specs[0]


def add_command_group(
    subcommands: argparse._SubParsersAction, name: str, *, help: str, description: str
) -> argparse._SubParsersAction:
    """A command with subcommands of its own (``audit vocab``, ``adapt transplant``, ...):
    without one, it prints its help and exits with status 2."""
    group = subcommands.add_parser(name, help=help, description=description)
    group.set_defaults(run=lambda args: _print_help(group))
    return group.add_subparsers(dest=f"{name}_command", metavar=name.upper())


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def add_special_option(parser: argparse.ArgumentParser) -> None:
    """``--special text|allow``: how special-token strings in the text are encoded (part of
    :func:`add_tokenizer_option`; alone for commands that load tokenizers they trained)."""
    parser.add_argument(
        "--special",
        choices=SPECIAL_POLICIES,
        default="text",
        help="special-token strings (e.g. <|endoftext|>) in the text: 'text' counts them as "
        "plain text (default); 'allow' counts them as the special tokens, as the HF library "
        "and tiktoken with allowed_special do",
    )
    add_engine_option(parser)


def add_engine_option(parser: argparse.ArgumentParser) -> None:
    """``--engine auto|vendor|fast``: which engine encodes (part of :func:`add_special_option`;
    see :mod:`toksmith.tokenizers.parity`)."""
    parser.add_argument(
        "--engine",
        choices=("auto", "vendor", "fast"),  # toksmith.tokenizers.fast.ENGINE_CHOICES
        default="auto",
        help="which engine encodes: 'auto' (default) a faster engine where it is proven to give "
        "the vendor's ids, else the vendor's; 'vendor' always the vendor's library; 'fast' "
        "fails where no fast engine has parity",
    )


def add_format_option(
    parser: argparse.ArgumentParser, formats: tuple[str, ...] = OUTPUT_FORMATS
) -> None:
    """``--format``: one of ``formats``; when not given, inferred from the ``-o`` extension
    (see :data:`FORMAT_OF_SUFFIX`), else the first of ``formats``."""
    parser.add_argument(
        "--format",
        choices=formats,
        default=None,
        help=f"output format (default: from the -o extension, else {formats[0]})",
    )
    parser.set_defaults(format_choices=formats)


def add_output_option(
    parser: argparse.ArgumentParser, *, what: str = "FILE", required: bool = False
) -> None:
    """``-o/--output``: where the result goes (stdout when not given)."""
    help_text = "write the result to FILE (atomically) instead of stdout"
    if what != "FILE":
        help_text = f"the {what.lower()} to write"
    parser.add_argument("-o", "--output", metavar=what, required=required, help=help_text)


def add_output_options(
    parser: argparse.ArgumentParser, formats: tuple[str, ...] = OUTPUT_FORMATS
) -> None:
    """``--format`` and ``-o/--output`` together."""
    add_format_option(parser, formats)
    add_output_option(parser)


def add_errors_option(parser: argparse.ArgumentParser) -> None:
    """``--errors strict|replace`` for every command that reads text files."""
    parser.add_argument(
        "--errors",
        choices=("strict", "replace"),
        default="strict",
        help="invalid UTF-8: fail naming the file and byte offset (default), or replace with "
        "U+FFFD and count the replaced bytes",
    )


def resolve_format(args: argparse.Namespace) -> None:
    """Fill in ``args.format`` when the user gave none: from the ``-o`` extension when it names
    one of the command's formats, else the command's default (its first format)."""
    choices = getattr(args, "format_choices", None)
    if choices is None or getattr(args, "format", None) is not None:
        return
    output = getattr(args, "output", None)
    inferred = FORMAT_OF_SUFFIX.get(Path(output).suffix.lower()) if output else None
    args.format = inferred if inferred in choices else choices[0]


def int_in_range(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number in [low, high] (either end may be open)."""

    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        _check_range(value, low, high, text)
        return value

    return parse


def float_in_range(
    low: float | None = None, high: float | None = None, *, low_open: bool = False
) -> Callable[[str], float]:
    """An argparse ``type`` for a finite number in [low, high] (or (low, high] with
    ``low_open``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if low_open and low is not None and value <= low:
            raise argparse.ArgumentTypeError(f"expected a number above {low:g}, got {text!r}")
        _check_range(value, low, high, text)
        return value

    return parse


def _check_range(value: float, low: float | None, high: float | None, text: str) -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = (
            f"from {low:,} to {high:,}"
            if low is not None and high is not None
            else (f"at least {low:,}" if low is not None else f"at most {high:,}")
        )
        raise argparse.ArgumentTypeError(f"expected a number {bounds}, got {text!r}")


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, ``toksmith: error: ...``, exit 2."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("toksmith").strip()
        where = f"toksmith {command}" if command else "toksmith"
        self.exit(2, f"toksmith: error: {message} (see '{where} --help')\n")


@contextmanager
def progress_bar(description: str) -> Iterator[Progress]:
    """A rich progress bar on stderr (only on a terminal); yields ``update(message, fraction)``
    where a negative fraction means the total is unknown."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[message]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(description, total=1.0, message="")

        def update(message: str, fraction: float) -> None:
            if fraction < 0:
                progress.update(task, total=None, message=message)
            else:
                progress.update(task, completed=fraction, message=message)

        yield update


def load_tokenizers(specs: list[str] | None, special: str = "text") -> list[Tokenizer]:
    """Load every tokenizer named on the command line (all built-ins when none is), with the
    ``--special`` policy; names are unique (see :func:`toksmith.tokenizers.load_tokenizers`)."""
    from toksmith.tokenizers import expand_specs
    from toksmith.tokenizers import load_tokenizers as load_all

    names = expand_specs(specs or ["all"])
    with progress_bar("loading tokenizers") as update:
        return load_all(names, special=special, progress=update)


def load_one_tokenizer(spec: str, special: str = "text") -> Tokenizer:
    """One tokenizer with the ``--special`` policy."""
    from toksmith.tokenizers import load_tokenizer

    return load_tokenizer(spec, special=special)


def check_output(output: str | None, inputs: Sequence[str | None]) -> None:
    """Refuse an output that is an input or cannot be written, before any work (see
    :func:`toksmith.files.check_output_path`)."""
    check_output_path(output, inputs)


def check_inputs(corpora: Sequence[str | None] = (), files: Sequence[str | None] = ()) -> None:
    """Fail now, before any tokenizer is loaded, when a corpus (file, folder, glob or ``-``)
    or a plain input file does not exist."""
    from toksmith.corpus import corpus_files

    for corpus in corpora:
        if corpus is not None and corpus != "-":
            corpus_files(corpus)
    for name in files:
        if name is None or name == "-":
            continue
        path = Path(name).expanduser()
        if not path.exists():
            raise UserError(f"file {name} does not exist")
        if not path.is_file():
            raise UserError(f"{name} is not a file")


__all__ = [
    "SPECIAL_POLICIES",
    "OneLineErrorParser",
    "check_inputs",
    "check_output",
    "load_one_tokenizer",
    "add_errors_option",
    "add_format_option",
    "add_output_option",
    "add_output_options",
    "add_engine_option",
    "add_special_option",
    "float_in_range",
    "int_in_range",
    "resolve_format",
    "add_tokenizer_option",
    "load_tokenizers",
    "progress_bar",
]
