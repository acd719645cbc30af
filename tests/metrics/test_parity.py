"""Per-segment premiums and the bootstrap interval of the corpus premium."""

from __future__ import annotations

import numpy as np
import pytest

from toksmith.metrics import compare_corpus
from toksmith.metrics.compare import MetricRow
from toksmith.metrics.parity import add_parity, bootstrap_premium_intervals, segment_premiums
from toksmith.tokenizers import load_tokenizer


def bare_row(tokenizer: str, language: str, tokens: int) -> MetricRow:
    nan = float("nan")
    return MetricRow(tokenizer, language, tokens, 0, 0, 0, nan, nan, nan, nan, None, nan, nan, nan)


def constructed_rows() -> tuple[list[MetricRow], list[np.ndarray]]:
    reference = np.array([10, 10, 10, 10], dtype=np.int32)
    other = np.array([10, 20, 30, 40], dtype=np.int32)  # segment premiums 1, 2, 3, 4
    rows = [bare_row("t", "eng", int(reference.sum())), bare_row("t", "xyz", int(other.sum()))]
    return rows, [reference, other]


def test_segment_premiums_give_the_median_and_quartiles_of_a_known_case():
    rows, segments = constructed_rows()
    add_parity(rows, segments, "eng")
    other = rows[1]
    assert other.premium == 2.5
    assert (other.premium_q1, other.premium_median, other.premium_q3) == (1.75, 2.5, 3.25)


def test_the_reference_has_premium_one_with_a_zero_width_interval():
    rows, segments = constructed_rows()
    add_parity(rows, segments, "eng")
    reference = rows[0]
    assert reference.premium == 1.0
    assert reference.premium_median == reference.premium_q1 == reference.premium_q3 == 1.0
    assert reference.premium_ci_low == reference.premium_ci_high == 1.0


def test_the_bootstrap_interval_contains_the_corpus_premium():
    rows, segments = constructed_rows()
    add_parity(rows, segments, "eng")
    other = rows[1]
    assert other.premium_ci_low is not None and other.premium_ci_high is not None
    assert 1.0 <= other.premium_ci_low < other.premium < other.premium_ci_high <= 4.0


def test_the_bootstrap_is_reproducible_and_narrows_with_more_segments():
    rng = np.random.default_rng(7)
    reference = rng.integers(5, 50, size=(400, 1))
    tokens = np.hstack([reference, reference * 2 + rng.integers(0, 10, size=(400, 1))])
    columns = np.array([0, 0])
    first = bootstrap_premium_intervals(tokens, columns)
    again = bootstrap_premium_intervals(tokens, columns)
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    few = bootstrap_premium_intervals(tokens[:20], columns)
    assert first[1][1] - first[0][1] < few[1][1] - few[0][1]


def test_segments_without_tokens_have_no_premium():
    premiums = segment_premiums(np.array([0, 4, 6]), np.array([3, 0, 3]))
    assert premiums.tolist() == [2.0]


def test_parallel_corpus_rows_carry_parity_fields(udhr_dir):
    tokenizers = [load_tokenizer("o200k_base"), load_tokenizer("llama3")]
    result = compare_corpus(tokenizers, udhr_dir, reference="eng", languages=["eng", "tur"])
    for row in result.results:
        assert row.premium_ci_low is not None and row.premium_ci_high is not None
        assert row.premium_ci_low <= row.premium <= row.premium_ci_high
        assert row.premium_q1 <= row.premium_median <= row.premium_q3
        if row.language == "eng":
            assert row.premium_ci_low == row.premium_ci_high == row.premium_median == 1.0
    again = compare_corpus(tokenizers, udhr_dir, reference="eng", languages=["eng", "tur"])
    assert [r.premium_ci_low for r in again.results] == [r.premium_ci_low for r in result.results]


def test_parity_fields_are_null_without_a_reference(udhr_dir):
    result = compare_corpus([load_tokenizer("o200k_base")], udhr_dir, languages=["eng", "tur"])
    data = result.to_dict()
    for row in data["results"]:
        assert row["premium"] is None and row["premium_ci_low"] is None
        assert row["premium_median"] is None


@pytest.mark.parametrize("n_segments", [1, 3])
def test_tiny_corpora_still_get_an_interval(n_segments):
    reference = np.full(n_segments, 4, dtype=np.int32)
    rows = [bare_row("t", "eng", 4 * n_segments), bare_row("t", "x", 8 * n_segments)]
    add_parity(rows, [reference, reference * 2], "eng")
    assert rows[1].premium_ci_low == rows[1].premium_ci_high == 2.0
