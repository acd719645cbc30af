"""train and sweep from the command line: every number checked before any work, outputs apart
from the corpus, --force, the umask, and Ctrl-C during a long training."""

from __future__ import annotations

import _thread
import contextlib
import os
import stat
import threading
from pathlib import Path

import pytest

import toksmith.cli.train as cli_train
import toksmith.files
import toksmith.train.run as run
from toksmith.cli import main
from toksmith.train.sweep import SweepChoice, SweepPoint, SweepResult


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "corpus.txt")


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("some training text, some more text\n" * 50, encoding="utf-8")
    return path


@pytest.fixture
def no_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("training started before the options were checked")

    monkeypatch.setattr(cli_train, "train_tokenizer", refuse)
    monkeypatch.setattr(cli_train, "sweep_vocab_sizes", refuse)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("toksmith: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--vocab-size", "abc"], "--vocab-size"),
        (["--vocab-size", "99999999999"], "--vocab-size"),
        (["--vocab-size", "0"], "--vocab-size"),
        (["--min-frequency", "-1"], "--min-frequency"),
        (["--lib-epochs", "0"], "--lib-epochs"),
        (["--max-token-length", "0"], "--max-token-length"),
        (["--max-token-length", "x"], "--max-token-length"),
        (["--transition", "-5"], "--transition"),
        (["--superword-max-subwords", "1"], "--superword-max-subwords"),
        (["--seed", "-1"], "--seed"),
        (["--temperature", "nan"], "--temperature"),
        (["--temperature", "0"], "--temperature"),
    ],
)
def test_train_numbers_are_checked_before_training(
    tmp_path, corpus, capsys, no_training, extra, option
):
    status = main(["train", "--corpus", str(corpus), "-o", str(tmp_path / "out"), *extra])
    assert status == 2
    assert option in one_line_error(capsys)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--vocab-sizes", "8k,abc"], "--vocab-sizes"),
        (["--vocab-sizes", "1000,99999999999"], "--vocab-sizes"),
        (["--vocab-sizes", "1000", "--tolerance", "1.5"], "--tolerance"),
        (["--vocab-sizes", "1000", "--tolerance", "nan"], "--tolerance"),
        (["--vocab-sizes", "1000", "--plot", "sweep.gif"], "--plot"),
    ],
)
def test_sweep_numbers_and_plot_extension_are_checked_before_training(
    tmp_path, corpus, capsys, no_training, extra, option
):
    status = main(["sweep", "--corpus", str(corpus), "--eval", str(corpus),
                   "--out-dir", str(tmp_path / "runs"), *extra])  # fmt: skip
    assert status == 2
    assert option in one_line_error(capsys)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("option", ["--special-token", "--pattern"])
def test_train_text_option_with_invalid_utf8_is_a_one_line_error(
    tmp_path, corpus, capsys, no_training, option
):
    # "a\udcff" is what argv gives for the bytes b"a\xff"
    status = main(["train", "--corpus", str(corpus), "-o", str(tmp_path / "out"), option,
                   "a\udcff"])  # fmt: skip
    assert status == 2
    assert f"{option} is not valid Unicode" in one_line_error(capsys)


def test_train_refuses_a_missing_corpus_before_training(tmp_path, capsys, no_training):
    status = main(["train", "--corpus", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "o")])
    assert status == 2 and "does not exist" in one_line_error(capsys)


def test_train_refuses_output_folder_inside_the_corpus_folder(
    tmp_path, corpus, capsys, no_training
):
    status = main(["train", "--corpus", str(tmp_path), "-o", str(tmp_path / "tok")])
    assert status == 2 and "would overwrite the input" in one_line_error(capsys)
    assert leftovers(tmp_path) == []


def test_train_refuses_output_folder_holding_the_corpus(tmp_path, capsys, no_training):
    folder = tmp_path / "tok"
    folder.mkdir()
    inside = folder / "tokenizer.json"  # a name a trained folder may hold: it would be replaced
    inside.write_text("some text\n", encoding="utf-8")
    status = main(["train", "--corpus", str(inside), "-o", str(folder), "--force"])
    assert status == 2 and "would overwrite the input" in one_line_error(capsys)
    assert inside.read_text(encoding="utf-8") == "some text\n"


