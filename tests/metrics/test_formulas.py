"""Each formula against an example worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toksmith.metrics import formulas


def test_bytes_and_chars_per_token():
    assert formulas.bytes_per_token(10, 4) == 2.5
    assert formulas.chars_per_token(6, 4) == 1.5
    assert math.isnan(formulas.bytes_per_token(10, 0))


def test_fertility_is_tokens_per_word():
    assert formulas.fertility(15, 10) == 1.5


def test_continued_word_ratio_counts_occurrences_of_split_words():
    # "the" ×3 in 1 token, "tokenizer" ×1 in 2, "unbelievable" ×1 in 3 → 2 of 5 split
    assert formulas.continued_word_ratio([(1, 3), (2, 1), (3, 1)]) == pytest.approx(0.4)


def test_premium_is_one_for_the_reference_language():
    assert formulas.premium(120, 120) == 1.0
    assert formulas.premium(180, 120) == 1.5


def test_vocab_utilization_is_share_of_ids_used():
    assert formulas.vocab_utilization(np.array([0, 2, 0, 1]), 4) == 0.5


def test_renyi_efficiency_of_two_equal_tokens_in_four_is_one_half():
    # p = (1/2, 1/2): H_2.5 = log(2 · 2^-2.5) / (1 - 2.5) = log 2; log 2 / log 4 = 1/2
    assert formulas.renyi_efficiency(np.array([5, 5, 0, 0]), 4) == pytest.approx(0.5)


def test_renyi_efficiency_of_uniform_use_of_the_whole_vocab_is_one():
    assert formulas.renyi_efficiency(np.array([3, 3, 3, 3]), 4) == pytest.approx(1.0)


def test_renyi_efficiency_penalises_skew():
    # p = (0.9, 0.1): H_2.5 = log(0.9^2.5 + 0.1^2.5) / -1.5
    expected = math.log(0.9**2.5 + 0.1**2.5) / -1.5 / math.log(2)
    assert formulas.renyi_efficiency(np.array([9, 1]), 2) == pytest.approx(expected)
    assert expected < 1


def test_partial_char_tokens_are_those_not_decoding_as_utf8():
    vocab = [b"a", b"\xc3", b"\xa9", "é".encode(), b""]
    mask = formulas.partial_char_mask(vocab)
    assert mask.tolist() == [False, True, True, False, False]
    assert formulas.partial_char_token_ratio(np.array([2, 1, 1, 0, 0]), mask) == 0.5
