"""Training text: a streamed corpus with a fingerprint, or word counts from ``wordfreq``.

A corpus is read file by file (JSONL/TSV record by record) and fed to trainers in blocks of
about 64K characters cut after a line break: small enough for HF's trainers to count on all
cores, large enough that a newline and the indentation after it stay in one sequence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toksmith.corpus import ReadStats, corpus_files, iter_segments
from toksmith.corpus.read import Errors
from toksmith.errors import UserError
from toksmith.progress import Progress
from toksmith.results import Result


@dataclass
class CorpusInfo(Result):
    """What a tokenizer was trained on: recorded in ``toksmith.json``."""

    sources: list[str]
    fingerprint: str = ""  # blake2b-256 of the UTF-8 text in reading order
    bytes: int = 0
    texts: int = 0
    replaced_bytes: int = 0
    notes: list[str] = field(default_factory=list)


class TrainingCorpus:
    """One or more corpus sources, read as many times as a trainer asks.

    Each pass streams the files again (memory does not grow with the corpus); the fingerprint
    and byte counts are those of the last complete pass. ``progress(message, fraction)`` is
    called while reading.
    """

    def __init__(
        self,
        sources: Sequence[str | Path],
        *,
        errors: Errors = "strict",
        progress: Progress | None = None,
    ) -> None:
        if not sources:
            raise UserError("no training corpus given (--corpus PATH or --from-wordfreq)")
        self.sources = [str(s) for s in sources]
        self.errors: Errors = errors
        self.progress = progress
        self.total_bytes = 0
        for source in self.sources:
            if source != "-":
                self.total_bytes += sum(_size(p) for p in corpus_files(source))
        self.info = CorpusInfo(sources=self.sources)
        self._stdin_texts: list[str] | None = None

    def texts(self, stage: str = "reading corpus") -> Iterator[str]:
        """Every text of every source, in order, updating the fingerprint and progress."""
        digest = hashlib.blake2b(digest_size=32)
        seen_bytes = 0
        texts = 0
        stats = ReadStats()
        for text in self._raw_texts(stats):
            data = text.encode("utf-8", "surrogatepass")
            digest.update(data)
            seen_bytes += len(data)
            texts += 1
            if self.progress:
                fraction = min(seen_bytes / self.total_bytes, 1.0) if self.total_bytes else -1.0
                self.progress(f"{stage}: {seen_bytes / 1e6:.1f} MB", fraction)
            yield text
        self.info.fingerprint = "blake2b:" + digest.hexdigest()
        self.info.bytes = seen_bytes
        self.info.texts = texts
        self.info.replaced_bytes = stats.replaced_bytes

    def _raw_texts(self, stats: ReadStats) -> Iterator[str]:
        for source in self.sources:
            if source == "-":
                # stdin can be read once; keep it for trainers that make several passes
                if self._stdin_texts is None:
                    self._stdin_texts = [
                        s.text for s in iter_segments("-", errors=self.errors, whole_files=True)
                    ]
                yield from self._stdin_texts
                continue
            for segment in iter_segments(source, errors=self.errors, whole_files=True, stats=stats):
                yield segment.text


def text_blocks(texts: Iterable[str]) -> Iterator[str]:
    """Every text cut into :func:`blocks`: many mid-sized sequences that HF's trainers count
    on all cores, with line breaks and indentation kept together inside each block."""
    for text in texts:
        yield from blocks(text)


def blocks(text: str, block_chars: int = 1 << 16) -> Iterator[str]:
    """``text`` in pieces of about ``block_chars`` characters, cut after a line break."""
    start = 0
    while start < len(text):
        end = text.find("\n", start + block_chars)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# Languages written without spaces between words: their words are joined without a space.
_NO_SPACE_LANGUAGES = {"zh", "ja", "th", "my", "km", "lo"}


@dataclass
class WordfreqMix(Result):
    """Word counts for several languages, balanced by temperature sampling."""

    languages: list[str]
    temperature: float
    shares: dict[str, float]  # the share of words each language gets after balancing
    sizes: dict[str, int]  # the data-size stand-in of each language (its wordfreq list size)
    counts: dict[str, dict[str, int]]


def wordfreq_mix(
    languages: Sequence[str],
    *,
    temperature: float = 3.0,
    total_words: int = 1_000_000,
    top_n: int = 30_000,
) -> WordfreqMix:
    """Integer word counts per language from ``wordfreq``'s frequency lists.

    Languages are balanced by temperature sampling (as in multilingual LM training, e.g.
    XLM-R): a language with data share ``p`` gets ``p ** (1 / temperature)``, renormalised;
    ``temperature=1`` keeps the natural shares, large values approach uniform. ``wordfreq`` does
    not say how much text each language had, so the size of its word list (words above
    wordfreq's frequency floor, which grows with the data behind it) stands in for ``p``.
    Each word gets ``round(share × total_words × frequency)`` occurrences, at least 1 for the
    ``top_n`` most frequent words of each language.
    """
    import wordfreq

    if temperature <= 0:
        raise UserError(f"temperature must be positive, not {temperature}")
    available = set(wordfreq.available_languages())
    wanted = [lang.strip() for lang in languages if lang.strip()]
    if not wanted:
        raise UserError("--from-wordfreq needs at least one language code, e.g. en,tr,de")
    unknown = [lang for lang in wanted if lang not in available]
    if unknown:
        raise UserError(
            f"wordfreq has no word list for {', '.join(unknown)}; "
            f"available: {', '.join(sorted(available))}"
        )
    frequencies = {lang: wordfreq.get_frequency_dict(lang) for lang in wanted}
    sizes = {lang: len(freqs) for lang, freqs in frequencies.items()}
    total_size = sum(sizes.values())
    weights = {lang: (sizes[lang] / total_size) ** (1.0 / temperature) for lang in wanted}
    norm = sum(weights.values())
    shares = {lang: weights[lang] / norm for lang in wanted}
    counts: dict[str, dict[str, int]] = {}
    for lang in wanted:
        top = sorted(frequencies[lang].items(), key=lambda item: -item[1])[:top_n]
        budget = shares[lang] * total_words
        counts[lang] = {word: max(1, round(budget * freq)) for word, freq in top}
    return WordfreqMix(wanted, temperature, shares, sizes, counts)


def wordfreq_texts(mix: WordfreqMix, chunk_chars: int = 1 << 14) -> Iterator[str]:
    """Texts in which every word occurs as often as its count, each after a space (or alone
    for languages without spaces), so the pre-tokenizer sees it as in running text."""
    buffer: list[str] = []
    size = 0
    for lang in mix.languages:
        # a newline between occurrences keeps neighbours apart in text without spaces
        before, after = ("", "\n") if lang in _NO_SPACE_LANGUAGES else (" ", "")
        for word, count in mix.counts[lang].items():
            piece = (before + word + after) * count
            buffer.append(piece)
            size += len(piece)
            if size >= chunk_chars:
                yield "".join(buffer)
                buffer, size = [], 0
    if buffer:
        yield "".join(buffer)
