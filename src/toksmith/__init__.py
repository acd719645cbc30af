"""toksmith: count, compare, train, audit, adapt and bridge the tokenizers of language models.

The names a Python user needs are here, imported on first use (``import toksmith`` does no work):

    import toksmith
    tokenizer = toksmith.load_tokenizer("o200k_base")
    result = toksmith.compare_corpus([tokenizer], "corpus/", reference="eng")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Tokenizer": "toksmith.tokenizers",
    "load_tokenizer": "toksmith.tokenizers",
    "load_tokenizers": "toksmith.tokenizers",
    "builtin_names": "toksmith.tokenizers",
    "compare_corpus": "toksmith.metrics",
    "compare_wordfreq": "toksmith.metrics",
    "count_text": "toksmith.metrics",
    "count_texts": "toksmith.metrics",
    "CompareResult": "toksmith.metrics",
    "iter_texts": "toksmith.corpus",
    "UserError": "toksmith.errors",
    "to_json": "toksmith.report.output",
}

if TYPE_CHECKING:
    from toksmith.corpus import iter_texts
    from toksmith.errors import UserError
    from toksmith.metrics import (
        CompareResult,
        compare_corpus,
        compare_wordfreq,
        count_text,
        count_texts,
    )
    from toksmith.report.output import to_json
    from toksmith.tokenizers import Tokenizer, builtin_names, load_tokenizer, load_tokenizers


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'toksmith' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "CompareResult",
    "Tokenizer",
    "UserError",
    "__version__",
    "builtin_names",
    "compare_corpus",
    "compare_wordfreq",
    "count_text",
    "count_texts",
    "iter_texts",
    "load_tokenizer",
    "load_tokenizers",
    "to_json",
]
