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

import numpy as np
import regex

from toksmith.audit.tokens import (
    display,
    is_continuation,
    token_labels,
    utf8_status,
)
from toksmith.corpus import iter_texts
from toksmith.tokenizers import Tokenizer

INDICATORS: dict[str, str] = {
    "unreachable": "encoding the token's own text (alone or after an anchor) never gives it",
    "partial_utf8": "bytes that are a piece of a UTF-8 character, not whole characters",
    "invalid_utf8": "bytes that can never occur in valid UTF-8 (e.g. 0xC0, 0xFF)",
    "unused_special": "special or reserved token that is unused by name or by type",
    "empty_id": "an id inside the vocabulary range that no token occupies",
    "duplicate": "decodes to the same string, in the same word position, as another token",
    "never_produced": "never produced on the given corpus",
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
class VocabAudit:
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

    def indicators_of(self, token_id: int) -> list[str]:
        return [name for name, mask in self.flags.items() if mask[token_id]]

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
    processor = getattr(tokenizer, "processor", None)
    for token_id, label in enumerate(labels):
        if label is None:
            continue
        if special_like[token_id]:
            mask[token_id] = bool(_SPECIAL_RESERVED.search(label))
        else:
            mask[token_id] = bool(_VOCAB_RESERVED.match(label))
        if processor is not None and processor.is_unused(token_id):
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
    tokenizer: Tokenizer, corpus: str, *, chunk_texts: int = 2048
) -> np.ndarray:
    """How often each id is produced when encoding ``corpus`` (a file, folder or glob)."""
    counts = np.zeros(tokenizer.vocab_size, dtype=np.int64)
    batch: list[str] = []

    def flush() -> None:
        flat, _ = tokenizer.encode_batch_numpy(batch)
        counts[:] += np.bincount(flat, minlength=tokenizer.vocab_size)[: tokenizer.vocab_size]
        batch.clear()

    for text in iter_texts(corpus):
        batch.append(text)
        if len(batch) >= chunk_texts:
            flush()
    if batch:
        flush()
    return counts


def audit_vocab(tokenizer: Tokenizer, *, corpus: str | None = None) -> VocabAudit:
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
        counts = token_counts_on_corpus(tokenizer, corpus)
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
class FlaggedToken:
    """One flagged token, as the JSON list reports it."""

    id: int
    bytes_hex: str
    printable: str
    indicators: tuple[str, ...]
    duplicate_of: int | None = None
    undertrained_score: float | None = None  # weight indicator, when weights were given
    norm_z: float | None = None

    def as_dict(self) -> dict:
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
    for token_id in np.flatnonzero(np.logical_or.reduce(chosen)):
        token_id = int(token_id)
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
