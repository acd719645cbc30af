"""Causal LMs: identity transplant, tied and untied embeddings, a tiny quality run, and
``adapt eval``'s JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from toksmith.adapt.methods import METHODS
from toksmith.adapt.transplant import plan_transplant, transplant_weights

TEXTS = [
    "def add(a, b):\n    return a + b\n",
    "Return the sum of two numbers; raise TypeError when they cannot be added.",
    "class Stack:\n    def push(self, item):\n        self.items.append(item)\n",
    "The quick brown fox jumps over the lazy dog, again and again, 12345 times.",
    "Open the file, read every line and return the list of stripped lines.",
] * 12


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from toksmith.train import TrainSettings, train_tokenizer

    root = tmp_path_factory.mktemp("causal-tok")
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(TEXTS), "utf-8")
    paths = {}
    for name, settings in {
        "a": TrainSettings(algorithm="bpe", vocab_size=400, pattern="gpt4"),
        "b": TrainSettings(algorithm="bpe", vocab_size=500, pattern="gpt2", numbers="digits"),
    }.items():
        train_tokenizer(settings, root / name, corpus=[corpus])
        paths[name] = root / name / "tokenizer.json"
    return paths


def _lm(tokenizer_json: Path, *, tied: bool, seed: int, steps: int = 30):
    from toksmith.models.causal import CausalLMConfig, train_causal_lm
    from toksmith.tokenizers.load import load_path

    config = CausalLMConfig(hidden=32, layers=1, heads=2, context=32, tied=tied, batch_size=8,
                            warmup_steps=5)  # fmt: skip
    return train_causal_lm(load_path(tokenizer_json), TEXTS, config, steps=steps, seed=seed)


@pytest.fixture(scope="module")
def model_folders(tokenizers: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    from toksmith.models import write_model

    root = tmp_path_factory.mktemp("causal-lm")
    folders = {}
    for name, tied in (("a", True), ("a_untied", False), ("b", True)):
        lm = _lm(tokenizers[name[0]], tied=tied, seed=len(name))
        folders[name] = root / name
        write_model(lm, folders[name])
    return folders


@pytest.mark.parametrize("which", ["a", "a_untied"])
def test_identity_transplant_reproduces_next_token_logprobs(
    which: str, model_folders: dict[str, Path], tokenizers: dict[str, Path], tmp_path: Path
) -> None:
    from toksmith.adapt.transplant import transplant
    from toksmith.models import load_model
    from toksmith.models.causal import next_token_logprobs

    out = tmp_path / "same"
    transplant(model_folders[which], tokenizers["a"], out, "subword-mean")
    base, adapted = load_model(model_folders[which]), load_model(out)
    assert adapted.tied == base.tied == (which == "a")
    ids = base.tokenizer.encode(TEXTS[0] + TEXTS[1])
    diff = np.abs(next_token_logprobs(base, ids) - next_token_logprobs(adapted, ids))
    assert diff.max() <= 1e-6


def test_untied_output_rows_are_transplanted_with_the_same_recipe(
    model_folders: dict[str, Path], tokenizers: dict[str, Path]
) -> None:
    from toksmith.adapt.transplant import load_new_tokenizer
    from toksmith.models import load_model

    base = load_model(model_folders["a_untied"])
    new = load_new_tokenizer(tokenizers["b"], "causal")
    match, recipe = plan_transplant(base, new, "subword-mean")
    weights = transplant_weights(base, match, recipe)
    out_key = base.output_embedding_key
    assert out_key is not None
    assert weights[out_key].shape[0] == new.vocab_size
    assert np.array_equal(
        weights[out_key][match.shared_new], base.weights[out_key][match.shared_old]
    )
    assert not np.array_equal(weights[out_key], weights[base.input_embedding_key])


def test_transplanted_lms_score_and_eval_writes_json(
    model_folders: dict[str, Path],
    tokenizers: dict[str, Path],
    tmp_path: Path,
    adapt_cli: Callable[[list[str]], int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    corpus = tmp_path / "held.txt"
    corpus.write_text("\n".join(TEXTS[:5]), "utf-8")
    outputs = []
    for method in METHODS:
        if method == "tokenadapt":
            continue  # needs MiniLM embeddings of every token: covered by the benchmark
        out = tmp_path / method
        extra = ["--donor", str(model_folders["b"]), "--k", "8"] if method == "omp" else []
        extra += ["--corpus", str(corpus)] if method == "focus" else []
        status = adapt_cli(["adapt", "transplant", "--model", str(model_folders["a"]),
                            "--tokenizer", str(tokenizers["b"]), "--method", method, *extra,
                            "-o", str(out)])  # fmt: skip
        assert status == 0, capsys.readouterr()
        outputs.append(out)
    capsys.readouterr()
    result_file = tmp_path / "eval.json"
    models = [arg for out in [model_folders["a"], *outputs] for arg in ("--model", str(out))]
    status = adapt_cli(["adapt", "eval", *models, "--corpus", str(corpus), "-o",
                        str(result_file)])  # fmt: skip
    assert status == 0, capsys.readouterr()
    data = json.loads(result_file.read_text("utf-8"))
    assert data["kind"] == "adapt-eval" and len(data["results"]) == len(outputs) + 1
    scores = {Path(r["model"]).name: r["bits_per_byte"] for r in data["results"]}
    assert all(np.isfinite(v) and v > 0 for v in scores.values())
    # zero rows give every new token the same logit: worse than copying the mean row is not
    # guaranteed, but worse than the model on its own tokenizer is
    assert scores["a"] < scores["zero"]


def test_digit_split_warning_is_reported(
    model_folders: dict[str, Path], tokenizers: dict[str, Path], tmp_path: Path
) -> None:
    from toksmith.adapt.transplant import transplant

    result = transplant(model_folders["a"], tokenizers["b"], tmp_path / "w", "mean")
    assert any("split digits differently" in w for w in result.warnings)
