"""How a tokenizer cuts numbers into tokens.

"Tokenization counts: the impact of tokenization on arithmetic in frontier LLMs" (Singh and
Strouse, 2024) shows that whether digits are grouped left-to-right (GPT-3.5/4: ``1234567`` →
``123|456|7``) or right-to-left (``1|234|567``) changes arithmetic accuracy; single-digit
tokenizers (Llama 1/2, Mistral's SentencePiece) avoid the question. This module measures which
scheme a tokenizer follows for numbers of 1 to 12 digits, on random numbers of each length.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

SCHEMES = ("single_token", "single_digits", "left_to_right", "right_to_left", "irregular")


def classify_chunks(chunks: list[int]) -> str:
    """The grouping scheme that explains digit chunk lengths ``chunks`` (left to right).

    ``single_token`` for one token; ``single_digits`` when every chunk is one digit;
    ``left_to_right`` when all chunks but the last have the same length k ≥ 2 and the last
    is at most k; ``right_to_left`` when all but the first have length k and the first is
    at most k (a number whose length is a multiple of k fits both and is reported as
    ``left_to_right``); ``irregular`` otherwise, or when a chunk is not made of digits (0).
    """
    if any(length <= 0 for length in chunks):
        return "irregular"
    if len(chunks) == 1:
        return "single_token"
    if all(length == 1 for length in chunks):
        return "single_digits"
    head = chunks[0]
    if head >= 2 and all(length == head for length in chunks[1:-1]) and chunks[-1] <= head:
        return "left_to_right"
    tail = chunks[-1]
    if tail >= 2 and all(length == tail for length in chunks[1:-1]) and chunks[0] <= tail:
        return "right_to_left"
    return "irregular"


def digit_chunks(tokenizer: Tokenizer, ids: list[int], number: str) -> list[int] | None:
    """Digit count of each token of ``number``, or None when the tokens do not spell the
    number's digits (a normalizing tokenizer, or a token mixing digits and other text)."""
    lengths = []
    prefix = tokenizer.continuation_prefix
    for token_id in ids:
        text = tokenizer.vocab_bytes[token_id].decode("utf-8", errors="replace").strip()
        if prefix and text.startswith(prefix):
            text = text[len(prefix) :]
        if not text:
            continue  # a bare word-boundary token (SentencePiece "▁")
        if not text.isdigit():
            return None
        lengths.append(len(text))
    return lengths if sum(lengths) == len(number) else None


@dataclass(frozen=True)
class LengthRow(Result):
    """Schemes seen for numbers of one length."""

    digits: int
    samples: int
    schemes: dict[str, int]
    example: str  # one number cut at its token boundaries, e.g. "123|456|7"
    mean_tokens: float


@dataclass
class NumberAudit(Result):
    tokenizer: str
    rows: list[LengthRow] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The audit as the JSON reports it: the scheme, its group size, the rows as
        ``lengths``."""
        return {
            "tokenizer": self.tokenizer,
            "scheme": self.scheme,
            "group_size": self.group_size,
            "lengths": [row.to_dict() for row in self.rows],
        }

    @property
    def scheme(self) -> str:
        """The tokenizer's overall scheme: the one that explains every multi-token number of
        2 to 12 digits, or ``irregular``; ``single_token`` means none was ever split."""
        seen: Counter[str] = Counter()
        for row in self.rows:
            if row.digits >= 2:
                seen.update({k: v for k, v in row.schemes.items() if v})
        multi = {name for name in seen if name != "single_token"}
        if not multi:
            return "single_token"
        if len(multi) == 1:
            return multi.pop()
        return "irregular"

    @property
    def group_size(self) -> int | None:
        """k of the left-to-right or right-to-left groups, when the scheme has one."""
        for row in self.rows:
            if row.schemes.get(self.scheme) and self.scheme in ("left_to_right", "right_to_left"):
                chunks = [len(part) for part in row.example.split("|")]
                return max(chunks)
        return None


def sample_numbers(digits: int, count: int, rng: np.random.Generator) -> list[str]:
    """``count`` random numbers of exactly ``digits`` digits (no leading zero), as text."""
    if digits == 1:
        return [str(value) for value in rng.integers(0, 10, size=count)]
    low, high = 10 ** (digits - 1), 10**digits
    return [str(int(value)) for value in rng.integers(low, high, size=count, dtype=np.int64)]


def audit_numbers(
    tokenizer: Tokenizer, *, max_digits: int = 12, samples: int = 200, seed: int = 0
) -> NumberAudit:
    """Cut ``samples`` random numbers of each length 1..``max_digits`` and classify how.

    Numbers are encoded as they appear in running text, after a space
    (:meth:`Tokenizer.encode_words`), the context where arithmetic operands usually sit.
    """
    rng = np.random.default_rng(seed)
    audit = NumberAudit(tokenizer=tokenizer.name)
    for digits in range(1, max_digits + 1):
        numbers = sample_numbers(digits, samples, rng)
        schemes: Counter[str] = Counter()
        examples: dict[str, str] = {}
        total_tokens = 0
        for number, ids in zip(numbers, tokenizer.encode_words(numbers), strict=True):
            chunks = digit_chunks(tokenizer, ids, number)
            scheme = "irregular" if chunks is None else classify_chunks(chunks)
            schemes[scheme] += 1
            total_tokens += len(ids)
            if scheme not in examples:
                examples[scheme] = _cut(number, chunks)
        most_common = schemes.most_common(1)[0][0]
        audit.rows.append(
            LengthRow(
                digits=digits,
                samples=len(numbers),
                schemes={name: schemes.get(name, 0) for name in SCHEMES},
                example=examples[most_common],
                mean_tokens=total_tokens / len(numbers),
            )
        )
    return audit


def _cut(number: str, chunks: list[int] | None) -> str:
    if chunks is None:
        return number + " (tokens do not spell the digits)"
    parts, start = [], 0
    for length in chunks:
        parts.append(number[start : start + length])
        start += length
    return "|".join(parts)
