"""OMP's donor space for a BERT base model: its own hidden states of each new token's pieces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from toksmith.adapt.static import piece_state_donor
from toksmith.adapt.transplant import load_new_tokenizer
from toksmith.adapt.vocab import decompose, match_vocabularies
from toksmith.errors import UserError
from toksmith.models import ModelFolder, load_model
from toksmith.models.bert import piece_states


@pytest.fixture(scope="module")
def base(tiny_bert: Path) -> ModelFolder:
    return load_model(tiny_bert)


def test_layer_zero_is_the_mean_of_the_layernormed_embeddings_of_the_pieces(
    base: ModelFolder,
) -> None:
    w = base.weights
    pieces = [7592, 2088, 999]  # read as [CLS] 7592 2088 999 [SEP]: positions 1, 2, 3
    x = (
        w["embeddings.word_embeddings.weight"][pieces]
        + w["embeddings.position_embeddings.weight"][[1, 2, 3]]
        + w["embeddings.token_type_embeddings.weight"][0]
    ).astype(np.float64)
    centred = x - x.mean(axis=1, keepdims=True)
    normed = centred / np.sqrt((centred**2).mean(axis=1, keepdims=True) + 1e-12)
    expected = (normed * w["embeddings.LayerNorm.weight"] + w["embeddings.LayerNorm.bias"]).mean(0)
    (ours,) = piece_states(base, [pieces], layer=0)
    assert np.abs(ours - expected).max() < 1e-5


def test_piece_states_do_not_depend_on_the_batch_and_empty_inputs_are_zero(
    base: ModelFolder,
) -> None:
    alone = piece_states(base, [[2023, 2003]], layer=1)
    batch = piece_states(base, [[], [2023, 2003], list(range(2000, 2040))], layer=1)
    assert np.abs(batch[1] - alone[0]).max() < 1e-5
    assert not batch[0].any() and batch[2].any()
    assert np.abs(batch[2] - alone[0]).max() > 1e-3  # a different input reads differently
    with pytest.raises(UserError, match="layer 2: expected 0 to 1"):
        piece_states(base, [[2023]], layer=2)


def test_donor_rows_are_the_states_of_each_new_tokens_own_old_pieces(
    base: ModelFolder, new_wordpiece: Path
) -> None:
    new = load_new_tokenizer(new_wordpiece, "bert")
    match = match_vocabularies(base.tokenizer, new)
    vectors, known = piece_state_donor(base, match, layer=1)
    assert vectors.shape == (new.vocab_size, 32)
    assert not known[match.special_new].any() and known[match.shared_new].all()
    shared_new, shared_old = int(match.shared_new[5]), int(match.shared_old[5])
    (own,) = piece_states(base, [[shared_old]], layer=1)
    assert np.allclose(vectors[shared_new], own, atol=1e-6)
    # A continuation token is read as continuation pieces, never as a word start.
    continuation = next(
        int(t)
        for t in match.missing_new
        if (s := match.new_surfaces[int(t)]) is not None and not s.startswith(b" ")
    )
    pieces = decompose(match.new_surfaces[continuation] or b"", match.old_index)
    assert pieces and all(base.tokenizer.token_label(p).startswith("##") for p in pieces)
    (expected,) = piece_states(base, [pieces], layer=1)
    assert np.allclose(vectors[continuation], expected, atol=1e-6)
