"""Counting one text, or one file, with several tokenizers.

What ``toksmith count`` counts: a text is encoded as it is; a plain-text file is encoded whole,
as it would be sent to a model: its line breaks, blank lines and indentation are text and cost
tokens (the file is read in pieces of about 4 MiB cut after a line break, so a run of blank
lines that straddles a cut may differ by a token). JSONL and TSV files count their text fields,
one per record, as ``compare`` reads them. ``bytes`` is the size of the text in the file: a
leading byte-order mark is not text, and under ``errors="replace"`` each replaced invalid
sequence counts as the bytes it had in the file, not as the 3 bytes of U+FFFD.

``toksmith compare --corpus FILE`` measures the file's segments instead (lines without their
line break, blank lines skipped: :mod:`toksmith.corpus.read`), so on a plain-text file its
``tokens``, ``bytes`` and ``chars`` leave out the line breaks that ``count`` includes; ``words``
are the same in both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toksmith.corpus import ReadStats, iter_texts
from toksmith.corpus.read import REPLACEMENT_BYTES, Errors
from toksmith.metrics import formulas
from toksmith.metrics.compare import TokenizerInfo
from toksmith.metrics.words import find_words
from toksmith.results import Result
from toksmith.text import clean_text
from toksmith.tokenizers import Tokenizer


@dataclass
class CountRow(Result):
    """The tokens of one text (or file) with one tokenizer, with bytes, characters and words
    for scale."""

    tokenizer: str
    tokens: int
    bytes: int
    chars: int
    words: int
    bytes_per_token: float
    chars_per_token: float
    fertility: float


@dataclass
class CountResult(Result):
    """``count`` of a file, folder or glob: one row per tokenizer, and what reading saw."""

    tokenizers: list[TokenizerInfo]
    results: list[CountRow]
    source: str = ""
    replaced_bytes: int = 0  # invalid UTF-8 bytes replaced under errors="replace"
    notes: list[str] = field(default_factory=list)


def count_text(
    tokenizers: Sequence[Tokenizer], text: str, *, errors: Errors = "strict", what: str = "text"
) -> list[CountRow]:
    """How many tokens ``text`` costs with each tokenizer, with bytes and words for scale.

    ``text`` goes through :func:`toksmith.text.clean_text` (``errors``, ``what`` as there). A
    command-line argument with invalid UTF-8 arrives with each bad byte as a lone surrogate
    (U+DC80..U+DCFF); replaced, it counts as that one byte in ``bytes``.
    """
    cleaned = clean_text(text, errors, what=what)
    escaped_bytes = 0 if cleaned is text else sum(0xDC80 <= ord(c) <= 0xDCFF for c in text)
    return count_texts(tokenizers, [cleaned], excess_bytes=(REPLACEMENT_BYTES - 1) * escaped_bytes)


def count_texts(
    tokenizers: Sequence[Tokenizer], texts: Iterable[str], *, excess_bytes: int = 0
) -> list[CountRow]:
    """:func:`count_text` summed over a stream of texts (a file read piece by piece), each
    encoded as it is. ``excess_bytes`` is subtracted from the UTF-8 size of the texts (the
    extra bytes of U+FFFD put in for invalid bytes), so ``bytes`` is the size of the source."""
    return finish_count_rows(tokenizers, count_partial(tokenizers, texts), excess_bytes)


@dataclass
class CountPartial(Result):
    """What a stretch of texts adds to a count: bytes, characters, words, and tokens per
    tokenizer. Partials add up (:meth:`merged`) to exactly the count of all the texts; this
    is the unit of distributed work (:mod:`toksmith.cluster`)."""

    bytes: int
    chars: int
    words: int
    tokens: list[int]

    def merged(self, later: CountPartial) -> CountPartial:
        return CountPartial(
            self.bytes + later.bytes,
            self.chars + later.chars,
            self.words + later.words,
            [a + b for a, b in zip(self.tokens, later.tokens, strict=True)],
        )


def count_partial(tokenizers: Sequence[Tokenizer], texts: Iterable[str]) -> CountPartial:
    """The :class:`CountPartial` of a stream of texts, each encoded as it is."""
    partial = CountPartial(0, 0, 0, [0] * len(tokenizers))
    for text in texts:
        partial.bytes += len(text.encode("utf-8"))
        partial.chars += len(text)
        partial.words += len(find_words(text))
        for position, tokenizer in enumerate(tokenizers):
            partial.tokens[position] += len(tokenizer.encode(text))
    return partial


def finish_count_rows(
    tokenizers: Sequence[Tokenizer], partial: CountPartial, excess_bytes: int = 0
) -> list[CountRow]:
    """One row per tokenizer from a (merged) partial; ``excess_bytes`` as in
    :func:`count_texts`."""
    n_bytes = partial.bytes - excess_bytes
    return [
        CountRow(
            tokenizer=tokenizer.name,
            tokens=tokens,
            bytes=n_bytes,
            chars=partial.chars,
            words=partial.words,
            bytes_per_token=formulas.bytes_per_token(n_bytes, tokens),
            chars_per_token=formulas.chars_per_token(partial.chars, tokens),
            fertility=formulas.fertility(tokens, partial.words),
        )
        for tokenizer, tokens in zip(tokenizers, partial.tokens, strict=True)
    ]


def count_corpus(
    tokenizers: Sequence[Tokenizer],
    source: str | Path,
    *,
    errors: Errors = "strict",
    confine_to: str | Path | None = None,
) -> CountResult:
    """What ``toksmith count --file`` counts: every file of ``source`` (a file, folder, glob or
    ``-``), plain-text files whole with their line breaks, JSONL/TSV by their text fields (see
    the module docstring for the rule). ``bytes`` is the size of the file's text, whatever
    ``errors`` replaced. ``confine_to`` refuses files outside that folder."""
    stats = ReadStats()
    texts = iter_texts(source, errors=errors, whole_files=True, stats=stats, confine_to=confine_to)
    partial = count_partial(tokenizers, texts)
    return finish_count(
        tokenizers, source, partial, stats.replacement_excess_bytes, stats.replaced_bytes
    )


def finish_count(
    tokenizers: Sequence[Tokenizer],
    source: str | Path,
    partial: CountPartial,
    excess_bytes: int,
    replaced_bytes: int,
) -> CountResult:
    """The result of :func:`count_corpus` from the merged partial of the whole corpus, the
    bytes that replacing invalid UTF-8 added, and the number of invalid bytes replaced."""
    rows = finish_count_rows(tokenizers, partial, excess_bytes)
    notes = []
    if replaced_bytes:
        notes.append(
            f"{replaced_bytes} invalid UTF-8 bytes were replaced by U+FFFD "
            "(bytes counts them as they are in the file)"
        )
    return CountResult(
        tokenizers=[TokenizerInfo.of(t) for t in tokenizers],
        results=rows,
        source=str(source),
        replaced_bytes=replaced_bytes,
        notes=notes,
    )
