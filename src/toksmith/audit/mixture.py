"""Data mixture inference: what share of each category of text a BPE tokenizer was trained on.

Hayase, Liu, Choi, Oh and Smith (2024), "Data Mixture Inference: What do BPE Tokenizers Reveal
about their Training Data?". The ordered merge list of a byte-level BPE tokenizer is replayed on
a sample of each candidate category (a language, a programming language, a domain); at every
step the merged pair must have been the most frequent pair of the training mixture, which gives
linear constraints on the category shares; a linear program with slack finds the shares that
violate them least. The replay is in :mod:`toksmith.audit.mixture_replay`, the LP and its lazy
constraint generation in :mod:`toksmith.audit.mixture_lp`.

Deviations from the paper, stated here once:

- Counts are normalised per MB of each category's sample (bytes of UTF-8 text), so the
  estimated shares are shares of training *bytes*; the paper normalises the same way in spirit
  (counts divided by the sample size) but by number of pairs.
- The lazy scheme (a pool of each category's top pairs per step, with a bound that certifies
  the steps no pair outside the pool can violate, and weighted replays for the rest) is ours;
  the paper adds violated constraints found by re-scanning pair counts.
- Tokens of a tiktoken rank table that two lower-ranked tokens cannot make (added by hand) are
  left out of the merge list and counted in ``merges_skipped``.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toksmith.audit.mixture_lp import collect_pool, solve_lazily
from toksmith.audit.mixture_merges import count_pretokens, merge_list
from toksmith.audit.mixture_replay import merge_symbols
from toksmith.corpus import corpus_files, iter_segments
from toksmith.corpus.read import Errors
from toksmith.errors import UserError
from toksmith.progress import Progress
from toksmith.results import Result
from toksmith.tokenizers.base import Tokenizer

DEFAULT_MERGES = 30_000
DEFAULT_SAMPLE_MB = 1.0
# Checking replays tighten the relaxation but each re-runs BPE over every sample: on the
# 10 × 1 MB, 30,000-merge benchmark two of them more than double the time for the same error.
DEFAULT_REPLAYS = 0
# Below 20 kB a category holds a few thousand words: the counts of all but the first few
# hundred merges are then mostly zero, and its share is not identifiable.
MIN_CATEGORY_BYTES = 20_000
BYTES_PER_MB = 1_000_000


@dataclass
class CategorySample(Result):
    """The sample text of one category."""

    name: str
    texts: list[str]
    bytes: int
    source: str = ""


@dataclass
class CategoryShare(Result):
    name: str
    share: float  # estimated share of the training bytes, 0..1
    sample_bytes: int
    distinct_pretokens: int


@dataclass
class MixtureEstimate(Result):
    """Estimated training mixture of one tokenizer, and how the LP got there."""

    tokenizer: str
    backend: str
    categories: list[CategoryShare]
    solver_status: str
    verified: bool  # no merge-step constraint of any pair is violated at the solution
    merges_used: int
    merges_available: int
    merges_skipped: int
    constraints_used: int
    candidate_constraints: int
    lp_rounds: int
    verification_replays: int
    violations_last_replay: int | None  # violated constraints the last check found (None: none ran)
    total_slack_per_mb: float
    elapsed_s: float
    notes: list[str] = field(default_factory=list)

    @property
    def shares(self) -> dict[str, float]:
        return {category.name: category.share for category in self.categories}


def category_sample(name: str, texts: str | Iterable[str], source: str = "") -> CategorySample:
    """A category from text in memory (one string or several)."""
    texts = [texts] if isinstance(texts, str) else list(texts)
    size = sum(len(text.encode("utf-8")) for text in texts)
    return CategorySample(name=name, texts=texts, bytes=size, source=source or name)


def read_categories(
    folder: str | Path,
    *,
    sample_mb: float = DEFAULT_SAMPLE_MB,
    min_bytes: int = MIN_CATEGORY_BYTES,
    errors: Errors = "strict",
) -> list[CategorySample]:
    """One category per file or sub-folder of ``folder`` (named after its stem), each read up
    to ``sample_mb`` MB; the files of a sub-folder are read in a fixed shuffled order so the
    sample spreads over them. Raises UserError for a missing folder, fewer than two
    categories, or a category with less than ``min_bytes`` of text. ``errors`` is the reader's
    rule for invalid UTF-8 (strict or replace)."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise UserError(f"--categories {folder}: expected a folder with one file or folder "
                        "per category")  # fmt: skip
    if not sample_mb > 0 or sample_mb == float("inf"):  # also refuses NaN
        raise UserError(f"--sample-mb {sample_mb}: expected a positive size in MB")
    entries = sorted(p for p in root.iterdir() if not p.name.startswith((".", "_")))
    if len(entries) < 2:
        raise UserError(f"--categories {folder}: found {len(entries)} categories, expected at "
                        "least two (one file or folder each)")  # fmt: skip
    budget = int(sample_mb * BYTES_PER_MB)
    samples = []
    for entry in entries:
        name = entry.name if entry.is_dir() else entry.name.split(".")[0]
        sample = _read_category(name, entry, budget, errors)
        if sample.bytes < min_bytes:
            raise UserError(
                f"category {name!r} ({entry}) has {sample.bytes:,} bytes of text; at least "
                f"{min_bytes:,} are needed to estimate its share"
            )
        samples.append(sample)
    return samples


