"""Transplanting a model to a new tokenizer: copy the shared rows, estimate the others.

``transplant`` is what ``toksmith adapt transplant`` runs: read the base model folder and the new
tokenizer, match the vocabularies (:mod:`toksmith.adapt.vocab`), build every new row with one of
:data:`toksmith.adapt.methods.METHODS`, and write a new model folder through
:func:`toksmith.models.save_model` (config consistent with the new vocabulary, built in a
temporary sibling and renamed). The linear algebra is numpy/scipy only.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from toksmith.adapt.methods import METHODS, MethodInputs, Recipe, TextEmbedder, build_recipe
from toksmith.adapt.static import train_static_vectors
from toksmith.adapt.vocab import VocabularyMatch, digit_split_warning, match_vocabularies
from toksmith.errors import UserError
from toksmith.progress import Progress
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

if TYPE_CHECKING:
    from toksmith.models import ModelFolder


@dataclass
class TransplantResult(Result):
    """What a transplant did. ``rows_by_method``: how many new rows each estimate built
    (``copied`` = shared tokens, ``special`` = special tokens matched by name); ``warnings``:
    e.g. the digit-split warning."""

    output: str | None
    base_model: str
    tokenizer: str
    method: str
    k: int | None
    old_vocab_size: int
    new_vocab_size: int
    shared_tokens: int
    estimated_tokens: int
    tied_embeddings: bool
    rows_by_method: dict[str, int]
    elapsed_s: float
    warnings: list[str] = field(default_factory=list)
    donor: str | None = None
    corpus: str | None = None


def load_new_tokenizer(path: str | Path, architecture: str) -> Tokenizer:
    """The tokenizer of ``path`` (a tokenizer.json, or a folder holding one), with the special
    policy the model's architecture uses."""
    from toksmith.models.folder import special_policy
    from toksmith.tokenizers.load import load_path

    source = Path(path).expanduser()
    if source.is_dir():
        source = source / "tokenizer.json"
    if not source.is_file():
        raise UserError(f"tokenizer file {source} does not exist (expected an HF tokenizer.json)")
    return load_path(source, special=special_policy(architecture))


def mean_row(matrix: np.ndarray, surfaces: Sequence[bytes | None]) -> np.ndarray:
    """The mean of the rows of tokens that have bytes (special tokens left out)."""
    rows = [i for i, surface in enumerate(surfaces) if surface is not None]
    return matrix[rows].mean(axis=0) if rows else matrix.mean(axis=0)


def transplant_matrix(old: np.ndarray, match: VocabularyMatch, recipe: Recipe) -> np.ndarray:
    """The new matrix [new vocab, ...] for an old one [old vocab, ...]: shared and matched
    special rows copied exactly, the others built by ``recipe``. Works for embedding matrices
    and for per-token vectors such as an output bias."""
    flat = old.reshape(old.shape[0], -1).astype(np.float32, copy=False)
    size = len(match.new_surfaces)
    new = np.zeros((size, flat.shape[1]), dtype=np.float32)
    new[match.shared_new] = flat[match.shared_old]
    new[match.special_new] = flat[match.special_old]
    new[recipe.targets] = recipe.apply(flat, mean_row(flat, match.old_surfaces))
    return new.reshape((size, *old.shape[1:]))


def transplant_weights(
    base: ModelFolder, match: VocabularyMatch, recipe: Recipe
) -> dict[str, np.ndarray]:
    """Every tensor of ``base`` with one row per old token (the embeddings, tied or not, and
    any per-token bias) rebuilt for the new vocabulary; the rest unchanged."""
    old_vocab = base.tokenizer.vocab_size
    weights: dict[str, np.ndarray] = {}
    per_token = {base.input_embedding_key, base.output_embedding_key}
    for key, tensor in base.weights.items():
        rows_are_tokens = key in per_token or (
            tensor.ndim >= 1
            and tensor.shape[0] == old_vocab
            and np.issubdtype(tensor.dtype, np.floating)
            and key.endswith(("bias", "weight"))
            and "position" not in key
        )
        weights[key] = transplant_matrix(tensor, match, recipe) if rows_are_tokens else tensor
    return weights


