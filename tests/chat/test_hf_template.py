"""HF chat templates rendered as transformers renders them, on a tiny tokenizer folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models, pre_tokenizers, trainers

from toksmith.chat import Conversation, Message, chat_format_for, count_messages
from toksmith.chat.formats import HFTemplateFormat, _compile_template
from toksmith.errors import UserError
from toksmith.tokenizers import load_tokenizer

SYSTEM = "You are a helpful assistant."
USER = "Hello, how are you?"
SPECIALS = ["<s>", "</s>", "<|im_start|>", "<|im_end|>"]

# Block tags on their own, indented lines: only trim_blocks + lstrip_blocks (transformers'
# settings) render this without stray newlines and spaces.
CHATML = """{{ bos_token }}
{% for message in messages %}
    {% if message['role'] not in ['system', 'user', 'assistant'] %}
        {{ raise_exception('roles must be system, user or assistant') }}
    {% endif %}
<|im_start|>{{ message['role'] }}
{{ message['content'] }}<|im_end|>
{% endfor %}
{% if add_generation_prompt %}
<|im_start|>assistant
{% endif %}"""
CHATML_TWO = (
    "<s>\n<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "<|im_start|>user\nHello, how are you?<|im_end|>\n<|im_start|>assistant\n"
)
TWO = Conversation(
    (Message("system", SYSTEM), Message("user", USER)), source="chat.json", line=1, index=1
)


def tiny_folder(folder: Path, config: dict[str, object] | None) -> Path:
    """A byte-level BPE tokenizer.json trained on a few lines, and a tokenizer_config.json."""
    tokenizer = HFTokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator([SYSTEM, USER, "system user assistant"] * 20, trainer)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    if config is not None:
        (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.fixture()
def chatml_folder(tmp_path: Path) -> Path:
    config = {
        "bos_token": {"__type": "AddedToken", "content": "<s>"},
        "eos_token": "</s>",
        "chat_template": CHATML,
    }
    return tiny_folder(tmp_path / "chatml", config)


def test_the_template_renders_as_transformers_renders_it(chatml_folder: Path) -> None:
    chat_format = chat_format_for(load_tokenizer(str(chatml_folder)))
    assert isinstance(chat_format, HFTemplateFormat)
    assert chat_format.render(TWO) == CHATML_TWO


def test_the_count_is_the_rendered_text_encoded_with_its_special_tokens(
    chatml_folder: Path,
) -> None:
    hf = HFTokenizer.from_file(str(chatml_folder / "tokenizer.json"))
    expected = hf.encode(CHATML_TWO, add_special_tokens=False).ids
    specials = {hf.token_to_id(token) for token in SPECIALS}
    assert sum(1 for token_id in expected if token_id in specials) == 1 + 3 + 2
    tokenizer = load_tokenizer(str(chatml_folder))
    [row] = count_messages([tokenizer], [TWO]).results
    assert row.total_tokens == len(expected)
    content = len(tokenizer.encode(SYSTEM)) + len(tokenizer.encode(USER))
    assert row.content_tokens == content
    assert row.overhead_tokens == len(expected) - content
    assert row.format == "hf-template"


def test_a_chat_template_jinja_file_takes_precedence(chatml_folder: Path) -> None:
    (chatml_folder / "chat_template.jinja").write_text(
        "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}", encoding="utf-8"
    )
    chat_format = chat_format_for(load_tokenizer(str(chatml_folder)))
    assert isinstance(chat_format, HFTemplateFormat)
    assert chat_format.render(TWO) == f"[system]{SYSTEM}[user]{USER}"


def test_named_templates_use_the_default_one(tmp_path: Path) -> None:
    config = {"chat_template": [{"name": "tool_use", "template": "T"},
                                {"name": "default", "template": "D{{ messages|length }}"}]}  # fmt: skip
    folder = tiny_folder(tmp_path / "named", config)
    chat_format = chat_format_for(load_tokenizer(str(folder)))
    assert isinstance(chat_format, HFTemplateFormat)
    assert chat_format.render(TWO) == "D2"


def test_raise_exception_in_the_template_is_a_user_error(tmp_path: Path) -> None:
    template = (
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('no system') }}{% endif %}"
    )
    folder = tiny_folder(tmp_path / "strict", {"chat_template": template})
    with pytest.raises(UserError, match=r"chat.json, line 1: the chat template .* \(no system\)"):
        chat_format_for(load_tokenizer(str(folder))).total_tokens(TWO)


def test_a_template_with_bad_syntax_is_a_user_error(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "broken", {"chat_template": "{% for m in messages %}"})
    with pytest.raises(UserError, match="not valid jinja2"):
        chat_format_for(load_tokenizer(str(folder)))


def test_a_folder_without_a_chat_template_has_no_known_format(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "plain", {"bos_token": "<s>"})
    with pytest.raises(UserError, match="has no known chat format: .*has no chat_template"):
        chat_format_for(load_tokenizer(str(folder)))
    bare = tiny_folder(tmp_path / "bare", None)
    with pytest.raises(UserError, match="has no tokenizer_config.json"):
        chat_format_for(load_tokenizer(str(bare)))


def test_tojson_does_not_escape_html_and_loopcontrols_work() -> None:
    template = _compile_template(
        "{% for m in messages %}{% if loop.index > 1 %}{% break %}{% endif %}"
        "{{ m | tojson }}{% endfor %}",
        "test",
    )
    rendered = template.render(messages=[{"content": "<b>&é</b>"}, {"content": "second"}])
    assert rendered == '{"content": "<b>&é</b>"}'


def test_strftime_now_is_available() -> None:
    assert len(_compile_template("{{ strftime_now('%Y') }}", "test").render()) == 4


def test_the_template_is_sandboxed() -> None:
    from jinja2.exceptions import SecurityError

    with pytest.raises(SecurityError):
        _compile_template("{{ messages.append(1) }}", "test").render(messages=[])


def test_a_user_folder_named_like_a_builtin_is_not_taken_for_it(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path / "llama3", None)
    tokenizer = load_tokenizer(str(folder))
    assert tokenizer.name == "llama3"
    with pytest.raises(UserError, match="has no tokenizer_config.json"):
        chat_format_for(tokenizer)


def test_an_hf_hub_tokenizer_finds_the_template_in_its_cache_folder(chatml_folder: Path) -> None:
    from toksmith.chat.formats import _hf_source_file

    source = f"hf:org/chatml (cache {chatml_folder / 'tokenizer.json'})"
    assert _hf_source_file(source) == chatml_folder / "tokenizer.json"
    assert _hf_source_file("hf:org/missing") is None
