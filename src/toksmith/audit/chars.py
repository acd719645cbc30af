"""Character-level tasks ("how many r in strawberry") and a scorer for a model's answers.

Task kinds follow "CharBench: Evaluating the Role of Tokenization in Character-Level Tasks"
(2025): counting a character in a word and locating its first occurrence. Each task records how
every given tokenizer cuts the target word and whether the asked character sits inside a
multi-character token, the property "Counting Ability of Large Language Models and Impact of
Tokenization" (2024) finds decisive; the scorer splits accuracy by those properties.
Deviation: words come from a word list only (CharBench also uses sentences), and only letters
are asked about.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import regex

from toksmith.errors import UserError, read_text_lines
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

TASK_KINDS = ("count", "locate")
_INTEGER = regex.compile(r"-?\d+")
_WORD = regex.compile(r"^\p{L}+$")


@dataclass(frozen=True)
class TokenView(Result):
    """How one tokenizer cuts the target word, seen from the asked character."""

    tokens: list[str]
    occurrences_in_multichar_tokens: int  # occurrences of the character inside tokens of 2+ chars
    target_in_multichar_token: bool  # for count: all occurrences; for locate: the first one


@dataclass(frozen=True)
class CharTask(Result):
    id: str
    kind: str  # "count" or "locate"
    word: str
    char: str
    prompt: str
    answer: int
    tokenization: dict[str, TokenView] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The task as one line of the tasks JSONL."""
        return {
            "id": self.id,
            "task": self.kind,
            "word": self.word,
            "char": self.char,
            "prompt": self.prompt,
            "answer": self.answer,
            "tokenization": {
                name: {
                    "tokens": view.tokens,
                    "n_tokens": len(view.tokens),
                    "occurrences_in_multichar_tokens": view.occurrences_in_multichar_tokens,
                    "target_in_multichar_token": view.target_in_multichar_token,
                }
                for name, view in self.tokenization.items()
            },
        }


def default_words(count: int = 5000) -> list[str]:
    """The most frequent English words of 4+ letters, from the ``wordfreq`` package."""
    import wordfreq

    words = wordfreq.top_n_list("en", count * 3)
    return [word for word in words if len(word) >= 4 and _WORD.match(word)][:count]


def read_words(path: str | Path, errors: str = "strict") -> list[str]:
    """One word per line (a second tab-separated column, e.g. a frequency, is ignored);
    lines that are not a single word of letters are skipped. ``errors="replace"`` replaces
    invalid UTF-8 (such a line is then no word and skipped)."""
    lines = read_text_lines(path, "word list", errors)
    words = [line.split("\t", 1)[0].strip() for line in lines]
    words = [word for word in words if len(word) >= 2 and _WORD.match(word)]
    if not words:
        raise UserError(f"word list {path} holds no words (one word of letters per line)")
    return words


def token_spans(tokenizer: Tokenizer, word: str) -> list[tuple[str, int, int]]:
    """Each token of ``word`` (as after a space) with its character span in the word.

    When the token bytes spell the word exactly, spans come from byte offsets, and a token that
    ends inside a character extends to the end of that character. A normalizing tokenizer
    (lowercasing, accent stripping) spells something else; its spans are counted in characters
    of the token texts, which keeps them right as long as normalization keeps the number of
    characters. Leading whitespace and WordPiece ``##`` marks belong to no span.
    """
    ids = tokenizer.encode_word(word)
    prefix = tokenizer.continuation_prefix
    pieces: list[bytes] = []
    for position, token_id in enumerate(ids):
        piece = tokenizer.vocab_bytes[token_id]
        if position == 0:
            piece = piece.lstrip()
        if prefix and tokenizer.decode([token_id]).startswith(prefix):
            piece = piece.removeprefix(prefix.encode())
        pieces.append(piece)
    data = word.encode("utf-8")
    spans: list[tuple[str, int, int]] = []
    offset = 0
    if b"".join(pieces) == data:
        for piece in pieces:
            start = len(data[:offset].decode("utf-8", errors="ignore"))
            offset += len(piece)
            end = len(data[:offset].decode("utf-8", errors="replace").rstrip("\ufffd"))
            end = max(end, start + 1)
            spans.append((piece.decode("utf-8", errors="replace"), start, min(end, len(word))))
        return spans
    for piece in pieces:
        text = piece.decode("utf-8", errors="replace")
        spans.append((text, min(offset, len(word)), min(offset + len(text), len(word))))
        offset += len(text)
    return spans


def token_view(tokenizer: Tokenizer, word: str, char: str, kind: str) -> TokenView:
    """Where the occurrences of ``char`` in ``word`` fall among the word's tokens."""
    spans = token_spans(tokenizer, word)
    positions = [i for i, c in enumerate(word) if c == char]

    def in_multichar(position: int) -> bool:
        for _, start, end in spans:
            if start <= position < end:
                return end - start >= 2
        return False

    inside = [in_multichar(p) for p in positions]
    target = inside[0] if kind == "locate" else all(inside)
    return TokenView(
        tokens=[text for text, _, _ in spans],
        occurrences_in_multichar_tokens=sum(inside),
        target_in_multichar_token=bool(target and positions),
    )


