"""The vocabulary cache: entries are checked before they are trusted, and a cache that cannot be
used is no cache, never an error."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from toksmith.cli import main
from toksmith.errors import UserError
from toksmith.tokenizers import cache
from toksmith.tokenizers.registry import BUILTIN_BY_NAME, load_builtin
from toksmith.tokenizers.tiktoken_ranks import load_rank_file


@pytest.fixture()
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TOKSMITH_CACHE_DIR", str(folder))
    return folder


def _rank_file(path: Path, merges: list[bytes]) -> Path:
    """A small valid tiktoken rank file: the 256 bytes, then ``merges``."""
    tokens = [bytes([i]) for i in range(256)] + merges
    lines = [base64.b64encode(token) + b" %d" % rank for rank, token in enumerate(tokens)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _entries(folder: Path, kind: str) -> list[Path]:
    return sorted(folder.glob(f"{kind}-*.bin"))


def test_cache_dir_follows_toksmith_then_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKSMITH_CACHE_DIR", str(tmp_path / "mine"))
    assert cache.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("TOKSMITH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "toksmith"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "toksmith"


def test_an_entry_reads_back_as_written(cache_folder):
    cache.write_entry("k1", "kind", b"payload \x00\xff")
    assert cache.read_entry("k1", "kind") == b"payload \x00\xff"
    assert cache.read_entry("k1", "other-kind") is None
    assert cache.read_entry("k2", "kind") is None


@pytest.mark.parametrize("cut", [0, 5, 20, -1])
def test_a_truncated_entry_is_not_trusted(cache_folder, cut):
    cache.write_entry("k1", "kind", b"x" * 100)
    (entry,) = _entries(cache_folder, "kind")
    data = entry.read_bytes()
    entry.write_bytes(data[:cut] if cut >= 0 else data[:-1])
    assert cache.read_entry("k1", "kind") is None


def test_a_corrupt_entry_is_not_trusted(cache_folder):
    cache.write_entry("k1", "kind", b"x" * 100)
    (entry,) = _entries(cache_folder, "kind")
    data = bytearray(entry.read_bytes())
    data[-10] ^= 0x01  # one bit of the payload: the checksum no longer matches
    entry.write_bytes(bytes(data))
    assert cache.read_entry("k1", "kind") is None


def test_an_entry_renamed_to_another_key_is_not_read_as_that_key(cache_folder):
    cache.write_entry("k1", "kind", b"payload")
    (entry,) = _entries(cache_folder, "kind")
    entry.rename(entry.with_name("kind-k2.bin"))
    assert cache.read_entry("k2", "kind") is None


def test_a_cache_path_that_is_a_file_means_no_cache(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for configured in (blocker, blocker / "below"):
        monkeypatch.setenv("TOKSMITH_CACHE_DIR", str(configured))
        assert cache.cache_dir() is None
        cache.write_entry("k1", "kind", b"payload")  # no error
        assert cache.read_entry("k1", "kind") is None
    assert blocker.read_text() == "not a folder"


def test_an_unwritable_cache_dir_means_no_cache(cache_folder, monkeypatch):
    cache_folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        cache.os,
        "access",
        lambda path, mode: False if Path(path) == cache_folder else real_access(path, mode),
    )
    assert cache.cache_dir() is None
    cache.write_entry("k1", "kind", b"payload")
    assert list(cache_folder.iterdir()) == []


def test_a_write_that_fails_midway_leaves_no_file_and_raises_nothing(cache_folder, monkeypatch):
    cache_folder.mkdir()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cache.os, "replace", refuse)
    cache.write_entry("k1", "kind", b"payload")
    assert list(cache_folder.iterdir()) == []


def test_tokenizers_load_without_a_usable_cache(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("TOKSMITH_CACHE_DIR", str(blocker))
    ranks = _rank_file(tmp_path / "tiny.tiktoken", [b"ab", b"abc"])
    assert load_rank_file(ranks).encode("abc") == [257]
    assert main(["count", "abc", "-t", f"tiktoken:{ranks}", "--format", "json"]) == 0


@pytest.mark.parametrize(
    "ranks",
    [
        {},
        {b"": 0},
        {b"\x00": 5, b"ab": 1, bytes(range(256)): 2},
        {bytes([i]): 255 - i for i in range(256)},
    ],
)
def test_rank_tables_pack_and_unpack_unchanged(ranks):
    assert cache.unpack_ranks(cache.pack_ranks(ranks)) == ranks


def test_unpack_refuses_data_that_is_not_a_rank_table():
    packed = cache.pack_ranks({b"ab": 0, b"c": 1})
    assert cache.unpack_ranks(packed[:-1]) is None
    assert cache.unpack_ranks(packed + b"x") is None
    assert cache.unpack_ranks(b"\xff" * 8) is None
    assert cache.unpack_ranks(b"") is None
    assert cache.unpack_meta_and_ranks(b"\x03\x00\x00\x00\x00\x00\x00\x00{x}") is None


def test_a_rank_file_is_cached_and_a_corrupt_entry_is_rebuilt(cache_folder, tmp_path):
    path = _rank_file(tmp_path / "tiny.tiktoken", [b"ab", b"abc"])
    first = load_rank_file(path)
    (entry,) = _entries(cache_folder, "rank-file")
    good = entry.read_bytes()
    entry.write_bytes(good[: len(good) // 2])
    again = load_rank_file(path)
    assert again.encode("abcab") == first.encode("abcab") == [257, 256]
    assert entry.read_bytes() == good  # rebuilt from the source file


def test_an_edited_rank_file_is_never_served_its_old_entry(cache_folder, tmp_path):
    path = _rank_file(tmp_path / "tiny.tiktoken", [b"ab", b"abc"])
    assert load_rank_file(path).encode("abc") == [257]
    _rank_file(path, [b"bc", b"abc"])  # same size, new content
    assert load_rank_file(path).encode("abc") == [257]
    assert load_rank_file(path).token_bytes(256) == b"bc"
    assert len(_entries(cache_folder, "rank-file")) == 2


def test_a_broken_rank_file_is_refused_and_not_cached(cache_folder, tmp_path):
    path = tmp_path / "broken.tiktoken"
    path.write_bytes(base64.b64encode(b"a") + b" 0\n")  # 255 bytes missing
    with pytest.raises(UserError):
        load_rank_file(path)
    assert _entries(cache_folder, "rank-file") == []


def test_a_builtin_from_the_cache_encodes_as_the_freshly_parsed_one(cache_folder):
    text = "Hello wörld, 12345 tokens!\n\tdef f(x): return x ** 2"
    fresh = load_builtin("p50k_base")
    assert len(_entries(cache_folder, "tiktoken-ranks")) == 1
    cached = load_builtin("p50k_base")
    assert cached.encode(text) == fresh.encode(text)
    assert cached.vocab_size == fresh.vocab_size == 50281
    assert cached.encoding._mergeable_ranks == fresh.encoding._mergeable_ranks


def test_a_tekken_file_from_the_cache_encodes_as_the_freshly_parsed_one(cache_folder):
    text = "Hello wörld [INST] <s> 東京"
    fresh = load_builtin("mistral-tekken", special="allow")
    (entry,) = _entries(cache_folder, "tekken")
    cached = load_builtin("mistral-tekken", special="allow")
    assert cached.encode(text) == fresh.encode(text)
    assert cached.special_strings() == fresh.special_strings()
    entry.write_bytes(b"garbage")
    rebuilt = load_builtin("mistral-tekken", special="allow")
    assert rebuilt.encode(text) == fresh.encode(text)


def test_the_vendor_hash_check_runs_on_the_path_that_builds_the_cache(
    cache_folder, tmp_path, monkeypatch
):
    """A rank file that is not OpenAI's is refused (one line, the file left in place: tiktoken
    would delete it and download it again) and not cached; tiktoken's own check still runs on
    a file that passes (any download attempt is refused here)."""
    import tiktoken.load

    entry = BUILTIN_BY_NAME["p50k_base"]
    fake = tmp_path / "vendor" / Path(entry.file).name
    fake.parent.mkdir()
    fake.write_bytes(entry.path().read_bytes().replace(b"IQ== 0", b"Ig== 0", 1))

    def no_download(blobpath: str) -> bytes:
        if "://" in blobpath:
            raise ConnectionError("no download in tests")
        return Path(blobpath).read_bytes()

    monkeypatch.setattr(type(entry), "path", lambda self: fake)
    monkeypatch.setattr(tiktoken.load, "read_file", no_download)
    with pytest.raises(UserError, match="is not OpenAI's file"):
        load_builtin("p50k_base")
    assert fake.is_file()
    assert _entries(cache_folder, "tiktoken-ranks") == []
