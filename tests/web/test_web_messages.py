"""POST /api/messages: the playground's messages mode gives the CLI's counts."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from toksmith.chat import count_messages, parse_conversations
from toksmith.tokenizers import load_tokenizer

TWO = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Hello, how are you?"},
]


def test_messages_counts_are_those_of_count_messages(client: TestClient) -> None:
    text = json.dumps(TWO, indent=2)
    response = client.post("/api/messages", json={"text": text, "tokenizers": ["o200k_base",
                                                                              "llama3"]})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["messages"] == 2
    [conversation] = parse_conversations(text, "<messages>", jsonl=False)
    for row in body["results"]:
        [expected] = count_messages([load_tokenizer(row["requested"])], [conversation]).results
        assert row["error"] is None
        assert (row["content_tokens"], row["overhead_tokens"], row["total_tokens"]) == (
            expected.content_tokens, expected.overhead_tokens, expected.total_tokens,
        )  # fmt: skip
        assert row["format"] == expected.format and row["format_description"]


def test_a_tokenizer_without_a_chat_format_gets_its_own_error(client: TestClient) -> None:
    body = {"text": json.dumps(TWO), "tokenizers": ["o200k_base", "local:bert"]}
    rows = client.post("/api/messages", json=body).json()["results"]
    assert rows[0]["total_tokens"] == 23
    assert rows[1]["total_tokens"] is None
    assert "has no known chat format" in rows[1]["error"]
    assert "local:bert" in rows[1]["error"]  # the server's folder is not shown


def test_an_invalid_conversation_is_a_422_naming_line_and_message(client: TestClient) -> None:
    text = '[\n{"role": "user", "content": "a"},\n{"role": "bot", "content": "b"}\n]'
    response = client.post("/api/messages", json={"text": text, "tokenizers": ["o200k_base"]})
    assert response.status_code == 422
    assert response.json()["error"].startswith("messages, line 3, message 2: role 'bot'")


def test_text_that_is_not_json_is_a_422(client: TestClient) -> None:
    response = client.post("/api/messages", json={"text": "hello", "tokenizers": ["o200k_base"]})
    assert response.status_code == 422 and "not valid JSON" in response.json()["error"]
