"""CoIn: Merkle proofs, commitment and verification, tampering."""

from __future__ import annotations

import dataclasses
import random

import pytest

from toksmith.accounting.coin import Opening, TraceProvider, verify
from toksmith.accounting.embed import hashed_bag_of_words_embedder
from toksmith.accounting.merkle import MerkleTree, leaf_hash, node_hash, verify_inclusion
from toksmith.tokenizers import Tokenizer, load_tokenizer

EMBED = hashed_bag_of_words_embedder()
PROMPT = "How do Merkle trees let an auditor check hidden reasoning tokens?"
ANSWER = "A Merkle tree commits to every block of hidden tokens; proofs show opened blocks belong."
REASONING = (
    "The provider splits the hidden reasoning tokens into blocks and hashes each block into a "
    "leaf of a Merkle tree. The root of the tree commits to every block. The auditor asks for a "
    "few blocks and receives their tokens with inclusion proofs, which lead from each leaf to "
    "the root, so the provider cannot change a block after committing. "
) * 6


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962's recursive definition of the tree hash."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return node_hash(reference_root(leaves[:split]), reference_root(leaves[split:]))


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 31])
def test_tree_matches_rfc6962_and_every_proof_verifies(size: int) -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(size)]
    tree = MerkleTree(leaves)
    assert tree.root == reference_root(leaves)
    for index in range(size):
        proof = tree.proof(index)
        assert verify_inclusion(index, size, leaves[index], proof, tree.root)
        if size > 1:
            assert not verify_inclusion(index, size, leaves[(index + 1) % size], proof, tree.root)
            assert not verify_inclusion((index + 1) % size, size, leaves[index], proof, tree.root)


@pytest.fixture(scope="module")
def o200k() -> Tokenizer:
    return load_tokenizer("o200k_base")


def audit(commitment, opener, tokenizer, **kwargs):  # type: ignore[no-untyped-def]
    return verify(commitment, opener, tokenizer, PROMPT, ANSWER, fingerprint_embed=EMBED,
                  relevance_embed=EMBED, openings=8, seed=1, **kwargs)  # fmt: skip


def test_an_honest_trace_passes_every_check(o200k: Tokenizer) -> None:
    provider = TraceProvider(o200k.encode(REASONING), o200k, EMBED, block_size=16)
    result = audit(provider.commit(), provider.open, o200k, limit=float("inf"))
    assert result.failed_check is None and result.accepted
    assert all(check.passed for check in result.checks)


def test_a_tampered_commitment_is_rejected_naming_the_check(o200k: Tokenizer) -> None:
    provider = TraceProvider(o200k.encode(REASONING), o200k, EMBED, block_size=16)
    commitment = provider.commit()
    inflated = dataclasses.replace(commitment, n_tokens=commitment.n_tokens + 50)
    assert audit(inflated, provider.open, o200k).failed_check == "commitment digest"
    fields = {f: getattr(inflated, f) for f in type(inflated).__dataclass_fields__}
    resealed = dataclasses.replace(inflated, digest=type(inflated).digest_of(fields))
    assert audit(resealed, provider.open, o200k).failed_check == "block layout"
    claimed = audit(commitment, provider.open, o200k, claimed_tokens=commitment.n_tokens + 1)
    assert claimed.failed_check == "block layout"


def test_a_tampered_proof_or_block_is_rejected(o200k: Tokenizer) -> None:
    provider = TraceProvider(o200k.encode(REASONING), o200k, EMBED, block_size=16)
    commitment = provider.commit()

    def bad_proof(indices: list[int]) -> list[Opening]:
        openings = provider.open(indices)
        first = openings[0]
        flipped = ("0" if first.proof[0][0] != "0" else "1") + first.proof[0][1:]
        openings[0] = dataclasses.replace(first, proof=[flipped, *first.proof[1:]])
        return openings

    def swapped_ids(indices: list[int]) -> list[Opening]:
        openings = provider.open(indices)
        first = openings[0]
        ids = o200k.encode(" the the the the the the the the the the the the the the the the")
        fingerprint = provider.fingerprints[first.index].hex()
        openings[0] = dataclasses.replace(first, ids=ids[:16], fingerprint=fingerprint)
        return openings

    assert audit(commitment, bad_proof, o200k).failed_check == "inclusion proofs"
    assert audit(commitment, swapped_ids, o200k).failed_check == "fingerprints"
    assert audit(commitment, lambda idx: provider.open(idx[1:]), o200k).failed_check == (
        "openings answered"
    )


def test_a_commitment_for_a_different_trace_is_rejected(o200k: Tokenizer) -> None:
    provider = TraceProvider(o200k.encode(REASONING), o200k, EMBED, block_size=16)
    other_ids = o200k.encode(REASONING.replace("auditor", "verifier"))
    other = TraceProvider(other_ids, o200k, EMBED, block_size=16)
    result = audit(provider.commit(), other.open, o200k)
    assert result.failed_check in {"inclusion proofs", "block sizes", "fingerprints",
                                   "block layout"}  # fmt: skip
    assert not result.accepted


def test_random_token_inflation_is_flagged_by_relevance(o200k: Tokenizer) -> None:
    honest = o200k.encode(REASONING)
    rng = random.Random(0)
    junk = [rng.randrange(100_000) for _ in range(len(honest))]
    provider = TraceProvider(honest + junk, o200k, EMBED, block_size=16)
    honest_provider = TraceProvider(honest, o200k, EMBED, block_size=16)
    inflated = audit(provider.commit(), provider.open, o200k, floor=0.2, limit=0.2)
    clean = audit(honest_provider.commit(), honest_provider.open, o200k, floor=0.2, limit=0.2)
    assert inflated.failed_check is None and inflated.verdict == "inflation suspected"
    assert clean.statistic < inflated.statistic