def donor_vectors(donor: ModelFolder, match: VocabularyMatch) -> tuple[np.ndarray, np.ndarray]:
    """The donor model's input-embedding row of every new token (by surface) and whether the
    donor knows it: OMP's donor space."""
    from toksmith.adapt.vocab import token_surfaces

    index: dict[bytes, int] = {}
    for token_id, surface in enumerate(token_surfaces(donor.tokenizer)):
        if surface is not None:
            index.setdefault(surface, token_id)
    matrix = donor.input_embeddings
    vectors = np.zeros((len(match.new_surfaces), matrix.shape[1]), dtype=np.float32)
    known = np.zeros(len(match.new_surfaces), dtype=bool)
    for token_id, surface in enumerate(match.new_surfaces):
        donor_id = index.get(surface) if surface is not None else None
        if donor_id is not None:
            vectors[token_id] = matrix[donor_id]
            known[token_id] = True
    return vectors, known


def minilm_embedder(batch_size: int = 256) -> TextEmbedder:
    """MiniLM sentence embeddings as TokenAdapt's external space (loaded when first used)."""
    from toksmith.models import load_model, minilm_folder, sentence_embeddings

    model = load_model(minilm_folder())

    def embed(texts: Sequence[str]) -> np.ndarray:
        return np.asarray(sentence_embeddings(model, list(texts), batch_size=batch_size))

    return embed


def plan_transplant(
    base: ModelFolder,
    new_tokenizer: Tokenizer,
    method: str,
    *,
    k: int = 64,
    donor: ModelFolder | None = None,
    corpus_texts: Sequence[str] | None = None,
    embed_texts: TextEmbedder | None = None,
    donor_space: Callable[[VocabularyMatch], tuple[np.ndarray, np.ndarray]] | None = None,
    progress: Progress | None = None,
) -> tuple[VocabularyMatch, Recipe]:
    """Match the vocabularies and build ``method``'s recipe for the new tokens.

    ``donor_space``: for OMP without a donor model, a function giving the new vocabulary's
    vectors in some donor space and which of them are known (e.g. MiniLM's embedding of each
    token's text); otherwise OMP uses a donor model or static vectors of ``corpus_texts``."""
    if method not in METHODS:
        raise UserError(f"method {method!r} is not one of {', '.join(METHODS)}")
    match = match_vocabularies(base.tokenizer, new_tokenizer)
    inputs = MethodInputs(k=k, embed_texts=embed_texts, progress=progress)
    if method == "omp" and donor is not None:
        inputs.donor, inputs.donor_known = donor_vectors(donor, match)
    elif method == "omp" and donor_space is not None and match.missing_new.size:
        inputs.donor, inputs.donor_known = donor_space(match)
    needs_corpus = match.missing_new.size > 0 and (
        method == "focus" or (method == "omp" and inputs.donor is None)
    )
    if needs_corpus:
        if not corpus_texts:
            raise UserError(
                f"method {method} needs "
                + ("a donor model (--donor) or " if method == "omp" else "")
                + "a corpus (--corpus) to train static token vectors on"
            )
        if progress:
            progress("training static token vectors (PPMI + SVD)", -1.0)
        inputs.aux = train_static_vectors(new_tokenizer, corpus_texts)
    if method == "tokenadapt" and inputs.embed_texts is None and match.missing_new.size:
        if progress:
            progress("loading MiniLM (TokenAdapt's external space)", -1.0)
        inputs.embed_texts = minilm_embedder()
    if progress:
        progress(f"estimating {match.missing_new.size:,} new rows ({method})", -1.0)
    recipe = build_recipe(method, match, base.tokenizer.vocab_size, inputs)
    return match, recipe


def transplant_in_memory(
    base: ModelFolder,
    new_tokenizer: Tokenizer,
    method: str,
    **options: object,
) -> tuple[dict[str, np.ndarray], VocabularyMatch, Recipe]:
    """The transplanted weights (not written), with the match and recipe that made them."""
    match, recipe = plan_transplant(base, new_tokenizer, method, **options)  # type: ignore[arg-type]
    return transplant_weights(base, match, recipe), match, recipe


