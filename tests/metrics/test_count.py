"""``count``: a text or a file, with the counting rule shared with ``compare`` stated."""

from __future__ import annotations

import gzip

import pytest

from toksmith.errors import UserError
from toksmith.metrics import compare_corpus, count_corpus, count_text, count_texts
from toksmith.tokenizers import load_tokenizer


@pytest.fixture(scope="module")
def cl100k():
    return load_tokenizer("cl100k_base")


def test_count_encodes_a_plain_text_file_whole_with_its_line_breaks(tmp_path, cl100k):
    text = "Tokens cost money.\n\nSo do line breaks.\n"
    path = tmp_path / "notes.md"
    path.write_text(text)
    (row,) = count_corpus([cl100k], path).results
    assert (row.tokens, row.bytes, row.chars) == (len(cl100k.encode(text)), len(text), len(text))
    assert [r.tokens for r in count_texts([cl100k], [text])] == [row.tokens]


def test_count_and_compare_differ_exactly_by_the_line_breaks_and_agree_on_words(tmp_path, cl100k):
    path = tmp_path / "notes.txt"
    path.write_text("first line here\n\nsecond line\r\nthird\n")
    (counted,) = count_corpus([cl100k], path).results
    (compared,) = compare_corpus([cl100k], path).results
    assert counted.words == compared.words == 6
    line_breaks = len("\n\n\r\n\n")
    assert counted.bytes - compared.bytes == line_breaks
    assert counted.chars - compared.chars == line_breaks
    segments = ["first line here", "second line", "third"]
    assert compared.tokens == sum(len(cl100k.encode(s)) for s in segments)


def test_count_bytes_are_the_files_bytes_under_errors_replace(tmp_path, cl100k):
    data = b"caf\xe9 au lait \xff\xfe\n"  # Latin-1 bytes: three invalid sequences
    path = tmp_path / "latin1.txt"
    path.write_bytes(data)
    result = count_corpus([cl100k], path, errors="replace")
    (row,) = result.results
    assert row.bytes == len(data)
    assert result.replaced_bytes == 3 and result.notes
    assert row.bytes_per_token == pytest.approx(len(data) / row.tokens)
    with pytest.raises(UserError, match="invalid UTF-8"):
        count_corpus([cl100k], path)


def test_count_of_a_gzip_file_counts_the_uncompressed_text(tmp_path, cl100k):
    path = tmp_path / "a.txt.gz"
    path.write_bytes(gzip.compress(b"hello there\n"))
    (row,) = count_corpus([cl100k], path).results
    assert row.bytes == len("hello there\n")


def test_count_leaves_out_a_byte_order_mark(tmp_path, cl100k):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfhello\n")
    (row,) = count_corpus([cl100k], path).results
    assert (row.bytes, row.chars, row.tokens) == (6, 6, len(cl100k.encode("hello\n")))


def test_count_text_counts_an_escaped_invalid_byte_as_one_byte(cl100k):
    argument = b"abc\xff".decode("utf-8", "surrogateescape")  # as argv hands it over
    (row,) = count_text([cl100k], argument, errors="replace")
    assert row.bytes == 4 and row.chars == 4
    with pytest.raises(UserError, match="invalid UTF-8 byte 0xFF"):
        count_text([cl100k], argument)


def test_count_result_has_a_json_shape(tmp_path, cl100k):
    path = tmp_path / "a.txt"
    path.write_text("x\n")
    data = count_corpus([cl100k], path).to_dict()
    assert set(data) == {"tokenizers", "results", "source", "replaced_bytes", "notes"}
    assert data["tokenizers"][0]["name"] == "cl100k_base"
    assert data["results"][0]["tokens"] == len(cl100k.encode("x\n"))
