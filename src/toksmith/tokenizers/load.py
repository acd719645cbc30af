"""Resolve a tokenizer spec (built-in name, file, folder, ``prefix:`` form) to a Tokenizer.

The file type is detected from the content: JSON with a ``model`` entry is an HF
``tokenizer.json``, JSON with ``config`` and ``vocab`` is Mistral Tekken, lines of
``<base64> <rank>`` are a tiktoken rank file, and anything SentencePiece can load is a
SentencePiece model. ``hf:``, ``sp:``, ``tiktoken:`` and ``tekken:`` force a backend, and
``ws:`` (or ``ws``) is the whitespace baseline.
"""

from __future__ import annotations

import copy
import difflib
import re
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from toksmith.errors import UserError, read_json_object
from toksmith.progress import Progress
from toksmith.tokenizers.base import Tokenizer, check_special_policy
from toksmith.tokenizers.registry import ALIASES, builtin_names, is_builtin, load_builtin

PREFIXES = ("hf", "sp", "tiktoken", "tekken")
WHITESPACE_SPECS = ("ws", "ws:")
_FILE_NAMES = ("tokenizer.json", "tekken.json", "tokenizer.model")  # looked for in a folder
_RANK_LINE = re.compile(rb"^[A-Za-z0-9+/]+=*\s+\d+\s*$")
_cache: dict[tuple[str, str], Tokenizer] = {}
_engine_cache: dict[tuple[str, str, str], Tokenizer] = {}
_cache_lock = threading.Lock()
_engine_choice: ContextVar[str] = ContextVar("toksmith_engine", default="auto")


@contextmanager
def engine_choice(engine: str) -> Iterator[None]:
    """Within the block, :func:`load_tokenizer` calls that name no engine use ``engine``
    (the CLI's ``--engine`` reaches every command this way)."""
    from toksmith.tokenizers.fast import check_engine_choice

    token = _engine_choice.set(check_engine_choice(engine))
    try:
        yield
    finally:
        _engine_choice.reset(token)


def load_tokenizer(spec: str, special: str = "text", engine: str | None = None) -> Tokenizer:
    """Load (once per process and special-token policy) the tokenizer named by ``spec``.

    ``spec`` is a built-in name (see ``toksmith list``), a path to a tokenizer file or model
    folder, ``hf:``/``sp:``/``tiktoken:``/``tekken:`` followed by a path (``hf:org/name``
    may also be an HF hub repository), or ``ws:`` for the whitespace baseline. ``special`` is
    ``"text"`` (special-token strings in a text are plain text) or ``"allow"`` (they are the
    special tokens). ``engine`` is ``"auto"`` (a fast engine where parity with the vendor
    holds), ``"vendor"`` or ``"fast"`` (a UserError where parity does not hold; see
    :func:`toksmith.tokenizers.parity.select_engine`); None means the one
    :func:`engine_choice` sets, else ``"auto"``. The cached object is shared: do not
    rename it (see :func:`load_tokenizers`).
    """
    from toksmith.tokenizers.fast import check_engine_choice

    check_special_policy(special)
    engine = check_engine_choice(engine or _engine_choice.get())
    if spec in WHITESPACE_SPECS:
        spec = "ws:"
    engine_key = (spec, special, engine)
    with _cache_lock:
        cached = _engine_cache.get(engine_key)
    if cached is not None:
        return cached
    tokenizer = _with_engine(_load_vendor(spec, special), spec, engine)
    with _cache_lock:
        return _engine_cache.setdefault(engine_key, tokenizer)


def _load_vendor(spec: str, special: str) -> Tokenizer:
    """The tokenizer on its vendor engine, loaded once per spec and policy."""
    key = (spec, special)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    tokenizer = _reloaded(spec, special)
    tokenizer.enable_release(lambda: _reloaded(spec, special))
    with _cache_lock:
        return _cache.setdefault(key, tokenizer)


def _reloaded(spec: str, special: str) -> Tokenizer:
    """A fresh tokenizer for ``spec`` on its vendor engine (no per-process cache)."""
    tokenizer = _load_uncached(spec, special)
    tokenizer.special_policy = special
    return tokenizer


def _with_engine(vendor: Tokenizer, spec: str, engine: str) -> Tokenizer:
    """A copy of ``vendor`` (sharing its vendor objects) with the engine ``engine`` gives it."""
    from toksmith.tokenizers.parity import select_engine

    builtin = ALIASES.get(spec, spec) if is_builtin(spec) else None
    return select_engine(copy.copy(vendor), engine, builtin=builtin)


def load_tokenizers(
    specs: Sequence[str],
    special: str = "text",
    progress: Progress | None = None,
    engine: str | None = None,
) -> list[Tokenizer]:
    """Load every tokenizer of ``specs`` (``all`` expanded) with unique names; ``progress``
    is told each spec before it loads, with the share of specs done; ``engine`` as in
    :func:`load_tokenizer`.

    Two tokenizers whose names clash (two folders called ``tok``) are renamed to the shortest
    path suffix that tells them apart (``a/tok``, ``b/tok``); ``source`` keeps the full path.
    Renamed tokenizers are copies, so the per-spec cache keeps the original names.
    """
    expanded = expand_specs(list(specs))
    tokenizers = []
    for position, spec in enumerate(expanded):
        if progress is not None:
            progress(spec, position / len(expanded))
        tokenizers.append(load_tokenizer(spec, special, engine))
    return unique_names(tokenizers)


