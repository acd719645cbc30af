"""The ``ws:`` whitespace baseline: words as tokens, usable wherever a tokenizer is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toksmith.cli import main
from toksmith.errors import UserError
from toksmith.metrics import compare_corpus, count_text
from toksmith.tokenizers import load_tokenizer
from toksmith.tokenizers.whitespace import WhitespaceTokenizer


@pytest.mark.parametrize("spec", ["ws:", "ws"])
def test_ws_spec_loads_the_whitespace_baseline(spec: str) -> None:
    tokenizer = load_tokenizer(spec)
    assert isinstance(tokenizer, WhitespaceTokenizer)
    assert tokenizer.name == "whitespace" and tokenizer.backend == "whitespace"
    assert load_tokenizer("ws") is load_tokenizer("ws:")


def test_tokens_are_maximal_runs_of_non_whitespace_and_whitespace_is_no_token() -> None:
    tokenizer = WhitespaceTokenizer()
    ids = tokenizer.encode("  Hello,  wörld!\n\tHello,")
    assert ids == [0, 1, 0]
    assert [tokenizer.token_bytes(i) for i in ids] == [b"Hello,", "wörld!".encode(), b"Hello,"]
    assert tokenizer.encode("") == [] and tokenizer.encode(" \n ") == []
    assert tokenizer.decode(ids) == "Hello, wörld! Hello,"


def test_ids_come_in_order_of_first_sight_from_a_growing_vocabulary() -> None:
    tokenizer = WhitespaceTokenizer()
    assert tokenizer.vocab_size == 0
    assert tokenizer.encode_batch(["b a", "c b"]) == [[0, 1], [2, 0]]
    assert tokenizer.vocab_size == 3
    assert tokenizer.vocab_bytes == [b"b", b"a", b"c"]
    assert tokenizer.token_label(2) == "c" and tokenizer.token_label(3) is None


def test_whitespace_baseline_has_no_merges_and_no_special_tokens() -> None:
    tokenizer = WhitespaceTokenizer()
    assert tokenizer.special_ids == frozenset() and tokenizer.unknown_ids == frozenset()
    with pytest.raises(UserError, match="whitespace baseline: it has no merges"):
        tokenizer.merges()


def test_count_with_ws_counts_words() -> None:
    rows = count_text([load_tokenizer("ws:")], "three little words")
    assert rows[0].tokens == 3


def test_compare_with_ws_gives_a_reference_row_of_words(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "eng.txt").write_text("the cat sat\non the mat\n", encoding="utf-8")
    (corpus / "deu.txt").write_text("die Katze sass\nauf der Matte\n", encoding="utf-8")
    result = compare_corpus(
        [load_tokenizer("ws:"), load_tokenizer("cl100k_base")], corpus, reference="eng"
    )
    rows = {(row.tokenizer, row.language): row for row in result.results}
    assert rows[("whitespace", "eng")].tokens == 6
    assert rows[("whitespace", "deu")].tokens == 6
    assert rows[("whitespace", "deu")].premium == pytest.approx(1.0)


def test_compare_cli_accepts_ws(tmp_path: Path, capsys) -> None:
    corpus = tmp_path / "notes.txt"
    corpus.write_text("one two three\nfour\n", encoding="utf-8")
    status = main(["compare", "-t", "ws:", "-t", "p50k_base", "--corpus", str(corpus),
                   "--format", "json"])  # fmt: skip
    assert status == 0
    data = json.loads(capsys.readouterr().out)
    whitespace = [row for row in data["results"] if row["tokenizer"] == "whitespace"]
    assert whitespace and whitespace[0]["tokens"] == 4
