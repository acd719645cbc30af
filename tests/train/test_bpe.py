from __future__ import annotations

import json

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from toksmith.tokenizers import load_tokenizer
from toksmith.train.corpus import blocks
from toksmith.train.pretokenize import CL100K, build_pre_tokenizer
from toksmith.train.settings import TrainSettings

SAMPLE = "Hello wörld, 日本語 — naïve café\n\tdef f(x):\n        return x ** 2  # 1234567\x00"


def test_bpe_merges_equal_hf_bpe_trained_with_the_same_settings(trained, topics_split):
    ours = json.loads(trained("bpe", vocab_size=3000).read_text(encoding="utf-8"))
    train, _ = topics_split
    reference = Tokenizer(models.BPE())
    reference.pre_tokenizer = build_pre_tokenizer(CL100K, None)
    reference.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=3000,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # toksmith feeds a file in blocks cut after line breaks; HF gets the same blocks
    text = train.read_text(encoding="utf-8")
    reference.train_from_iterator(blocks(text), trainer=trainer)
    theirs = json.loads(reference.to_str())
    assert ours["model"]["merges"] == theirs["model"]["merges"]
    assert ours["model"]["vocab"] == theirs["model"]["vocab"]


def test_trained_folder_holds_tokenizer_json_and_training_record(trained):
    path = trained("bpe", vocab_size=3000)
    record = json.loads((path.parent / "toksmith.json").read_text(encoding="utf-8"))
    assert record["vocab_size"] == 3000
    assert record["settings"]["algorithm"] == "bpe"
    assert record["corpus"]["fingerprint"].startswith("blake2b:")
    assert record["corpus"]["bytes"] > 300_000
    assert record["elapsed_s"] > 0
    assert sorted(p.name for p in path.parent.iterdir()) == ["tokenizer.json", "toksmith.json"]


def test_hf_loads_the_file_unchanged_and_encodes_like_toksmith(trained):
    path = trained("bpe", vocab_size=3000)
    hf = Tokenizer.from_file(str(path))
    ours = load_tokenizer(str(path))
    assert hf.encode(SAMPLE, add_special_tokens=False).ids == ours.encode(SAMPLE)


def test_bpe_unigram_and_wordpiece_round_trip_byte_exactly(trained):
    for algorithm in ("bpe", "unigram", "wordpiece"):
        tokenizer = load_tokenizer(str(trained(algorithm, vocab_size=3000)))
        ids = tokenizer.encode(SAMPLE)
        assert tokenizer.decode(ids) == SAMPLE, algorithm
        assert b"".join(tokenizer.token_bytes(i) for i in ids) == SAMPLE.encode(), algorithm
        assert tokenizer.vocab_size == 3000, algorithm


def test_max_token_length_caps_learned_tokens(trained):
    tokenizer = load_tokenizer(str(trained("bpe", vocab_size=2000, max_token_length=3)))
    assert max(len(b) for b in tokenizer.vocab_bytes) <= 3


def test_settings_record_every_field():
    data = TrainSettings(algorithm="superbpe", vocab_size=1000).to_dict()
    assert data["algorithm"] == "superbpe" and data["special_tokens"] == ["<|endoftext|>"]
