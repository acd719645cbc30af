"""Chat counts per family, against hand-written renderings and the vendors' own code."""

from __future__ import annotations

import json

import pytest

from toksmith.chat import (
    Conversation,
    Message,
    chat_format_for,
    count_messages,
    parse_conversations,
)
from toksmith.chat.formats import LlamaFormat, MistralFormat, OpenAIFormat
from toksmith.errors import UserError
from toksmith.tokenizers import load_tokenizer

SYSTEM = "You are a helpful assistant."
USER = "Hello, how are you?"


def conversation(*messages: tuple[str, str]) -> Conversation:
    return Conversation(
        tuple(Message(role, content) for role, content in messages), source="test.json", line=1,
        index=1,
    )  # fmt: skip


TWO = conversation(("system", SYSTEM), ("user", USER))

# The cookbook's example (openai-cookbook, How_to_count_tokens_with_tiktoken.ipynb, section 6)
# and the prompt_tokens the OpenAI API returned for it, as published there.
COOKBOOK_MESSAGES = [
    {"role": "system", "content": "You are a helpful, pattern-following assistant that "
     "translates corporate jargon into plain English."},
    {"role": "system", "name": "example_user",
     "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant",
     "content": "Things working well together will increase revenue."},
    {"role": "system", "name": "example_user", "content": "Let's circle back when we have more "
     "bandwidth to touch base on opportunities for increased leverage."},
    {"role": "system", "name": "example_assistant",
     "content": "Let's talk later when we're less busy about how to do better."},
    {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for "
     "the client deliverable."},
]  # fmt: skip
COOKBOOK_API_COUNTS = {"o200k_base": 124, "cl100k_base": 129}  # gpt-4o(-mini); gpt-4, gpt-3.5


# ---- OpenAI ----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_openai_count_matches_the_cookbooks_published_api_count(encoding: str) -> None:
    tokenizer = load_tokenizer(encoding)
    [chat] = parse_conversations(json.dumps(COOKBOOK_MESSAGES), "cookbook.json", jsonl=False)
    chat_format = chat_format_for(tokenizer)
    assert isinstance(chat_format, OpenAIFormat)
    assert chat_format.total_tokens(chat) == COOKBOOK_API_COUNTS[encoding]


def test_openai_overhead_is_three_per_message_plus_roles_plus_three() -> None:
    tokenizer = load_tokenizer("o200k_base")
    result = count_messages([tokenizer], [TWO])
    [row] = result.results
    content = len(tokenizer.encode(SYSTEM)) + len(tokenizer.encode(USER))
    roles = len(tokenizer.encode("system")) + len(tokenizer.encode("user"))
    assert roles == 2  # each role is one token, as the cookbook's comments say
    assert row.content_tokens == content
    assert row.total_tokens == 3 + 3 + content + roles + 3
    assert row.overhead_tokens == row.total_tokens - content == 11


# ---- Llama -----------------------------------------------------------------------------------

LLAMA3_TWO = (
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
    f"{SYSTEM}<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
    f"{USER}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
)
LLAMA4_TWO = (
    "<|begin_of_text|><|header_start|>system<|header_end|>\n\n"
    f"{SYSTEM}<|eot|><|header_start|>user<|header_end|>\n\n"
    f"{USER}<|eot|><|header_start|>assistant<|header_end|>\n\n"
)


@pytest.mark.parametrize(("name", "rendered"), [("llama3", LLAMA3_TWO), ("llama4", LLAMA4_TWO)])
def test_llama_count_is_the_hand_written_dialog_encoded(name: str, rendered: str) -> None:
    chat_format = chat_format_for(load_tokenizer(name))
    assert isinstance(chat_format, LlamaFormat)
    with_specials = load_tokenizer(name, special="allow")
    expected = with_specials.encode(rendered)
    assert chat_format.token_ids(TWO) == expected
    assert expected.count(chat_format.header_start) == 3  # each header is one control token
    row = count_messages([load_tokenizer(name)], [TWO]).results[0]
    assert row.total_tokens == len(expected)
    # begin_of_text, 3 headers of 4 tokens (start, role, end, "\n\n"), 2 end-of-turn tokens
    assert row.overhead_tokens == 1 + 3 * 4 + 2


