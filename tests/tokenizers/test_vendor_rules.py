"""Each built-in encodes exactly as its vendor's tokenizer class, including the rules by which
the class cuts a text before encoding (Meta's Llama 3/4: pieces of at most 400,000 characters,
then no run of more than 25,000 whitespace or non-whitespace characters)."""

from __future__ import annotations

import pytest

from toksmith.tokenizers import load_tokenizer
from toksmith.tokenizers.registry import BUILTIN_BY_NAME
from toksmith.tokenizers.tiktoken_ranks import split_long_runs

LONG_TEXTS = {
    "whitespace run": " " * 30_000,
    "newline run": "x" + "\n" * 30_000 + "y",
    "letter run": "a" * 30_000,
    "letter run after words": "some words " + "b" * 30_000 + " and more",
    "accented run": "é" * 60_000,
    "over 400,000 characters": "word " * 90_000,
}


def _meta_tokenizer(name: str):
    if name == "llama3":
        from llama_models.llama3.tokenizer import Tokenizer
    else:
        from llama_models.llama4.tokenizer import Tokenizer
    return Tokenizer(BUILTIN_BY_NAME[name].path())


@pytest.fixture(scope="module", params=["llama3", "llama4"])
def llama(request):
    return request.param, _meta_tokenizer(request.param), load_tokenizer(request.param)


@pytest.mark.parametrize("label", list(LONG_TEXTS))
def test_llama_counts_equal_meta_tokenizer_on_long_runs(llama, label: str) -> None:
    name, meta, tokenizer = llama
    text = LONG_TEXTS[label]
    expected = meta.encode(text, bos=False, eos=False)
    assert tokenizer.encode(text) == expected, (name, label)
    assert tokenizer.encode_batch([text, "short"])[0] == expected
    flat, lengths = tokenizer.encode_batch_numpy(["short", text])
    assert flat[lengths[0] :].tolist() == expected


def test_the_long_run_texts_would_differ_without_the_rule(llama) -> None:
    _, meta, tokenizer = llama
    differing = [
        label
        for label, text in LONG_TEXTS.items()
        if tokenizer.encoding.encode_ordinary(text) != meta.encode(text, bos=False, eos=False)
    ]
    assert "whitespace run" in differing and "letter run after words" in differing


def test_llama_words_longer_than_the_run_limit_are_cut_as_meta_cuts_them(llama) -> None:
    _, meta, tokenizer = llama
    words = ["short", "c" * 26_000, "word"]
    flat, lengths = tokenizer.encode_words_numpy(words)
    expected = meta.encode(" " + "c" * 26_000, bos=False, eos=False)
    assert flat[lengths[0] : lengths[0] + lengths[1]].tolist() == expected


def test_split_long_runs_is_metas_split() -> None:
    from llama_models.llama3.tokenizer import Tokenizer

    for text in ["", "a", "ab  cd", "a" * 12 + "  " + " " * 9 + "b" * 3, "x\n" * 7 + "y" * 11]:
        assert split_long_runs(text, 5) == list(
            Tokenizer._split_whitespaces_or_nonwhitespaces(text, 5)
        )


@pytest.mark.parametrize("name", ["mistral-tekken", "mistral-tekken-240718"])
def test_tekken_cuts_nothing_as_mistral_commons_tekkenizer_cuts_nothing(name: str) -> None:
    # Tekkenizer.encode is ``Encoding.encode(s)`` on the ranks, shifted by the special tokens
    # (mistral-common itself cannot be imported here: it is installed without its deps).
    tokenizer = load_tokenizer(name)
    offset = len(tokenizer.special_ids)
    for text in LONG_TEXTS.values():
        expected = [rank + offset for rank in tokenizer.encoding.encode(text)]
        assert tokenizer.encode(text) == expected


@pytest.mark.parametrize("name", ["mistral-sp-v1", "mistral-sp-v3"])
def test_sentencepiece_cuts_nothing_as_mistral_common_cuts_nothing(name: str) -> None:
    # mistral-common's SentencePieceTokenizer.encode is ``processor.encode(s)``.
    tokenizer = load_tokenizer(name)
    for label in ("whitespace run", "letter run after words", "accented run"):
        text = LONG_TEXTS[label]
        assert tokenizer.encode(text) == tokenizer.processor.encode(text)
