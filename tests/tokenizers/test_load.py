"""Loading tokenizers from files: detection by content, forced backends, bad files."""

from __future__ import annotations

import base64
import json
import shutil

import pytest
from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models, pre_tokenizers, trainers

from toksmith.errors import UserError
from toksmith.tokenizers import load_path, load_tokenizer
from toksmith.tokenizers.registry import BUILTIN_BY_NAME


@pytest.fixture(scope="module")
def tiny_hf_json(tmp_path_factory):
    tokenizer = HFTokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tokenizer.train_from_iterator(["hello world, hello tokens"] * 50, trainer)
    path = tmp_path_factory.mktemp("hf") / "tokenizer.json"
    tokenizer.save(str(path))
    return path


def test_hf_json_is_detected_by_content_whatever_its_name(tiny_hf_json, tmp_path):
    renamed = tmp_path / "weights.bin"
    shutil.copy(tiny_hf_json, renamed)
    tokenizer = load_path(renamed)
    assert tokenizer.backend == "hf"
    assert tokenizer.decode(tokenizer.encode("hello world")) == "hello world"


def test_model_folder_loads_its_tokenizer_json(tiny_hf_json):
    assert load_path(tiny_hf_json.parent).backend == "hf"


def test_rank_file_is_detected_by_content(tmp_path):
    path = tmp_path / "ranks.txt"
    lines = [f"{base64.b64encode(bytes([b])).decode()} {b}" for b in range(256)]
    lines.append(f"{base64.b64encode(b'ab').decode()} 256")
    path.write_text("\n".join(lines) + "\n")
    tokenizer = load_tokenizer(str(path))
    assert tokenizer.backend == "tiktoken"
    assert tokenizer.encode("ab") == [256]
    assert tokenizer.pipeline().notes  # says which pattern it assumed


def test_sentencepiece_and_tekken_files_are_detected(tmp_path):
    sp_source = BUILTIN_BY_NAME["mistral-sp-v1"].path()
    sp_copy = tmp_path / "model.bin"
    shutil.copy(sp_source, sp_copy)
    assert load_path(sp_copy).backend == "sentencepiece"
    tekken_source = BUILTIN_BY_NAME["mistral-tekken"].path()
    assert load_path(tekken_source).backend == "tekken"


def test_prefix_forces_the_backend(tiny_hf_json):
    assert load_tokenizer(f"hf:{tiny_hf_json}").backend == "hf"
    with pytest.raises(UserError):
        load_tokenizer(f"sp:{tiny_hf_json}")


def test_unknown_name_suggests_the_nearest_builtin():
    with pytest.raises(UserError, match="did you mean o200k_base"):
        load_tokenizer("o200k_bas")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_tokenizer(str(tmp_path / "nope.json"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"model": {"type": "BPE", "vocab": ', "corrupt tokenizer JSON"),
        (b"\x00\x01\x02garbage that is no tokenizer", "not a tokenizer file"),
        (b"", "empty file"),
        (b'{"hello": 1}', "not an HF tokenizer.json"),
        (b'{"model": {"type": "NoSuchModel"}}', "cannot load it"),
    ],
)
def test_corrupt_files_give_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message) as caught:
        load_path(path)
    assert "\n" not in str(caught.value)


def test_bad_rank_line_is_named(tmp_path):
    path = tmp_path / "bad.tiktoken"
    path.write_text("YQ== 0\nYg== 1\nnot-base64!! x\n")
    with pytest.raises(UserError, match="line 3"):
        load_tokenizer(f"tiktoken:{path}")


def test_bad_tekken_file_is_rejected(tmp_path):
    path = tmp_path / "tekken.json"
    path.write_text(json.dumps({"config": {"pattern": "x"}, "vocab": []}))
    with pytest.raises(UserError, match="Tekken"):
        load_path(path)


def test_hub_repository_offline_fails_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match="hf:someorg/somemodel"):
        load_tokenizer("hf:someorg/somemodel")


def test_hub_repository_is_read_from_the_local_cache(tmp_path, monkeypatch, tiny_hf_json):
    snapshot = tmp_path / "hub" / "models--org--tiny" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    shutil.copy(tiny_hf_json, snapshot / "tokenizer.json")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    tokenizer = load_tokenizer("hf:org/tiny")
    assert tokenizer.name == "org/tiny"


def test_byte_level_wordpiece_continuations_lose_their_prefix_before_byte_mapping(tmp_path):
    tokenizer = HFTokenizer(
        models.WordPiece({"[UNK]": 0, "ab": 1, "##cd": 2, "##Ã©": 3}, unk_token="[UNK]")
    )
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tokenizer.decoder = decoders.ByteLevel()
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    loaded = load_path(path)
    assert loaded.encode("abcdé") == [1, 2, 3]
    assert [loaded.token_bytes(i) for i in (1, 2, 3)] == [b"ab", b"cd", "é".encode()]
