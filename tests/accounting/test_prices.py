"""Prices: offline litellm table, user tables, model resolution, model → tokenizer mapping."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import pytest

from toksmith.accounting.cost import compute_cost, text_counter
from toksmith.accounting.mapping import ESTIMATE, EXACT, tokenizer_for_model
from toksmith.accounting.prices import load_prices
from toksmith.errors import UserError


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access in a test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_bundled_table_loads_offline_with_its_version_and_date(no_network: None) -> None:
    table = load_prices()
    snapshot = table.snapshot
    assert snapshot.package == "litellm" and snapshot.version
    assert snapshot.snapshot_date is not None and "lower bound" in snapshot.date_method
    gpt4o = table.resolve("gpt-4o")
    assert gpt4o.input is not None and gpt4o.output is not None and gpt4o.output > gpt4o.input


def test_cost_of_a_text_is_tokens_times_price(no_network: None) -> None:
    table = load_prices()
    text = "Tokens are what language model APIs bill."
    result = compute_cost(["gpt-4o"], text_counter(text), what="text", prices=table,
                          output_tokens=100)  # fmt: skip
    model = result.models[0]
    from toksmith.tokenizers import load_tokenizer

    tokens = len(load_tokenizer("o200k_base").encode(text))
    price = table.resolve("gpt-4o")
    assert price.input is not None and price.output is not None
    assert model.tokenizer == "o200k_base" and model.count_kind == EXACT
    assert model.parts[0].tokens == tokens
    assert model.total_usd == pytest.approx(tokens * price.input + 100 * price.output)


def test_a_model_without_a_public_tokenizer_is_an_estimate_never_a_count() -> None:
    table = load_prices()
    result = compute_cost(
        ["claude-sonnet-4-5"],
        text_counter("Über 9000 Wörter, bitte."),
        what="text",
        prices=table,
        estimate_tokenizers=("o200k_base", "cl100k_base", "llama3"),
    )
    part = result.models[0].parts[0]
    assert result.models[0].count_kind == ESTIMATE and part.tokens is None
    assert part.tokens_low is not None and part.tokens_high is not None
    assert part.estimated_tokens is not None
    assert part.tokens_low <= part.estimated_tokens <= part.tokens_high
    with pytest.raises(UserError, match="not public"):
        compute_cost(["claude-sonnet-4-5"], text_counter("x"), what="text", prices=table,
                     exact_only=True)  # fmt: skip


def test_unknown_model_suggests_the_nearest_name() -> None:
    with pytest.raises(UserError, match="did you mean 'gpt-4o'"):
        load_prices().resolve("gpt-4oo")


@pytest.mark.parametrize(
    ("model", "tokenizer"),
    [("gpt-4o", "o200k_base"), ("gpt-4.1-mini", "o200k_base"), ("o3", "o200k_base"),
     ("gpt-4", "cl100k_base"), ("gpt-3.5-turbo", "cl100k_base"),
     ("azure/eu/gpt-4o-mini", "o200k_base"), ("cerebras/llama-3.1-70b", "llama3"),
     ("deepseek-chat", "deepseek"), ("meta.llama3-1-70b-instruct-v1:0", "llama3"), ("mistral/open-mistral-nemo", "mistral-tekken")],
)  # fmt: skip
def test_model_to_tokenizer_mapping_is_explicit(model: str, tokenizer: str) -> None:
    choice = tokenizer_for_model(model)
    assert (choice.tokenizer, choice.kind) == (tokenizer, EXACT)


def test_user_price_table_of_the_same_shape(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"my-model": {"input_cost_per_token": 1e-6,
                                             "output_cost_per_token": 2e-6}}))  # fmt: skip
    table = load_prices(path, today=dt.date.today() + dt.timedelta(days=200))
    assert table.resolve("my-model").output == 2e-6
    assert table.snapshot.package == "user file" and table.snapshot.warnings  # 200 days old


@pytest.mark.parametrize(
    "content",
    ['[1, 2]', '{"m": 3}', '{"m": {"input_cost_per_token": "cheap"}}',
     '{"m": {"input_cost_per_token": -1}}', '{"m": {"mode": "chat"}}', "not json"],
)  # fmt: skip
def test_price_table_of_a_wrong_shape_is_one_line_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(UserError, match="price file") as error:
        load_prices(path)
    assert "\n" not in str(error.value)
