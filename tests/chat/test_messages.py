"""Reading conversation files: every bad input is a UserError naming file, line and message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toksmith.chat import read_conversations
from toksmith.errors import UserError

TWO = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Hello, how are you?"},
]


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(UserError) as caught:
        read_conversations(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_a_json_list_is_one_conversation_with_each_message_on_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "chat.json", json.dumps(TWO, indent=2))
    [conversation] = read_conversations(path)
    assert [m.role for m in conversation.messages] == ["system", "user"]
    assert conversation.messages[1].content == "Hello, how are you?"
    assert conversation.line == 1 and conversation.index == 1


def test_an_object_with_messages_is_a_conversation(tmp_path: Path) -> None:
    path = write(tmp_path, "request.json", json.dumps({"model": "x", "messages": TWO}))
    [conversation] = read_conversations(path)
    assert len(conversation.messages) == 2


def test_jsonl_holds_one_conversation_per_line_and_skips_blank_lines(tmp_path: Path) -> None:
    lines = [json.dumps(TWO), "", json.dumps({"messages": TWO[1:]})]
    conversations = read_conversations(write(tmp_path, "chats.jsonl", "\n".join(lines)))
    assert [(c.index, c.line, len(c.messages)) for c in conversations] == [(1, 1, 2), (2, 3, 1)]


def test_a_name_is_kept(tmp_path: Path) -> None:
    messages = [{"role": "user", "name": "example_user", "content": "hi"}]
    [conversation] = read_conversations(write(tmp_path, "c.json", json.dumps(messages)))
    assert conversation.messages[0].name == "example_user"


def test_an_unknown_role_names_its_line_and_message(tmp_path: Path) -> None:
    messages = [*TWO, {"role": "bot", "content": "beep"}]
    path = write(tmp_path, "chat.json", json.dumps(messages, indent=1))
    message = error_of(path)
    assert "line 10, message 3" in message and "'bot'" in message and "system, user" in message


def test_non_string_content_is_refused(tmp_path: Path) -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    message = error_of(write(tmp_path, "chat.json", json.dumps(messages)))
    assert "message 1" in message and "content is a JSON list; expected a string" in message


def test_a_missing_content_is_refused(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "chat.json", '[{"role": "user"}]'))
    assert "message 1: no 'content'" in message


def test_an_unsupported_key_is_refused_not_ignored(tmp_path: Path) -> None:
    messages = [{"role": "assistant", "content": "", "tool_calls": []}]
    message = error_of(write(tmp_path, "chat.json", json.dumps(messages)))
    assert "unsupported key 'tool_calls'" in message


def test_a_message_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "chat.json", '[\n  "hello"\n]'))
    assert "line 2, message 1: a JSON string" in message


def test_a_top_level_number_is_the_wrong_shape(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "chat.json", "42"))
    assert "a JSON number where a list of messages was expected" in message


def test_an_object_without_messages_is_the_wrong_shape(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "chat.json", '{"prompt": "hi"}'))
    assert 'without "messages"' in message and "'prompt'" in message


def test_an_empty_conversation_is_refused(tmp_path: Path) -> None:
    assert "has no messages" in error_of(write(tmp_path, "chat.json", "[]"))


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    assert "is empty" in error_of(write(tmp_path, "chat.json", " \n"))


def test_invalid_json_names_its_line(tmp_path: Path) -> None:
    message = error_of(
        write(tmp_path, "chat.json", '[\n{"role": "user", "content": "a"},\n{oops}\n]')
    )
    assert "line 3" in message and "not valid JSON" in message


def test_a_jsonl_line_with_bad_json_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "chats.jsonl", json.dumps(TWO) + "\n" + '[{"role": "user",')
    assert "line 2: not valid JSON" in error_of(path)


def test_a_jsonl_line_with_a_bad_role_names_line_and_message(tmp_path: Path) -> None:
    bad = [{"role": "user", "content": "a"}, {"role": "tool", "content": "b"}]
    path = write(tmp_path, "chats.jsonl", json.dumps(TWO) + "\n" + json.dumps(bad))
    assert "line 2, message 2: role 'tool'" in error_of(path)


def test_several_json_documents_in_a_json_file_suggest_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path, "chats.json", json.dumps(TWO) + "\n" + json.dumps(TWO))
    assert "name the file .jsonl" in error_of(path)


def test_invalid_utf8_is_refused_or_replaced(tmp_path: Path) -> None:
    data = b'[{"role": "user", "content": "caf\xe9"}]'
    path = write(tmp_path, "chat.json", data)
    offset = data.index(b"\xe9")
    assert f"invalid UTF-8 at byte {offset}" in error_of(path)
    [conversation] = read_conversations(path, errors="replace")
    assert conversation.messages[0].content == "caf\ufffd"


def test_a_lone_surrogate_escape_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "chat.json", '[{"role": "user", "content": "a\\ud800b"}]')
    assert "message 1 is not valid Unicode" in error_of(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        read_conversations(tmp_path / "nope.json")
