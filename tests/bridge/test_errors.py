"""Bad input: one-line UserErrors, and exit status 2 from the CLI."""

from __future__ import annotations

import json

import pytest

from toksmith.bridge.bytelevel import ByteLevelModel
from toksmith.bridge.decode import complete
from toksmith.bridge.lm import load_lm
from toksmith.bridge.lm.hf import HFCausalLM
from toksmith.bridge.lm.ngram import train_ngram
from toksmith.cli import main
from toksmith.errors import UserError
from toksmith.tokenizers import load_tokenizer


def test_prompt_with_invalid_utf8_is_refused(o200k_model):
    with pytest.raises(UserError, match=r"not valid UTF-8: byte 3 \(0xff\)"):
        complete(o200k_model, b"abc\xffdef", 5)


def test_prompt_ending_inside_a_character_is_accepted(o200k_model):
    completion = complete(o200k_model, "x = 'é".encode()[:-1], 3, mode="byte")
    assert len(completion.text) == 3


@pytest.mark.parametrize("name", ["minilm", "mistral-sp-v3"])
def test_tokenizers_without_exact_token_bytes_are_refused(name):
    tokenizer = load_tokenizer(name)
    assert not tokenizer.byte_exact
    lm = train_ngram(tokenizer, ["def f(x):\n    return x\n"], order=2)
    with pytest.raises(UserError, match="next-byte probabilities cannot be recovered"):
        ByteLevelModel(lm)


def test_missing_lm_folder_is_named(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_lm(tmp_path / "nothing")


def test_folder_that_is_no_model_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UserError, match="no config.json"):
        load_lm(tmp_path)


def test_hf_folder_of_a_model_that_is_not_causal_is_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    with pytest.raises(UserError, match="BertModel.*no causal"):
        load_lm(tmp_path)


def test_hf_causal_folder_without_transformers_asks_for_the_extra(tmp_path, monkeypatch):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["GPT2LMHeadModel"]}))
    monkeypatch.setitem(__import__("sys").modules, "transformers", None)
    with pytest.raises(UserError, match=r"toksmith\[hf\]"):
        HFCausalLM(tmp_path)


def test_corrupt_ngram_config_is_refused(tmp_path):
    (tmp_path / "lm.json").write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        load_lm(tmp_path)


def test_cli_reports_bad_prompt_in_one_line_with_status_2(o200k_lm, tmp_path, capsys):
    o200k_lm.save(tmp_path / "lm")
    status = main(["bridge", "complete", "--lm", str(tmp_path / "lm"), "--prompt", "a\udcffb"])
    assert status == 2
    error = capsys.readouterr().err
    assert error.startswith("toksmith: error: prompt is not valid UTF-8") and error.count("\n") == 1


def test_cli_completes_scores_and_trains(o200k_lm, tmp_path, capsys, held_out_sources):
    corpus = tmp_path / "code.py"
    corpus.write_text(held_out_sources[0][1][:3000])
    assert main(["lm", "train", "-t", "o200k_base", "--corpus", str(corpus), "--order", "3",
                 "-o", str(tmp_path / "small")]) == 0  # fmt: skip
    assert (tmp_path / "small" / "ngram.safetensors").is_file()
    o200k_lm.save(tmp_path / "lm")
    assert main(["bridge", "complete", "--lm", str(tmp_path / "lm"),
                 "--prompt", r"def f(msg):\n    retu", "--max-bytes", "3"]) == 0  # fmt: skip
    assert "rn " in capsys.readouterr().out
    sample = tmp_path / "sample.py"
    sample.write_text(held_out_sources[1][1][:200])
    assert main(["bridge", "score", "--lm", str(tmp_path / "lm"), "--text", str(sample),
                 "--format", "json"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["bytes"] == 200
