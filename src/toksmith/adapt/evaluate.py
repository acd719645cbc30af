"""``adapt eval``: models with different tokenizers compared on one held-out text, in bits per
byte.

Per-token perplexities under two tokenizers do not compare (a model with longer tokens has fewer,
harder predictions), so the one measure is the total negative log2-likelihood of the text divided
by its UTF-8 bytes (:func:`toksmith.models.bits_per_byte`).

:func:`dynamic_bits_per_byte` scores a causal LM the same way on text whose token sequences were
shortened by dynamic merges (:mod:`toksmith.adapt.dynamic`), the merged units embedded by
``subword-mean`` or ``omp``.
"""

from __future__ import annotations

import functools
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from toksmith.errors import UserError
from toksmith.progress import Progress
from toksmith.results import Result

if TYPE_CHECKING:
    from toksmith.models import ModelFolder


@dataclass
class ModelScore(Result):
    """One model on the held-out text."""

    model: str
    architecture: str
    vocab_size: int
    tokens: int
    bits_per_byte: float
    tokens_per_byte: float


@dataclass
class EvalResult(Result):
    """``adapt eval``: every model's bits per byte on the same texts (lower is better)."""

    corpus: str
    texts: int
    bytes: int
    results: list[ModelScore]
    elapsed_s: float
    kind: str = "adapt-eval"
    notes: list[str] = field(default_factory=list)


def evaluate_models(
    models: Sequence[str | Path],
    texts: Sequence[str],
    *,
    corpus: str = "",
    progress: Progress | None = None,
) -> EvalResult:
    """Load each model folder and measure its bits per byte on ``texts``. Only causal LMs
    predict text; a BERT encoder is refused by :func:`toksmith.models.bits_per_byte`."""
    from toksmith.models import load_model

    try:
        from toksmith.models import bits_per_byte  # type: ignore[attr-defined]
    except ImportError:  # the runtime exports it from its causal module
        from toksmith.models.causal import bits_per_byte

    started = time.perf_counter()
    total_bytes = sum(len(text.encode("utf-8")) for text in texts)
    scores: list[ModelScore] = []
    for number, folder in enumerate(models):
        if progress:
            progress(f"scoring {folder}", number / max(len(models), 1))
        model = load_model(folder)
        tokens = sum(len(ids) for ids in model.tokenizer.encode_batch(list(texts)))
        scores.append(
            ModelScore(
                model=str(folder),
                architecture=model.architecture,
                vocab_size=model.tokenizer.vocab_size,
                tokens=tokens,
                bits_per_byte=float(bits_per_byte(model, texts)),
                tokens_per_byte=tokens / total_bytes if total_bytes else float("nan"),
            )
        )
    return EvalResult(
        corpus=corpus,
        texts=len(texts),
        bytes=total_bytes,
        results=scores,
        elapsed_s=time.perf_counter() - started,
    )


# ---- a causal LM on dynamically merged tokens --------------------------------------------------

DYNAMIC_EMBEDDINGS = ("subword-mean", "omp")


@dataclass
class DynamicLMRow(Result):
    """Held-out bits per byte with ``merges`` merges learned per batch, the merged units
    embedded by ``embedding`` (``none`` for the unmerged baseline). ``rows_by_source``: how
    many merged-unit rows each estimate built, summed over batches (``existing``: the unit's
    bytes are already a token of the model, whose row is copied; ``omp`` falls back to
    ``subword-mean`` for units the donor does not know)."""

    merges: int
    embedding: str
    units: int
    length_reduction: float
    new_units: int
    rows_by_source: dict[str, int]
    bits_per_byte: float


@dataclass
class DynamicLMResult(Result):
    """A causal LM scored on held-out text cut into sequences of at most ``sequence_tokens``
    tokens, with dynamic merges learned per batch of ``batch_size`` sequences (word
    boundaries, pairs seen at least ``min_count`` times)."""

    tokenizer: str
    texts: int
    bytes: int
    sequences: int
    tokens: int
    batch_size: int
    sequence_tokens: int
    min_count: int
    donor: str | None
    k: int
    rows: list[DynamicLMRow]
    elapsed_s: float
    kind: str = "adapt-dynamic-lm"


