from __future__ import annotations

from pathlib import Path

import pytest

from toksmith.cli import main
from toksmith.errors import UserError
from toksmith.train import TrainSettings, train_tokenizer


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "corpus.txt")


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("some training text, some more text\n" * 50, encoding="utf-8")
    return path


def test_empty_corpus_is_a_user_error_and_leaves_no_folder(tmp_path):
    empty = tmp_path / "corpus.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(UserError, match="empty"):
        train_tokenizer(TrainSettings(vocab_size=1000), tmp_path / "out", corpus=[empty])
    assert leftovers(tmp_path) == []


def test_vocabulary_smaller_than_the_byte_alphabet_is_refused(tmp_path, corpus):
    with pytest.raises(UserError, match="base alphabet"):
        train_tokenizer(TrainSettings(vocab_size=200), tmp_path / "out", corpus=[corpus])
    assert leftovers(tmp_path) == []


def test_transition_at_or_above_the_vocabulary_size_is_refused(tmp_path, corpus):
    settings = TrainSettings(algorithm="superbpe", vocab_size=1000, transition=1000)
    with pytest.raises(UserError, match="transition 1000"):
        train_tokenizer(settings, tmp_path / "out", corpus=[corpus])


def test_unwritable_output_folder_is_a_user_error(tmp_path, corpus):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(UserError, match="cannot write"):
        train_tokenizer(TrainSettings(vocab_size=1000), blocker / "out", corpus=[corpus])


def test_folder_with_foreign_files_is_not_replaced(tmp_path, corpus):
    target = tmp_path / "out"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UserError, match="other files"):
        train_tokenizer(TrainSettings(vocab_size=1000), target, corpus=[corpus])
    assert (target / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_failure_during_training_leaves_no_partial_folder(tmp_path, corpus, monkeypatch):
    import toksmith.train.run as run

    def broken(*args, **kwargs):
        raise UserError("boom")

    monkeypatch.setattr(run, "train_hf", broken)
    with pytest.raises(UserError, match="boom"):
        train_tokenizer(TrainSettings(vocab_size=1000), tmp_path / "out", corpus=[corpus])
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "extra",
    [
        ["--vocab-size", "100"],
        ["--algorithm", "superbpe", "--vocab-size", "1000", "--transition", "2000"],
        ["--pattern", "(unclosed", "--vocab-size", "1000"],
    ],
)
def test_cli_bad_input_exits_2_with_one_line_and_no_folder(tmp_path, corpus, capsys, extra):
    status = main(["train", "--corpus", str(corpus), "-o", str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("toksmith: error: ") and err.count("\n") == 1
    assert leftovers(tmp_path) == []


def test_cli_unwritable_output_exits_2(tmp_path, corpus, capsys):
    status = main(["train", "--corpus", str(corpus), "-o", str(corpus / "out")])
    assert status == 2
    assert "cannot write" in capsys.readouterr().err


def test_cli_trains_and_replaces_its_own_folder(tmp_path, corpus, capsys):
    out = tmp_path / "out"
    for force in ([], ["--force"]):
        argv = ["train", "--corpus", str(corpus), "-o", str(out), "--vocab-size", "300", *force]
        assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == ["tokenizer.json", "toksmith.json"]
    assert leftovers(tmp_path) == ["out"]


def test_train_tokenizer_refuses_an_output_folder_inside_the_corpus_folder(tmp_path, corpus):
    with pytest.raises(UserError, match="would overwrite the input"):
        train_tokenizer(TrainSettings(vocab_size=300), tmp_path / "tok", corpus=[tmp_path])
    assert leftovers(tmp_path) == []


def test_special_token_that_is_not_unicode_is_a_user_error(tmp_path, corpus):
    settings = TrainSettings(vocab_size=300, special_tokens=("a\udcff",))
    with pytest.raises(UserError, match="not valid Unicode"):
        train_tokenizer(settings, tmp_path / "out", corpus=[corpus])
