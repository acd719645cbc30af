"""Writing the user's files: through links, never over a read-only file, modes kept."""

from __future__ import annotations

import os
import stat

import pytest

from toksmith.cli import main
from toksmith.errors import UserError
from toksmith.files import check_output_path, write_atomic


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_symlink_output_is_written_through_and_stays_a_link(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


def test_a_read_only_output_is_refused_and_left_alone(tmp_path):
    target = tmp_path / "locked.json"
    target.write_text("keep me")
    target.chmod(0o444)
    with pytest.raises(UserError, match="read-only"):
        write_atomic(target, "{}")
    with pytest.raises(UserError, match="read-only"):
        check_output_path(target, [])
    assert target.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locked.json"]


def test_an_existing_file_keeps_its_mode_and_a_new_one_gets_the_umask_mode(tmp_path):
    existing = tmp_path / "shared.txt"
    existing.write_text("x")
    existing.chmod(0o640)
    write_atomic(existing, "y")
    assert mode_of(existing) == 0o640
    umask = os.umask(0o022)
    os.umask(umask)
    fresh = tmp_path / "fresh.txt"
    write_atomic(fresh, "z")
    assert mode_of(fresh) == 0o666 & ~umask


def test_count_refuses_a_read_only_output_before_loading(capsys, tmp_path, monkeypatch):
    import toksmith.tokenizers

    def refuse(*args, **kwargs):
        raise AssertionError("a tokenizer was loaded before the output was checked")

    monkeypatch.setattr(toksmith.tokenizers, "load_tokenizers", refuse)
    target = tmp_path / "out.json"
    target.write_text("keep me")
    target.chmod(0o444)
    status = main(["count", "hello", "-t", "cl100k_base", "-o", str(target)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "read-only" in err[0]
    assert target.read_text() == "keep me"
