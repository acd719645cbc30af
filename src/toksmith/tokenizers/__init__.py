"""Tokenizer adapters: one interface over HF, tiktoken, SentencePiece and Tekken files.

The names below are imported on first use, so ``toksmith list`` (which reads only the registry's
static index) does not import numpy, regex or any backend library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> module that defines it
_EXPORTS = {
    "BUILTINS": "toksmith.tokenizers.registry",
    "BuiltinTokenizer": "toksmith.tokenizers.registry",
    "builtin_names": "toksmith.tokenizers.registry",
    "SPECIAL_POLICIES": "toksmith.tokenizers.base",
    "Pipeline": "toksmith.tokenizers.base",
    "Tokenizer": "toksmith.tokenizers.base",
    "backend_errors": "toksmith.tokenizers.failures",
    "is_backend_panic": "toksmith.tokenizers.failures",
    "engine_choice": "toksmith.tokenizers.load",
    "expand_specs": "toksmith.tokenizers.load",
    "load_path": "toksmith.tokenizers.load",
    "load_tokenizer": "toksmith.tokenizers.load",
    "load_tokenizers": "toksmith.tokenizers.load",
    "unique_names": "toksmith.tokenizers.load",
    "validate_pattern": "toksmith.tokenizers.validate",
}

__all__ = [
    "BUILTINS",
    "SPECIAL_POLICIES",
    "BuiltinTokenizer",
    "Pipeline",
    "Tokenizer",
    "backend_errors",
    "builtin_names",
    "engine_choice",
    "expand_specs",
    "is_backend_panic",
    "load_path",
    "load_tokenizer",
    "load_tokenizers",
    "unique_names",
    "validate_pattern",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'toksmith.tokenizers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:
    from toksmith.tokenizers.base import SPECIAL_POLICIES, Pipeline, Tokenizer
    from toksmith.tokenizers.failures import backend_errors, is_backend_panic
    from toksmith.tokenizers.load import (
        engine_choice,
        expand_specs,
        load_path,
        load_tokenizer,
        load_tokenizers,
        unique_names,
    )
    from toksmith.tokenizers.registry import BUILTINS, BuiltinTokenizer, builtin_names
    from toksmith.tokenizers.validate import validate_pattern
