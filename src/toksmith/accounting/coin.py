"""CoIn: a verifiable count of hidden reasoning tokens, both sides (provider and auditor).

After "CoIn: Counting the Invisible Reasoning Tokens in Commercial Opaque LLM APIs" (Sun et al.,
2025). The provider keeps its reasoning hidden but commits to it; an auditor samples a few
blocks, checks that they are really in the committed trace and that they are about the prompt
and the answer.

Provider (:class:`TraceProvider`):
1. The hidden token ids are cut into blocks of ``block_size`` tokens (the last may be shorter).
2. Each block's leaf is ``index || number of ids || ids || fingerprint``, where the fingerprint is
   the block's *token embedding fingerprint*: MiniLM's word-piece embeddings of the block's text,
   mean-pooled, L2-normalised and quantised to int8 (``round(64 × v)``) so it hashes
   deterministically.
3. A Merkle tree (:mod:`toksmith.accounting.merkle`, RFC 6962 hashing) over the leaves; the
   commitment is the root with the tokenizer, block size, token count and number of blocks.
4. It answers an opening request (block indices the auditor drew *after* receiving the
   commitment) with each block's ids, fingerprint and inclusion proof.

Auditor (:func:`verify`): checks the commitment's own digest and layout (blocks × block size
covers exactly the billed count), that the provider answered exactly the requested blocks, the
size of every opened block, its ids against the tokenizer, its fingerprint recomputed from the
decoded text, every inclusion proof against the root — any failure rejects the bill, naming the
check — and then the semantic checks: two opened blocks with the same ids (duplicated
reasoning), and relevance matching: each opened block's cosine similarity (MiniLM sentence
embeddings) to the sum of the prompt, the answer and the other opened blocks; a block below
``threshold`` is flagged, and more than ``max_flagged`` flagged openings is reported as
inflation (the experiment calibrates both for a false-positive rate of 1%).

Security assumptions: SHA-256 is collision and second-preimage resistant; the commitment reaches
the auditor (signed, in a deployment) before the auditor draws the openings, from randomness the
provider cannot predict; the auditor knows the tokenizer and runs the same fingerprint code
(float64 sums, so the quantisation agrees; a platform whose floating point rounds differently
could in rare cases disagree on a fingerprint, which would show as a fingerprint failure, never
as a pass). Opened blocks reveal their text to the auditor — the paper's trusted third party.
The count is bound by the layout: every block but the last has exactly ``block_size`` ids, and
a provider that pads unopened blocks with junk is caught with probability
1 − (1 − share of junk blocks)^openings by the semantic checks, not by the hashes: the hashes
only prove the opened blocks are the committed ones. Relevance is a heuristic with a calibrated
false-positive rate (see :mod:`toksmith.accounting.experiment`), not a proof; a provider that
inflates with fluent, on-topic text it did not need is not detected by it (the paper's
"adaptive" attack is also its hardest).

Deviations from the paper: the paper's verifier uses learned matching heads (small networks
trained on reasoning traces) for relevance; real hidden traces to train them on are not
available offline, so relevance here is the cosine similarity of MiniLM embeddings with a
threshold calibrated on honest traces built here; and it is measured against the prompt, the
answer *and the other opened blocks* (similarity to the prompt and answer alone separated honest
from injected blocks poorly on those traces: honest 5th percentile 0.10 against 0.18 for the
95th percentile of random-token blocks; against the rest of the trace, 0.42 against 0.20).
The paper hashes per-token embedding fingerprints; here a leaf is a block of tokens with one
pooled fingerprint (fewer leaves and shorter proofs for the same count; the ids themselves are
in the leaf). The trace server is
simulated in-process: :class:`TraceProvider` holds the trace.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from toksmith.accounting.embed import Embed
from toksmith.accounting.merkle import MerkleTree, leaf_hash, verify_inclusion
from toksmith.errors import UserError
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

FORMAT = "toksmith-coin-commitment/1"
LEAF_TAG = b"toksmith-coin-leaf/1"
QUANT_SCALE = 64
DEFAULT_BLOCK_SIZE = 32
DEFAULT_OPENINGS = 32
# Decision rules per number of openings, (relevance threshold, most flagged blocks accepted),
# as calibrated by `toksmith billing experiment --n 200` (o200k_base, MiniLM, blocks of 32,
# standard-library stand-in traces, ≤ 1% of calibration audits rejected; 0.4-4% of held-out
# honest audits were); see the README. Real reasoning traces need their own calibration: pass
# threshold/max_flagged.
DEFAULT_RULES: dict[int, tuple[float, int]] = {
    4: (0.315, 3),
    8: (0.150, 1),
    16: (0.185, 2),
    32: (0.208, 2),
    64: (0.208, 2),
}


def default_rule(openings: int) -> tuple[float, int]:
    """The calibrated rule for the largest calibrated number of openings ≤ ``openings`` (the
    smallest one below that)."""
    fitting = [k for k in DEFAULT_RULES if k <= openings]
    return DEFAULT_RULES[max(fitting) if fitting else min(DEFAULT_RULES)]


INTEGRITY_CHECKS = ("commitment digest", "block layout", "openings answered", "block sizes",
                    "token ids", "fingerprints", "inclusion proofs")  # fmt: skip


def quantise(vector: np.ndarray) -> bytes:
    """A unit vector as int8 bytes: ``round(64 × v)``, clipped to [-127, 127]."""
    values = np.clip(np.rint(np.asarray(vector, dtype=np.float64) * QUANT_SCALE), -127, 127)
    return values.astype(np.int8).tobytes()


def leaf_data(index: int, ids: Sequence[int], fingerprint: bytes) -> bytes:
    """The bytes of one leaf: tag, index, number of ids, ids (uint32, big-endian), fingerprint."""
    return (
        LEAF_TAG
        + struct.pack(">QI", index, len(ids))
        + struct.pack(f">{len(ids)}I", *ids)
        + fingerprint
    )


@dataclass(frozen=True)
class Commitment(Result):
    """What the provider publishes with the bill."""

    format: str
    tokenizer: str
    block_size: int
    n_tokens: int
    n_leaves: int
    fingerprint: str
    merkle_root: str  # hex
    digest: str  # SHA-256 of the fields above (a checksum, not a signature)

    @staticmethod
    def digest_of(fields: dict[str, Any]) -> str:
        payload = {key: fields[key] for key in sorted(fields) if key != "digest"}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Opening(Result):
    """One opened block: its ids, fingerprint (hex) and inclusion proof (hex hashes)."""

    index: int
    ids: list[int]
    fingerprint: str
    proof: list[str]


@dataclass(frozen=True)
class CommitResult(Result):
    commitment: Commitment
    elapsed_s: float


@dataclass(frozen=True)
class Check(Result):
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class VerifyResult(Result):
    """Every check, the per-block relevance and the verdict."""

    accepted: bool
    verdict: str
    failed_check: str | None
    checks: list[Check]
    opened: list[int]
    relevance: list[float]
    flagged: int
    threshold: float
    max_flagged: int
    notes: list[str] = field(default_factory=list)


class TraceProvider:
    """The provider's side (the simulated trace server): holds the hidden ids, commits to them
    and answers openings."""

    def __init__(
        self,
        ids: Sequence[int],
        tokenizer: Tokenizer,
        fingerprint_embed: Embed,
        *,
        block_size: int = DEFAULT_BLOCK_SIZE,
        fingerprint_name: str = "minilm-static-int8",
    ) -> None:
        if block_size < 1:
            raise UserError(f"block size {block_size}: expected at least 1")
        if not ids:
            raise UserError("the hidden trace has no tokens: nothing to commit to")
        self.ids = [int(i) for i in ids]
        self.tokenizer = tokenizer
        self.block_size = block_size
        self.fingerprint_name = fingerprint_name
        self.blocks = [self.ids[i : i + block_size] for i in range(0, len(self.ids), block_size)]
        texts = [tokenizer.decode(block) for block in self.blocks]
        vectors = fingerprint_embed(texts)
        self.fingerprints = [quantise(vector) for vector in vectors]
        leaves = [
            leaf_hash(leaf_data(i, block, fp))
            for i, (block, fp) in enumerate(zip(self.blocks, self.fingerprints, strict=True))
        ]
        self.tree = MerkleTree(leaves)

    def commit(self) -> Commitment:
        fields: dict[str, Any] = {
            "format": FORMAT,
            "tokenizer": self.tokenizer.name,
            "block_size": self.block_size,
            "n_tokens": len(self.ids),
            "n_leaves": len(self.blocks),
            "fingerprint": self.fingerprint_name,
            "merkle_root": self.tree.root.hex(),
        }
        return Commitment(**fields, digest=Commitment.digest_of(fields))

    def open(self, indices: Sequence[int]) -> list[Opening]:
        """Blocks ``indices`` with their proofs (an index outside the trace is skipped: the
        auditor notices the missing answer)."""
        return [
            Opening(
                i,
                list(self.blocks[i]),
                self.fingerprints[i].hex(),
                [h.hex() for h in self.tree.proof(i)],
            )  # fmt: skip
            for i in indices
            if 0 <= i < len(self.blocks)
        ]


def commitment_from_dict(data: Any, shown: str) -> Commitment:
    """A commitment read from JSON, or a one-line error naming what is wrong."""
    names = ("format", "tokenizer", "block_size", "n_tokens", "n_leaves", "fingerprint",
             "merkle_root", "digest")  # fmt: skip
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UserError(f"commitment {shown}: expected a JSON object with format {FORMAT!r}")
    missing = [name for name in names if name not in data]
    if missing:
        raise UserError(f"commitment {shown}: missing field(s) {', '.join(missing)}")
    for name in ("block_size", "n_tokens", "n_leaves"):
        if isinstance(data[name], bool) or not isinstance(data[name], int) or data[name] < 0:
            raise UserError(f"commitment {shown}: {name} must be a whole number ≥ 0")
    for name in ("tokenizer", "fingerprint", "merkle_root", "digest"):
        if not isinstance(data[name], str):
            raise UserError(f"commitment {shown}: {name} must be a string")
    return Commitment(**{name: data[name] for name in names})


def read_commitment(path: str | Path) -> Commitment:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"commitment file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"commitment file {path}: not a JSON file ({error})") from None
    return commitment_from_dict(data, str(path))


def read_trace(path: str | Path, tokenizer: Tokenizer) -> list[int]:
    """The hidden token ids of a trace file: JSONL, one reasoning step per line, each
    ``{"text": "..."}`` (encoded with ``tokenizer``) or ``{"ids": [int, ...]}``."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UserError(f"trace file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"trace file {path}: cannot read it as UTF-8 ({error})") from None
    ids: list[int] = []
    expected = 'expected a JSON object {"text": "..."} or {"ids": [0, 1, ...]}'
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise UserError(f"trace file {path}, line {number}: not JSON; {expected}") from None
        if isinstance(record, dict) and isinstance(record.get("text"), str):
            ids.extend(tokenizer.encode(record["text"]))
        elif isinstance(record, dict) and isinstance(record.get("ids"), list):
            for value in record["ids"]:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise UserError(f"trace file {path}, line {number}: ids must be integers")
                if not 0 <= value < tokenizer.vocab_size:
                    raise UserError(
                        f"trace file {path}, line {number}: id {value} is not an id of "
                        f"{tokenizer.name} (0 to {tokenizer.vocab_size - 1})"
                    )
            ids.extend(record["ids"])
        else:
            raise UserError(f"trace file {path}, line {number}: {expected}")
    if not ids:
        raise UserError(f"trace file {path} has no tokens")
    return ids


