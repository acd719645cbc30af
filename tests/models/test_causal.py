"""Small causal LMs: training lowers held-out bits per byte, folders round-trip exactly,
scoring is consistent with next-token log-probabilities, results are deterministic."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from toksmith.errors import UserError
from toksmith.models import (
    ModelFolder,
    bits_per_byte,
    continue_training,
    load_model,
    next_token_logprobs,
    token_logprobs,
    train_causal_lm,
    write_model,
)
from toksmith.models.causal import CausalLMConfig, next_token_logprobs_batch, scoring_windows
from toksmith.tokenizers import Tokenizer


def test_training_lowers_held_out_bits_per_byte_clearly(
    tiny_lm: ModelFolder,
    tiny_bpe: Tokenizer,
    stdlib_split: tuple[list[str], list[str]],
    tiny_config: CausalLMConfig,
) -> None:
    train, held_out = stdlib_split
    untrained = train_causal_lm(tiny_bpe, train, tiny_config, steps=0, seed=0)
    before = bits_per_byte(untrained, held_out)
    after = bits_per_byte(tiny_lm, held_out)
    # Untrained: about log2(512) bits per token spread over the bytes of each token.
    assert before > 2.5
    assert after < before - 0.7, (before, after)
    assert 90_000 < tiny_lm.parameter_count < 200_000


def test_same_seed_gives_the_same_model_and_another_seed_does_not(
    tiny_lm: ModelFolder,
    tiny_bpe: Tokenizer,
    stdlib_split: tuple[list[str], list[str]],
    tiny_config: CausalLMConfig,
) -> None:
    first = train_causal_lm(tiny_bpe, stdlib_split[0], tiny_config, steps=20, seed=0)
    again = train_causal_lm(tiny_bpe, stdlib_split[0], tiny_config, steps=20, seed=0)
    other = train_causal_lm(tiny_bpe, stdlib_split[0], tiny_config, steps=20, seed=1)
    for key, value in first.weights.items():
        assert np.array_equal(value, again.weights[key]), key
    assert not np.array_equal(first.input_embeddings, other.input_embeddings)


def test_save_then_load_gives_identical_logits(tiny_lm: ModelFolder, tmp_path: Path) -> None:
    written = write_model(tiny_lm, tmp_path / "lm")
    assert sorted(p.name for p in (tmp_path / "lm").iterdir()) == [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
    ]
    loaded = load_model(tmp_path / "lm")
    assert loaded.architecture == "causal" and loaded.tied and written.tied
    prefixes = [[], [5, 17, 300], list(range(200))]
    before = next_token_logprobs_batch(tiny_lm, prefixes)
    after = next_token_logprobs_batch(loaded, prefixes)
    assert np.abs(before - after).max() < 1e-6
    assert np.allclose(np.exp(after).sum(axis=1), 1.0)


def test_untied_output_embeddings_are_saved_and_loaded(
    tiny_bpe: Tokenizer,
    stdlib_split: tuple[list[str], list[str]],
    tmp_path: Path,
    tiny_config: CausalLMConfig,
) -> None:
    # Untrained (steps=0): compiling a second training step would double this file's time;
    # training the untied head is run by benchmarks/runtime.py.
    config = CausalLMConfig(**{**tiny_config.to_dict(), "tied": False})
    model = train_causal_lm(tiny_bpe, stdlib_split[0][:3], config, steps=0, seed=0)
    assert model.output_embedding_key == "lm_head.weight"
    assert not np.array_equal(model.input_embeddings, model.output_embeddings)
    loaded = write_model(model, tmp_path / "untied")
    assert loaded.output_embedding_key == "lm_head.weight"
    assert not loaded.config["tie_word_embeddings"]
    assert np.array_equal(loaded.output_embeddings, model.output_embeddings)
    prefixes = [[3, 4, 5], [9] * 70]
    before = next_token_logprobs_batch(model, prefixes)
    assert np.abs(before - next_token_logprobs_batch(loaded, prefixes)).max() < 1e-6
    # the head is used: swapping it for the input embeddings changes the output
    tied_view = dict(model.weights)
    tied_view["lm_head.weight"] = model.input_embeddings
    swapped = ModelFolder(**{**model.__dict__, "weights": tied_view})
    assert np.abs(before - next_token_logprobs_batch(swapped, prefixes)).max() > 1e-3


def test_bits_per_byte_is_the_sum_of_next_token_logprobs_over_the_bytes(
    tiny_lm: ModelFolder, tiny_config: CausalLMConfig
) -> None:
    text = "def area(width, height):\n    return width * height\n"
    ids = tiny_lm.tokenizer.encode(text)
    assert len(ids) < tiny_config.context  # one window: every token sees the whole prefix
    step_by_step = sum(next_token_logprobs(tiny_lm, ids[:i])[ids[i]] for i in range(len(ids)))
    (scored,) = token_logprobs(tiny_lm, [text])
    assert np.allclose(
        scored, [next_token_logprobs(tiny_lm, ids[:i])[ids[i]] for i in range(len(ids))], atol=1e-5
    )
    expected = -step_by_step / math.log(2) / len(text.encode())
    assert math.isclose(bits_per_byte(tiny_lm, [text]), expected, rel_tol=1e-5)


def test_long_texts_score_every_token_once_with_half_a_context_before_it() -> None:
    ids = list(range(1000, 1300))
    windows = scoring_windows(ids, context=64, start_id=7)
    scored: list[int] = []
    for number, (inputs, targets, first) in enumerate(windows):
        assert len(inputs) == len(targets) <= 64
        if number == 0:
            assert inputs[0] == 7 and first == 0
        else:
            assert inputs[1:] == targets[:-1] and first >= 31  # 32 ids of context
        scored.extend(targets[first:])
    assert scored == ids


def test_continue_training_lowers_the_loss_and_leaves_the_model_unchanged(
    tiny_lm: ModelFolder, stdlib_split: tuple[list[str], list[str]]
) -> None:
    before = {key: value.copy() for key, value in tiny_lm.weights.items()}
    healed = continue_training(tiny_lm, stdlib_split[0], steps=40, seed=3, learning_rate=2e-3)
    for key, value in tiny_lm.weights.items():
        assert np.array_equal(value, before[key])
    held = stdlib_split[1]
    assert bits_per_byte(healed, held) < bits_per_byte(tiny_lm, held)
    assert [run["kind"] for run in healed.config["toksmith"]["runs"]] == ["train", "continue"]


def test_next_token_logprobs_refuses_ids_outside_the_vocabulary(tiny_lm: ModelFolder) -> None:
    with pytest.raises(UserError, match="outside the vocabulary"):
        next_token_logprobs(tiny_lm, [1, tiny_lm.tokenizer.vocab_size])
