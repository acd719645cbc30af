"""Corpus-scale runs on a Dask cluster: ``compare``, ``count --file`` and ``wordcount``.

The result of a cluster run is identical to the single-process result, number for number: the
corpus is cut into shards where one process would cut it (:mod:`toksmith.cluster.shards`),
every task computes the integer partials one process computes (:mod:`toksmith.cluster.tasks`),
and they are merged and finished by the same functions (:mod:`toksmith.cluster.jobs`).
"""

from toksmith.cluster.engine import DEFAULT_TIMEOUT_S, add_cluster_option, connect, parse_cluster
from toksmith.cluster.jobs import compare_on_cluster, count_on_cluster
from toksmith.cluster.wordcount import (
    WordCounts,
    WordcountSettings,
    read_word_counts,
    word_counts,
    write_word_counts,
)

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
