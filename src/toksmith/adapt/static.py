"""Token vectors for the auxiliary (FOCUS) and donor (OMP) spaces: PPMI + truncated SVD static
vectors trained here on the user's corpus, and a BERT base model's own contextual reading of
each new token's old pieces (:func:`piece_state_donor`).

The auxiliary space FOCUS needs offline (and a donor space for OMP when no donor model is
given). FOCUS trains fastText skip-gram vectors on target-language text tokenized by the new
tokenizer; skip-gram with negative sampling implicitly factorizes the shifted PMI matrix of
token/context co-occurrences (Levy & Goldberg, "Neural Word Embedding as Implicit Matrix
Factorization", 2014), and PPMI with context-distribution smoothing factorized by SVD matches
it on similarity tasks ("Improving Distributional Similarity with Lessons Learned from Word
Embeddings", Levy, Goldberg & Dagan, 2015). So the space keeps what FOCUS uses it for: which
tokens occur in the same contexts of the target text. Deviation: fastText also builds vectors
for unseen tokens from character n-grams; here a token that never occurs in the corpus has no
vector (``known`` is False), and the caller falls back to another estimate for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sparse
from scipy.sparse.linalg import svds

from toksmith.errors import UserError
from toksmith.tokenizers import Tokenizer

if TYPE_CHECKING:
    from toksmith.adapt.vocab import VocabularyMatch
    from toksmith.models import ModelFolder


@dataclass
class StaticVectors:
    """``vectors`` [vocab, dim] (float32, rows L2-normalised, zero where unknown) and
    ``known`` [vocab] (bool): the tokens that occurred at least ``min_count`` times."""

    vectors: np.ndarray
    known: np.ndarray
    tokens_seen: int


def train_static_vectors(
    tokenizer: Tokenizer,
    texts: Sequence[str],
    *,
    dim: int = 256,
    window: int = 5,
    min_count: int = 2,
    smoothing: float = 0.75,
    seed: int = 0,
) -> StaticVectors:
    """PPMI (context distribution smoothed by ``smoothing``) of the co-occurrences within
    ``window`` tokens of each other in ``texts`` encoded by ``tokenizer``, factorized by a
    truncated SVD of rank ``dim``; vectors are U·√Σ (the symmetric weighting of Levy et al.
    2015), L2-normalised."""
    encoded = tokenizer.encode_batch(list(texts))
    vocab = tokenizer.vocab_size
    counts = np.zeros(vocab, dtype=np.int64)
    lefts: list[np.ndarray] = []
    rights: list[np.ndarray] = []
    for ids in encoded:
        row = np.asarray(ids, dtype=np.int64)
        np.add.at(counts, row, 1)
        for offset in range(1, window + 1):
            if row.size > offset:
                lefts.append(row[:-offset])
                rights.append(row[offset:])
    total = int(counts.sum())
    known = counts >= min_count
    seen = np.flatnonzero(known)
    if seen.size < 4 or not lefts:
        raise UserError(
            f"the corpus gives too few tokens ({total:,}) to train static token vectors; "
            "give a larger corpus"
        )
    position = np.full(vocab, -1, dtype=np.int64)
    position[seen] = np.arange(seen.size)
    left = position[np.concatenate(lefts)]
    right = position[np.concatenate(rights)]
    keep = (left >= 0) & (right >= 0)
    left, right = left[keep], right[keep]
    size = seen.size
    pairs = sparse.coo_matrix(
        (np.ones(left.size, dtype=np.float64), (left, right)), shape=(size, size)
    ).tocsr()
    pairs = (pairs + pairs.T).tocsr()  # symmetric window
    pairs.sum_duplicates()
    row_sum = np.asarray(pairs.sum(axis=1)).ravel()
    context = np.asarray(pairs.sum(axis=0)).ravel() ** smoothing
    context /= context.sum()
    grand = row_sum.sum()
    coo = pairs.tocoo()
    pmi = np.log(coo.data * 1.0 / (row_sum[coo.row] / grand * context[coo.col] * grand))
    positive = pmi > 0
    ppmi = sparse.csr_matrix(
        (pmi[positive], (coo.row[positive], coo.col[positive])), shape=(size, size)
    )
    rank = max(1, min(dim, size - 2))
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(size)
    u, s, _ = svds(ppmi, k=rank, v0=start)
    reduced = (u * np.sqrt(s)).astype(np.float32)
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    reduced /= np.maximum(norms, 1e-12)
    vectors = np.zeros((vocab, rank), dtype=np.float32)
    vectors[seen] = reduced
    return StaticVectors(vectors, known, total)


def piece_state_donor(
    base: ModelFolder, match: VocabularyMatch, *, layer: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """An OMP donor space for a BERT base model when no donor model knows the new vocabulary:
    each new token's old pieces (greedy longest match on the old surfaces, so a continuation
    ``##ization`` is read as continuation pieces, a word start as a word start) fed to the
    base model alone between ``[CLS]``/``[SEP]``, and the mean of those pieces' hidden states
    after ``layer`` layers (:func:`toksmith.models.bert.piece_states`). Shared tokens get the
    reading of their own single piece. Returns ``vectors`` [new vocab, hidden] and ``known``
    (False for tokens without surface or without any old piece).

    Why this is a donor in the sense of "Training-Free Tokenizer Transplantation via
    Orthogonal Matching Pursuit" (Goddard & Fernandes Neto, 2025): there, a second model whose
    tokenizer has the new tokens gives one row per new and shared token, and OMP finds which
    shared tokens span a new one there. No model trained on a vocabulary made here exists
    offline; the base model's own contextual state of a new token's pieces is a vector for
    every new and shared token that already mixes the pieces by attention, so OMP over it picks
    anchors by what the model makes of the whole word, not by spelling. Deviation: the donor
    is built from the base model (its embeddings pass through its layers), not from an
    independently trained model. At layer 0 (the embedding output) it is close to the
    subword-mean of the LayerNorm'd rows, and OMP mostly reconstructs subword-mean; the
    default layer 4 was chosen for all-MiniLM-L6-v2 on a development split
    (``benchmarks/adapt_quality.py``, README).
    """
    from toksmith.adapt.vocab import decompose
    from toksmith.models.bert import piece_states

    size = len(match.new_surfaces)
    pieces: list[list[int]] = []
    for surface in match.new_surfaces:
        pieces.append(decompose(surface, match.old_index) if surface is not None else [])
    states = piece_states(base, pieces, layer=layer)
    known = np.asarray([bool(p) for p in pieces], dtype=bool)
    vectors = np.zeros((size, states.shape[1]), dtype=np.float32)
    vectors[known] = states[known]
    return vectors, known
