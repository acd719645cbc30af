"""Compare tokenizers on a corpus: every intrinsic measure per tokenizer × language.

The corpus is streamed in batches. Text-only figures (bytes, characters, words) are computed
once per batch and shared by all tokenizers; each tokenizer then encodes the batch with its
own parallel encoder and adds its ids into a count vector. Vocabulary utilization, Rényi
efficiency and the share of partial-character tokens all derive from that vector, which is
reduced to numbers as soon as a language is finished, so memory does not grow with the corpus.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from weakref import WeakKeyDictionary

import numpy as np

from toksmith.corpus import ReadStats, is_parallel_folder, iter_segments, open_parallel
from toksmith.corpus.read import Errors
from toksmith.errors import UserError
from toksmith.metrics import formulas
from toksmith.metrics.words import WORD
from toksmith.tokenizers import Tokenizer

Progress = Callable[[str, float], None]
BATCH_BYTES = 1 << 20
WORD_CACHE_LIMIT = 500_000  # distinct words remembered per tokenizer before the cache resets


@dataclass(frozen=True)
class TokenizerInfo:
    name: str
    backend: str
    vocab_size: int
    source: str

    @classmethod
    def of(cls, tokenizer: Tokenizer) -> TokenizerInfo:
        return cls(tokenizer.name, tokenizer.backend, tokenizer.vocab_size, tokenizer.source)


@dataclass
class MetricRow:
    """All measures of one tokenizer on one language (or on the whole corpus: ``"all"``)."""

    tokenizer: str
    language: str
    tokens: int
    bytes: int
    chars: int
    words: int
    bytes_per_token: float
    chars_per_token: float
    fertility: float
    continued_word_ratio: float
    premium: float | None
    vocab_utilization: float
    renyi_efficiency: float
    partial_char_token_ratio: float


@dataclass
class CompareResult:
    """Rows of measures, with the tokenizers they describe and the reference language."""

    tokenizers: list[TokenizerInfo]
    reference: str | None
    results: list[MetricRow]
    corpus: str = ""
    replaced_bytes: int = 0  # invalid UTF-8 bytes replaced under errors="replace"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The documented JSON shape: tokenizers, reference, results (+ corpus, notes)."""
        return {
            "tokenizers": [asdict(info) for info in self.tokenizers],
            "reference": self.reference,
            "corpus": self.corpus,
            "replaced_bytes": self.replaced_bytes,
            "notes": list(self.notes),
            "results": [_json_row(row) for row in self.results],
        }


def _json_row(row: MetricRow) -> dict:
    data = asdict(row)
    for key, value in data.items():
        if isinstance(value, float) and value != value:  # NaN is not valid JSON
            data[key] = None
    return data


@dataclass
class _TextTotals:
    bytes: int = 0
    chars: int = 0
    words: int = 0


class WordLengthCache:
    """Number of tokens of each distinct word, for every tokenizer at once.

    One dictionary maps a word to a row of a small integer matrix (one column per tokenizer),
    so memory is that of the distinct words once, not once per tokenizer. When more than
    ``limit`` distinct words have been seen the cache starts afresh, which bounds memory on
    corpora of any size.
    """

    def __init__(self, tokenizers: Sequence[Tokenizer], limit: int = WORD_CACHE_LIMIT):
        self.tokenizers = list(tokenizers)
        self.limit = limit
        self.rows: dict[str, int] = {}
        self.lengths = np.zeros((1024, len(self.tokenizers)), dtype=np.int32)

    def split_occurrences(self, words: Counter[str]) -> np.ndarray:
        """Per tokenizer, the occurrences in ``words`` of words split into 2+ tokens."""
        new_words = [word for word in words if word not in self.rows]
        if len(self.rows) + len(new_words) > self.limit:
            self.rows.clear()
            new_words = list(words)
        if new_words:
            first = len(self.rows)
            needed = first + len(new_words)
            if needed > len(self.lengths):
                grown = np.zeros(
                    (max(needed, 2 * len(self.lengths)), len(self.tokenizers)), np.int32
                )
                grown[:first] = self.lengths[:first]
                self.lengths = grown
            for column, tokenizer in enumerate(self.tokenizers):
                self.lengths[first:needed, column] = tokenizer.encode_words_numpy(new_words)[1]
            self.rows.update(zip(new_words, range(first, needed), strict=True))
        rows = np.fromiter((self.rows[word] for word in words), np.int64, len(words))
        occurrences = np.fromiter(words.values(), np.int64, len(words))
        return occurrences @ (self.lengths[rows] >= 2)


