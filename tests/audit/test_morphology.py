from __future__ import annotations

import itertools

import pytest

from toksmith.audit.morphology import (
    LexiconMorphology,
    TurkishZeyrek,
    lower,
    measure_tokenizer,
    morphology_for,
    read_segmentations,
)
from toksmith.corpus import iter_texts
from toksmith.errors import UserError
from toksmith.tokenizers import load_tokenizer


@pytest.fixture(scope="module")
def zeyrek() -> TurkishZeyrek:
    """Loading zeyrek's lexicon takes seconds: once per module. It must work offline (no NLTK
    data download), which this fixture proves by loading and analysing."""
    return TurkishZeyrek()


def test_turkish_lowercasing_keeps_dotted_and_dotless_i():
    assert lower("İNSANLIK", "tr") == "insanlık"
    assert len(lower("İstanbul", "tr")) == len("İstanbul")


def test_zeyrek_knows_words_and_their_morpheme_boundaries(zeyrek):
    assert zeyrek.is_word("ev") and zeyrek.is_word("evlerinde")
    assert not zeyrek.is_word("lerin") and not zeyrek.is_word("xq")
    assert frozenset({0, 2, 5, 7, 9}) in zeyrek.boundaries("evlerinde")  # ev|ler|in|de


def test_planted_lexicon_and_segmentation_give_exact_shares(planted, tmp_path):
    # The planted tokenizer cuts greedily over single bytes and "ab"/"cd": "abcd" -> ab|cd.
    segmentation = tmp_path / "seg.tsv"
    segmentation.write_text("abcd\tab cd\nabx\ta bx\n", encoding="utf-8")
    morphology = LexiconMorphology(
        "xx", {"ab"}, "test", read_segmentations(segmentation, "xx").get, str(segmentation)
    )
    row = measure_tokenizer(planted, ["abcd abx"], morphology)
    # tokens: ab, cd (in abcd, both morphemes) and ab, x (in abx = a|bx: neither is one)
    assert row.distinct_tokens == 3  # ab, cd, x
    assert row.tr_share == pytest.approx(1 / 3)  # only "ab" is in the lexicon
    assert row.pure_share == pytest.approx(2 / 3)  # ab pure 1 of 2 times (counts), cd pure
    assert row.pure_share_weighted == pytest.approx(2 / 4)
    assert row.words == 2


def test_segmentation_that_does_not_spell_the_word_is_a_user_error(tmp_path):
    path = tmp_path / "seg.tsv"
    path.write_text("evler\tev lar\n", encoding="utf-8")
    with pytest.raises(UserError, match="line 1: morphemes 'ev lar' do not spell 'evler'"):
        read_segmentations(path, "tr")


def test_unknown_language_without_a_lexicon_is_a_user_error():
    with pytest.raises(UserError, match="unknown language 'klingon'"):
        morphology_for("klingon")


def test_wordfreq_serves_as_lexicon_for_other_languages():
    morphology = morphology_for("de")
    assert morphology.is_word("haus") and not morphology.is_word("xqzv")
    assert morphology.boundaries("häuser") is None  # no segmentation without a file


def test_gpt4o_tokens_match_turkish_morphemes_better_than_mistral_sentencepiece(
    zeyrek, turkish_udhr
):
    texts = list(itertools.islice(iter_texts(turkish_udhr), 1, 6))
    o200k = measure_tokenizer(load_tokenizer("o200k_base"), texts, zeyrek)
    sentencepiece = measure_tokenizer(load_tokenizer("mistral-sp-v3"), texts, zeyrek)
    assert o200k.fertility < sentencepiece.fertility
    assert o200k.pure_share > sentencepiece.pure_share
    assert 0.3 < o200k.tr_share < 1.0 and 0.9 < o200k.analysed_word_share <= 1.0
