"""Comparing tokenizers on corpora and on the wordfreq default."""

from __future__ import annotations

import json

import pytest

from toksmith.errors import UserError
from toksmith.metrics import compare_corpus, compare_wordfreq, count_text
from toksmith.metrics.words import find_words
from toksmith.tokenizers import load_tokenizer

JSON_RESULT_KEYS = {
    "tokenizer", "language", "tokens", "bytes", "chars", "words", "bytes_per_token",
    "chars_per_token", "fertility", "continued_word_ratio", "premium", "vocab_utilization",
    "renyi_efficiency", "partial_char_token_ratio",
}  # fmt: skip


def test_words_follow_unicode_segmentation_not_spaces():
    assert find_words("Don't stop, 3.14 U.S.A. e-mail!") == [
        "Don't",
        "stop",
        "3.14",
        "U.S.A",
        "e",
        "mail",
    ]
    assert find_words("你好世界") == ["你", "好", "世", "界"]  # no dictionary: one per ideograph


def test_count_text_counts_tokens_bytes_and_words():
    (row,) = count_text([load_tokenizer("cl100k_base")], "Hello world")
    assert (row.tokens, row.bytes, row.chars, row.words) == (2, 11, 11, 2)
    assert row.fertility == 1.0


@pytest.fixture(scope="module")
def udhr_rows(udhr_dir):
    tokenizers = [load_tokenizer("o200k_base"), load_tokenizer("mistral-sp-v3")]
    return compare_corpus(
        tokenizers, udhr_dir, reference="eng", languages=["eng", "deu_1996", "tur", "cmn_hans"]
    )


def test_premium_of_the_reference_is_one_and_others_relative(udhr_rows):
    by_key = {(r.tokenizer, r.language): r for r in udhr_rows.results}
    assert by_key[("o200k_base", "eng")].premium == 1.0
    turkish = by_key[("o200k_base", "tur")]
    english = by_key[("o200k_base", "eng")]
    assert turkish.premium == pytest.approx(turkish.tokens / english.tokens)
    assert turkish.premium > 1.2  # the same declaration costs more tokens in Turkish


def test_parallel_rows_share_text_figures_across_tokenizers(udhr_rows):
    rows = [r for r in udhr_rows.results if r.language == "tur"]
    assert len({(r.bytes, r.chars, r.words) for r in rows}) == 1
    for row in rows:
        assert row.bytes_per_token == pytest.approx(row.bytes / row.tokens)
        assert 0 < row.vocab_utilization < 0.1
        assert 0 < row.renyi_efficiency < 1
        assert 0 <= row.continued_word_ratio <= 1


def test_han_text_yields_partial_character_tokens_in_sentencepiece(udhr_rows):
    row = next(
        r for r in udhr_rows.results if r.tokenizer == "mistral-sp-v3" and r.language == "cmn_hans"
    )
    assert row.partial_char_token_ratio > 0.05  # byte-fallback pieces for rare characters


def test_json_has_the_documented_shape(udhr_rows):
    data = udhr_rows.to_dict()
    assert data["reference"] == "eng"
    assert {t["name"] for t in data["tokenizers"]} == {"o200k_base", "mistral-sp-v3"}
    assert all(set(row) == JSON_RESULT_KEYS for row in data["results"])


def test_single_corpus_is_one_language_and_refuses_a_reference(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Tokenizers decide what text costs.\nAnd what a model sees.\n")
    result = compare_corpus([load_tokenizer("cl100k_base")], path)
    assert [r.language for r in result.results] == ["all"]
    assert result.results[0].words == 10
    with pytest.raises(UserError, match="needs a parallel corpus"):
        compare_corpus([load_tokenizer("cl100k_base")], path, reference="eng")


def test_wordfreq_default_weights_words_by_frequency():
    result = compare_wordfreq([load_tokenizer("o200k_base")], ["en", "tr"], top_n=2000)
    english, turkish = sorted(result.results, key=lambda r: r.language)
    assert english.words == 1_000_000
    assert 1.0 <= english.fertility < turkish.fertility
    assert english.premium is None


def test_wordfreq_unknown_language_is_an_error():
    with pytest.raises(UserError, match="no list for xx"):
        compare_wordfreq([load_tokenizer("o200k_base")], ["xx"])


def test_word_cache_gives_the_same_figures_when_it_has_to_start_afresh():
    from toksmith.metrics.compare import WordLengthCache, measure_texts

    tokenizers = [load_tokenizer("o200k_base"), load_tokenizer("minilm")]
    texts = [
        "the tokenizer splits Zwischenergebnisse and xylophonists",
        "words words tokenizer",
    ] * 3
    roomy = measure_texts(tokenizers, texts)
    cramped = measure_texts(tokenizers, texts, word_cache=WordLengthCache(tokenizers, limit=3))
    assert [r.continued_word_ratio for r in roomy] == [r.continued_word_ratio for r in cramped]
    assert all(0 < r.continued_word_ratio < 1 for r in roomy)


def test_partial_char_masks_are_dropped_with_their_tokenizer():
    # Cached per tokenizer object, never by id(): a freed tokenizer's id may be reused.
    import gc

    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import models, pre_tokenizers, trainers

    from toksmith.metrics.compare import _mask_cache, _partial_mask
    from toksmith.tokenizers.hf_json import HFJsonTokenizer

    hf = HFTokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=260, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    hf.train_from_iterator(["aa bb aa bb"], trainer)
    tokenizer = HFJsonTokenizer(json.loads(hf.to_str()), name="tiny", source="memory")
    before = len(_mask_cache)
    assert _partial_mask(tokenizer, tokenizer.vocab_size).shape == (tokenizer.vocab_size,)
    assert len(_mask_cache) == before + 1
    del tokenizer
    gc.collect()
    assert len(_mask_cache) == before
