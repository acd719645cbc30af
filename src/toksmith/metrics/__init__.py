"""Intrinsic measures of tokenizers: counts, fertility, compression, parity, utilization."""

from toksmith.metrics.compare import (
    UNKNOWN_WARN_SHARE,
    CompareResult,
    MetricRow,
    TokenizerInfo,
    compare_corpus,
    is_baseline,
    measure_texts,
)
from toksmith.metrics.count import CountResult, CountRow, count_corpus, count_text, count_texts
from toksmith.metrics.wordfreq_default import compare_wordfreq, wordfreq_languages

__all__ = [
    "UNKNOWN_WARN_SHARE",
    "CompareResult",
    "CountResult",
    "CountRow",
    "MetricRow",
    "TokenizerInfo",
    "compare_corpus",
    "compare_wordfreq",
    "count_corpus",
    "count_text",
    "count_texts",
    "is_baseline",
    "measure_texts",
    "wordfreq_languages",
]
