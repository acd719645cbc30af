from __future__ import annotations

import math

import numpy as np
import pytest

from toksmith.audit.coverage import audit_coverage, average_rank, char_scripts, overlap
from toksmith.errors import UserError
from toksmith.tokenizers import load_tokenizer


def test_characters_get_their_iso_15924_script():
    scripts = char_scripts("aЖ中ぁ1 ́")
    assert scripts == {"a": "Latn", "Ж": "Cyrl", "中": "Hani", "ぁ": "Hira", "1": "Zyyy",
                       " ": "Zyyy", "\u0301": "Zinh"}  # fmt: skip


def test_average_rank_weights_each_rank_by_use():
    # used 3, 1, 1 times: ranks 1, 2, 3 -> (1*3 + 2*1 + 3*1) / 5
    assert average_rank(np.array([0, 1, 3, 1])) == pytest.approx(8 / 5)
    assert math.isnan(average_rank(np.zeros(3)))


def test_overlap_of_identical_and_disjoint_distributions():
    same = overlap("a", np.array([2, 2, 0]), "b", np.array([1, 1, 0]))
    assert (same.shared_tokens, same.jaccard, same.weighted_overlap) == (2, 1.0, 1.0)
    assert same.jensen_shannon == pytest.approx(0.0)
    apart = overlap("a", np.array([1, 0]), "b", np.array([0, 1]))
    assert (apart.shared_tokens, apart.weighted_overlap) == (0, 0.0)
    assert apart.jensen_shannon == pytest.approx(1.0)


def test_minilm_vocabulary_is_mostly_latin_complete_words():
    report = audit_coverage(load_tokenizer("minilm"))
    latin = report.scripts[0]
    assert latin.script == "Latn" and latin.tokens > 25_000
    assert 0.6 < latin.complete_word_share < 0.9  # the rest are ## continuations
    assert report.kinds["special"] == 5


def test_llama3_covers_english_text_with_longer_tokens_than_chinese(udhr_dir):
    report = audit_coverage(
        load_tokenizer("llama3"), corpus=udhr_dir, languages=["eng", "cmn_hans", "tur"]
    )
    rows = {row.language: row for row in report.languages}
    assert rows["eng"].multichar_share > 0.95
    assert rows["cmn_hans"].multichar_share < rows["tur"].multichar_share < 0.99
    assert rows["cmn_hans"].script == "Hans"
    pairs = {(row.language_a, row.language_b): row for row in report.overlap}
    assert len(pairs) == 3
    assert pairs[("eng", "tur")].shared_tokens > pairs[("eng", "cmn_hans")].shared_tokens


def test_unknown_language_is_a_user_error_with_suggestions(udhr_dir):
    with pytest.raises(UserError, match="language 'cmn' is not in .*did you mean"):
        audit_coverage(load_tokenizer("minilm"), corpus=udhr_dir, languages=["cmn"])
