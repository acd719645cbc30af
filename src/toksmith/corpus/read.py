"""Streaming text readers: files, folders, globs and stdin; plain text, TSV and JSONL; gzip.

Memory does not grow with the corpus: files are read line by line, and a line longer than
``MAX_SEGMENT_BYTES`` is cut into several segments at UTF-8 character boundaries.

What a segment is: a line of a plain-text file without its line break (``\n`` or ``\r\n``),
blank lines skipped; a TSV row's text column; a JSONL record's text field; or, with
``whole_files``, a plain-text file whole (line breaks and blank lines included, cut only every
``MAX_SEGMENT_BYTES``). A UTF-8 byte-order mark at the start of a file is not text and is
dropped (it would make the first TSV id ``\ufeff1`` and be counted as a character).
"""

from __future__ import annotations

import codecs
import glob
import gzip
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from toksmith.errors import UserError

MAX_SEGMENT_BYTES = 4 * 1024 * 1024
Errors = Literal["strict", "replace"]
SKIPPED_DIRS = {"__pycache__", ".git", ".hg", ".svn", "node_modules", ".venv"}
BOM = "\ufeff"
REPLACEMENT_BYTES = len("\ufffd".encode())  # 3: what one U+FFFD costs in UTF-8


@dataclass
class Segment:
    """One unit of text: a line, a TSV row, a JSONL record or a whole file."""

    text: str
    unit: str  # the id column of a TSV row, else the 1-based line number (or "file")
    source: str


@dataclass
class ReadStats:
    """What reading saw: filled in as segments are yielded."""

    files: int = 0
    segments: int = 0
    bytes: int = 0  # bytes read from the files (after gzip), markup and line breaks included
    replaced_bytes: int = 0  # invalid UTF-8 bytes replaced by U+FFFD under errors="replace"
    replacements: int = 0  # U+FFFD characters put in their place (one per invalid sequence)

    @property
    def replacement_excess_bytes(self) -> int:
        """How many more UTF-8 bytes the decoded text has than the file had where invalid
        bytes were replaced: each U+FFFD is 3 bytes but stands for ``replaced_bytes`` bytes.
        Subtract it from the text's UTF-8 size to get the size of the file's text."""
        return REPLACEMENT_BYTES * self.replacements - self.replaced_bytes


def corpus_files(source: str | Path, *, confine_to: str | Path | None = None) -> list[Path]:
    """The files a corpus argument names: a file, every text file below a folder, or a glob.

    Hidden files, ``__pycache__`` and files that look binary (a NUL byte in their first 8 KiB)
    are left out of folders. With ``confine_to`` (a folder), a file whose resolved path (links
    followed) is outside that folder raises a UserError naming it: a server passes its root so
    that a symlink inside a corpus folder cannot make it read any other file.
    """
    text = str(source)
    path = Path(text).expanduser()
    if path.is_file():
        return _confined([path], confine_to)
    if path.is_dir():
        candidates = [
            p
            for p in sorted(path.rglob("*"))
            if p.is_file()
            and not any(
                part.startswith(".") or part in SKIPPED_DIRS for part in p.relative_to(path).parts
            )
        ]
        # Checked before _looks_binary opens them: nothing outside is read, not even a byte.
        files = [p for p in _confined(candidates, confine_to) if not _looks_binary(p)]
        if not files:
            raise UserError(f"corpus folder {text} holds no text files")
        return files
    if any(char in text for char in "*?["):
        matches = [Path(p) for p in sorted(glob.glob(text, recursive=True)) if Path(p).is_file()]
        if not matches:
            raise UserError(f"corpus pattern {text!r} matches no files")
        return _confined(matches, confine_to)
    raise UserError(f"corpus {text!r} does not exist (expected a file, a folder, a glob or -)")


def check_inside(path: str | Path, folder: str | Path) -> None:
    """Raise a UserError naming ``path`` unless it resolves (links followed) inside ``folder``.

    The message names the path as given, never where a link points."""
    root = Path(folder).expanduser().resolve()
    try:
        resolved = Path(path).expanduser().resolve()
    except (OSError, RuntimeError):  # a symlink loop
        raise UserError(f"{path}: cannot be resolved (a symlink loop?)") from None
    if not resolved.is_relative_to(root):
        raise UserError(f"{path}: leads outside {folder} (through a link); refusing to read it")


def _confined(files: list[Path], confine_to: str | Path | None) -> list[Path]:
    if confine_to is not None:
        for file in files:
            check_inside(file, confine_to)
    return files


