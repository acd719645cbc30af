"""Reading conversations: OpenAI-style message lists, from a JSON file or JSONL.

A conversation is a list of messages ``{"role": ..., "content": ...}`` (optionally ``"name"``),
as the OpenAI chat completions API takes them. A ``.json`` file holds one conversation: a list
of messages, or an object with ``"messages"`` (a request body). A ``.jsonl`` (or ``.ndjson``)
file holds one conversation per line, each a list of messages or an object with
``"messages"``; blank lines are skipped. Every problem is a UserError naming the file, the line
and the message (1-based), before any tokenizer is loaded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toksmith.errors import UserError
from toksmith.text import clean_text

ROLES = ("system", "user", "assistant")
"""The roles every supported chat format can place (tool messages need tool-call ids)."""
MESSAGE_KEYS = ("role", "content", "name")
JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True)
class Message:
    """One chat message: its role, its text and the optional participant name."""

    role: str
    content: str
    name: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The message as the OpenAI API and HF chat templates take it."""
        data = {"role": self.role, "content": self.content}
        if self.name is not None:
            data["name"] = self.name
        return data


@dataclass(frozen=True)
class Conversation:
    """The messages of one conversation, with where it was read from (``line`` is 1-based)."""

    messages: tuple[Message, ...]
    source: str
    line: int
    index: int  # 1-based position in the file

    def where(self) -> str:
        """``FILE, line N``: where the conversation starts, for error messages."""
        source = self.source
        if source.startswith("<") and source.endswith(">"):
            source = source[1:-1]
        return f"{source}, line {self.line}"


