"""BPE, Unigram and WordPiece through HF ``tokenizers``, byte-level.

The stages follow HF's pipeline: normalizer (optional NFC/NFKC) → pre-tokenizer ([digit
groups] → regex split → ByteLevel) → model → ByteLevel decoder. The trainer is HF's own, so a
toksmith BPE is exactly the BPE HF trains with the same settings.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers
from tokenizers import trainers as hf_trainers

from toksmith.errors import UserError
from toksmith.train.pretokenize import build_pre_tokenizer
from toksmith.train.settings import TrainSettings


def new_tokenizer(settings: TrainSettings, model: models.Model) -> Tokenizer:
    """An untrained HF tokenizer with the settings' normalizer, pre-tokenizer and decoder."""
    tokenizer = Tokenizer(model)
    normalizer = build_normalizer(settings.normalizer)
    if normalizer is not None:
        tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = build_pre_tokenizer(settings.regex, settings.numbers)
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def build_normalizer(name: str):  # noqa: ANN201 - an HF normalizer or None
    if name == "nfc":
        return normalizers.NFC()
    if name == "nfkc":
        return normalizers.NFKC()
    return None


def trainer_vocab_size(settings: TrainSettings) -> int:
    """Ids left for the trainer: the vocabulary minus the added whole tokens."""
    assert settings.vocab_size is not None
    return settings.vocab_size - len(settings.added_tokens)


def make_trainer(settings: TrainSettings, vocab_size: int) -> hf_trainers.Trainer:
    """The HF trainer for ``settings.algorithm`` (bpe, unigram or wordpiece)."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    specials = list(settings.special_tokens)
    if settings.algorithm in ("bpe", "superbpe"):
        return hf_trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=settings.min_frequency,
            special_tokens=specials,
            initial_alphabet=alphabet,
            max_token_length=settings.max_token_length,
            show_progress=False,
        )
    if settings.algorithm == "unigram":
        return hf_trainers.UnigramTrainer(
            vocab_size=vocab_size,
            special_tokens=specials,
            initial_alphabet=alphabet,
            max_piece_length=settings.max_token_length or 16,
            show_progress=False,
        )
    if settings.algorithm == "wordpiece":
        # An empty continuation prefix keeps every token a plain byte-level string, so the
        # ByteLevel decoder restores the text exactly; WordPiece still differs from BPE in how
        # it encodes (greedy longest match first).
        return hf_trainers.WordPieceTrainer(
            vocab_size=vocab_size,
            min_frequency=settings.min_frequency,
            special_tokens=specials,
            initial_alphabet=alphabet,
            continuing_subword_prefix="",
            show_progress=False,
        )
    raise UserError(f"algorithm {settings.algorithm!r} is not trained through HF tokenizers")


def make_model(settings: TrainSettings) -> models.Model:
    if settings.algorithm in ("bpe", "superbpe"):
        return models.BPE()
    if settings.algorithm == "unigram":
        return models.Unigram()
    if settings.algorithm == "wordpiece":
        return models.WordPiece(
            unk_token=settings.special_tokens[0] if settings.special_tokens else "[UNK]",
            continuing_subword_prefix="",
            max_input_chars_per_word=1 << 30,
        )
    raise UserError(f"algorithm {settings.algorithm!r} is not trained through HF tokenizers")


def train_hf(settings: TrainSettings, texts: Iterable[str] | Iterable[list[str]]) -> Tokenizer:
    """Train BPE, Unigram or WordPiece on ``texts`` (strings, or lists of strings) with HF
    ``tokenizers``; returns the HF tokenizer with special and added whole tokens in place."""
    tokenizer = new_tokenizer(settings, make_model(settings))
    trainer = make_trainer(settings, trainer_vocab_size(settings))
    tokenizer.train_from_iterator(texts, trainer=trainer)
    add_whole_tokens(tokenizer, settings)
    return tokenizer


def add_whole_tokens(tokenizer: Tokenizer, settings: TrainSettings) -> None:
    """Add the preset's deterministic whole tokens (not special) after the learned ones."""
    fresh = [t for t in settings.added_tokens if tokenizer.token_to_id(t) is None]
    if fresh:
        tokenizer.add_tokens([AddedToken(t, normalized=False, special=False) for t in fresh])