def iter_segments(
    source: str | Path,
    *,
    errors: Errors = "strict",
    text_field: str = "text",
    whole_files: bool = False,
    keep_blank: bool = False,
    stats: ReadStats | None = None,
    allow_empty: bool = False,
    confine_to: str | Path | None = None,
) -> Iterator[Segment]:
    """Yield the segments of a corpus, streaming.

    ``source`` is a file, folder, glob, or ``"-"`` for stdin. The format of each file follows
    its name (``.gz`` removed first): ``.jsonl``/``.ndjson`` read ``text_field`` of each
    record, ``.tsv`` reads ``id<TAB>text`` rows, anything else is plain text with one segment
    per line (without the line break; blank lines are skipped unless ``keep_blank``), or one
    per file with ``whole_files`` (every byte kept). A leading byte-order mark is dropped.
    Invalid UTF-8 raises a UserError naming the file and byte offset, unless
    ``errors="replace"``, which counts replacements in ``stats``. An empty corpus raises a
    UserError unless ``allow_empty``. ``confine_to`` refuses files outside a folder (see
    :func:`corpus_files`); stdin is then refused too.
    """
    stats = stats if stats is not None else ReadStats()
    non_blank = 0
    if str(source) == "-":
        if confine_to is not None:
            raise UserError(f"stdin ('-') is not a file inside {confine_to}")
        sources: list[tuple[str, BinaryIO | Path]] = [("<stdin>", sys.stdin.buffer)]
    else:
        sources = [(str(p), p) for p in corpus_files(source, confine_to=confine_to)]
    for name, handle_or_path in sources:
        stats.files += 1
        for segment in _iter_file(name, handle_or_path, errors, text_field, whole_files, stats):
            blank = not segment.text.strip()
            # Blank lines are no segments, but whole files keep every byte.
            if blank and not (keep_blank or whole_files):
                continue
            non_blank += not blank
            stats.segments += 1
            yield segment
    if non_blank == 0 and not allow_empty:
        raise UserError(f"corpus {source} is empty: no non-blank text segments")


def iter_texts(
    source: str | Path,
    *,
    errors: Errors = "strict",
    text_field: str = "text",
    whole_files: bool = False,
    keep_blank: bool = False,
    stats: ReadStats | None = None,
    allow_empty: bool = False,
    confine_to: str | Path | None = None,
) -> Iterator[str]:
    """Only the text of :func:`iter_segments` (same options)."""
    segments = iter_segments(
        source,
        errors=errors,
        text_field=text_field,
        whole_files=whole_files,
        keep_blank=keep_blank,
        stats=stats,
        allow_empty=allow_empty,
        confine_to=confine_to,
    )
    for segment in segments:
        yield segment.text


def file_format(name: str) -> str:
    """``jsonl``, ``tsv`` or ``text``, from the file name."""
    lowered = name.lower()
    if lowered.endswith(".gz"):
        lowered = lowered[:-3]
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lowered.endswith(".tsv"):
        return "tsv"
    return "text"


