"""What the playground shows for one tokenizer on one text: tokens as displayable pieces.

A token's bytes are not always a whole UTF-8 string: byte-level BPE and byte fallback split
characters (``"🤗"`` may be ``b"\\xf0\\x9f"`` + ``b"\\xa4"`` + ``b"\\x97"``). Each token is turned
into a *piece* the page can draw without guessing:

- a ``str`` when its bytes decode as UTF-8 on their own;
- a ``list`` of ``str`` (decodable runs) and ``int`` (stray byte values) for a partial token;
- a ``dict`` ``{"special": label}`` for a token with no text bytes (control or unknown token).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from toksmith.tokenizers import Tokenizer

Piece = str | list[str | int] | dict[str, str]


@dataclass
class TokenView:
    """One tokenizer's tokens for the playground, with the counts shown above them."""

    name: str
    backend: str
    vocab_size: int
    byte_exact: bool
    pipeline: str
    ids: list[int]
    pieces: list[Piece]
    tokens: int
    bytes: int
    chars: int
    partial_tokens: int
    bytes_per_token: float | None
    chars_per_token: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "backend": self.backend,
            "vocab_size": self.vocab_size,
            "byte_exact": self.byte_exact,
            "pipeline": self.pipeline,
            "tokens": self.tokens,
            "bytes": self.bytes,
            "chars": self.chars,
            "partial_tokens": self.partial_tokens,
            "bytes_per_token": self.bytes_per_token,
            "chars_per_token": self.chars_per_token,
            "ids": self.ids,
            "pieces": self.pieces,
        }


def piece_of(data: bytes) -> str | list[str | int]:
    """The displayable piece of a token's bytes: text, or text runs and stray byte values."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    parts: list[str | int] = []
    start = 0
    while start < len(data):
        try:
            parts.append(data[start:].decode("utf-8"))
            break
        except UnicodeDecodeError as error:
            if error.start:
                parts.append(data[start : start + error.start].decode("utf-8"))
            bad = start + error.start
            end = start + error.end
            parts.extend(data[bad:end])
            start = end
    return parts


def special_label(tokenizer: Tokenizer, token_id: int) -> str:
    """The vocabulary string of a token without text bytes (``[UNK]``, ``<s>``), from the
    tokenizer's public :meth:`~toksmith.tokenizers.Tokenizer.token_label`; ``<id>`` when
    no token string is stored for it."""
    label = tokenizer.token_label(token_id)
    return label if label else f"<{token_id}>"


@dataclass
class PieceCache:
    """Pieces per (tokenizer, id), so repeated requests do not decode the same tokens again."""

    limit: int = 200_000  # entries per tokenizer
    _pieces: WeakKeyDictionary[Tokenizer, dict[int, Piece]] = field(
        default_factory=WeakKeyDictionary
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def table(self, tokenizer: Tokenizer) -> dict[int, Piece]:
        with self._lock:
            table = self._pieces.setdefault(tokenizer, {})
            if len(table) > self.limit:
                table.clear()
            return table


def token_view(tokenizer: Tokenizer, text: str, cache: PieceCache | None = None) -> TokenView:
    """Encode ``text`` and describe every token for display."""
    ids = tokenizer.encode(text)
    table = cache.table(tokenizer) if cache is not None else {}
    pieces: list[Piece] = []
    partial = 0
    for token_id in ids:
        piece = table.get(token_id)
        if piece is None:
            data = tokenizer.token_bytes(token_id)
            piece = piece_of(data) if data else {"special": special_label(tokenizer, token_id)}
            table[token_id] = piece
        if isinstance(piece, list):
            partial += 1
        pieces.append(piece)
    n_bytes = len(text.encode("utf-8"))
    stages = tokenizer.pipeline()
    return TokenView(
        name=tokenizer.name,
        backend=tokenizer.backend,
        vocab_size=tokenizer.vocab_size,
        byte_exact=tokenizer.byte_exact,
        pipeline=f"{stages.normalizer} → {stages.pre_tokenizer[:80]} → {stages.model}",
        ids=ids,
        pieces=pieces,
        tokens=len(ids),
        bytes=n_bytes,
        chars=len(text),
        partial_tokens=partial,
        bytes_per_token=n_bytes / len(ids) if ids else None,
        chars_per_token=len(text) / len(ids) if ids else None,
    )
