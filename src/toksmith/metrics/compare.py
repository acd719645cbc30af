"""Compare tokenizers on a corpus: every intrinsic measure per tokenizer × language.

The corpus is streamed in batches. Text-only figures (bytes, characters, words) are computed
once per batch and shared by all tokenizers; each tokenizer then encodes the batch with its
own parallel encoder and adds its ids into a count vector. Vocabulary utilization, Rényi
efficiency and the share of partial-character tokens all derive from that vector, which is
reduced to numbers as soon as a language is finished, so memory does not grow with the corpus.

On a parallel corpus each tokenizer also keeps its number of tokens per segment (one int32 per
segment and language, from the lengths the batch encoder returns anyway), for the per-segment
premiums and their bootstrap confidence interval (:mod:`toksmith.metrics.parity`).

What is counted: a corpus is its segments (:mod:`toksmith.corpus.read`): lines without their
line break, blank lines skipped, or TSV/JSONL text fields. ``bytes`` and ``chars`` are those of
the segments, so line breaks are not counted (``toksmith count --file`` encodes a plain-text
file whole and counts them: a different quantity). Under ``errors="replace"`` ``bytes`` is the
size of the file's text, each replaced invalid sequence counted as its own bytes, not as the
3 bytes of U+FFFD; ``chars`` and tokens are those of the decoded text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np

from toksmith.corpus import (
    ParallelCorpus,
    ReadStats,
    is_parallel_folder,
    iter_segments,
    open_parallel,
)
from toksmith.corpus.read import Errors, corpus_files
from toksmith.errors import UserError
from toksmith.metrics import formulas
from toksmith.metrics.parity import add_parity
from toksmith.metrics.words import WORD
from toksmith.progress import Progress
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

BATCH_BYTES = 1 << 20
WORD_CACHE_LIMIT = 500_000  # distinct words remembered per tokenizer before the cache resets

GROUP_MEMORY_MIB = 600.0
"""What the tokenizers that encode at the same time may hold, by :func:`estimated_mib`, when
the corpus can be read again. Many large vocabularies (``-t all``: 18 of them, about 2.4 GiB
with their fast engines) are then measured in groups, one pass over the corpus per group,
each group's vocabularies loaded for its pass and released after it
(:meth:`toksmith.tokenizers.Tokenizer.release`); every figure is the same as in one pass."""

GROUP_MIN_BYTES = 1_000_000
"""Corpora smaller than this are measured in one pass whatever the tokenizers hold: no fast
engine starts on so little text (``toksmith.tokenizers.fast.START_AFTER_CHARS``), so the
caller's loaded tokenizers are all the memory there is, and reloading them would only cost."""

UNKNOWN_WARN_SHARE = 0.05
"""Above this share of unknown tokens a tokenizer × language is flagged and never called the
cheapest: its token count describes text the tokenizer could not read (an English-only model on
Syriac is 100% ``[UNK]`` and looks several times cheaper than English). Petrov et al. (2023)
leave out pairs above 10% unknown; warning at half that flags a model before its figures are
off by a tenth, while the stray unknown characters of a well-matched model (well under 1%) stay
quiet."""

BASELINE_BACKENDS = frozenset({"whitespace"})
"""Backends that are reference rows, not tokenizers a model uses (``ws:``, words as tokens):
never called cheapest, and with an open vocabulary, so measures relative to the vocabulary
size (utilization, Rényi efficiency) are left empty."""

BYTE_FALLBACK_NOTE_SHARE = 0.05
"""Above this share of byte-fallback tokens (SentencePiece ``<0xNN>``) a note says the model
spells the text byte by byte: the counts are right, the script is simply not in its
vocabulary."""


@dataclass(frozen=True)
class TokenizerInfo(Result):
    """Who a row is about: the tokenizer's unique name, backend, vocabulary size and source."""

    name: str
    backend: str
    vocab_size: int
    source: str
    engine: str = "vendor"  # what encoded: "vendor" or a fast engine proven to give its ids

    @classmethod
    def of(cls, tokenizer: Tokenizer) -> TokenizerInfo:
        return cls(
            tokenizer.name,
            tokenizer.backend,
            tokenizer.vocab_size,
            tokenizer.source,
            getattr(tokenizer, "engine", "vendor"),
        )


