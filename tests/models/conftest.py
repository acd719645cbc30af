"""Fixtures for the model-runtime tests: the real MiniLM, a tiny byte-level BPE trained on part
of the standard library, and a tiny causal LM trained on it for 100 steps."""

from __future__ import annotations

from pathlib import Path

import pytest
from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models, pre_tokenizers, trainers

from toksmith.models import CausalLMConfig, ModelFolder, load_model, minilm_folder
from toksmith.models.causal import train_causal_lm
from toksmith.models.texts import split_held_out, stdlib_sources
from toksmith.tokenizers import Tokenizer
from toksmith.tokenizers.load import load_path

TINY = CausalLMConfig(hidden=64, layers=2, heads=4, context=64, batch_size=16, warmup_steps=10)


@pytest.fixture(scope="session")
def tiny_config() -> CausalLMConfig:
    return TINY


@pytest.fixture(scope="session")
def minilm() -> ModelFolder:
    return load_model(minilm_folder())


@pytest.fixture(scope="session")
def stdlib_split() -> tuple[list[str], list[str]]:
    """About 400 KB of standard-library source: every tenth file held out."""
    return split_held_out(stdlib_sources(limit_bytes=400_000))


@pytest.fixture(scope="session")
def tiny_bpe_path(
    tmp_path_factory: pytest.TempPathFactory, stdlib_split: tuple[list[str], list[str]]
) -> Path:
    """A 512-id byte-level BPE (HF tokenizers) trained on the training files."""
    tokenizer = HFTokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<|endoftext|>"],
        show_progress=False,
    )
    tokenizer.train_from_iterator(stdlib_split[0], trainer)
    path = tmp_path_factory.mktemp("tiny-bpe") / "tokenizer.json"
    tokenizer.save(str(path))
    return path


@pytest.fixture(scope="session")
def tiny_bpe(tiny_bpe_path: Path) -> Tokenizer:
    return load_path(tiny_bpe_path)


@pytest.fixture(scope="session")
def tiny_lm(tiny_bpe: Tokenizer, stdlib_split: tuple[list[str], list[str]]) -> ModelFolder:
    """About 100k parameters, 100 steps of 16 × 64 tokens."""
    return train_causal_lm(tiny_bpe, stdlib_split[0], TINY, steps=100, seed=0)