class _TokenizerTotals:
    """What one tokenizer accumulates over one language."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self.tokens = 0
        self.counts = np.zeros(tokenizer.vocab_size, dtype=np.int64)
        self.split_words = 0  # occurrences of words of 2+ tokens

    def add_batch(self, texts: Sequence[str]) -> None:
        flat, _ = self.tokenizer.encode_batch_numpy(texts)
        self.tokens += len(flat)
        if len(flat):
            counts = np.bincount(flat, minlength=len(self.counts))
            if len(counts) > len(self.counts):  # ids beyond vocab_size: grow rather than drop
                counts[: len(self.counts)] += self.counts
                self.counts = counts
            else:
                self.counts += counts


def _batches(texts: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for text in texts:
        batch.append(text)
        size += len(text)
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def measure_texts(
    tokenizers: Sequence[Tokenizer],
    texts: Iterable[str],
    *,
    language: str = "all",
    word_cache: WordLengthCache | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> list[MetricRow]:
    """One row per tokenizer for a stream of texts (premium left empty).

    ``on_batch`` is told the number of characters of each finished batch (for progress).
    """
    text_totals = _TextTotals()
    cache = word_cache or WordLengthCache(tokenizers)
    totals = [_TokenizerTotals(t) for t in tokenizers]
    # Text figures are computed in a second thread while the tokenizers encode: the regex
    # module releases the GIL while it matches, and the encoders mostly wait in native code.
    with ThreadPoolExecutor(1, thread_name_prefix="toksmith-words") as text_thread:
        for batch in _batches(texts):
            figures = text_thread.submit(_text_figures, batch)
            for tokenizer_totals in totals:
                tokenizer_totals.add_batch(batch)
            chars, n_bytes, words = figures.result()
            text_totals.chars += chars
            text_totals.bytes += n_bytes
            text_totals.words += sum(words.values())
            if words:
                splits = cache.split_occurrences(words)
                for tokenizer_totals, split in zip(totals, splits, strict=True):
                    tokenizer_totals.split_words += int(split)
            if on_batch:
                on_batch(chars)
    return [_row(t, text_totals, language) for t in totals]


def _text_figures(batch: Sequence[str]) -> tuple[int, int, Counter[str]]:
    """Characters, UTF-8 bytes and word counts of a batch of texts."""
    # Words never span a line break, so one search over the joined batch finds the same words.
    joined = "\n".join(batch)
    separators = len(batch) - 1
    words = Counter(WORD.findall(joined, concurrent=True))
    return len(joined) - separators, len(joined.encode("utf-8")) - separators, words


def _row(totals: _TokenizerTotals, text: _TextTotals, language: str) -> MetricRow:
    tokenizer = totals.tokenizer
    return MetricRow(
        tokenizer=tokenizer.name,
        language=language,
        tokens=totals.tokens,
        bytes=text.bytes,
        chars=text.chars,
        words=text.words,
        bytes_per_token=formulas.bytes_per_token(text.bytes, totals.tokens),
        chars_per_token=formulas.chars_per_token(text.chars, totals.tokens),
        fertility=formulas.fertility(totals.tokens, text.words),
        continued_word_ratio=formulas.ratio(totals.split_words, text.words),
        premium=None,
        vocab_utilization=formulas.vocab_utilization(totals.counts, tokenizer.vocab_size),
        renyi_efficiency=formulas.renyi_efficiency(totals.counts, tokenizer.vocab_size),
        partial_char_token_ratio=formulas.partial_char_token_ratio(
            totals.counts, _partial_mask(tokenizer, len(totals.counts))
        ),
    )


# Keyed by the tokenizer object itself, weakly: an id() could be reused by a later tokenizer.
_mask_cache: WeakKeyDictionary[Tokenizer, np.ndarray] = WeakKeyDictionary()


def _partial_mask(tokenizer: Tokenizer, size: int) -> np.ndarray:
    mask = _mask_cache.get(tokenizer)
    if mask is None:
        mask = formulas.partial_char_mask(tokenizer.vocab_bytes)
        _mask_cache[tokenizer] = mask
    if len(mask) < size:
        mask = np.concatenate([mask, np.zeros(size - len(mask), dtype=bool)])
    return mask


def add_premiums(rows: list[MetricRow], reference: str) -> None:
    """Fill ``premium`` of every row from the reference language's row of the same tokenizer."""
    reference_tokens = {row.tokenizer: row.tokens for row in rows if row.language == reference}
    for row in rows:
        if row.tokenizer in reference_tokens:
            row.premium = formulas.premium(row.tokens, reference_tokens[row.tokenizer])


