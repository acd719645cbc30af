from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from toksmith.tokenizers import load_tokenizer
from toksmith.train import PRESETS, TrainSettings, apply_preset, train_tokenizer


@pytest.fixture(scope="module")
def code_and_prose(tmp_path_factory, topics_split) -> Path:
    """The prose training file plus ~300 KB of stdlib source in one folder."""
    folder = tmp_path_factory.mktemp("mixed")
    train, _ = topics_split
    (folder / "prose.txt").write_text(train.read_text(encoding="utf-8"), encoding="utf-8")
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    source = "".join(
        (stdlib / name).read_text(encoding="utf-8")
        for name in ("argparse.py", "dataclasses.py", "textwrap.py")
    )
    (folder / "code.py.txt").write_text(source, encoding="utf-8")
    return folder


SAMPLE = (
    "<|im_start|>user\nSee 15 U.S.C. § 78j(b) (a)(iii), $1,234,567.89 ünïcödé 日本\n<|im_end|>\n"
    "    def f(self, x_1):\n\t\treturn x_1  # done\n"
)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_preset_tokenizer_round_trips_losslessly(preset, code_and_prose, tmp_path):
    settings = apply_preset(TrainSettings(vocab_size=2000), preset, {"vocab_size"})
    result = train_tokenizer(settings, tmp_path / preset, corpus=[code_and_prose])
    tokenizer = load_tokenizer(str(result.tokenizer_json))
    text = SAMPLE + (code_and_prose / "code.py.txt").read_text(encoding="utf-8")[:20000]
    assert tokenizer.decode(tokenizer.encode(text)) == text
    for token in PRESETS[preset]["special_tokens"]:
        assert token in tokenizer.hf.get_vocab()
    if preset == "char":
        assert max(len(b) for b in tokenizer.vocab_bytes) <= 4
    if preset == "legal":
        assert len(tokenizer.encode("(iii)")) == 1
    if preset == "code":
        indent = tokenizer.encode("\n        return")
        assert tokenizer.decode(indent[:1]) == "\n        "


def test_explicit_options_win_over_the_preset():
    settings = apply_preset(TrainSettings(vocab_size=8000), "char", {"vocab_size"})
    assert settings.vocab_size == 8000 and settings.max_token_length == 4
