"""Shards of a corpus: whole files, or byte ranges of large files cut where one process cuts.

A shard is read by :func:`iter_shard_segments` into exactly the segments that
:func:`toksmith.corpus.read.iter_segments` yields for that stretch of the file in one process:
same texts, same pieces of over-long lines, same error messages (file and byte offset; line
numbers counted from the start of the file), same replacement counts. Concatenated in shard
order, the shards of a corpus are its segments in reading order.

Where a file may be cut:

- segments (``compare``): after any line break. A range then starts at a line start, so the
  reader's pieces of a line longer than ``MAX_SEGMENT_BYTES`` are the same as in one pass.
- whole files (``count --file``, ``wordcount``): one process reads a plain-text file in blocks
  of ``MAX_SEGMENT_BYTES`` and cuts each block after its last line break. A cut after block
  ``k`` depends on nothing before it when block ``k`` holds a line break, so shards start
  only at such cuts, and a shard's reader starts on the same block grid.
- gzip files cannot be entered in the middle: each is one shard.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from toksmith.corpus import read
from toksmith.corpus.read import Errors, ReadStats, Segment
from toksmith.errors import UserError

SCAN_BYTES = 1 << 16  # read backwards in steps of this size to find a block's last line break


@dataclass(frozen=True)
class Shard:
    """Bytes ``start`` to ``end`` of ``path`` (``end`` None: to the end of the file).

    ``name`` is the file name as one process names it in messages; ``path`` is where workers
    open it (absolute, so a worker's working folder does not matter).
    """

    name: str
    path: str
    start: int = 0
    end: int | None = None
    size: int = 0  # bytes this shard covers, for balancing and progress

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end is None


def plan_shards(
    files: list[Path], *, shard_bytes: int, whole_files: bool = False
) -> list[list[Shard]]:
    """The corpus ``files`` as tasks: each task a list of shards in reading order, of about
    ``shard_bytes`` bytes (small files are grouped, large ones cut into ranges).

    Concatenating the tasks gives the corpus in reading order."""
    tasks: list[list[Shard]] = []
    current: list[Shard] = []
    current_size = 0
    for file in files:
        for shard in file_shards(file, shard_bytes=shard_bytes, whole_files=whole_files):
            if current and current_size + shard.size > shard_bytes:
                tasks.append(current)
                current, current_size = [], 0
            current.append(shard)
            current_size += shard.size
    if current:
        tasks.append(current)
    return tasks


def file_shards(path: Path, *, shard_bytes: int, whole_files: bool = False) -> list[Shard]:
    """One file as shards of about ``shard_bytes`` (at least one block of
    ``MAX_SEGMENT_BYTES`` for whole files); a gzip file is one shard."""
    name = str(path)
    absolute = str(path.expanduser().resolve())
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            compressed = name.endswith(".gz") or handle.read(2) == b"\x1f\x8b"
    except OSError as error:
        raise UserError(f"{name}: cannot read ({error.strerror})") from None
    if compressed or size <= shard_bytes:
        return [Shard(name, absolute, 0, None, size)]
    if whole_files and read.file_format(name) == "text":
        cuts = _block_cuts(path, size, shard_bytes)
    else:
        cuts = _line_cuts(path, size, shard_bytes)
    bounds = [0, *cuts]
    shards = []
    for position, start in enumerate(bounds):
        end = bounds[position + 1] if position + 1 < len(bounds) else None
        shards.append(Shard(name, absolute, start, end, (end or size) - start))
    return shards


def _line_cuts(path: Path, size: int, shard_bytes: int) -> list[int]:
    """Offsets just after a line break, about ``shard_bytes`` apart."""
    cuts: list[int] = []
    with open(path, "rb") as handle:
        position = shard_bytes
        while position < size:
            handle.seek(position - 1)
            handle.readline()  # to the end of the line holding byte position - 1
            cut = handle.tell()
            if cut >= size:
                break
            cuts.append(cut)
            position = cut + shard_bytes
    return cuts


def _block_cuts(path: Path, size: int, shard_bytes: int) -> list[int]:
    """Offsets where one pass of :func:`toksmith.corpus.read._whole_file` cuts whatever came
    before: just after the last line break of a block that holds one."""
    block = read.MAX_SEGMENT_BYTES
    step = max(1, shard_bytes // block)
    cuts: list[int] = []
    with open(path, "rb") as handle:
        index = step - 1
        while (index + 1) * block < size:
            last = _last_line_break(handle, index * block, (index + 1) * block)
            if last is None:
                index += 1  # no line break in this block: the next one may have one
                continue
            cuts.append(last + 1)
            index += step
    return cuts


def _last_line_break(handle: object, start: int, end: int) -> int | None:
    """The offset of the last ``\\n`` in bytes ``start``..``end`` of an open file, or None."""
    assert hasattr(handle, "seek") and hasattr(handle, "read")
    position = end
    while position > start:
        low = max(start, position - SCAN_BYTES)
        handle.seek(low)
        data = handle.read(position - low)
        found = data.rfind(b"\n")
        if found >= 0:
            return low + found
        position = low
    return None


def iter_shard_segments(
    shard: Shard,
    *,
    errors: Errors = "strict",
    text_field: str = "text",
    whole_files: bool = False,
    stats: ReadStats,
) -> Iterator[Segment]:
    """The segments of ``shard`` as one pass over the whole file yields them there (blank
    ones included: the caller filters as :func:`toksmith.corpus.read.iter_segments` does)."""
    path = Path(shard.path)
    if shard.whole:
        yield from read._iter_file(shard.name, path, errors, text_field, whole_files, stats)
        return
    kind = read.file_format(shard.name)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as error:
        raise UserError(f"{shard.name}: cannot read ({error.strerror})") from None
    with handle:
        if whole_files and kind == "text":
            yield from _whole_file_range(shard, handle, errors, stats)
            return
        yield from read.line_segments(
            kind,
            _lines_in_range(shard, handle, errors, stats),
            shard.name,
            text_field,
            lines_before=lambda: _lines_before(path, shard.start),
        )


def _lines_before(path: Path, offset: int) -> int:
    """Line breaks in the first ``offset`` bytes: what makes a shard's line numbers the
    file's (counted only when a message needs one)."""
    count = 0
    with open(path, "rb") as handle:
        remaining = offset
        while remaining > 0:
            data = handle.read(min(remaining, 1 << 24))
            if not data:
                break
            count += data.count(b"\n")
            remaining -= len(data)
    return count


def _lines_in_range(
    shard: Shard, handle: object, errors: Errors, stats: ReadStats
) -> Iterator[tuple[int, str]]:
    """:func:`toksmith.corpus.read._iter_lines` from ``shard.start`` (a line start) to
    ``shard.end``; line numbers count from 1 at ``shard.start``."""
    assert hasattr(handle, "seek") and hasattr(handle, "readline")
    limit = read.MAX_SEGMENT_BYTES
    handle.seek(shard.start)
    offset = shard.start
    line_number = 1
    carry = b""
    try:
        while shard.end is None or offset + len(carry) < shard.end:
            piece = handle.readline(limit)
            if not piece:
                break
            data = carry + piece
            complete = piece.endswith(b"\n")
            cut = len(data) if complete else read._utf8_boundary(data)
            data, carry = data[:cut], data[cut:]
            text = read._decode(data, shard.name, offset, errors, stats)
            if offset == 0:
                text = text.removeprefix(read.BOM)
            offset += len(data)
            stats.bytes += len(piece)
            yield line_number, text.rstrip("\r\n")
            if complete:
                line_number += 1
        if carry:
            yield line_number, read._decode(carry, shard.name, offset, errors, stats)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise UserError(f"{shard.name}: cannot read ({error})") from None


def _whole_file_range(
    shard: Shard, handle: object, errors: Errors, stats: ReadStats
) -> Iterator[Segment]:
    """:func:`toksmith.corpus.read._whole_file` from ``shard.start`` (one of its cuts) to
    ``shard.end``, reading on the same block grid so that every later cut is the same."""
    assert hasattr(handle, "seek") and hasattr(handle, "read")
    block = read.MAX_SEGMENT_BYTES
    handle.seek(shard.start)
    offset = shard.start
    # The rest of the block the start lies in: what one pass carries into the next block.
    carry = handle.read(-shard.start % block) if shard.start % block else b""
    stats.bytes += len(carry)
    try:
        while shard.end is None or offset < shard.end:
            data_block = handle.read(block)
            if not data_block:
                break
            stats.bytes += len(data_block)
            data = carry + data_block
            cut = data.rfind(b"\n") + 1 or read._utf8_boundary(data)
            data, carry = data[:cut], data[cut:]
            if data:
                text = read._decode(data, shard.name, offset, errors, stats)
                yield Segment(
                    text.removeprefix(read.BOM) if offset == 0 else text, "file", shard.name
                )
                offset += len(data)
        if carry and (shard.end is None or offset < shard.end):
            text = read._decode(carry, shard.name, offset, errors, stats)
            yield Segment(text.removeprefix(read.BOM) if offset == 0 else text, "file", shard.name)
    except (OSError, EOFError) as error:
        raise UserError(f"{shard.name}: cannot read ({error})") from None
