"""Dynamic tokenization: BPE merges learned per batch on top of a tokenizer's ids.

After "Retrofitting (Large) Language Models with Dynamic Tokenization" (Feher, Vulić &
Minixhofer, 2024): a batch of token sequences is shortened by merging its most frequent adjacent
pairs, BPE-style, with merges learned on that batch alone and never across a word (or
pre-token) boundary. A merged unit stands for the exact concatenated bytes of its tokens, so
decoding is lossless. Special tokens are never merged.

Deviations: the paper embeds the merged units with a hypernetwork (from "Zero-Shot Tokenizer
Transfer"), which is out of reach here; this module learns and applies the merges and
measures the length reduction, and :func:`toksmith.adapt.evaluate.dynamic_bits_per_byte`
embeds the merged units of a small causal LM by ``subword-mean`` (the mean of the unit's own
tokens) or ``omp`` instead, and scores held-out text with them. A pair is merged only while it occurs at least ``min_count`` times in the
batch (default 2; a pair seen once saves one position but needs a new embedding). Ties are
broken by the smaller (left, right) unit ids, so the merges are deterministic.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from toksmith.errors import UserError
from toksmith.progress import Progress
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

BOUNDARIES = ("word", "pretoken")
WHITESPACE = b" \t\n\r\x0b\x0c"
FROZEN = -1  # the segment of a special token: never merged


@dataclass
class BatchMerges:
    """The merges learned on one batch and the merged sequences.

    ``merges``: (left unit, right unit, new unit) in the order learned; new units are numbered
    from the tokenizer's vocabulary size up. ``sequences``: the batch after all merges.
    ``lengths``: the batch's total length after 0, 1, 2, ... merges. ``unit_bytes``: the bytes
    of every new unit (index = unit − vocabulary size).
    """

    merges: list[tuple[int, int, int]]
    sequences: list[list[int]]
    lengths: list[int]
    unit_bytes: list[bytes]

    def length_after(self, merges: int) -> int:
        """The batch's total length after the first ``merges`` merges."""
        return self.lengths[min(merges, len(self.lengths) - 1)]


def learn_batch_merges(
    sequences: Sequence[Sequence[int]],
    segments: Sequence[Sequence[int]],
    token_bytes: Sequence[bytes],
    max_merges: int,
    *,
    min_count: int = 2,
) -> BatchMerges:
    """Learn up to ``max_merges`` merges on one batch, BPE-style: repeatedly merge the most
    frequent adjacent pair of units that lie in the same segment.

    ``segments[i][j]`` is the segment of token j of sequence i (equal numbers = same word or
    pre-token, :data:`FROZEN` = never merged); ``token_bytes[id]`` is the tokenizer's
    :meth:`~toksmith.tokenizers.Tokenizer.token_bytes`. Pair counts are kept incrementally
    (positions of each pair in a linked list, a heap with lazy deletion), so the cost is
    proportional to the tokens merged, not to merges × batch length.
    """
    vocab = len(token_bytes)
    units: list[int] = []
    segment_of: list[int] = []
    for number, (ids, segs) in enumerate(zip(sequences, segments, strict=True)):
        if len(ids) != len(segs):
            raise ValueError("every token needs a segment")
        units.extend(int(i) for i in ids)
        # Sequences never merge into each other: their segment numbers are made distinct.
        segment_of.extend(FROZEN if s == FROZEN else (number << 32) + int(s) for s in segs)
    size = len(units)
    following = list(range(1, size + 1))
    preceding = list(range(-1, size - 1))
    ends = set()
    position = 0
    for ids in sequences:
        position += len(ids)
        ends.add(position - 1)
    for end in ends:
        if end >= 0:
            following[end] = -1
            if end + 1 < size:
                preceding[end + 1] = -1
    alive = [True] * size
    where: dict[tuple[int, int], set[int]] = {}

    def mergeable(i: int, j: int) -> bool:
        return j != -1 and segment_of[i] != FROZEN and segment_of[i] == segment_of[j]

    for i in range(size):
        j = following[i]
        if j != -1 and mergeable(i, j):
            where.setdefault((units[i], units[j]), set()).add(i)
    heap = [(-len(spots), pair[0], pair[1]) for pair, spots in where.items()]
    heapq.heapify(heap)
    new_bytes: list[bytes] = []
    merges: list[tuple[int, int, int]] = []
    lengths = [size]
    length = size

    def unit_bytes(unit: int) -> bytes:
        return token_bytes[unit] if unit < vocab else new_bytes[unit - vocab]

    def drop(pair: tuple[int, int], spot: int, touched: set[tuple[int, int]]) -> None:
        spots = where.get(pair)
        if spots is not None:
            spots.discard(spot)
            touched.add(pair)

    def add(pair: tuple[int, int], spot: int, touched: set[tuple[int, int]]) -> None:
        where.setdefault(pair, set()).add(spot)
        touched.add(pair)

    while len(merges) < max_merges and heap:
        count, left, right = heapq.heappop(heap)
        spots = where.get((left, right))
        if spots is None or len(spots) != -count:
            continue  # a stale heap entry
        if -count < min_count:
            break
        del where[(left, right)]
        new = vocab + len(new_bytes)
        new_bytes.append(unit_bytes(left) + unit_bytes(right))
        touched: set[tuple[int, int]] = set()
        merged = 0
        for i in sorted(spots):
            j = following[i]
            if not alive[i] or units[i] != left or j == -1 or units[j] != right:
                continue  # an overlapping occurrence (a a a) already consumed
            before, after = preceding[i], following[j]
            if before != -1 and mergeable(before, i):
                drop((units[before], left), before, touched)
            if after != -1 and mergeable(j, after):
                drop((right, units[after]), j, touched)
            units[i] = new
            alive[j] = False
            following[i] = after
            if after != -1:
                preceding[after] = i
            if before != -1 and mergeable(before, i):
                add((units[before], new), before, touched)
            if after != -1 and mergeable(i, after):
                add((new, units[after]), i, touched)
            merged += 1
        for pair in touched:
            current = where.get(pair)
            if current:
                heapq.heappush(heap, (-len(current), pair[0], pair[1]))
            elif current is not None:
                del where[pair]
        merges.append((left, right, new))
        length -= merged
        lengths.append(length)
    merged_sequences: list[list[int]] = []
    start = 0
    for ids in sequences:
        stop = start + len(ids)
        merged_sequences.append([units[p] for p in range(start, stop) if alive[p]])
        start = stop
    return BatchMerges(merges, merged_sequences, lengths, new_bytes)


