"""Vocabulary-size sweep: train a series, measure each on held-out text, pick the knee.

The choice rule follows "Explaining and Mitigating Crosslingual Tokenizer Inequities" (2025):
per language, the smallest vocabulary whose compression (bytes per token) is within
``tolerance`` (1%) of the best compression any size in the sweep reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from toksmith.corpus.read import Errors
from toksmith.errors import UserError
from toksmith.metrics import compare_corpus
from toksmith.progress import Progress
from toksmith.results import Result
from toksmith.tokenizers import load_tokenizer
from toksmith.train.run import TrainResult, train_tokenizer
from toksmith.train.settings import TrainSettings, validate


@dataclass
class SweepPoint(Result):
    """Compression of one trained vocabulary size on one held-out language."""

    vocab_size: int
    language: str
    tokens: int
    bytes: int
    bytes_per_token: float


@dataclass
class SweepChoice(Result):
    """The smallest vocabulary within tolerance of the best compression, per language."""

    language: str
    best_vocab_size: int
    best_bytes_per_token: float
    chosen_vocab_size: int
    chosen_bytes_per_token: float


@dataclass
class SweepResult(Result):
    algorithm: str
    vocab_sizes: list[int]
    tolerance: float
    points: list[SweepPoint]
    choices: list[SweepChoice]
    trained: list[TrainResult]


def parse_vocab_sizes(text: str) -> list[int]:
    """``"8k,16k,32000"`` → ``[8000, 16000, 32000]`` (k = 1000, K... also 1000; ki = 1024)."""
    sizes = []
    for part in text.split(","):
        item = part.strip().lower()
        if not item:
            continue
        factor = 1
        if item.endswith("ki"):
            factor, item = 1024, item[:-2]
        elif item.endswith("k"):
            factor, item = 1000, item[:-1]
        try:
            sizes.append(int(float(item) * factor))
        except ValueError:
            raise UserError(
                f"vocabulary size {part.strip()!r} is not a number like 8k or 32000"
            ) from None
    if not sizes:
        raise UserError(f"no vocabulary sizes in {text!r}")
    return sorted(set(sizes))


def choose_vocab_sizes(points: Sequence[SweepPoint], tolerance: float) -> list[SweepChoice]:
    """Per language: the smallest size with bytes/token ≥ (1 − tolerance) × the best."""
    choices = []
    for language in dict.fromkeys(p.language for p in points):
        rows = sorted((p for p in points if p.language == language), key=lambda p: p.vocab_size)
        best = max(rows, key=lambda p: p.bytes_per_token)
        chosen = next(
            p for p in rows if p.bytes_per_token >= (1 - tolerance) * best.bytes_per_token
        )
        choices.append(
            SweepChoice(
                language,
                best.vocab_size,
                best.bytes_per_token,
                chosen.vocab_size,
                chosen.bytes_per_token,
            )  # fmt: skip
        )
    return choices


def sweep_vocab_sizes(
    settings: TrainSettings,
    vocab_sizes: Sequence[int],
    output: str | Path,
    *,
    corpus: Sequence[str | Path],
    eval_corpus: str | Path,
    tolerance: float = 0.01,
    errors: Errors = "strict",
    special: str = "text",
    progress: Progress | None = None,
) -> SweepResult:
    """Train ``settings`` at each size into ``output/<size>/`` and measure each on
    ``eval_corpus`` (a parallel folder gives one row per language) with toksmith.metrics,
    encoding special-token strings by the ``special`` policy ("text" or "allow").

    A sweep that fails or is interrupted leaves no empty ``output`` folder behind (the
    tokenizers already trained stay)."""
    if not 0 <= tolerance < 1:
        raise UserError(f"tolerance must be in [0, 1), not {tolerance}")
    sizes = sorted(set(vocab_sizes))
    for size in sizes:
        validate(replace(settings, vocab_size=size, transition=None))
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"cannot write {folder}: it exists and is not a folder")
    created = not folder.exists()
    try:
        folder.mkdir(parents=False, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot write {folder}: {error.strerror}") from None
    trained: list[TrainResult] = []
    points: list[SweepPoint] = []
    try:
        for position, size in enumerate(sizes):
            if progress:
                progress(f"training {settings.algorithm} {size}", position / len(sizes))
            result = train_tokenizer(
                replace(settings, vocab_size=size), folder / str(size), corpus=corpus, errors=errors
            )
            trained.append(result)
            tokenizer = load_tokenizer(str(result.tokenizer_json), special=special)
            tokenizer.name = f"{settings.algorithm}-{size}"
            if progress:
                progress(f"measuring {settings.algorithm} {size}", (position + 0.5) / len(sizes))
            measured = compare_corpus([tokenizer], eval_corpus, errors=errors)
            for row in measured.results:
                points.append(
                    SweepPoint(size, row.language, row.tokens, row.bytes, row.bytes_per_token)
                )
    except BaseException:
        if created and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        raise
    return SweepResult(
        settings.algorithm, sizes, tolerance, points, choose_vocab_sizes(points, tolerance), trained
    )
