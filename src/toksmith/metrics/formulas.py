"""The intrinsic measures of a tokenization, as plain functions of counts.

Each takes totals accumulated over a corpus, so the same code serves a whole corpus, one
language of a parallel corpus, or a single text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, or NaN when the denominator is zero."""
    return numerator / denominator if denominator else math.nan


def bytes_per_token(n_bytes: float, n_tokens: float) -> float:
    """UTF-8 bytes per token: higher means better compression."""
    return ratio(n_bytes, n_tokens)


def chars_per_token(n_chars: float, n_tokens: float) -> float:
    """Unicode code points per token."""
    return ratio(n_chars, n_tokens)


def fertility(n_tokens: float, n_words: float) -> float:
    """Tokens per word (Rust et al., "How Good is Your Tokenizer? On the Monolingual
    Performance of Multilingual Language Models", 2021). Here the tokens are those of the
    running text, so spaces and punctuation attached to words are charged to them."""
    return ratio(n_tokens, n_words)


def continued_word_ratio(tokens_per_word: Iterable[tuple[int, float]]) -> float:
    """Share of word occurrences split into two or more tokens (Rust et al., 2021).

    ``tokens_per_word`` yields ``(number of tokens of the word, occurrences)`` pairs. toksmith
    counts a word's tokens with :meth:`Tokenizer.encode_words`: the word as it appears after a
    space in running text, without a first token that is only whitespace. Such a token (a bare
    ``" "`` that cl100k and Llama 3 put before digits, the extra ``"▁"`` SentencePiece gives a
    word that already has a space before it) holds none of the word's characters: it is the
    boundary between words, and fertility still charges it to the running text. Rust et al.
    measure how words are cut into subwords, i.e. whether a word's own characters fit in one
    token; counting the boundary would call every number and, in SentencePiece models, every
    word "continued".
    """
    split, total = 0.0, 0.0
    for n_tokens, occurrences in tokens_per_word:
        total += occurrences
        if n_tokens >= 2:
            split += occurrences
    return ratio(split, total)


def premium(tokens_in_language: float, tokens_in_reference: float) -> float:
    """Tokenization premium of a language over the reference on parallel text: how many times
    more tokens the same content costs (Petrov et al., "Language Model Tokenizers Introduce
    Unfairness Between Languages", 2023). Computed on corpus totals, as the paper does for
    FLORES-200; 1.0 for the reference itself."""
    return ratio(tokens_in_language, tokens_in_reference)


def vocab_utilization(token_counts: np.ndarray, vocab_size: int) -> float:
    """Distinct token ids used at least once, divided by the vocabulary size."""
    return ratio(int(np.count_nonzero(token_counts)), vocab_size)


def renyi_efficiency(token_counts: np.ndarray, vocab_size: int, alpha: float = 2.5) -> float:
    """Rényi efficiency of the unigram token distribution (Zouhar et al., "Tokenization and
    the Noiseless Channel", 2023): ``H_alpha(p) / log |V|`` with
    ``H_alpha(p) = log(sum p_i^alpha) / (1 - alpha)``; alpha = 2.5 is the paper's choice that
    best predicts BLEU. 1 means all ``|V|`` tokens are used equally often."""
    total = float(token_counts.sum())
    if total == 0 or vocab_size < 2:
        return math.nan
    probabilities = token_counts[token_counts > 0].astype(np.float64) / total
    if alpha == 1.0:
        entropy = float(-(probabilities * np.log(probabilities)).sum())
    else:
        entropy = math.log(float(np.power(probabilities, alpha).sum())) / (1.0 - alpha)
    return entropy / math.log(vocab_size)


def partial_char_token_ratio(token_counts: np.ndarray, partial_mask: np.ndarray) -> float:
    """Share of produced tokens whose bytes are not a sequence of whole UTF-8 characters."""
    total = int(token_counts.sum())
    return ratio(int(token_counts[partial_mask].sum()), total)


def id_share(token_counts: np.ndarray, ids: Iterable[int]) -> float:
    """Share of produced tokens whose id is one of ``ids`` (e.g. the unknown-token ids, or the
    byte-fallback pieces); 0 when ``ids`` is empty, NaN when no token was produced."""
    total = float(token_counts.sum())
    if total == 0:
        return math.nan
    chosen = np.fromiter((i for i in ids if 0 <= i < len(token_counts)), dtype=np.int64)
    return float(token_counts[chosen].sum()) / total


def partial_char_mask(vocab_bytes: list[bytes]) -> np.ndarray:
    """True for each token id whose bytes do not decode as whole UTF-8 characters."""
    mask = np.zeros(len(vocab_bytes), dtype=bool)
    for token_id, data in enumerate(vocab_bytes):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            mask[token_id] = True
    return mask
