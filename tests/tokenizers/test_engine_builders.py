"""How rank tables fastokens refuses reach it: gaps filled, hand-added tokens as merges."""

from __future__ import annotations

from pathlib import Path

import pytest

from toksmith.tokenizers import load_tokenizer
from toksmith.tokenizers.fast import _filled_ranks, merges_json, rank_engine

BYTES = {bytes([i]): i for i in range(256)}


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TOKSMITH_CACHE_DIR", str(folder))
    return folder


def test_gaps_get_fillers_no_utf8_text_holds_and_specials_in_them_are_mapped_back() -> None:
    ranks = {**BYTES, b"ab": 257, b"abc": 259}  # 256 and 258 are gaps
    table, specials, id_map = _filled_ranks(ranks, {"<|end|>": 256, "<|other|>": 300})
    assert sorted(table.values()) == list(range(260))
    fillers = [token for token in table if token not in ranks]
    assert len(fillers) == 2 and all(token[0] == 0xFF and len(token) == 2 for token in fillers)
    for filler in fillers:  # 0xff is never a byte of UTF-8
        with pytest.raises(UnicodeDecodeError):
            filler.decode("utf-8")
    assert specials == {"<|end|>": 301, "<|other|>": 300} and id_map == {301: 256}


def test_contiguous_ranks_are_left_as_they_are() -> None:
    ranks = {**BYTES, b"ab": 256}
    table, specials, id_map = _filled_ranks(ranks, {"<|end|>": 257})
    assert table is ranks and specials == {"<|end|>": 257} and id_map == {}


def test_p50k_gives_its_special_id_through_the_fast_engine_under_allow() -> None:
    tokenizer = load_tokenizer("p50k_base", "allow", engine="vendor")
    engine = tokenizer.build_fast_engine()
    text = "Hello<|endoftext|> world"
    assert engine.encode(text) == tokenizer.encode(text)
    assert 50256 in engine.encode(text)
    plain = load_tokenizer("p50k_base", engine="vendor")
    assert plain.build_fast_engine().encode(text) == plain.encode(text)  # as plain text


def test_a_hand_added_token_goes_through_the_merges_reader_with_the_vendor_ids(
    tmp_path: Path,
) -> None:
    """``xyz`` cannot be built from two parts by BPE on lower ranks (xy and yz rank above
    it), which fastokens' rank reader refuses; tiktoken still gives it for the piece xyz."""
    import tiktoken

    ranks = {**BYTES, b"xyz": 256, b"xy": 257, b"yz": 258, b" x": 259}
    pattern = r" ?\w+| ?[^\w\s]+|\s+"
    encoding = tiktoken.Encoding(
        name="hand", pat_str=pattern, mergeable_ranks=ranks, special_tokens={"<|e|>": 260}
    )
    engine = rank_engine(ranks, pattern=pattern, special_tokens={"<|e|>": 260}, special="text")
    assert engine is not None
    texts = ["xyz", "xy yz xyzxyz", " xyz x", "zyx<|e|>xyz", "éxyz 中"]
    for text in texts:
        assert engine.encode(text) == encoding.encode_ordinary(text), text
    assert engine.encode("xyz") == [256]


def test_the_merges_json_is_cached_and_a_corrupt_entry_is_rebuilt(private_cache: Path) -> None:
    ranks = {**BYTES, b"ab": 256, b"abc": 257}
    first = merges_json(ranks, r"\w+", {})
    entries = [path for path in private_cache.rglob("*") if path.is_file()]
    assert len(entries) == 1
    assert merges_json(ranks, r"\w+", {}) == first  # read from the entry
    entries[0].write_bytes(entries[0].read_bytes()[:-10] + b"corrupted!")
    assert merges_json(ranks, r"\w+", {}) == first  # the check failed: built again
    assert '"a b"' in first and '"ab c"' in first  # merges as "left right


def test_a_table_that_needed_the_merges_reader_goes_straight_to_it_next_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fastokens

    from toksmith.tokenizers import fast

    ranks = {**BYTES, b"xyz": 256, b"xy": 257, b"yz": 258}
    first = rank_engine(ranks, pattern=r"\w+|\W+", special_tokens={}, special="text")
    assert first is not None

    class RankReaderRefused:
        @staticmethod
        def from_tiktoken(*args: object, **kwargs: object) -> None:
            raise AssertionError("the cached merges JSON should have been used")

        from_json_str = staticmethod(fastokens.Tokenizer.from_json_str)

    monkeypatch.setattr(fast, "_native_class", lambda: RankReaderRefused)
    again = rank_engine(ranks, pattern=r"\w+|\W+", special_tokens={}, special="text")
    assert again is not None and again.encode("xyzxy") == first.encode("xyzxy") == [256, 257]
