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


SMALL = {"hidden": 32, "layers": 1, "heads": 2, "context": 32, "batch_size": 8}


def _random_lm(tokenizer_json: Path, *, tied: bool, seed: int):
    """An untrained LM (GPT-2 initialisation): enough where only shapes and ids matter."""
    from toksmith.models import ModelFolder
    from toksmith.models.causal import CausalLMConfig, expected_shapes, hf_config
    from toksmith.tokenizers.load import load_path

    tokenizer = load_path(tokenizer_json)
    config = hf_config(CausalLMConfig(**SMALL, tied=tied), tokenizer.vocab_size)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    weights = {  # numpy, not the runtime's JAX initialiser: no compilation in a unit test
        name: (rng.standard_normal(shape) * 0.2).astype(np.float32)
        for name, shape in expected_shapes(config, tokenizer.vocab_size).items()
    }
    return ModelFolder(
        path=None,
        config=config,
        weights=weights,
        tokenizer=tokenizer,
        architecture="causal",
        input_embedding_key="transformer.wte.weight",
        output_embedding_key=None if tied else "lm_head.weight",
        tokenizer_json=tokenizer_json.read_text("utf-8"),
    )


@pytest.fixture(scope="module")
def model_folders(tokenizers: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """A (tied), A untied and the donor B, initialised only: training is what the benchmark
    (benchmarks/adapt_quality.py --only causal) does; here only ids, shapes and rows matter."""
    from toksmith.models import write_model

    root = tmp_path_factory.mktemp("causal-lm")
    models = {
        "a": _random_lm(tokenizers["a"], tied=True, seed=0),
        "a_untied": _random_lm(tokenizers["a"], tied=False, seed=1),
        "b": _random_lm(tokenizers["b"], tied=True, seed=2),
    }
    folders = {}
    for name, model in models.items():
        folders[name] = root / name
        write_model(model, folders[name])
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
    scores = {Path(r["model"]).name: r for r in data["results"]}
    assert all(np.isfinite(r["bits_per_byte"]) and r["bits_per_byte"] > 0 for r in scores.values())
    from toksmith.models import load_model
    from toksmith.models.causal import bits_per_byte

    texts = corpus.read_text("utf-8").splitlines()
    zero = load_model(tmp_path / "zero")
    assert scores["zero"]["tokens"] == sum(len(zero.tokenizer.encode(x)) for x in texts)
    assert scores["zero"]["bits_per_byte"] == pytest.approx(bits_per_byte(zero, texts), rel=1e-6)
    # zero rows give every new token the same logit (0): the model predicts the uniform
    # distribution over them, so the new-vocabulary rows differ from mean and subword-mean
    assert len({round(r["bits_per_byte"], 6) for r in scores.values()}) > 2


def test_digit_split_warning_is_reported(
    model_folders: dict[str, Path], tokenizers: dict[str, Path], tmp_path: Path
) -> None:
    from toksmith.adapt.transplant import transplant

    result = transplant(model_folders["a"], tokenizers["b"], tmp_path / "w", "mean")
    assert any("split digits differently" in w for w in result.warnings)


def test_the_web_results_view_shows_an_adapt_eval_json(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from toksmith.adapt.evaluate import EvalResult, ModelScore
    from toksmith.report.adapt import render_eval
    from toksmith.web.app import create_app
    from toksmith.web.roots import WebRoots

    score = ModelScore("m/", "causal", 500, 10, float("nan"), 0.5)  # NaN must become null
    result = EvalResult(corpus="held/", texts=1, bytes=20, results=[score], elapsed_s=0.1)
    (tmp_path / "eval.json").write_text(render_eval(result, "json"), "utf-8")
    app = create_app(WebRoots.of(results=tmp_path))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        listed = client.get("/api/results").json()
        shown = client.get("/api/results/eval.json").json()
    assert [item["path"] for item in listed] == ["eval.json"]
    assert shown["data"]["kind"] == "adapt-eval"
    assert shown["data"]["results"][0]["bits_per_byte"] is None


# ---- dynamic merges scored by a causal LM ------------------------------------------------------


# Words the tokenizers were not trained on, repeated across texts: pairs inside them recur.
UNSEEN = [
    "transplanted tokenizers",
    "tokenizers transplanted",
    "merged vocabularies",
    "vocabularies merged dynamically",
    "dynamically transplanted",
    "transplanted vocabularies merged",
]


def _short_texts(model, limit: int) -> list[str]:
    """Texts of at most ``limit`` tokens: one sequence each, so the unmerged score equals
    :func:`bits_per_byte`, which reads longer texts in overlapping windows."""
    texts = [*dict.fromkeys(TEXTS), *UNSEEN]
    return [t for t in texts if len(model.tokenizer.encode(t)) <= limit]


def _merged_reference_nats(model, texts: list[str], merges: int) -> tuple[float, int]:
    """The merged texts' negative log-likelihood computed another way: one batch, the
    embedding matrix grown by exactly the batch's units (no padding, no mask), each unit's row
    the mean of its tokens' rows, scored by the runtime's own jitted function."""
    from toksmith.adapt.dynamic import learn_batch_merges, token_segments, unit_pieces
    from toksmith.models.causal import _shape, _token_logprobs, device_params

    tokenizer = model.tokenizer
    encoded = tokenizer.encode_batch(texts)
    segments = [
        token_segments(tokenizer, t, ids, "word") for t, ids in zip(texts, encoded, strict=True)
    ]
    batch = learn_batch_merges(encoded, segments, tokenizer.vocab_bytes, merges)
    table = model.weights["transformer.wte.weight"]
    rows = [table[list(parts)].mean(axis=0) for parts in unit_pieces(batch, tokenizer.vocab_size)]
    grown = np.concatenate([table, np.asarray(rows, np.float32).reshape(-1, table.shape[1])])
    params = device_params(model)
    params["transformer.wte.weight"] = grown
    start = grown.shape[0]
    context = int(model.config["n_positions"])
    total = 0.0
    for units in batch.sequences:
        ids = np.zeros((1, context), np.int32)
        targets = np.zeros((1, context), np.int32)
        ids[0, : len(units)] = [start, *units[:-1]]
        targets[0, : len(units)] = units
        scores = np.asarray(_token_logprobs(params, ids, targets, _shape(model.config)))
        total -= float(scores[0, : len(units)].astype(np.float64).sum())
    return total, len(batch.merges)


def test_unit_pieces_spell_each_merged_unit() -> None:
    from toksmith.adapt.dynamic import learn_batch_merges, unit_pieces

    vocab = [b"a", b"b", b"c"]
    batch = learn_batch_merges([[0, 1, 2, 0, 1, 2, 0, 1]], [[1] * 8], vocab, 5)
    pieces = unit_pieces(batch, len(vocab))
    # ab first (3 times); then (ab, c) and (c, ab) tie at 2 and the smaller pair (c=2, ab=3)
    # wins: the second unit is c·ab, three tokens
    assert pieces[0] == [0, 1]
    assert pieces[1] == [2, 0, 1]
    for parts, data in zip(pieces, batch.unit_bytes, strict=True):
        assert b"".join(vocab[p] for p in parts) == data


def test_dynamic_bits_per_byte_without_merges_is_the_models_bits_per_byte(
    model_folders: dict[str, Path],
) -> None:
    from toksmith.adapt.evaluate import dynamic_bits_per_byte
    from toksmith.models import load_model
    from toksmith.models.causal import bits_per_byte

    model = load_model(model_folders["a_untied"])
    texts = _short_texts(model, int(model.config["n_positions"]))
    result = dynamic_bits_per_byte(model, texts, [0], embeddings=["subword-mean"])
    assert [(r.merges, r.embedding) for r in result.rows] == [(0, "none")]
    assert result.bytes == sum(len(t.encode()) for t in texts)
    assert result.rows[0].bits_per_byte == pytest.approx(bits_per_byte(model, texts), rel=1e-6)


def test_merged_units_are_scored_over_the_vocabulary_and_the_batch_units_only(
    model_folders: dict[str, Path],
) -> None:
    from toksmith.adapt.evaluate import dynamic_bits_per_byte
    from toksmith.models import load_model

    model = load_model(model_folders["a"])
    texts = _short_texts(model, int(model.config["n_positions"]))
    small = dynamic_bits_per_byte(model, texts, [0, 6], embeddings=["subword-mean"],
                                  batch_size=len(texts))  # fmt: skip
    padded = dynamic_bits_per_byte(model, texts, [0, 6, 80], embeddings=["subword-mean"],
                                   batch_size=len(texts))  # fmt: skip
    six = small.rows[1]
    nats, learned = _merged_reference_nats(model, texts, 6)
    assert six.merges == 6 and six.new_units == learned == 6 and six.units < small.tokens
    assert six.length_reduction == pytest.approx(1 - six.units / small.tokens)
    # 74 more padding rows (masked) change nothing; the reference grows the matrix by exactly
    # the six units and has no mask
    assert padded.rows[1].bits_per_byte == pytest.approx(six.bits_per_byte, rel=1e-9)
    assert six.bits_per_byte == pytest.approx(nats / np.log(2) / small.bytes, rel=1e-5)
    assert padded.rows[2].new_units > 6 and padded.rows[2].units < six.units


def test_omp_embeds_the_merged_units_the_donor_knows(
    model_folders: dict[str, Path], tmp_path: Path
) -> None:
    from toksmith.adapt.evaluate import dynamic_bits_per_byte
    from toksmith.models import load_model
    from toksmith.train import TrainSettings, train_tokenizer

    # a donor whose tokenizer has seen the words the model's tokenizer has not
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(TEXTS + UNSEEN * 10), "utf-8")
    train_tokenizer(TrainSettings(algorithm="bpe", vocab_size=500, pattern="gpt2"),
                    tmp_path / "c", corpus=[corpus])  # fmt: skip
    donor = _random_lm(tmp_path / "c" / "tokenizer.json", tied=True, seed=3)
    model = load_model(model_folders["a"])
    texts = [*dict.fromkeys(TEXTS), *UNSEEN]
    result = dynamic_bits_per_byte(model, texts, [0, 40], donor=donor, k=8)
    by_name = {r.embedding: r for r in result.rows}
    omp, mean = by_name["omp"], by_name["subword-mean"]
    assert omp.units == mean.units and omp.new_units == mean.new_units
    assert omp.rows_by_source.get("omp", 0) > 0
    assert "omp" not in mean.rows_by_source
    assert sum(omp.rows_by_source.values()) == omp.new_units
    assert omp.bits_per_byte != mean.bits_per_byte
    assert all(np.isfinite(r.bits_per_byte) for r in result.rows)
