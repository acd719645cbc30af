"""The public members features read, on every backend (no backend internals outside tokenizers)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import regex

from toksmith.errors import UserError
from toksmith.tokenizers import Pipeline, Tokenizer, builtin_names, load_tokenizer

EVERY_BUILTIN = builtin_names()


@pytest.mark.parametrize("name", EVERY_BUILTIN)
def test_every_builtin_provides_every_member(name: str) -> None:
    tokenizer = load_tokenizer(name)
    assert isinstance(tokenizer.unknown_ids, frozenset)
    assert isinstance(tokenizer.byte_fallback_ids, frozenset)
    assert isinstance(tokenizer.unused_ids, frozenset)
    assert tokenizer.pattern is None or regex.compile(tokenizer.pattern)
    assert tokenizer.byte_encoding in ("gpt2", "raw", None)
    assert tokenizer.continuation_prefix in ("##", None)
    assert isinstance(tokenizer.special_strings(), dict)
    for token_id in list(tokenizer.special_ids)[:5]:
        assert tokenizer.token_label(token_id)


@pytest.mark.parametrize("name", ["o200k_base", "llama3", "mistral-tekken"])
def test_rank_files_are_raw_bytes_with_their_tiktoken_pattern(name: str) -> None:
    tokenizer = load_tokenizer(name)
    assert tokenizer.byte_encoding == "raw"
    assert tokenizer.pattern == tokenizer.encoding._pat_str
    assert tokenizer.normalizer_spec() is None
    assert tokenizer.pre_tokenizer_spec() == {
        "type": "Split",
        "pattern": {"Regex": tokenizer.pattern},
        "behavior": "Isolated",
        "invert": False,
    }
    text = "Hello  world!\n\n  x 12345"
    assert b"".join(tokenizer.pre_tokens(text)) == text.encode()


def test_rank_file_encode_bytes_takes_a_cut_character() -> None:
    tokenizer = load_tokenizer("mistral-tekken")
    data = "né".encode()[:-1]
    ids = tokenizer.encode_bytes(data)
    assert b"".join(tokenizer.token_bytes(i) for i in ids) == data
    assert min(ids) >= 1000  # Tekken ids are ranks shifted past its special tokens


def test_rank_file_merges_rebuild_every_multi_byte_token_from_lower_ranks() -> None:
    tokenizer = load_tokenizer("p50k_base")
    ranks = tokenizer.encoding._mergeable_ranks
    merges = tokenizer.merges()
    assert len(merges) == sum(1 for token in ranks if len(token) > 1)
    for left, right in merges[:2000]:
        assert ranks[left] < ranks[left + right] and ranks[right] < ranks[left + right]


def test_hf_byte_level_bpe_merges_and_labels_follow_tokenizer_json() -> None:
    tokenizer = load_tokenizer("deepseek")
    assert tokenizer.byte_encoding == "gpt2"
    raw = tokenizer.config["model"]["merges"][0]
    left, right = raw.split(" ") if isinstance(raw, str) else raw
    first = tokenizer.merges()[0]
    assert first == (tokenizer._piece_bytes(left), tokenizer._piece_bytes(right))
    space_a = tokenizer.encode(" a")[0]
    assert tokenizer.token_label(space_a) == "Ġa"
    assert tokenizer.pre_tokenizer_spec() == tokenizer.config["pre_tokenizer"]
    assert tokenizer.pattern is not None


def test_wordpiece_has_its_continuation_prefix_and_unknown_token() -> None:
    tokenizer = load_tokenizer("minilm")
    assert tokenizer.continuation_prefix == "##"
    assert tokenizer.byte_encoding is None
    assert tokenizer.unknown_ids == frozenset({tokenizer.hf.token_to_id("[UNK]")})
    assert tokenizer.token_label(tokenizer.encode("tokenization")[-1]).startswith("##")
    with pytest.raises(UserError, match="WordPiece model, which has no merge list"):
        tokenizer.merges()


def test_sentencepiece_reports_unknown_byte_fallback_and_unused_pieces() -> None:
    tokenizer = load_tokenizer("mistral-sp-v1")
    processor = tokenizer.processor
    assert tokenizer.unknown_ids == frozenset({processor.unk_id()})
    assert tokenizer.byte_fallback_ids == frozenset(
        i for i in range(tokenizer.vocab_size) if processor.is_byte(i)
    )
    assert len(tokenizer.byte_fallback_ids) == 256
    assert tokenizer.token_label(processor.piece_to_id("<0x41>")) == "<0x41>"
    assert tokenizer.pattern is None and tokenizer.byte_encoding is None
    with pytest.raises(UserError, match="no ordered merge list"):
        tokenizer.merges()


def test_byte_fallback_and_unknown_tokens_are_what_a_foreign_script_becomes() -> None:
    tokenizer = load_tokenizer("mistral-sp-v1")
    ids = tokenizer.encode("\U00011000\U00011001")  # Brahmi: no pieces, so byte fallback
    assert ids and set(ids[1:]) <= tokenizer.byte_fallback_ids
    minilm = load_tokenizer("minilm")
    assert set(minilm.encode("\U00011000")) <= minilm.unknown_ids


class _Minimal(Tokenizer):
    """A backend that implements only the abstract members."""

    name = "minimal"
    backend = "test"
    source = "tests"

    @property
    def vocab_size(self) -> int:
        return 1

    @property
    def special_ids(self) -> frozenset[int]:
        return frozenset()

    def encode(self, text: str) -> list[int]:
        return [0] * len(text)

    def decode(self, ids: Sequence[int]) -> str:
        return "a" * len(ids)

    def token_bytes(self, token_id: int) -> bytes:
        return b"a"

    def pipeline(self) -> Pipeline:
        return Pipeline("none", "none", "none", "none")


@pytest.mark.parametrize(
    "member",
    ["unknown_ids", "byte_fallback_ids", "pattern", "continuation_prefix", "byte_encoding"],
)
def test_a_backend_without_a_member_fails_loudly_naming_the_tokenizer(member: str) -> None:
    with pytest.raises(UserError, match="tokenizer 'minimal' .* does not provide"):
        getattr(_Minimal(), member)


def test_a_backend_without_merges_or_labels_fails_loudly() -> None:
    with pytest.raises(UserError, match="does not provide a BPE merge list"):
        _Minimal().merges()
    with pytest.raises(UserError, match="does not provide token labels"):
        _Minimal().token_label(0)