@dataclass
class MetricRow(Result):
    """All measures of one tokenizer on one language (or on the whole corpus: ``"all"``).

    Shares are in 0..1. ``None`` (or NaN, written as ``null``) where a measure is not defined:
    the premium fields without a reference language, the per-segment ones also outside a
    parallel corpus.
    """

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
    vocab_utilization: float | None
    renyi_efficiency: float | None
    partial_char_token_ratio: float
    unknown_token_ratio: float | None = None  # share of tokens that are unknown (<unk>, [UNK])
    byte_fallback_ratio: float | None = None  # share of tokens that are byte pieces (<0xNN>)
    premium_median: float | None = None  # of the per-segment premiums
    premium_q1: float | None = None
    premium_q3: float | None = None
    premium_ci_low: float | None = None  # 95% bootstrap interval of ``premium``
    premium_ci_high: float | None = None


@dataclass
class CompareResult(Result):
    """Rows of measures, with the tokenizers they describe and the reference language."""

    tokenizers: list[TokenizerInfo]
    reference: str | None
    results: list[MetricRow]
    corpus: str = ""
    replaced_bytes: int = 0  # invalid UTF-8 bytes replaced under errors="replace"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape: tokenizers, reference, corpus, replaced_bytes, notes,
        results; already JSON data (NaN as None), as it always was."""
        from toksmith.report.output import plain  # report imports metrics: import when used

        data: dict[str, Any] = plain(
            {
                "tokenizers": self.tokenizers,
                "reference": self.reference,
                "corpus": self.corpus,
                "replaced_bytes": self.replaced_bytes,
                "notes": self.notes,
                "results": self.results,
            }
        )
        return data


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


@dataclass
class TokenizerPartial:
    """What one tokenizer accumulates over a stretch of text: tokens, the count of each token
    id, occurrences of words split into 2+ tokens, and (on a parallel corpus) the tokens of
    each segment. Integers only, so partials of consecutive stretches add up exactly."""

    tokens: int
    counts: np.ndarray  # int64, one count per token id
    split_words: int = 0
    segment_tokens: list[np.ndarray] | None = None  # int32 arrays, in segment order

    @classmethod
    def empty(cls, tokenizer: Tokenizer, keep_segments: bool = False) -> TokenizerPartial:
        return cls(
            0, np.zeros(tokenizer.vocab_size, dtype=np.int64), 0, [] if keep_segments else None
        )

    def add_batch(self, tokenizer: Tokenizer, texts: Sequence[str]) -> None:
        flat, lengths = tokenizer.encode_batch_numpy(texts)
        self.tokens += len(flat)
        if self.segment_tokens is not None:
            self.segment_tokens.append(lengths.astype(np.int32))
        if len(flat):
            self.counts = _added_counts(self.counts, np.bincount(flat, minlength=len(self.counts)))

    def merged(self, later: TokenizerPartial) -> TokenizerPartial:
        """This partial followed by ``later`` (segments in that order)."""
        segments = None
        if self.segment_tokens is not None or later.segment_tokens is not None:
            segments = [*(self.segment_tokens or []), *(later.segment_tokens or [])]
        return TokenizerPartial(
            self.tokens + later.tokens,
            _added_counts(self.counts.copy(), later.counts),
            self.split_words + later.split_words,
            segments,
        )


def _added_counts(counts: np.ndarray, more: np.ndarray) -> np.ndarray:
    """``counts + more`` for count vectors of any lengths (ids beyond a vocabulary grow the
    vector rather than being dropped)."""
    if len(more) > len(counts):
        more = more.copy()
        more[: len(counts)] += counts
        return more
    counts[: len(more)] += more
    return counts


@dataclass
class ComparePartial(Result):
    """What a stretch of one language's text contributes to its rows: the text figures
    (bytes, characters, words: computed once, shared by all tokenizers) and one
    :class:`TokenizerPartial` per tokenizer.

    This is the unit of distributed work (:mod:`toksmith.cluster`): partials of consecutive
    stretches merge with :func:`merge_partials` (associative; segments stay in order) into
    exactly the partial of the whole text, and :func:`finish_rows` turns one into rows."""

    bytes: int
    chars: int
    words: int
    tokenizers: list[TokenizerPartial]


def empty_partial(tokenizers: Sequence[Tokenizer], keep_segments: bool = False) -> ComparePartial:
    """The partial of no text."""
    return ComparePartial(0, 0, 0, [TokenizerPartial.empty(t, keep_segments) for t in tokenizers])


def merge_partials(first: ComparePartial, later: ComparePartial) -> ComparePartial:
    """The partial of ``first``'s text followed by ``later``'s."""
    return ComparePartial(
        first.bytes + later.bytes,
        first.chars + later.chars,
        first.words + later.words,
        [a.merged(b) for a, b in zip(first.tokenizers, later.tokenizers, strict=True)],
    )


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
    partial = measure_partial(tokenizers, texts, word_cache=word_cache, on_batch=on_batch)
    rows, _ = finish_rows(tokenizers, partial, language)
    return rows


def measure_partial(
    tokenizers: Sequence[Tokenizer],
    texts: Iterable[str],
    *,
    keep_segments: bool = False,
    word_cache: WordLengthCache | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> ComparePartial:
    """The :class:`ComparePartial` of a stream of texts; with ``keep_segments`` each
    tokenizer's tokens per text too. ``on_batch`` is told the characters of each batch."""
    partial = empty_partial(tokenizers, keep_segments)
    cache = word_cache or WordLengthCache(tokenizers)
    # Text figures are computed in a second thread while the tokenizers encode: the regex
    # module releases the GIL while it matches, and the encoders mostly wait in native code.
    with ThreadPoolExecutor(1, thread_name_prefix="toksmith-words") as text_thread:
        for batch in _batches(texts):
            figures = text_thread.submit(_text_figures, batch)
            for tokenizer, tokenizer_partial in zip(tokenizers, partial.tokenizers, strict=True):
                tokenizer_partial.add_batch(tokenizer, batch)
            chars, n_bytes, words = figures.result()
            partial.chars += chars
            partial.bytes += n_bytes
            partial.words += sum(words.values())
            if words:
                splits = cache.split_occurrences(words)
                for tokenizer_partial, split in zip(partial.tokenizers, splits, strict=True):
                    tokenizer_partial.split_words += int(split)
            if on_batch:
                on_batch(chars)
    return partial


