"""A cache of parsed vocabularies in the user's cache directory, so a second start is fast.

Where: ``$TOKSMITH_CACHE_DIR``, else ``$XDG_CACHE_HOME/toksmith``, else ``~/.cache/toksmith``.
A folder that cannot be made or written (or a path that is a file) means no cache: every
function here then does nothing, and the caller parses the source file as it would without a
cache. Nothing here raises for a cache problem.

An entry is one file, ``<kind>-<key>.bin``: a header (magic, format version, kind, key, payload
length, blake2b-256 of the payload) and the payload. :func:`read_entry` returns the payload only
when every header field matches and the checksum of the payload is right; a truncated, corrupt
or foreign entry is ``None``, and the caller rebuilds it (:func:`write_entry` replaces it
atomically). No pickle: payloads are raw bytes the caller lays out (see
:func:`pack_ranks` / :func:`unpack_ranks` for a rank table).

Keys name the source file's content: :func:`file_key` is the blake2b-128 of the file's bytes
(about 4 ms for o200k's 3.6 MB rank file), so an edited file gets a new key and a stale entry is
never read; size+mtime was rejected as a key because a file rewritten within the mtime
resolution would keep its key.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 1
_MAGIC = b"TOKSMITH-CACHE\n"
_HEADER = struct.Struct("<15sH")  # magic, format version
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_DIGEST_BYTES = 32


def cache_dir() -> Path | None:
    """The cache folder, made if missing, or ``None`` when it cannot be made or written."""
    configured = os.environ.get("TOKSMITH_CACHE_DIR")
    if configured:
        folder = Path(configured).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
        folder = base / "toksmith"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a file in the way, a read-only parent, ...
        return None
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return None
    return folder


def _entry_path(folder: Path, key: str, kind: str) -> Path:
    if not _NAME.match(key) or not _NAME.match(kind):
        raise ValueError(f"cache key and kind must match {_NAME.pattern}: {kind!r}, {key!r}")
    return folder / f"{kind}-{key}.bin"


def _header(key: str, kind: str, payload_length: int) -> bytes:
    names = f"{kind}\n{key}\n".encode("ascii")
    return _HEADER.pack(_MAGIC, FORMAT_VERSION) + names + struct.pack("<Q", payload_length)


def read_entry(key: str, kind: str) -> bytes | None:
    """The payload stored under ``(key, kind)``, or ``None`` when there is no cache, no such
    entry, or the entry is truncated, corrupt or written by another format version."""
    folder = cache_dir()
    if folder is None:
        return None
    path = _entry_path(folder, key, kind)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    expected = _header(key, kind, 0)[:-8]
    start = len(expected) + 8
    if len(data) < start + _DIGEST_BYTES or not data.startswith(expected):
        return None
    (length,) = struct.unpack_from("<Q", data, len(expected))
    digest = data[start : start + _DIGEST_BYTES]
    payload = data[start + _DIGEST_BYTES :]
    if len(payload) != length:
        return None
    if hashlib.blake2b(payload, digest_size=_DIGEST_BYTES).digest() != digest:
        return None
    return payload


def write_entry(key: str, kind: str, data: bytes) -> None:
    """Store ``data`` under ``(key, kind)``, atomically (temporary file + rename); a cache that
    cannot be written is skipped silently."""
    folder = cache_dir()
    if folder is None:
        return
    path = _entry_path(folder, key, kind)
    digest = hashlib.blake2b(data, digest_size=_DIGEST_BYTES).digest()
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        with os.fdopen(handle, "wb") as stream:
            stream.write(_header(key, kind, len(data)))
            stream.write(digest)
            stream.write(data)
        os.replace(temporary, path)
        temporary = None
    except OSError:
        pass
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def file_key(path: Path, *parts: str) -> str:
    """A cache key for the content of ``path`` (blake2b-128 of its bytes, hex), mixed with
    ``parts`` (e.g. the version of the library whose output is cached)."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    for part in parts:
        digest.update(b"\0" + part.encode("utf-8"))
    return digest.hexdigest()


# ---- a rank table as bytes ------------------------------------------------------------------

_RANKS_HEADER = struct.Struct("<Q")  # number of tokens


def pack_ranks(ranks: Mapping[bytes, int]) -> bytes:
    """A rank table as ``count, ranks (int64), offsets (int64, count+1), token bytes``."""
    tokens = list(ranks)
    values = np.fromiter(ranks.values(), dtype=np.int64, count=len(tokens))
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return b"".join(
        [_RANKS_HEADER.pack(len(tokens)), values.tobytes(), offsets.tobytes(), b"".join(tokens)]
    )


def unpack_ranks(data: bytes) -> dict[bytes, int] | None:
    """The rank table :func:`pack_ranks` wrote, or ``None`` when ``data`` is not one."""
    if len(data) < _RANKS_HEADER.size:
        return None
    (count,) = _RANKS_HEADER.unpack_from(data)
    values_end = _RANKS_HEADER.size + 8 * count
    offsets_end = values_end + 8 * (count + 1)
    if offsets_end > len(data):
        return None
    values = np.frombuffer(data, dtype=np.int64, count=count, offset=_RANKS_HEADER.size)
    offsets = np.frombuffer(data, dtype=np.int64, count=count + 1, offset=values_end)
    blob = memoryview(data)[offsets_end:]
    if offsets[0] != 0 or offsets[-1] != len(blob) or (np.diff(offsets) < 0).any():
        return None
    bounds = offsets.tolist()
    raw = bytes(blob)
    # One comprehension over (start, end, rank): about twice as fast as slicing by index.
    return {
        raw[a:b]: rank for a, b, rank in zip(bounds[:-1], bounds[1:], values.tolist(), strict=True)
    }


def pack_meta_and_ranks(meta: Mapping[str, object], ranks: Mapping[bytes, int]) -> bytes:
    """JSON ``meta`` (length-prefixed) followed by :func:`pack_ranks` of ``ranks``."""
    header = json.dumps(meta, ensure_ascii=True, sort_keys=True).encode("ascii")
    return struct.pack("<Q", len(header)) + header + pack_ranks(ranks)


def unpack_meta_and_ranks(data: bytes) -> tuple[dict[str, Any], dict[bytes, int]] | None:
    """What :func:`pack_meta_and_ranks` wrote, or ``None`` when ``data`` is not that."""
    if len(data) < 8:
        return None
    (length,) = struct.unpack_from("<Q", data)
    try:
        meta = json.loads(data[8 : 8 + length].decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    ranks = unpack_ranks(data[8 + length :])
    if not isinstance(meta, dict) or ranks is None:
        return None
    return meta, ranks


def cached_ranks(path: Path, kind: str, parse: Callable[[], dict[bytes, int]]) -> dict[bytes, int]:
    """The rank table of the file ``path``: from the cache entry ``kind`` for the file's
    content when there is a sound one, else ``parse()`` (which does every check the vendor's
    loader does), stored for the next time."""
    key = file_key(path)
    data = read_entry(key, kind)
    ranks = unpack_ranks(data) if data is not None else None
    if ranks is None:
        ranks = parse()
        write_entry(key, kind, pack_ranks(ranks))
    return ranks