def test_sweep_refuses_out_dir_that_is_the_corpus_folder(tmp_path, corpus, capsys, no_training):
    status = main(["sweep", "--corpus", str(corpus), "--eval", str(corpus), "--vocab-sizes",
                   "300", "--out-dir", str(tmp_path)])  # fmt: skip
    assert status == 2 and "would overwrite the input" in one_line_error(capsys)


def test_train_refuses_an_existing_trained_folder_without_force(tmp_path, corpus, capsys):
    out = tmp_path / "out"
    argv = ["train", "--corpus", str(corpus), "-o", str(out), "--vocab-size", "300"]
    assert main(argv) == 0
    first = (out / "toksmith.json").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(argv) == 2
    assert "--force" in one_line_error(capsys)
    assert (out / "toksmith.json").read_text(encoding="utf-8") == first
    assert main([*argv, "--force"]) == 0


def test_trained_folder_and_files_get_the_mode_of_the_umask(tmp_path, corpus, capsys):
    clear = getattr(toksmith.files._umask, "cache_clear", lambda: None)
    old = os.umask(0o027)
    clear()
    try:
        assert main(["train", "--corpus", str(corpus), "-o", str(tmp_path / "out"),
                     "--vocab-size", "300"]) == 0  # fmt: skip
    finally:
        os.umask(old)
        clear()
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o750
    for name in ("tokenizer.json", "toksmith.json"):
        assert stat.S_IMODE((tmp_path / "out" / name).stat().st_mode) == 0o640


def test_ctrl_c_stops_a_training_that_ignores_it_and_leaves_no_tmp_folder(
    tmp_path, corpus, capsys, monkeypatch
):
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    train_hf = run.train_hf

    def stubborn_train(settings, texts):
        # Like HF's Rust trainer: a Ctrl-C on its thread waits until it has finished.
        started.set()
        for _ in range(100):  # at most ~5 s, so a failing test still ends
            if release.is_set():
                break
            with contextlib.suppress(KeyboardInterrupt):
                release.wait(0.05)
        finished.set()
        return train_hf(settings, texts)

    monkeypatch.setattr(run, "train_hf", stubborn_train)

    def press_ctrl_c() -> None:
        if started.wait(10):
            _thread.interrupt_main()

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    try:
        status = main(["train", "--corpus", str(corpus), "-o", str(tmp_path / "out"),
                       "--vocab-size", "300"])  # fmt: skip
        assert status == 130
        assert not finished.is_set()  # returned while the trainer was still running
        assert leftovers(tmp_path) == []  # no output folder, no .tmp staging folder
    finally:
        release.set()


def test_failed_sweep_leaves_no_empty_out_dir(tmp_path, corpus, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("toksmith.train.sweep.train_tokenizer", broken)
    status = main(["sweep", "--corpus", str(corpus), "--eval", str(corpus), "--vocab-sizes",
                   "300", "--out-dir", str(tmp_path / "runs")])  # fmt: skip
    assert status == 130
    assert leftovers(tmp_path) == []


def test_sweep_csv_header_is_the_field_names(tmp_path, corpus, capsys, monkeypatch):
    points = [SweepPoint(300, "all", 10, 40, 4.0), SweepPoint(400, "all", 9, 40, 4.44)]
    result = SweepResult("bpe", [300, 400], 0.01, points,
                         [SweepChoice("all", 400, 4.44, 400, 4.44)], [])  # fmt: skip
    monkeypatch.setattr(cli_train, "sweep_vocab_sizes", lambda *args, **kwargs: result)
    status = main(["sweep", "--corpus", str(corpus), "--eval", str(corpus), "--vocab-sizes",
                   "300,400", "--out-dir", str(tmp_path / "runs"), "--format", "csv"])  # fmt: skip
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "vocab_size,language,tokens,bytes,bytes_per_token,chosen"
    assert lines[1].startswith("300,all,10,40,4.0")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("(a+)+$", "backtracks catastrophically"), ("(abc", "does not compile")],
)
def test_a_bad_custom_pattern_is_refused_before_training(
    capsys, tmp_path, corpus, no_training, pattern, expected
):
    status = main(
        ["train", "--vocab-size", "300", "--pattern", pattern, "--corpus", str(corpus),
         "-o", str(tmp_path / "tok")]
    )  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and err[0].startswith("toksmith: error: ") and expected in err[0]
    assert not (tmp_path / "tok").exists()