def make_tasks(
    words: Sequence[str],
    tokenizers: Sequence[Tokenizer],
    *,
    count: int,
    seed: int = 0,
    kinds: Sequence[str] = TASK_KINDS,
) -> list[CharTask]:
    """``count`` tasks alternating over ``kinds``, on words drawn at random (with ``seed``)
    from ``words``; the asked character is a letter of the word, drawn at random."""
    if not words:
        raise UserError("no words to make character tasks from")
    for kind in kinds:
        if kind not in TASK_KINDS:
            raise UserError(f"unknown task kind {kind!r}; expected one of {', '.join(TASK_KINDS)}")
    rng = random.Random(seed)
    tasks = []
    for number in range(count):
        kind = kinds[number % len(kinds)]
        word = rng.choice(words)
        char = rng.choice(sorted(set(word)))
        if kind == "count":
            prompt = f'How many times does the letter "{char}" appear in the word "{word}"? '
            prompt += "Answer with a number only."
            answer = word.count(char)
        else:
            prompt = (
                f'At which position does the letter "{char}" first appear in the word "{word}"? '
                "Count from 1 and answer with a number only."
            )
            answer = word.index(char) + 1
        tasks.append(
            CharTask(
                id=f"{kind}-{number:05d}",
                kind=kind,
                word=word,
                char=char,
                prompt=prompt,
                answer=answer,
                tokenization={t.name: token_view(t, word, char, kind) for t in tokenizers},
            )
        )
    return tasks


def tasks_jsonl(tasks: Iterable[CharTask]) -> str:
    """One JSON object per line, ready to send to a model (the ``prompt`` field)."""
    from toksmith.report.output import to_json

    return "".join(to_json(task, indent=None) + "\n" for task in tasks)


@dataclass(frozen=True)
class TokenizerTasks(Result):
    """How one tokenizer cuts the target words of a task set."""

    tokenizer: str
    tasks: int
    char_inside_multichar_token: int  # tasks whose asked character sits inside a 2+ char token
    mean_tokens_per_word: float


@dataclass
class TaskSet(Result):
    """``toksmith audit chars --emit-tasks``: the tasks file written and, per tokenizer, how
    often the asked character is hidden inside a multi-character token."""

    tasks_file: str
    tasks: int
    tokenizers: list[TokenizerTasks]


def summarize_tasks(
    tasks: Sequence[CharTask], tokenizers: Sequence[str], tasks_file: str
) -> TaskSet:
    """Per tokenizer name (one each task was made with): tasks, tasks with the character
    inside a multi-character token, and mean tokens per target word."""
    rows = []
    for name in tokenizers:
        views = [task.tokenization[name] for task in tasks]
        inside = sum(view.target_in_multichar_token for view in views)
        mean_tokens = sum(len(view.tokens) for view in views) / len(views) if views else math.nan
        rows.append(TokenizerTasks(name, len(views), inside, mean_tokens))
    return TaskSet(tasks_file=tasks_file, tasks=len(tasks), tokenizers=rows)


def _read_jsonl(path: str | Path, what: str) -> list[dict]:
    lines = read_text_lines(path, what)
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise UserError(f"{path}: line {number} is not JSON") from None
        if not isinstance(record, dict) or "id" not in record:
            raise UserError(f"{path}: line {number} is not an object with an 'id' field")
        records.append(record)
    if not records:
        raise UserError(f"{what} file {path} is empty")
    return records


def parse_answer(value: object) -> int | None:
    """The integer a model answered: a JSON number, or the first integer in its text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        match = _INTEGER.search(value)
        return int(match.group()) if match else None
    return None


@dataclass(frozen=True)
class Split(Result):
    """Accuracy of one group of tasks."""

    group: str
    tasks: int
    correct: int

    def to_dict(self) -> dict:
        return super().to_dict() | {"accuracy": self.accuracy}

    @property
    def accuracy(self) -> float:
        return self.correct / self.tasks if self.tasks else math.nan


@dataclass
class CharScore(Result):
    tasks: int
    answered: int
    correct: int
    splits: list[Split]

    def to_dict(self) -> dict:
        """The score with its accuracy, as the JSON reports it."""
        return {
            "tasks": self.tasks,
            "answered": self.answered,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "splits": [split.to_dict() for split in self.splits],
        }

    @property
    def accuracy(self) -> float:
        """Correct answers over all tasks (a missing or unreadable answer counts as wrong)."""
        return self.correct / self.tasks if self.tasks else math.nan


def score_answers(
    tasks_path: str | Path, answers_path: str | Path, *, answer_field: str = "answer"
) -> CharScore:
    """Compare a model's answers (JSONL of ``{"id", "answer"}``) with the tasks' answers.

    Accuracy is split by task kind, by whether the asked character sits inside a
    multi-character token and by the number of tokens of the word, for each tokenizer the
    tasks were made with.
    """
    tasks = {record["id"]: record for record in _read_jsonl(tasks_path, "tasks")}
    given: dict[str, int | None] = {}
    for record in _read_jsonl(answers_path, "answers"):
        if record["id"] not in tasks:
            raise UserError(f"{answers_path}: answer for unknown task id {record['id']!r}")
        given[record["id"]] = parse_answer(record.get(answer_field))
    groups: dict[str, list[bool]] = defaultdict(list)
    correct_total = 0
    for task_id, task in tasks.items():
        if "answer" not in task or "task" not in task:
            raise UserError(f"{tasks_path}: task {task_id!r} lacks 'task' or 'answer'")
        correct = given.get(task_id) == task["answer"]
        correct_total += correct
        groups[f"task={task['task']}"].append(correct)
        for name, view in (task.get("tokenization") or {}).items():
            inside = "inside" if view.get("target_in_multichar_token") else "alone"
            groups[f"{name}: char {inside} multi-char token"].append(correct)
            n_tokens = int(view.get("n_tokens", len(view.get("tokens", []))))
            groups[
                f"{name}: word in {min(n_tokens, 4)}{'+' if n_tokens >= 4 else ''} tokens"
            ].append(correct)
    splits = [Split(group, len(values), sum(values)) for group, values in sorted(groups.items())]
    return CharScore(
        tasks=len(tasks),
        answered=sum(1 for value in given.values() if value is not None),
        correct=correct_total,
        splits=splits,
    )
