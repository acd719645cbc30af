"""Model prices, read offline from the table litellm ships, or from a user file of the same shape.

litellm (installed as vendor data with ``--no-deps``, never imported) bundles
``model_prices_and_context_window_backup.json``: model name → ``{"input_cost_per_token": ...,
"output_cost_per_token": ..., "cache_read_input_token_cost": ...,
"output_cost_per_reasoning_token": ..., "litellm_provider": ..., "source": ...}`` in USD per
token. Nothing here touches the network.

The snapshot date. The wheel carries no build date (its RECORD and METADATA have none, and pip
does not keep the archive's file times), and asking PyPI for the release date would be a network
call. So the date given is the newest date written in a model id of the table (ids such as
``gpt-6.1-sol-2026-09-29`` or ``claude-sonnet-4-5-20250929``): the table cannot be older than the
newest model it prices. It is a lower bound on the snapshot's date, and so ``age_days`` is an upper
bound on its age. A user table's date is its file's modification time.
"""

from __future__ import annotations

import datetime as dt
import difflib
import importlib.metadata
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toksmith.errors import UserError
from toksmith.results import Result

LITELLM_PACKAGE = "litellm"
LITELLM_PRICE_FILE = "litellm/model_prices_and_context_window_backup.json"
STALE_AFTER_DAYS = 90
# Model makers' own APIs in the litellm table, preferred over hosts that resell a model.
FIRST_PARTY = ("openai", "anthropic", "mistral", "deepseek", "gemini", "xai", "meta_llama",
               "dashscope", "cohere")  # fmt: skip

# Field names of the litellm table (USD per token) → the name toksmith uses.
PRICE_FIELDS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cached_input",
    "output_cost_per_reasoning_token": "reasoning",
}
_DATE_IN_ID = re.compile(r"(?<!\d)(20[2-9]\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?!\d)")


@dataclass(frozen=True)
class ModelPrice(Result):
    """One row of the price table, in USD per token (``None`` where the table has no price)."""

    model: str
    provider: str | None
    mode: str | None
    input: float | None
    output: float | None
    cached_input: float | None
    reasoning: float | None
    source: str | None

    def per_million(self, part: str) -> float | None:
        """The price of ``part`` (input, output, cached_input, reasoning) in USD per 1M tokens."""
        value = getattr(self, part)
        return None if value is None else value * 1_000_000


@dataclass(frozen=True)
class PriceSnapshot(Result):
    """Where the prices come from: package (or file), version and snapshot date."""

    package: str
    version: str | None
    file: str
    snapshot_date: str | None  # ISO date
    date_method: str
    age_days: int | None
    warnings: list[str] = field(default_factory=list)


@dataclass
class PriceTable:
    """The prices by model name, with their snapshot."""

    prices: dict[str, ModelPrice]
    snapshot: PriceSnapshot

    def search(self, query: str) -> list[ModelPrice]:
        """Rows whose model name contains every word of ``query`` (case-insensitive), by name."""
        words = query.lower().split()
        rows = [
            price for name, price in self.prices.items() if all(w in name.lower() for w in words)
        ]
        return sorted(rows, key=lambda price: price.model)

    def resolve(self, name: str) -> ModelPrice:
        """The row for a model name as users write it, or a UserError suggesting the nearest.

        In order: the exact key; the key under the model maker's own API
        (:data:`FIRST_PARTY`, e.g. ``mistral/NAME``); ``NAME-latest`` (also under the maker's
        API); the newest dated version ``NAME-YYYYMMDD`` / ``NAME-YYYY-MM-DD``; a key ending in
        ``/NAME`` (a host reselling the model; the alphabetically first). The resolved key is
        always shown with the answer.
        """
        if name in self.prices:
            return self.prices[name]
        for key in (*(f"{p}/{name}" for p in FIRST_PARTY), f"{name}-latest",
                    *(f"{p}/{name}-latest" for p in FIRST_PARTY)):  # fmt: skip
            if key in self.prices:
                return self.prices[key]
        dated = [key for key in self.prices if _is_dated_version(key, name)]
        if dated:
            return self.prices[max(dated, key=lambda key: (_date_in(key) or "", key))]
        hosts = [key for key in self.prices if key.rsplit("/", 1)[-1] == name]
        if hosts:
            return self.prices[sorted(hosts)[0]]
        raise UserError(f"unknown model {name!r}{self._suggestion(name)}")

    def _suggestion(self, name: str) -> str:
        bare = {key.rsplit("/", 1)[-1]: key for key in sorted(self.prices, reverse=True)}
        near = difflib.get_close_matches(name, list(bare), n=3, cutoff=0.6)
        if not near:
            return " (not in the price table; see 'toksmith prices --search WORD')"
        return f" (not in the price table; did you mean {', '.join(repr(n) for n in near)}?)"


