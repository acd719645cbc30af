from __future__ import annotations

import pytest

from toksmith.audit.numbers import audit_numbers, classify_chunks
from toksmith.tokenizers import load_tokenizer


@pytest.mark.parametrize(
    ("chunks", "scheme"),
    [
        ([5], "single_token"),
        ([1, 1, 1, 1], "single_digits"),
        ([3, 3, 1], "left_to_right"),
        ([3, 3], "left_to_right"),
        ([1, 3, 3], "right_to_left"),
        ([2, 4, 1], "irregular"),
        ([3, 0], "irregular"),
    ],
)
def test_chunk_lengths_are_classified_by_the_grouping_that_explains_them(chunks, scheme):
    assert classify_chunks(chunks) == scheme


def test_gpt4_groups_digits_by_three_from_the_left():
    audit = audit_numbers(load_tokenizer("cl100k_base"), samples=50)
    assert (audit.scheme, audit.group_size) == ("left_to_right", 3)
    assert audit.rows[6].example.count("|") == 2  # 7 digits: 3 + 3 + 1
    assert [len(p) for p in audit.rows[6].example.split("|")] == [3, 3, 1]


def test_mistral_tekken_splits_every_digit():
    audit = audit_numbers(load_tokenizer("mistral-tekken"), samples=50)
    assert audit.scheme == "single_digits"
    assert audit.rows[11].mean_tokens == 12


def test_gpt3_p50k_number_tokens_are_irregular():
    audit = audit_numbers(load_tokenizer("p50k_base"), samples=50)
    assert audit.scheme == "irregular"
    assert audit.rows[9].schemes["irregular"] > 0
