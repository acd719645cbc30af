"""toksmith: count, compare, train, audit, adapt and bridge the tokenizers of language models."""

__version__ = "0.1.0"