def _is_dated_version(key: str, name: str) -> bool:
    bare = key.rsplit("/", 1)[-1]
    if not bare.startswith(name + "-"):
        return False
    rest = bare[len(name) + 1 :]
    return re.fullmatch(r"20\d\d-?\d\d-?\d\d", rest) is not None


def _date_in(text: str) -> str | None:
    """The newest plausible date (ISO) written in ``text``, or None."""
    best: str | None = None
    for year, month, day in _DATE_IN_ID.findall(text):
        try:
            iso = dt.date(int(year), int(month), int(day)).isoformat()
        except ValueError:
            continue
        best = iso if best is None or iso > best else best
    return best


def litellm_price_file() -> tuple[Path, str]:
    """The bundled price file of the installed litellm and litellm's version, or a UserError."""
    try:
        distribution = importlib.metadata.distribution(LITELLM_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise UserError(
            "the price table is read from the PyPI package 'litellm', which is not installed "
            "(pip install --no-deps litellm), or give --prices FILE"
        ) from None
    path = Path(str(distribution.locate_file(LITELLM_PRICE_FILE)))
    if not path.is_file():
        raise UserError(f"litellm {distribution.version} has no price file at {path}")
    return path, distribution.version


def load_prices(path: str | Path | None = None, *, today: dt.date | None = None) -> PriceTable:
    """The price table: litellm's bundled file, or the user's ``path`` in the same shape.

    ``today`` (default: the local date) only sets ``age_days`` and the staleness warning.
    """
    today = today or dt.date.today()
    if path is None:
        file, version = litellm_price_file()
        package, shown = LITELLM_PACKAGE, LITELLM_PRICE_FILE
    else:
        file, version, package, shown = Path(path).expanduser(), None, "user file", str(path)
    data = _read_json(file, shown)
    prices = parse_price_table(data, shown)
    if path is None:
        date = max((d for d in map(_date_in, prices) if d is not None), default=None)
        method = "newest date in a model id of the table (a lower bound: the wheel has no date)"
    else:
        modified = dt.datetime.fromtimestamp(file.stat().st_mtime, dt.UTC)
        date, method = modified.date().isoformat(), "the file's modification time"
    age = None if date is None else (today - dt.date.fromisoformat(date)).days
    warnings = []
    if age is not None and age > STALE_AFTER_DAYS:
        warnings.append(
            f"the price snapshot ({package} {version or ''}, {date}) is {age} days old: "
            "prices may have changed".replace("  ", " ")
        )
    snapshot = PriceSnapshot(package, version, shown, date, method, age, warnings)
    return PriceTable(prices, snapshot)


def _read_json(file: Path, shown: str) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"price file {shown} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"price file {shown}: cannot read it as UTF-8 ({error})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"price file {shown}: not valid JSON ({error})") from None


def parse_price_table(data: Any, shown: str) -> dict[str, ModelPrice]:
    """Validate litellm's shape — an object of model name → object with prices in USD per token
    (non-negative numbers) — and return the rows that have an input or output price."""
    expected = (
        "expected a JSON object of model name → {input_cost_per_token, output_cost_per_token, "
        "...} in USD per token (litellm's shape)"
    )
    if not isinstance(data, dict):
        raise UserError(f"price file {shown}: {expected}, got a JSON {type(data).__name__}")
    prices: dict[str, ModelPrice] = {}
    for name, entry in data.items():
        if name == "sample_spec":  # litellm's documentation row
            continue
        if not isinstance(entry, dict):
            raise UserError(f"price file {shown}: model {name!r}: {expected}")
        values: dict[str, float | None] = {}
        for key, part in PRICE_FIELDS.items():
            values[part] = _price_value(entry.get(key), shown, name, key)
        if values["input"] is None and values["output"] is None:
            continue
        prices[name] = ModelPrice(
            model=name,
            provider=_text_or_none(entry.get("litellm_provider")),
            mode=_text_or_none(entry.get("mode")),
            source=_text_or_none(entry.get("source")),
            **values,
        )
    if not prices:
        raise UserError(f"price file {shown}: no model has an input or output price; {expected}")
    return prices


def _price_value(value: Any, shown: str, model: str, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserError(
            f"price file {shown}: model {model!r}: {key} must be a number (USD per token), "
            f"got {value!r}"
        )
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise UserError(
            f"price file {shown}: model {model!r}: {key} must be a non-negative number, "
            f"got {value!r}"
        )
    return number


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


__all__ = [
    "STALE_AFTER_DAYS",
    "ModelPrice",
    "PriceSnapshot",
    "PriceTable",
    "litellm_price_file",
    "load_prices",
    "parse_price_table",
]
