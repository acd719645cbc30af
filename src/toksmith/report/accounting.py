"""Rendering the accounting results: prices, costs, bill checks, CoIn verdicts, experiments.

Rendering only: every figure comes from :mod:`toksmith.accounting`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toksmith.report.output import to_json
from toksmith.report.tables import Table, render_tables

if TYPE_CHECKING:
    from toksmith.accounting.check import BillCheck
    from toksmith.accounting.coin import CommitResult, VerifyResult
    from toksmith.accounting.cost import CostResult
    from toksmith.accounting.experiment import ExperimentResult
    from toksmith.accounting.prices import ModelPrice, PriceSnapshot


def snapshot_line(snapshot: PriceSnapshot) -> str:
    """One line naming the price source, version and date."""
    version = f" {snapshot.version}" if snapshot.version else ""
    return (
        f"prices: {snapshot.package}{version} ({snapshot.file}), snapshot {snapshot.snapshot_date}"
        f" — {snapshot.date_method}"
    )


def render_prices(rows: list[ModelPrice], snapshot: PriceSnapshot, fmt: str) -> str:
    """The price rows: model, $/1M input/output/cached input/reasoning, provider, source."""
    if fmt == "json":
        return to_json({"prices": snapshot, "models": rows})
    fields = ["model", "provider", "input_per_1m", "output_per_1m", "cached_input_per_1m",
              "reasoning_per_1m", "source", "date"]  # fmt: skip
    columns = ["model", "provider", "$/1M in", "$/1M out", "$/1M cached in", "$/1M reasoning",
               "source", "date"]  # fmt: skip
    table_rows: list[list[object]] = []
    for row in rows:
        table_rows.append(
            [
                row.model,
                row.provider,
                row.per_million("input"),
                row.per_million("output"),
                row.per_million("cached_input"),
                row.per_million("reasoning"),
                row.source or snapshot.package,
                snapshot.snapshot_date,
            ]  # fmt: skip
        )
    footer = [snapshot_line(snapshot), *snapshot.warnings]
    if not rows:
        footer.insert(0, "no model matches")
    table = Table(f"Prices ({len(rows)} models)", columns, table_rows, footer, fields)
    return render_tables([table], fmt)


def render_cost(result: CostResult, fmt: str) -> str:
    """Each model's parts (tokens × $/token = $) and total; estimates are marked."""
    if fmt == "json":
        return to_json(result)
    fields = ["model", "price_key", "tokenizer", "count", "part", "tokens", "usd_per_1m", "usd"]
    rows: list[list[object]] = []
    footer: list[str] = []
    for model in result.models:
        for part in model.parts:
            tokens: object = part.tokens
            if part.tokens is None:
                tokens = f"~{part.estimated_tokens:g} ({part.tokens_low}–{part.tokens_high})"
            rows.append(
                [
                    model.model,
                    model.price_key,
                    model.tokenizer or "–",
                    model.count_kind,
                    part.part,
                    tokens,
                    f"{part.usd_per_token * 1_000_000:.6g}",
                    f"{part.usd:.6g}",
                ]  # fmt: skip
            )
        total = f"${model.total_usd:.6g}"
        if model.total_usd_low is not None:
            total = f"~{total} (estimate, ${model.total_usd_low:.6g}–${model.total_usd_high:.6g})"
        footer.append(f"{model.model}: {model.arithmetic}; total {total} — {model.basis}")
        footer.extend(f"{model.model}: {note}" for note in model.notes)
    footer.append(snapshot_line(result.prices))
    footer.extend(result.notes)
    columns = ["model", "priced as", "tokenizer", "count", "part", "tokens", "$/1M", "USD"]
    table = Table(f"Cost of {result.input}", columns, rows, footer, fields)
    return render_tables([table], fmt)


def render_check(result: BillCheck, fmt: str) -> str:
    """The canonical count against the claim, with the verdict."""
    if fmt == "json":
        return to_json(result)
    fields = ["tokenizer", "canonical_tokens", "claimed_tokens", "bytes", "verdict",
              "extra_tokens"]  # fmt: skip
    row: list[object] = [result.tokenizer, result.canonical_tokens, result.claimed_tokens,
                         result.bytes, result.verdict, result.extra_tokens]  # fmt: skip
    table = Table("Bill check", fields, [row], [*result.reasons, *result.notes], fields)
    return render_tables([table], fmt)


def render_commit(result: CommitResult, fmt: str) -> str:
    """What was committed."""
    if fmt == "json":
        return to_json(result)
    fields = ["tokenizer", "tokens", "blocks", "block_size", "merkle_root", "elapsed_s"]
    row: list[object] = [result.commitment.tokenizer, result.commitment.n_tokens,
                         result.commitment.n_leaves, result.commitment.block_size,
                         result.commitment.merkle_root, result.elapsed_s]  # fmt: skip
    return render_tables([Table("CoIn commitment", fields, [row], [], fields)], fmt)


def render_verify(result: VerifyResult, fmt: str) -> str:
    """Every check with its outcome, then the verdict."""
    if fmt == "json":
        return to_json(result)
    fields = ["check", "passed", "detail"]
    rows: list[list[object]] = [[c.name, "yes" if c.passed else "NO", c.detail]
                                for c in result.checks]  # fmt: skip
    footer = [f"verdict: {result.verdict}", *result.notes]
    return render_tables([Table("CoIn verification", fields, rows, footer, fields)], fmt)


def render_experiment(result: ExperimentResult, fmt: str) -> str:
    """Detection rate per inflation kind × rate × openings, each beside the held-out
    false-positive rate of the same rule, with exact 95% intervals."""
    if fmt == "json":
        return to_json(result)
    fields = ["kind", "inflation", "openings", "detection_rate", "detection_low",
              "detection_high", "false_positive_rate", "false_positive_low",
              "false_positive_high", "openings_needed"]  # fmt: skip
    rows: list[list[object]] = [
        [r.kind, r.inflation, r.openings, r.detection_rate, r.detection_low, r.detection_high,
         r.false_positive_rate, r.false_positive_low, r.false_positive_high, r.openings_needed]
        for r in result.rows
    ]  # fmt: skip
    columns = ["kind", "inflation", "openings", "detection", "95% low", "95% high",
               "FPR (held-out honest)", "FPR 95% low", "FPR 95% high",
               "openings for ≥90%"]  # fmt: skip
    title = (
        f"CoIn inflation detection ({result.n_traces} traces, FPR ≤ {result.target_fpr:g} at "
        f"{result.confidence:.0%} confidence)"
    )
    return render_tables([Table(title, columns, rows, list(result.notes), fields)], fmt)


__all__ = [
    "render_check",
    "render_commit",
    "render_cost",
    "render_experiment",
    "render_prices",
    "render_verify",
    "snapshot_line",
]