def read_conversations(path: str | Path, errors: str = "strict") -> list[Conversation]:
    """The conversations of a ``.json`` or ``.jsonl`` file (see the module docstring).

    ``errors="replace"`` replaces invalid UTF-8 with U+FFFD instead of failing.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise UserError(f"messages file {path} does not exist")
    if not path.is_file():
        raise UserError(f"messages file {path} is not a file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UserError(f"messages file {path}: cannot read it ({error.strerror})") from None
    try:
        text = data.decode("utf-8", errors=errors)
    except UnicodeDecodeError as error:
        raise UserError(
            f"messages file {path}: invalid UTF-8 at byte {error.start} "
            "(use --errors replace to replace it)"
        ) from None
    jsonl = path.suffix.lower() in JSONL_SUFFIXES
    return parse_conversations(text.removeprefix("\ufeff"), str(path), jsonl=jsonl, errors=errors)


def parse_conversations(
    text: str, source: str, *, jsonl: bool, errors: str = "strict"
) -> list[Conversation]:
    """The conversations of ``text`` (the content of the file ``source``): one JSON document,
    or one conversation per line when ``jsonl``. A lone surrogate (a JSON ``\\ud800`` escape) in
    a content or name is a UserError, or U+FFFD with ``errors="replace"``."""
    if not text.strip():
        raise UserError(f"{_label(source)} is empty; expected {_expected(jsonl)}")
    if jsonl:
        return _parse_jsonl(text, source, errors)
    return [_parse_document(text, source, errors)]


def _label(source: str) -> str:
    """How errors name the input: ``messages file PATH``, or for a source written in angle
    brackets (``<messages>``: text that is not a file, as the web page sends) that name."""
    if source.startswith("<") and source.endswith(">"):
        return source[1:-1]
    return f"messages file {source}"


def _expected(jsonl: bool) -> str:
    if jsonl:
        return 'one conversation per line (a JSON list of messages, or {"messages": [...]})'
    return 'a JSON list of {"role", "content"} messages, or {"messages": [...]}'


def _parse_jsonl(text: str, source: str, errors: str) -> list[Conversation]:
    conversations: list[Conversation] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise UserError(
                f"{_label(source)}, line {number}: not valid JSON ({error.msg} at column "
                f"{error.colno}); expected {_expected(True)}"
            ) from None
        messages = _messages_of(value, source, number)
        positions = [number] * len(messages)
        conversations.append(
            _conversation(messages, positions, source, number, len(conversations) + 1, errors)
        )
    return conversations


def _parse_document(text: str, source: str, errors: str) -> Conversation:
    """One JSON document; for a top-level list, each message's own line is found by decoding
    the list element by element (``json.loads`` does not report positions)."""
    stripped = text.lstrip()
    start_line = text.count("\n", 0, len(text) - len(stripped)) + 1
    if stripped.startswith("["):
        items, lines = _decode_list(text, source)
        items = _checked_list(items, source, start_line)
        return _conversation(items, lines, source, start_line, 1, errors)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise _json_error(source, error, False) from None
    messages = _messages_of(value, source, start_line)
    return _conversation(messages, [start_line] * len(messages), source, start_line, 1, errors)


def _json_error(source: str, error: json.JSONDecodeError, jsonl: bool) -> UserError:
    hint = " (one conversation per line? name the file .jsonl)" if error.msg == "Extra data" else ""
    return UserError(
        f"{_label(source)}, line {error.lineno}: not valid JSON ({error.msg} at column "
        f"{error.colno}){hint}; expected {_expected(jsonl)}"
    )


def _decode_list(text: str, source: str) -> tuple[list[Any], list[int]]:
    """The elements of the JSON list in ``text`` and the line each starts on."""
    decoder = json.JSONDecoder()
    position = len(text) - len(text.lstrip()) + 1  # after "["
    items: list[Any] = []
    lines: list[int] = []
    try:
        position = _skip_space(text, position)
        if text[position : position + 1] == "]":
            position += 1
        else:
            while True:
                item, end = decoder.raw_decode(text, position)
                items.append(item)
                lines.append(text.count("\n", 0, position) + 1)
                position = _skip_space(text, end)
                separator = text[position : position + 1]
                if separator == "]":
                    position += 1
                    break
                if separator != ",":
                    raise json.JSONDecodeError("Expecting ',' delimiter", text, position)
                position = _skip_space(text, position + 1)
        if text[position:].strip():
            raise json.JSONDecodeError("Extra data", text, _skip_space(text, position))
    except json.JSONDecodeError as error:
        raise _json_error(source, error, False) from None
    return items, lines


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _messages_of(value: Any, source: str, line: int) -> list[Any]:
    """The message list of one conversation: the value itself, or its ``"messages"``."""
    if isinstance(value, dict):
        if "messages" not in value:
            keys = ", ".join(repr(key) for key in list(value)[:5]) or "none"
            raise UserError(
                f'{_label(source)}, line {line}: an object without "messages" (keys: '
                f'{keys}); expected a list of messages or {{"messages": [...]}}'
            )
        value = value["messages"]
    return _checked_list(value, source, line)


def _checked_list(value: Any, source: str, line: int) -> list[Any]:
    if not isinstance(value, list):
        raise UserError(
            f"{_label(source)}, line {line}: a JSON {_json_type(value)} where a list of "
            "messages was expected"
        )
    if not value:
        raise UserError(f"{_label(source)}, line {line}: the conversation has no messages")
    return value


def _conversation(
    items: Sequence[Any],
    lines: Sequence[int],
    source: str,
    line: int,
    index: int,
    errors: str,
) -> Conversation:
    messages = tuple(
        _message(item, source, item_line, position, errors)
        for position, (item, item_line) in enumerate(zip(items, lines, strict=True), start=1)
    )
    return Conversation(messages=messages, source=source, line=line, index=index)


def _message(value: Any, source: str, line: int, position: int, errors: str) -> Message:
    """One validated message; ``position`` is its 1-based index in the conversation."""
    where = f"{_label(source)}, line {line}, message {position}"
    if not isinstance(value, dict):
        raise UserError(
            f'{where}: a JSON {_json_type(value)}; expected an object {{"role", "content"}}'
        )
    unknown = [key for key in value if key not in MESSAGE_KEYS]
    if unknown:
        raise UserError(
            f"{where}: unsupported key {unknown[0]!r}; expected only role, content and name "
            "(tool calls, content parts and other fields are not counted)"
        )
    for key in ("role", "content"):
        if key not in value:
            raise UserError(f'{where}: no {key!r}; expected an object {{"role", "content"}}')
    role = value["role"]
    if not isinstance(role, str) or role not in ROLES:
        raise UserError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
    content = value["content"]
    if not isinstance(content, str):
        raise UserError(
            f"{where}: content is a JSON {_json_type(content)}; expected a string (content "
            "parts, images and tool calls are not counted)"
        )
    name = value.get("name")
    if name is not None and (not isinstance(name, str) or not name):
        raise UserError(f"{where}: name {name!r} is not a non-empty string")
    content = clean_text(content, errors, what=where)
    if name is not None:
        name = clean_text(name, errors, what=f"{where} (name)")
    return Message(role=role, content=content, name=name)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"
