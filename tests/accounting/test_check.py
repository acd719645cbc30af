"""billing check: canonical count vs claim (Velasco et al. 2025)."""

from __future__ import annotations

import pytest

from toksmith.accounting.check import (
    CONSISTENT,
    IMPOSSIBLE,
    NON_CANONICAL,
    NOT_THE_TEXT,
    OVERBILLED,
    check_bill,
    tokenization_bounds,
)  # fmt: skip
from toksmith.tokenizers import Tokenizer, load_tokenizer

TEXT = "Is your LLM overcharging you? Tokenization, transparency and incentives."


@pytest.fixture(scope="module")
def o200k() -> Tokenizer:
    return load_tokenizer("o200k_base")


def test_the_canonical_count_is_consistent(o200k: Tokenizer) -> None:
    canonical = len(o200k.encode(TEXT))
    assert check_bill(o200k, TEXT, claimed_tokens=canonical).verdict == CONSISTENT
    assert check_bill(o200k, TEXT, claimed_tokens=canonical + 5).verdict == OVERBILLED


def test_claims_outside_all_tokenizations_are_impossible(o200k: Tokenizer) -> None:
    bounds = tokenization_bounds(o200k, TEXT.encode())
    assert bounds is not None
    shortest, longest = bounds
    assert longest == len(TEXT.encode())  # byte-level BPE: every byte is a token
    assert shortest <= len(o200k.encode(TEXT))
    assert check_bill(o200k, TEXT, claimed_tokens=longest + 1).verdict == IMPOSSIBLE
    assert check_bill(o200k, TEXT, claimed_tokens=shortest - 1).verdict == IMPOSSIBLE
    assert check_bill(o200k, TEXT, claimed_tokens=longest).verdict == OVERBILLED


def test_a_non_canonical_sequence_is_flagged_with_its_extra_tokens(o200k: Tokenizer) -> None:
    canonical = o200k.encode(TEXT)
    # Split the first word into single bytes: same text, more tokens.
    first = o200k.token_bytes(canonical[0])
    split = [o200k.encode_bytes(bytes([b]))[0] for b in first] + canonical[1:]
    result = check_bill(o200k, TEXT, claimed_ids=split)
    assert result.verdict == NON_CANONICAL and result.claimed_ids_decode_to_text
    assert result.extra_tokens == len(first) - 1
    assert check_bill(o200k, TEXT, claimed_ids=canonical).verdict == CONSISTENT
    assert check_bill(o200k, TEXT, claimed_ids=canonical[:-1]).verdict == NOT_THE_TEXT
