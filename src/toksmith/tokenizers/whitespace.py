"""The whitespace baseline (spec ``ws:`` or ``ws``): one token per word.

It puts words next to real tokenizers in a compare table, as a reference row: its fertility is
1 and its tokens per language are the words of the text.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from toksmith.errors import UserError
from toksmith.text import clean_text
from toksmith.tokenizers.base import Pipeline, Tokenizer


class WhitespaceTokenizer(Tokenizer):
    """Tokens are maximal runs of non-whitespace characters (``str.split()``); whitespace is
    not a token, so :meth:`decode` joins words with single spaces.

    Ids are given in order of first sight, from a vocabulary that grows as texts are encoded
    (one vocabulary per loaded tokenizer, shared by every use in the process). So
    ``vocab_size`` is the number of distinct words seen so far, and a ``vocab_utilization`` of
    a language is its distinct words over all distinct words this tokenizer has seen (every
    language of a compare run, in the order they were encoded): a description of the corpus,
    not of a fixed vocabulary. It has no special, unknown or byte-fallback tokens.
    """

    backend = "whitespace"
    byte_exact = False

    def __init__(self, *, name: str = "whitespace", source: str = "ws:") -> None:
        self.name = name
        self.source = source
        self._ids: dict[str, int] = {}
        self._words: list[str] = []
        self._lock = threading.Lock()

    @property
    def vocab_size(self) -> int:
        return len(self._ids)

    @property
    def special_ids(self) -> frozenset[int]:
        return frozenset()

    def _encode_words(self, words: list[str]) -> list[int]:
        ids = self._ids
        # setdefault evaluates len(ids) before inserting: the next free id.
        return [ids.setdefault(word, len(ids)) for word in words]

    def encode(self, text: str) -> list[int]:
        clean_text(text, what=f"text for tokenizer {self.name!r}")
        with self._lock:
            return self._encode_words(text.split())

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        for text in texts:
            clean_text(text, what=f"text for tokenizer {self.name!r}")
        with self._lock:
            return [self._encode_words(text.split()) for text in texts]

    def _word_list(self) -> list[str]:
        with self._lock:
            if len(self._words) != len(self._ids):
                self._words = list(self._ids)  # dicts keep insertion order: id order
            return self._words

    def decode(self, ids: Sequence[int]) -> str:
        words = self._word_list()
        return " ".join(words[i] for i in ids if 0 <= i < len(words))

    def token_bytes(self, token_id: int) -> bytes:
        words = self._word_list()
        return words[token_id].encode("utf-8") if 0 <= token_id < len(words) else b""

    @property
    def vocab_bytes(self) -> list[bytes]:  # type: ignore[override]
        """``token_bytes`` of every id seen so far (not cached: the vocabulary grows)."""
        return [word.encode("utf-8") for word in self._word_list()]

    @property
    def blank_token_ids(self) -> frozenset[int]:  # type: ignore[override]
        return frozenset()  # whitespace is never a token

    def pipeline(self) -> Pipeline:
        return Pipeline(
            normalizer="none",
            pre_tokenizer="WhitespaceSplit (maximal runs of non-whitespace)",
            model="one id per distinct word, in order of first sight",
            decoder="words joined by single spaces",
            notes=("a baseline: the vocabulary grows with the text",),
        )

    # ---- what features read ---------------------------------------------------------------

    @property
    def unknown_ids(self) -> frozenset[int]:
        return frozenset()

    @property
    def byte_fallback_ids(self) -> frozenset[int]:
        return frozenset()

    @property
    def unused_ids(self) -> frozenset[int]:
        return frozenset()

    @property
    def pattern(self) -> str | None:
        return r"\S+"

    @property
    def continuation_prefix(self) -> str | None:
        return None

    @property
    def byte_encoding(self) -> str | None:
        return None

    def merges(self) -> list[tuple[bytes, bytes]]:
        raise UserError(f"tokenizer {self.name!r} is the whitespace baseline: it has no merges")

    def token_label(self, token_id: int) -> str | None:
        words = self._word_list()
        return words[token_id] if 0 <= token_id < len(words) else None

    def normalizer_spec(self) -> dict[str, Any] | None:
        return None

    def pre_tokenizer_spec(self) -> dict[str, Any] | None:
        return {"type": "WhitespaceSplit"}

    def pre_tokens(self, text: str) -> list[bytes]:
        clean_text(text, what=f"text for tokenizer {self.name!r}")
        return [word.encode("utf-8") for word in text.split()]

    def special_strings(self) -> dict[str, int]:
        return {}