def unique_names(tokenizers: Sequence[Tokenizer]) -> list[Tokenizer]:
    """``tokenizers`` with clashing names made unique (renamed ones are shallow copies)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for position, tokenizer in enumerate(tokenizers):
        groups[tokenizer.name].append(position)
    names = [tokenizer.name for tokenizer in tokenizers]
    for name, positions in groups.items():
        if len(positions) < 2:
            continue
        for position, new_name in zip(
            positions, _distinct_names(name, [tokenizers[p] for p in positions]), strict=True
        ):
            names[position] = new_name
    taken: set[str] = set()
    result = []
    for tokenizer, name in zip(tokenizers, names, strict=True):
        base, number = name, 2
        while name in taken:  # same file under two specs, or a suffix that still clashes
            name = f"{base}#{number}"
            number += 1
        taken.add(name)
        if name != tokenizer.name:
            tokenizer = copy.copy(tokenizer)
            tokenizer.name = name
        result.append(tokenizer)
    return result


def _distinct_names(name: str, tokenizers: Sequence[Tokenizer]) -> list[str]:
    """The shortest common number of parent folders that, put before ``name``, tells apart
    the tokenizers read from files; others (built-ins) keep ``name``."""
    prefixes = [_folders_before_name(tokenizer) for tokenizer in tokenizers]
    longest = max((len(parts) for parts in prefixes if parts is not None), default=0)
    for depth in range(1, longest + 1):
        labels = [
            name if parts is None else "/".join([*parts[len(parts) - depth :], name])
            for parts in prefixes
        ]
        if len(set(labels)) == len(labels):
            return labels
    return [name] * len(tokenizers)


def _folders_before_name(tokenizer: Tokenizer) -> tuple[str, ...] | None:
    """The folders above the one part of the (resolved) source path ``name`` comes from, or
    None when the tokenizer was not read from a file path."""
    path = Path(tokenizer.source)
    if not path.exists():
        return None
    path = path.resolve()
    if path.name in _FILE_NAMES and path.parent.name == tokenizer.name:
        path = path.parent  # the name is the folder's
    return tuple(part for part in path.parent.parts if part != path.anchor)


def expand_specs(specs: list[str]) -> list[str]:
    """Replace ``all`` by every built-in name, keeping order and dropping repeats."""
    expanded: list[str] = []
    for spec in specs:
        for item in builtin_names() if spec == "all" else [spec]:
            if item not in expanded:
                expanded.append(item)
    return expanded


def _load_uncached(spec: str, special: str = "text") -> Tokenizer:
    if spec == "ws:":
        from toksmith.tokenizers.whitespace import WhitespaceTokenizer

        return WhitespaceTokenizer()
    prefix, _, rest = spec.partition(":")
    if prefix in PREFIXES and rest:
        return _load_forced(prefix, rest, special)
    if is_builtin(spec):
        return load_builtin(spec, special)
    path = Path(spec).expanduser()
    if path.exists():
        return load_path(path, special)
    if "/" in spec or "\\" in spec or path.suffix:
        raise UserError(f"tokenizer file {spec!r} does not exist")
    suggestions = difflib.get_close_matches(spec, builtin_names() + list(ALIASES), n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    raise UserError(
        f"unknown tokenizer {spec!r}{hint} (built-in names: {', '.join(builtin_names())}; "
        "ws: for the whitespace baseline; or give a path to a tokenizer file)"
    )


def _load_forced(prefix: str, rest: str, special: str = "text") -> Tokenizer:
    from toksmith.tokenizers.hf_json import load_hf_hub, load_hf_json
    from toksmith.tokenizers.sentencepiece_model import SentencePieceTokenizer
    from toksmith.tokenizers.tiktoken_ranks import load_rank_file, tekken_from_json

    path = Path(rest).expanduser()
    if prefix == "hf" and not path.exists():
        return load_hf_hub(rest, special)
    if not path.exists():
        raise UserError(f"tokenizer file {rest!r} does not exist")
    if prefix == "hf":
        return load_hf_json(path, special=special)
    if prefix == "sp":
        return SentencePieceTokenizer(path, special=special)
    if prefix == "tiktoken":
        return load_rank_file(path, special=special)
    return tekken_from_json(_read_json(path), path=path, special=special)


def load_path(path: Path, special: str = "text") -> Tokenizer:
    """Load a tokenizer file or folder, detecting its type from its content."""
    from toksmith.tokenizers.hf_json import HFJsonTokenizer, load_hf_json
    from toksmith.tokenizers.sentencepiece_model import SentencePieceTokenizer
    from toksmith.tokenizers.tiktoken_ranks import load_rank_file, tekken_from_json

    if path.is_dir():
        for candidate in _FILE_NAMES:
            if (path / candidate).is_file():
                return load_path(path / candidate, special)
        raise UserError(f"{path}: folder holds no tokenizer.json, tekken.json or tokenizer.model")
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError as error:
        raise UserError(f"{path}: cannot read ({error.strerror})") from None
    if not head.strip():
        raise UserError(f"{path}: empty file, expected a tokenizer")
    if head.lstrip()[:1] == b"{":
        data = _read_json(path)
        if "model" in data:
            name = path.parent.name if path.name == "tokenizer.json" else path.stem
            return HFJsonTokenizer(data, name=name, source=str(path), special=special)
        if "config" in data and "vocab" in data:
            return tekken_from_json(data, path=path, special=special)
        return load_hf_json(path)  # raises a UserError that names what is missing
    first_line = head.split(b"\n", 1)[0]
    if _RANK_LINE.match(first_line):
        return load_rank_file(path, special=special)
    try:
        return SentencePieceTokenizer(path, special=special)
    except UserError:
        raise UserError(
            f"{path}: not a tokenizer file toksmith can read (expected an HF tokenizer.json, "
            "a Tekken JSON, a tiktoken rank file or a SentencePiece model)"
        ) from None


def _read_json(path: Path) -> dict:
    return read_json_object(path, "corrupt tokenizer JSON")