def finish_rows(
    tokenizers: Sequence[Tokenizer],
    partial: ComparePartial,
    language: str,
    excess_bytes: int = 0,
) -> tuple[list[MetricRow], list[np.ndarray]]:
    """The rows of one language from its partial, and each tokenizer's tokens per segment
    (empty arrays when segments were not kept). ``excess_bytes`` is what replacing invalid
    UTF-8 added to the text's size (see :func:`_without_replacement_excess`)."""
    rows = [
        _row(tokenizer, tokenizer_partial, partial, language)
        for tokenizer, tokenizer_partial in zip(tokenizers, partial.tokenizers, strict=True)
    ]
    segments = [_joined(t.segment_tokens) for t in partial.tokenizers]
    return _without_replacement_excess(rows, excess_bytes), segments


def _joined(parts: list[np.ndarray] | None) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)


def _text_figures(batch: Sequence[str]) -> tuple[int, int, Counter[str]]:
    """Characters, UTF-8 bytes and word counts of a batch of texts."""
    # Words never span a line break, so one search over the joined batch finds the same words.
    joined = "\n".join(batch)
    separators = len(batch) - 1
    words = Counter(WORD.findall(joined, concurrent=True))
    return len(joined) - separators, len(joined.encode("utf-8")) - separators, words


def is_baseline(backend: str) -> bool:
    """True for a baseline backend such as the whitespace tokenizer (:data:`BASELINE_BACKENDS`)."""
    return backend in BASELINE_BACKENDS


def _row(
    tokenizer: Tokenizer, totals: TokenizerPartial, text: ComparePartial, language: str
) -> MetricRow:
    row = MetricRow(
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
        unknown_token_ratio=formulas.id_share(totals.counts, tokenizer.unknown_ids),
        byte_fallback_ratio=formulas.id_share(totals.counts, tokenizer.byte_fallback_ids),
    )
    return without_vocabulary_measures(row) if is_baseline(tokenizer.backend) else row


