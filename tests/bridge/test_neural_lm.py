"""The bridge on a neural LM: a toksmith causal transformer (toksmith.models) behind the
bridge's LM interface gives exact byte-level probabilities, as the n-gram and toy models do."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from toksmith.bridge.bytelevel import ByteLevelModel
from toksmith.bridge.lm import load_lm
from toksmith.bridge.lm.neural import NeuralLM
from toksmith.models import CausalLMConfig, ModelFolder, train_causal_lm, write_model
from toksmith.tokenizers import Tokenizer, load_tokenizer

TOY_CONFIG = CausalLMConfig(hidden=16, layers=1, heads=2, context=8, batch_size=4)


def sharpened(model: ModelFolder, factor: float) -> ModelFolder:
    """An untrained model with larger embeddings: clearly non-uniform next-token
    distributions, so sums that should match are tested on distinct numbers."""
    weights = dict(model.weights)
    weights["transformer.wte.weight"] = weights["transformer.wte.weight"] * factor
    return ModelFolder(**{**model.__dict__, "weights": weights})


@pytest.fixture
def toy_neural_lm(toy_lm: Callable[..., object]) -> NeuralLM:
    tokenizer: Tokenizer = toy_lm(seed=0).tokenizer  # the toy BPE over {a, b, c}
    texts = ["abcabcaabbcc" * 4]
    model = train_causal_lm(tokenizer, texts, TOY_CONFIG, steps=0, seed=4)
    return NeuralLM(sharpened(model, 60.0), name="toy-neural")


def brute_force(lm: NeuralLM, target: bytes) -> float:
    """Sum of P(token sequence) over the token sequences covering ``target``, with the
    next-token distribution renormalised over the tokens that have bytes (as the bridge)."""
    tokens = lm.tokenizer.vocab_bytes
    total = 0.0

    def extend(prefix: list[int], spelled: bytes, probability: float) -> None:
        nonlocal total
        if len(spelled) >= len(target):
            total += probability
            return
        row = lm.next_token_probs([prefix])[0]
        row = np.where([bool(piece) for piece in tokens], row, 0.0)
        row = row / row.sum()
        for token, p in enumerate(row):
            longer = spelled + tokens[token]
            if tokens[token] and longer[: len(target)] == target[: len(longer)]:
                extend([*prefix, token], longer, probability * p)

    extend([], b"", 1.0)
    return total


def chained(model: ByteLevelModel, text: bytes) -> float:
    state = model.start(b"")
    log_probability = 0.0
    for byte in text:
        log_probability += math.log(state.distribution()[byte])
        state.advance(byte)
    return math.exp(log_probability)


def test_neural_byte_probabilities_equal_the_brute_force_sum(toy_neural_lm: NeuralLM) -> None:
    model = ByteLevelModel(toy_neural_lm, covers="all", anchors="none")
    strings = [bytes(c) for n in range(1, 4) for c in itertools.product(b"abc", repeat=n)]
    values = []
    for text in strings:
        expected = brute_force(toy_neural_lm, text)
        values.append(expected)
        assert math.isclose(chained(model, text), expected, rel_tol=1e-9), text
    assert max(values[:3]) > 1.5 * min(values[:3])  # the model is not uniform over bytes


def test_neural_next_byte_distribution_sums_to_one(toy_neural_lm: NeuralLM) -> None:
    model = ByteLevelModel(toy_neural_lm, covers="all", anchors="none")
    for prefix in (b"", b"a", b"abca", b"ccb"):
        distribution = model.start(prefix).distribution()
        assert abs(distribution.sum() - 1.0) < 1e-12
        assert distribution[[b not in b"abc" for b in range(256)]].sum() == 0.0


def test_a_written_causal_lm_folder_loads_as_a_bridge_lm(
    small_bpe_path: Path, held_out_sources: list[tuple[str, str]], tmp_path: Path
) -> None:
    tokenizer = load_tokenizer(str(small_bpe_path))
    config = CausalLMConfig(hidden=32, layers=1, heads=2, context=32)
    model = train_causal_lm(tokenizer, [held_out_sources[0][1]], config, steps=0, seed=0)
    write_model(sharpened(model, 20.0), tmp_path / "neural")
    lm = load_lm(tmp_path / "neural")
    assert isinstance(lm, NeuralLM) and lm.context_window == 32
    byte_model = ByteLevelModel(lm)  # canonical covers, line anchors (byte-level BPE)
    text = held_out_sources[0][1].encode()
    for offset in (300, 1000):
        state = byte_model.start(text[offset - 80 : offset])
        distribution = state.distribution()
        assert abs(distribution.sum() - 1.0) < 1e-9
        assert distribution[state.greedy_byte()] == distribution.max()