def transplant(
    model: str | Path,
    tokenizer: str | Path,
    output: str | Path,
    method: str,
    *,
    k: int = 64,
    donor: str | Path | None = None,
    corpus_texts: Sequence[str] | None = None,
    corpus: str | None = None,
    embed_texts: TextEmbedder | None = None,
    donor_layer: int | None = None,
    progress: Progress | None = None,
) -> TransplantResult:
    """Transplant the model folder ``model`` to ``tokenizer`` with ``method`` and write the new
    model folder ``output`` (which must not exist; nothing is left behind on failure).

    ``donor_layer``: for OMP without a donor model, use the base model's own hidden states of
    each new token's old pieces after that many layers as the donor space
    (:func:`toksmith.adapt.static.piece_state_donor`; BERT base models only)."""
    from toksmith.models import load_model, save_model

    started = time.perf_counter()
    target = Path(output).expanduser()
    if target.exists():
        raise UserError(f"output folder {target} already exists: choose a new folder")
    if k < 1:
        raise UserError(f"--k must be at least 1, got {k}")
    base = load_model(model)
    new_tokenizer = load_new_tokenizer(tokenizer, base.architecture)
    donor_model = load_model(donor) if donor is not None else None
    space = None
    if donor_layer is not None:
        space = _piece_state_space(base, donor_layer, method, donor)
    match, recipe = plan_transplant(
        base,
        new_tokenizer,
        method,
        k=k,
        donor=donor_model,
        corpus_texts=corpus_texts,
        embed_texts=embed_texts,
        donor_space=space,
        progress=progress,
    )
    weights = transplant_weights(base, match, recipe)
    warnings = [w for w in [digit_split_warning(base.tokenizer, new_tokenizer)] if w]
    if progress:
        progress("writing the model folder", 1.0)
    source = Path(tokenizer).expanduser()
    save_model(
        base,
        target,
        weights=weights,
        tokenizer_json=source / "tokenizer.json" if source.is_dir() else source,
    )
    counts = Counter(recipe.method_of_row)
    rows = {"copied": int(match.shared_new.size), "special": int(match.special_new.size)}
    rows.update({name: int(count) for name, count in sorted(counts.items())})
    return TransplantResult(
        output=str(target),
        base_model=str(model),
        tokenizer=str(tokenizer),
        method=method,
        k=k if method == "omp" else None,
        old_vocab_size=base.tokenizer.vocab_size,
        new_vocab_size=new_tokenizer.vocab_size,
        shared_tokens=int(match.shared_new.size),
        estimated_tokens=int(match.missing_new.size),
        tied_embeddings=base.tied,
        rows_by_method=rows,
        elapsed_s=time.perf_counter() - started,
        warnings=warnings,
        donor=str(donor)
        if donor is not None
        else (
            f"base model's piece states, layer {donor_layer}" if donor_layer is not None else None
        ),
        corpus=corpus,
    )


def _piece_state_space(
    base: ModelFolder, layer: int, method: str, donor: object
) -> Callable[[VocabularyMatch], tuple[np.ndarray, np.ndarray]]:
    from toksmith.adapt.static import piece_state_donor

    if method != "omp":
        raise UserError(f"--donor-layer is for --method omp, not {method}")
    if donor is not None:
        raise UserError("--donor-layer and --donor both name OMP's donor space: give one")
    if base.architecture != "bert":
        raise UserError(
            f"--donor-layer reads a BERT model's hidden states; the base model is a "
            f"{base.architecture} model"
        )
    layers = int(base.config.get("num_hidden_layers", 0))
    if not 0 <= layer <= layers:
        raise UserError(f"--donor-layer {layer}: expected 0 to {layers} (the model's layers)")
    return lambda match: piece_state_donor(base, match, layer=layer)


def text_donor_space(
    embed: TextEmbedder,
) -> Callable[[VocabularyMatch], tuple[np.ndarray, np.ndarray]]:
    """An OMP donor space for a model that has no donor with the new vocabulary: each new
    token's text (shared and missing tokens alike) embedded by ``embed`` (e.g. MiniLM's own
    contextual embedding of the token's text, read through the old tokenizer)."""
    from toksmith.adapt.vocab import surface_text

    def space(match: VocabularyMatch) -> tuple[np.ndarray, np.ndarray]:
        wanted = np.concatenate([match.shared_new, match.missing_new])
        wanted = np.asarray([i for i in wanted if match.new_surfaces[int(i)] is not None])
        texts = [surface_text(match.new_surfaces[int(i)] or b"") for i in wanted]
        vectors = np.asarray(embed(texts), dtype=np.float32)
        space_vectors = np.zeros((len(match.new_surfaces), vectors.shape[1]), dtype=np.float32)
        known = np.zeros(len(match.new_surfaces), dtype=bool)
        space_vectors[wanted] = vectors
        known[wanted] = True
        return space_vectors, known

    return space


def cached_embedder(embed: TextEmbedder) -> TextEmbedder:
    """``embed`` remembering every text it has embedded (methods embed the same token texts)."""
    cache: dict[str, np.ndarray] = {}

    def cached(texts: Sequence[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in cache))
        if todo:
            for text, vector in zip(todo, np.asarray(embed(todo)), strict=True):
                cache[text] = vector
        return np.stack([cache[t] for t in texts]) if texts else np.zeros((0, 1), np.float32)

    return cached
