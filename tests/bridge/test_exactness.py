"""The byte-level probabilities equal brute-force sums over token sequences."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from toksmith.bridge.bytelevel import ByteLevelModel

MAX_LENGTH = 4


def all_strings(alphabet: bytes, max_length: int) -> list[bytes]:
    return [
        bytes(chars)
        for length in range(max_length + 1)
        for chars in itertools.product(alphabet, repeat=length)
    ]


def chained_probability(model: ByteLevelModel, text: bytes) -> float:
    state = model.start(b"")
    log_probability = 0.0
    for byte in text:
        log_probability += math.log(state.distribution()[byte])
        state.advance(byte)
    return math.exp(log_probability)


@pytest.mark.parametrize(
    ("covers", "canonical_lm"), [("all", False), ("canonical", True)], ids=["all", "canonical"]
)
def test_byte_probability_of_every_short_string_equals_brute_force_sum(
    covers: str, canonical_lm: bool, toy_lm, brute_force
) -> None:
    lm = toy_lm(seed=1, canonical_only=canonical_lm)
    model = ByteLevelModel(lm, covers=covers, anchors="none")
    for text in all_strings(b"abc", MAX_LENGTH):
        expected = brute_force(lm, text)
        assert expected > 0
        assert math.isclose(chained_probability(model, text), expected, rel_tol=1e-9), text


def test_next_byte_distribution_sums_to_one_and_matches_brute_force_ratios(
    toy_lm, brute_force
) -> None:
    lm = toy_lm(seed=2)
    model = ByteLevelModel(lm, covers="all", anchors="none")
    for prefix in all_strings(b"abc", 3):
        distribution = model.start(prefix).distribution()
        assert abs(distribution.sum() - 1.0) < 1e-12
        assert distribution[[b not in b"abc" for b in range(256)]].sum() == 0.0
        prefix_probability = brute_force(lm, prefix)
        for byte in b"abc":
            joint = brute_force(lm, prefix + bytes([byte]))
            assert math.isclose(distribution[byte] * prefix_probability, joint, rel_tol=1e-9)


def test_canonical_covers_lose_mass_for_a_model_that_is_not_canonical(toy_lm, brute_force):
    # The canonical restriction is an assumption about the model: with a model that puts
    # mass on non-canonical segmentations, it gives a different (wrong) probability.
    lm = toy_lm(seed=1)
    model = ByteLevelModel(lm, covers="canonical", anchors="none")
    text = b"abca"
    assert not math.isclose(chained_probability(model, text), brute_force(lm, text), rel_tol=1e-6)


def test_greedy_byte_is_the_argmax_of_the_exact_distribution(o200k_model, held_out_sources):
    text = held_out_sources[0][1].encode()
    rng = np.random.default_rng(0)
    for offset in rng.integers(200, len(text) - 10, size=15):
        prompt = text[int(offset) - 120 : int(offset)]
        greedy = o200k_model.start(prompt).greedy_byte()
        distribution = o200k_model.start(prompt).distribution()
        assert distribution[greedy] == distribution.max()
