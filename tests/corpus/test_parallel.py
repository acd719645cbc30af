"""Parallel corpora: languages from file names, alignment checks, the reference language."""

from __future__ import annotations

import pytest

from toksmith.corpus import is_parallel_folder, open_parallel
from toksmith.errors import UserError


def write_parallel(folder, files):
    folder.mkdir(exist_ok=True)
    for name, rows in files.items():
        (folder / name).write_text("".join(f"{unit}\t{text}\n" for unit, text in rows))
    return folder


def test_languages_come_from_file_stems(tmp_path):
    corpus = write_parallel(
        tmp_path / "p", {"eng.tsv": [(0, "hi"), (1, "yes")], "deu.tsv": [(0, "hallo"), (1, "ja")]}
    )
    (corpus / "README.md").write_text("not a language")
    parallel = open_parallel(corpus, reference="eng")
    assert parallel.languages == ["deu", "eng"]
    parallel.check_alignment()
    assert is_parallel_folder(corpus)


def test_misaligned_ids_name_the_file_and_segment(tmp_path):
    corpus = write_parallel(
        tmp_path / "p", {"eng.tsv": [(0, "a"), (1, "b")], "fra.tsv": [(0, "a"), (2, "c")]}
    )
    with pytest.raises(UserError, match=r"fra.tsv: segment 2 has id '2'"):
        open_parallel(corpus).check_alignment()


def test_missing_lines_are_reported(tmp_path):
    corpus = write_parallel(
        tmp_path / "p", {"eng.tsv": [(0, "a"), (1, "b")], "fra.tsv": [(0, "a")]}
    )
    with pytest.raises(UserError, match="do not align"):
        open_parallel(corpus).check_alignment()


def test_unknown_reference_language_is_an_error_with_a_hint(tmp_path):
    corpus = write_parallel(tmp_path / "p", {"eng.tsv": [(0, "a")], "fra.tsv": [(0, "b")]})
    with pytest.raises(UserError, match="did you mean eng"):
        open_parallel(corpus, reference="en")


def test_udhr_layout_is_aligned_and_described(udhr_dir):
    parallel = open_parallel(udhr_dir, reference="eng")
    assert len(parallel.languages) >= 400
    assert "index" not in parallel.languages
    assert parallel.info["cmn_hans"].script == "Hans"
    units = [s.unit for s in parallel.segments("eng")]
    assert units == [str(i) for i in range(31)]


def test_a_byte_order_mark_does_not_break_the_alignment_of_tsv_files(tmp_path):
    corpus = tmp_path / "p"
    corpus.mkdir()
    (corpus / "eng.tsv").write_bytes("\ufeff1\tone\n2\ttwo\n".encode())
    (corpus / "fra.tsv").write_bytes(b"1\tun\n2\tdeux\n")
    (corpus / "index.tsv").write_bytes("\ufeffkey\tscript\tname\neng\tLatn\tEnglish\n".encode())
    parallel = open_parallel(corpus)
    parallel.check_alignment()
    assert parallel.info["eng"].name == "English"


def test_a_language_file_linking_outside_the_root_is_refused(tmp_path):
    secret = tmp_path / "secret.tsv"
    secret.write_text("1\tprivate\n")
    root = tmp_path / "root"
    root.mkdir()
    corpus = write_parallel(root / "p", {"eng.tsv": [(1, "a")], "fra.tsv": [(1, "b")]})
    (corpus / "deu.tsv").symlink_to(secret)
    assert "deu" in open_parallel(corpus).languages
    with pytest.raises(UserError, match=r"deu.tsv: leads outside"):
        open_parallel(corpus, confine_to=root)


def test_an_index_linking_outside_the_root_is_refused(tmp_path):
    secret = tmp_path / "index.tsv"
    secret.write_text("key\tname\neng\tEnglish\n")
    root = tmp_path / "root"
    root.mkdir()
    corpus = write_parallel(root / "p", {"eng.tsv": [(1, "a")], "fra.tsv": [(1, "b")]})
    (corpus / "index.tsv").symlink_to(secret)
    with pytest.raises(UserError, match=r"index.tsv: leads outside"):
        open_parallel(corpus, confine_to=root)