def without_vocabulary_measures(row: MetricRow) -> MetricRow:
    """``row`` with the measures relative to a fixed vocabulary left empty (a baseline's
    vocabulary is every word it meets, so its size means nothing)."""
    return replace(row, vocab_utilization=None, renyi_efficiency=None)


def engine_notes(tokenizers: Sequence[Tokenizer]) -> list[str]:
    """A line for each tokenizer whose fast engine raised on some calls: the vendor engine
    encoded those calls instead (same ids, so no count changed)."""
    notes = []
    for tokenizer in tokenizers:
        fallbacks = getattr(tokenizer, "fast_fallbacks", 0)
        if fallbacks:
            notes.append(
                f"{tokenizer.name}: the {tokenizer.engine} engine raised on {fallbacks} "
                "batch(es); the vendor engine encoded them"
            )
    return notes


def quality_notes(rows: Sequence[MetricRow]) -> list[str]:
    """Warnings for rows whose counts mislead: one line per tokenizer with more than
    :data:`UNKNOWN_WARN_SHARE` unknown tokens in some languages, and one per tokenizer with more
    than :data:`BYTE_FALLBACK_NOTE_SHARE` byte-fallback tokens."""
    notes = []
    for field_name, threshold, what, meaning in (
        (
            "unknown_token_ratio",
            UNKNOWN_WARN_SHARE,
            "unknown",
            "it cannot read this text, so its token counts, compression and premiums there "
            "are not comparable, and it is never called cheapest (Petrov et al. 2023 leave out "
            "pairs above 10% unknown)",
        ),
        (
            "byte_fallback_ratio",
            BYTE_FALLBACK_NOTE_SHARE,
            "byte-fallback pieces",
            "the script is mostly not in its vocabulary and is spelled byte by byte",
        ),
    ):
        flagged: dict[str, list[tuple[float, str]]] = {}
        for row in rows:
            share = getattr(row, field_name)
            if share is not None and share == share and share > threshold:
                flagged.setdefault(row.tokenizer, []).append((share, row.language))
        for tokenizer, shares in flagged.items():
            shares.sort(key=lambda item: (-item[0], item[1]))
            shown = ", ".join(f"{language} ({100 * share:.0f}%)" for share, language in shares[:6])
            more = f" and {len(shares) - 6} more languages" if len(shares) > 6 else ""
            notes.append(
                f"{tokenizer}: over {100 * threshold:.0f}% of tokens are {what} in "
                f"{shown}{more}: {meaning}."
            )
    return notes


# Keyed by the tokenizer object itself, weakly: an id() could be reused by a later tokenizer.
_mask_cache: WeakKeyDictionary[Tokenizer, np.ndarray] = WeakKeyDictionary()


def _partial_mask(tokenizer: Tokenizer, size: int) -> np.ndarray:
    """The partial-character mask of ``tokenizer``'s ids, exactly ``size`` long: ids beyond the
    vocabulary are not partial, and a vocabulary that grows as it encodes (the ``ws:``
    baseline, whose words are whole characters) may be longer than a count vector made
    before it grew."""
    mask = _mask_cache.get(tokenizer)
    if mask is None:
        mask = formulas.partial_char_mask(tokenizer.vocab_bytes)
        _mask_cache[tokenizer] = mask
    if len(mask) < size:
        mask = np.concatenate([mask, np.zeros(size - len(mask), dtype=bool)])
    return mask[:size]


def _without_replacement_excess(rows: list[MetricRow], excess_bytes: int) -> list[MetricRow]:
    """``rows`` with ``bytes`` (and bytes per token) of the file's text instead of the decoded
    text's: each U+FFFD put in for invalid bytes counts as those bytes, not as 3."""
    if not excess_bytes:
        return rows
    fixed = []
    for row in rows:
        n_bytes = row.bytes - excess_bytes
        fixed.append(
            replace(
                row, bytes=n_bytes, bytes_per_token=formulas.bytes_per_token(n_bytes, row.tokens)
            )
        )
    return fixed


