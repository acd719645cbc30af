"""The command line: outputs, and one-line errors with exit status 2 for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from toksmith.cli import main


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_count_prints_a_table_for_each_tokenizer(capsys):
    status, out, _ = run(capsys, "count", "Hello, wörld", "-t", "o200k_base", "-t", "llama3")
    assert status == 0
    assert "o200k_base" in out and "llama3" in out


def test_count_json_lists_tokenizers_and_results(capsys, tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\nTokens are what models read.\n")
    status, out, _ = run(
        capsys, "count", "--file", str(notes), "-t", "cl100k_base", "--format", "json"
    )
    data = json.loads(out)
    assert status == 0
    assert data["tokenizers"][0]["name"] == "cl100k_base"
    assert data["results"][0]["bytes"] == len(notes.read_bytes())


def test_list_names_package_and_file(capsys):
    status, out, _ = run(capsys, "list", "--format", "json")
    rows = json.loads(out)["tokenizers"]
    assert status == 0
    llama3 = next(r for r in rows if r["name"] == "llama3")
    assert llama3["package"] == "llama-models" and llama3["vocab_size"] == 128256


def test_compare_writes_markdown_atomically(capsys, tmp_path, udhr_dir):
    report = tmp_path / "report.md"
    status, _, _ = run(
        capsys, "compare", "-t", "cl100k_base", "-t", "llama3", "--corpus", str(udhr_dir),
        "--reference", "eng", "--languages", "eng,fra,tur", "--format", "md", "-o", str(report),
    )  # fmt: skip
    text = report.read_text()
    assert status == 0
    assert "| fra | cl100k_base" in text or "| fra |" in text
    assert "Cheapest" in text
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]  # no temp file left


def test_compare_csv_has_raw_values(capsys, udhr_dir):
    status, out, _ = run(
        capsys, "compare", "-t", "o200k_base", "--corpus", str(udhr_dir), "--reference", "eng",
        "--languages", "eng", "--format", "csv",
    )  # fmt: skip
    header, row = out.strip().splitlines()
    assert status == 0
    assert header.startswith("tokenizer,language,tokens")
    assert row.split(",")[10] == "1.0"  # premium of the reference


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["count", "x", "-t", "o200k_bse"], "did you mean o200k_base"),
        (["count", "x", "-t", "./missing/tokenizer.json"], "does not exist"),
        (["compare", "-t", "o200k_base", "--corpus", "/nonexistent/corpus"], "does not exist"),
        (["count"], "give either a text or --file"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_reference_missing_from_folder(capsys, tmp_path):
    for language in ("eng", "fra"):
        (tmp_path / f"{language}.txt").write_text("one\ntwo\n")
    status, _, err = run(
        capsys, "compare", "-t", "o200k_base", "--corpus", str(tmp_path), "--reference", "deu"
    )
    assert status == 2 and "reference language 'deu' is not in" in err


def test_misaligned_parallel_folder_names_the_file(capsys, tmp_path):
    (tmp_path / "eng.txt").write_text("one\ntwo\nthree\n")
    (tmp_path / "fra.txt").write_text("un\ndeux\n")
    status, _, err = run(capsys, "compare", "-t", "o200k_base", "--corpus", str(tmp_path))
    assert status == 2 and "do not align" in err


def test_empty_corpus_and_invalid_utf8(capsys, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    status, _, err = run(capsys, "compare", "-t", "o200k_base", "--corpus", str(empty))
    assert status == 2 and "empty" in err
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xc3\x28\n")
    status, _, err = run(capsys, "count", "--file", str(bad), "-t", "o200k_base")
    assert status == 2 and "invalid UTF-8 at byte 3" in err
    status, out, _ = run(
        capsys, "count", "--file", str(bad), "-t", "o200k_base", "--errors", "replace"
    )
    assert status == 0


def test_unwritable_output_leaves_nothing(capsys, tmp_path):
    target = tmp_path / "no" / "such" / "folder" / "out.json"
    status, _, err = run(
        capsys, "count", "x", "-t", "o200k_base", "--format", "json", "-o", str(target)
    )
    assert status == 2 and "does not exist" in err
    assert not (tmp_path / "no").exists()


def test_the_installed_command_exits_2_without_traceback(tmp_path):
    corrupt = tmp_path / "tokenizer.json"
    corrupt.write_text('{"model": ')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(
        [sys.executable, "-m", "toksmith", "count", "x", "-t", str(corrupt)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "corrupt tokenizer JSON" in done.stderr and "Traceback" not in done.stderr