def draw_openings(n_leaves: int, openings: int, rng: random.Random) -> list[int]:
    """``openings`` distinct block indices drawn uniformly (all blocks when there are fewer)."""
    if openings >= n_leaves:
        return list(range(n_leaves))
    return sorted(rng.sample(range(n_leaves), openings))


def relevance_scores(
    block_vectors: np.ndarray, prompt_vector: np.ndarray, answer_vector: np.ndarray
) -> np.ndarray:
    """Each opened block's relevance: its cosine similarity to the sum of the prompt, the answer
    and the *other* opened blocks (unit vectors). Honest reasoning is about the prompt, leads to
    the answer and hangs together; an injected block is unlike all three."""
    vectors = np.asarray(block_vectors, dtype=np.float64)
    total = vectors.sum(axis=0) + prompt_vector + answer_vector
    context = total[None, :] - vectors
    norms = np.linalg.norm(context, axis=1)
    norms[norms == 0] = 1.0
    return np.einsum("ij,ij->i", vectors, context) / norms


def verify(
    commitment: Commitment,
    open_blocks: Callable[[list[int]], list[Opening]],
    tokenizer: Tokenizer,
    prompt: str,
    answer: str,
    *,
    fingerprint_embed: Embed,
    relevance_embed: Embed,
    openings: int = DEFAULT_OPENINGS,
    seed: int | None = None,
    claimed_tokens: int | None = None,
    threshold: float | None = None,
    max_flagged: int | None = None,
) -> VerifyResult:
    """The auditor's side (see the module docstring): integrity checks first (the first failure
    rejects and is named in ``failed_check``), then duplicates and relevance. ``threshold`` and
    ``max_flagged`` default to the calibrated rule for ``openings`` (:func:`default_rule`)."""
    rule = default_rule(openings)
    threshold = rule[0] if threshold is None else threshold
    max_flagged = rule[1] if max_flagged is None else max_flagged
    checks: list[Check] = []
    notes: list[str] = []

    def done(verdict: str, failed: str | None, opened: list[int], relevance: list[float],
             flagged: int) -> VerifyResult:  # fmt: skip
        return VerifyResult(failed is None and verdict == "accepted", verdict, failed, checks,
                            opened, relevance, flagged, threshold, max_flagged, notes)  # fmt: skip

    def fail(name: str, detail: str) -> VerifyResult:
        checks.append(Check(name, False, detail))
        return done(f"rejected: {name} failed ({detail})", name, [], [], 0)

    fields = {key: getattr(commitment, key) for key in Commitment.__dataclass_fields__}
    if Commitment.digest_of(fields) != commitment.digest:
        return fail("commitment digest", "the digest does not match the commitment's fields")
    checks.append(Check("commitment digest", True, "matches the fields"))
    expected_leaves = math.ceil(commitment.n_tokens / commitment.block_size) if (
        commitment.block_size > 0) else -1  # fmt: skip
    if commitment.tokenizer != tokenizer.name:
        return fail("block layout", f"committed with {commitment.tokenizer}, audited with "
                    f"{tokenizer.name}")  # fmt: skip
    if expected_leaves != commitment.n_leaves or commitment.n_leaves == 0:
        return fail("block layout", f"{commitment.n_tokens} tokens in blocks of "
                    f"{commitment.block_size} need {expected_leaves} blocks, not "
                    f"{commitment.n_leaves}")  # fmt: skip
    if claimed_tokens is not None and claimed_tokens != commitment.n_tokens:
        return fail("block layout", f"the bill claims {claimed_tokens} hidden tokens, the "
                    f"commitment {commitment.n_tokens}")  # fmt: skip
    checks.append(Check("block layout", True, f"{commitment.n_leaves} blocks of "
                        f"{commitment.block_size} cover {commitment.n_tokens} tokens"))  # fmt: skip
    rng = random.Random(seed) if seed is not None else random.SystemRandom()
    requested = draw_openings(commitment.n_leaves, openings, rng)  # type: ignore[arg-type]
    answers = open_blocks(requested)
    if sorted(o.index for o in answers) != requested:
        return fail("openings answered", f"asked for {len(requested)} blocks, got "
                    f"{len(answers)} (or other ones)")  # fmt: skip
    checks.append(Check("openings answered", True, f"{len(requested)} blocks opened"))
    last = commitment.n_leaves - 1
    last_size = commitment.n_tokens - last * commitment.block_size
    for opening in answers:
        size = last_size if opening.index == last else commitment.block_size
        if len(opening.ids) != size:
            return fail("block sizes", f"block {opening.index} has {len(opening.ids)} ids, "
                        f"expected {size}")  # fmt: skip
    checks.append(Check("block sizes", True, "every opened block has its size"))
    for opening in answers:
        bad = [i for i in opening.ids if not 0 <= i < tokenizer.vocab_size]
        if bad:
            return fail("token ids", f"block {opening.index} has id {bad[0]}, not an id of "
                        f"{tokenizer.name}")  # fmt: skip
    checks.append(Check("token ids", True, f"all ids are ids of {tokenizer.name}"))
    try:
        texts = [tokenizer.decode(opening.ids) for opening in answers]
    except UserError:
        return fail("token ids", "an opened block has ids the tokenizer cannot decode")
    recomputed = [quantise(v).hex() for v in fingerprint_embed(texts)]
    for opening, fingerprint in zip(answers, recomputed, strict=True):
        if opening.fingerprint != fingerprint:
            return fail("fingerprints", f"block {opening.index}'s fingerprint is not that of "
                        "its text")  # fmt: skip
    checks.append(Check("fingerprints", True, "recomputed from the opened text"))
    try:
        root = bytes.fromhex(commitment.merkle_root)
    except ValueError:
        return fail("inclusion proofs", "the commitment's root is not hexadecimal")
    for opening in answers:
        try:
            proof = [bytes.fromhex(h) for h in opening.proof]
            leaf = leaf_hash(leaf_data(opening.index, opening.ids,
                                       bytes.fromhex(opening.fingerprint)))  # fmt: skip
        except (ValueError, struct.error):
            return fail("inclusion proofs", f"block {opening.index}'s proof is malformed")
        if not verify_inclusion(opening.index, commitment.n_leaves, leaf, proof, root):
            return fail("inclusion proofs", f"block {opening.index}'s proof does not lead to "
                        "the committed root")  # fmt: skip
    checks.append(Check("inclusion proofs", True, f"{len(answers)} proofs lead to the root"))
    seen: dict[tuple[int, ...], int] = {}
    duplicates = []
    for opening in answers:
        key = tuple(opening.ids)
        if key in seen:
            duplicates.append((seen[key], opening.index))
        seen[key] = opening.index
    checks.append(Check("duplicates", not duplicates, "no two opened blocks are equal"
                        if not duplicates else f"blocks {duplicates[0][0]} and "
                        f"{duplicates[0][1]} are identical"))  # fmt: skip
    vectors = relevance_embed([prompt, answer, *texts])
    scores = relevance_scores(np.asarray(vectors[2:]), vectors[0], vectors[1])
    flagged = int((scores < threshold).sum())
    relevant = flagged <= max_flagged
    checks.append(Check("relevance", relevant, f"{flagged} of {len(answers)} opened blocks below "
                        f"{threshold:g} (at most {max_flagged} allowed)"))  # fmt: skip
    verdict = "accepted" if relevant and not duplicates else "inflation suspected"
    return done(verdict, None, requested, [float(s) for s in scores], flagged)


__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_OPENINGS",
    "DEFAULT_RULES",
    "INTEGRITY_CHECKS",
    "Check",
    "CommitResult",
    "Commitment",
    "Opening",
    "TraceProvider",
    "VerifyResult",
    "commitment_from_dict",
    "default_rule",
    "draw_openings",
    "leaf_data",
    "quantise",
    "read_commitment",
    "read_trace",
    "relevance_scores",
    "verify",
]
