"""Corpus-scale runs on a Dask cluster: ``compare``, ``count --file`` and ``wordcount``.

The result of a cluster run is identical to the single-process result, number for number: the
corpus is cut into shards where one process would cut it (:mod:`toksmith.cluster.shards`),
every task computes the integer partials one process computes (:mod:`toksmith.cluster.tasks`),
and they are merged and finished by the same functions (:mod:`toksmith.cluster.jobs`).
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use, so the CLI's ``--cluster`` option costs no start-up time.
_EXPORTS = {
    "DEFAULT_TIMEOUT_S": "toksmith.cluster.engine",
    "add_cluster_option": "toksmith.cluster.engine",
    "connect": "toksmith.cluster.engine",
    "parse_cluster": "toksmith.cluster.engine",
    "compare_on_cluster": "toksmith.cluster.jobs",
    "count_on_cluster": "toksmith.cluster.jobs",
    "WordCounts": "toksmith.cluster.wordcount",
    "WordcountSettings": "toksmith.cluster.wordcount",
    "read_word_counts": "toksmith.cluster.wordcount",
    "word_counts": "toksmith.cluster.wordcount",
    "write_word_counts": "toksmith.cluster.wordcount",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'toksmith.cluster' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "DEFAULT_TIMEOUT_S",
    "WordCounts",
    "WordcountSettings",
    "add_cluster_option",
    "compare_on_cluster",
    "connect",
    "count_on_cluster",
    "parse_cluster",
    "read_word_counts",
    "word_counts",
    "write_word_counts",
]
