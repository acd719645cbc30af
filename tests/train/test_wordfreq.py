from __future__ import annotations

import json

import pytest

from toksmith.errors import UserError
from toksmith.tokenizers import load_tokenizer
from toksmith.train import TrainSettings, train_tokenizer, wordfreq_mix


def test_temperature_one_keeps_natural_shares_and_high_temperature_flattens_them():
    natural = wordfreq_mix(["en", "tr"], temperature=1.0, total_words=1000, top_n=10)
    flat = wordfreq_mix(["en", "tr"], temperature=100.0, total_words=1000, top_n=10)
    sizes = natural.sizes
    assert natural.shares["en"] == pytest.approx(sizes["en"] / (sizes["en"] + sizes["tr"]))
    assert abs(flat.shares["en"] - 0.5) < abs(natural.shares["en"] - 0.5)
    assert abs(flat.shares["en"] - 0.5) < 0.01


def test_word_counts_follow_frequency():
    mix = wordfreq_mix(["en"], total_words=100_000, top_n=100)
    counts = mix.counts["en"]
    assert counts["the"] == max(counts.values()) > min(counts.values()) >= 1


def test_training_from_word_counts_needs_no_corpus(tmp_path):
    result = train_tokenizer(
        TrainSettings(vocab_size=1000),
        tmp_path / "tok",
        wordfreq_languages=["en"],
        wordfreq_total_words=100_000,
    )
    tokenizer = load_tokenizer(str(result.tokenizer_json))
    assert len(tokenizer.encode(" the")) == 1
    record = json.loads((tmp_path / "tok" / "toksmith.json").read_text(encoding="utf-8"))
    assert record["corpus"]["sources"] == ["wordfreq:en"]


def test_unknown_wordfreq_language_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="xx"):
        train_tokenizer(TrainSettings(vocab_size=1000), tmp_path / "t", wordfreq_languages=["xx"])
