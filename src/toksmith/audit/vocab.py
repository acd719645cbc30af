"""Tokenizer-only indicators of problem tokens, for every id of a vocabulary.

Follows the tokenizer analysis of "Fishing for Magikarp: Automatically Detecting Under-trained
Tokens in Large Language Models" (Land and Bartolo, 2024), which sorts tokens into special,
partial UTF-8 and unreachable before looking at any weights, and the token classes of "Glitch
Tokens in Large Language Models" (Li et al., 2024). Deviations are stated per indicator.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import regex

from toksmith.audit.tokens import (
    display,
    is_continuation,
    token_labels,
    utf8_status,
)
from toksmith.corpus import iter_texts
from toksmith.corpus.read import Errors
from toksmith.errors import UserError
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

if TYPE_CHECKING:
    from toksmith.audit.weights import WeightAudit

INDICATORS: dict[str, str] = {
    "unreachable": "encoding the token's own text (alone or after an anchor) never gives it",
    "partial_utf8": "bytes that are a piece of a UTF-8 character, not whole characters",
    "invalid_utf8": "bytes that can never occur in valid UTF-8 (e.g. 0xC0, 0xFF)",
    "unused_special": "special or reserved token that is unused by name or by type",
    "empty_id": "an id inside the vocabulary range that no token occupies",
    "duplicate": "decodes to the same string, in the same word position, as another token",
    "never_produced": "never produced on the given corpus",
}
WEIGHT_INDICATORS: dict[str, str] = {
    "undertrained": "close to the mean of known-unused rows (Magikarp indicator)",
    "norm_outlier": "row norm with |modified z| > 3.5",
}

# Texts put before a token's text when it is not produced on its own: a token that only
# occurs inside a word (SentencePiece "ing", WordPiece "##ing") is produced after them,
# because digits and letters are split apart or stop a merge in every backend we know.
ANCHORS: tuple[str, ...] = ("7", "x", "\u3042")

# Names of reserved or unused slots. Special tokens are matched loosely (their names are
# metadata); ordinary vocabulary entries only by the exact placeholder forms, so a real word
# such as "unused" is not caught.
_SPECIAL_RESERVED = regex.compile(
    r"(?i)reserved|unused|place[\W_]?holder|^<SPECIAL_\d+>$|^\[control_\d+\]$"
)
_VOCAB_RESERVED = regex.compile(
    r"^(\[unused\d+\]|<unused\d+>|<\|reserved_special_token_\d+\|>|<extra_id_\d+>)$"
)


@dataclass
class VocabAudit(Result):
    """Which tokens each indicator flags: ``flags[name]`` is a boolean mask over the ids."""

    tokenizer: str
    backend: str
    vocab_size: int
    flags: dict[str, np.ndarray]
    duplicate_of: dict[int, int] = field(default_factory=dict)
    corpus: str | None = None
    corpus_tokens: int = 0

    def counts(self) -> dict[str, int]:
        """Number of tokens flagged by each indicator (indicators that did not run are
        absent: ``never_produced`` needs a corpus)."""
        return {name: int(mask.sum()) for name, mask in self.flags.items()}

    def flagged_ids(self, names: Sequence[str] | None = None) -> np.ndarray:
        """Ids flagged by any of ``names`` (all indicators by default), ascending."""
        chosen = [self.flags[n] for n in (names or self.flags) if n in self.flags]
        if not chosen:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.logical_or.reduce(chosen))


def special_like_mask(tokenizer: Tokenizer, labels: Sequence[str | None]) -> np.ndarray:
    """Special/control tokens: the tokenizer's special ids, and ids without bytes that still
    carry a name (SentencePiece ``<unk>``). ``labels`` is :func:`token_labels`."""
    mask = np.zeros(tokenizer.vocab_size, dtype=bool)
    for token_id in tokenizer.special_ids:
        if 0 <= token_id < tokenizer.vocab_size:
            mask[token_id] = True
    for token_id, data in enumerate(tokenizer.vocab_bytes):
        if not data and not mask[token_id] and labels[token_id] is not None:
            mask[token_id] = True
    return mask


def unused_special_mask(
    tokenizer: Tokenizer, special_like: np.ndarray, labels: Sequence[str | None]
) -> np.ndarray:
    """Reserved or unused tokens: specials named so (``<|reserved_special_token_3|>``,
    ``<SPECIAL_42>``, Mistral's ``[control_19]``, DeepSeek's place holders), SentencePiece pieces of type UNUSED, and placeholder entries of the
    ordinary vocabulary such as BERT's ``[unused7]``."""
    mask = np.zeros(tokenizer.vocab_size, dtype=bool)
    unused = tokenizer.unused_ids
    for token_id, label in enumerate(labels):
        if label is None:
            continue
        if special_like[token_id]:
            mask[token_id] = bool(_SPECIAL_RESERVED.search(label))
        else:
            mask[token_id] = bool(_VOCAB_RESERVED.match(label))
        if token_id in unused:
            mask[token_id] = True
    return mask


