"""Compare results rendered (report/compare.py): the new fields in every format."""

from __future__ import annotations

import csv
import io
import json

import pytest

from toksmith.metrics import compare_corpus
from toksmith.report import render_compare
from toksmith.tokenizers import load_tokenizer

NEW_FIELDS = ["unknown_token_ratio", "byte_fallback_ratio", "premium_median", "premium_q1",
              "premium_q3", "premium_ci_low", "premium_ci_high"]  # fmt: skip


@pytest.fixture(scope="module")
def parallel_result(udhr_dir):
    tokenizers = [load_tokenizer("o200k_base"), load_tokenizer("minilm")]
    return compare_corpus(tokenizers, udhr_dir, reference="eng", languages=["eng", "aii"])


def test_json_output_has_the_parity_and_unknown_fields(parallel_result):
    data = json.loads(render_compare(parallel_result, "json"))
    eng = next(r for r in data["results"] if r["language"] == "eng")
    assert eng["premium_ci_low"] == eng["premium_ci_high"] == 1.0
    assert all(field in eng for field in NEW_FIELDS)
    assert any("of tokens are unknown" in note for note in data["notes"])


def test_csv_header_lists_the_new_fields_even_without_a_reference(parallel_result, tmp_path):
    header = next(csv.reader(io.StringIO(render_compare(parallel_result, "csv"))))
    assert all(field in header for field in NEW_FIELDS)
    path = tmp_path / "a.txt"
    path.write_text("plain text\n")
    single = compare_corpus([load_tokenizer("o200k_base")], path)
    assert next(csv.reader(io.StringIO(render_compare(single, "csv")))) == header


def test_markdown_and_table_show_the_interval_and_the_unknown_share(parallel_result):
    markdown = render_compare(parallel_result, "md")
    assert "CI low" in markdown and "seg. median" in markdown and "unknown" in markdown
    assert "Not counted: minilm" in markdown
    table = render_compare(parallel_result, "table")
    assert "CI low" in table and "unknown" in table


def test_tables_without_a_reference_leave_out_the_empty_parity_columns(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("plain text\n")
    single = compare_corpus([load_tokenizer("o200k_base")], path)
    assert "CI low" not in render_compare(single, "md")
    assert "CI low" not in render_compare(single, "table")
