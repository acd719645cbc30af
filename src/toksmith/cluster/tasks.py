"""What a worker runs: read a task's shards and compute the partial result one process would.

A task carries tokenizer specs (built-in names or paths the worker can read), never loaded
tokenizer objects: each worker process loads a tokenizer once (the load cache) and keeps a
word-length cache per tokenizer set, as one process keeps one across languages.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toksmith.cluster.engine import current_worker, worker_name
from toksmith.cluster.shards import Shard, iter_shard_segments
from toksmith.corpus.read import Errors, ReadStats
from toksmith.errors import UserError
from toksmith.metrics.compare import WordLengthCache, measure_partial
from toksmith.metrics.count import count_partial
from toksmith.tokenizers import Tokenizer, load_tokenizer
from toksmith.tokenizers.fast import LazyEngine

SLOW_ENV = "TOKSMITH_CLUSTER_TEST_TASK_DELAY_S"
"""Test-only hook: a worker sleeps this many seconds before each task (how the tests make
tasks slow enough to kill a worker in the middle of a run). Unset in normal use."""


@dataclass(frozen=True)
class Task:
    """One unit of work: ``kind`` (``compare``, ``count`` or ``wordcount``) over ``shards``
    (in reading order) of one language."""

    kind: str
    shards: list[Shard]
    specs: tuple[str, ...] = ()
    special: str = "text"
    errors: Errors = "strict"
    engine: str = "auto"  # the client's --engine choice (auto, vendor or fast)
    language: str = "all"
    keep_blank: bool = False
    keep_segments: bool = False
    pretokenizer: dict[str, Any] = field(default_factory=dict)  # wordcount: WordcountSettings


@dataclass
class TaskResult:
    """A task's partial result and what reading its shards saw."""

    partial: Any
    non_blank: int = 0  # non-blank segments (an empty corpus is an error)
    replaced_bytes: int = 0
    replacements: int = 0
    fast_fallbacks: list[int] = field(default_factory=list)  # per tokenizer, in this task


_word_caches: dict[tuple[tuple[str, ...], str, str], WordLengthCache] = {}


def run_task(task: Task) -> TaskResult:
    """Compute ``task`` in this (worker) process."""
    fit_encoders_to_worker()
    delay_s = float(os.environ.get(SLOW_ENV, "0") or 0)
    if delay_s > 0:
        time.sleep(delay_s)
    for shard in task.shards:
        _check_readable(shard)
    stats = ReadStats()
    counter = [0]
    texts = _texts(task, stats, counter)
    tokenizers = worker_tokenizers(task.specs, task.special, task.engine)
    fallbacks_before = [t.fast_fallbacks for t in tokenizers]
    if task.kind == "compare":
        key = (task.specs, task.special, task.engine)
        cache = _word_caches.get(key)
        if cache is None:
            cache = _word_caches[key] = WordLengthCache(tokenizers)
        partial: Any = measure_partial(
            tokenizers, texts, keep_segments=task.keep_segments, word_cache=cache
        )
    elif task.kind == "count":
        partial = count_partial(tokenizers, texts)
    elif task.kind == "wordcount":
        from toksmith.cluster.wordcount import WordcountSettings, count_pre_tokens

        settings = WordcountSettings(**task.pretokenizer)
        partial = count_pre_tokens(texts, settings)
    else:
        raise ValueError(f"unknown task kind {task.kind!r}")
    fallbacks = [t.fast_fallbacks - n for t, n in zip(tokenizers, fallbacks_before, strict=True)]
    return TaskResult(partial, counter[0], stats.replaced_bytes, stats.replacements, fallbacks)


def _texts(task: Task, stats: ReadStats, non_blank: list[int]) -> Any:
    """The task's segment texts, filtered as :func:`toksmith.corpus.read.iter_segments`
    filters them; ``non_blank[0]`` counts the non-blank ones."""
    whole_files = task.kind != "compare"
    for shard in task.shards:
        for segment in iter_shard_segments(
            shard, errors=task.errors, whole_files=whole_files, stats=stats
        ):
            blank = not segment.text.strip()
            if blank and not (task.keep_blank or whole_files):
                continue
            non_blank[0] += not blank
            yield segment.text


_fitted = False


def fit_encoders_to_worker() -> None:
    """In a Dask worker process, make the encoders use as many threads as the worker has.

    Dask gives a worker ``nthreads`` cores; the encoders would otherwise each start one thread
    per core of the machine (tiktoken's and SentencePiece's pools in toksmith, the Rust rayon
    pool of HF ``tokenizers``, fastokens' own BPE threads), so N single-thread workers on N cores would run N²
    encoder threads. Set before the first tokenizer is loaded in the process (rayon reads
    ``RAYON_NUM_THREADS`` when its pool starts); a value the user exported is kept. Workers that
    are threads of the client process (an in-process cluster) are left alone.
    """
    global _fitted
    if _fitted:
        return
    _fitted = True
    import multiprocessing

    worker = current_worker()
    if worker is None:
        return
    threads = int(worker.state.nthreads)
    if multiprocessing.parent_process() is None:
        return  # not a worker process of its own
    os.environ.setdefault("RAYON_NUM_THREADS", str(threads))
    os.environ.setdefault("FASTOKENS_BPE_THREADS", str(threads))  # its own spinning pool
    from toksmith.tokenizers import sentencepiece_model, tiktoken_ranks

    # Their thread pools are made on first use from these module values.
    tiktoken_ranks._WORKERS = threads
    sentencepiece_model._WORKERS = threads


def worker_tokenizers(
    specs: tuple[str, ...], special: str, engine: str = "auto"
) -> list[Tokenizer]:
    """Load ``specs`` in this worker process and start their fast engines now, in this
    thread: a worker's task is a shard of megabytes, so the engine is always worth starting,
    and starting it in a background thread (as one process does after
    :data:`toksmith.tokenizers.fast.START_AFTER_CHARS`) would run a second busy thread in a
    worker that Dask gave one core. The client calls this on every worker before the tasks
    (so no worker pays it inside the run, and load errors come first); tasks call it again,
    which costs nothing once done."""
    fit_encoders_to_worker()
    tokenizers = load_worker_tokenizers(specs, special, engine)
    for tokenizer in tokenizers:
        lazy = tokenizer.fast_engine
        if isinstance(lazy, LazyEngine) and not lazy.started:
            lazy.start()  # a failed build leaves the vendor engine serving, as in one process
    return tokenizers


def prepare_worker(specs: tuple[str, ...], special: str, engine: str = "auto") -> None:
    """:func:`worker_tokenizers`, run on every worker by the client (returns nothing: the
    tokenizers stay in the worker)."""
    worker_tokenizers(specs, special, engine)


def load_worker_tokenizers(
    specs: tuple[str, ...], special: str, engine: str = "auto"
) -> list[Tokenizer]:
    """The tokenizers of ``specs`` in this process, or a UserError naming this worker and
    the spec it could not load."""
    tokenizers = []
    for spec in specs:
        try:
            tokenizers.append(load_tokenizer(spec, special, engine))
        except UserError as error:
            raise UserError(f"worker {worker_name()}: {error}") from None
    return tokenizers


def _check_readable(shard: Shard) -> None:
    path = Path(shard.path)
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise UserError(
            f"worker {worker_name()}: cannot read corpus file {shard.path} "
            f"({error.strerror}); every worker must see the corpus at the same path"
        ) from None


def merged_counters(first: Counter[str], later: Counter[str]) -> Counter[str]:
    """Word counts added (in place into ``first``)."""
    first.update(later)
    return first