def _embedding_keys(model: ModelFolder) -> list[str]:
    keys = [model.input_embedding_key]
    if model.output_embedding_key:
        keys.append(model.output_embedding_key)
    return keys


def _chunk_ids(model: ModelFolder, texts: Sequence[str], length: int) -> list[list[int]]:
    """Every text's ids cut into consecutive sequences of at most ``length`` ids, checked to
    spell the text's exact bytes (else bits per byte would not be over the text)."""
    tokenizer = model.tokenizer
    token_bytes = tokenizer.vocab_bytes
    chunks: list[list[int]] = []
    for text, ids in zip(texts, tokenizer.encode_batch(list(texts)), strict=True):
        if b"".join(token_bytes[i] for i in ids) != text.encode("utf-8"):
            raise UserError(
                f"tokenizer {tokenizer.name!r} does not spell the text's exact bytes; dynamic "
                "merges are scored in bits per byte only for byte-exact tokenizers"
            )
        chunks.extend(list(ids[start : start + length]) for start in range(0, len(ids), length))
    return chunks


class _OmpDonor:
    """OMP's donor space for merged units: the donor LM's input embeddings, looked up by the
    unit's exact bytes; the anchors are the tokens both tokenizers share."""

    def __init__(self, model: ModelFolder, donor: ModelFolder, k: int) -> None:
        from toksmith.adapt.vocab import match_vocabularies

        match = match_vocabularies(model.tokenizer, donor.tokenizer)
        if k > match.shared_new.size:
            raise UserError(f"k {k} is larger than the {match.shared_new.size} shared tokens")
        specials = set(donor.tokenizer.special_ids)
        self.index = {
            data: token_id
            for token_id, data in enumerate(donor.tokenizer.vocab_bytes)
            if data and token_id not in specials
        }
        self.vectors = donor.input_embeddings
        self.anchors_model = match.shared_old
        self.dictionary = self.vectors[match.shared_new]
        self.k = k

    def solve(self, unit_bytes: Sequence[bytes]) -> tuple[np.ndarray, Any]:
        """The positions of the units the donor knows, and their OMP solution."""
        from toksmith.adapt.omp import orthogonal_matching_pursuit

        known = np.asarray([i for i, b in enumerate(unit_bytes) if b in self.index], np.int64)
        if known.size == 0:
            return known, None
        goals = self.vectors[[self.index[unit_bytes[int(i)]] for i in known]]
        return known, orthogonal_matching_pursuit(self.dictionary, goals, self.k)


def _unit_rows(
    matrix: np.ndarray,
    pieces: Sequence[Sequence[int]],
    existing: Sequence[int | None],
    embedding: str,
    omp: tuple[np.ndarray, Any, np.ndarray] | None,
) -> tuple[np.ndarray, list[str]]:
    """Rows of the merged units in ``matrix``'s space and what built each."""
    rows = np.empty((len(pieces), matrix.shape[1]), dtype=np.float32)
    sources: list[str] = []
    for position, parts in enumerate(pieces):
        same = existing[position]
        if same is not None:
            rows[position] = matrix[same]
            sources.append("existing")
        else:
            rows[position] = matrix[list(parts)].mean(axis=0)
            sources.append("subword-mean")
    if embedding == "omp" and omp is not None:
        known, solution, anchors_model = omp
        if solution is not None:
            estimates = solution.apply(matrix[anchors_model])
            for row, position in enumerate(known):
                if existing[int(position)] is None:
                    rows[int(position)] = estimates[row]
                    sources[int(position)] = "omp"
    return rows, sources


