"""``count --messages``: the CLI piece, through a parser with count's shared options."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import pytest

from toksmith.cli.common import (
    add_errors_option,
    add_output_options,
    add_tokenizer_option,
    resolve_format,
)
from toksmith.cli.messages import add_messages_arguments, run_count_messages
from toksmith.errors import UserError

TWO = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Hello, how are you?"},
]


def count_parser() -> argparse.ArgumentParser:
    """The options ``toksmith count`` has, plus ``--messages``."""
    parser = argparse.ArgumentParser(prog="toksmith count")
    parser.add_argument("text", nargs="?")
    parser.add_argument("--file")
    add_errors_option(parser)
    add_tokenizer_option(parser)
    add_output_options(parser)
    add_messages_arguments(parser)
    return parser


def run(*argv: str) -> int:
    args = count_parser().parse_args(list(argv))
    resolve_format(args)
    return run_count_messages(args)


@pytest.fixture()
def chat_file(tmp_path: Path) -> Path:
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(TWO), encoding="utf-8")
    return path


def test_json_output_has_content_overhead_total_and_format(
    chat_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("--messages", str(chat_file), "-t", "o200k_base", "-t", "llama3", "--format",
               "json") == 0  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    rows = {row["tokenizer"]: row for row in data["results"]}
    assert rows["o200k_base"]["total_tokens"] == 23 and rows["o200k_base"]["format"] == "openai"
    assert rows["llama3"]["format"] == "llama3"
    for row in rows.values():
        assert row["total_tokens"] == row["content_tokens"] + row["overhead_tokens"]
    assert [info["format"] for info in data["tokenizers"]] == ["openai", "llama3"]
    assert data["totals"][0]["conversations"] == 1


def test_a_named_tokenizer_without_a_format_is_an_error(chat_file: Path) -> None:
    with pytest.raises(UserError, match="'p50k_base' has no known chat format"):
        run("--messages", str(chat_file), "-t", "o200k_base", "-t", "p50k_base")


def test_the_default_counts_the_builtins_with_a_format_and_names_the_rest(
    chat_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import toksmith.tokenizers

    monkeypatch.setattr(toksmith.tokenizers, "builtin_names", lambda: ["o200k_base", "p50k_base"])
    assert run("--messages", str(chat_file), "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["tokenizer"] for row in data["results"]] == ["o200k_base"]
    assert data["notes"] == ["built-ins without a known chat format, not counted: p50k_base"]


def test_csv_has_the_json_field_names_and_o_writes_the_file(chat_file: Path) -> None:
    output = chat_file.parent / "counts.csv"
    assert run("--messages", str(chat_file), "-t", "cl100k_base", "-o", str(output)) == 0
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert rows[0]["tokenizer"] == "cl100k_base" and rows[0]["total_tokens"] == "23"


def test_a_jsonl_file_gets_a_totals_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "chats.jsonl"
    path.write_text(json.dumps(TWO) + "\n" + json.dumps({"messages": TWO}) + "\n", "utf-8")
    assert run("--messages", str(path), "-t", "o200k_base", "--format", "md") == 0
    out = capsys.readouterr().out
    assert "All conversations, per tokenizer" in out and "| 46 |" in out


def test_an_output_that_is_the_messages_file_is_refused(chat_file: Path) -> None:
    with pytest.raises(UserError):
        run("--messages", str(chat_file), "-t", "o200k_base", "-o", str(chat_file))
    assert json.loads(chat_file.read_text(encoding="utf-8")) == TWO


def test_a_text_with_messages_is_refused(chat_file: Path) -> None:
    with pytest.raises(UserError, match="--messages FILE alone"):
        run("hello", "--messages", str(chat_file), "-t", "o200k_base")


def test_a_bad_messages_file_fails_naming_line_and_message(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[{"role": "user", "content": "a"},\n {"role": "robot", "content": "b"}]')
    with pytest.raises(UserError, match=r"bad.json, line 2, message 2: role 'robot'"):
        run("--messages", str(path), "-t", "o200k_base")


def test_a_missing_messages_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        run("--messages", str(tmp_path / "none.json"), "-t", "o200k_base")