def compare_corpus(
    tokenizers: Sequence[Tokenizer],
    source: str | Path,
    *,
    reference: str | None = None,
    errors: Errors = "strict",
    progress: Progress | None = None,
    languages: Sequence[str] | None = None,
) -> CompareResult:
    """Measure every tokenizer on ``source``.

    A folder laid out as a parallel corpus (one file per language) gives one row per
    tokenizer × language, and premiums relative to ``reference``; anything else (a file, a
    folder of documents, a glob, ``-``) is one corpus, language ``"all"``.
    """
    if not tokenizers:
        raise UserError("no tokenizer to compare")
    stats = ReadStats()
    if str(source) != "-" and is_parallel_folder(source):
        parallel = open_parallel(source, reference=reference)
        parallel.check_alignment(errors=errors)
        chosen = list(languages) if languages else parallel.languages
        unknown = [language for language in chosen if language not in parallel.files]
        if unknown:
            raise UserError(f"languages not in {source}: {', '.join(unknown)}")
        if reference and reference not in chosen:
            chosen.insert(0, reference)
        total_bytes = sum(parallel.files[language].stat().st_size for language in chosen) or 1
        done = 0
        cache = WordLengthCache(tokenizers)
        rows: list[MetricRow] = []
        for language in chosen:
            if progress:
                progress(f"{language}", done / total_bytes)
            segments = parallel.segments(language, errors=errors, stats=stats)
            rows += measure_texts(
                tokenizers, (s.text for s in segments), language=language, word_cache=cache
            )
            done += parallel.files[language].stat().st_size
        if progress:
            progress("done", 1.0)
        if reference:
            add_premiums(rows, reference)
        missing = [row.language for row in rows if row.tokens == 0 and row.chars == 0]
        if missing and len(set(missing)) == len(chosen):
            raise UserError(f"parallel corpus {source} is empty")
    else:
        if reference:
            raise UserError(
                f"--reference {reference!r} needs a parallel corpus folder (one file per "
                f"language); {source} is a single corpus"
            )
        seen = 0

        def on_batch(chars: int) -> None:
            nonlocal seen
            seen += chars
            if progress:
                progress(f"{seen / 1e6:.1f}M characters", -1.0)

        texts = (s.text for s in iter_segments(source, errors=errors, stats=stats))
        rows = measure_texts(tokenizers, texts, on_batch=on_batch)
    notes = []
    if stats.replaced_bytes:
        notes.append(f"{stats.replaced_bytes} invalid UTF-8 bytes were replaced by U+FFFD")
    return CompareResult(
        tokenizers=[TokenizerInfo.of(t) for t in tokenizers],
        reference=reference,
        results=rows,
        corpus=str(source),
        replaced_bytes=stats.replaced_bytes,
        notes=notes,
    )
