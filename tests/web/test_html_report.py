"""The one-file HTML report of a compare result: complete, offline, and safe to open."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from web_samples import compare_json

from toksmith.cli import main
from toksmith.errors import UserError
from toksmith.metrics import compare_corpus
from toksmith.report.html import render_compare_html
from toksmith.tokenizers import load_tokenizer


def embedded_data(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="compare-data">(.*?)</script>', page)
    assert match, "the report embeds its data"
    return json.loads(match.group(1))


def test_report_embeds_the_compare_result_and_the_chart_code(web_dirs: dict[str, Path]):
    tokenizers = [load_tokenizer("p50k_base"), load_tokenizer("llama3")]
    result = compare_corpus(tokenizers, web_dirs["corpus"] / "parallel", reference="eng")
    page = render_compare_html(result)
    assert page.startswith("<!doctype html>")
    assert embedded_data(page) == json.loads(json.dumps(result.to_dict()))
    assert "function heatmap" in page and "function barChart" in page
    assert "ToksmithCharts.renderCompare" in page
    assert "<noscript>" in page and "llama3" in page


def test_report_needs_no_network():
    page = render_compare_html(compare_json())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "url(http" not in page
    assert "<script src" not in page


def test_report_cannot_be_broken_out_of_by_names_in_the_data():
    data = compare_json()
    evil = "</script><script>alert(1)</script>"
    data["tokenizers"][0]["name"] = evil
    for row in data["results"]:
        if row["tokenizer"] == "alpha":
            row["tokenizer"] = evil
    page = render_compare_html(data)
    assert "<script>alert(1)" not in page
    assert embedded_data(page)["tokenizers"][0]["name"] == evil


def test_report_turns_non_finite_numbers_into_null():
    data = compare_json()
    data["results"][0]["fertility"] = float("nan")
    data["results"][1]["premium"] = float("inf")
    rows = embedded_data(render_compare_html(data))["results"]
    assert rows[0]["fertility"] is None and rows[1]["premium"] is None


def test_report_refuses_something_that_is_not_a_compare_result():
    with pytest.raises(UserError, match="tokenizers"):
        render_compare_html({"rows": []})


def test_compare_command_writes_the_html_report(web_dirs: dict[str, Path], tmp_path: Path):
    output = tmp_path / "report.html"
    corpus = str(web_dirs["corpus"] / "parallel")
    argv = ["compare", "-t", "p50k_base", "--corpus", corpus, "--reference", "eng"]
    assert main([*argv, "--format", "html", "-o", str(output)]) == 0
    page = output.read_text(encoding="utf-8")
    assert {row["language"] for row in embedded_data(page)["results"]} == {"eng", "fra", "rus"}


def test_report_shows_parity_intervals_unknown_shares_and_notes_without_scripts(udhr_dir):
    tokenizers = [load_tokenizer("o200k_base"), load_tokenizer("minilm")]
    result = compare_corpus(tokenizers, udhr_dir, reference="eng", languages=["eng", "aii"])
    page = render_compare_html(result)
    noscript = page[page.index("<noscript>") : page.index("</noscript>")]
    for column in ("premium_ci_low", "premium_ci_high", "premium_median", "unknown_token_ratio"):
        assert f"<th>{column}</th>" in noscript
    assert "minilm: over 5% of tokens are unknown" in noscript
    rows = embedded_data(page)["results"]
    assert all("premium_ci_low" in row and "byte_fallback_ratio" in row for row in rows)