def test_llama3_ids_are_those_of_metas_own_chat_format() -> None:
    from llama_models.datatypes import RawMessage
    from llama_models.llama3.chat_format import ChatFormat

    chat_format = chat_format_for(load_tokenizer("llama3"))
    assert isinstance(chat_format, LlamaFormat)
    chat = conversation(("system", SYSTEM), ("user", USER), ("assistant", " Fine.\n"),
                        ("user", "<|eot_id|> is text here"))  # fmt: skip
    meta = ChatFormat(chat_format.meta).encode_dialog_prompt(
        [RawMessage(role=m.role, content=m.content) for m in chat.messages]  # type: ignore[arg-type]
    )
    assert chat_format.token_ids(chat) == meta.tokens


def test_a_message_name_is_refused_by_the_llama_format() -> None:
    chat = Conversation((Message("user", "hi", name="bob"),), source="c.json", line=4, index=1)
    with pytest.raises(UserError, match=r"c.json, line 4: Meta's llama3 format has no place"):
        chat_format_for(load_tokenizer("llama3")).total_tokens(chat)


# ---- Mistral ---------------------------------------------------------------------------------


def mistral_tokens(constructor: str, chat: Conversation) -> list[int]:
    """The tokens of mistral-common's own named constructor (``v1()``, ``v3(is_tekken=True)``
    ...) for ``chat``: the instruct version mistral-common itself pairs with each file."""
    from mistral_common.protocol.instruct.messages import SystemMessage, UserMessage
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    versions = {
        "v1": MistralTokenizer.v1,
        "v3": MistralTokenizer.v3,
        "v3-tekken": lambda: MistralTokenizer.v3(is_tekken=True),
        "v3-tekken-mm": lambda: MistralTokenizer.v3(is_tekken=True, is_mm=True),
    }
    tokenizer = versions[constructor]()
    classes = {"system": SystemMessage, "user": UserMessage}
    messages = [classes[m.role](content=m.content) for m in chat.messages]
    return tokenizer.encode_chat_completion(ChatCompletionRequest(messages=messages)).tokens


@pytest.mark.parametrize(
    ("name", "constructor", "version"),
    [
        ("mistral-tekken", "v3-tekken-mm", "v3"),  # tekken_240911.json
        ("mistral-tekken-240718", "v3-tekken", "v3"),
        ("mistral-sp-v1", "v1", "v1"),
        ("mistral-sp-v3", "v3", "v3"),
    ],
)
def test_mistral_count_is_mistral_commons_own(name: str, constructor: str, version: str) -> None:
    tokenizer = load_tokenizer(name)
    chat_format = chat_format_for(tokenizer)
    assert isinstance(chat_format, MistralFormat)
    assert chat_format.version == version
    assert chat_format.total_tokens(TWO) == len(mistral_tokens(constructor, TWO))


@pytest.mark.parametrize("name", ["mistral-tekken", "mistral-sp-v3"])
def test_mistral_v3_is_bos_inst_then_system_and_user_joined_then_end_inst(name: str) -> None:
    # Hand-derived from mistral-common's v3 rule: <s>[INST] system "\n\n" user [/INST], the
    # system prompt joined to the last user message, control tokens as single ids.
    tokenizer = load_tokenizer(name)
    text = len(tokenizer.encode(f"{SYSTEM}\n\n{USER}"))
    assert chat_format_for(tokenizer).total_tokens(TWO) == 3 + text


def test_mistral_v1_writes_inst_as_text_around_the_joined_prompt() -> None:
    tokenizer = load_tokenizer("mistral-sp-v1")
    text = len(tokenizer.encode(f"[INST] {SYSTEM}\n\n{USER} [/INST]"))
    assert chat_format_for(tokenizer).total_tokens(TWO) == 1 + text  # <s> + the text


def test_mistral_refuses_a_conversation_that_ends_with_the_assistant() -> None:
    chat = conversation(("user", "hi"), ("assistant", "hello"))
    with pytest.raises(UserError, match=r"test.json, line 1: mistral-common v3 refuses"):
        chat_format_for(load_tokenizer("mistral-tekken")).total_tokens(chat)


# ---- no known format -------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["ws:", "p50k_base"])
def test_a_tokenizer_without_a_known_format_is_an_error_that_says_so(spec: str) -> None:
    with pytest.raises(UserError, match="has no known chat format"):
        chat_format_for(load_tokenizer(spec))


def test_the_openai_error_says_openai_documents_no_overhead_for_p50k() -> None:
    with pytest.raises(UserError, match="OpenAI documents no chat-message overhead for p50k_base"):
        chat_format_for(load_tokenizer("p50k_base"))


def test_count_messages_checks_every_format_before_counting() -> None:
    with pytest.raises(UserError, match="tokenizer 'whitespace' has no known chat format"):
        count_messages([load_tokenizer("o200k_base"), load_tokenizer("ws:")], [TWO])