def duplicate_groups(tokenizer: Tokenizer, special_like: np.ndarray) -> dict[int, int]:
    """Tokens that stand for the same bytes in the same word position as another token:
    ``{id: lowest other id with those bytes}``. A WordPiece continuation (``##a``) and a
    word-start piece (``a``) differ in position, so they are not duplicates; SentencePiece
    byte pieces (``<0x41>``) and the ordinary piece ``A`` are."""
    groups: dict[tuple[bool, bytes], list[int]] = defaultdict(list)
    for token_id, data in enumerate(tokenizer.vocab_bytes):
        if data and not special_like[token_id]:
            groups[(is_continuation(tokenizer, token_id), data)].append(token_id)
    duplicate_of: dict[int, int] = {}
    for members in groups.values():
        if len(members) > 1:
            for token_id in members:
                duplicate_of[token_id] = min(m for m in members if m != token_id)
    return duplicate_of


def unreachable_mask(tokenizer: Tokenizer, candidates: np.ndarray) -> np.ndarray:
    """Tokens among ``candidates`` that no tested text encodes to.

    Magikarp's test is ``encode(decode(t)) == [t]``. Tokens that only occur inside a word
    (SentencePiece pieces without ``▁``, WordPiece ``##`` pieces) fail it while being in
    everyday use, so a token also counts as reachable when ``encode(anchor + text)`` is
    ``encode(anchor) + [t]`` for one of :data:`ANCHORS`, or, for a text starting with a space,
    when the text without that space encodes to ``[t]`` (SentencePiece adds the space itself).
    A token reachable only in some other context is still reported: the test can only prove
    reachability, never its absence, as in the paper.
    """
    vocab_bytes = tokenizer.vocab_bytes
    ids = [int(i) for i in np.flatnonzero(candidates)]
    texts = [vocab_bytes[i].decode("utf-8") for i in ids]
    unreached: list[tuple[int, str]] = []
    for token_id, text, encoded in zip(ids, texts, tokenizer.encode_batch(texts), strict=True):
        if encoded != [token_id]:
            unreached.append((token_id, text))

    anchor_ids = [tokenizer.encode(anchor) for anchor in ANCHORS]
    trials: list[tuple[int, list[int], str]] = []  # (token id, expected prefix, text)
    for token_id, text in unreached:
        if text.startswith(" ") and len(text) > 1:
            trials.append((token_id, [], text[1:]))
        for anchor, prefix in zip(ANCHORS, anchor_ids, strict=True):
            trials.append((token_id, prefix, anchor + text))
    reached: set[int] = set()
    encoded_trials = tokenizer.encode_batch([text for _, _, text in trials])
    for (token_id, prefix, _), encoded in zip(trials, encoded_trials, strict=True):
        if encoded == [*prefix, token_id]:
            reached.add(token_id)

    mask = np.zeros(tokenizer.vocab_size, dtype=bool)
    for token_id, _ in unreached:
        if token_id not in reached:
            mask[token_id] = True
    return mask


def token_counts_on_corpus(
    tokenizer: Tokenizer, corpus: str, *, chunk_texts: int = 2048, errors: Errors = "strict"
) -> np.ndarray:
    """How often each id is produced when encoding ``corpus`` (a file, folder or glob);
    ``errors`` is the corpus reader's rule for invalid UTF-8 (strict or replace)."""
    counts = np.zeros(tokenizer.vocab_size, dtype=np.int64)
    batch: list[str] = []

    def flush() -> None:
        flat, _ = tokenizer.encode_batch_numpy(batch)
        counts[:] += np.bincount(flat, minlength=tokenizer.vocab_size)[: tokenizer.vocab_size]
        batch.clear()

    for text in iter_texts(corpus, errors=errors):
        batch.append(text)
        if len(batch) >= chunk_texts:
            flush()
    if batch:
        flush()
    return counts


