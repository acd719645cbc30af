"""Mid-token completion on code: cut held-out source at random byte positions and ask each
decoding mode for the next bytes.

This is the setting of Phan et al. (2024), "Exact Byte-Level Probabilities from Tokenized
Language Models for FIM-Tasks and Model Ensembles", section on fill-in-the-middle: a prompt
that ends inside a token. We measure exact match of the next ``k`` bytes after greedy
decoding in ``token``, ``heal`` and ``byte`` mode (see :mod:`toksmith.bridge.decode`).
Deviation, stated: the paper evaluates FIM with prefix *and* suffix on HumanEval-style
benchmarks with large code models; here the "middle" is only the next ``k`` bytes after the
prefix (no suffix is shown to the model), on Python standard-library source.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from toksmith.bridge.bytelevel import ByteLevelModel
from toksmith.bridge.decode import MODES, complete
from toksmith.errors import UserError
from toksmith.results import Result

CUTS = ("mid-token", "boundary", "any")


@dataclass(frozen=True)
class FimCase(Result):
    """One cut: ``prompt`` ends at byte ``offset`` of ``source``; ``target`` follows it."""

    source: str
    offset: int
    prompt: bytes
    target: bytes
    mid_token: bool

    def to_dict(self) -> dict:
        """The case with its bytes as text (invalid UTF-8 replaced by U+FFFD)."""
        return {
            "source": self.source,
            "offset": self.offset,
            "prompt": self.prompt.decode("utf-8", "replace"),
            "target": self.target.decode("utf-8", "replace"),
            "mid_token": self.mid_token,
        }


@dataclass
class FimModeResult(Result):
    """Exact-match accuracy of one decoding mode."""

    mode: str
    cases: int
    correct: int
    exact_match: float  # correct / cases
    lm_calls: int
    elapsed_s: float


@dataclass
class FimResult(Result):
    """The evaluation table and the conditions it was measured under."""

    lm: str
    tokenizer: str
    cases: int
    k_bytes: int
    cuts: str
    context_bytes: int
    seed: int
    modes: list[FimModeResult] = field(default_factory=list)
    examples: list[dict[str, str]] = field(default_factory=list)  # first few, for reading


def fim_cases(
    model: ByteLevelModel,
    sources: Iterable[tuple[str, str]],
    *,
    n: int,
    k_bytes: int = 8,
    cuts: str = "mid-token",
    context_bytes: int = 512,
    seed: int = 0,
) -> list[FimCase]:
    """``n`` random cuts of the ``(name, text)`` sources, drawn with ``seed``.

    A cut is at a UTF-8 character boundary with at least ``k_bytes`` bytes after it;
    ``mid-token`` cuts fall strictly inside a token of the tokenizer's encoding of the whole
    source, ``boundary`` cuts between two tokens. The prompt starts at the beginning of the
    line that holds byte ``offset - context_bytes`` (or at the start of the source).
    """
    if cuts not in CUTS:
        raise UserError(f"cuts {cuts!r} is not one of {', '.join(CUTS)}")
    if n <= 0 or k_bytes <= 0:
        raise UserError(f"need a positive number of cases and bytes (got n={n}, k={k_bytes})")
    candidates: list[tuple[str, bytes, np.ndarray, np.ndarray]] = []
    for name, text in sources:
        data = text.encode("utf-8")
        boundaries = np.zeros(len(data) + 1, dtype=bool)
        position = 0
        for token in model.encode_bytes(data):
            boundaries[position] = True
            position += len(model.tokenizer.token_bytes(token))
        character_start = np.frombuffer(data, dtype=np.uint8) & 0xC0 != 0x80
        allowed = np.zeros(len(data) + 1, dtype=bool)
        allowed[1 : len(data) - k_bytes + 1] = character_start[1 : len(data) - k_bytes + 1]
        if cuts == "mid-token":
            allowed &= ~boundaries
        elif cuts == "boundary":
            allowed &= boundaries
        offsets = np.flatnonzero(allowed)
        if len(offsets):
            candidates.append((name, data, offsets, boundaries))
    if not candidates:
        raise UserError(f"no {cuts} cut with {k_bytes} bytes after it in the given sources")
    rng = np.random.default_rng(seed)
    weights = np.array([len(offsets) for _, _, offsets, _ in candidates], dtype=np.float64)
    chosen: set[tuple[int, int]] = set()
    total = int(weights.sum())
    if n > total:
        raise UserError(f"asked for {n} cases but the sources have only {total} {cuts} cuts")
    cases: list[FimCase] = []
    while len(cases) < n:
        source = int(rng.choice(len(candidates), p=weights / weights.sum()))
        name, data, offsets, boundaries = candidates[source]
        offset = int(offsets[int(rng.integers(len(offsets)))])
        if (source, offset) in chosen:
            continue
        chosen.add((source, offset))
        start = data.rfind(b"\n", 0, max(0, offset - context_bytes)) + 1
        cases.append(
            FimCase(
                source=name,
                offset=offset,
                prompt=data[start:offset],
                target=data[offset : offset + k_bytes],
                mid_token=not bool(boundaries[offset]),
            )
        )
    return cases


def fim_eval(
    model: ByteLevelModel,
    cases: list[FimCase],
    *,
    modes: Iterable[str] = MODES,
    cuts: str = "mid-token",
    context_bytes: int = 512,
    seed: int = 0,
    examples: int = 3,
) -> FimResult:
    """Greedy completion of every case in every mode; exact match of the next bytes."""
    if not cases:
        raise UserError("no FIM cases to evaluate")
    k_bytes = len(cases[0].target)
    result = FimResult(
        lm=model.lm.name,
        tokenizer=model.tokenizer.name,
        cases=len(cases),
        k_bytes=k_bytes,
        cuts=cuts,
        context_bytes=context_bytes,
        seed=seed,
    )
    for mode in modes:
        correct = 0
        calls = 0
        started = time.perf_counter()
        for number, case in enumerate(cases):
            completion = complete(model, case.prompt, len(case.target), mode=mode)
            correct += completion.text == case.target
            calls += completion.lm_calls
            if number < examples:
                result.examples.append(
                    {
                        "mode": mode,
                        "prompt_end": case.prompt[-30:].decode("utf-8", "replace"),
                        "target": case.target.decode("utf-8", "replace"),
                        "completion": completion.text.decode("utf-8", "replace"),
                    }
                )
        result.modes.append(
            FimModeResult(
                mode=mode,
                cases=len(cases),
                correct=correct,
                exact_match=correct / len(cases),
                lm_calls=calls,
                elapsed_s=time.perf_counter() - started,
            )
        )
    return result
