"""The playground's messages mode in a real browser (Chromium through Playwright)."""

from __future__ import annotations

import json

import test_web_browser as browser_tests

from toksmith.chat import count_messages, parse_conversations
from toksmith.tokenizers import load_tokenizer

# The server, browser and page fixtures of the playground's own browser tests.
base_url = browser_tests.base_url
browser = browser_tests.browser
page = browser_tests.page
screenshot = browser_tests.screenshot

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is a token?"},
]
SHOWN = ["o200k_base", "cl100k_base", "llama3", "mistral-tekken"]  # the playground's defaults


def test_messages_mode_shows_the_counts_of_count_messages(page, base_url: str) -> None:
    page.goto(f"{base_url}/#playground")
    page.wait_for_selector(".panel .tok")
    page.click('#playground-mode button[data-mode="messages"]')
    text = json.dumps(CHAT, indent=2)
    page.fill("#text", text)
    [conversation] = parse_conversations(text, "<messages>", jsonl=False)
    for name in SHOWN:
        [row] = count_messages([load_tokenizer(name)], [conversation]).results
        cell = f'.messages-table tr[data-tokenizer="{name}"] [data-stat="total_tokens"]'
        page.wait_for_function(
            "([cell, total]) => { const n = document.querySelector(cell);"
            " return n && n.textContent === total; }",
            arg=[cell, f"{row.total_tokens:,}"],
        )
        content = page.inner_text(f'.messages-table tr[data-tokenizer="{name}"] '
                                  '[data-stat="content_tokens"]')  # fmt: skip
        assert content == f"{row.content_tokens:,}"
    assert page.is_hidden("#panels")
    screenshot(page, "playground-messages.png")


def test_an_invalid_conversation_shows_the_error_and_text_mode_comes_back(
    page, base_url: str
) -> None:
    page.goto(f"{base_url}/#playground")
    page.wait_for_selector(".panel .tok")
    page.click('#playground-mode button[data-mode="messages"]')
    page.fill("#text", '[{"role": "robot", "content": "x"}]')
    page.wait_for_selector("#playground-error:not([hidden])")
    assert "role 'robot'" in page.inner_text("#playground-error")
    page.click('#playground-mode button[data-mode="text"]')
    page.wait_for_selector(".panel .tok")
    assert page.is_visible("#panels") and page.is_hidden("#messages-output")
