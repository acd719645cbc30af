"""A tokenizer's vocabulary sorted by bytes, for "which tokens start with these bytes" queries.

All tokens whose bytes start with a given byte string form one contiguous range of the sorted
vocabulary, found with two binary searches. The next-byte masses of a range are one
``np.bincount`` over a precomputed matrix of each token's first bytes.
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_left

import numpy as np

from toksmith.tokenizers.base import Tokenizer

MATRIX_DEPTH = 16  # byte positions kept in the matrix; deeper queries fall back to Python
_BYTE_VALUES = np.arange(256, dtype=np.uint8)


class VocabIndex:
    """The token byte strings of a tokenizer in lexicographic order.

    Positions in this order are called *ranks* here; ``order[rank]`` is the token id. Tokens
    with no bytes (special tokens, unused ids) sort first and are never in a prefix range.
    """

    def __init__(self, vocab_bytes: list[bytes]) -> None:
        order = sorted(range(len(vocab_bytes)), key=vocab_bytes.__getitem__)
        self.order = np.array(order, dtype=np.int64)
        self.sorted_bytes = [vocab_bytes[i] for i in order]
        self.lengths = np.array([len(b) for b in self.sorted_bytes], dtype=np.int64)
        self.first_rank = int(np.searchsorted(self.lengths > 0, True))  # skip empty tokens
        self.size = len(order)
        self.max_token_bytes = int(self.lengths.max()) if self.size else 0
        padded = b"".join(b[:MATRIX_DEPTH].ljust(MATRIX_DEPTH, b"\0") for b in self.sorted_bytes)
        matrix = np.frombuffer(padded, dtype=np.uint8).reshape(self.size, MATRIX_DEPTH)
        self.columns = np.ascontiguousarray(matrix.T)  # columns[d][rank]: byte d of the token
        self.empty_ids = self.order[: self.first_rank]
        self.rank_of_id = np.empty(self.size, dtype=np.int64)
        self.rank_of_id[self.order] = np.arange(self.size)
        self.byte_token_rank = np.full(256, -1, dtype=np.int64)
        for value in range(256):
            rank = bisect_left(self.sorted_bytes, bytes([value]))
            if rank < self.size and self.sorted_bytes[rank] == bytes([value]):
                self.byte_token_rank[value] = rank

    def full_range(self) -> tuple[int, int]:
        """The ranks of every token with bytes."""
        return self.first_rank, self.size

    def prefix_range(self, prefix: bytes, low: int, high: int) -> tuple[int, int]:
        """Ranks within ``[low, high)`` of the tokens whose bytes start with ``prefix``.

        ``[low, high)`` must be a range of tokens sharing a prefix of ``prefix`` (e.g. the
        previous answer for a shorter prefix), or the full range.
        """
        low = bisect_left(self.sorted_bytes, prefix, low, high)
        successor = _successor(prefix)
        if successor is None:
            return low, high
        return low, bisect_left(self.sorted_bytes, successor, low, high)

    def exact_rank(self, low: int, high: int, depth: int) -> int:
        """The rank in a prefix range whose token is exactly the ``depth``-byte prefix, or -1.
        (It sorts first in its range.)"""
        if low < high and self.lengths[low] == depth:
            return low
        return -1

    def next_byte_masses(self, probs: np.ndarray, low: int, high: int, depth: int) -> np.ndarray:
        """Sum of ``probs`` (indexed by rank) per value of byte ``depth`` over the tokens in
        ``[low, high)`` longer than ``depth`` bytes: a float64 array of 256.

        The tokens of a prefix range are sorted, so each value of byte ``depth`` is one
        contiguous sub-range, summed with one ``np.add.reduceat``.
        """
        if self.exact_rank(low, high, depth) >= 0:
            low += 1
        masses = np.zeros(256)
        if low >= high:
            return masses
        if depth >= MATRIX_DEPTH:
            for rank in range(low, high):
                masses[self.sorted_bytes[rank][depth]] += probs[rank]
            return masses
        starts = np.searchsorted(self.columns[depth, low:high], _BYTE_VALUES)
        ends = np.append(starts[1:], high - low)
        present = starts < ends
        masses[present] = np.add.reduceat(probs[low:high], starts[present])
        return masses


def _successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix``."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


_indexes: weakref.WeakKeyDictionary[Tokenizer, VocabIndex] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def vocab_index(tokenizer: Tokenizer) -> VocabIndex:
    """The :class:`VocabIndex` of ``tokenizer``, built once per tokenizer object."""
    with _lock:
        index = _indexes.get(tokenizer)
        if index is None:
            index = VocabIndex(tokenizer.vocab_bytes)
            _indexes[tokenizer] = index
        return index
