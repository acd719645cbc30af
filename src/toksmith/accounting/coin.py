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
check — and then the semantic checks, summed in one statistic (:func:`audit_statistic`): opened
blocks that repeat an earlier one (duplicated reasoning), and relevance matching: each distinct
opened block's cosine similarity (MiniLM sentence embeddings) to the prompt, the answer and the
core of the opened blocks (:func:`relevance_scores`); the statistic is the total shortfall below
a relevance floor plus the floor for each repeat, and above a limit the bill is reported as
inflation. The experiment calibrates the limit per number of openings so that the false-positive
rate is ≤ 1% with 95% confidence (:mod:`toksmith.accounting.calibration`).

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
limit calibrated on honest traces built here; it is measured against the prompt, the answer
*and the core of the opened blocks* (similarity to the prompt and answer alone separated honest
from injected blocks poorly on those traces: honest 5th percentile 0.08 against a median of
0.06 for random-token blocks; against the core, 0.26 against 0.08). Repeats are scored, not an
outright rejection (honest text repeats blocks).
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
# Limits of the audit statistic per number of openings (reject above), as calibrated by
# `toksmith billing experiment --udhr ../shared/corpora/udhr` (o200k_base, MiniLM, blocks of 32,
# floor 0.15; 381 calibration traces of 32 blocks, one module each, j = 0: the largest honest
# statistic, rounded up), certifying a false-positive rate ≤ 1% with 95% confidence for traces
# like those (held-out: 1, 1, 0, 0, 0 of 381); see the README. At k ≥ 32 every block of a
# 32-block honest trace is opened, so the limit is the worst whole honest trace's statistic.
# Real reasoning traces need their own calibration: pass `limit`.
DEFAULT_LIMITS: dict[int, float] = {
    4: 0.1793,
    8: 0.3,
    16: 0.3,
    32: 0.8232,
    64: 0.8232,
}


