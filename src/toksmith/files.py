"""Writing the user's files safely: atomically, with the user's umask, never over an input.

This is the ground floor: every feature that writes a file (reports, trained tokenizers, language
models) goes through :func:`write_atomic`, and every command checks its outputs against its
inputs with :func:`check_output_path` before it does any work.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

from toksmith.errors import UserError


@cache
def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new file gets from the user's umask (as ``open`` would give it)."""
    return 0o666 & ~_umask()


def folder_mode() -> int:
    """The mode a new folder gets from the user's umask (as ``mkdir`` would give it)."""
    return 0o777 & ~_umask()


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename,
    so a failure never leaves a half-written file behind.

    A symlink at ``path`` is written through, as the shell's ``>`` would: its target gets the
    new content and the link stays. A file that already exists keeps its mode; a new file gets
    the mode the user's umask gives. A read-only file (no write bit) is refused, not replaced.
    """
    target = _writable_target(path)
    folder = target.parent
    payload = data.encode("utf-8") if isinstance(data, str) else data
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else file_mode()
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise UserError(f"cannot write {path}: {error.strerror}") from None
        raise


def _writable_target(path: str | Path) -> Path:
    """The file a write to ``path`` lands in (a symlink's target), or a UserError when it
    cannot be written: missing folder, a folder in its place, or a read-only file."""
    given = Path(path).expanduser()
    target = given.resolve() if given.is_symlink() else given
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"cannot write {given}: folder {folder} does not exist")
    if target.is_dir():
        raise UserError(f"cannot write {given}: it is a folder, expected a file path")
    if target.exists() and not target.stat().st_mode & 0o222:
        raise UserError(f"cannot write {given}: the file is read-only")
    return target


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.resolve() == second.resolve() or first.samefile(second)
    except OSError:
        return False


def _existing_inputs(
    inputs: Iterable[str | Path | None],
) -> Iterator[tuple[str | Path, Path]]:
    """Each input as given and as a path, leaving out ``None``, ``-`` and paths that do not
    exist (they cannot be overwritten)."""
    for item in inputs:
        if item is None or str(item) == "-":
            continue
        source = Path(item).expanduser()
        if source.exists():
            yield item, source


def check_output_path(output: str | Path | None, inputs: Iterable[str | Path | None]) -> None:
    """Refuse an output path that is, or resolves to (through links), one of ``inputs``, or
    whose folder does not exist or cannot be written. Call before any work is done.

    An input that is a folder protects every file below it. ``None`` and ``-`` (stdout/stdin)
    are ignored.
    """
    if output is None or str(output) == "-":
        return
    target = Path(output).expanduser()
    resolved = target.resolve()
    for item, source in _existing_inputs(inputs):
        if _same_file(target, source) or (
            source.is_dir() and resolved.is_relative_to(source.resolve())
        ):
            raise UserError(
                f"output {output} would overwrite the input {item}: choose another path"
            )
    written = _writable_target(target)
    if not os.access(written.parent, os.W_OK):
        raise UserError(f"cannot write {target}: folder {written.parent} is not writable")


def check_output_folder_path(output: str | Path, inputs: Iterable[str | Path | None]) -> None:
    """Refuse an output folder that is one of ``inputs``, lies inside an input folder, or holds
    an input (replacing the folder would delete it), or whose parent folder is missing or not
    writable: the check of :func:`check_output_path` for outputs that are folders (a trained
    tokenizer, a language model). ``None`` and ``-`` (stdin) inputs are ignored."""
    target = Path(output).expanduser()
    resolved = target.resolve()
    for item, source in _existing_inputs(inputs):
        source_resolved = source.resolve()
        if (
            source_resolved == resolved
            or source_resolved.is_relative_to(resolved)
            or (source.is_dir() and resolved.is_relative_to(source_resolved))
        ):
            raise UserError(
                f"output folder {output} would overwrite the input {item}: choose a folder "
                "outside the corpus"
            )
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"cannot write {target}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UserError(f"cannot write {target}: folder {parent} is not writable")
