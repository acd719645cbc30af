"""Releasing a tokenizer's vocabulary: memory back, the same ids after it, copies included."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from toksmith.tokenizers import Tokenizer, load_tokenizer
from toksmith.tokenizers.whitespace import WhitespaceTokenizer

TEXTS = ["Hello wörld, 123!", "Ünïcödé 中文 text", "  spaces\tand\r\nbreaks  ", "x" * 30_000]


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TOKSMITH_CACHE_DIR", str(folder))
    return folder


@pytest.mark.parametrize(
    ("name", "attribute"),
    [("o200k_base", "encoding"), ("llama3", "encoding"), ("mistral-tekken", "encoding"),
     ("minilm", "hf"), ("mistral-sp-v1", "processor")],
)  # fmt: skip
def test_a_released_tokenizer_gives_the_same_ids_and_is_rebuilt_once(
    name: str, attribute: str
) -> None:
    tokenizer = copy.copy(load_tokenizer(name, engine="vendor"))
    twin = copy.copy(tokenizer)  # shares the vendor objects: released with it
    expected = tokenizer.encode_batch(TEXTS)
    vocab_size, token_bytes = tokenizer.vocab_size, tokenizer.token_bytes(300)
    assert tokenizer.release()
    for member in (tokenizer, twin):
        assert attribute not in member.__dict__ and "vocab_bytes" not in member.__dict__
    assert tokenizer.vocab_size == vocab_size  # read without rebuilding
    family = tokenizer.__dict__["_family"]
    reloads = family.reloads
    assert tokenizer.encode_batch(TEXTS) == expected
    assert twin.encode_batch(TEXTS) == expected and twin.token_bytes(300) == token_bytes
    assert family.reloads == reloads + 1  # one rebuild serves every copy


def test_release_frees_the_fast_engine_and_it_starts_again_with_the_same_ids(
    building_o200k: Tokenizer,
    check_ids_across_the_build: Callable[..., None],
) -> None:
    tokenizer = building_o200k
    expected = tokenizer.vendor_batch_numpy(TEXTS)
    assert tokenizer.fast_engine.start() is not None
    assert tokenizer.release()
    assert not tokenizer.fast_engine.started and "encoding" not in tokenizer.__dict__
    check_ids_across_the_build(tokenizer, TEXTS, expected)  # the engine builds again


def test_a_fast_engine_that_raises_after_a_release_falls_back_to_the_rebuilt_vendor(
    with_raising_engine: Callable[[Tokenizer], Tokenizer],
) -> None:
    vendor = load_tokenizer("o200k_base", engine="vendor")
    tokenizer = copy.copy(load_tokenizer("o200k_base"))
    assert tokenizer.release()
    with_raising_engine(tokenizer)
    assert tokenizer.encode_batch(TEXTS) == vendor.encode_batch(TEXTS)
    assert tokenizer.fast_fallbacks == 1  # counted, and the vendor was rebuilt to answer it


def test_a_tokenizer_the_loader_did_not_make_cannot_be_released() -> None:
    baseline = WhitespaceTokenizer()
    assert not baseline.releasable and not baseline.release()
    assert not load_tokenizer("ws:").release()  # it holds no vendor objects
