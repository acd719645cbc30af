"""Parity on parallel text: per-segment premiums and a bootstrap interval of the corpus premium.

The tokenization premium of a language is how many times more tokens a tokenizer spends on a
text than on its translation in the reference language (Petrov et al., "Language Model
Tokenizers Introduce Unfairness Between Languages", 2023). ``premium`` itself is the ratio of
corpus totals, as the paper computes it on FLORES-200. Two further views say how much that one
number can be trusted:

- the distribution of the per-segment premiums (``tokens_i / reference_tokens_i`` for each
  aligned segment ``i``): its median and quartiles show whether a few long segments or the
  whole corpus drive the total;
- a 95% percentile-bootstrap confidence interval of the corpus premium: the segments are drawn
  with replacement (as many as there are), the corpus premium is recomputed on each of
  :data:`RESAMPLES` such corpora, and the 2.5th and 97.5th percentiles of those premiums are
  the interval. It answers "would a different sample of sentences of the same kind give the
  same premium?", so a difference between two tokenizers whose intervals overlap widely is not
  established by this corpus.

Every tokenizer and language is resampled with the *same* draws (a paired bootstrap: a draw
is a set of segments, i.e. of contents), from a fixed seed, so results are reproducible and
intervals of different tokenizers are comparable. The resampling is one matrix product: the
draws are a (resamples × segments) matrix of how often each segment was drawn, times the
(segments × rows) matrix of token counts, in float32, computed in blocks that bound memory
(about 16 MiB of draws and 16 MiB of counts at a time).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from toksmith.metrics import formulas

if TYPE_CHECKING:
    from toksmith.metrics.compare import MetricRow

RESAMPLES = 1000
SEED = 2023  # fixed: the same corpus always gives the same interval
CONFIDENCE = 0.95
MAX_DRAW_CELLS = 1 << 22  # draws × segments (and segments × columns) held at once: 16 MiB


def segment_premiums(tokens: np.ndarray, reference_tokens: np.ndarray) -> np.ndarray:
    """Per-segment premiums ``tokens_i / reference_tokens_i`` of aligned segments.

    Segments where either side has no tokens (a blank line that holds a place, a missing
    translation) have no premium and are left out."""
    defined = (tokens > 0) & (reference_tokens > 0)
    return tokens[defined].astype(np.float64) / reference_tokens[defined]


def premium_quartiles(
    tokens: np.ndarray, reference_tokens: np.ndarray
) -> tuple[float | None, float | None, float | None]:
    """First quartile, median and third quartile of the per-segment premiums (linear
    interpolation between order statistics, numpy's default); None when no segment has one."""
    premiums = segment_premiums(tokens, reference_tokens)
    if not len(premiums):
        return None, None, None
    q1, median, q3 = np.percentile(premiums, [25.0, 50.0, 75.0])
    return float(q1), float(median), float(q3)


def bootstrap_draws(
    n_segments: int, resamples: int = RESAMPLES, seed: int = SEED
) -> Iterator[np.ndarray]:
    """The bootstrap draws in chunks: (k × n_segments) float32 arrays of how often each segment
    is drawn in each resampled corpus (each row sums to ``n_segments``); ``resamples`` rows in
    all, the same for the same arguments."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(resamples, MAX_DRAW_CELLS // max(n_segments, 1)))
    uniform = np.full(n_segments, 1.0 / n_segments)
    done = 0
    while done < resamples:
        size = min(chunk, resamples - done)
        yield rng.multinomial(n_segments, uniform, size=size).astype(np.float32)
        done += size


def bootstrap_premium_intervals(
    tokens: np.ndarray | Sequence[np.ndarray],
    reference_columns: np.ndarray,
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile-bootstrap interval of the corpus premium of every column of ``tokens``.

    ``tokens`` is (segments × rows), or the list of its columns: the tokens of each aligned
    segment for each tokenizer × language; ``reference_columns[r]`` is the column of row
    ``r``'s reference language (same tokenizer). Returns the lower and upper ends, one per row
    (NaN where the reference has no tokens). Columns are turned into floats a block at a time,
    so memory stays bounded on long corpora with many rows."""
    columns = list(tokens.T) if isinstance(tokens, np.ndarray) else list(tokens)
    n_segments = len(columns[0])
    block = max(1, MAX_DRAW_CELLS // max(n_segments, 1))  # columns per block
    # The token total of each resampled corpus. float32 matrix products are several times
    # faster than float64 ones; they are exact while totals stay below 2**24 tokens, and
    # beyond that off by under 1e-7 relatively, far inside any interval.
    sums = np.empty((resamples, len(columns)), dtype=np.float32)
    first = 0
    for draws in bootstrap_draws(n_segments, resamples, seed):
        for start in range(0, len(columns), block):
            counts = np.stack(columns[start : start + block], axis=1).astype(np.float32)
            sums[first : first + len(draws), start : start + counts.shape[1]] = draws @ counts
        first += len(draws)
    with np.errstate(divide="ignore", invalid="ignore"):
        premiums = sums.astype(np.float64) / sums[:, reference_columns]
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(premiums, [tail, 100.0 - tail], axis=0)
    return low, high


def add_parity(
    rows: Sequence[MetricRow],
    segment_tokens: Sequence[np.ndarray],
    reference: str,
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> None:
    """Fill the premium fields of ``rows`` (in place) relative to the ``reference`` language.

    ``segment_tokens[i]`` holds the tokens per aligned segment behind ``rows[i]``. The rows of
    each language come in the same tokenizer order, and the k-th row of a language is compared
    with the k-th row of the reference. ``premium`` is the ratio of totals; ``premium_q1``,
    ``premium_median``, ``premium_q3`` summarise the per-segment premiums; ``premium_ci_low``
    and ``premium_ci_high`` are the bootstrap interval. The reference itself has premium 1 and
    an interval of zero width.
    """
    by_language: dict[str, list[int]] = {}
    for position, row in enumerate(rows):
        by_language.setdefault(row.language, []).append(position)
    reference_rows = by_language.get(reference, [])
    partner: dict[int, int] = {}
    for positions in by_language.values():
        partner.update(zip(positions, reference_rows, strict=False))
    for position, other in partner.items():
        rows[position].premium = formulas.premium(rows[position].tokens, rows[other].tokens)
    if not reference_rows or len(segment_tokens) != len(rows):
        return
    n_segments = len(segment_tokens[reference_rows[0]])
    # Alignment was checked when the corpus was opened; a row that still differs in length
    # (or whose reference does) keeps None rather than pairing wrong segments.
    aligned = [
        p
        for p in partner
        if len(segment_tokens[p]) == n_segments == len(segment_tokens[partner[p]])
    ]
    if n_segments == 0 or not aligned:
        return
    for position in aligned:
        row = rows[position]
        row.premium_q1, row.premium_median, row.premium_q3 = premium_quartiles(
            segment_tokens[position], segment_tokens[partner[position]]
        )
    column_of = {position: column for column, position in enumerate(aligned)}
    reference_columns = np.array([column_of[partner[p]] for p in aligned])
    low, high = bootstrap_premium_intervals(
        [segment_tokens[p] for p in aligned], reference_columns, resamples=resamples, seed=seed
    )
    for position in aligned:
        column = column_of[position]
        rows[position].premium_ci_low = _finite_or_none(low[column])
        rows[position].premium_ci_high = _finite_or_none(high[column])


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
