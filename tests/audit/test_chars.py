from __future__ import annotations

import json

import pytest

from toksmith.audit.chars import make_tasks, parse_answer, score_answers, tasks_jsonl, token_view
from toksmith.errors import UserError
from toksmith.tokenizers import load_tokenizer


def test_strawberry_r_sits_inside_multi_character_tokens_for_gpt4o():
    view = token_view(load_tokenizer("o200k_base"), "strawberry", "r", "count")
    assert "".join(view.tokens) == "strawberry"
    assert view.occurrences_in_multichar_tokens == 3 and view.target_in_multichar_token


def test_single_character_tokens_leave_the_character_alone():
    view = token_view(load_tokenizer("mistral-sp-v1"), "日本語", "本", "locate")
    assert view.tokens == ["日", "本", "語"] and not view.target_in_multichar_token


def test_tasks_have_correct_answers_and_alternate_kinds():
    tasks = make_tasks(["strawberry", "banana"], [load_tokenizer("cl100k_base")], count=40)
    assert {task.kind for task in tasks} == {"count", "locate"}
    for task in tasks:
        if task.kind == "count":
            assert task.answer == task.word.count(task.char) >= 1
        else:
            assert task.word[task.answer - 1] == task.char
            assert task.char not in task.word[: task.answer - 1]
        assert task.char in task.prompt and task.word in task.prompt
    line = json.loads(tasks_jsonl(tasks[:1]))
    assert line["tokenization"]["cl100k_base"]["n_tokens"] >= 1


@pytest.mark.parametrize(
    ("answer", "parsed"),
    [(3, 3), ("3", 3), ("There are 3 r's.", 3), ("three", None), (True, None), (2.0, 2)],
)
def test_answers_are_read_as_the_first_integer(answer, parsed):
    assert parse_answer(answer) == parsed


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def test_scorer_splits_accuracy_by_token_properties(tmp_path):
    tasks = make_tasks(["strawberry", "日本語"], [load_tokenizer("mistral-sp-v1")], count=20)
    tasks_path = tmp_path / "tasks.jsonl"
    tasks_path.write_text(tasks_jsonl(tasks), encoding="utf-8")
    # a "model" that is right exactly when the character stands alone in its token
    answers = [
        {
            "id": t.id,
            "answer": t.answer
            if not t.tokenization["mistral-sp-v1"].target_in_multichar_token
            else -1,
        }
        for t in tasks
    ]
    _write(tmp_path / "answers.jsonl", answers[:-1])  # one task left unanswered
    score = score_answers(tasks_path, tmp_path / "answers.jsonl")
    splits = {split.group: split for split in score.splits}
    assert splits["mistral-sp-v1: char inside multi-char token"].accuracy == 0.0
    alone = splits["mistral-sp-v1: char alone multi-char token"]
    assert alone.correct >= alone.tasks - 1 and alone.tasks > 0
    assert score.tasks == 20 and score.answered == 19


def test_answer_for_an_unknown_task_is_a_user_error(tmp_path):
    tasks_path = tmp_path / "tasks.jsonl"
    tasks_path.write_text(tasks_jsonl(make_tasks(["word"], [], count=2)), encoding="utf-8")
    _write(tmp_path / "answers.jsonl", [{"id": "nope", "answer": 1}])
    with pytest.raises(UserError, match="unknown task id 'nope'"):
        score_answers(tasks_path, tmp_path / "answers.jsonl")
    (tmp_path / "bad.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(UserError, match="line 1 is not JSON"):
        score_answers(tasks_path, tmp_path / "bad.jsonl")
