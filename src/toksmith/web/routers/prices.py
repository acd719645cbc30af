"""Model prices for the playground's price box: the same table as ``toksmith prices``."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter

from toksmith.accounting.mapping import EXACT, tokenizer_for_model
from toksmith.accounting.prices import PriceTable, load_prices
from toksmith.report.output import plain
from toksmith.web.models import ERRORS

router = APIRouter(tags=["prices"])


@cache
def _table() -> PriceTable:
    # Read once per process: the table is a data file of an installed package.
    return load_prices()


def _rounded(value: float | None) -> float | None:
    """Dollars per million tokens without binary noise (0.39999999999999997 → 0.4)."""
    return None if value is None else float(f"{value:.6g}")


@router.get("/api/prices", responses=ERRORS)
def prices(tokenizer: str | None = None) -> dict[str, Any]:
    """Chat models of the bundled price table whose tokens this built-in ``tokenizer`` counts
    exactly (all exact chat models when not given), with $/1M input and output tokens, and the
    snapshot (package, version, date) the prices come from."""
    table = _table()
    rows = []
    for price in sorted(table.prices.values(), key=lambda p: p.model):
        if price.mode not in (None, "chat", "responses") or price.input is None:
            continue
        choice = tokenizer_for_model(price.model)
        if choice.kind != EXACT or (tokenizer is not None and choice.tokenizer != tokenizer):
            continue
        rows.append(
            {
                "model": price.model,
                "provider": price.provider,
                "tokenizer": choice.tokenizer,
                "input_per_1m": _rounded(price.per_million("input")),
                "output_per_1m": _rounded(price.per_million("output")),
            }
        )
    return {"prices": plain(table.snapshot), "models": rows}