def _read_category(name: str, entry: Path, budget: int, errors: Errors) -> CategorySample:
    if entry.is_dir() and not any(p.is_file() for p in entry.rglob("*")):
        raise UserError(f"category {name!r}: folder {entry} is empty")
    files = corpus_files(entry)
    random.Random(0).shuffle(files)
    texts: list[str] = []
    size = 0
    for path in files:
        for segment in iter_segments(path, whole_files=True, allow_empty=True, errors=errors):
            data = segment.text.encode("utf-8")
            if size + len(data) > budget:
                data = data[: budget - size]
                texts.append(data.decode("utf-8", errors="ignore"))
                size += len(data)
                return CategorySample(name, texts, size, str(entry))
            texts.append(segment.text)
            size += len(data)
    return CategorySample(name, texts, size, str(entry))


def infer_mixture(
    tokenizer: Tokenizer,
    categories: Sequence[CategorySample],
    *,
    max_merges: int = DEFAULT_MERGES,
    top_k: int | None = None,
    replays: int = DEFAULT_REPLAYS,
    min_bytes: int = MIN_CATEGORY_BYTES,
    progress: Progress | None = None,
) -> MixtureEstimate:
    """Estimate the share of each category in the training data of ``tokenizer``.

    Implements Hayase et al. (2024), "Data Mixture Inference: What do BPE Tokenizers Reveal
    about their Training Data?" (see the module docstring for the deviations). The first
    ``max_merges`` merges are replayed on every category's sample; ``top_k`` pairs per category
    and step (default: from 8 for a few categories down to 2 for dozens) seed the constraint
    pool; at most ``replays`` replays weighted by the current estimate look for the violated
    constraints the pool missed. Returns the shares (summing to 1) with the solver's status and
    effort.
    """
    start = time.perf_counter()
    _check_categories(categories, min_bytes)
    merges = merge_list(tokenizer, max_merges)
    triples = merge_symbols(merges.merges)
    if progress:
        progress("counting pre-tokens", -1)
    pretokens = [count_pretokens(tokenizer, sample.texts) for sample in categories]
    per_mb = np.array([BYTES_PER_MB / sample.bytes for sample in categories])
    k = top_k or max(2, min(8, 64 // len(categories)))
    pool = collect_pool(pretokens, triples, per_mb, k, progress)
    lazy = solve_lazily(
        pretokens, triples, per_mb, pool=pool, max_verification_replays=replays,
        progress=progress,
    )  # fmt: skip
    notes = []
    if not lazy.verified:
        notes.append(unverified_note(lazy.verification_replays, lazy.constraints_used,
                                     lazy.violations_last_replay))  # fmt: skip
    if merges.skipped:
        notes.append(f"{merges.skipped} rank-table tokens are no merge of two lower ranks")
    shares = [
        CategoryShare(sample.name, float(share), sample.bytes, len(counts))
        for sample, share, counts in zip(categories, lazy.solution.alpha, pretokens, strict=True)
    ]
    return MixtureEstimate(
        tokenizer=tokenizer.name,
        backend=tokenizer.backend,
        categories=shares,
        solver_status=lazy.solution.status,
        verified=lazy.verified,
        merges_used=len(merges.merges),
        merges_available=merges.available,
        merges_skipped=merges.skipped,
        constraints_used=lazy.constraints_used,
        candidate_constraints=lazy.pool_rows,
        lp_rounds=lazy.rounds,
        verification_replays=lazy.verification_replays,
        violations_last_replay=lazy.violations_last_replay,
        total_slack_per_mb=lazy.solution.objective,
        elapsed_s=time.perf_counter() - start,
        notes=notes,
    )


def unverified_note(replays: int, constraints: int, violations_last_replay: int | None) -> str:
    """Why an estimate is not verified: what the checking replays found, or that none ran."""
    relaxation = "so the shares are the optimum of a relaxation of the paper's LP"
    if replays == 0 or violations_last_replay is None:
        return (
            f"not verified: no checking replay ran; the LP holds {constraints:,} of the merge "
            "constraints, and the candidate pool's bound could not rule out violated ones "
            f"outside it, {relaxation} (--replays N runs checking replays that look for them)"
        )
    return (
        f"not verified: after {replays} checking replay(s) the LP holds {constraints:,} of the "
        f"merge constraints; the last replay found {violations_last_replay:,} more violated "
        f"ones (added, then solved again), {relaxation}"
    )


def _check_categories(categories: Sequence[CategorySample], min_bytes: int) -> None:
    if len(categories) < 2:
        raise UserError(f"got {len(categories)} categories, expected at least two")
    names = Counter(sample.name for sample in categories)
    repeated = [name for name, count in names.items() if count > 1]
    if repeated:
        raise UserError(f"category name {repeated[0]!r} is used twice")
    for sample in categories:
        if sample.bytes == 0:
            raise UserError(f"category {sample.name!r} is empty")
        if sample.bytes < min_bytes:
            raise UserError(
                f"category {sample.name!r} has {sample.bytes:,} bytes of text; at least "
                f"{min_bytes:,} are needed to estimate its share"
            )


def vocabulary_share_baseline(
    tokenizer: Tokenizer,
    categories: Sequence[CategorySample],
    *,
    max_merges: int = DEFAULT_MERGES,
) -> dict[str, float]:
    """A naive estimate to compare with: each of the first ``max_merges`` merged tokens is given
    to the category that uses it most often (per MB of sample); a category's share is its
    share of the tokens given out. Tokens no sample uses are left out."""
    merges = merge_list(tokenizer, max_merges)
    wanted = {left + right for left, right in merges.merges}
    byte_to_id = {tokenizer.token_bytes(i): i for i in range(tokenizer.vocab_size)}
    ids = [byte_to_id[token] for token in wanted if token in byte_to_id]
    usage = np.zeros((len(categories), tokenizer.vocab_size))
    for row, sample in enumerate(categories):
        flat, _ = tokenizer.encode_batch_numpy(sample.texts)
        usage[row] = np.bincount(flat, minlength=tokenizer.vocab_size)[: tokenizer.vocab_size]
        usage[row] *= BYTES_PER_MB / sample.bytes
    used = usage[:, ids]
    owners = used.argmax(axis=0)[used.max(axis=0) > 0]
    counts = np.bincount(owners, minlength=len(categories)).astype(float)
    total = counts.sum() or 1.0
    return {sample.name: float(c / total) for sample, c in zip(categories, counts, strict=True)}
