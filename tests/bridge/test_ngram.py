"""The built-in Kneser-Ney n-gram language model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toksmith.bridge.lm import load_lm
from toksmith.bridge.lm.ngram import NgramLM, train_ngram
from toksmith.errors import UserError
from toksmith.tokenizers import load_tokenizer


def test_distributions_sum_to_one_and_give_special_tokens_nothing(o200k_lm):
    tokenizer = o200k_lm.tokenizer
    seen = tokenizer.encode("    def __init__(self")
    unseen = tokenizer.encode(" zebra quokka narwhal")
    probs = o200k_lm.next_token_probs([seen, unseen, []])
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    assert (probs[:, sorted(tokenizer.special_ids)] == 0).all()
    assert (probs[:, [i for i in range(200) if tokenizer.token_bytes(i)]] > 0).all()


def test_seen_continuation_is_far_more_probable_than_smoothing_alone(o200k_lm):
    tokenizer = o200k_lm.tokenizer
    context = tokenizer.encode("import")
    following = tokenizer.encode("import email")[1]
    probs = o200k_lm.next_token_probs([context])[0]
    assert probs[following] > 100 / tokenizer.vocab_size


def test_logprobs_are_logs_of_probs_in_the_interface_shape(o200k_lm):
    prefixes = [[1, 2, 3], [5]]
    logprobs = o200k_lm.next_token_logprobs(prefixes)
    assert logprobs.shape == (2, o200k_lm.tokenizer.vocab_size)
    assert np.allclose(np.exp(logprobs), o200k_lm.next_token_probs(prefixes))


def test_order_one_model_is_interpolated_unigram_counts():
    tokenizer = load_tokenizer("o200k_base")
    model = train_ngram(tokenizer, ["a a a b"], order=1)
    ids = tokenizer.encode("a a a b")  # "a", " a", " a", " b"
    probs = model.next_token_probs([[]])[0]
    discounts = model.levels[0].discounts  # counts 1, 2, 1 use D1, D2, D1
    counts = {ids[0]: 1, ids[1]: 2, ids[3]: 1}
    gamma = (2 * discounts[1] + discounts[2]) / 4
    support = sum(1 for b in tokenizer.vocab_bytes if b) - sum(
        1 for i in tokenizer.special_ids if tokenizer.token_bytes(i)
    )
    for token, count in counts.items():
        expected = (count - discounts[min(count, 3)]) / 4 + gamma / support
        assert probs[token] == pytest.approx(expected, rel=1e-12)


def test_saved_model_loads_with_identical_probabilities(o200k_lm, tmp_path):
    o200k_lm.save(tmp_path / "lm")
    assert sorted(p.name for p in (tmp_path / "lm").iterdir()) == ["lm.json", "ngram.safetensors"]
    loaded = load_lm(tmp_path / "lm")
    assert isinstance(loaded, NgramLM)
    prefix = o200k_lm.tokenizer.encode("from email import")
    assert np.array_equal(loaded.next_token_probs([prefix]), o200k_lm.next_token_probs([prefix]))


def test_loading_a_model_with_a_different_vocabulary_size_fails(o200k_lm, tmp_path):
    o200k_lm.save(tmp_path / "lm")
    config = json.loads((tmp_path / "lm" / "lm.json").read_text())
    config["vocab_size"] = 5
    (tmp_path / "lm" / "lm.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match="5 token ids"):
        load_lm(tmp_path / "lm")


def test_out_of_range_order_is_refused():
    with pytest.raises(UserError, match="order 0"):
        train_ngram(load_tokenizer("o200k_base"), ["x"], order=0)
