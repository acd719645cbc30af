"""Checking a bill: a claimed token count (or token sequence) against the canonical encoding.

After "Is Your LLM Overcharging You? Tokenization, Transparency, and Incentives" (Velasco et
al., 2025): a provider that reports only a count can bill for a longer, non-canonical
tokenization of the same text — every sequence of tokens whose bytes spell the text decodes to
it — and the user cannot tell from the text alone. What can be checked:

- The canonical count: what the tokenizer itself produces for the text.
- The bounds over *all* tokenizations: the shortest and the longest sequence of vocabulary tokens
  whose bytes concatenate to the text, by dynamic programming over the byte string (shortest and
  longest path in the DAG of token matches; pre-tokenization is ignored, because a provider's
  sequence need not respect it). A claim outside [shortest, longest] is impossible with this
  tokenizer. For byte-level BPE every single byte is a token, so the longest is the number of
  bytes.
- A claimed sequence: whether it decodes to the text, and if so whether it is the canonical
  one, and how many tokens more than the canonical it bills.

Deviation: the paper studies the incentive and a pay-per-character remedy; it has no command.
The bounds are computed only for byte-exact tokenizers (byte-level BPE: tiktoken, Tekken, HF
byte-level), whose tokens are plain byte strings; for others only the canonical comparison is
made. Special tokens are left out of the bounds (text is counted as text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from toksmith.errors import UserError
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

CONSISTENT = "consistent"
OVERBILLED = "above canonical"
UNDERBILLED = "below canonical"
IMPOSSIBLE = "impossible"
NON_CANONICAL = "non-canonical"
NOT_THE_TEXT = "does not decode to the text"


@dataclass(frozen=True)
class BillCheck(Result):
    """The claim, the canonical count, the bounds over all tokenizations and the verdict."""

    tokenizer: str
    bytes: int
    canonical_tokens: int
    claimed_tokens: int
    shortest_tokens: int | None  # None when bounds are not computed (not byte-exact)
    longest_tokens: int | None
    verdict: str
    extra_tokens: int  # claimed - canonical
    claimed_ids_decode_to_text: bool | None  # None when only a count was claimed
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@lru_cache(maxsize=8)
def _pieces(tokenizer: Tokenizer) -> tuple[frozenset[bytes], int]:
    """The byte strings of the tokenizer's non-special tokens and the longest one's length
    (computed once per tokenizer: the built-ins are shared objects)."""
    specials = tokenizer.special_ids
    pieces = frozenset(
        piece
        for token_id, piece in enumerate(tokenizer.vocab_bytes)
        if piece and token_id not in specials
    )
    return pieces, max((len(piece) for piece in pieces), default=0)


def tokenization_bounds(tokenizer: Tokenizer, data: bytes) -> tuple[int, int] | None:
    """The fewest and the most vocabulary tokens whose bytes concatenate to ``data``, or None
    when no sequence spells it. Specials are excluded; O(len(data) × longest token)."""
    pieces, longest_piece = _pieces(tokenizer)
    size = len(data)
    unreachable = size + 1
    fewest = [unreachable] * (size + 1)
    most = [-1] * (size + 1)
    fewest[0] = most[0] = 0
    for start in range(size):
        if most[start] < 0:
            continue
        for end in range(start + 1, min(size, start + longest_piece) + 1):
            if data[start:end] in pieces:
                fewest[end] = min(fewest[end], fewest[start] + 1)
                most[end] = max(most[end], most[start] + 1)
    if most[size] < 0:
        return None
    return fewest[size], most[size]


def check_bill(
    tokenizer: Tokenizer,
    text: str,
    *,
    claimed_tokens: int | None = None,
    claimed_ids: Sequence[int] | None = None,
) -> BillCheck:
    """Compare a claimed count, or a claimed id sequence, with the canonical encoding of
    ``text`` (see the module docstring). Exactly one of the two claims is given."""
    if (claimed_tokens is None) == (claimed_ids is None):
        raise UserError("give either a claimed count or a claimed id sequence (not both)")
    if claimed_tokens is not None and claimed_tokens < 0:
        raise UserError(f"claimed count must be a whole number ≥ 0, got {claimed_tokens}")
    data = text.encode("utf-8")
    canonical = tokenizer.encode(text)
    bounds = tokenization_bounds(tokenizer, data) if tokenizer.byte_exact else None
    notes: list[str] = []
    if not tokenizer.byte_exact:
        notes.append(
            f"{tokenizer.name} is not byte-exact: only the canonical count is compared, no bounds"
        )
    reasons: list[str] = []
    decodes: bool | None = None
    if claimed_ids is not None:
        ids = [int(i) for i in claimed_ids]
        for position, token_id in enumerate(ids):
            if not 0 <= token_id < tokenizer.vocab_size:
                raise UserError(
                    f"claimed id {token_id} at position {position} is not an id of "
                    f"{tokenizer.name} (0 to {tokenizer.vocab_size - 1})"
                )
        claimed = len(ids)
        decodes = _spells(tokenizer, ids, data)
        if not decodes:
            verdict = NOT_THE_TEXT
            reasons.append("the claimed ids do not spell the text: they bill for another text")
        elif ids == canonical:
            verdict = CONSISTENT
            reasons.append("the claimed ids are the canonical encoding")
        else:
            verdict = NON_CANONICAL
            reasons.append(
                f"the claimed ids spell the text but are not its canonical encoding: "
                f"{claimed - len(canonical):+d} tokens against the canonical {len(canonical)} "
                "(Velasco et al. 2025)"
            )
    else:
        assert claimed_tokens is not None
        claimed = claimed_tokens
        verdict = _count_verdict(claimed, len(canonical), bounds, reasons)
    return BillCheck(
        tokenizer=tokenizer.name, bytes=len(data), canonical_tokens=len(canonical),
        claimed_tokens=claimed, shortest_tokens=None if bounds is None else bounds[0],
        longest_tokens=None if bounds is None else bounds[1], verdict=verdict,
        extra_tokens=claimed - len(canonical), claimed_ids_decode_to_text=decodes,
        reasons=reasons, notes=notes,
    )  # fmt: skip


def _spells(tokenizer: Tokenizer, ids: list[int], data: bytes) -> bool:
    if tokenizer.byte_exact:
        return b"".join(tokenizer.token_bytes(i) for i in ids) == data
    return tokenizer.decode(ids).encode("utf-8") == data


def _count_verdict(
    claimed: int, canonical: int, bounds: tuple[int, int] | None, reasons: list[str]
) -> str:
    if bounds is not None:
        shortest, longest = bounds
        if claimed > longest:
            reasons.append(
                f"claimed {claimed} tokens, but the longest possible tokenization of the text "
                f"has {longest}"
            )
            return IMPOSSIBLE
        if claimed < shortest:
            reasons.append(
                f"claimed {claimed} tokens, but the shortest tokenization of the text has "
                f"{shortest}"
            )
            return IMPOSSIBLE
    if claimed == canonical:
        reasons.append("the claim is the canonical count")
        return CONSISTENT
    if claimed > canonical:
        reasons.append(
            f"the claim bills {claimed - canonical} tokens more than the canonical encoding: "
            "possible only with a non-canonical tokenization (Velasco et al. 2025)"
        )
        return OVERBILLED
    reasons.append(
        f"the claim is {canonical - claimed} tokens below the canonical count: the tokenizer does "
        "not produce it (possible only as a shorter non-canonical sequence)"
    )
    return UNDERBILLED


__all__ = ["BillCheck", "check_bill", "tokenization_bounds"]
