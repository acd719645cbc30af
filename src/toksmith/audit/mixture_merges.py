"""What data mixture inference needs from a tokenizer: its ordered merge list and its
pre-tokenizer, for byte-level BPE tokenizers only.

The merge list comes from ``model.merges`` of an HF ``tokenizer.json``, or is recovered from the
ranks of a tiktoken / Tekken rank table: the token of rank ``r`` was made by merging the two
parts that byte-level BPE, using only tokens of rank below ``r``, splits it into.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import regex

from toksmith.errors import UserError
from toksmith.tokenizers.base import Tokenizer
from toksmith.tokenizers.hf_json import HFJsonTokenizer, byte_level_alphabet
from toksmith.tokenizers.tiktoken_ranks import TiktokenTokenizer


@dataclass
class MergeList:
    """The first merges of a byte-level BPE tokenizer, in the order they were learned."""

    merges: list[tuple[bytes, bytes]]  # (left, right): their concatenation is the new token
    available: int  # merges the tokenizer has in all
    skipped: int  # rank-table tokens among the first ones that no two lower ranks make


def merge_list(tokenizer: Tokenizer, max_merges: int) -> MergeList:
    """The first ``max_merges`` merges of ``tokenizer``, or a UserError when it has none
    (Unigram, WordPiece, SentencePiece, character-level BPE)."""
    if max_merges < 1:
        raise UserError(f"--merges {max_merges}: expected a positive number of merges")
    if isinstance(tokenizer, TiktokenTokenizer):
        return merges_from_ranks(tokenizer.encoding._mergeable_ranks, max_merges)
    if isinstance(tokenizer, HFJsonTokenizer):
        return _hf_merges(tokenizer, max_merges)
    raise UserError(
        f"tokenizer {tokenizer.name!r} ({tokenizer.backend}) has no ordered merge list: "
        "data mixture inference needs a byte-level BPE tokenizer (HF BPE tokenizer.json, "
        "tiktoken or Tekken rank file)"
    )


def merges_from_ranks(ranks: Mapping[bytes, int], max_merges: int) -> MergeList:
    """Recover the merge order of a tiktoken rank table.

    Tokens of two or more bytes are taken in rank order; each one is split by running BPE on
    its bytes with only the ranks lower than its own, which leaves exactly the two parts it
    was merged from. A token that does not come apart into two parts (it was added by hand)
    is counted in ``skipped`` and left out.
    """
    multi_byte = sorted((rank, token) for token, rank in ranks.items() if len(token) > 1)
    merges: list[tuple[bytes, bytes]] = []
    skipped = 0
    for rank, token in multi_byte:
        if len(merges) >= max_merges:
            break
        parts = _bpe_parts(ranks, token, rank)
        if len(parts) == 2:
            merges.append((parts[0], parts[1]))
        else:
            skipped += 1
    return MergeList(merges=merges, available=len(multi_byte) - skipped, skipped=skipped)


def _bpe_parts(ranks: Mapping[bytes, int], token: bytes, below_rank: int) -> list[bytes]:
    """The parts BPE leaves of ``token`` when it may only use ranks below ``below_rank``."""
    parts = [token[i : i + 1] for i in range(len(token))]
    while len(parts) > 2:
        best_rank = below_rank
        best_position = -1
        for position in range(len(parts) - 1):
            rank = ranks.get(parts[position] + parts[position + 1])
            if rank is not None and rank < best_rank:
                best_rank = rank
                best_position = position
        if best_position < 0:
            break
        parts[best_position : best_position + 2] = [parts[best_position] + parts[best_position + 1]]
    return parts


def _hf_merges(tokenizer: HFJsonTokenizer, max_merges: int) -> MergeList:
    model = tokenizer.config.get("model") or {}
    kind = model.get("type", "?")
    if kind != "BPE":
        raise UserError(
            f"tokenizer {tokenizer.name!r} is a {kind} model, which has no merge list: data "
            "mixture inference needs a byte-level BPE tokenizer"
        )
    if not _is_byte_level_bpe(tokenizer):
        raise UserError(
            f"tokenizer {tokenizer.name!r} is a BPE model over characters, not bytes (no "
            "ByteLevel pre-tokenizer): data mixture inference needs a byte-level BPE tokenizer"
        )
    raw = model.get("merges") or []
    if not raw:
        raise UserError(f"tokenizer {tokenizer.name!r}: its BPE model lists no merges")
    alphabet = byte_level_alphabet()
    merges = []
    for entry in raw[:max_merges]:
        left, right = entry.split(" ", 1) if isinstance(entry, str) else entry
        merges.append((_from_byte_level(left, alphabet), _from_byte_level(right, alphabet)))
    return MergeList(merges=merges, available=len(raw), skipped=0)


def _is_byte_level_bpe(tokenizer: HFJsonTokenizer) -> bool:
    """True when pre-tokens come out of the HF pipeline as byte-level stand-in characters."""
    return tokenizer.is_byte_level and "ByteLevel" in tokenizer.pipeline().pre_tokenizer


def _from_byte_level(piece: str, alphabet: dict[str, int]) -> bytes:
    return bytes(alphabet[char] for char in piece)


def count_pretokens(tokenizer: Tokenizer, texts: Iterable[str]) -> Counter[bytes]:
    """How often each pre-token (as bytes) occurs in ``texts`` after the tokenizer's
    normalizer and pre-tokenizer; merges never cross these boundaries."""
    counts: Counter[bytes] = Counter()
    if isinstance(tokenizer, TiktokenTokenizer):
        pattern = regex.compile(tokenizer.encoding._pat_str)
        for text in texts:
            counts.update(piece.encode("utf-8") for piece in pattern.findall(text))
        return counts
    if isinstance(tokenizer, HFJsonTokenizer) and _is_byte_level_bpe(tokenizer):
        alphabet = byte_level_alphabet()
        normalizer = tokenizer.hf.normalizer
        pre_tokenizer = tokenizer.hf.pre_tokenizer
        for text in texts:
            if normalizer is not None:
                text = normalizer.normalize_str(text)
            pieces = pre_tokenizer.pre_tokenize_str(text)
            counts.update(_from_byte_level(piece, alphabet) for piece, _ in pieces)
        return counts
    raise UserError(f"tokenizer {tokenizer.name!r}: not a byte-level BPE tokenizer")
