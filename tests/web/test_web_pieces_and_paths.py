"""The pieces the playground draws, and the path guard, without the HTTP layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from toksmith.tokenizers import load_tokenizer
from toksmith.web.jobs import JobManager
from toksmith.web.roots import PathRefused, WebRoots, list_result_files, resolve_under
from toksmith.web.tokens import PieceCache, piece_of, special_label, token_view


def test_whole_utf8_token_is_its_text():
    assert piece_of("naïve".encode()) == "naïve"


def test_token_with_a_split_character_keeps_text_runs_and_stray_bytes():
    # " " then the first two bytes of U+1F917 (🤗)
    assert piece_of(b" \xf0\x9f") == [" ", 0xF0, 0x9F]
    assert piece_of(b"\x97ab") == [0x97, "ab"]
    assert piece_of(b"a\xe4\xbdb\xa0") == ["a", 0xE4, 0xBD, "b", 0xA0]


def test_token_view_counts_partial_tokens_and_reuses_cached_pieces():
    tokenizer = load_tokenizer("cl100k_base")
    cache = PieceCache()
    first = token_view(tokenizer, "🤗🤗", cache)
    second = token_view(tokenizer, "🤗🤗", cache)
    assert first.partial_tokens == sum(isinstance(p, list) for p in first.pieces) > 0
    assert second.pieces == first.pieces and second.ids == tokenizer.encode("🤗🤗")
    assert first.bytes == 8 and first.chars == 2


def test_resolve_under_accepts_paths_inside_the_root(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.json").write_text("{}")
    assert resolve_under(tmp_path, "a/b.json", what="file") == (tmp_path / "a" / "b.json")
    assert resolve_under(tmp_path, ".", what="file") == tmp_path


@pytest.mark.parametrize(
    ("relative", "status"),
    [("../x", 403), ("a/../../x", 403), ("/etc/passwd", 403), ("~root", 403), ("a\\b", 403),
     ("nul\x00", 403), ("link", 403), ("missing", 404)],
)  # fmt: skip
def test_resolve_under_refuses_escapes(tmp_path: Path, relative: str, status: int):
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(PathRefused) as refused:
        resolve_under(root, relative, what="file")
    assert refused.value.status == status


def test_result_listing_skips_hidden_files_and_links_out(tmp_path: Path):
    root = tmp_path / "root"
    (root / ".hidden").mkdir(parents=True)
    (root / ".hidden" / "x.json").write_text("{}")
    (root / "ok.json").write_text("{}")
    (tmp_path / "outside.json").write_text("{}")
    (root / "out.json").symlink_to(tmp_path / "outside.json")
    assert list_result_files(root) == ["ok.json"]


def test_job_manager_refuses_work_beyond_its_queue():
    import threading

    from toksmith.errors import UserError

    release = threading.Event()
    jobs = JobManager(max_queued=2)
    try:
        jobs.submit("wait", {}, lambda progress: release.wait(5) and {})
        jobs.submit("wait", {}, lambda progress: release.wait(5) and {})
        with pytest.raises(UserError, match="already queued"):
            jobs.submit("wait", {}, lambda progress: {})
    finally:
        release.set()
        jobs.shutdown()


class LabelOnlyTokenizer:
    """Just what token_view reads, with a label only the public token_label knows (no backend
    object a getattr could find)."""

    name = backend = "fake"
    vocab_size = 3
    byte_exact = False

    def encode(self, text: str) -> list[int]:
        return [0, 2]

    def token_bytes(self, token_id: int) -> bytes:
        return b"hi" if token_id == 0 else b""

    def token_label(self, token_id: int) -> str | None:
        return {2: "<mask>"}.get(token_id)

    def pipeline(self):
        from toksmith.tokenizers import Pipeline

        return Pipeline(normalizer="none", pre_tokenizer="none", model="fake", decoder="none")


def test_special_pieces_are_labelled_by_the_public_token_label():
    view = token_view(LabelOnlyTokenizer(), "hi")  # type: ignore[arg-type]
    assert view.pieces == ["hi", {"special": "<mask>"}]
    assert special_label(LabelOnlyTokenizer(), 1) == "<1>"  # type: ignore[arg-type]


def test_messages_name_files_as_a_request_does_not_by_the_server_folders(tmp_path: Path):
    for name in ("corpus", "tokenizers"):
        (tmp_path / name).mkdir()
    roots = WebRoots.of(tmp_path / "corpus", tmp_path / "tokenizers")
    message = f"{tmp_path}/tokenizers/a/tok.json: bad; {tmp_path}/corpus/x.txt leads outside {tmp_path}/corpus"
    assert roots.hide(message) == "local:a/tok.json: bad; x.txt leads outside --corpus"
