"""Pre-tokenization for training: regex presets, number modes, and the HF pipeline stages.

Every trained tokenizer splits text in the same HF stages: an optional number splitter, one
regex ``Split``, then ``ByteLevel`` (bytes shown as printable stand-in characters). The regexes
run in HF ``tokenizers`` (Oniguruma) both while training and while encoding, so what a trainer
counted is exactly what the exported ``tokenizer.json`` will see.
"""

from __future__ import annotations

from tokenizers import Regex, pre_tokenizers

from toksmith.errors import UserError
from toksmith.tokenizers.hf_json import byte_level_stage, split_stage

# GPT-2 (Radford et al. 2019), as in openai/tiktoken's r50k_base.
GPT2 = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
# GPT-4 cl100k_base; Llama 3 ships the same pattern.
CL100K = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"""
    r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
# Code: a newline takes the indentation after it; identifiers keep their underscores.
CODE = (
    r"""\r?\n[ \t]*|[ \t]+(?=\r?\n)|(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\s\p{L}\p{N}_]?[\p{L}_]"""
    r"""[\p{L}\p{N}_]*|\p{N}{1,3}| ?[^\s\p{L}\p{N}_]+|\s+(?!\S)|\s+"""
)
# Characters: every letter, digit and mark on its own; for character-level vocabularies.
CHAR = r"""\s+(?!\S)|\s+|."""

PATTERNS: dict[str, str] = {
    "gpt2": GPT2,
    "gpt4": CL100K,
    "cl100k": CL100K,
    "llama3": CL100K,
    "code": CODE,
    "char": CHAR,
}

# How digits are grouped before the main regex runs ("Tokenization counts: the impact of
# tokenization on arithmetic in frontier LLMs", Singh & Strouse, 2024).
NUMBER_MODES: dict[str, str] = {
    "digits": r"\p{N}",
    "l2r3": r"\p{N}{1,3}",
    "r2l3": r"\p{N}{1,3}(?=(?:\p{N}{3})*(?!\p{N}))",
}

# Superword chunks (SuperBPE stage 2): words joined by single spaces or tabs form one chunk, so
# merges may bridge whitespace; punctuation, symbols, digits and newlines still split. As in
# cl100k, a word may carry one leading space or punctuation character (" the", ".append").
_WORD = r"""['’]?[\p{L}\p{M}]+(?:['’][\p{L}\p{M}]+)*"""
SUPERWORD = (
    rf"""[^\r\n\p{{L}}\p{{M}}\p{{N}}]?{_WORD}(?:[^\S\r\n]{_WORD})*|\p{{N}}+"""
    r"""| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)


def resolve_pattern(pattern: str) -> str:
    """The regex for a preset name (gpt2, gpt4, cl100k, llama3, code, char) or a custom regex.

    A custom regex is compiled in HF ``tokenizers`` (Oniguruma) and tried on adversarial text
    (:func:`toksmith.tokenizers.validate_pattern`), so a pattern that does not compile or that
    backtracks catastrophically is a UserError before any training starts.
    """
    if pattern in PATTERNS:
        return PATTERNS[pattern]
    from toksmith.tokenizers import validate_pattern

    validate_pattern(
        pattern,
        f"pre-tokenization pattern (neither a preset of {', '.join(PATTERNS)} nor a valid regex)",
    )
    return pattern


def number_regex(mode: str | None) -> str | None:
    """The digit-grouping regex of a number mode (``None`` leaves digits to the main regex)."""
    if mode is None:
        return None
    if mode not in NUMBER_MODES:
        raise UserError(f"number mode {mode!r} unknown; expected one of {', '.join(NUMBER_MODES)}")
    return NUMBER_MODES[mode]


def pre_tokenizer_config(pattern: str, numbers: str | None, *, byte_level: bool = True) -> dict:
    """The ``pre_tokenizer`` entry of a tokenizer.json: [number split], regex split, ByteLevel."""
    stages: list[dict] = []
    digits = number_regex(numbers)
    if digits is not None:
        stages.append(split_stage(digits))
    stages.append(split_stage(pattern))
    if byte_level:
        stages.append(byte_level_stage())
    return {"type": "Sequence", "pretokenizers": stages}


def build_pre_tokenizer(pattern: str, numbers: str | None, *, byte_level: bool = True):  # noqa: ANN201
    """The HF pre-tokenizer object for :func:`pre_tokenizer_config`."""
    stages: list[pre_tokenizers.PreTokenizer] = []
    digits = number_regex(numbers)
    if digits is not None:
        stages.append(pre_tokenizers.Split(Regex(digits), behavior="isolated"))
    stages.append(pre_tokenizers.Split(Regex(pattern), behavior="isolated"))
    if byte_level:
        stages.append(pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False))
    return pre_tokenizers.Sequence(stages)
