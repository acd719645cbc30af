"""``compare`` and ``count --file`` on a cluster, identical to one process number for number.

Each language's files are cut into shards (:mod:`toksmith.cluster.shards`), each task computes
the partial one process computes for its stretch of text (token-id counts per tokenizer, text
figures, tokens per segment where parity needs them: :class:`toksmith.metrics.compare.
ComparePartial`), and the partials are merged in shard order and finished by the same functions
one process uses (:func:`toksmith.metrics.compare.finish_compare`). Every partial is integers,
so the merged partial is exactly the single-process one and so is every derived figure.

One exception, by the nature of the baseline: the ``ws:`` whitespace tokenizer numbers words in
order of first sight, so its ids (and its ``vocab_size`` in ``tokenizers``, the words the
client process has met) are not those of one process; its rows are still identical, because
the measures that would depend on its ids are left empty for it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from toksmith.cluster.engine import (
    DEFAULT_TIMEOUT_S,
    connect,
    prepare_workers,
    run_tasks,
    worker_count,
    worker_spec,
)
from toksmith.cluster.shards import plan_shards
from toksmith.cluster.tasks import Task, TaskResult, prepare_worker, run_task
from toksmith.corpus import corpus_files
from toksmith.corpus.read import REPLACEMENT_BYTES, Errors
from toksmith.errors import UserError
from toksmith.metrics.compare import (
    ComparePartial,
    CompareResult,
    empty_partial,
    finish_compare,
    merge_partials,
    plan_languages,
)
from toksmith.metrics.count import CountPartial, CountResult, finish_count
from toksmith.progress import Progress
from toksmith.tokenizers import Tokenizer
from toksmith.tokenizers.load import expand_specs, load_tokenizers

MIN_SHARD_BYTES = 1 << 20
MAX_SHARD_BYTES = 256 << 20
TASKS_PER_WORKER = 4  # enough tasks that workers finish together; few enough to stay cheap


def shard_size(total_bytes: int, workers: int) -> int:
    """Bytes per shard: about :data:`TASKS_PER_WORKER` tasks per worker, between 1 MiB and
    256 MiB."""
    wanted = math.ceil(total_bytes / (workers * TASKS_PER_WORKER)) if total_bytes else 0
    return max(MIN_SHARD_BYTES, min(MAX_SHARD_BYTES, wanted))


def _tokenizers_and_specs(
    specs: Sequence[str], special: str
) -> tuple[list[Tokenizer], tuple[str, ...], str]:
    """The client's tokenizers, the specs workers load them by, and the engine choice in
    force (``--engine``), which the workers must use too."""
    from toksmith.tokenizers.load import _engine_choice

    names = expand_specs(list(specs) or ["all"])
    engine = _engine_choice.get()
    tokenizers = load_tokenizers(names, special=special, engine=engine)
    return tokenizers, tuple(worker_spec(n) for n in names), engine


def _check_source(source: str | Path) -> None:
    if str(source) == "-":
        raise UserError("--cluster reads files the workers can open; stdin ('-') cannot be sharded")


def compare_on_cluster(
    specs: Sequence[str],
    source: str | Path,
    *,
    cluster: str,
    special: str = "text",
    reference: str | None = None,
    errors: Errors = "strict",
    languages: Sequence[str] | None = None,
    progress: Progress | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    shard_bytes: int | None = None,
) -> CompareResult:
    """:func:`toksmith.metrics.compare_corpus` of the tokenizers ``specs`` on ``source``,
    computed by the Dask ``cluster`` (``local:N`` or ``tcp://host:port``): the same result,
    number for number (see the module docstring for the ``ws:`` baseline)."""
    _check_source(source)
    tokenizers, worker_specs, engine = _tokenizers_and_specs(specs, special)
    plan = plan_languages(
        tokenizers, source, reference=reference, errors=errors, languages=languages
    )
    if plan.parallel is not None:
        files = {language: [plan.parallel.files[language]] for language in plan.languages}
    else:
        files = {"all": corpus_files(source)}
    with connect(cluster, timeout_s) as client:
        prepare_workers(client, prepare_worker, worker_specs, special, engine)
        size = shard_bytes or shard_size(_total_bytes(files), worker_count(client))
        tasks = [
            Task(
                "compare",
                shards,
                worker_specs,
                special,
                errors,
                engine,
                language,
                keep_blank=plan.parallel is not None,
                keep_segments=plan.keep_segments,
            )
            for language, language_files in files.items()
            for shards in plan_shards(language_files, shard_bytes=size)
        ]
        partials, replaced_bytes, non_blank = _merge_compare(
            tokenizers,
            plan.keep_segments,
            tasks,
            run_tasks(client, run_task, tasks, progress=progress),
        )
    if plan.parallel is None and non_blank == 0:
        raise UserError(f"corpus {source} is empty: no non-blank text segments")
    return finish_compare(tokenizers, source, plan, partials, replaced_bytes)


def count_on_cluster(
    specs: Sequence[str],
    source: str | Path,
    *,
    cluster: str,
    special: str = "text",
    errors: Errors = "strict",
    progress: Progress | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    shard_bytes: int | None = None,
) -> CountResult:
    """:func:`toksmith.metrics.count_corpus` (what ``count --file`` counts) computed by the
    Dask ``cluster``: the same result, number for number."""
    _check_source(source)
    tokenizers, worker_specs, engine = _tokenizers_and_specs(specs, special)
    files = corpus_files(source)
    with connect(cluster, timeout_s) as client:
        prepare_workers(client, prepare_worker, worker_specs, special, engine)
        size = shard_bytes or shard_size(_total_bytes({"all": files}), worker_count(client))
        tasks = [
            Task("count", shards, worker_specs, special, errors, engine)
            for shards in plan_shards(files, shard_bytes=size, whole_files=True)
        ]
        results = _ordered(run_tasks(client, run_task, tasks, progress=progress), len(tasks))
    partial = CountPartial(0, 0, 0, [0] * len(tokenizers))
    excess = replaced_bytes = non_blank = 0
    for result in results:
        partial = partial.merged(result.partial)
        excess += _excess(result)
        replaced_bytes += result.replaced_bytes
        non_blank += result.non_blank
        _add_fallbacks(tokenizers, result)
    if non_blank == 0:
        raise UserError(f"corpus {source} is empty: no non-blank text segments")
    return finish_count(tokenizers, source, partial, excess, replaced_bytes)


def _merge_compare(
    tokenizers: Sequence[Tokenizer],
    keep_segments: bool,
    tasks: Sequence[Task],
    results: Iterable[tuple[int, TaskResult]],
) -> tuple[dict[str, tuple[ComparePartial, int]], int, int]:
    """Merge compare results as they arrive: sums in any order (they commute), tokens per
    segment put back in shard order at the end. Returns each language's partial with its
    replacement excess, the replaced bytes and the non-blank segments."""
    partials: dict[str, tuple[ComparePartial, int]] = {}
    segments: dict[int, list[list[np.ndarray] | None]] = {}
    replaced_bytes = non_blank = 0
    for index, result in results:
        partial: ComparePartial = result.partial
        segments[index] = [t.segment_tokens for t in partial.tokenizers]
        for tokenizer_partial in partial.tokenizers:
            tokenizer_partial.segment_tokens = None
        language = tasks[index].language
        previous, excess = partials.get(language, (empty_partial(tokenizers), 0))
        partials[language] = (merge_partials(previous, partial), excess + _excess(result))
        replaced_bytes += result.replaced_bytes
        non_blank += result.non_blank
        _add_fallbacks(tokenizers, result)
    if keep_segments:
        for language, (partial, _) in partials.items():
            for column, tokenizer_partial in enumerate(partial.tokenizers):
                tokenizer_partial.segment_tokens = [
                    part
                    for index in sorted(segments)
                    if tasks[index].language == language
                    for part in segments[index][column] or []
                ]
    return partials, replaced_bytes, non_blank


def _add_fallbacks(tokenizers: Sequence[Tokenizer], result: TaskResult) -> None:
    """Count the workers' fast-engine fallbacks on the client's tokenizers, where the notes
    of :func:`toksmith.metrics.compare.finish_compare` read them, as in one process."""
    for tokenizer, fallbacks in zip(tokenizers, result.fast_fallbacks, strict=False):
        tokenizer.fast_fallbacks += fallbacks


def _excess(result: TaskResult) -> int:
    """What replacing invalid bytes added to the text's UTF-8 size (see
    :attr:`toksmith.corpus.read.ReadStats.replacement_excess_bytes`)."""
    return REPLACEMENT_BYTES * result.replacements - result.replaced_bytes


def _total_bytes(files: dict[str, list[Path]]) -> int:
    return sum(path.stat().st_size for paths in files.values() for path in paths)


def _ordered(results: Any, count: int) -> list[Any]:
    """The ``(index, result)`` pairs of :func:`run_tasks` as a list in task order."""
    ordered: list[Any] = [None] * count
    for index, result in results:
        ordered[index] = result
    return ordered


__all__ = ["compare_on_cluster", "count_on_cluster", "shard_size"]
