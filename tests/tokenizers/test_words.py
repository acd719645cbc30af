"""Encoding isolated words: the joined fast path of the tiktoken backend equals one-by-one."""

from __future__ import annotations

from itertools import chain

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toksmith.metrics.words import find_words
from toksmith.tokenizers import load_tokenizer
from toksmith.tokenizers.base import Tokenizer
from toksmith.tokenizers.tiktoken_ranks import WORD_LOCAL_PATTERNS, TiktokenTokenizer

TIKTOKEN_BUILTINS = [
    "o200k_base", "cl100k_base", "p50k_base", "llama3", "llama4", "mistral-tekken",
    "mistral-tekken-240718",
]  # fmt: skip
TRICKY_WORDS = [
    "don't", "3.14", "U.S.A", "x²", "Ⅻ", "a\u202fb", "\u0301abc", "abc\u0301", "1234567",
    "ÉCOLE", "ǅemal", "日本語", "ﬁne", "a_b", "", "co-op",
]  # fmt: skip


def one_by_one(tokenizer: Tokenizer, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [tokenizer.encode_word(word) for word in words]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    return np.fromiter(chain.from_iterable(encoded), dtype=np.int64), lengths


def assert_same(tokenizer: Tokenizer, words: list[str]) -> None:
    flat, lengths = tokenizer.encode_words_numpy(words)
    expected_flat, expected_lengths = one_by_one(tokenizer, words)
    assert lengths.tolist() == expected_lengths.tolist()
    assert flat.tolist() == expected_flat.tolist()


@pytest.fixture(scope="module")
def udhr_words(udhr_dir) -> list[str]:
    """Distinct words of every UDHR translation (every 3rd, to keep the test short)."""
    distinct: dict[str, None] = {}
    for path in sorted(udhr_dir.glob("*.tsv")):
        if path.name != "index.tsv":
            distinct.update(dict.fromkeys(find_words(path.read_text(encoding="utf-8"))))
    return list(distinct)[::3] + TRICKY_WORDS


@pytest.mark.parametrize("name", TIKTOKEN_BUILTINS)
def test_joined_words_equal_one_by_one_on_every_udhr_script(name, udhr_words):
    tokenizer = load_tokenizer(name)
    assert tokenizer.encoding._pat_str in WORD_LOCAL_PATTERNS  # the fast path is the one tested
    assert_same(tokenizer, udhr_words)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=8), min_size=1, max_size=30))
def test_joined_words_equal_one_by_one_on_random_text(words):
    assert_same(load_tokenizer("o200k_base"), words)


def test_unknown_pattern_encodes_one_by_one(monkeypatch):
    tokenizer = load_tokenizer("cl100k_base")
    assert isinstance(tokenizer, TiktokenTokenizer)
    calls = []
    monkeypatch.setattr(tokenizer, "_encode_joined", lambda words: calls.append(words))
    monkeypatch.setattr(
        "toksmith.tokenizers.tiktoken_ranks.WORD_LOCAL_PATTERNS", frozenset({"other"})
    )
    assert_same(tokenizer, ["hello", "world", "don't"])
    assert all(not words for words in calls)  # nothing was joined


def test_failed_cut_falls_back_to_one_by_one(monkeypatch):
    tokenizer = load_tokenizer("llama3")
    monkeypatch.setattr(tokenizer, "_encode_joined", lambda words: None)
    assert_same(tokenizer, ["hello", "world", "3.14", "Straße"])


def test_blank_first_token_is_dropped_in_joined_words():
    tokenizer = load_tokenizer("cl100k_base")
    flat, lengths = tokenizer.encode_words_numpy(["123", "hello"])
    # " 123" is " " + "123" in cl100k: the lone space is not charged to the number.
    assert lengths.tolist() == [1, 1]
    assert tokenizer.decode(flat[:1].tolist()) == "123"


def test_a_word_with_a_space_is_still_encoded_alone():
    assert_same(load_tokenizer("o200k_base"), ["hello", "a b", "world"])
