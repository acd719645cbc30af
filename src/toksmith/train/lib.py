"""LiB: a least-effort vocabulary learner that keeps subwords, words and multiword units.

"Rethinking Tokenization: Crafting Better Tokenizers for Large Language Models" (Jinbiao Yang,
2024), which builds on the LiB ("Less-is-Better") model of Yang, Frank & van den Bosch (2020).
The principle of least effort asks for both few tokens per text and few types in the lexicon.
LiB reads text batch by batch with its current lexicon, and two mechanisms change it:

* the **Memorizer** adds the concatenation of two adjacent chunks of a reading as a new
  candidate (with probability ``memorize_rate``), on probation for ``life`` batches;
* the **Forgetter** tests each chunk a reading used: if reading the same span without it (with
  the next-longest match and onwards until both readings meet) takes no more chunks, the chunk
  is redundant and moves down the ranking; otherwise it moves up and leaves probation.
  Candidates still on probation when their life runs out are forgotten, and chunks that sink
  into the bottom ``forget_share`` of the ranking are put on probation again.

Reading is greedy longest match, which is what HF's WordPiece model does, so the learned
lexicon is exported as a WordPiece ``tokenizer.json`` (empty continuation prefix, byte-level)
that encodes exactly as this reader.

Deviations: the unit of reading is a stage-2 chunk (words joined by spaces, cut at punctuation,
digits and newlines) in byte-level form rather than a sentence of characters; all 256 bytes
are permanent members of the lexicon so any text can be read (lossless round trip); chunks are
capped at ``max_token_length`` bytes; the final vocabulary is the top of the ranking, cut at
``vocab_size`` when one is given.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from toksmith.progress import Progress
from toksmith.results import Result


@dataclass
class LiBResult(Result):
    """The learned lexicon, best-ranked first (byte-level strings, base bytes excluded)."""

    lexicon: list[str]
    epochs: int
    candidates_memorized: int
    candidates_forgotten: int


class Lexicon:
    """Ranked chunks plus a fast longest-match reader."""

    def __init__(self, base: Sequence[str], max_length: int) -> None:
        self.base = set(base)
        self.ranked: list[str] = []  # learned chunks, best first
        self.members: set[str] = set(base)
        self.max_length = max_length

    def add(self, chunk: str) -> bool:
        if chunk in self.members or len(chunk) > self.max_length:
            return False
        self.members.add(chunk)
        self.ranked.append(chunk)
        return True

    def remove(self, chunks: set[str]) -> None:
        chunks -= self.base
        self.members -= chunks
        self.ranked = [c for c in self.ranked if c not in chunks]

    def longest_match(self, text: str, start: int, shorter_than: int | None = None) -> int:
        """Length of the longest lexicon chunk at ``text[start:]`` (shorter than the bound)."""
        longest = min(self.max_length, len(text) - start)
        if shorter_than is not None:
            longest = min(longest, shorter_than - 1)
        for length in range(longest, 1, -1):
            if text[start : start + length] in self.members:
                return length
        return 1  # every single byte is a member

    def read(self, text: str) -> list[int]:
        """Chunk boundaries (end offsets) of the greedy longest-match reading."""
        ends = []
        position = 0
        while position < len(text):
            position += self.longest_match(text, position)
            ends.append(position)
        return ends


def train_lib(
    chunks: Sequence[str],
    *,
    weights: Sequence[int] | None = None,
    base: Sequence[str],
    vocab_size: int | None,
    epochs: int = 200,
    batch_chunks: int = 200,
    memorize_rate: float = 0.25,
    life: int = 10,
    update_rate: float = 0.2,
    forget_share: float = 0.0001,
    max_token_length: int = 24,
    seed: int = 0,
    progress: Progress | None = None,
) -> LiBResult:
    """Learn a LiB lexicon from ``chunks`` (byte-level strings, drawn in proportion to
    ``weights``). Returns the ranked lexicon, cut to ``vocab_size`` chunks when given."""
    rng = random.Random(seed)
    lexicon = Lexicon(base, max_token_length)
    probation: dict[str, int] = {}
    memorized = forgotten = 0
    cumulative = list(itertools.accumulate(weights)) if weights is not None else None
    for epoch in range(epochs):
        if progress:
            progress(
                f"LiB epoch {epoch + 1}/{epochs}, {len(lexicon.ranked)} chunks", epoch / epochs
            )
        rewards: dict[str, int] = {}
        for text in rng.choices(chunks, cum_weights=cumulative, k=batch_chunks):
            ends = lexicon.read(text)
            memorized += _memorize(text, ends, lexicon, probation, life, memorize_rate, rng)
            _test_chunks(text, ends, lexicon, rewards, probation)
        forgotten += _forget(lexicon, probation, life, forget_share)
        _rerank(lexicon, rewards, update_rate)
    final = lexicon.ranked
    if vocab_size is not None:
        final = final[: max(vocab_size, 0)]
    return LiBResult(list(final), epochs, memorized, forgotten)


def _memorize(
    text: str,
    ends: list[int],
    lexicon: Lexicon,
    probation: dict[str, int],
    life: int,
    rate: float,
    rng: random.Random,
) -> int:
    """The Memorizer: join adjacent chunks into new candidates."""
    added = 0
    starts = [0] + ends[:-1]
    for k in range(len(ends) - 1):
        if rng.random() < rate:
            candidate = text[starts[k] : ends[k + 1]]
            if lexicon.add(candidate):
                probation[candidate] = life
                added += 1
    return added


def _test_chunks(
    text: str,
    ends: list[int],
    lexicon: Lexicon,
    rewards: dict[str, int],
    probation: dict[str, int],
) -> None:
    """The Forgetter's test: is each multi-byte chunk of the reading worth keeping?"""
    boundaries = set(ends)
    starts = [0] + ends[:-1]
    for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
        if end - start < 2:
            continue
        chunk = text[start:end]
        # read on without this chunk (next-longest match first) until both readings meet
        position = start + lexicon.longest_match(text, start, shorter_than=end - start)
        alternative = 1
        while position not in boundaries:
            position += lexicon.longest_match(text, position)
            alternative += 1
        original = sum(1 for j in range(k, len(ends)) if ends[j] <= position)
        if alternative <= original:
            rewards[chunk] = rewards.get(chunk, 0) - 1  # redundant: the span reads as well
        else:
            rewards[chunk] = rewards.get(chunk, 0) + 1
            probation.pop(chunk, None)


def _forget(lexicon: Lexicon, probation: dict[str, int], life: int, share: float) -> int:
    """Forget candidates whose probation ran out; put the bottom of the ranking on probation."""
    expired = {chunk for chunk, left in probation.items() if left <= 1}
    for chunk in list(probation):
        probation[chunk] -= 1
    for chunk in expired:
        del probation[chunk]
    lexicon.remove(expired)
    bottom = int(len(lexicon.ranked) * (1 - share))
    for chunk in lexicon.ranked[bottom:]:
        probation.setdefault(chunk, life)
    return len(expired)


def _rerank(lexicon: Lexicon, rewards: dict[str, int], rate: float) -> None:
    """Move rewarded chunks up and redundant ones down by ``rate`` of their distance."""
    size = len(lexicon.ranked)
    if not rewards or size == 0:
        return
    positions = {}
    for index, chunk in enumerate(lexicon.ranked):
        reward = rewards.get(chunk, 0)
        if reward > 0:
            positions[chunk] = index * (1 - rate)
        elif reward < 0:
            positions[chunk] = index + (size - index) * rate
        else:
            positions[chunk] = float(index)
    lexicon.ranked.sort(key=positions.__getitem__)
