from __future__ import annotations

import numpy as np
import pytest

from toksmith.audit.vocab import audit_vocab, flagged_tokens
from toksmith.tokenizers import load_tokenizer


def test_planted_tokenizer_fires_each_indicator_on_its_planted_token(planted, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ab ab xyz\n", encoding="utf-8")
    audit = audit_vocab(planted, corpus=str(corpus))
    flagged = {name: set(np.flatnonzero(mask).tolist()) for name, mask in audit.flags.items()}
    # "AB" and the single uppercase letters (the normalizer lowercases them away), and the
    # second "ab", which encoding always resolves to the first
    assert flagged["unreachable"] == {257, 263, *range(ord("A"), ord("Z") + 1)}
    assert flagged["partial_utf8"] >= {258} and 257 not in flagged["partial_utf8"]
    assert 259 in flagged["invalid_utf8"] and {0xC0, 0xC1, 0xFF} <= flagged["invalid_utf8"]
    assert flagged["unused_special"] == {261}
    assert flagged["empty_id"] == {262}
    assert flagged["duplicate"] == {256, 263}
    assert audit.duplicate_of[263] == 256
    assert 264 in flagged["never_produced"] and 256 not in flagged["never_produced"]
    assert 260 not in flagged["never_produced"]  # specials are left out


def test_flagged_json_entries_carry_hex_printable_and_indicators(planted):
    audit = audit_vocab(planted)
    entries = {token.id: token.to_dict() for token in flagged_tokens(planted, audit)}
    assert entries[258]["bytes_hex"] == "e4bd"
    assert entries[258]["printable"] == "\\xe4\\xbd"
    assert entries[258]["indicators"] == ["partial_utf8"]
    assert entries[261]["printable"] == "<|reserved_special_token_0|>"
    assert entries[263]["duplicate_of"] == 256
    assert 256 in entries and 264 not in entries


@pytest.fixture(scope="module")
def o200k_audit():
    tokenizer = load_tokenizer("o200k_base")
    return tokenizer, audit_vocab(tokenizer)


def test_o200k_has_unreachable_tokens_that_its_split_pattern_breaks(o200k_audit):
    tokenizer, audit = o200k_audit
    assert tokenizer.token_bytes(3413) == b" I'"
    assert audit.flags["unreachable"][3413]
    assert tokenizer.encode(" I'") != [3413]  # the reason: the pattern splits "'" off
    assert 5 <= audit.counts()["unreachable"] <= 40


def test_o200k_single_bytes_that_never_occur_in_utf8_are_flagged(o200k_audit):
    tokenizer, audit = o200k_audit
    invalid = np.flatnonzero(audit.flags["invalid_utf8"]).tolist()
    assert len(invalid) == 13  # 0xC0, 0xC1 and 0xF5..0xFF
    assert sorted(tokenizer.token_bytes(i) for i in invalid) == sorted(
        bytes([b]) for b in [0xC0, 0xC1, *range(0xF5, 0x100)]
    )
    assert audit.counts()["partial_utf8"] > 1000


def test_o200k_ids_between_its_special_tokens_are_empty(o200k_audit):
    _, audit = o200k_audit
    empty = np.flatnonzero(audit.flags["empty_id"]).tolist()
    assert empty == [199998, *range(200000, 200018)]


def test_llama3_reserved_special_tokens_are_unused_and_nothing_is_unreachable():
    tokenizer = load_tokenizer("llama3")
    audit = audit_vocab(tokenizer)
    assert audit.counts()["unused_special"] == 246
    assert audit.flags["unused_special"][128002]  # <|reserved_special_token_0|>
    assert not audit.flags["unused_special"][128000]  # <|begin_of_text|> is used
    assert audit.counts()["unreachable"] == 0


def test_mistral_sentencepiece_byte_pieces_duplicate_ascii_pieces_and_are_unreachable():
    tokenizer = load_tokenizer("mistral-sp-v1")
    audit = audit_vocab(tokenizer)
    byte_a = tokenizer.processor.piece_to_id("<0x41>")
    piece_a = tokenizer.processor.piece_to_id("A")
    assert audit.duplicate_of[byte_a] == piece_a
    assert audit.flags["unreachable"][byte_a] and not audit.flags["unreachable"][piece_a]
    # word-internal pieces such as "ing" are reachable after an anchor, so are not flagged
    assert not audit.flags["unreachable"][tokenizer.processor.piece_to_id("ing")]


def test_minilm_unused_slots_and_isolated_continuations_are_unreachable():
    tokenizer = load_tokenizer("minilm")
    audit = audit_vocab(tokenizer)
    vocab = tokenizer.hf.get_vocab()
    assert audit.counts()["unused_special"] == 994
    assert audit.flags["unreachable"][vocab["[unused0]"]]
    assert audit.flags["unreachable"][vocab["##中"]]  # BERT splits every CJK character off
    assert not audit.flags["unreachable"][vocab["##ing"]]


def test_mistral_v3_control_placeholders_are_unused_specials():
    tokenizer = load_tokenizer("mistral-sp-v3")
    audit = audit_vocab(tokenizer)
    control_19 = tokenizer.processor.piece_to_id("[control_19]")
    assert audit.flags["unused_special"][control_19]
    assert not audit.flags["unused_special"][tokenizer.processor.piece_to_id("[INST]")]
    assert audit.counts()["unused_special"] == 737
