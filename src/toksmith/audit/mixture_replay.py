"""Replaying a tokenizer's merges on the samples of every category at once.

BPE training is replayed, not re-run: merge ``t`` of the tokenizer is applied to every
pre-token of every category, whatever the counts say, and the count of each adjacent pair is
kept per category. Only the words that contain the merged pair are touched at each step (an
index from pair to words keeps them at hand), so a step costs the number of occurrences it
changes, never a pass over the data. Pre-tokens are counted first and replayed once per
distinct pre-token, weighted by their frequency.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence

# A pair of symbol ids is one int, ``left << PAIR_SHIFT | right``: cheaper to hash than a tuple.
PAIR_SHIFT = 22
_RIGHT_MASK = (1 << PAIR_SHIFT) - 1


def pair_key(left: int, right: int) -> int:
    return (left << PAIR_SHIFT) | right


def merge_symbols(merges: Sequence[tuple[bytes, bytes]]) -> list[tuple[int, int, int]]:
    """Each merge as symbol ids ``(left, right, new)``: the 256 bytes are ids 0..255 and every
    token a merge makes gets the next id (a token made twice keeps its first id)."""
    ids = {bytes([byte]): byte for byte in range(256)}
    triples = []
    for left, right in merges:
        for part in (left, right):
            if part not in ids:  # a part no earlier merge makes: it never occurs in the data
                ids[part] = len(ids)
        merged = left + right
        if merged not in ids:
            ids[merged] = len(ids)
        triples.append((ids[left], ids[right], ids[merged]))
    if len(ids) > _RIGHT_MASK:
        raise ValueError(f"{len(ids)} symbols do not fit a pair key")
    return triples


class MergeReplay:
    """Pair counts per category, updated merge by merge.

    ``counts[pair][i]`` is how often ``pair`` occurs in category ``i`` (raw, not normalised).
    """

    def __init__(self, category_pretokens: Sequence[Counter[bytes]]) -> None:
        self.categories = len(category_pretokens)
        self.words: list[list[int]] = []
        self.frequency: list[int] = []
        self.category: list[int] = []
        self.counts: dict[int, list[int]] = {}
        self.where: dict[int, set[int]] = {}
        for index, pretokens in enumerate(category_pretokens):
            for pretoken, frequency in pretokens.items():
                if len(pretoken) < 2:
                    continue  # a single byte holds no pair
                word = len(self.words)
                symbols = list(pretoken)
                self.words.append(symbols)
                self.frequency.append(frequency)
                self.category.append(index)
                for left, right in zip(symbols, symbols[1:], strict=False):
                    key = (left << PAIR_SHIFT) | right
                    vector = self.counts.get(key)
                    if vector is None:
                        vector = self.counts[key] = [0] * self.categories
                        self.where[key] = set()
                    vector[index] += frequency
                    self.where[key].add(word)

    def count(self, key: int) -> list[int]:
        """Counts of ``key`` per category (zeros when it does not occur)."""
        return self.counts.get(key) or [0] * self.categories

    def apply(self, left: int, right: int, new: int) -> list[tuple[int, int]]:
        """Merge (left, right) into ``new`` everywhere; returns the (pair, category) counts
        that changed. The merged pair itself disappears from ``counts``."""
        merged_key = (left << PAIR_SHIFT) | right
        self.counts.pop(merged_key, None)
        word_ids = self.where.pop(merged_key, ())
        categories = self.categories
        delta: dict[int, int] = {}
        where = self.where
        for word in word_ids:
            symbols = self.words[word]
            merged, changes = _merge_word(symbols, left, right, new)
            if merged is None:
                continue  # the index is lazy: an earlier merge took this occurrence
            frequency = self.frequency[word]
            index = self.category[word]
            for key, sign in changes:
                slot = key * categories + index
                delta[slot] = delta.get(slot, 0) + sign * frequency
                if sign > 0:
                    words = where.get(key)
                    if words is None:
                        words = where[key] = set()
                    words.add(word)
            self.words[word] = merged
        changed = []
        for slot, difference in delta.items():
            if difference == 0:
                continue
            key, index = divmod(slot, categories)
            if key == merged_key:
                continue
            vector = self.counts.get(key)
            if vector is None:
                vector = self.counts[key] = [0] * categories
            vector[index] += difference
            changed.append((key, index))
        return changed


def _merge_word(
    symbols: list[int], left: int, right: int, new: int
) -> tuple[list[int] | None, list[tuple[int, int]]]:
    """``symbols`` with every (left, right) merged left to right, and the pairs that appear
    (+1) and disappear (-1) around each merge; None when the pair does not occur.

    At a merge at ``i``, the pair with the symbol before it becomes (that symbol, new), where
    that symbol is ``new`` itself when the previous merge ended right there; the pair with the
    symbol after it becomes (new, that symbol), unless another merge starts there, which then
    accounts for that pair as its own left neighbour.
    """
    out: list[int] = []
    changes: list[tuple[int, int]] = []
    position = 0
    end = len(symbols) - 1
    while position <= end:
        if position < end and symbols[position] == left and symbols[position + 1] == right:
            if position > 0:
                changes.append((((symbols[position - 1] << PAIR_SHIFT) | left), -1))
                changes.append((((out[-1] << PAIR_SHIFT) | new), 1))
            after = position + 2
            if after <= end and not (
                symbols[after] == left and after < end and symbols[after + 1] == right
            ):
                changes.append((((right << PAIR_SHIFT) | symbols[after]), -1))
                changes.append((((new << PAIR_SHIFT) | symbols[after]), 1))
            out.append(new)
            position += 2
        else:
            out.append(symbols[position])
            position += 1
    if len(out) == len(symbols):
        return None, changes
    return out, changes


class TopPairs:
    """A max-heap per category of pair counts, kept lazily: stale entries are skipped when
    popped and the heaps are rebuilt when stale entries pile up."""

    def __init__(self, replay: MergeReplay) -> None:
        self.replay = replay
        self._rebuild()

    def _rebuild(self) -> None:
        heaps: list[list[tuple[int, int]]] = [[] for _ in range(self.replay.categories)]
        for key, vector in self.replay.counts.items():
            for index, count in enumerate(vector):
                if count > 0:
                    heaps[index].append((-count, key))
        for heap in heaps:
            heapq.heapify(heap)
        self.heaps = heaps
        self._pushed = 0
        self._limit = max(2_000_000, 2 * sum(len(heap) for heap in heaps))

    def update(self, changed: list[tuple[int, int]]) -> None:
        counts = self.replay.counts
        heaps = self.heaps
        for key, index in changed:
            count = counts[key][index]
            if count > 0:
                heapq.heappush(heaps[index], (-count, key))
        self._pushed += len(changed)
        if self._pushed > self._limit:
            self._rebuild()

    def top(self, index: int, k: int, exclude: int) -> list[int]:
        """The ``k`` most frequent pairs of category ``index`` other than ``exclude``."""
        heap = self.heaps[index]
        counts = self.replay.counts
        found: list[tuple[int, int]] = []
        seen = set()
        while heap and len(found) < k:
            entry = heapq.heappop(heap)
            negative_count, key = entry
            vector = counts.get(key)
            if vector is None or vector[index] != -negative_count or key in seen:
                continue  # stale, or a duplicate of an entry already found
            seen.add(key)
            if key != exclude:  # the merged pair's entries go stale at this very step
                found.append(entry)
        for entry in found:
            heapq.heappush(heap, entry)
        return [key for _, key in found]


class WeightedTopPairs:
    """One max-heap of ``sum_i weight_i * count_i(pair)``: the pairs the mixture ``weight``
    would merge first. Used to look for constraints the candidate pool missed."""

    def __init__(self, replay: MergeReplay, weights: Sequence[float]) -> None:
        self.replay = replay
        self.weights = list(weights)
        self._rebuild()

    def score(self, vector: list[int]) -> float:
        return sum(w * c for w, c in zip(self.weights, vector, strict=True))

    def _rebuild(self) -> None:
        heap = [(-self.score(vector), key) for key, vector in self.replay.counts.items()]
        heapq.heapify(heap)
        self.heap = heap
        self._pushed = 0
        self._limit = max(2_000_000, 2 * len(heap))

    def update(self, changed: list[tuple[int, int]]) -> None:
        counts = self.replay.counts
        keys = {key for key, _ in changed}
        for key in keys:
            heapq.heappush(self.heap, (-self.score(counts[key]), key))
        self._pushed += len(keys)
        if self._pushed > self._limit:
            self._rebuild()

    def violators(
        self, threshold: float, exclude: int, pair_slack: dict[int, float], limit: int
    ) -> tuple[list[int], bool]:
        """Pairs scoring more than ``threshold + pair_slack[pair]`` (best first, at most
        ``limit``), and whether that is all of them."""
        heap = self.heap
        counts = self.replay.counts
        found: list[int] = []
        popped: list[tuple[float, int]] = []
        seen = set()
        complete = True
        while heap:
            entry = heap[0]
            negative_score, key = entry
            score = -negative_score
            if score <= threshold:
                break
            heapq.heappop(heap)
            vector = counts.get(key)
            if vector is None or key in seen or self.score(vector) != score:
                continue  # stale or duplicate: drop it
            seen.add(key)
            popped.append(entry)
            if key != exclude and score > threshold + pair_slack.get(key, 0.0):
                if len(found) == limit:
                    complete = False
                    break
                found.append(key)
        for entry in popped:
            heapq.heappush(heap, entry)
        return found, complete
