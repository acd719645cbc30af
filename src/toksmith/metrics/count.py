"""Counting one text with several tokenizers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from toksmith.metrics import formulas
from toksmith.metrics.words import find_words
from toksmith.tokenizers import Tokenizer


@dataclass
class CountRow:
    tokenizer: str
    tokens: int
    bytes: int
    chars: int
    words: int
    bytes_per_token: float
    chars_per_token: float
    fertility: float


def count_text(tokenizers: Sequence[Tokenizer], text: str) -> list[CountRow]:
    """How many tokens ``text`` costs with each tokenizer, with bytes and words for scale."""
    return count_texts(tokenizers, [text])


def count_texts(tokenizers: Sequence[Tokenizer], texts: Iterable[str]) -> list[CountRow]:
    """:func:`count_text` summed over a stream of texts (a file read piece by piece)."""
    n_bytes = n_chars = n_words = 0
    n_tokens = [0] * len(tokenizers)
    for text in texts:
        n_bytes += len(text.encode("utf-8"))
        n_chars += len(text)
        n_words += len(find_words(text))
        for position, tokenizer in enumerate(tokenizers):
            n_tokens[position] += len(tokenizer.encode(text))
    return [
        CountRow(
            tokenizer=tokenizer.name,
            tokens=tokens,
            bytes=n_bytes,
            chars=n_chars,
            words=n_words,
            bytes_per_token=formulas.bytes_per_token(n_bytes, tokens),
            chars_per_token=formulas.chars_per_token(n_chars, tokens),
            fertility=formulas.fertility(tokens, n_words),
        )
        for tokenizer, tokens in zip(tokenizers, n_tokens, strict=True)
    ]