def audit_vocab(
    tokenizer: Tokenizer, *, corpus: str | None = None, errors: Errors = "strict"
) -> VocabAudit:
    """Run every tokenizer-only indicator over all ids of ``tokenizer``.

    ``unreachable`` is only tested on tokens whose bytes are whole UTF-8 characters (a
    partial token has no text of its own). ``never_produced`` runs when ``corpus`` is given
    and leaves out special and empty ids, which plain text never produces by definition.
    """
    size = tokenizer.vocab_size
    labels = token_labels(tokenizer)
    special_like = special_like_mask(tokenizer, labels)
    status = np.array([utf8_status(data) for data in tokenizer.vocab_bytes], dtype=object)
    ordinary = ~special_like
    flags: dict[str, np.ndarray] = {
        "unreachable": unreachable_mask(tokenizer, ordinary & (status == "complete")),
        "partial_utf8": ordinary & (status == "partial"),
        "invalid_utf8": ordinary & (status == "invalid"),
        "unused_special": unused_special_mask(tokenizer, special_like, labels),
        "empty_id": ordinary & (status == "empty"),
    }
    duplicate_of = duplicate_groups(tokenizer, special_like)
    duplicate = np.zeros(size, dtype=bool)
    duplicate[list(duplicate_of)] = True
    flags["duplicate"] = duplicate
    corpus_tokens = 0
    if corpus is not None:
        counts = token_counts_on_corpus(tokenizer, corpus, errors=errors)
        corpus_tokens = int(counts.sum())
        flags["never_produced"] = (counts == 0) & ordinary & (status != "empty")
    return VocabAudit(
        tokenizer=tokenizer.name,
        backend=tokenizer.backend,
        vocab_size=size,
        flags=flags,
        duplicate_of=duplicate_of,
        corpus=corpus,
        corpus_tokens=corpus_tokens,
    )


@dataclass(frozen=True)
class FlaggedToken(Result):
    """One flagged token, as the JSON list reports it."""

    id: int
    bytes_hex: str
    printable: str
    indicators: tuple[str, ...]
    duplicate_of: int | None = None
    undertrained_score: float | None = None  # weight indicator, when weights were given
    norm_z: float | None = None

    def to_dict(self) -> dict:
        """The token for JSON: fields that do not apply (no duplicate, no weights) are left
        out, scores rounded."""
        data: dict = {
            "id": self.id,
            "bytes_hex": self.bytes_hex,
            "printable": self.printable,
            "indicators": list(self.indicators),
        }
        if self.duplicate_of is not None:
            data["duplicate_of"] = self.duplicate_of
        if self.undertrained_score is not None:
            data["undertrained_score"] = round(self.undertrained_score, 6)
        if self.norm_z is not None:
            data["norm_z"] = round(self.norm_z, 3)
        return data


def flagged_tokens(
    tokenizer: Tokenizer,
    audit: VocabAudit,
    *,
    extra_flags: dict[str, np.ndarray] | None = None,
    scores: np.ndarray | None = None,
    norm_z: np.ndarray | None = None,
    indicators: Sequence[str] | None = None,
) -> list[FlaggedToken]:
    """Every token flagged by at least one indicator, ascending by id.

    ``extra_flags`` adds masks (the weight indicators); ``scores`` and ``norm_z`` are reported
    with each token when given; ``indicators`` restricts the list to tokens with one of them.
    """
    flags = dict(audit.flags)
    flags.update(extra_flags or {})
    chosen = [flags[name] for name in (indicators or flags) if name in flags]
    if not chosen:
        return []
    tokens: list[FlaggedToken] = []
    for flagged_id in np.flatnonzero(np.logical_or.reduce(chosen)):
        token_id = int(flagged_id)
        tokens.append(
            FlaggedToken(
                id=token_id,
                bytes_hex=tokenizer.vocab_bytes[token_id].hex(),
                printable=display(tokenizer, token_id),
                indicators=tuple(name for name, mask in flags.items() if mask[token_id]),
                duplicate_of=audit.duplicate_of.get(token_id),
                undertrained_score=None if scores is None else float(scores[token_id]),
                norm_z=None if norm_z is None else float(norm_z[token_id]),
            )
        )
    return tokens


@dataclass(frozen=True)
class RankedToken(Result):
    """One token of the under-trained ranking (lowest score first)."""

    id: int
    printable: str
    score: float
    norm: float
    norm_z: float


@dataclass
class WeightSummary(Result):
    """The weight indicators of one model: the matrix read, the threshold and the ranking."""

    path: str
    key: str
    shape: list[int]
    padding_rows: int
    components_removed: int
    reference_tokens: int
    threshold: float  # score below which a token is flagged undertrained
    reference_quantile: float  # the quantile of the reference tokens' scores it is
    ranking: list[RankedToken] = field(default_factory=list)


@dataclass
class VocabSummary(Result):
    """The audit of one tokenizer's vocabulary: counts per indicator, every flagged token, and
    the first ``examples`` ids of each indicator (for the tables, not in the JSON)."""

    name: str
    backend: str
    vocab_size: int
    source: str
    corpus: str | None
    corpus_tokens: int | None  # tokens produced on the corpus; None without one
    counts: dict[str, int]
    weights: WeightSummary | None
    flagged: list[FlaggedToken]
    examples: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = super().to_dict()
        del data["examples"]  # the tables' excerpt of ``flagged``
        return data