VENDOR_KIB_PER_ID = {"hf": 1.0, "tiktoken": 0.45, "tekken": 0.45}
"""What a vendor's objects hold per id of the vocabulary, measured on the built-ins (an HF
tokenizer.json also keeps its parsed JSON: DeepSeek 126 MiB for 129,280 ids; o200k_base 77 MiB
for 200,019); other backends (SentencePiece) 0.3."""
FAST_ENGINE_KIB_PER_ID = 1.3
"""A fast engine per id, with the transient of building it (one at a time): o200k_base 122 MiB
built, Llama 3's through the tokenizer.json reader 66 MiB built and 150 MiB more while it
builds."""


def estimated_mib(tokenizer: Tokenizer) -> float:
    """A rough estimate, in MiB, of the memory a loaded tokenizer holds while it encodes:
    16 MiB, and per id :data:`VENDOR_KIB_PER_ID` for its vendor's objects and
    :data:`FAST_ENGINE_KIB_PER_ID` for a fast engine."""
    kib_per_id = VENDOR_KIB_PER_ID.get(tokenizer.backend, 0.3)
    if getattr(tokenizer, "fast_engine", None) is not None:
        kib_per_id += FAST_ENGINE_KIB_PER_ID
    return 16.0 + tokenizer.vocab_size * kib_per_id / 1024


def memory_groups(tokenizers: Sequence[Tokenizer], budget_mib: float) -> list[list[int]]:
    """Positions of ``tokenizers`` in consecutive groups whose :func:`estimated_mib` add up
    to at most ``budget_mib`` (a tokenizer over the budget alone is a group of one)."""
    groups: list[list[int]] = []
    total = 0.0
    for position, tokenizer in enumerate(tokenizers):
        size = estimated_mib(tokenizer)
        if groups and total + size <= budget_mib:
            groups[-1].append(position)
            total += size
        else:
            groups.append([position])
            total = size
    return groups


def compare_corpus(
    tokenizers: Sequence[Tokenizer],
    source: str | Path,
    *,
    reference: str | None = None,
    errors: Errors = "strict",
    progress: Progress | None = None,
    languages: Sequence[str] | None = None,
    confine_to: str | Path | None = None,
    memory_mib: float | None = None,
) -> CompareResult:
    """Measure every tokenizer on ``source``.

    A folder laid out as a parallel corpus (one file per language) gives one row per
    tokenizer × language, and with a ``reference`` language the premiums relative to it:
    the corpus premium, the median and quartiles of the per-segment premiums, and a 95%
    bootstrap interval of the corpus premium (:func:`toksmith.metrics.parity.add_parity`).
    Anything else (a file, a folder of documents, a glob, ``-``) is one corpus, language
    ``"all"``. ``confine_to`` refuses any file that resolves outside that folder (a server
    passes its root). Rows with many unknown or byte-fallback tokens get a line in ``notes``.

    The work is three steps that :mod:`toksmith.cluster` also runs on many machines:
    :func:`plan_languages` (what is read as which language), :func:`measure_partial` per
    stretch of text, and :func:`finish_compare` on the merged partials.

    Memory: when the tokenizers would hold more than ``memory_mib`` (default
    :data:`GROUP_MEMORY_MIB`) at once and the corpus can be read again (not ``-``), they are
    measured in groups (:func:`memory_groups`), one pass over the corpus each, and each
    group's vocabularies are released after its pass; the result is the same.
    """
    plan = plan_languages(
        tokenizers, source, reference=reference, errors=errors, languages=languages,
        confine_to=confine_to,
    )  # fmt: skip
    stats = ReadStats()
    settings = _MeasureSettings(source, plan, errors, confine_to)
    budget = GROUP_MEMORY_MIB if memory_mib is None else memory_mib
    groups = memory_groups(tokenizers, budget) if str(source) != "-" else []
    if len(groups) > 1 and _corpus_bytes(source, plan, confine_to) >= GROUP_MIN_BYTES:
        partials = _measure_in_groups(tokenizers, groups, settings, progress, stats)
    else:
        partials = _measure(tokenizers, settings, progress, stats)
    return finish_compare(tokenizers, source, plan, partials, stats.replaced_bytes)


