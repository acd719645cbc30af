"""Resolve a tokenizer spec (built-in name, file, folder, ``prefix:`` form) to a Tokenizer.

The file type is detected from the content: JSON with a ``model`` entry is an HF
``tokenizer.json``, JSON with ``config`` and ``vocab`` is Mistral Tekken, lines of
``<base64> <rank>`` are a tiktoken rank file, and anything SentencePiece can load is a
SentencePiece model. ``hf:``, ``sp:``, ``tiktoken:`` and ``tekken:`` force a backend.
"""

from __future__ import annotations

import difflib
import json
import re
import threading
from pathlib import Path

from toksmith.errors import UserError
from toksmith.tokenizers.base import Tokenizer
from toksmith.tokenizers.registry import ALIASES, builtin_names, is_builtin, load_builtin

PREFIXES = ("hf", "sp", "tiktoken", "tekken")
_RANK_LINE = re.compile(rb"^[A-Za-z0-9+/]+=*\s+\d+\s*$")
_cache: dict[str, Tokenizer] = {}
_cache_lock = threading.Lock()


def load_tokenizer(spec: str) -> Tokenizer:
    """Load (once per process) the tokenizer named by ``spec``.

    ``spec`` is a built-in name (see ``toksmith list``), a path to a tokenizer file or model
    folder, or ``hf:``/``sp:``/``tiktoken:``/``tekken:`` followed by a path (``hf:org/name``
    may also be an HF hub repository).
    """
    with _cache_lock:
        cached = _cache.get(spec)
    if cached is not None:
        return cached
    tokenizer = _load_uncached(spec)
    with _cache_lock:
        return _cache.setdefault(spec, tokenizer)


def expand_specs(specs: list[str]) -> list[str]:
    """Replace ``all`` by every built-in name, keeping order and dropping repeats."""
    expanded: list[str] = []
    for spec in specs:
        for item in builtin_names() if spec == "all" else [spec]:
            if item not in expanded:
                expanded.append(item)
    return expanded


def _load_uncached(spec: str) -> Tokenizer:
    prefix, _, rest = spec.partition(":")
    if prefix in PREFIXES and rest:
        return _load_forced(prefix, rest)
    if is_builtin(spec):
        return load_builtin(spec)
    path = Path(spec).expanduser()
    if path.exists():
        return load_path(path)
    if "/" in spec or "\\" in spec or path.suffix:
        raise UserError(f"tokenizer file {spec!r} does not exist")
    suggestions = difflib.get_close_matches(spec, builtin_names() + list(ALIASES), n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    raise UserError(
        f"unknown tokenizer {spec!r}{hint} (built-in names: {', '.join(builtin_names())}; "
        "or give a path to a tokenizer file)"
    )


def _load_forced(prefix: str, rest: str) -> Tokenizer:
    from toksmith.tokenizers.hf_json import load_hf_hub, load_hf_json
    from toksmith.tokenizers.sentencepiece_model import SentencePieceTokenizer
    from toksmith.tokenizers.tiktoken_ranks import load_rank_file, tekken_from_json

    path = Path(rest).expanduser()
    if prefix == "hf" and not path.exists():
        return load_hf_hub(rest)
    if not path.exists():
        raise UserError(f"tokenizer file {rest!r} does not exist")
    if prefix == "hf":
        return load_hf_json(path)
    if prefix == "sp":
        return SentencePieceTokenizer(path)
    if prefix == "tiktoken":
        return load_rank_file(path)
    return tekken_from_json(_read_json(path), path=path)


def load_path(path: Path) -> Tokenizer:
    """Load a tokenizer file or folder, detecting its type from its content."""
    from toksmith.tokenizers.hf_json import HFJsonTokenizer, load_hf_json
    from toksmith.tokenizers.sentencepiece_model import SentencePieceTokenizer
    from toksmith.tokenizers.tiktoken_ranks import load_rank_file, tekken_from_json

    if path.is_dir():
        for candidate in ("tokenizer.json", "tekken.json", "tokenizer.model"):
            if (path / candidate).is_file():
                return load_path(path / candidate)
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
            return HFJsonTokenizer(data, name=name, source=str(path))
        if "config" in data and "vocab" in data:
            return tekken_from_json(data, path=path)
        return load_hf_json(path)  # raises a UserError that names what is missing
    first_line = head.split(b"\n", 1)[0]
    if _RANK_LINE.match(first_line):
        return load_rank_file(path)
    try:
        return SentencePieceTokenizer(path)
    except UserError:
        raise UserError(
            f"{path}: not a tokenizer file toksmith can read (expected an HF tokenizer.json, "
            "a Tekken JSON, a tiktoken rank file or a SentencePiece model)"
        ) from None


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: corrupt tokenizer JSON ({error})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object")
    return data