def dynamic_bits_per_byte(
    model: ModelFolder,
    texts: Sequence[str],
    merges: Sequence[int],
    *,
    embeddings: Sequence[str] = DYNAMIC_EMBEDDINGS,
    donor: ModelFolder | None = None,
    k: int = 64,
    batch_size: int = 32,
    min_count: int = 2,
) -> DynamicLMResult:
    """Held-out bits per byte of the causal LM ``model`` when its token sequences are shortened
    by dynamic merges ("Retrofitting (Large) Language Models with Dynamic Tokenization", Feher,
    Vulić & Minixhofer, 2024) and the merged units get new input and output rows.

    The texts are cut into sequences of the model's context length (in tokens), merges are
    learned on each batch of ``batch_size`` sequences (:func:`learn_batch_merges`, word
    boundaries), and each merged unit is embedded by ``subword-mean`` (the mean of the rows of
    the tokens it merged) or ``omp`` (its row in the ``donor`` LM, looked up by its exact bytes,
    approximated by ``k`` shared tokens with orthogonal matching pursuit, the same coefficients
    taken of the model's rows; units the donor lacks keep the subword mean). The model then
    predicts over its vocabulary plus the batch's units. A unit whose bytes are already one of
    the model's tokens gets that token's row.

    Deviations from the paper: no hypernetwork (the paper's embeddings of merged units come from
    a hypernetwork trained for "Zero-Shot Tokenizer Transfer"); the merges are side information
    that bits per byte does not charge; the likelihood is that of the merged segmentation, so
    it bounds the model's likelihood of the bytes from below. Returns one row per merge count
    and embedding, in bits per UTF-8 byte of ``texts``.
    """
    from toksmith.adapt.dynamic import (
        decode_units,
        learn_batch_merges,
        token_segments,
        unit_pieces,
    )

    if model.architecture != "causal":
        raise UserError(f"{model.path or 'model'} is a {model.architecture} model; expected a "
                        "causal LM")  # fmt: skip
    for name in embeddings:
        if name not in DYNAMIC_EMBEDDINGS:
            raise UserError(f"embedding {name!r} is not one of {', '.join(DYNAMIC_EMBEDDINGS)}")
    if "omp" in embeddings and donor is None:
        raise UserError("embedding merged units by omp needs a donor model")
    if any(m < 0 for m in merges):
        raise UserError("numbers of merges must be at least 0")
    started = time.perf_counter()
    tokenizer = model.tokenizer
    vocab = tokenizer.vocab_size
    token_bytes = tokenizer.vocab_bytes
    context = int(model.config["n_positions"])
    total_bytes = sum(len(text.encode("utf-8")) for text in texts)
    if total_bytes == 0:
        raise UserError("bits per byte needs at least one non-empty text")
    chunks = _chunk_ids(model, texts, context)
    # word boundaries are read from the token bytes: no text needed
    segments = [token_segments(tokenizer, "", ids, "word") for ids in chunks]
    specials = set(tokenizer.special_ids)
    own_index = {data: i for i, data in enumerate(token_bytes) if data and i not in specials}
    omp_donor = _OmpDonor(model, donor, k) if "omp" in embeddings and donor else None
    scorer = _MergedScorer(model, vocab + max([0, *merges]))
    settings = [(0, "none")] + [(m, e) for m in sorted(set(merges)) if m > 0 for e in embeddings]
    nats = dict.fromkeys(settings, 0.0)
    units = dict.fromkeys(settings, 0)
    new_units = dict.fromkeys(settings, 0)
    sources: dict[tuple[int, str], Counter[str]] = {s: Counter() for s in settings}
    for start in range(0, len(chunks), batch_size):
        batch_ids = chunks[start : start + batch_size]
        batch_segments = segments[start : start + batch_size]
        for count in sorted({m for m, _ in settings}):
            batch = learn_batch_merges(batch_ids, batch_segments, token_bytes, count,
                                       min_count=min_count)  # fmt: skip
            for ids, merged in zip(batch_ids, batch.sequences, strict=True):
                if decode_units(merged, token_bytes, batch) != b"".join(
                    token_bytes[i] for i in ids
                ):
                    raise AssertionError("merged units do not spell the tokens' bytes")
            pieces = unit_pieces(batch, vocab)
            existing = [own_index.get(data) for data in batch.unit_bytes]
            omp = None
            if omp_donor is not None and count > 0:
                known, solution = omp_donor.solve(batch.unit_bytes)
                omp = (known, solution, omp_donor.anchors_model)
            for setting in [s for s in settings if s[0] == count]:
                extra = {
                    key: _unit_rows(model.weights[key], pieces, existing, setting[1], omp)
                    for key in _embedding_keys(model)
                }
                unit_rows = {key: built for key, (built, _) in extra.items()}
                nats[setting] += scorer.nats(batch.sequences, unit_rows)
                units[setting] += sum(len(seq) for seq in batch.sequences)
                new_units[setting] += len(pieces)
                sources[setting].update(extra[model.input_embedding_key][1])
    tokens = sum(len(ids) for ids in chunks)
    rows = [
        DynamicLMRow(
            merges=count,
            embedding=name,
            units=units[(count, name)],
            length_reduction=1.0 - units[(count, name)] / tokens,
            new_units=new_units[(count, name)],
            rows_by_source=dict(sorted(sources[(count, name)].items())),
            bits_per_byte=nats[(count, name)] / math.log(2) / total_bytes,
        )
        for count, name in settings
    ]
    return DynamicLMResult(
        tokenizer=tokenizer.name,
        texts=len(texts),
        bytes=total_bytes,
        sequences=len(chunks),
        tokens=tokens,
        batch_size=batch_size,
        sequence_tokens=context,
        min_count=min_count,
        donor=None if donor is None else str(donor.path or donor.tokenizer.name),
        k=k,
        rows=rows,
        elapsed_s=time.perf_counter() - started,
    )


