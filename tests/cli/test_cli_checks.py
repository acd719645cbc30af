"""count, list, compare and demo: outputs never overwrite inputs, inputs and numbers are checked
before any tokenizer loads, JSON is valid, command-line text is checked, CSV headers are field
names."""

from __future__ import annotations

import json

import pytest

import toksmith.tokenizers
from toksmith.cli import main
from toksmith.errors import UserError


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status: int, err: str, message: str) -> None:
    assert status == 2
    assert err.startswith("toksmith: error: ") and err.count("\n") == 1, err
    assert message in err and "Traceback" not in err


@pytest.fixture
def no_loading(monkeypatch):
    """Fail the test if any tokenizer is loaded."""

    def refuse(*args, **kwargs):
        raise AssertionError("a tokenizer was loaded before the inputs were checked")

    monkeypatch.setattr(toksmith.tokenizers, "load_tokenizer", refuse)
    monkeypatch.setattr(toksmith.tokenizers, "load_tokenizers", refuse, raising=False)


@pytest.fixture
def notes(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Notes\nTokens are what models read.\n", encoding="utf-8")
    return path


def test_count_refuses_output_that_is_its_input(capsys, notes, no_loading):
    before = notes.read_bytes()
    status, _, err = run(capsys, "count", "--file", str(notes), "-o", str(notes))
    assert_one_line_error(status, err, "would overwrite the input")
    assert notes.read_bytes() == before


def test_count_refuses_a_symlink_output_pointing_to_its_input(capsys, notes, no_loading):
    link = notes.parent / "link.md"
    link.symlink_to(notes)
    status, _, err = run(capsys, "count", "--file", str(notes), "-o", str(link))
    assert_one_line_error(status, err, "would overwrite the input")
    assert link.is_symlink()


def test_count_refuses_output_inside_its_input_folder(capsys, notes, no_loading):
    status, _, err = run(capsys, "count", "--file", str(notes.parent), "-o", str(notes))
    assert_one_line_error(status, err, "would overwrite the input")


def test_compare_refuses_output_that_is_its_corpus(capsys, tmp_path, no_loading):
    corpus = tmp_path / "x.txt"
    corpus.write_text("one line\n", encoding="utf-8")
    status, _, err = run(capsys, "compare", "-t", "cl100k_base", "--corpus", str(corpus),
                         "-o", str(corpus))  # fmt: skip
    assert_one_line_error(status, err, "would overwrite the input")
    assert corpus.read_text(encoding="utf-8") == "one line\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["count", "--file", "/nonexistent/notes.md"], "does not exist"),
        (["count", "x", "-o", "/nonexistent/folder/out.json"], "does not exist"),
        (["compare", "--corpus", "/nonexistent/corpus"], "does not exist"),
        (["compare", "-o", "/nonexistent/folder/report.md"], "does not exist"),
    ],
)
def test_missing_input_or_unwritable_output_fails_before_loading_tokenizers(
    capsys, no_loading, argv, message
):
    status, _, err = run(capsys, *argv)
    assert_one_line_error(status, err, message)


@pytest.mark.parametrize("top_n", ["0", "-1", "abc"])
def test_demo_top_n_must_be_a_positive_number(capsys, no_loading, top_n):
    status, _, err = run(capsys, "demo", "--top-n", top_n)
    assert_one_line_error(status, err, "--top-n")


def test_count_json_of_empty_text_is_valid_json(capsys):
    status, out, _ = run(capsys, "count", "", "-t", "cl100k_base", "--format", "json")
    assert status == 0
    row = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))["results"][0]
    assert row["tokens"] == 0 and row["fertility"] is None


def test_count_format_is_inferred_from_the_output_extension(capsys, tmp_path):
    report = tmp_path / "count.json"
    status, _, _ = run(capsys, "count", "hello", "-t", "cl100k_base", "-o", str(report))
    assert status == 0
    assert json.loads(report.read_text(encoding="utf-8"))["results"][0]["tokens"] == 1


def test_count_text_argument_with_invalid_utf8_is_a_one_line_error(capsys, no_loading):
    status, _, err = run(capsys, "count", "abc\udcff")  # what argv gives for b"abc\xff"
    assert_one_line_error(status, err, "text argument is not valid Unicode")


def test_count_text_argument_with_invalid_utf8_is_replaced_with_errors_replace(capsys):
    status, out, _ = run(capsys, "count", "abc\udcff", "-t", "cl100k_base", "--errors",
                         "replace", "--format", "json")  # fmt: skip
    assert status == 0
    assert json.loads(out)["results"][0]["bytes"] == len(b"abc\xff")  # the argument's bytes


def test_count_csv_header_is_the_field_names(capsys):
    status, out, _ = run(capsys, "count", "hello", "-t", "cl100k_base", "--format", "csv")
    assert status == 0
    assert out.splitlines()[0] == (
        "tokenizer,tokens,bytes,chars,words,bytes_per_token,chars_per_token,fertility"
    )


def test_special_policy_is_passed_to_the_loader(capsys, monkeypatch):
    seen = []

    def record(specs, special="text", **options):
        seen.append(special)
        raise UserError("stop here")

    monkeypatch.setattr(toksmith.tokenizers, "load_tokenizers", record, raising=False)
    for policy in ("text", "allow"):
        status, _, _ = run(capsys, "count", "x", "-t", "cl100k_base", "--special", policy)
        assert status == 2
    assert seen == ["text", "allow"]


def test_special_policy_must_be_text_or_allow(capsys, no_loading):
    status, _, err = run(capsys, "count", "x", "--special", "maybe")
    assert_one_line_error(status, err, "--special")


def test_count_file_counts_the_bytes_of_the_file_under_errors_replace(capsys, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok\n\xff\n")
    status, out, _ = run(capsys, "count", "--file", str(path), "-t", "cl100k_base", "--errors",
                         "replace", "--format", "json")  # fmt: skip
    assert status == 0
    data = json.loads(out)
    assert data["results"][0]["bytes"] == len(path.read_bytes())
    assert data["replaced_bytes"] == 1


def test_count_special_allow_counts_a_special_token_string_as_one_token(capsys):
    counts = {}
    for policy in ("text", "allow"):
        status, out, _ = run(capsys, "count", "<|endoftext|>", "-t", "cl100k_base", "--special",
                             policy, "--format", "json")  # fmt: skip
        assert status == 0
        counts[policy] = json.loads(out)["results"][0]["tokens"]
    assert counts["allow"] == 1 and counts["text"] > 1
