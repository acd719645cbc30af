"""Model folders: bad input is a one-line UserError; saving makes the config consistent with
the new tokenizer and never leaves a partial folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from toksmith.errors import UserError
from toksmith.models import ModelFolder, load_model, save_model, write_model


@pytest.fixture
def lm_folder(tiny_lm: ModelFolder, tmp_path: Path) -> Path:
    write_model(tiny_lm, tmp_path / "lm")
    return tmp_path / "lm"


def _one_line_error(folder: Path, match: str) -> None:
    with pytest.raises(UserError, match=match) as caught:
        load_model(folder)
    assert "\n" not in str(caught.value)


def test_a_folder_without_config_is_refused(lm_folder: Path) -> None:
    (lm_folder / "config.json").unlink()
    _one_line_error(lm_folder, "no config.json")


def test_a_missing_folder_and_a_file_are_refused(lm_folder: Path) -> None:
    _one_line_error(lm_folder / "nothing", "does not exist")
    _one_line_error(lm_folder / "config.json", "is a file")


def test_a_folder_without_weights_is_refused(lm_folder: Path) -> None:
    (lm_folder / "model.safetensors").unlink()
    _one_line_error(lm_folder, r"no weights \(model.safetensors\)")


def test_pickled_weights_are_refused_without_being_read(lm_folder: Path) -> None:
    (lm_folder / "model.safetensors").rename(lm_folder / "pytorch_model.bin")
    _one_line_error(lm_folder, "pytorch_model.bin.*only safetensors")


def test_a_weight_file_that_is_not_safetensors_is_refused(lm_folder: Path) -> None:
    (lm_folder / "model.safetensors").write_bytes(b"\x80\x04PK not a safetensors file")
    _one_line_error(lm_folder, "not a safetensors file")


def test_embedding_rows_that_do_not_match_the_tokenizer_are_refused(
    lm_folder: Path, tiny_lm: ModelFolder
) -> None:
    weights = dict(tiny_lm.weights)
    weights["transformer.wte.weight"] = weights["transformer.wte.weight"][:-3]
    save_file(weights, str(lm_folder / "model.safetensors"))
    _one_line_error(lm_folder, r"shape \[509, 64\] but the tokenizer has 512 ids")


def test_weights_that_do_not_match_the_config_are_refused(lm_folder: Path) -> None:
    config = json.loads((lm_folder / "config.json").read_text())
    config["n_layer"] = 3
    (lm_folder / "config.json").write_text(json.dumps(config))
    _one_line_error(lm_folder, r"lack transformer.h.2")
    config["n_layer"], config["n_embd"] = 2, 96
    (lm_folder / "config.json").write_text(json.dumps(config))
    _one_line_error(lm_folder, r"shape \[512, 64\], expected \[512, 96\]")


def test_an_unknown_model_type_is_refused(lm_folder: Path) -> None:
    config = json.loads((lm_folder / "config.json").read_text())
    config["model_type"] = "llama"
    (lm_folder / "config.json").write_text(json.dumps(config))
    _one_line_error(lm_folder, "model_type 'llama'")


def test_saving_over_an_existing_folder_is_refused(tiny_lm: ModelFolder, lm_folder: Path) -> None:
    with pytest.raises(UserError, match="already exists"):
        write_model(tiny_lm, lm_folder)


def test_saving_bad_weights_leaves_no_folder(minilm: ModelFolder, tmp_path: Path) -> None:
    weights = dict(minilm.weights)
    weights["embeddings.word_embeddings.weight"] = np.zeros((10, 384), np.float32)
    with pytest.raises(UserError, match=r"\[10, 384\] but the tokenizer has 30522 ids"):
        save_model(minilm, tmp_path / "out", weights=weights, tokenizer_json=minilm.path)
    assert list(tmp_path.iterdir()) == []


def test_saving_with_a_new_tokenizer_remaps_vocab_size_and_special_ids(
    minilm: ModelFolder, tmp_path: Path
) -> None:
    # A new WordPiece vocabulary: the shipped one with its first 200 unused ids dropped, so
    # [PAD] stays 0 and [UNK], [CLS], [SEP], [MASK] move from 100..103 down.
    config = json.loads((minilm.path / "tokenizer.json").read_text())
    vocab = config["model"]["vocab"]
    kept = [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]
    kept = [kept[0]] + [t for t in kept[1:] if not t.startswith("[unused")]
    config["model"]["vocab"] = {token: i for i, token in enumerate(kept)}
    for added in config["added_tokens"]:
        added["id"] = config["model"]["vocab"][added["content"]]
    for special in config["post_processor"]["special_tokens"].values():
        special["ids"] = [config["model"]["vocab"][special["id"]]]
    new_json = tmp_path / "new-tokenizer.json"
    new_json.write_text(json.dumps(config))
    old_config = dict(minilm.config)
    old_config.update(unk_token_id=100, cls_token_id=101, sep_token_id=102)
    old = ModelFolder(**{**minilm.__dict__, "config": old_config})
    rows = [minilm.weights["embeddings.word_embeddings.weight"][vocab[t]] for t in kept]
    weights = {**minilm.weights, "embeddings.word_embeddings.weight": np.stack(rows)}
    saved = save_model(old, tmp_path / "adapted", weights=weights, tokenizer_json=new_json)
    written = json.loads((tmp_path / "adapted" / "config.json").read_text())
    new_vocab = config["model"]["vocab"]
    assert written["vocab_size"] == len(kept) == saved.tokenizer.vocab_size
    assert written["pad_token_id"] == new_vocab["[PAD]"] == 0
    assert (written["unk_token_id"], written["cls_token_id"], written["sep_token_id"]) == (
        new_vocab["[UNK]"],
        new_vocab["[CLS]"],
        new_vocab["[SEP]"],
    )
    assert written["cls_token_id"] != 101
    for name in ("modules.json", "1_Pooling/config.json", "sentence_bert_config.json"):
        assert (tmp_path / "adapted" / name).is_file()
    # the same rows under new ids: the same sentence embeddings
    from toksmith.models import sentence_embeddings

    texts = ["Tokens moved to new ids.", "[CLS] typed in a text"]
    assert (
        np.abs(sentence_embeddings(saved, texts) - sentence_embeddings(minilm, texts)).max() < 1e-6
    )
    shutil.rmtree(tmp_path / "adapted")
