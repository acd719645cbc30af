from __future__ import annotations

import json

from toksmith.cli import main


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
