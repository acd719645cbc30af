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

from toksmith.errors import UserError
from toksmith.tokenizers.base import Tokenizer
from toksmith.tokenizers.tiktoken_ranks import recover_merges

NEEDS_BYTE_LEVEL_BPE = (
    "data mixture inference needs a byte-level BPE tokenizer (HF BPE tokenizer.json, "
    "tiktoken or Tekken rank file)"
)


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
    if tokenizer.byte_encoding == "raw":  # a rank table: recover only the merges asked for
        return merges_from_ranks(_rank_table(tokenizer), max_merges)
    try:
        merges = tokenizer.merges()
    except UserError as error:
        raise UserError(f"{error}: {NEEDS_BYTE_LEVEL_BPE}") from None
    if not _is_byte_level_bpe(tokenizer):
        raise UserError(
            f"tokenizer {tokenizer.name!r} is a BPE model over characters, not bytes (no "
            "ByteLevel pre-tokenizer): data mixture inference needs a byte-level BPE tokenizer"
        )
    if not merges:
        raise UserError(f"tokenizer {tokenizer.name!r}: its BPE model lists no merges")
    return MergeList(merges=merges[:max_merges], available=len(merges), skipped=0)


def merges_from_ranks(ranks: Mapping[bytes, int], max_merges: int) -> MergeList:
    """Recover the merge order of a tiktoken rank table.

    Tokens of two or more bytes are taken in rank order; each one is split by running BPE on
    its bytes with only the ranks lower than its own, which leaves exactly the two parts it
    was merged from. A token that does not come apart into two parts (it was added by hand)
    is counted in ``skipped`` and left out (see
    :func:`toksmith.tokenizers.tiktoken_ranks.recover_merges`).
    """
    merges, available, skipped = recover_merges(ranks, max_merges)
    return MergeList(merges=merges, available=available, skipped=skipped)


def _rank_table(tokenizer: Tokenizer) -> dict[bytes, int]:
    """The rank table of a rank-file tokenizer, from its public token bytes: ids are ranks
    (Tekken's are shifted by its special tokens, which keeps their order)."""
    special = tokenizer.special_ids
    return {
        data: token_id
        for token_id, data in enumerate(tokenizer.vocab_bytes)
        if data and token_id not in special
    }


def _is_byte_level_bpe(tokenizer: Tokenizer) -> bool:
    """True when pre-tokens come out of the HF pipeline as byte-level stand-in characters."""
    return tokenizer.byte_encoding == "gpt2" and "ByteLevel" in tokenizer.pipeline().pre_tokenizer


def count_pretokens(tokenizer: Tokenizer, texts: Iterable[str]) -> Counter[bytes]:
    """How often each pre-token (as bytes) occurs in ``texts`` after the tokenizer's
    normalizer and pre-tokenizer; merges never cross these boundaries."""
    if tokenizer.byte_encoding != "raw" and not _is_byte_level_bpe(tokenizer):
        raise UserError(f"tokenizer {tokenizer.name!r}: not a byte-level BPE tokenizer")
    counts: Counter[bytes] = Counter()
    pre_tokens = tokenizer.pre_tokens
    for text in texts:
        counts.update(pre_tokens(text))
    return counts