def default_limit(openings: int) -> float:
    """The calibrated limit for the largest calibrated number of openings ≤ ``openings`` (the
    smallest one below that)."""
    fitting = [k for k in DEFAULT_LIMITS if k <= openings]
    return DEFAULT_LIMITS[max(fitting) if fitting else min(DEFAULT_LIMITS)]


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
    repeats: int
    statistic: float
    floor: float
    limit: float
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
    """Each opened block's relevance: its cosine similarity to a reference made of the prompt,
    the answer and the *core* of the opened blocks — the half (rounded down, at least one) most
    similar to prompt + answer — leaving the block itself out of the reference when it is in
    the core (unit vectors in, cosines out).

    Why a core and not all the other opened blocks: injected blocks resemble each other (one
    unrelated document, or token soup), so a reference that sums every opened block moves
    towards them as inflation grows, and their relevance rose with the inflation rate (median
    relevance of injected UDHR blocks 0.04, 0.12, 0.27 at 5, 20, 50% inflation), which made
    detection fall from 20% to 50%. Injected blocks are the least similar to the prompt and
    answer, so while they are fewer than half of the opened blocks the core is mostly honest;
    against it their relevance stays put (0.02 at all three rates)."""
    vectors = np.asarray(block_vectors, dtype=np.float64)
    ends = np.asarray(prompt_vector, dtype=np.float64) + np.asarray(answer_vector, dtype=np.float64)
    ends_norm = float(np.linalg.norm(ends))
    to_ends = vectors @ (ends / ends_norm if ends_norm > 0 else ends)
    core = np.zeros(len(vectors), dtype=bool)
    core[np.argsort(-to_ends, kind="stable")[: max(1, len(vectors) // 2)]] = True
    total = vectors[core].sum(axis=0) + ends
    references = np.where(core[:, None], total[None, :] - vectors, total[None, :])
    norms = np.linalg.norm(references, axis=1)
    norms[norms == 0] = 1.0
    return np.einsum("ij,ij->i", vectors, references) / norms


RELEVANCE_FLOOR = 0.15


def audit_statistic(scores: np.ndarray, repeats: int = 0, floor: float = RELEVANCE_FLOOR) -> float:
    """How much an audit looks like inflation: the total shortfall of the distinct opened
    blocks' relevance below ``floor``, Σ max(0, floor − score), plus ``floor`` for each opened
    block that repeats an earlier one (a repeat counts as a block of relevance 0). 0 when every
    block reaches the floor and none repeats; larger is more suspicious.

    A sum rather than a count of blocks below a threshold: it grows smoothly with the number
    and depth of irrelevant blocks, so its calibrated limit moves little between calibration
    sets. Repeats are scored rather than rejected outright because honest text repeats blocks
    too (copied parameter docs; 2% of the honest stand-in traces of 32 blocks have one)."""
    shortfall = np.maximum(0.0, floor - np.asarray(scores, dtype=np.float64)).sum()
    return float(shortfall) + floor * repeats


def distinct_openings(keys: Sequence[tuple[int, ...]]) -> tuple[list[int], int]:
    """Positions of the first occurrence of each distinct opened block, and the number of
    opened blocks that repeat an earlier one."""
    first: dict[tuple[int, ...], int] = {}
    for position, key in enumerate(keys):
        first.setdefault(key, position)
    return sorted(first.values()), len(keys) - len(first)


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
    floor: float = RELEVANCE_FLOOR,
    limit: float | None = None,
) -> VerifyResult:
    """The auditor's side (see the module docstring): integrity checks first (the first failure
    rejects and is named in ``failed_check``), then repeats and relevance, summed in
    :func:`audit_statistic`: above ``limit`` (default: the calibrated limit for ``openings``,
    :func:`default_limit`) is "inflation suspected"."""
    limit = default_limit(openings) if limit is None else limit
    checks: list[Check] = []
    notes: list[str] = []

    def done(verdict: str, failed: str | None, opened: list[int], relevance: list[float],
             repeats: int, statistic: float) -> VerifyResult:  # fmt: skip
        return VerifyResult(failed is None and verdict == "accepted", verdict, failed, checks,
                            opened, relevance, repeats, statistic, floor, limit,
                            notes)  # fmt: skip

    def fail(name: str, detail: str) -> VerifyResult:
        checks.append(Check(name, False, detail))
        return done(f"rejected: {name} failed ({detail})", name, [], [], 0, 0.0)

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
    distinct, repeats = distinct_openings([tuple(opening.ids) for opening in answers])
    checks.append(Check("repeats", True, f"{repeats} opened block(s) repeat an earlier one "
                        f"(each counts {floor:g})"))  # fmt: skip
    vectors = relevance_embed([prompt, answer, *(texts[i] for i in distinct)])
    scores = relevance_scores(np.asarray(vectors[2:]), vectors[0], vectors[1])
    statistic = audit_statistic(scores, repeats, floor)
    low = int((scores < floor).sum())
    relevant = statistic <= limit
    checks.append(Check("relevance", relevant, f"{low} of {len(distinct)} distinct opened blocks "
                        f"below relevance {floor:g}; statistic {statistic:.4f} "
                        f"(at most {limit:g} accepted)"))  # fmt: skip
    by_key = {
        tuple(answers[i].ids): float(score) for i, score in zip(distinct, scores, strict=True)
    }
    relevance = [by_key[tuple(opening.ids)] for opening in answers]
    verdict = "accepted" if relevant else "inflation suspected"
    return done(verdict, None, requested, relevance, repeats, statistic)


__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_OPENINGS",
    "DEFAULT_LIMITS",
    "INTEGRITY_CHECKS",
    "RELEVANCE_FLOOR",
    "Check",
    "CommitResult",
    "Commitment",
    "Opening",
    "TraceProvider",
    "VerifyResult",
    "commitment_from_dict",
    "audit_statistic",
    "default_limit",
    "distinct_openings",
    "draw_openings",
    "leaf_data",
    "quantise",
    "read_commitment",
    "read_trace",
    "relevance_scores",
    "verify",
]