def _looks_binary(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(8192)
    except OSError:
        return True
    if path.suffix == ".gz" or head[:2] == b"\x1f\x8b":
        return False
    return b"\x00" in head


def _open_binary(name: str, handle_or_path: BinaryIO | Path) -> BinaryIO:
    if isinstance(handle_or_path, Path):
        try:
            raw: BinaryIO = open(handle_or_path, "rb")  # noqa: SIM115 - closed by the caller
        except OSError as error:
            raise UserError(f"{name}: cannot read ({error.strerror})") from None
    else:
        raw = handle_or_path
    peek = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    if name.endswith(".gz") or peek == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    return raw


def _iter_lines(
    name: str, raw: BinaryIO, errors: Errors, stats: ReadStats
) -> Iterator[tuple[int, str]]:
    """(1-based line number, decoded text) for each line; a line longer than
    ``MAX_SEGMENT_BYTES`` comes as several pieces with the same line number."""
    offset = 0  # file offset of the first byte of ``carry + piece``
    line_number = 1
    carry = b""  # an incomplete UTF-8 character at the end of a cut piece
    try:
        while True:
            piece = raw.readline(MAX_SEGMENT_BYTES)
            if not piece:
                break
            data = carry + piece
            complete = piece.endswith(b"\n")
            cut = len(data) if complete else _utf8_boundary(data)
            data, carry = data[:cut], data[cut:]
            text = _decode(data, name, offset, errors, stats)
            if offset == 0:
                text = text.removeprefix(BOM)
            offset += len(data)
            stats.bytes += len(piece)
            yield line_number, text.rstrip("\r\n")
            if complete:
                line_number += 1
        if carry:
            yield line_number, _decode(carry, name, offset, errors, stats)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise UserError(f"{name}: cannot read ({error})") from None


def _utf8_boundary(data: bytes) -> int:
    """Length of the longest prefix of ``data`` that does not end inside a UTF-8 character."""
    end = len(data)
    for back in range(1, min(4, end) + 1):
        byte = data[end - back]
        if byte & 0xC0 != 0x80:  # a lead byte or ASCII
            needed = (
                1 if byte < 0x80 else 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else 4
            )
            return end if back >= needed else end - back
    return end


def _decode(data: bytes, name: str, offset: int, errors: Errors, stats: ReadStats) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if errors == "strict":
            raise UserError(
                f"{name}: invalid UTF-8 at byte {offset + error.start} "
                "(use --errors replace to replace invalid bytes and count them)"
            ) from None
    replaced = replacements = 0

    def count_and_replace(error: UnicodeError) -> tuple[str, int]:
        nonlocal replaced, replacements
        assert isinstance(error, UnicodeDecodeError)
        replaced += error.end - error.start
        replacements += 1
        return "\ufffd", error.end

    codecs.register_error("toksmith-count", count_and_replace)
    text = data.decode("utf-8", errors="toksmith-count")
    stats.replaced_bytes += replaced
    stats.replacements += replacements
    return text


def _iter_file(
    name: str,
    handle_or_path: BinaryIO | Path,
    errors: Errors,
    text_field: str,
    whole_files: bool,
    stats: ReadStats,
) -> Iterator[Segment]:
    raw = _open_binary(name, handle_or_path)
    kind = file_format(name)
    try:
        if whole_files and kind == "text":
            yield from _whole_file(name, raw, errors, stats)
            return
        yield from line_segments(kind, _iter_lines(name, raw, errors, stats), name, text_field)
    finally:
        if isinstance(handle_or_path, Path):
            raw.close()


def line_segments(
    kind: str,
    numbered_lines: Iterable[tuple[int, str]],
    name: str,
    text_field: str,
    lines_before: Callable[[], int] | None = None,
) -> Iterator[Segment]:
    """The segments of a file's numbered lines by its format (``kind`` of
    :func:`file_format`): a JSONL record's ``text_field``, a TSV row's text under its id, a
    plain line under its number. Blank JSONL and TSV lines are skipped. For a piece of a file
    (a cluster shard), ``lines_before`` gives the lines before it, so an error names the
    file's own line number; it is only called when a message needs it."""
    for line_number, line in numbered_lines:
        if kind == "jsonl":
            if not line.strip():
                continue
            try:
                text = _jsonl_text(line, name, line_number, text_field)
            except UserError:
                if lines_before is None:
                    raise
                _jsonl_text(line, name, lines_before() + line_number, text_field)
                raise
            yield Segment(text, str(line_number), name)
        elif kind == "tsv":
            unit, tab, text = line.partition("\t")
            if not tab:
                if not line.strip():
                    continue
                absolute = line_number + (lines_before() if lines_before else 0)
                raise UserError(f"{name}: line {absolute} has no tab; expected 'id<TAB>text'")
            yield Segment(text, unit, name)
        else:
            yield Segment(line, str(line_number), name)


def _whole_file(name: str, raw: BinaryIO, errors: Errors, stats: ReadStats) -> Iterator[Segment]:
    """A file as segments of at most about ``MAX_SEGMENT_BYTES``, read in large blocks and cut
    after the last line break of each block (or at a character boundary in a huge line)."""
    offset = 0  # file offset of the first byte of ``carry``
    carry = b""
    try:
        while True:
            block = raw.read(MAX_SEGMENT_BYTES)
            if not block:
                break
            stats.bytes += len(block)
            data = carry + block
            cut = data.rfind(b"\n") + 1 or _utf8_boundary(data)
            data, carry = data[:cut], data[cut:]
            if data:
                text = _decode(data, name, offset, errors, stats)
                yield Segment(text.removeprefix(BOM) if offset == 0 else text, "file", name)
                offset += len(data)
        if carry:
            text = _decode(carry, name, offset, errors, stats)
            yield Segment(text.removeprefix(BOM) if offset == 0 else text, "file", name)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise UserError(f"{name}: cannot read ({error})") from None


def _jsonl_text(line: str, name: str, line_number: int, text_field: str) -> str:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise UserError(f"{name}: line {line_number} is not valid JSON ({error.msg})") from None
    if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
        raise UserError(f"{name}: line {line_number} has no string field {text_field!r}")
    return record[text_field]
