from __future__ import annotations

import pytest
from tokenizers import Tokenizer

from toksmith.train.pretokenize import CL100K, build_pre_tokenizer


@pytest.mark.parametrize(
    ("mode", "groups"),
    [
        ("digits", ["1", "2", "3", "4", "5", "6", "7"]),
        ("l2r3", ["123", "456", "7"]),
        ("r2l3", ["1", "234", "567"]),
    ],
)
def test_number_mode_groups_1234567(mode, groups):
    pre_tokenizer = build_pre_tokenizer(CL100K, mode)
    assert [piece for piece, _ in pre_tokenizer.pre_tokenize_str("1234567")] == groups


@pytest.mark.parametrize("mode", ["digits", "l2r3", "r2l3"])
def test_trained_tokens_never_cross_a_digit_group(trained, mode):
    path = trained("bpe", vocab_size=1500, numbers=mode)
    hf = Tokenizer.from_file(str(path))
    groups = [p for p, _ in build_pre_tokenizer(CL100K, mode).pre_tokenize_str("x 1234567 y")]
    ends = set()
    position = 0
    for group in groups:
        position += len(group)
        ends.add(position)
    encoding = hf.encode("x 1234567 y", add_special_tokens=False)
    assert ends <= {end for _, end in encoding.offsets}  # tokens refine the groups