def unit_pieces(batch: BatchMerges, vocab_size: int) -> list[list[int]]:
    """The tokenizer ids each new unit of ``batch`` is made of, left to right (index = unit −
    ``vocab_size``): what its embedding is built from."""
    pieces: list[list[int]] = []

    def expand(unit: int) -> list[int]:
        return [unit] if unit < vocab_size else pieces[unit - vocab_size]

    for left, right, _ in batch.merges:  # a merge only uses units made before it
        pieces.append(expand(left) + expand(right))
    return pieces


def decode_units(units: Sequence[int], token_bytes: Sequence[bytes], batch: BatchMerges) -> bytes:
    """The exact bytes of a merged sequence."""
    vocab = len(token_bytes)
    return b"".join(token_bytes[u] if u < vocab else batch.unit_bytes[u - vocab] for u in units)


def token_segments(tokenizer: Tokenizer, text: str, ids: Sequence[int], boundary: str) -> list[int]:
    """The segment of each token of ``ids`` (the encoding of ``text``): tokens with the same
    number may merge. ``word``: a word is a run between whitespace (a token that starts with
    whitespace, or follows one that ends with it, starts a new word; a WordPiece token without
    ``##`` starts one too). ``pretoken``: the tokenizer's own pre-tokens (needs a byte-exact
    tokenizer, whose token bytes line up with the text's bytes). Special tokens are
    :data:`FROZEN`."""
    if boundary not in BOUNDARIES:
        raise UserError(f"boundary {boundary!r} is not one of {', '.join(BOUNDARIES)}")
    specials = tokenizer.special_ids
    data = [tokenizer.token_bytes(i) for i in ids]
    if boundary == "pretoken":
        starts = _pretoken_starts(tokenizer, text)
    prefix = _continuation(tokenizer)
    segments: list[int] = []
    segment = 0
    offset = 0
    previous_frozen = True
    for position, (token_id, piece) in enumerate(zip(ids, data, strict=True)):
        if token_id in specials:
            segments.append(FROZEN)
            previous_frozen = True
            offset += len(piece)
            continue
        if boundary == "word":
            starts_word = (
                previous_frozen
                or piece[:1] in _WS
                or data[position - 1][-1:] in _WS
                or (
                    prefix is not None
                    and not (tokenizer.token_label(token_id) or "").startswith(prefix)
                )
            )
        else:
            starts_word = previous_frozen or offset in starts
        if starts_word:
            segment += 1
        segments.append(segment)
        previous_frozen = False
        offset += len(piece)
    return segments


