"""The one interface every tokenizer backend implements.

Every toksmith feature (metrics, training evaluation, audits, bridging, the web page) talks to
tokenizers only through :class:`Tokenizer`, so a new backend is one new file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain

import numpy as np


@dataclass(frozen=True)
class Pipeline:
    """The stages of a tokenizer, named as HF `tokenizers` names them."""

    normalizer: str
    pre_tokenizer: str
    model: str
    decoder: str
    notes: tuple[str, ...] = field(default_factory=tuple)


def flatten_ids(encoded: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Lists of ids as arrays: all ids concatenated (int64) and the number of ids of each."""
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    flat = np.fromiter(chain.from_iterable(encoded), dtype=np.int64, count=int(lengths.sum()))
    return flat, lengths


class Tokenizer(ABC):
    """A loaded tokenizer.

    Subclasses set ``name``, ``backend`` (``"hf"``, ``"tiktoken"``, ``"sentencepiece"``,
    ``"tekken"``), ``source`` (the file it was read from, and the package that shipped it) and
    ``byte_exact``: True when the concatenated :meth:`token_bytes` of an encoding always equal
    the UTF-8 bytes of the encoded text (byte-level BPE without normalization).
    """

    name: str
    backend: str
    source: str
    byte_exact: bool = False

    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """Number of token ids, special tokens included (ids are 0..vocab_size-1)."""

    @property
    @abstractmethod
    def special_ids(self) -> frozenset[int]:
        """Ids of special/control tokens (never produced from plain text)."""

    @abstractmethod
    def encode(self, text: str) -> list[int]:
        """Token ids for ``text``, as plain text: special-token strings are not recognised."""

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Encode many texts; backends override this with their own parallel batch encoder."""
        return [self.encode(text) for text in texts]

    @abstractmethod
    def decode(self, ids: Sequence[int]) -> str:
        """The text for ``ids`` (invalid UTF-8 sequences become U+FFFD)."""

    @abstractmethod
    def token_bytes(self, token_id: int) -> bytes:
        """The exact bytes token ``token_id`` stands for (b"" for control tokens)."""

    @abstractmethod
    def pipeline(self) -> Pipeline:
        """A description of the normalizer, pre-tokenizer, model and decoder."""

    @cached_property
    def vocab_bytes(self) -> list[bytes]:
        """``token_bytes`` of every id, computed once."""
        return [self.token_bytes(i) for i in range(self.vocab_size)]

    @cached_property
    def blank_token_ids(self) -> frozenset[int]:
        """Ids of tokens whose bytes are only whitespace."""
        return frozenset(i for i, data in enumerate(self.vocab_bytes) if data and not data.strip())

    def encode_batch_numpy(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """All ids of ``texts`` concatenated (int64) and the number of ids of each text.

        Counting code uses this; backends override it when they can fill arrays directly.
        """
        return flatten_ids(self.encode_batch(texts))

    def encode_words(self, words: Sequence[str]) -> list[list[int]]:
        """Tokens of each word as it appears in running text after a space.

        Each word is encoded with a leading space so byte-level BPE vocabularies use their
        space-prefixed forms; a first token that is only whitespace is dropped, so backends
        that add their own word-boundary marker are not charged twice.
        """
        encoded = self.encode_batch([" " + word for word in words])
        blank = self.blank_token_ids
        for position, ids in enumerate(encoded):
            if len(ids) > 1 and ids[0] in blank:
                encoded[position] = ids[1:]
        return encoded

    def encode_words_numpy(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`encode_words` as arrays: all ids concatenated (int64), ids per word."""
        return flatten_ids(self.encode_words(words))

    def encode_word(self, word: str) -> list[int]:
        """:meth:`encode_words` for one word."""
        return self.encode_words([word])[0]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} ({self.backend}, {self.vocab_size} ids)>"
