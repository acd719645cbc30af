"""Rendering chat-message counts: the table names each tokenizer's format under it."""

from __future__ import annotations

import json

from toksmith.chat import Conversation, Message, count_messages
from toksmith.report.chat import render_messages
from toksmith.tokenizers import load_tokenizer


def test_the_table_shows_counts_and_names_each_format() -> None:
    chat = Conversation((Message("user", "Hello there"),), source="c.json", line=1, index=1)
    result = count_messages([load_tokenizer("cl100k_base")], [chat], notes=["a note"])
    table = render_messages(result, "md")
    row = result.results[0]
    assert f"| cl100k_base | 1 | 1 | 1 | {row.content_tokens} | {row.overhead_tokens} |" in table
    assert "cl100k_base: OpenAI cookbook per-message overhead" in table and "a note" in table
    data = json.loads(render_messages(result, "json"))
    assert data["results"][0]["total_tokens"] == row.total_tokens == row.content_tokens + 3 + 1 + 3