_WS = {bytes([b]) for b in WHITESPACE}


def _continuation(tokenizer: Tokenizer) -> str | None:
    try:
        return tokenizer.continuation_prefix
    except UserError:
        return None


def _pretoken_starts(tokenizer: Tokenizer, text: str) -> set[int]:
    if not tokenizer.byte_exact:
        raise UserError(
            f"--boundary pretoken needs a byte-exact tokenizer; {tokenizer.name!r} is not "
            "(its tokens do not line up with the text's bytes): use --boundary word"
        )
    pieces = tokenizer.pre_tokens(text)
    starts: set[int] = set()
    offset = 0
    for piece in pieces:
        starts.add(offset)
        offset += len(piece)
    if offset != len(text.encode("utf-8")):
        raise UserError(
            f"tokenizer {tokenizer.name!r}: its pre-tokens do not cover the text byte for byte; "
            "use --boundary word"
        )
    return starts


@dataclass
class DynamicRow(Result):
    """The corpus length after ``merges`` merges per batch."""

    merges: int
    tokens: int
    tokens_per_sequence: float
    length_reduction: float  # 1 − tokens / tokens without merges


@dataclass
class DynamicResult(Result):
    """Length reduction by batch-level merges for one tokenizer on one corpus."""

    tokenizer: str
    boundary: str
    batch_size: int
    max_length: int
    min_count: int
    sequences: int
    batches: int
    rows: list[DynamicRow]
    merges_learned_mean: float
    elapsed_s: float
    notes: list[str] = field(default_factory=list)


@dataclass
class DynamicReport(Result):
    """``adapt dynamic``: one result per tokenizer."""

    corpus: str
    results: list[DynamicResult]
    kind: str = "adapt-dynamic"


def dynamic_lengths(
    tokenizer: Tokenizer,
    texts: Sequence[str],
    merges: Sequence[int],
    *,
    boundary: str = "word",
    batch_size: int = 32,
    max_length: int = 512,
    min_count: int = 2,
    progress: Progress | None = None,
) -> DynamicResult:
    """Encode ``texts`` (each cut to ``max_length`` tokens), learn merges per batch of
    ``batch_size`` sequences, and report the total length after each number in ``merges``."""
    if not texts:
        raise UserError("the corpus has no text")
    if any(m < 0 for m in merges):
        raise UserError("numbers of merges must be at least 0")
    started = time.perf_counter()
    token_bytes = tokenizer.vocab_bytes
    top = max(merges) if merges else 0
    totals = dict.fromkeys(merges, 0)
    learned = 0
    batches = 0
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        encoded = [ids[:max_length] for ids in tokenizer.encode_batch(chunk)]
        segments = [
            token_segments(tokenizer, text, ids, boundary)
            for text, ids in zip(chunk, encoded, strict=True)
        ]
        batch = learn_batch_merges(encoded, segments, token_bytes, top, min_count=min_count)
        for m in merges:
            totals[m] += batch.length_after(m)
        learned += len(batch.merges)
        batches += 1
        if progress:
            progress(
                f"{tokenizer.name}: batch {batches}", min(1.0, (start + batch_size) / len(texts))
            )
    base = totals.get(0) if 0 in totals else None
    if base is None:
        base = sum(len(ids[:max_length]) for ids in tokenizer.encode_batch(list(texts)))
    rows = [
        DynamicRow(
            merges=m,
            tokens=totals[m],
            tokens_per_sequence=totals[m] / len(texts),
            length_reduction=1.0 - totals[m] / base if base else 0.0,
        )
        for m in sorted(totals)
    ]
    return DynamicResult(
        tokenizer=tokenizer.name,
        boundary=boundary,
        batch_size=batch_size,
        max_length=max_length,
        min_count=min_count,
        sequences=len(texts),
        batches=batches,
        rows=rows,
        merges_learned_mean=learned / max(batches, 1),
        elapsed_s=time.perf_counter() - started,
    )
