"""Which tokens two vocabularies share, and how an old vocabulary spells a new token.

Every transplantation method starts here: tokens present in both vocabularies are copied
exactly, and the other new tokens are estimated from old tokens. Tokens are compared by their
*surface*: the exact bytes they stand for (:meth:`Tokenizer.token_bytes`), written the way a
byte-level BPE vocabulary writes them, with the space that starts a word in front. A WordPiece
word-initial token ``hello`` is the surface ``b" hello"`` and its continuation ``##ing`` is
``b"ing"``, so WordPiece, SentencePiece and byte-level BPE vocabularies compare on one footing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from toksmith.errors import UserError
from toksmith.tokenizers import Tokenizer

# Texts whose digit tokenization decides arithmetic (the OMP paper's warning).
DIGIT_PROBES = ("7", "42", "365", "2024", "12345", "1234567", "3.14159", "1000000", "98765432")


def token_surfaces(tokenizer: Tokenizer) -> list[bytes | None]:
    """The surface of every id of ``tokenizer`` (None for special and unknown tokens, and for
    ids with no bytes): what is matched across vocabularies.

    A UserError when the tokenizer gives no byte-level mapping of its tokens.
    """
    try:
        raw = tokenizer.vocab_bytes
    except UserError as error:
        raise UserError(
            f"tokenizer {tokenizer.name!r} has no byte-level mapping of its tokens ({error}); "
            "transplantation compares tokens by their bytes"
        ) from None
    prefix = _continuation_prefix(tokenizer)
    excluded = set(tokenizer.special_ids) | set(_unknown_ids(tokenizer))
    surfaces: list[bytes | None] = []
    for token_id, data in enumerate(raw):
        if token_id in excluded or not data:
            surfaces.append(None)
        elif prefix is None:
            surfaces.append(data)
        else:
            label = tokenizer.token_label(token_id) or ""
            surfaces.append(data if label.startswith(prefix) else b" " + data)
    if sum(surface is not None for surface in surfaces) == 0:
        raise UserError(f"tokenizer {tokenizer.name!r} has no token with bytes to transplant")
    return surfaces


def _continuation_prefix(tokenizer: Tokenizer) -> str | None:
    try:
        return tokenizer.continuation_prefix
    except UserError:
        return None


def _unknown_ids(tokenizer: Tokenizer) -> frozenset[int]:
    try:
        return tokenizer.unknown_ids
    except UserError:
        return frozenset()


@dataclass
class VocabularyMatch:
    """How the ids of a new vocabulary relate to an old one.

    ``shared_new``/``shared_old``: aligned arrays of ids with the same surface (copied
    exactly); ``special_new``/``special_old``: special tokens matched by their label;
    ``missing_new``: new ids to estimate.
    """

    old_surfaces: list[bytes | None]
    new_surfaces: list[bytes | None]
    shared_new: np.ndarray
    shared_old: np.ndarray
    special_new: np.ndarray
    special_old: np.ndarray
    missing_new: np.ndarray

    @cached_property
    def old_index(self) -> dict[bytes, int]:
        """Surface → old id (the lowest id when a surface occurs twice)."""
        index: dict[bytes, int] = {}
        for token_id, surface in enumerate(self.old_surfaces):
            if surface is not None and surface not in index:
                index[surface] = token_id
        return index


def match_vocabularies(old: Tokenizer, new: Tokenizer) -> VocabularyMatch:
    """Pair every new id with the old id of the same surface, and special tokens by label
    (``[CLS]`` with ``[CLS]``; otherwise by role: both tokenizers' first special tokens in id
    order are not guessed at, they are estimated as the mean)."""
    old_surfaces = token_surfaces(old)
    new_surfaces = token_surfaces(new)
    index: dict[bytes, int] = {}
    duplicates: dict[bytes, list[int]] = {}
    for token_id, surface in enumerate(old_surfaces):
        if surface is None:
            continue
        if surface in index:
            duplicates.setdefault(surface, [index[surface]]).append(token_id)
        else:
            index[surface] = token_id
    shared_new: list[int] = []
    shared_old: list[int] = []
    missing: list[int] = []
    for token_id, surface in enumerate(new_surfaces):
        if surface is None:
            continue
        old_id = index.get(surface)
        if surface in duplicates:  # two old tokens spell the same bytes: prefer the same label
            label = _label(new, token_id)
            same = [i for i in duplicates[surface] if _label(old, i) == label]
            old_id = same[0] if same else old_id
        if old_id is None:
            missing.append(token_id)
        else:
            shared_new.append(token_id)
            shared_old.append(old_id)
    old_labels = _special_labels(old)
    special_new: list[int] = []
    special_old: list[int] = []
    for token_id in sorted(set(new.special_ids) | set(_unknown_ids(new))):
        label = _label(new, token_id)
        if label is not None and label in old_labels:
            special_new.append(token_id)
            special_old.append(old_labels[label])
        else:
            missing.append(token_id)
    # Ids with no bytes that are not special (holes in a vocabulary) are estimated too.
    known = set(shared_new) | set(special_new) | set(missing)
    missing.extend(i for i in range(new.vocab_size) if i not in known)
    return VocabularyMatch(
        old_surfaces,
        new_surfaces,
        np.asarray(shared_new, dtype=np.int64),
        np.asarray(shared_old, dtype=np.int64),
        np.asarray(special_new, dtype=np.int64),
        np.asarray(special_old, dtype=np.int64),
        np.asarray(sorted(missing), dtype=np.int64),
    )


def _label(tokenizer: Tokenizer, token_id: int) -> str | None:
    try:
        return tokenizer.token_label(token_id)
    except UserError:
        return None


def _special_labels(tokenizer: Tokenizer) -> dict[str, int]:
    labels: dict[str, int] = {}
    for token_id in sorted(set(tokenizer.special_ids) | set(_unknown_ids(tokenizer))):
        label = _label(tokenizer, token_id)
        if label is not None:
            labels.setdefault(label, token_id)
    return labels


def decompose(surface: bytes, index: dict[bytes, int], max_piece_bytes: int = 64) -> list[int]:
    """The old ids that spell ``surface``, by greedy longest match from the left over the old
    surfaces (what a WordPiece reader does; for byte-level BPE it gives the same pieces as
    encoding in most cases, and it works on partial UTF-8 tokens that no text encodes to).

    A byte no old surface starts with is skipped; the result is empty when nothing matched.
    Deviation from FVT / the papers' "tokenize the new token with the old tokenizer": greedy
    longest match instead of the old tokenizer's own merges, so pieces exist for every surface,
    also partial UTF-8 ones.
    """
    pieces: list[int] = []
    start = 0
    while start < len(surface):
        end = min(len(surface), start + max_piece_bytes)
        while end > start and surface[start:end] not in index:
            end -= 1
        if end == start:
            start += 1  # no old token starts with this byte
            continue
        pieces.append(index[surface[start:end]])
        start = end
    return pieces


def surface_text(surface: bytes) -> str:
    """The surface as text for an external text encoder (invalid UTF-8 as U+FFFD, the leading
    word space dropped)."""
    return surface.decode("utf-8", errors="replace").strip() or surface.decode(
        "utf-8", errors="replace"
    )


def digit_split_warning(old: Tokenizer, new: Tokenizer) -> str | None:
    """A warning when ``old`` and ``new`` cut numbers into differently sized digit groups.

    "Training-Free Tokenizer Transplantation via Orthogonal Matching Pursuit" (2025) names
    mismatched number tokenization as the main cause of the arithmetic a transplanted model
    loses.
    """
    differing: list[str] = []
    for probe in DIGIT_PROBES:
        if _digit_groups(old, probe) != _digit_groups(new, probe):
            differing.append(probe)
    if not differing:
        return None
    example = differing[0]
    return (
        f"the old and new tokenizers split digits differently (e.g. {example!r}: "
        f"{_digit_groups(old, example)} vs {_digit_groups(new, example)}); the OMP paper "
        "finds mismatched number tokenization is the main cause of lost arithmetic"
    )


def _digit_groups(tokenizer: Tokenizer, text: str) -> list[int]:
    """The lengths of the digit runs of each token of `` text``."""
    groups: list[int] = []
    for token_id in tokenizer.encode(" " + text):
        data = tokenizer.token_bytes(token_id)
        digits = len(re.findall(rb"[0-9]", data))
        if digits:
            groups.append(digits)
    return groups
