"""Reading text: files, folders, globs, stdin, JSONL/TSV/plain, gzip, parallel corpora."""

from toksmith.corpus.parallel import (
    LanguageInfo,
    ParallelCorpus,
    is_parallel_folder,
    open_parallel,
)
from toksmith.corpus.read import (
    ReadStats,
    Segment,
    corpus_files,
    iter_segments,
    iter_texts,
)

__all__ = [
    "LanguageInfo",
    "ParallelCorpus",
    "ReadStats",
    "Segment",
    "corpus_files",
    "is_parallel_folder",
    "iter_segments",
    "iter_texts",
    "open_parallel",
]
