"""``adapt eval``: models with different tokenizers compared on one held-out text, in bits per
byte.

Per-token perplexities under two tokenizers do not compare (a model with longer tokens has fewer,
harder predictions), so the one measure is the total negative log2-likelihood of the text divided
by its UTF-8 bytes (:func:`toksmith.models.bits_per_byte`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toksmith.progress import Progress
from toksmith.results import Result


@dataclass
class ModelScore(Result):
    """One model on the held-out text."""

    model: str
    architecture: str
    vocab_size: int
    tokens: int
    bits_per_byte: float
    tokens_per_byte: float


@dataclass
class EvalResult(Result):
    """``adapt eval``: every model's bits per byte on the same texts (lower is better)."""

    corpus: str
    texts: int
    bytes: int
    results: list[ModelScore]
    elapsed_s: float
    kind: str = "adapt-eval"
    notes: list[str] = field(default_factory=list)


def evaluate_models(
    models: Sequence[str | Path],
    texts: Sequence[str],
    *,
    corpus: str = "",
    progress: Progress | None = None,
) -> EvalResult:
    """Load each model folder and measure its bits per byte on ``texts``. Only causal LMs
    predict text; a BERT encoder is refused by :func:`toksmith.models.bits_per_byte`."""
    from toksmith.models import load_model

    try:
        from toksmith.models import bits_per_byte  # type: ignore[attr-defined]
    except ImportError:  # the runtime exports it from its causal module
        from toksmith.models.causal import bits_per_byte

    started = time.perf_counter()
    total_bytes = sum(len(text.encode("utf-8")) for text in texts)
    scores: list[ModelScore] = []
    for number, folder in enumerate(models):
        if progress:
            progress(f"scoring {folder}", number / max(len(models), 1))
        model = load_model(folder)
        tokens = sum(len(ids) for ids in model.tokenizer.encode_batch(list(texts)))
        scores.append(
            ModelScore(
                model=str(folder),
                architecture=model.architecture,
                vocab_size=model.tokenizer.vocab_size,
                tokens=tokens,
                bits_per_byte=float(bits_per_byte(model, texts)),
                tokens_per_byte=tokens / total_bytes if total_bytes else float("nan"),
            )
        )
    return EvalResult(
        corpus=corpus,
        texts=len(texts),
        bytes=total_bytes,
        results=scores,
        elapsed_s=time.perf_counter() - started,
    )
