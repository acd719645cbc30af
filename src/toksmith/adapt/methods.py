"""The transplantation methods: how each new token's row is built from the old rows.

Every method gives a :class:`Recipe`: for each new token that the old vocabulary lacks, a sparse
combination of old rows (or the mean old row). The same recipe is applied to the input
embeddings and, for a model with untied embeddings, to the output embeddings, so both stay
consistent. Tokens both vocabularies share are copied exactly before any method runs (see
:func:`toksmith.adapt.transplant.transplant_matrices`).

Background for all of them: "WECHSEL: Effective initialization of subword embeddings for
cross-lingual transfer of monolingual language models" (Minixhofer, Paischer & Rekabsaz, 2022)
initialises each new token as a similarity-weighted combination of old tokens found in an
aligned auxiliary space; FOCUS and OMP below restrict that combination to overlapping tokens.
"Zero-Shot Tokenizer Transfer" (Minixhofer, Ponti & Vulić, 2024) trains a hypernetwork that
predicts the embeddings of any tokenizer; training it takes many GPU hours on a large corpus and
is out of reach on 2 CPU cores, so it is not implemented here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse

from toksmith.adapt.omp import orthogonal_matching_pursuit
from toksmith.adapt.static import StaticVectors
from toksmith.adapt.vocab import VocabularyMatch, decompose, surface_text
from toksmith.errors import UserError
from toksmith.progress import Progress

METHODS = ("zero", "mean", "subword-mean", "focus", "omp", "tokenadapt")

TextEmbedder = Callable[[Sequence[str]], np.ndarray]
"""Texts → L2-normalised vectors [len(texts), dim] (e.g. MiniLM sentence embeddings)."""


@dataclass
class Recipe:
    """Rows for the new ids ``targets``: ``weights`` [len(targets), old vocab] (sparse CSR) times
    the old matrix, except rows where ``use_mean`` is True, which get the mean old row.
    ``method_of_row`` names what built each row (a method falls back to ``subword-mean`` or
    ``mean`` for tokens it cannot handle)."""

    targets: np.ndarray
    weights: sparse.csr_matrix
    use_mean: np.ndarray
    method_of_row: list[str]

    def apply(self, old: np.ndarray, mean_row: np.ndarray) -> np.ndarray:
        """The new rows [len(targets), d] (float32)."""
        rows = np.asarray(self.weights @ old, dtype=np.float32)
        rows[self.use_mean] = mean_row
        return rows


@dataclass
class MethodInputs:
    """What the methods may use besides the two vocabularies.

    ``donor``: vectors of the *new* vocabulary in a donor space [new vocab, d'] with ``donor_known``
    (OMP); ``aux``: static vectors of the new vocabulary trained on the user's corpus (FOCUS;
    also OMP's donor space when no donor model is given); ``embed_texts``: an external text
    encoder (TokenAdapt).
    """

    k: int = 64
    donor: np.ndarray | None = None
    donor_known: np.ndarray | None = None
    aux: StaticVectors | None = None
    embed_texts: TextEmbedder | None = None
    focus_candidates: int = 64
    tokenadapt_neighbours: int = 3
    tokenadapt_global_weight: float = 0.3
    tokenadapt_temperature: float = 0.1
    progress: Progress | None = None


class _Builder:
    """Collects one sparse row per target."""

    def __init__(self, targets: np.ndarray, old_vocab: int) -> None:
        self.targets = targets
        self.old_vocab = old_vocab
        self.rows: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(targets)
        self.names: list[str] = ["mean"] * len(targets)

    def set(self, position: int, ids: Sequence[int] | np.ndarray, weights: np.ndarray, name: str):
        self.rows[position] = (np.asarray(ids, dtype=np.int64), np.asarray(weights, np.float64))
        self.names[position] = name

    def build(self) -> Recipe:
        indptr = [0]
        indices: list[np.ndarray] = []
        data: list[np.ndarray] = []
        use_mean = np.zeros(len(self.targets), dtype=bool)
        for position, row in enumerate(self.rows):
            if row is None:
                use_mean[position] = self.names[position] == "mean"
                indptr.append(indptr[-1])
                continue
            indices.append(row[0])
            data.append(row[1])
            indptr.append(indptr[-1] + row[0].size)
        matrix = sparse.csr_matrix(
            (
                np.concatenate(data) if data else np.zeros(0),
                np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(self.targets), self.old_vocab),
        )
        matrix.sum_duplicates()
        return Recipe(self.targets, matrix, use_mean, self.names)


def build_recipe(
    method: str, match: VocabularyMatch, old_vocab: int, inputs: MethodInputs
) -> Recipe:
    """The recipe of ``method`` (one of :data:`METHODS`) for ``match.missing_new``."""
    if method not in METHODS:
        raise UserError(f"method {method!r} is not one of {', '.join(METHODS)}")
    builder = _Builder(match.missing_new, old_vocab)
    if match.missing_new.size == 0:
        return builder.build()  # nothing to estimate (e.g. the model's own tokenizer)
    if method == "zero":
        builder.names = ["zero"] * len(match.missing_new)
        return builder.build()
    if method == "mean":
        return builder.build()
    _subword_mean(builder, match)
    if method == "focus":
        _focus(builder, match, inputs)
    elif method == "omp":
        _omp(builder, match, inputs)
    elif method == "tokenadapt":
        _tokenadapt(builder, match, inputs)
    return builder.build()


def _subword_mean(builder: _Builder, match: VocabularyMatch) -> None:
    """Each new token as the mean of the old pieces that spell its bytes (greedy longest match,
    see :func:`toksmith.adapt.vocab.decompose`); the FVT / subword-mean baseline of the OMP and
    FOCUS papers ("Fast Vocabulary Transfer", Gee et al. 2022). Tokens with no old piece (special
    tokens, bytes the old vocabulary lacks) get the mean old row."""
    index = match.old_index
    for position, token_id in enumerate(match.missing_new):
        surface = match.new_surfaces[int(token_id)]
        if surface is None:
            continue
        pieces = decompose(surface, index)
        if pieces:
            builder.set(position, pieces, np.full(len(pieces), 1.0 / len(pieces)), "subword-mean")


def sparsemax(scores: np.ndarray) -> np.ndarray:
    """Sparsemax of each row ("From Softmax to Sparsemax", Martins & Astudillo, 2016): the
    Euclidean projection onto the probability simplex, which puts exact zeros on low scores."""
    ordered = -np.sort(-scores, axis=1)
    cumulative = np.cumsum(ordered, axis=1)
    ranks = np.arange(1, scores.shape[1] + 1)
    support = 1 + ranks * ordered > cumulative
    size = support.sum(axis=1)
    threshold = (cumulative[np.arange(scores.shape[0]), size - 1] - 1) / size
    return np.maximum(scores - threshold[:, None], 0.0)


def _focus(builder: _Builder, match: VocabularyMatch, inputs: MethodInputs) -> None:
    """FOCUS ("FOCUS: Effective Embedding Initialization for Monolingual Specialization of
    Multilingual Models", Dobler & de Melo, 2023): each new token is the sparsemax-weighted sum
    of the *overlapping* tokens' old rows, weighted by cosine similarity in an auxiliary space
    trained on target text.

    Deviations: the auxiliary space is PPMI + SVD static vectors trained on the user's corpus
    tokenized by the new tokenizer (see :mod:`toksmith.adapt.static` for why that is the same
    signal as FOCUS's fastText) instead of fastText; sparsemax is taken over the
    ``focus_candidates`` (64) most similar overlapping tokens, not all of them (sparsemax's
    support is far smaller in practice, so this rarely changes a weight); new tokens absent from
    the corpus keep the subword-mean estimate where FOCUS draws them at random.
    """
    aux = inputs.aux
    if aux is None:
        raise UserError("method focus needs a corpus (--corpus) to train its auxiliary space")
    anchors_new = match.shared_new[aux.known[match.shared_new]]
    anchors_old = match.shared_old[aux.known[match.shared_new]]
    if anchors_new.size == 0:
        raise UserError("focus: no token shared by both vocabularies occurs in the corpus")
    anchor_vectors = aux.vectors[anchors_new]
    positions = np.flatnonzero(aux.known[match.missing_new])
    top = min(inputs.focus_candidates, anchors_new.size)
    for start in range(0, positions.size, 1024):
        chunk = positions[start : start + 1024]
        similarity = aux.vectors[match.missing_new[chunk]] @ anchor_vectors.T
        best = np.argpartition(-similarity, top - 1, axis=1)[:, :top]
        scores = np.take_along_axis(similarity, best, axis=1)
        weights = sparsemax(scores)
        for row, position in enumerate(chunk):
            nonzero = weights[row] > 0
            builder.set(
                int(position), anchors_old[best[row, nonzero]], weights[row, nonzero], "focus"
            )


def _omp(builder: _Builder, match: VocabularyMatch, inputs: MethodInputs) -> None:
    """OMP ("Training-Free Tokenizer Transplantation via Orthogonal Matching Pursuit", Goddard &
    Fernandes Neto, 2025): each new token's donor vector is approximated by ``k`` shared tokens
    chosen by orthogonal matching pursuit; the same coefficients on those tokens' old rows give
    its row. See :func:`toksmith.adapt.omp.orthogonal_matching_pursuit`.

    As in the paper's code (mergekit ``tokensurgeon``): shared tokens are copied exactly before
    this runs, the anchors are all shared tokens the donor space knows, the coefficients are
    the plain least-squares ones on the chosen anchors (no normalisation, no constraint on
    their sum) and the same coefficients serve input and output embeddings. k is the
    caller's (the issue's 64; tokensurgeon's CLI default is 8).

    The donor space is a donor model's input embeddings (the paper's setting, a model that
    uses the new tokenizer), or one the caller gives (``MethodInputs.donor``; for a BERT base
    model without a donor, :func:`toksmith.adapt.static.piece_state_donor`), or, with neither,
    static vectors trained on the user's corpus (deviation: the paper always uses a donor
    model). Deviation: tokens the donor space lacks keep the subword-mean estimate (in the
    paper every new token is in the donor's vocabulary, so there is no fallback).
    """
    donor, known = inputs.donor, inputs.donor_known
    if donor is None and inputs.aux is not None:
        donor, known = inputs.aux.vectors, inputs.aux.known
    if donor is None or known is None:
        raise UserError("method omp needs a donor model (--donor) or a corpus (--corpus)")
    anchor_mask = known[match.shared_new]
    anchors_new = match.shared_new[anchor_mask]
    anchors_old = match.shared_old[anchor_mask]
    if inputs.k > anchors_new.size:
        raise UserError(
            f"--k {inputs.k} is larger than the {anchors_new.size} anchor tokens (tokens both "
            "vocabularies share that the donor space knows)"
        )
    positions = np.flatnonzero(known[match.missing_new])
    if positions.size == 0:
        return
    solution = orthogonal_matching_pursuit(
        donor[anchors_new],
        donor[match.missing_new[positions]],
        inputs.k,
        progress=inputs.progress,
    )
    for row, position in enumerate(positions):
        coefficients = solution.coefficients[row]
        nonzero = coefficients != 0
        builder.set(
            int(position), anchors_old[solution.indices[row, nonzero]], coefficients[nonzero], "omp"
        )


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    scaled = scores / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    weights = np.exp(scaled)
    return weights / weights.sum(axis=-1, keepdims=True)


def _tokenadapt(builder: _Builder, match: VocabularyMatch, inputs: MethodInputs) -> None:
    """TokenAdapt ("Achieving Tokenizer Flexibility in Language Models through Heuristic
    Adaptation and Supertoken Learning", Sharthak et al., 2025): a hybrid of
    - a *local* estimate: the old pieces of the new token, weighted by a softmax of the cosine
      similarity between the piece's text and the new token's text in an external embedding
      space, and
    - a *global* estimate: the ``tokenadapt_neighbours`` old tokens nearest to the new token in
      that space, weighted by a softmax of their similarity,
    mixed as (1 − w)·local + w·global with w = ``tokenadapt_global_weight``.

    The external space is ``embed_texts`` (MiniLM sentence embeddings offline). Deviations: the
    paper's length normalisation of the local weights and its similarity threshold for
    neighbours are left out; w = 0.3, 3 neighbours and temperature 0.1 are our choices, not
    tuned here. Tokens with no old piece use the global estimate alone.
    """
    embed = inputs.embed_texts
    if embed is None:
        raise UserError("method tokenadapt needs an external text embedding (MiniLM)")
    old_ids = np.asarray(
        [i for i, surface in enumerate(match.old_surfaces) if surface is not None], np.int64
    )
    old_texts = [surface_text(match.old_surfaces[int(i)] or b"") for i in old_ids]
    old_vectors = np.asarray(embed(old_texts), dtype=np.float32)
    where_old = np.full(len(match.old_surfaces), -1, dtype=np.int64)
    where_old[old_ids] = np.arange(old_ids.size)
    positions = [
        p for p, t in enumerate(match.missing_new) if match.new_surfaces[int(t)] is not None
    ]
    new_texts = [
        surface_text(match.new_surfaces[int(match.missing_new[p])] or b"") for p in positions
    ]
    new_vectors = np.asarray(embed(new_texts), dtype=np.float32)
    weight = inputs.tokenadapt_global_weight
    neighbours = min(inputs.tokenadapt_neighbours, old_ids.size)
    for start in range(0, len(positions), 1024):
        block = new_vectors[start : start + 1024]
        similarity = block @ old_vectors.T
        best = np.argpartition(-similarity, neighbours - 1, axis=1)[:, :neighbours]
        best_scores = np.take_along_axis(similarity, best, axis=1)
        global_weights = _softmax(best_scores, inputs.tokenadapt_temperature)
        for row in range(block.shape[0]):
            position = positions[start + row]
            ids = [old_ids[best[row]]]
            local = builder.rows[position]
            if local is None:
                weights = [global_weights[row]]
            else:
                pieces = local[0]
                piece_vectors = old_vectors[where_old[pieces]]
                local_weights = _softmax(piece_vectors @ block[row], inputs.tokenadapt_temperature)
                ids.append(pieces)
                weights = [weight * global_weights[row], (1 - weight) * local_weights]
            builder.set(position, np.concatenate(ids), np.concatenate(weights), "tokenadapt")
