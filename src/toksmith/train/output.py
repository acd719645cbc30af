"""Writing a trained tokenizer folder: built in a temporary sibling, renamed at the end."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from toksmith.errors import UserError
from toksmith.files import check_output_folder_path, folder_mode

# Files a trained-tokenizer folder may hold; an existing folder with anything else is not ours
# to replace.
OWN_FILES = {"tokenizer.json", "toksmith.json"}


@contextmanager
def staging_folder(output: str | Path) -> Iterator[Path]:
    """A fresh temporary folder next to ``output``; renamed to ``output`` when the block ends
    without an error, removed otherwise, so no half-written folder is ever left behind.

    Fails early (before any training) when ``output`` cannot be written: its parent is
    missing or not writable, it is a file, or it is a folder holding files other than a
    toksmith tokenizer.
    """
    target = Path(output).expanduser()
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"cannot write {target}: folder {parent} does not exist")
    if target.exists() and not target.is_dir():
        raise UserError(f"cannot write {target}: it exists and is not a folder")
    if target.is_dir():
        foreign = sorted(p.name for p in target.iterdir() if p.name not in OWN_FILES)
        if foreign:
            raise UserError(
                f"cannot write {target}: the folder exists and holds other files "
                f"({', '.join(foreign[:3])}); choose a new or empty folder"
            )
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    except OSError as error:
        raise UserError(f"cannot write {target}: {error.strerror}") from None
    try:
        yield staging
        staging.chmod(folder_mode())  # mkdtemp makes it private; a result is not
        _replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _replace(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``; an existing ``target`` is swapped out, then deleted."""
    old = None
    try:
        if target.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
            )
            os.rmdir(old)
            os.rename(target, old)
        os.rename(staging, target)
    except OSError as error:
        if old is not None and not target.exists():
            os.rename(old, target)
        raise UserError(f"cannot write {target}: {error.strerror}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check_output_folder(
    output: str | Path, inputs: Iterable[str | Path | None], *, force: bool = False
) -> None:
    """Refuse, before any training, an output folder that overlaps an input (see
    :func:`check_folder_apart`); one that exists and is not a folder or not a trained
    tokenizer; and an existing trained tokenizer folder unless ``force``."""
    check_output_folder_path(output, inputs)
    target = Path(output).expanduser()
    if target.exists() and not target.is_dir():
        raise UserError(f"cannot write {target}: it exists and is not a folder")
    if target.is_dir():
        names = {p.name for p in target.iterdir()}
        foreign = sorted(names - OWN_FILES)
        if foreign:
            raise UserError(
                f"cannot write {target}: the folder exists and holds other files "
                f"({', '.join(foreign[:3])}); choose a new or empty folder"
            )
        if names and not force:
            raise UserError(
                f"{target} already holds a trained tokenizer: use --force to replace it"
            )
