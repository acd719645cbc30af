from __future__ import annotations

import json

import pytest

from toksmith.cli import audit as audit_cli
from toksmith.cli import audit_mixture, main


def run_json(capsys, *argv: str) -> dict:
    assert main(["audit", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_audit_vocab_json_lists_flagged_tokens_with_bytes_and_indicators(capsys):
    document = run_json(capsys, "vocab", "-t", "p50k_base")
    (tokenizer,) = document["tokenizers"]
    assert tokenizer["counts"]["invalid_utf8"] == 13
    entry = next(t for t in tokenizer["flagged"] if t["bytes_hex"] == "ff")
    assert entry["indicators"] == ["invalid_utf8"] and entry["printable"] == "\\xff"
    assert "unreachable" in document["indicators"]


def test_audit_vocab_with_minilm_weights_ranks_tokens(capsys, minilm_weights):
    document = run_json(
        capsys, "vocab", "-t", "minilm", "--weights", str(minilm_weights),
        "--embedding-key", "embeddings.word_embeddings.weight", "--top", "5",
    )  # fmt: skip
    weights = document["tokenizers"][0]["weights"]
    assert weights["shape"] == [30522, 384] and len(weights["ranking"]) == 5
    assert document["tokenizers"][0]["counts"]["undertrained"] > 0


def test_audit_vocab_bad_weights_exit_2_with_one_line(capsys, minilm_weights):
    status = main(
        ["audit", "vocab", "-t", "minilm", "--weights", str(minilm_weights),
         "--embedding-key", "lm_head.weight"]
    )  # fmt: skip
    error = capsys.readouterr().err
    assert status == 2 and error.startswith("toksmith: error:") and error.count("\n") == 1
    assert "no tensor named 'lm_head.weight'" in error


def test_audit_vocab_weights_of_another_model_is_a_shape_error(capsys, minilm_weights):
    status = main(
        ["audit", "vocab", "-t", "p50k_base", "--weights", str(minilm_weights),
         "--embedding-key", "embeddings.word_embeddings.weight"]
    )  # fmt: skip
    assert status == 2 and "30522 rows but the tokenizer has 50281 ids" in capsys.readouterr().err


def test_audit_numbers_markdown_names_each_scheme(capsys):
    assert main(["audit", "numbers", "-t", "cl100k_base", "-t", "mistral-sp-v3",
                 "--samples", "20", "--format", "md"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "| cl100k_base | left_to_right | 3 |" in out
    assert "| mistral-sp-v3 | single_digits | – |" in out


def test_audit_coverage_table_renders_in_the_terminal(capsys):
    assert main(["audit", "coverage", "-t", "minilm"]) == 0
    assert "Latn" in capsys.readouterr().out


def test_audit_morphology_unknown_language_exits_2(capsys):
    assert main(["audit", "morphology", "-t", "minilm", "--language", "klingon"]) == 2
    assert "unknown language 'klingon'" in capsys.readouterr().err


def test_audit_chars_emits_tasks_then_scores_answers(capsys, tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    assert main(["audit", "chars", "-t", "o200k_base", "--emit-tasks", "10",
                 "-o", str(tasks)]) == 0  # fmt: skip
    assert "Wrote 10 tasks" in capsys.readouterr().out
    records = [json.loads(line) for line in tasks.read_text("utf-8").splitlines()]
    answers = tmp_path / "answers.jsonl"
    answers.write_text(
        "".join(json.dumps({"id": r["id"], "answer": str(r["answer"])}) + "\n" for r in records),
        encoding="utf-8",
    )
    document = run_json(capsys, "chars", "--score", str(answers), "--tasks", str(tasks))
    assert document["accuracy"] == 1.0 and document["tasks"] == 10


# ---- shared options, ranges and input checks ----------------------------------------------------


def usage_error(capsys, argv: list[str]) -> str:
    """The one stderr line of a usage error (argparse exits 2 before any work)."""
    try:
        status = main(argv)
    except SystemExit as exit:  # argparse's own exit, when main() lets it through
        status = exit.code
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1
    assert error.startswith("toksmith: error:") and "Traceback" not in error
    return error


def user_error(capsys, argv: list[str]) -> str:
    """The one stderr line of a UserError (exit status 2)."""
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("toksmith: error:") and error.count("\n") == 1
    return error


@pytest.fixture
def no_tokenizer_loading(monkeypatch):
    """Fail the test if any audit command loads a tokenizer."""

    def refuse(*args, **kwargs):
        raise AssertionError("a tokenizer was loaded before the inputs were checked")

    monkeypatch.setattr(audit_cli, "load_tokenizers", refuse)
    monkeypatch.setattr(audit_mixture, "load_tokenizers", refuse)


def test_audit_mixture_sample_mb_nan_is_a_usage_error(capsys, tmp_path):
    error = usage_error(
        capsys, ["audit", "mixture", "-t", "o200k_base", "--categories", str(tmp_path),
                 "--sample-mb", "nan"],
    )  # fmt: skip
    assert "--sample-mb" in error and "finite" in error


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "vocab", "-t", "p50k_base", "--examples", "-1"],
        ["audit", "vocab", "-t", "p50k_base", "--top", "-3"],
        ["audit", "mixture", "-t", "o200k_base", "--categories", ".", "--merges", "0"],
        ["audit", "mixture", "-t", "o200k_base", "--categories", ".", "--replays", "-1"],
        ["audit", "chars", "-t", "o200k_base", "--emit-tasks", "0", "-o", "t.jsonl"],
        ["audit", "chars", "--emit-tasks", "10", "--kinds", "spell", "-o", "t.jsonl"],
        ["audit", "numbers", "-t", "cl100k_base", "--seed", "-1"],
        ["audit", "numbers", "-t", "cl100k_base", "--max-digits", "19"],
        ["audit", "coverage", "-t", "minilm", "--scripts", "abc"],
    ],
)
def test_audit_numeric_options_out_of_range_are_usage_errors(capsys, no_tokenizer_loading, argv):
    usage_error(capsys, argv)


def test_audit_vocab_examples_minus_one_is_refused_before_loading(capsys, no_tokenizer_loading):
    error = usage_error(capsys, ["audit", "vocab", "-t", "p50k_base", "--examples", "-1"])
    assert "--examples" in error and "at least 0" in error


@pytest.mark.parametrize(
    "command",
    [
        ["vocab", "-t", "p50k_base", "--corpus"],
        ["coverage", "-t", "minilm", "--corpus"],
        ["morphology", "-t", "minilm", "--language", "en", "--corpus"],
    ],
)
def test_audit_missing_corpus_fails_without_loading_a_tokenizer(
    capsys, tmp_path, no_tokenizer_loading, command
):
    error = user_error(capsys, ["audit", *command, str(tmp_path / "missing.txt")])
    assert "missing.txt" in error and "does not exist" in error


def test_audit_mixture_missing_categories_fails_without_loading_a_tokenizer(
    capsys, tmp_path, no_tokenizer_loading
):
    error = user_error(
        capsys, ["audit", "mixture", "-t", "o200k_base", "--categories", str(tmp_path / "no")]
    )
    assert "--categories" in error


def test_audit_missing_weights_file_fails_without_loading_a_tokenizer(
    capsys, tmp_path, no_tokenizer_loading
):
    error = user_error(
        capsys, ["audit", "vocab", "-t", "minilm", "--weights", str(tmp_path / "w.safetensors"),
                 "--embedding-key", "x"],
    )  # fmt: skip
    assert "w.safetensors" in error


def test_audit_output_that_is_its_corpus_is_refused(capsys, tmp_path, no_tokenizer_loading):
    corpus = tmp_path / "notes.txt"
    corpus.write_text("hello world\n", encoding="utf-8")
    error = user_error(
        capsys, ["audit", "vocab", "-t", "p50k_base", "--corpus", str(corpus), "-o", str(corpus)]
    )
    assert "would overwrite the input" in error
    assert corpus.read_text(encoding="utf-8") == "hello world\n"


def test_audit_output_in_a_missing_folder_is_refused_before_loading(
    capsys, tmp_path, no_tokenizer_loading
):
    error = user_error(
        capsys, ["audit", "numbers", "-t", "cl100k_base", "-o", str(tmp_path / "no" / "n.json")]
    )
    assert "does not exist" in error


def test_audit_chars_tasks_file_that_is_the_word_list_is_refused(
    capsys, tmp_path, no_tokenizer_loading
):
    words = tmp_path / "words.txt"
    words.write_text("strawberry\n", encoding="utf-8")
    error = user_error(
        capsys, ["audit", "chars", "-t", "o200k_base", "--emit-tasks", "3", "--words",
                 str(words), "-o", str(words)],
    )  # fmt: skip
    assert "would overwrite the input" in error


def test_audit_vocab_corpus_with_invalid_utf8_is_read_with_errors_replace(capsys, tmp_path):
    corpus = tmp_path / "bad.txt"
    corpus.write_bytes(b"hello \xff world\n")
    error = user_error(capsys, ["audit", "vocab", "-t", "p50k_base", "--corpus", str(corpus)])
    assert "--errors replace" in error
    document = run_json(
        capsys, "vocab", "-t", "p50k_base", "--corpus", str(corpus), "--errors", "replace"
    )
    assert document["tokenizers"][0]["corpus_tokens"] > 0


@pytest.mark.parametrize("command", ["coverage", "morphology", "vocab", "chars", "mixture"])
def test_audit_commands_that_read_text_take_errors_replace(command):
    from toksmith.cli import build_parser

    parser = build_parser()
    base = {
        "coverage": ["-t", "minilm"],
        "morphology": ["-t", "minilm", "--language", "en"],
        "vocab": ["-t", "minilm"],
        "chars": [],
        "mixture": ["-t", "minilm", "--categories", "."],
    }[command]
    args = parser.parse_args(["audit", command, *base, "--errors", "replace"])
    assert args.errors == "replace"


def test_audit_format_is_inferred_from_the_output_extension(capsys, tmp_path):
    output = tmp_path / "numbers.json"
    assert main(["audit", "numbers", "-t", "cl100k_base", "--samples", "3", "--max-digits", "2",
                 "-o", str(output)]) == 0  # fmt: skip
    assert json.loads(output.read_text("utf-8"))["tokenizers"][0]["tokenizer"] == "cl100k_base"


def test_audit_morphology_json_writes_null_for_a_corpus_without_words(capsys, tmp_path):
    corpus = tmp_path / "marks.txt"
    corpus.write_text("!!! ???\n... ---\n", encoding="utf-8")
    assert main(["audit", "morphology", "-t", "minilm", "--language", "en", "--corpus",
                 str(corpus), "--format", "json"]) == 0  # fmt: skip
    text = capsys.readouterr().out

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in the JSON")

    document = json.loads(text, parse_constant=refuse)
    assert document["results"][0]["fertility"] is None


def test_audit_terminal_report_shows_bracketed_tokens_as_themselves(capsys):
    assert main(["audit", "vocab", "-t", "minilm", "--examples", "2"]) == 0
    assert "[unused0]" in capsys.readouterr().out


def test_every_audit_option_has_help():
    import argparse

    from toksmith.cli import build_parser

    def subcommands(parser: argparse.ArgumentParser) -> dict:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices
        return {}

    audit = subcommands(build_parser("audit"))["audit"]
    missing = [
        f"audit {name} {action.option_strings[0]}"
        for name, parser in subcommands(audit).items()
        for action in parser._actions
        if action.option_strings and not action.help
    ]
    assert missing == []


def test_audit_vocab_reference_id_outside_the_vocabulary_is_one_line(capsys, minilm_weights):
    error = user_error(
        capsys, ["audit", "vocab", "-t", "minilm", "--weights", str(minilm_weights),
                 "--embedding-key", "embeddings.word_embeddings.weight",
                 "--reference-ids", "1,99999"],
    )  # fmt: skip
    assert "id 99999 is not in the vocabulary" in error


def test_audit_morphology_unknown_language_fails_before_loading(capsys, no_tokenizer_loading):
    error = user_error(capsys, ["audit", "morphology", "-t", "all", "--language", "klingon"])
    assert "unknown language 'klingon'" in error