@dataclass(frozen=True)
class _MeasureSettings:
    """What every pass of :func:`_measure` reads and how: the corpus ``source``, the
    ``plan`` of its languages, the ``errors`` policy for invalid UTF-8, and ``confine_to``,
    the folder no file may resolve outside of (None: any)."""

    source: str | Path
    plan: LanguagePlan
    errors: Errors
    confine_to: str | Path | None


def _measure_in_groups(
    tokenizers: Sequence[Tokenizer],
    groups: list[list[int]],
    settings: _MeasureSettings,
    progress: Progress | None,
    stats: ReadStats,
) -> dict[str, tuple[ComparePartial, int]]:
    """:func:`_measure` one group of tokenizers at a time (tokenizer-major passes over the
    corpus), each group's vocabularies released after its pass; the partials put back in
    the order of ``tokenizers``. Text figures and read statistics come from the first pass
    (every pass reads the same text)."""
    for position in (p for group in groups[1:] for p in group):
        tokenizers[position].release()  # loaded by the caller, needed only in a later pass
    _return_freed_memory()
    merged: dict[str, tuple[ComparePartial, int]] = {}
    for number, group in enumerate(groups):
        members = [tokenizers[position] for position in group]
        group_progress = _group_progress(progress, number, len(groups)) if progress else None
        pass_stats = stats if number == 0 else ReadStats()
        found = _measure(members, settings, group_progress, pass_stats)
        for language, (partial, excess) in found.items():
            if language not in merged:
                slots: list[TokenizerPartial] = [TokenizerPartial(0, np.zeros(0, np.int64))]
                merged[language] = (replace(partial, tokenizers=slots * len(tokenizers)), excess)
            whole = merged[language][0]
            for position, tokenizer_partial in zip(group, partial.tokenizers, strict=True):
                whole.tokenizers[position] = tokenizer_partial
        if number < len(groups) - 1:
            for tokenizer in members:
                _keep_what_finishing_reads(tokenizer)
                tokenizer.release()
            _return_freed_memory()
    return merged


def _corpus_bytes(source: str | Path, plan: LanguagePlan, confine_to: str | Path | None) -> int:
    """The size of the corpus files (0 when they cannot be listed: reading then says why)."""
    if plan.parallel is not None:
        return sum(plan.parallel.files[language].stat().st_size for language in plan.languages)
    try:
        return sum(path.stat().st_size for path in corpus_files(source, confine_to=confine_to))
    except (UserError, OSError):
        return 0


def _group_progress(progress: Progress, number: int, count: int) -> Progress:
    def report(label: str, share: float) -> None:
        overall = -1.0 if share < 0 else (number + share) / count
        progress(f"{label} (tokenizer group {number + 1} of {count})", overall)

    return report


def _keep_what_finishing_reads(tokenizer: Tokenizer) -> None:
    """Compute (and cache) what :func:`finish_compare` reads from a tokenizer's vocabulary,
    so finishing after its release does not load it again."""
    _partial_mask(tokenizer, tokenizer.vocab_size)
    _ = tokenizer.unknown_ids, tokenizer.byte_fallback_ids