@dataclass
class VocabReport(Result):
    """``toksmith audit vocab``: the indicators that ran and the audit of each tokenizer."""

    indicators: dict[str, str]
    tokenizers: list[VocabSummary]


def audit_vocabularies(
    tokenizers: Sequence[Tokenizer],
    *,
    corpus: str | None = None,
    errors: Errors = "strict",
    weights: str | Path | None = None,
    embedding_key: str | None = None,
    reference_ids: Sequence[int] | None = None,
    components: int = 1,
    top: int = 20,
    examples: int = 4,
) -> VocabReport:
    """Every indicator of :func:`audit_vocab` for each tokenizer, and with ``weights`` (a
    safetensors file of the one model given, ``embedding_key`` the tensor) the weight
    indicators of :mod:`toksmith.audit.weights`: ``components`` principal components removed,
    ``reference_ids`` the known-unused tokens (default: those flagged unused_special,
    unreachable or empty_id), the ``top`` most likely under-trained tokens ranked."""
    from toksmith.audit.weights import audit_weights, check_matrix

    if weights is not None:
        if embedding_key is None:
            raise UserError("--weights needs --embedding-key NAME (the tensor to read)")
        if len(tokenizers) != 1:
            raise UserError("--weights belongs to one model: give exactly one tokenizer with it")
        # Fail on a wrong tensor name or shape before the slow audit.
        check_matrix(weights, embedding_key, tokenizers[0].vocab_size)
        outside = [i for i in reference_ids or () if not 0 <= i < tokenizers[0].vocab_size]
        if outside:
            raise UserError(f"--reference-ids: id {outside[0]} is not in the vocabulary of "
                            f"{tokenizers[0].name} (0 to {tokenizers[0].vocab_size - 1})")  # fmt: skip
    summaries = []
    for tokenizer in tokenizers:
        audit = audit_vocab(tokenizer, corpus=corpus, errors=errors)
        extra: dict[str, np.ndarray] = {}
        weight_audit = None
        if weights is not None and embedding_key is not None:
            reference = (
                np.array(list(reference_ids), dtype=np.int64)
                if reference_ids
                else audit.flagged_ids(["unused_special", "unreachable", "empty_id"])
            )
            weight_audit = audit_weights(
                weights,
                embedding_key,
                vocab_size=tokenizer.vocab_size,
                reference_ids=reference,
                n_components=components,
            )
            extra = {
                "undertrained": weight_audit.undertrained,
                "norm_outlier": weight_audit.norm_outlier,
            }
        flagged = flagged_tokens(
            tokenizer,
            audit,
            extra_flags=extra,
            scores=None if weight_audit is None else weight_audit.score,
            norm_z=None if weight_audit is None else weight_audit.norm_z,
        )
        shown: dict[str, list[tuple[int, str]]] = {}
        for name, mask in (audit.flags | extra).items():
            if name == "undertrained" and weight_audit is not None:
                ids = [int(i) for i in weight_audit.ranking(len(weight_audit.score)) if mask[i]]
            else:
                ids = [int(i) for i in np.flatnonzero(mask)[:examples]]
            shown[name] = [(i, display(tokenizer, i)) for i in ids[:examples]]
        summaries.append(
            VocabSummary(
                name=tokenizer.name,
                backend=tokenizer.backend,
                vocab_size=tokenizer.vocab_size,
                source=tokenizer.source,
                corpus=audit.corpus,
                corpus_tokens=audit.corpus_tokens if audit.corpus else None,
                counts=audit.counts() | {name: int(mask.sum()) for name, mask in extra.items()},
                weights=None
                if weight_audit is None
                else _weight_summary(tokenizer, weight_audit, top),
                flagged=flagged,
                examples=shown,
            )
        )
    descriptions = INDICATORS | WEIGHT_INDICATORS
    names = list(dict.fromkeys(name for summary in summaries for name in summary.counts))
    return VocabReport({name: descriptions[name] for name in names}, summaries)


def _weight_summary(tokenizer: Tokenizer, weights: WeightAudit, top: int) -> WeightSummary:
    return WeightSummary(
        path=weights.path,
        key=weights.key,
        shape=list(weights.shape),
        padding_rows=weights.padding_rows,
        components_removed=weights.n_components,
        reference_tokens=len(weights.reference_ids),
        threshold=float(weights.threshold),
        reference_quantile=float(weights.reference_quantile),
        ranking=[
            RankedToken(
                id=int(i),
                printable=display(tokenizer, int(i)),
                score=float(weights.score[i]),
                norm=float(weights.norm[i]),
                norm_z=float(weights.norm_z[i]),
            )
            for i in weights.ranking(top)
        ],
    )
