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
    "renyi_efficiency", "partial_char_token_ratio", "unknown_token_ratio", "byte_fallback_ratio",
    "premium_median", "premium_q1", "premium_q3", "premium_ci_low", "premium_ci_high",
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


def test_byte_fallback_pieces_are_counted_as_a_share_of_tokens(udhr_rows):
    by_key = {(r.tokenizer, r.language): r for r in udhr_rows.results}
    assert by_key[("mistral-sp-v3", "cmn_hans")].byte_fallback_ratio > 0.01
    assert by_key[("mistral-sp-v3", "eng")].byte_fallback_ratio < 0.01
    assert by_key[("o200k_base", "cmn_hans")].byte_fallback_ratio == 0.0
    assert by_key[("o200k_base", "eng")].unknown_token_ratio == 0.0


@pytest.fixture(scope="module")
def unreadable_rows(udhr_dir):
    # minilm (English WordPiece) cannot read Syriac or Gujarati: it maps words to [UNK].
    tokenizers = [load_tokenizer("o200k_base"), load_tokenizer("minilm")]
    return compare_corpus(tokenizers, udhr_dir, reference="eng", languages=["eng", "aii", "guj"])


def test_a_tokenizer_that_cannot_read_a_script_is_flagged_with_its_unknown_share(
    unreadable_rows,
):
    by_key = {(r.tokenizer, r.language): r for r in unreadable_rows.results}
    syriac = by_key[("minilm", "aii")]
    assert syriac.unknown_token_ratio > 0.5
    assert syriac.tokens < by_key[("o200k_base", "aii")].tokens  # looks cheap
    assert by_key[("minilm", "eng")].unknown_token_ratio < 0.01
    (note,) = [n for n in unreadable_rows.notes if n.startswith("minilm:")]
    assert "of tokens are unknown in aii (94%), guj (93%)" in note


def test_a_tokenizer_with_many_unknown_tokens_is_never_called_cheapest_silently(
    unreadable_rows,
):
    from toksmith.report.compare import cheapest_per_language, cheapest_summary

    cheapest = cheapest_per_language(unreadable_rows)
    assert cheapest["aii"] == "o200k_base" and cheapest["guj"] == "o200k_base"
    summary = cheapest_summary(unreadable_rows)
    assert "Not counted: minilm has the fewest tokens in aii" in summary
    assert "unknown" in summary


def compare_result_of(rows: list[tuple[str, str, int]], backends: dict[str, str] | None = None):
    from toksmith.metrics import CompareResult, TokenizerInfo
    from toksmith.metrics.compare import MetricRow

    nan = float("nan")
    names = sorted({name for name, _, _ in rows})
    backends = backends or {}
    return CompareResult(
        tokenizers=[TokenizerInfo(n, backends.get(n, "tiktoken"), 10, n) for n in names],
        reference=None,
        results=[
            MetricRow(n, lang, tokens, 0, 0, 0, nan, nan, nan, nan, None, nan, nan, nan, 0.0, 0.0)
            for n, lang, tokens in rows
        ],
    )


def test_equal_token_counts_are_a_tie_not_a_win():
    from toksmith.report.compare import cheapest_per_language, cheapest_summary

    result = compare_result_of([("a", "en", 10), ("b", "en", 10), ("c", "en", 12), ("a", "de", 9)])
    assert cheapest_per_language(result) == {"en": "tie: a, b", "de": "a"}
    assert "tie: a, b in 1 (en)" in cheapest_summary(result)


def test_a_baseline_is_never_cheapest():
    from toksmith.report.compare import cheapest_per_language, cheapest_summary

    result = compare_result_of([("ws", "en", 5), ("a", "en", 8)], {"ws": "whitespace"})
    assert cheapest_per_language(result) == {"en": "a"}
    assert "Baselines, never cheapest: ws" in cheapest_summary(result)