def _return_freed_memory() -> None:
    """Hand memory freed by released vocabularies back to the system (glibc keeps freed
    blocks of native libraries in the process otherwise); nothing where there is no glibc."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim = getattr(libc, "malloc_trim", None)
    except OSError:
        trim = None
    if trim is not None:
        trim(0)


def _measure(
    tokenizers: Sequence[Tokenizer],
    settings: _MeasureSettings,
    progress: Progress | None,
    stats: ReadStats,
) -> dict[str, tuple[ComparePartial, int]]:
    """The partial of each language of ``settings.plan`` for ``tokenizers``, in one pass over
    the corpus, with the bytes replacing invalid UTF-8 added to each."""
    plan = settings.plan
    partials: dict[str, tuple[ComparePartial, int]] = {}
    if plan.parallel is not None:
        total_bytes = (
            sum(plan.parallel.files[language].stat().st_size for language in plan.languages) or 1
        )
        done = 0
        cache = WordLengthCache(tokenizers)
        for language in plan.languages:
            if progress:
                progress(f"{language}", done / total_bytes)
            excess_before = stats.replacement_excess_bytes
            segments = plan.parallel.segments(language, errors=settings.errors, stats=stats)
            partial = measure_partial(
                tokenizers,
                (s.text for s in segments),
                keep_segments=plan.keep_segments,
                word_cache=cache,
            )
            partials[language] = (partial, stats.replacement_excess_bytes - excess_before)
            done += plan.parallel.files[language].stat().st_size
        if progress:
            progress("done", 1.0)
    else:
        seen = 0

        def on_batch(chars: int) -> None:
            nonlocal seen
            seen += chars
            if progress:
                progress(f"{seen / 1e6:.1f}M characters", -1.0)

        segments = iter_segments(
            settings.source, errors=settings.errors, stats=stats, confine_to=settings.confine_to
        )
        texts = (s.text for s in segments)
        partial = measure_partial(tokenizers, texts, on_batch=on_batch)
        partials["all"] = (partial, stats.replacement_excess_bytes)
    return partials


@dataclass
class LanguagePlan:
    """What :func:`compare_corpus` reads: a parallel corpus and the languages chosen from it
    (reference first when it was not chosen), or one corpus (``parallel`` None, language
    ``"all"``)."""

    parallel: ParallelCorpus | None
    languages: list[str]
    reference: str | None

    @property
    def keep_segments(self) -> bool:
        """Whether tokens per segment are kept: only parity (a reference) needs them."""
        return self.parallel is not None and self.reference is not None


def plan_languages(
    tokenizers: Sequence[Tokenizer],
    source: str | Path,
    *,
    reference: str | None = None,
    errors: Errors = "strict",
    languages: Sequence[str] | None = None,
    confine_to: str | Path | None = None,
) -> LanguagePlan:
    """Check the arguments of :func:`compare_corpus` and decide what is read as which
    language; a parallel corpus is checked for alignment here (it is read once for that)."""
    if not tokenizers:
        raise UserError("no tokenizer to compare")
    if str(source) != "-" and is_parallel_folder(source):
        parallel = open_parallel(source, reference=reference, confine_to=confine_to)
        parallel.check_alignment(errors=errors)
        chosen = list(languages) if languages else parallel.languages
        unknown = [language for language in chosen if language not in parallel.files]
        if unknown:
            raise UserError(f"languages not in {source}: {', '.join(unknown)}")
        if reference and reference not in chosen:
            chosen.insert(0, reference)
        return LanguagePlan(parallel, chosen, reference)
    if reference:
        raise UserError(
            f"--reference {reference!r} needs a parallel corpus folder (one file per "
            f"language); {source} is a single corpus"
        )
    return LanguagePlan(None, ["all"], None)


def finish_compare(
    tokenizers: Sequence[Tokenizer],
    source: str | Path,
    plan: LanguagePlan,
    partials: dict[str, tuple[ComparePartial, int]],
    replaced_bytes: int,
) -> CompareResult:
    """The result of :func:`compare_corpus` from the merged partial of each language of
    ``plan`` (with the bytes replacing invalid UTF-8 added to it) and the number of invalid
    bytes replaced: rows, premiums, notes."""
    rows: list[MetricRow] = []
    segment_tokens: list[np.ndarray] = []
    for language in plan.languages:
        partial, excess = partials[language]
        language_rows, language_segments = finish_rows(tokenizers, partial, language, excess)
        rows += language_rows
        if plan.keep_segments:
            segment_tokens += language_segments
    if plan.parallel is not None:
        if plan.reference:
            add_parity(rows, segment_tokens, plan.reference)
        missing = [row.language for row in rows if row.tokens == 0 and row.chars == 0]
        if missing and len(set(missing)) == len(plan.languages):
            raise UserError(f"parallel corpus {source} is empty")
    notes = quality_notes(rows) + engine_notes(tokenizers)
    if replaced_bytes:
        notes.append(
            f"{replaced_bytes} invalid UTF-8 bytes were replaced by U+FFFD "
            "(bytes counts them as they are in the file)"
        )
    return CompareResult(
        tokenizers=[TokenizerInfo.of(t) for t in tokenizers],
        reference=plan.reference,
        results=rows,
        corpus=str(source),
        replaced_bytes=replaced_bytes,
        notes=notes,
    )
