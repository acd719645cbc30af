"""The special-token policy: special-token strings in a text are text ("text", the default)
or the special tokens ("allow"), on every backend, matching each vendor library."""

from __future__ import annotations

import pytest
import tiktoken
from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models, pre_tokenizers, trainers

from toksmith.errors import UserError
from toksmith.tokenizers import builtin_names, load_tokenizer, load_tokenizers
from toksmith.tokenizers.registry import BUILTIN_BY_NAME

# One special-token string per built-in: <|endoftext|>-style, [CLS]-style and <s>-style.
SPECIAL_OF = {
    "o200k_base": "<|endoftext|>",
    "cl100k_base": "<|endoftext|>",
    "p50k_base": "<|endoftext|>",
    "llama3": "<|begin_of_text|>",
    "llama4": "<|begin_of_text|>",
    "mistral-tekken": "[INST]",
    "mistral-tekken-240718": "</s>",
    "mistral-sp-v1": "<s>",
    "mistral-sp-v3": "[INST]",
    "claude-legacy": "<EOT>",
    "deepseek": "<｜end▁of▁sentence｜>",
    "minilm": "[CLS]",
    "o200k_harmony": "<|start|>",
    "mistral-sp-v2": "[INST]",
    "mistral-sp-v7": "[SYSTEM_PROMPT]",
    "qwen3": "<|im_start|>",
    "qwen3.6": "<|im_start|>",
    "deepseek-v4": "<｜end▁of▁sentence｜>",
}


def test_every_builtin_has_a_special_string_under_test() -> None:
    assert set(SPECIAL_OF) == set(builtin_names())


@pytest.mark.parametrize("name", builtin_names())
def test_special_strings_are_text_by_default_and_special_tokens_when_allowed(name: str) -> None:
    special = SPECIAL_OF[name]
    text = f"Hi {special} there"
    plain = load_tokenizer(name)
    allowing = load_tokenizer(name, special="allow")
    special_id = allowing.special_strings()[special]
    assert plain.special_policy == "text" and allowing.special_policy == "allow"
    assert special_id not in plain.encode(text)
    assert special_id in allowing.encode(text)
    assert special_id in allowing.encode_batch([text] * 300)[-1]
    flat, lengths = allowing.encode_batch_numpy([text, "x"])
    assert special_id in flat[: lengths[0]].tolist()
    assert plain.encode("plain words") == allowing.encode("plain words")


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base", "p50k_base"])
def test_allow_matches_tiktoken_allowed_special_all(name: str) -> None:
    encoding = tiktoken.Encoding(**_openai_params(name))
    text = "a<|endoftext|>b <|endoftext|>"
    assert load_tokenizer(name, "allow").encode(text) == encoding.encode(
        text, allowed_special="all"
    )
    assert load_tokenizer(name).encode(text) == encoding.encode(text, disallowed_special=())


@pytest.mark.parametrize("name", ["llama3", "llama4"])
def test_allow_matches_meta_tokenizer_with_allowed_special_all(name: str) -> None:
    meta = _meta_tokenizer(name)
    text = "<|begin_of_text|>Hello<|eot_id|> x" if name == "llama3" else "<|begin_of_text|>Hi"
    expected = meta.encode(text, bos=False, eos=False, allowed_special="all")
    assert load_tokenizer(name, "allow").encode(text) == expected
    assert load_tokenizer(name).encode(text) == meta.encode(text, bos=False, eos=False)


@pytest.mark.parametrize("name", ["claude-legacy", "deepseek", "minilm"])
def test_allow_matches_hf_tokenizers_default(name: str) -> None:
    hf = HFTokenizer.from_file(str(BUILTIN_BY_NAME[name].path()))
    hf.no_padding()  # minilm's file pads to 128
    hf.no_truncation()
    text = f"one {SPECIAL_OF[name]} two"
    assert (
        load_tokenizer(name, "allow").encode(text) == hf.encode(text, add_special_tokens=False).ids
    )


def test_trained_tokenizer_with_allow_encodes_as_hf_does(tmp_path) -> None:
    tokenizer = HFTokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(["hello world, hello tokens"] * 50, trainer)
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    text = "hello<|endoftext|>world"
    hf_ids = HFTokenizer.from_file(str(path)).encode(text, add_special_tokens=False).ids
    assert load_tokenizer(str(path), "allow").encode(text) == hf_ids
    assert load_tokenizer(str(path)).encode(text) != hf_ids


def test_tekken_allow_gives_the_special_ids_between_ordinary_text() -> None:
    tokenizer = load_tokenizer("mistral-tekken", "allow")
    specials = tokenizer.special_strings()
    ids = tokenizer.encode("[INST]hi[/INST]")
    assert ids[0] == specials["[INST]"] and ids[-1] == specials["[/INST]"]
    assert ids[1:-1] == load_tokenizer("mistral-tekken").encode("hi")


def test_sentencepiece_allow_encodes_each_text_piece_on_its_own() -> None:
    tokenizer = load_tokenizer("mistral-sp-v1", "allow")
    plain = load_tokenizer("mistral-sp-v1")
    assert tokenizer.encode("a<s>b") == plain.encode("a") + [1] + plain.encode("b")


def test_policies_are_cached_apart() -> None:
    assert load_tokenizer("cl100k_base", "allow") is load_tokenizer("cl100k_base", "allow")
    assert load_tokenizer("cl100k_base", "allow") is not load_tokenizer("cl100k_base")
    assert [t.special_policy for t in load_tokenizers(["p50k_base"], special="allow")] == ["allow"]


def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(UserError, match="special-token policy 'all' is not one of text, allow"):
        load_tokenizer("cl100k_base", special="all")


def _openai_params(name: str) -> dict:
    import os

    from tiktoken_ext import openai_public

    path = BUILTIN_BY_NAME[name].path()
    previous = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path.parent)
    try:
        return openai_public.ENCODING_CONSTRUCTORS[name]()
    finally:
        if previous is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = previous


def _meta_tokenizer(name: str):
    if name == "llama3":
        from llama_models.llama3.tokenizer import Tokenizer
    else:
        from llama_models.llama4.tokenizer import Tokenizer
    return Tokenizer(BUILTIN_BY_NAME[name].path())


@pytest.mark.parametrize(("policy", "tokens"), [("text", 7), ("allow", 1)])
def test_count_cli_follows_the_special_option(policy: str, tokens: int, capsys) -> None:
    import json

    from toksmith.cli import main

    argv = ["count", "<|endoftext|>", "-t", "cl100k_base", "--special", policy, "--format", "json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["tokens"] == tokens
