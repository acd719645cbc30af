"""Reading corpora: formats, streaming, invalid UTF-8, huge lines, empty input."""

from __future__ import annotations

import gzip
import io
import json
import sys

import pytest

from toksmith.corpus import ReadStats, iter_segments, iter_texts
from toksmith.corpus import read as read_module
from toksmith.errors import UserError


def test_plain_text_is_one_segment_per_non_blank_line(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("first\n\nsecond\r\nthird")
    assert list(iter_texts(path)) == ["first", "second", "third"]


def test_tsv_rows_keep_their_id(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text("7\tseven\n8\teight\twith tab\n")
    segments = list(iter_segments(path))
    assert [(s.unit, s.text) for s in segments] == [("7", "seven"), ("8", "eight\twith tab")]


def test_tsv_row_without_tab_is_an_error(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text("1\tok\nno tab here\n")
    with pytest.raises(UserError, match="line 2 has no tab"):
        list(iter_segments(path))


def test_jsonl_reads_the_text_field(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps({"text": t, "id": i}) for i, t in enumerate("xyz")))
    assert list(iter_texts(path)) == ["x", "y", "z"]
    with pytest.raises(UserError, match="no string field 'body'"):
        list(iter_texts(path, text_field="body"))


def test_gzip_is_read_transparently(tmp_path):
    path = tmp_path / "a.txt.gz"
    path.write_bytes(gzip.compress("één\ntwee\n".encode()))
    assert list(iter_texts(path)) == ["één", "twee"]


def test_folders_and_globs_list_text_files_in_order(tmp_path):
    (tmp_path / "b.txt").write_text("b\n")
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / ".hidden.txt").write_text("hidden\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01binary")
    assert list(iter_texts(tmp_path)) == ["a", "b"]
    assert list(iter_texts(str(tmp_path / "*.txt"))) == ["a", "b"]
    with pytest.raises(UserError, match="matches no files"):
        list(iter_texts(str(tmp_path / "*.md")))


def test_stdin_is_read_with_a_dash(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(b"x\ny\n"))))
    assert list(iter_texts("-")) == ["x", "y"]


def test_invalid_utf8_fails_with_file_and_byte_offset(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine line\nbad \xff here\n")
    with pytest.raises(UserError, match=r"bad.txt: invalid UTF-8 at byte 14"):
        list(iter_texts(path))


def test_replace_mode_counts_replaced_bytes(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"a\xffb\xfe\xfd\n")
    stats = ReadStats()
    assert list(iter_texts(path, errors="replace", stats=stats)) == ["a\ufffdb\ufffd\ufffd"]
    assert stats.replaced_bytes == 3


def test_empty_corpus_is_an_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n  \n")
    with pytest.raises(UserError, match="empty"):
        list(iter_texts(path))


def test_missing_corpus_is_named(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        list(iter_texts(tmp_path / "nothing"))


def test_huge_line_is_cut_at_character_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(read_module, "MAX_SEGMENT_BYTES", 7)
    text = "añb€cd" * 5  # multi-byte characters straddle every cut
    path = tmp_path / "long.txt"
    path.write_text(text + "\nshort\n")
    segments = list(iter_segments(path))
    assert "".join(s.text for s in segments[:-1]) == text
    assert all(len(s.text.encode()) <= 7 + 3 for s in segments)
    assert {s.unit for s in segments[:-1]} == {"1"} and segments[-1].unit == "2"


def test_invalid_byte_offset_is_right_after_a_cut(tmp_path, monkeypatch):
    monkeypatch.setattr(read_module, "MAX_SEGMENT_BYTES", 4)
    path = tmp_path / "bad.txt"
    path.write_bytes(b"abcdefgh\xffij\n")
    with pytest.raises(UserError, match="at byte 8"):
        list(iter_texts(path))


def test_whole_files_mode_keeps_newlines(tmp_path):
    path = tmp_path / "code.py"
    path.write_text("def f():\n    return 1\n")
    assert list(iter_texts(path, whole_files=True)) == ["def f():\n    return 1\n"]


def test_whole_files_are_cut_after_line_breaks_and_keep_every_byte(tmp_path, monkeypatch):
    monkeypatch.setattr(read_module, "MAX_SEGMENT_BYTES", 16)
    text = "first line\nsecond ünïcode line\n" + "x" * 40 + "€ tail"
    path = tmp_path / "doc.txt"
    path.write_text(text)
    segments = [s.text for s in iter_segments(path, whole_files=True)]
    assert "".join(segments) == text
    assert segments[0] == "first line\n"


def test_whole_file_invalid_utf8_offset_counts_earlier_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(read_module, "MAX_SEGMENT_BYTES", 8)
    path = tmp_path / "bad.txt"
    path.write_bytes(b"abc\ndefghijkl\n\xffz\n")
    with pytest.raises(UserError, match="at byte 14"):
        list(iter_segments(path, whole_files=True))


def test_a_file_of_only_whitespace_is_empty_in_whole_file_mode(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("\n   \n\t\n")
    with pytest.raises(UserError, match="empty"):
        list(iter_segments(path, whole_files=True))
