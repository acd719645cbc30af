"""The playground's price picker reads the same table as `toksmith prices`."""

from __future__ import annotations

from fastapi.testclient import TestClient

from toksmith.accounting.prices import load_prices
from toksmith.web.app import create_app


def test_price_list_for_a_tokenizer_holds_only_its_models() -> None:
    with TestClient(create_app(), base_url="http://127.0.0.1") as client:
        response = client.get("/api/prices", params={"tokenizer": "o200k_base"})
    assert response.status_code == 200
    body = response.json()
    table = load_prices()
    assert body["prices"]["version"] == table.snapshot.version
    models = {row["model"]: row for row in body["models"]}
    assert "gpt-4o" in models and "gpt-4" not in models  # gpt-4 is cl100k_base
    assert models["gpt-4o"]["input_per_1m"] == table.resolve("gpt-4o").per_million("input")
    assert all(row["tokenizer"] == "o200k_base" for row in body["models"])
