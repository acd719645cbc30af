from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from safetensors.numpy import save_file

from toksmith.audit.vocab import audit_vocab
from toksmith.audit.weights import audit_weights, load_matrix, robust_z
from toksmith.errors import UserError
from toksmith.tokenizers import load_tokenizer

VOCAB, DIM = 600, 48
REFERENCE = np.arange(0, 100)  # known-unused rows given as reference
HIDDEN = np.arange(300, 310)  # untrained rows the indicator has to find


def planted_matrix() -> np.ndarray:
    """Trained rows: random directions plus a component all rows share (as real embeddings
    have). Untrained rows: the initialisation point plus tiny noise, never moved."""
    rng = np.random.default_rng(0)
    shared = rng.normal(size=DIM) * 3
    matrix = rng.normal(size=(VOCAB, DIM)) + shared
    init = rng.normal(size=DIM) * 0.05
    for row in [*REFERENCE, *HIDDEN]:
        matrix[row] = shared * 0.02 + init + rng.normal(size=DIM) * 0.002
    return matrix.astype(np.float32)


@pytest.fixture
def planted_file(tmp_path):
    path = tmp_path / "model.safetensors"
    save_file({"embed.weight": planted_matrix(), "bias": np.zeros(DIM, np.float32)}, str(path))
    return path


def test_planted_untrained_rows_top_the_ranking_and_are_flagged(planted_file):
    audit = audit_weights(planted_file, "embed.weight", vocab_size=VOCAB, reference_ids=REFERENCE)
    assert sorted(audit.ranking(len(HIDDEN)).tolist()) == HIDDEN.tolist()
    flagged = set(np.flatnonzero(audit.undertrained).tolist())
    # the threshold is the 90% quantile of the reference scores, and the hidden rows are
    # drawn like the reference ones: most, not necessarily all, fall below it
    assert flagged <= set(HIDDEN.tolist()) and len(flagged) >= 7


def test_planted_untrained_rows_are_low_norm_outliers(planted_file):
    audit = audit_weights(planted_file, "embed.weight", vocab_size=VOCAB, reference_ids=REFERENCE)
    assert audit.norm_outlier[HIDDEN].all()
    assert (audit.norm_z[HIDDEN] < 0).all()
    assert audit.norm_outlier.sum() == len(HIDDEN) + len(REFERENCE)


def test_robust_z_is_zero_at_the_median():
    z = robust_z(np.array([1.0, 2.0, 3.0, 4.0, 100.0]))
    assert z[2] == 0.0 and z[4] > 3.5


def test_bfloat16_tensors_are_widened_to_float32(tmp_path):
    values = np.array([[1.0, -2.5], [0.15625, 3.0e38]], dtype=np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype("<u2")
    header = json.dumps(
        {"m": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, bf16.nbytes]}}
    ).encode()
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + bf16.tobytes())
    loaded = load_matrix(path, "m")
    assert loaded.dtype == np.float32
    np.testing.assert_allclose(loaded, values, rtol=1e-2)


def test_missing_tensor_name_is_a_user_error_listing_the_matrices(planted_file):
    with pytest.raises(UserError, match="no tensor named 'wte'.*embed.weight"):
        audit_weights(planted_file, "wte", vocab_size=VOCAB, reference_ids=REFERENCE)


def test_fewer_rows_than_token_ids_is_a_user_error(planted_file):
    with pytest.raises(UserError, match="600 rows but the tokenizer has 700 ids"):
        audit_weights(planted_file, "embed.weight", vocab_size=700, reference_ids=REFERENCE)


def test_extra_padding_rows_are_ignored_and_counted(planted_file):
    audit = audit_weights(planted_file, "embed.weight", vocab_size=590, reference_ids=REFERENCE)
    assert audit.padding_rows == 10 and audit.score.shape == (590,)


def test_a_vector_is_not_an_embedding_matrix(planted_file):
    with pytest.raises(UserError, match="expected a 2-D embedding matrix"):
        audit_weights(planted_file, "bias", vocab_size=VOCAB, reference_ids=REFERENCE)


def test_a_file_that_is_not_safetensors_is_a_user_error(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"PK\x03\x04 not safetensors at all")
    with pytest.raises(UserError, match="not a safetensors file"):
        load_matrix(path, "embed.weight")


def test_no_reference_tokens_is_a_user_error(planted_file):
    with pytest.raises(UserError, match="no known-unused tokens"):
        audit_weights(planted_file, "embed.weight", vocab_size=VOCAB, reference_ids=np.array([]))


def test_minilm_held_out_unused_tokens_rank_near_the_top(minilm_weights):
    """Validation on the real all-MiniLM-L6-v2: with half of BERT's [unusedN] rows as the
    reference, the other half must rank in the top 10% of the 30,522 tokens."""
    tokenizer = load_tokenizer("minilm")
    unused = audit_vocab(tokenizer).flagged_ids(["unused_special"])
    assert len(unused) == 994
    reference, held_out = unused[::2], unused[1::2]
    audit = audit_weights(
        minilm_weights,
        "embeddings.word_embeddings.weight",
        vocab_size=tokenizer.vocab_size,
        reference_ids=reference,
    )
    rank = np.argsort(np.argsort(audit.score))
    assert rank[held_out].max() < 0.10 * tokenizer.vocab_size
    assert audit.undertrained[held_out].mean() > 0.8  # about 90% lie below the threshold
    # frequent English words are far from the unused mean
    vocab = tokenizer.hf.get_vocab()
    assert not audit.undertrained[[vocab["the"], vocab["house"], vocab["##ing"]]].any()
