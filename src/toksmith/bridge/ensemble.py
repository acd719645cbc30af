"""Byte-level ensembles of language models with different tokenizers.

Phan et al. (2024), "Exact Byte-Level Probabilities from Tokenized Language Models for
FIM-Tasks and Model Ensembles": once every model gives a distribution over the next *byte*,
models with different vocabularies predict the same thing and can be combined byte by byte.
We report two combinations: the mixture (weighted average of the next-byte distributions) and
the normalized product (weighted geometric mean, renormalized over the 256 bytes).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from toksmith.bridge.bytelevel import ByteLevelModel
from toksmith.errors import UserError
from toksmith.results import Result


@dataclass
class MemberScore(Result):
    """One model of the ensemble on its own."""

    name: str
    tokenizer: str
    weight: float
    bits_per_byte: float
    lm_calls: int


@dataclass
class EnsembleScore(Result):
    """Bits per byte (log base 2) of each member, their mixture and their product."""

    bytes: int
    members: list[MemberScore] = field(default_factory=list)
    mixture_bits_per_byte: float = math.nan
    product_bits_per_byte: float = math.nan
    elapsed_s: float = 0.0


def mixture(distributions: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted average of next-byte distributions."""
    return np.sum([w * d for w, d in zip(weights, distributions, strict=True)], axis=0)


def product(distributions: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted geometric mean of next-byte distributions, renormalized."""
    with np.errstate(divide="ignore"):
        logs = np.sum([w * np.log(d) for w, d in zip(weights, distributions, strict=True)], axis=0)
    logs -= logs.max()
    combined = np.exp(logs)
    return combined / combined.sum()


def ensemble_score(
    models: Sequence[ByteLevelModel],
    data: bytes,
    *,
    weights: Sequence[float] | None = None,
    names: Sequence[str] | None = None,
) -> EnsembleScore:
    """Score ``data`` with every model and with their byte-level mixture and product.

    ``weights`` default to equal weights; they must be positive and finite (an infinite weight
    has no normalized share) and are normalized to sum to 1.
    """
    if len(models) < 2:
        raise UserError(f"an ensemble needs at least two language models (got {len(models)})")
    if not data:
        raise UserError("nothing to score: the text is empty")
    raw = list(weights) if weights is not None else [1.0] * len(models)
    if len(raw) != len(models) or any(not (w > 0 and math.isfinite(w)) for w in raw):
        raise UserError(
            f"weights {raw} must be {len(models)} positive finite numbers, one per model"
        )
    normalized = [w / sum(raw) for w in raw]
    started = time.perf_counter()
    calls_before = [model.calls for model in models]
    states = [model.start(b"") for model in models]
    member_bits = [0.0] * len(models)
    mixture_bits = 0.0
    product_bits = 0.0
    for byte in data:
        distributions = [state.distribution() for state in states]
        for position, distribution in enumerate(distributions):
            member_bits[position] += _surprisal(float(distribution[byte]))
        mixture_bits += _surprisal(float(mixture(distributions, normalized)[byte]))
        product_bits += _surprisal(float(product(distributions, normalized)[byte]))
        for state in states:
            state.advance(byte)
    result = EnsembleScore(
        bytes=len(data),
        mixture_bits_per_byte=mixture_bits / len(data),
        product_bits_per_byte=product_bits / len(data),
        elapsed_s=time.perf_counter() - started,
    )
    for position, model in enumerate(models):
        result.members.append(
            MemberScore(
                name=names[position] if names else model.lm.name,
                tokenizer=model.tokenizer.name,
                weight=normalized[position],
                bits_per_byte=member_bits[position] / len(data),
                lm_calls=model.calls - calls_before[position],
            )
        )
    return result


def _surprisal(probability: float) -> float:
    return -math.log2(probability) if probability > 0 else math.inf
