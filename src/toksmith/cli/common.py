"""Options and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from toksmith.tokenizers import Tokenizer, builtin_names, expand_specs, load_tokenizer

OUTPUT_FORMATS = ("table", "json", "csv", "md")


def add_tokenizer_option(parser: argparse.ArgumentParser, *, default_all: bool = True) -> None:
    parser.add_argument(
        "-t",
        "--tokenizer",
        dest="tokenizers",
        action="append",
        metavar="SPEC",
        help="built-in name ('all' for every one), tokenizer file/folder, or hf:/sp:/tiktoken:/"
        "tekken: + path; repeat for several" + (" (default: all)" if default_all else ""),
    )


def add_output_options(
    parser: argparse.ArgumentParser, formats: tuple[str, ...] = OUTPUT_FORMATS
) -> None:
    parser.add_argument("--format", choices=formats, default="table", help="output format")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[str, float], None]]:
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


def load_tokenizers(specs: list[str] | None) -> list[Tokenizer]:
    """Load every tokenizer named on the command line (all built-ins when none is)."""
    names = expand_specs(specs or ["all"])
    tokenizers = []
    with progress_bar("loading tokenizers") as update:
        for position, name in enumerate(names):
            update(name, position / len(names))
            tokenizers.append(load_tokenizer(name))
    return tokenizers


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


__all__ = [
    "add_output_options",
    "add_tokenizer_option",
    "builtin_names",
    "load_tokenizers",
    "progress_bar",
]
