"""Intrinsic measures of tokenizers: counts, fertility, compression, parity, utilization."""

from toksmith.metrics.compare import (
    CompareResult,
    MetricRow,
    TokenizerInfo,
    compare_corpus,
    measure_texts,
)
from toksmith.metrics.count import CountRow, count_text, count_texts
from toksmith.metrics.wordfreq_default import compare_wordfreq, wordfreq_languages

__all__ = [
    "CompareResult",
    "CountRow",
    "MetricRow",
    "TokenizerInfo",
    "compare_corpus",
    "compare_wordfreq",
    "count_text",
    "count_texts",
    "measure_texts",
    "wordfreq_languages",
]
