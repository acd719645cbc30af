"""What a text or conversation costs under each model: tokens × USD per token, part by part.

Input tokens are counted with the model's own tokenizer (:mod:`toksmith.accounting.mapping`).
Output, cached-input and reasoning tokens are numbers the user gives (they are the model's own
tokens, so no tokenizer is involved). Reasoning tokens are billed at the table's reasoning price
when it has one, else at the output price (how OpenAI and Anthropic bill them); cached input
tokens are part of the input and billed at the cache-read price.

Models whose tokenizer is not public get an **estimate**: the input is counted with every
tokenizer of :data:`ESTIMATE_TOKENIZERS` (current public tokenizers of production models), the
estimate is their median and the error bar their range (min–max) on this very text. This rests
on an assumption that cannot be checked here: that the hidden tokenizer falls within the
spread of its public contemporaries. It is labelled ``estimate`` everywhere, with ``tokens``
null, and ``exact_only`` refuses it.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from toksmith.accounting.mapping import ESTIMATE, EXACT, tokenizer_for_model
from toksmith.accounting.prices import ModelPrice, PriceSnapshot, PriceTable
from toksmith.errors import UserError
from toksmith.results import Result

ESTIMATE_TOKENIZERS = (
    "o200k_base",
    "cl100k_base",
    "llama3",
    "mistral-tekken",
    "deepseek",
    "claude-legacy",
)
# The estimating tokenizers for conversations: those whose chat format toksmith.chat knows.
MESSAGE_ESTIMATE_TOKENIZERS = ("o200k_base", "cl100k_base", "llama3", "mistral-tekken")


@dataclass(frozen=True)
class CostPart(Result):
    """One billed part: tokens × USD per token = USD (low/high only for estimates)."""

    part: str  # input, cached_input, output, reasoning
    tokens: int | None  # None when the count is an estimate
    estimated_tokens: float | None
    tokens_low: int | None
    tokens_high: int | None
    usd_per_token: float
    usd: float
    usd_low: float | None
    usd_high: float | None
    arithmetic: str


@dataclass(frozen=True)
class ModelCost(Result):
    """The bill of one model."""

    model: str
    price_key: str
    provider: str | None
    tokenizer: str | None
    count_kind: str  # exact or estimate
    basis: str
    parts: list[CostPart]
    total_usd: float
    total_usd_low: float | None
    total_usd_high: float | None
    arithmetic: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CostResult(Result):
    """Costs of one input under several models, with the price snapshot used."""

    input: str
    prices: PriceSnapshot
    models: list[ModelCost]
    notes: list[str] = field(default_factory=list)


def estimate_tokens(counts: dict[str, int]) -> tuple[float, int, int]:
    """Median and range (min, max) of the token counts of the estimating tokenizers."""
    values = list(counts.values())
    return float(statistics.median(values)), min(values), max(values)


def compute_cost(
    models: Sequence[str],
    count_input: Callable[[str], int],
    *,
    what: str,
    prices: PriceTable,
    output_tokens: int = 0,
    cached_input_tokens: int = 0,
    reasoning_tokens: int = 0,
    exact_only: bool = False,
    estimate_tokenizers: Sequence[str] = ESTIMATE_TOKENIZERS,
) -> CostResult:
    """The cost of one input under each model.

    ``count_input(tokenizer_name)`` returns the input's token count under a built-in tokenizer
    (a text, a file, a conversation with its chat template...). Every model is resolved in the
    price table first, so an unknown name fails before any tokenizer loads.
    """
    for name, value in (
        ("output tokens", output_tokens),
        ("cached input tokens", cached_input_tokens),
        ("reasoning tokens", reasoning_tokens),
    ):
        if value < 0:
            raise UserError(f"{name} must be a whole number ≥ 0, got {value}")
    resolved = [(name, prices.resolve(name)) for name in models]
    choices = [tokenizer_for_model(price.model) for _, price in resolved]
    if exact_only:
        for (name, _), choice in zip(resolved, choices, strict=True):
            if choice.kind == ESTIMATE:
                raise UserError(
                    f"model {name!r}: its tokenizer is not public, so there is no exact count "
                    "(drop --exact for an estimate with an error bar)"
                )
    counts: dict[str, int] = {}

    def count(tokenizer: str) -> int:
        if tokenizer not in counts:
            counts[tokenizer] = count_input(tokenizer)
        return counts[tokenizer]

    results = []
    for (name, price), choice in zip(resolved, choices, strict=True):
        if choice.kind == EXACT and choice.tokenizer is not None:
            tokens = count(choice.tokenizer)
            estimate = None
            basis = choice.basis
        else:
            estimated = {tokenizer: count(tokenizer) for tokenizer in estimate_tokenizers}
            estimate = estimate_tokens(estimated)
            tokens = None
            shown = ", ".join(f"{key} {value}" for key, value in estimated.items())
            basis = f"{choice.basis}: median and range of {shown}"
        if cached_input_tokens and tokens is not None and cached_input_tokens > tokens:
            raise UserError(
                f"cached input tokens ({cached_input_tokens}) exceed the input's {tokens} "
                f"tokens under {name!r}"
            )
        results.append(
            _model_cost(
                name, price, choice.tokenizer, choice.kind, basis, tokens, estimate,
                output_tokens, cached_input_tokens, reasoning_tokens,
            )
        )  # fmt: skip
    return CostResult(input=what, prices=prices.snapshot, models=results,
                      notes=list(prices.snapshot.warnings))  # fmt: skip


def _model_cost(
    name: str,
    price: ModelPrice,
    tokenizer: str | None,
    kind: str,
    basis: str,
    input_tokens: int | None,
    estimate: tuple[float, int, int] | None,
    output_tokens: int,
    cached_input_tokens: int,
    reasoning_tokens: int,
) -> ModelCost:
    notes: list[str] = []
    if price.model != name:
        notes.append(f"{name!r} priced as {price.model!r}")
    input_price = _required(price.input, name, "input")
    parts = []
    if estimate is None:
        assert input_tokens is not None
        parts.append(_exact_part("input", input_tokens - cached_input_tokens, input_price))
    else:
        point, fewest, most = estimate
        parts.append(
            _estimated_part("input", point, fewest, most, cached_input_tokens, input_price)
        )
    if cached_input_tokens:
        cached_price = price.cached_input
        if cached_price is None:
            cached_price = input_price
            notes.append("no cache-read price in the table: cached input at the input price")
        parts.append(_exact_part("cached_input", cached_input_tokens, cached_price))
    if output_tokens:
        parts.append(_exact_part("output", output_tokens, _required(price.output, name, "output")))
    if reasoning_tokens:
        reasoning_price = price.reasoning
        if reasoning_price is None:
            reasoning_price = _required(price.output, name, "output")
            notes.append("reasoning tokens billed at the output price (no reasoning price)")
        parts.append(_exact_part("reasoning", reasoning_tokens, reasoning_price))
    total = float(sum(part.usd for part in parts))
    low: float | None = None
    high: float | None = None
    if estimate is not None:
        low = float(sum(part.usd if part.usd_low is None else part.usd_low for part in parts))
        high = float(sum(part.usd if part.usd_high is None else part.usd_high for part in parts))
    arithmetic = " + ".join(f"${part.usd:.6g}" for part in parts) + f" = ${total:.6g}"
    return ModelCost(
        model=name, price_key=price.model, provider=price.provider, tokenizer=tokenizer,
        count_kind=kind, basis=basis, parts=parts, total_usd=total, total_usd_low=low,
        total_usd_high=high, arithmetic=arithmetic, notes=notes,
    )  # fmt: skip


def _required(value: float | None, model: str, part: str) -> float:
    if value is None:
        raise UserError(f"model {model!r} has no {part} price in the price table")
    return value


def _exact_part(part: str, tokens: int, usd_per_token: float) -> CostPart:
    usd = tokens * usd_per_token
    return CostPart(
        part, tokens, None, None, None, usd_per_token, usd, None, None,
        f"{tokens} × ${usd_per_token:.6g} = ${usd:.6g}",
    )  # fmt: skip


def _estimated_part(
    part: str, point: float, low: int, high: int, cached: int, usd_per_token: float
) -> CostPart:
    point, low, high = max(point - cached, 0.0), max(low - cached, 0), max(high - cached, 0)
    usd = point * usd_per_token
    return CostPart(
        part, None, point, low, high, usd_per_token, usd, low * usd_per_token,
        high * usd_per_token,
        f"~{point:g} (estimate, {low}–{high}) × ${usd_per_token:.6g} = ~${usd:.6g}",
    )  # fmt: skip


def messages_counter(
    path: str, special: str = "text", errors: str = "strict"
) -> Callable[[str], int]:
    """``count_input`` for a conversation file: every conversation formatted as the model
    family formats it, through :mod:`toksmith.chat` (content plus template overhead)."""
    from toksmith.chat import count_messages, read_conversations
    from toksmith.tokenizers import load_tokenizer

    conversations = read_conversations(path, errors=errors)

    def count(tokenizer: str) -> int:
        result = count_messages([load_tokenizer(tokenizer, special=special)], conversations)
        return sum(total.total_tokens for total in result.totals)

    return count


def text_counter(text: str, special: str = "text") -> Callable[[str], int]:
    """``count_input`` for a plain text (a file is its whole text, as it is sent)."""
    from toksmith.tokenizers import load_tokenizer

    def count(tokenizer: str) -> int:
        return len(load_tokenizer(tokenizer, special=special).encode(text))

    return count


__all__ = [
    "ESTIMATE_TOKENIZERS",
    "MESSAGE_ESTIMATE_TOKENIZERS",
    "CostPart",
    "CostResult",
    "ModelCost",
    "compute_cost",
    "estimate_tokens",
    "messages_counter",
    "text_counter",
]
