"""The built-in default corpus: word-frequency lists of the ``wordfreq`` package.

No text is downloaded: ``wordfreq`` ships frequency lists for about 40 languages. Each
language is represented by its ``top_n`` most frequent words, their frequencies renormalised
to one million running words; every figure of a row (tokens, bytes, characters) is the
expected amount in those million words, so ``fertility`` is the frequency-weighted number of
tokens per word. Words are encoded as they appear after a space in running text
(:meth:`Tokenizer.encode_words`). The lists are not parallel, so there is no premium.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from toksmith.errors import UserError
from toksmith.metrics import formulas
from toksmith.metrics.compare import (
    CompareResult,
    MetricRow,
    TokenizerInfo,
    _partial_mask,
    is_baseline,
    quality_notes,
    without_vocabulary_measures,
)
from toksmith.progress import Progress
from toksmith.tokenizers import Tokenizer

RUNNING_WORDS = 1_000_000
DEFAULT_TOP_N = 5_000


def wordfreq_languages() -> list[str]:
    """Language codes with a frequency list in the installed ``wordfreq``."""
    import wordfreq

    return sorted(wordfreq.available_languages("best"))


def top_words(language: str, top_n: int = DEFAULT_TOP_N) -> tuple[list[str], np.ndarray]:
    """The ``top_n`` most frequent words of ``language`` and their frequencies (sum to 1)."""
    import wordfreq

    buckets = wordfreq.get_frequency_list(language, "best")
    words: list[str] = []
    frequencies: list[float] = []
    for centibels, bucket in enumerate(buckets):
        # wordfreq stores words in buckets of equal frequency 10^(-i/100)
        for word in bucket:
            words.append(word)
            frequencies.append(10.0 ** (-centibels / 100.0))
            if len(words) == top_n:
                break
        if len(words) == top_n:
            break
    weights = np.asarray(frequencies, dtype=np.float64)
    return words, weights / weights.sum()


def compare_wordfreq(
    tokenizers: Sequence[Tokenizer],
    languages: Sequence[str] | None = None,
    *,
    top_n: int = DEFAULT_TOP_N,
    progress: Progress | None = None,
) -> CompareResult:
    """Measure every tokenizer on the word-frequency list of every language."""
    available = wordfreq_languages()
    chosen = list(languages) if languages else available
    unknown = [language for language in chosen if language not in available]
    if unknown:
        raise UserError(
            f"wordfreq has no list for {', '.join(unknown)} (it has: {', '.join(available)})"
        )
    rows: list[MetricRow] = []
    for position, language in enumerate(chosen):
        if progress:
            progress(language, position / len(chosen))
        words, weights = top_words(language, top_n)
        occurrences = weights * RUNNING_WORDS
        word_bytes = np.array([len(w.encode("utf-8")) for w in words], dtype=np.float64)
        word_chars = np.array([len(w) for w in words], dtype=np.float64)
        for tokenizer in tokenizers:
            rows.append(
                _language_row(tokenizer, language, words, occurrences, word_bytes, word_chars)
            )
    if progress:
        progress("done", 1.0)
    return CompareResult(
        tokenizers=[TokenizerInfo.of(t) for t in tokenizers],
        reference=None,
        results=rows,
        corpus=f"wordfreq (top {top_n} words per language, per {RUNNING_WORDS:,} running words)",
        notes=quality_notes(rows),
    )


def _language_row(
    tokenizer: Tokenizer,
    language: str,
    words: list[str],
    occurrences: np.ndarray,
    word_bytes: np.ndarray,
    word_chars: np.ndarray,
) -> MetricRow:
    flat_ids, lengths = tokenizer.encode_words_numpy(words)
    # Each token of a word occurs as often as the word does.
    counts = np.bincount(
        flat_ids, weights=np.repeat(occurrences, lengths), minlength=tokenizer.vocab_size
    )
    lengths = lengths.astype(np.float64)
    tokens = float((lengths * occurrences).sum())
    n_bytes = float((word_bytes * occurrences).sum())
    n_chars = float((word_chars * occurrences).sum())
    row = MetricRow(
        tokenizer=tokenizer.name,
        language=language,
        tokens=round(tokens),
        bytes=round(n_bytes),
        chars=round(n_chars),
        words=RUNNING_WORDS,
        bytes_per_token=formulas.bytes_per_token(n_bytes, tokens),
        chars_per_token=formulas.chars_per_token(n_chars, tokens),
        fertility=formulas.fertility(tokens, RUNNING_WORDS),
        continued_word_ratio=formulas.continued_word_ratio(
            zip(lengths.astype(int).tolist(), occurrences.tolist(), strict=True)
        ),
        premium=None,
        vocab_utilization=formulas.vocab_utilization(counts, tokenizer.vocab_size),
        renyi_efficiency=formulas.renyi_efficiency(counts, tokenizer.vocab_size),
        partial_char_token_ratio=formulas.partial_char_token_ratio(
            counts, _partial_mask(tokenizer, len(counts))
        ),
        unknown_token_ratio=formulas.id_share(counts, tokenizer.unknown_ids),
        byte_fallback_ratio=formulas.id_share(counts, tokenizer.byte_fallback_ids),
    )
    return without_vocabulary_measures(row) if is_baseline(tokenizer.backend) else row
