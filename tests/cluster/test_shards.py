"""Shards read back exactly as one pass over the file reads it (no cluster needed)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from toksmith.cluster.shards import file_shards, iter_shard_segments, plan_shards
from toksmith.corpus import ReadStats, iter_segments
from toksmith.corpus import read as corpus_read
from toksmith.errors import UserError


def _one_pass(path: Path, **options: object) -> tuple[list[tuple[str, str]], ReadStats]:
    stats = ReadStats()
    segments = [
        (s.text, s.unit)
        for s in iter_segments(path, keep_blank=True, allow_empty=True, stats=stats, **options)
    ]
    return segments, stats


def _sharded(
    path: Path, shard_bytes: int, whole_files: bool = False, errors: str = "strict"
) -> tuple[list[str], ReadStats, int]:
    stats = ReadStats()
    shards = file_shards(path, shard_bytes=shard_bytes, whole_files=whole_files)
    texts = [
        s.text
        for shard in shards
        for s in iter_shard_segments(
            shard,
            errors=errors,  # type: ignore[arg-type]
            whole_files=whole_files,
            stats=stats,
        )
    ]
    return texts, stats, len(shards)


@pytest.fixture
def awkward_text(tmp_path: Path) -> Path:
    """BOM, CRLF, blank lines, multi-byte characters and a line longer than the (shrunk)
    segment limit, so a range reader must cut it into the same pieces."""
    lines = ["\ufeffErste Zeile — ü", "", "second\r", "   ", "x" * 5000 + "ö" * 3000, "last"]
    lines += [f"line {i} ✓ {'é' * (i % 7)}" for i in range(400)]
    path = tmp_path / "awkward.txt"
    path.write_bytes("\n".join(lines).encode("utf-8") + b"\n\n\nno final newline")
    return path


def test_line_ranges_read_the_same_segments_as_one_pass(awkward_text, monkeypatch):
    monkeypatch.setattr(corpus_read, "MAX_SEGMENT_BYTES", 1024)
    expected, stats = _one_pass(awkward_text)
    texts, shard_stats, count = _sharded(awkward_text, shard_bytes=700)
    assert count >= 8
    assert texts == [text for text, _ in expected]
    assert shard_stats.bytes == stats.bytes


def test_whole_file_ranges_cut_where_one_pass_cuts(awkward_text, monkeypatch):
    monkeypatch.setattr(corpus_read, "MAX_SEGMENT_BYTES", 512)
    expected, _ = _one_pass(awkward_text, whole_files=True)
    texts, _, count = _sharded(awkward_text, shard_bytes=2048, whole_files=True)
    assert count >= 4
    assert texts == [text for text, _ in expected]
    assert "".join(texts).encode("utf-8") == awkward_text.read_bytes()[3:]  # every byte, no BOM


def test_invalid_utf8_in_a_later_range_names_the_file_offset_of_one_pass(tmp_path):
    path = tmp_path / "bad.txt"
    data = b"".join(b"line %d ok\n" % i for i in range(300))
    path.write_bytes(data + b"broken \xff here\n" + data)
    with pytest.raises(UserError) as one:
        _one_pass(path)
    with pytest.raises(UserError) as sharded:
        _sharded(path, shard_bytes=500)
    assert str(sharded.value) == str(one.value)
    assert f"at byte {len(data) + 7}" in str(one.value)


def test_replacements_are_counted_as_in_one_pass(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"".join(b"ab \xff\xfe %d \xe2\x82\n" % i for i in range(200)))
    expected, stats = _one_pass(path, errors="replace")
    texts, shard_stats, count = _sharded(path, shard_bytes=300, errors="replace")
    assert count > 3
    assert texts == [text for text, _ in expected]
    assert (shard_stats.replaced_bytes, shard_stats.replacements) == (
        stats.replaced_bytes,
        stats.replacements,
    )


def test_a_bad_jsonl_record_in_a_later_range_names_its_line_in_the_file(tmp_path):
    path = tmp_path / "docs.jsonl"
    records = [json.dumps({"text": f"document {i}"}) for i in range(200)]
    records[150] = '{"text": broken'
    path.write_text("\n".join(records) + "\n", encoding="utf-8")
    with pytest.raises(UserError) as one:
        _one_pass(path)
    with pytest.raises(UserError) as sharded:
        _sharded(path, shard_bytes=400)
    assert str(sharded.value) == str(one.value)
    assert "line 151" in str(one.value)


def test_gzip_files_are_whole_shards_and_small_files_are_grouped(tmp_path):
    big = tmp_path / "big.txt.gz"
    big.write_bytes(gzip.compress(b"".join(b"text %d\n" % i for i in range(5000))))
    small = [tmp_path / f"s{i}.txt" for i in range(5)]
    for path in small:
        path.write_text("short\n", encoding="utf-8")
    assert len(file_shards(big, shard_bytes=100)) == 1
    tasks = plan_shards([big, *small], shard_bytes=100)
    assert [shard.name for task in tasks for shard in task] == [str(p) for p in [big, *small]]
    assert len(tasks) == 2  # the large gzip file alone, then the five small files together
