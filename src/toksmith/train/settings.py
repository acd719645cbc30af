"""What to train: one settings object shared by every trainer, and the domain presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from toksmith.errors import UserError
from toksmith.text import clean_text
from toksmith.train.pretokenize import number_regex, resolve_pattern

ALGORITHMS = ("bpe", "unigram", "wordpiece", "superbpe", "lib")
NORMALIZERS = ("none", "nfc", "nfkc")
BYTE_ALPHABET = 256
DEFAULT_SPECIALS = ("<|endoftext|>",)


@dataclass(frozen=True)
class TrainSettings:
    """Settings of one training run; every field is recorded in ``toksmith.json``.

    ``vocab_size`` counts every id, special tokens included. For LiB it is an upper bound
    (``None``: the vocabulary size the learner settles on). ``transition`` is SuperBPE's
    vocabulary size at which stage 2 (superwords) starts; ``None`` means 90% of
    ``vocab_size``, the setting the SuperBPE paper found best (t = 180k of 200k).
    """

    algorithm: str = "bpe"
    vocab_size: int | None = 32000
    pattern: str = "gpt4"
    numbers: str | None = None
    normalizer: str = "none"
    special_tokens: tuple[str, ...] = DEFAULT_SPECIALS
    added_tokens: tuple[str, ...] = ()
    max_token_length: int | None = None
    min_frequency: int = 0
    transition: int | None = None
    superword_max_subwords: int = 4
    preset: str | None = None
    lib_epochs: int = 200
    lib_batch_chunks: int = 200
    seed: int = 0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["special_tokens"] = list(self.special_tokens)
        data["added_tokens"] = list(self.added_tokens)
        return data

    @property
    def regex(self) -> str:
        return resolve_pattern(self.pattern)

    @property
    def stage2_transition(self) -> int:
        """SuperBPE's transition vocabulary size (explicit or 90% of ``vocab_size``)."""
        assert self.vocab_size is not None
        return self.transition if self.transition is not None else int(self.vocab_size * 0.9)


# Domain presets after "KL3M Tokenizers" (Bommarito et al., 2025): each changes
# pre-tokenization and adds special tokens, plus a few deterministic "whole" tokens (KL3M
# inserts HTML tags, Markdown marks and legal enumerations). Whole tokens are kept ASCII without
# spaces, so their byte-level form is the text itself.
_LEGAL_ENUMS = tuple(f"({c})" for c in "abcdefghijklmnopqrstuvwxyz") + tuple(
    f"({r})" for r in ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")
)
PRESETS: dict[str, dict] = {
    "code": {
        "pattern": "code",
        "numbers": "digits",
        "special_tokens": (
            "<|endoftext|>",
            "<|fim_prefix|>",
            "<|fim_middle|>",
            "<|fim_suffix|>",
            "<|file_separator|>",
            "<|pad|>",
        ),
    },
    "legal": {
        "pattern": "gpt4",
        "numbers": "r2l3",
        "special_tokens": ("<|endoftext|>", "<|pad|>", "<|cls|>", "<|sep|>", "<|mask|>"),
        "added_tokens": tuple(dict.fromkeys(_LEGAL_ENUMS))
        + ("U.S.C.", "C.F.R.", "Inc.", "LLC", "Ltd.", "et seq.", "<span", "</span>", "##"),
    },
    "chat": {
        "pattern": "gpt4",
        "special_tokens": (
            "<|endoftext|>",
            "<|im_start|>",
            "<|im_end|>",
            "<|system|>",
            "<|user|>",
            "<|assistant|>",
            "<|tool|>",
            "<|pad|>",
        ),
    },
    # Character-level BPE (KL3M's 4K/8K/16K char tokenizers): tokens of at most 4 bytes, so a
    # token is at most a short character n-gram (or one 4-byte UTF-8 character).
    "char": {
        "pattern": "char",
        "numbers": "digits",
        "max_token_length": 4,
        "vocab_size": 4096,
        "special_tokens": ("<|endoftext|>", "<|pad|>", "<|unk|>", "<|mask|>"),
    },
}


def apply_preset(settings: TrainSettings, preset: str | None, explicit: set[str]) -> TrainSettings:
    """``settings`` with the preset's values for every field the user did not set."""
    if preset is None:
        return settings
    if preset not in PRESETS:
        raise UserError(f"preset {preset!r} unknown; expected one of {', '.join(PRESETS)}")
    values = {k: v for k, v in PRESETS[preset].items() if k not in explicit}
    return replace(settings, preset=preset, **values)


def validate(settings: TrainSettings) -> None:
    """Raise a UserError for settings no trainer can satisfy."""
    if settings.algorithm not in ALGORITHMS:
        raise UserError(
            f"algorithm {settings.algorithm!r} unknown; expected one of {', '.join(ALGORITHMS)}"
        )
    if settings.normalizer not in NORMALIZERS:
        raise UserError(
            f"normalizer {settings.normalizer!r} unknown; expected {', '.join(NORMALIZERS)}"
        )
    settings.regex  # noqa: B018 - raises a UserError for a bad pattern
    number_regex(settings.numbers)
    for token in (*settings.special_tokens, *settings.added_tokens):
        clean_text(token, what=f"special token {token!r}")  # HF's trainer takes only Unicode
    if len(set(settings.special_tokens)) != len(settings.special_tokens):
        raise UserError("special tokens must be distinct")
    floor = BYTE_ALPHABET + len(settings.special_tokens)
    if settings.vocab_size is None:
        if settings.algorithm != "lib":
            raise UserError(f"--vocab-size is required for {settings.algorithm}")
    elif settings.vocab_size < floor:
        raise UserError(
            f"vocabulary size {settings.vocab_size} is smaller than the base alphabet: "
            f"{BYTE_ALPHABET} bytes + {len(settings.special_tokens)} special tokens = {floor}"
        )
    if settings.max_token_length is not None and settings.max_token_length < 1:
        raise UserError(f"max token length must be at least 1, not {settings.max_token_length}")
    if settings.algorithm == "superbpe":
        assert settings.vocab_size is not None
        transition = settings.stage2_transition
        if transition >= settings.vocab_size:
            raise UserError(
                f"transition {transition} must be smaller than the vocabulary size "
                f"{settings.vocab_size} (stage 2 learns the tokens in between)"
            )
        if transition < floor:
            raise UserError(
                f"transition {transition} is smaller than the base alphabet ({floor} ids)"
            )
        if settings.superword_max_subwords < 2:
            raise UserError("a superword must be allowed at least 2 subwords")
