"""Byte-level ensembles of n-gram LMs with different tokenizers."""

from __future__ import annotations

import numpy as np

from toksmith.bridge.bytelevel import ByteLevelModel
from toksmith.bridge.ensemble import ensemble_score, mixture, product


def test_ensemble_of_two_tokenizers_beats_each_model_alone(
    o200k_lm, small_bpe_lm, held_out_sources
):
    data = held_out_sources[0][1].encode()[:1500]
    result = ensemble_score([ByteLevelModel(o200k_lm), ByteLevelModel(small_bpe_lm)], data)
    members = [member.bits_per_byte for member in result.members]
    assert result.members[1].tokenizer != result.members[0].tokenizer
    # Measured: o200k 4-gram 2.223, 2k-BPE 4-gram 2.382, mixture 2.181, product 2.187 bits/byte.
    assert result.mixture_bits_per_byte < min(members) - 0.03
    assert result.product_bits_per_byte < min(members)


def test_mixture_and_product_are_distributions():
    rng = np.random.default_rng(0)
    first, second = rng.dirichlet(np.ones(256)), rng.dirichlet(np.ones(256))
    assert np.isclose(mixture([first, second], [0.3, 0.7]).sum(), 1.0)
    combined = product([first, second], [0.5, 0.5])
    assert np.isclose(combined.sum(), 1.0)
    expected = np.sqrt(first * second)
    assert np.allclose(combined, expected / expected.sum())
