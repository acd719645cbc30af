"""Tokenizer adapters: one interface over HF, tiktoken, SentencePiece and Tekken files."""

from toksmith.tokenizers.base import Pipeline, Tokenizer
from toksmith.tokenizers.load import expand_specs, load_path, load_tokenizer
from toksmith.tokenizers.registry import BUILTINS, BuiltinTokenizer, builtin_names

__all__ = [
    "BUILTINS",
    "BuiltinTokenizer",
    "Pipeline",
    "Tokenizer",
    "builtin_names",
    "expand_specs",
    "load_path",
    "load_tokenizer",
]
