"""lm and bridge from the command line: numbers and weights checked before any model loads,
outputs apart from inputs, the umask, valid JSON, command-line text, CSV headers."""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import pytest

import toksmith.bridge
import toksmith.files
from toksmith.bridge.bytelevel import ByteLevelModel
from toksmith.bridge.ensemble import ensemble_score
from toksmith.cli import main
from toksmith.errors import UserError


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("toksmith: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def no_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the options were checked")

    monkeypatch.setattr(toksmith.bridge, "load_lm", refuse)
    monkeypatch.setattr(toksmith.bridge, "train_ngram", refuse)
    monkeypatch.setattr("toksmith.bridge.lm.train_ngram", refuse)


@pytest.fixture
def lm_folder(o200k_lm, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lm") / "lm"
    o200k_lm.save(folder)
    return folder


@pytest.fixture
def text_file(tmp_path, held_out_sources) -> Path:
    path = tmp_path / "sample.py"
    path.write_text(held_out_sources[1][1][:120], encoding="utf-8")
    return path


@pytest.mark.parametrize("weight", ["inf", "nan", "-1", "0", "x"])
def test_ensemble_rejects_a_weight_that_is_not_positive_and_finite(
    lm_folder, text_file, capsys, no_loading, weight
):
    status = main(["bridge", "ensemble", "--lm", str(lm_folder), "--lm", str(lm_folder),
                   "--text", str(text_file), "--weights", weight, "1"])  # fmt: skip
    assert status == 2
    assert "--weights" in one_line_error(capsys)


def test_ensemble_score_rejects_an_infinite_weight(toy_lm):
    models = [ByteLevelModel(toy_lm(0)), ByteLevelModel(toy_lm(1))]
    with pytest.raises(UserError, match="positive finite"):
        ensemble_score(models, b"abc", weights=[math.inf, 1.0])


@pytest.mark.parametrize(
    "argv",
    [
        ["bridge", "fim-eval", "--corpus", "CORPUS", "--context-bytes", "-1"],
        ["bridge", "fim-eval", "--corpus", "CORPUS", "--n", "0"],
        ["bridge", "fim-eval", "--corpus", "CORPUS", "--k", "0"],
        ["bridge", "fim-eval", "--corpus", "CORPUS", "--seed", "-1"],
        ["bridge", "complete", "--prompt", "x", "--max-bytes", "-1"],
        ["bridge", "complete", "--prompt", "x", "--max-bytes", "abc"],
    ],
)
def test_bridge_numbers_are_checked_before_loading_a_model(
    lm_folder, text_file, capsys, no_loading, argv
):
    argv = [str(text_file) if item == "CORPUS" else item for item in argv]
    status = main([*argv[:2], "--lm", str(lm_folder), *argv[2:]])
    assert status == 2
    assert argv[-2] in one_line_error(capsys)


@pytest.mark.parametrize("order", ["0", "9", "four"])
def test_lm_train_order_is_checked_before_training(tmp_path, text_file, capsys, no_loading, order):
    status = main(["lm", "train", "-t", "o200k_base", "--corpus", str(text_file), "--order",
                   order, "-o", str(tmp_path / "lm")])  # fmt: skip
    assert status == 2
    assert "--order" in one_line_error(capsys)
    assert not (tmp_path / "lm").exists()


def test_fim_eval_refuses_output_that_is_its_corpus(lm_folder, text_file, capsys, no_loading):
    before = text_file.read_bytes()
    status = main(["bridge", "fim-eval", "--lm", str(lm_folder), "--corpus", str(text_file),
                   "-o", str(text_file)])  # fmt: skip
    assert status == 2
    assert "would overwrite the input" in one_line_error(capsys)
    assert text_file.read_bytes() == before


@pytest.mark.parametrize("command", ["score", "ensemble"])
def test_score_and_ensemble_refuse_output_that_is_their_text(
    lm_folder, text_file, capsys, no_loading, command
):
    lms = ["--lm", str(lm_folder)] * (2 if command == "ensemble" else 1)
    status = main(["bridge", command, *lms, "--text", str(text_file), "-o", str(text_file)])
    assert status == 2
    assert "would overwrite the input" in one_line_error(capsys)


def test_missing_text_fails_before_loading_a_model(lm_folder, tmp_path, capsys, no_loading):
    status = main(["bridge", "score", "--lm", str(lm_folder), "--text", str(tmp_path / "no.py")])
    assert status == 2
    assert "does not exist" in one_line_error(capsys)


def test_lm_train_refuses_output_folder_inside_the_corpus_folder(
    tmp_path, text_file, capsys, no_loading
):
    status = main(["lm", "train", "-t", "o200k_base", "--corpus", str(tmp_path), "-o",
                   str(tmp_path / "lm")])  # fmt: skip
    assert status == 2
    assert "would overwrite the input" in one_line_error(capsys)


def test_lm_folder_and_files_get_the_mode_of_the_umask(o200k_lm, tmp_path):
    clear = getattr(toksmith.files._umask, "cache_clear", lambda: None)
    old = os.umask(0o027)
    clear()
    try:
        o200k_lm.save(tmp_path / "lm")
    finally:
        os.umask(old)
        clear()
    assert stat.S_IMODE((tmp_path / "lm").stat().st_mode) == 0o750
    for path in (tmp_path / "lm").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path.name


def test_lm_records_its_special_token_policy(o200k_lm, tmp_path):
    o200k_lm.save(tmp_path / "lm")
    config = json.loads((tmp_path / "lm" / "lm.json").read_text(encoding="utf-8"))
    assert config["special"] == "text"


def test_score_csv_header_is_the_field_names(lm_folder, text_file, capsys):
    status = main(["bridge", "score", "--lm", str(lm_folder), "--text", str(text_file),
                   "--format", "csv"])  # fmt: skip
    assert status == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header == "name,bytes,tokens,bits_per_byte,token_bits_per_byte,lm_calls,elapsed_s"


def test_prompt_with_invalid_utf8_is_replaced_with_errors_replace(lm_folder, capsys):
    status = main(["bridge", "complete", "--lm", str(lm_folder), "--prompt", "a\udcffb",
                   "--max-bytes", "2", "--errors", "replace", "--format", "json"])  # fmt: skip
    assert status == 0
    assert json.loads(capsys.readouterr().out)["prompt"] == "a\ufffdb"