class _MergedScorer:
    """Log-likelihoods of merged sequences under a causal LM whose embedding matrices are
    padded to ``rows`` rows (one compiled shape for every batch); the rows past a batch's units
    are masked out of the softmax."""

    def __init__(self, model: ModelFolder, rows: int) -> None:
        from toksmith.models.causal import _shape, device_params

        self.model = model
        self.rows = rows
        self.vocab = model.tokenizer.vocab_size
        self.context = int(model.config["n_positions"])
        self.shape = _shape(model.config)
        self.params = device_params(model)

    def nats(self, sequences: Sequence[Sequence[int]], unit_rows: dict[str, np.ndarray]) -> float:
        """Total negative log-likelihood (nats) of ``sequences``, each predicted from the start
        vector, the units ``vocab …`` having the rows ``unit_rows[key]``."""
        import jax.numpy as jnp

        params = dict(self.params)
        used = self.vocab
        for key, extra in unit_rows.items():
            base = self.model.weights[key]
            padded = np.zeros((self.rows, base.shape[1]), dtype=np.float32)
            padded[: self.vocab] = base
            padded[self.vocab : self.vocab + extra.shape[0]] = extra
            params[key] = jnp.asarray(padded)
            used = self.vocab + extra.shape[0]
        mask = np.full(self.rows, -np.inf, dtype=np.float32)
        mask[:used] = 0.0
        total = 0.0
        height = 16
        for begin in range(0, len(sequences), height):
            chunk = sequences[begin : begin + height]
            ids = np.zeros((height, self.context), dtype=np.int32)
            targets = np.zeros((height, self.context), dtype=np.int32)
            weights = np.zeros((height, self.context), dtype=np.float32)
            for row, units in enumerate(chunk):
                if len(units) > self.context:
                    raise AssertionError("a merged sequence is longer than the context")
                ids[row, 0] = self.rows  # the start vector follows the padded rows
                ids[row, 1 : len(units)] = units[:-1]
                targets[row, : len(units)] = units
                weights[row, : len(units)] = 1.0
            scores = _masked_logprobs(params, ids, targets, jnp.asarray(mask), self.shape)
            total -= float((np.asarray(scores, np.float64) * weights).sum())
        return total


def _masked_logprobs_impl(params: Any, ids: Any, targets: Any, mask: Any, shape: Any) -> Any:
    import jax
    import jax.numpy as jnp

    from toksmith.models.causal import _logits

    logprobs = jax.nn.log_softmax(_logits(params, ids, shape) + mask, axis=-1)
    return jnp.take_along_axis(logprobs, targets[..., None], axis=-1)[..., 0]


@functools.cache
def _masked_logprobs_compiled() -> Callable[..., Any]:
    import jax

    return jax.jit(_masked_logprobs_impl, static_argnames=("shape",))


def _masked_logprobs(params: Any, ids: Any, targets: Any, mask: Any, shape: Any) -> Any:
    """log P(targets | ids) with ``mask`` (0 or −inf per row) added to the logits (jitted on
    first use: importing this module compiles nothing)."""
    return _masked_logprobs_compiled()(params, ids, targets, mask, shape=shape)