def test_whitespace_baseline_rows_render_with_empty_vocabulary_measures(tmp_path):
    pytest.importorskip("toksmith.tokenizers.whitespace")
    from toksmith.report import render_compare

    path = tmp_path / "a.txt"
    path.write_text("one two three\nfour\n")
    baseline = load_tokenizer("ws:")
    result = compare_corpus([baseline, load_tokenizer("cl100k_base")], path)
    row = next(r for r in result.results if r.tokenizer == baseline.name)
    assert row.tokens == row.words == 4
    assert row.vocab_utilization is None and row.renyi_efficiency is None
    assert "Baselines, never cheapest" in render_compare(result, "md")


def test_compare_bytes_are_the_files_bytes_under_errors_replace(tmp_path):
    data = b"caf\xe9 au lait\nna\xefve \xff\xfe\n"
    path = tmp_path / "latin1.txt"
    path.write_bytes(data)
    (row,) = compare_corpus([load_tokenizer("cl100k_base")], path, errors="replace").results
    assert row.bytes == len(data) - 2  # the two line breaks are not part of the segments
    assert row.bytes_per_token == pytest.approx(row.bytes / row.tokens)


def test_parallel_bytes_are_the_files_bytes_under_errors_replace(tmp_path):
    corpus = tmp_path / "p"
    corpus.mkdir()
    (corpus / "eng.tsv").write_bytes(b"1\tcafe\n2\tbar\n")
    (corpus / "fra.tsv").write_bytes(b"1\tcaf\xe9\n2\tbar\n")
    result = compare_corpus([load_tokenizer("cl100k_base")], corpus, errors="replace")
    by_language = {r.language: r for r in result.results}
    assert by_language["fra"].bytes == by_language["eng"].bytes == len("cafebar")


def test_a_byte_order_mark_is_not_counted_by_compare(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfhello\n")
    (row,) = compare_corpus([load_tokenizer("cl100k_base")], path).results
    assert (row.bytes, row.chars, row.tokens) == (5, 5, 1)


def test_continued_words_do_not_count_a_bare_space_token_as_a_piece():
    # cl100k cuts " 123" into " " and "123", and SentencePiece " hello" into "▁", "▁hell", "o":
    # the whitespace-only first token is the word boundary, not a piece of the word.
    from toksmith.metrics.compare import measure_texts

    cl100k = load_tokenizer("cl100k_base")
    assert len(cl100k.encode(" 123")) == 2 and len(cl100k.encode_word("123")) == 1
    (row,) = measure_texts([cl100k], ["123 hello 456"])
    assert row.continued_word_ratio == 0.0
    (split,) = measure_texts([cl100k], ["Zwischenergebnisse hello"])
    assert split.continued_word_ratio == 0.5
    sentencepiece = load_tokenizer("mistral-sp-v3")
    assert sentencepiece.encode_word("hello") == sentencepiece.encode(" hello")[1:]


def test_whitespace_baseline_measures_every_language_of_a_parallel_corpus(tmp_path):
    # Its vocabulary grows with each language (and with the word cache): counts and masks
    # must still line up.
    pytest.importorskip("toksmith.tokenizers.whitespace")
    corpus = tmp_path / "p"
    corpus.mkdir()
    # Punctuation: "saß," is one whitespace token but the word "saß" is encoded on its own.
    (corpus / "eng.txt").write_text("the cat, sat\non the mat.\n")
    (corpus / "deu.txt").write_text("die Katze saß,\nauf der Matte.\n")
    baseline = load_tokenizer("ws:")
    result = compare_corpus([baseline, load_tokenizer("cl100k_base")], corpus, reference="eng")
    rows = {r.language: r for r in result.results if r.tokenizer == baseline.name}
    assert rows["deu"].tokens == 6 and rows["deu"].premium == 1.0
    assert rows["deu"].partial_char_token_ratio == 0.0
    assert rows["deu"].premium_ci_low == rows["deu"].premium_ci_high == 1.0
