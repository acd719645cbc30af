"""Fixtures for the adapt tests: tiny BERT folders built from the MiniLM tokenizer, a small
WordPiece vocabulary trained here, and a way to run ``toksmith adapt`` before it is wired in."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from toksmith.errors import UserError

SENTENCES = [
    "All human beings are born free and equal in dignity and rights.",
    "They are endowed with reason and conscience and should act towards one another.",
    "Everyone has the right to life, liberty and security of person.",
    "No one shall be held in slavery or servitude; slavery shall be prohibited.",
    "Everyone has the right to freedom of thought, conscience and religion.",
    "The quick brown fox jumps over the lazy dog near the riverbank.",
    "def transplant(model, tokenizer): return model.with_vocabulary(tokenizer)",
    "Numbers such as 12345 and 3.14159 are split differently by each tokenizer.",
]


def tiny_bert_config(vocab_size: int, hidden: int = 32, layers: int = 1) -> dict:
    return {
        "model_type": "bert",
        "architectures": ["BertModel"],
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "intermediate_size": 2 * hidden,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-12,
        "vocab_size": vocab_size,
        "pad_token_id": 0,
    }


def write_tiny_bert(folder: Path, tokenizer_json: Path, vocab_size: int, seed: int = 0) -> Path:
    """A random 1-layer BERT with the given tokenizer, in the HF layout."""
    from toksmith.models.bert import expected_shapes

    folder.mkdir(parents=True)
    config = tiny_bert_config(vocab_size)
    rng = np.random.default_rng(seed)
    weights = {
        key: (rng.standard_normal(shape) * 0.2).astype(np.float32)
        for key, shape in expected_shapes(config, vocab_size, "").items()
    }
    for key in weights:
        if "LayerNorm.weight" in key:
            weights[key] = np.ones_like(weights[key])
    (folder / "config.json").write_text(json.dumps(config), "utf-8")
    save_file(weights, str(folder / "model.safetensors"))
    shutil.copyfile(tokenizer_json, folder / "tokenizer.json")
    return folder


@pytest.fixture(scope="session")
def minilm_tokenizer_json() -> Path:
    from toksmith.models import minilm_folder

    return minilm_folder() / "tokenizer.json"


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory, minilm_tokenizer_json: Path) -> Path:
    """A random tiny BERT that uses MiniLM's 30,522-id WordPiece tokenizer."""
    folder = tmp_path_factory.mktemp("bert") / "base"
    return write_tiny_bert(folder, minilm_tokenizer_json, 30522)


@pytest.fixture(scope="session")
def new_wordpiece(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 600-id uncased WordPiece tokenizer trained here on the test sentences."""
    from toksmith.adapt.wordpiece import train_bert_wordpiece

    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    path.write_text(train_bert_wordpiece(SENTENCES * 20, 600, min_frequency=1), "utf-8")
    return path


def run_adapt(argv: Sequence[str]) -> int:
    """``toksmith adapt ...`` through this package's own parser (as cli.main runs it)."""
    from toksmith.cli import adapt
    from toksmith.cli.common import OneLineErrorParser, resolve_format

    parser = OneLineErrorParser(prog="toksmith")
    adapt.register(parser.add_subparsers(dest="command"))
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else 2
    resolve_format(args)
    try:
        return int(args.run(args) or 0)
    except UserError as error:
        print(f"toksmith: error: {error}")
        return 2


@pytest.fixture
def adapt_cli() -> Callable[[Sequence[str]], int]:
    """Runs ``toksmith adapt ...`` and returns the exit status."""
    return run_adapt


@pytest.fixture
def bert_writer() -> Callable[..., Path]:
    """:func:`write_tiny_bert`."""
    return write_tiny_bert


@pytest.fixture(scope="session")
def sentences() -> list[str]:
    return list(SENTENCES)
