"""`audit vocab --verify`: under-trained tokens confirmed by prompting ("Fishing for Magikarp",
2024) on a small causal LM trained here, with tokens planted that its training text lacks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from toksmith.audit.prompting import prompt_ids, verify_by_prompting
from toksmith.audit.weights import magikarp_scores
from toksmith.tokenizers import load_tokenizer

COMMON = [
    "the",
    "a",
    "cat",
    "dog",
    "bird",
    "sat",
    "ran",
    "on",
    "under",
    "mat",
    "tree",
    "house",
    "big",
    "small",
    "red",
    "blue",
    "green",
    "old",
    "new",
    "sees",
    "likes",
    "and",
    "with",
    "near",
    "far",
    "happy",
    "sad",
    "one",
    "two",
    "three",
]
PLANTED = [f"zq{letter}x" for letter in "abcdefghijkl"]  # in the vocabulary, never trained


def planted_tokenizer(folder: Path) -> Path:
    """A word-level tokenizer.json whose vocabulary holds COMMON, PLANTED and a few symbols."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = ["[UNK]", *COMMON, *PLANTED, "«", "»", ":", ".", "Input", "Output"]
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    path = folder / "tokenizer.json"
    tokenizer.save(str(path))
    return path


def training_texts(seed: int = 0) -> list[str]:
    """Sentences of COMMON words, and lines that repeat one word or copy it from an
    'Input: « w »' to an 'Output: « w »', so the model learns to repeat; PLANTED never occurs."""
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(400):
        texts.append(" ".join(rng.choice(COMMON, size=int(rng.integers(6, 14)))) + " .")
        word = str(rng.choice(COMMON))
        texts.append(" ".join([word] * int(rng.integers(6, 20))))
        word = str(rng.choice(COMMON))
        texts.append(" ".join(f"Input : « {word} » Output : « {word} »" for _ in range(3)))
    return texts


@pytest.fixture(scope="module")
def small_lm(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from toksmith.models import write_model
    from toksmith.models.causal import CausalLMConfig, train_causal_lm

    folder = tmp_path_factory.mktemp("planted")
    tokenizer = load_tokenizer(str(planted_tokenizer(folder)))
    config = CausalLMConfig(hidden=48, layers=1, heads=2, context=32, batch_size=16,
                            learning_rate=5e-3, warmup_steps=20)  # fmt: skip
    model = train_causal_lm(tokenizer, training_texts(), config, steps=250, seed=0)
    return write_model(model, folder / "lm")


def test_prompts_splice_the_token_id_into_each_template(small_lm) -> None:  # type: ignore[no-untyped-def]
    token_id = small_lm.tokenizer.encode("cat")[0]
    prompts = prompt_ids(small_lm.tokenizer, token_id)
    assert set(prompts) == {"input_output", "assistant_explain", "repeats"}
    assert prompts["repeats"].count(token_id) == 101  # 50 solved repeats of 2, then 1
    assert prompts["input_output"].count(token_id) == 41


def test_indicator_ranks_planted_tokens_high(small_lm) -> None:  # type: ignore[no-untyped-def]
    # Four planted tokens are the known-unused reference; the other eight must rank near the
    # top of the remaining 45. No principal component is removed: in this small tied model
    # the first component is the shared direction the unused rows were pushed along.
    ids = {w: small_lm.tokenizer.encode(w)[0] for w in [*COMMON, *PLANTED]}
    reference = np.array([ids[w] for w in PLANTED[:4]])
    scores = magikarp_scores(small_lm.input_embeddings, reference, n_components=0)
    others = [i for i in range(small_lm.tokenizer.vocab_size) if i not in set(reference)]
    ranked = sorted(others, key=lambda i: scores[i])
    hidden = {ids[w] for w in PLANTED[4:]}
    assert hidden <= set(ranked[: len(hidden) + 2])
    frequent = {ids[w] for w in ("the", "cat", "dog", "red")}
    assert not frequent & set(ranked[: len(hidden)])


def test_prompting_confirms_planted_and_not_frequent_tokens(small_lm) -> None:  # type: ignore[no-untyped-def]
    planted = [small_lm.tokenizer.encode(w)[0] for w in PLANTED[4:]]
    frequent = [small_lm.tokenizer.encode(w)[0] for w in ("the", "cat", "dog", "red")]
    result = verify_by_prompting(small_lm, planted + frequent)
    by_id = {check.id: check for check in result.tokens}
    assert all(by_id[i].confirmed for i in planted), [by_id[i] for i in planted]
    assert not any(by_id[i].confirmed for i in frequent), [by_id[i] for i in frequent]
    assert min(by_id[i].repeat_probability for i in frequent) > 0.05
    assert result.confirmed == len(planted)


def test_cli_verify_reports_confirmation_in_json(small_lm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from toksmith.cli import main

    out = tmp_path / "vocab.json"
    ids = [small_lm.tokenizer.encode(w)[0] for w in PLANTED[:4]]
    code = main([
        "audit", "vocab", "-t", str(small_lm.path / "tokenizer.json"),
        "--weights", str(small_lm.path), "--verify", "--top", "10", "--components", "0",
        "--reference-ids", ",".join(map(str, ids)), "-o", str(out),
    ])  # fmt: skip
    assert code == 0
    data = json.loads(out.read_text())
    verification = data["verification"]
    assert verification["checked"] == 10
    confirmed = {t["token"] for t in verification["tokens"] if t["confirmed"]}
    assert len(confirmed & set(PLANTED[4:])) >= 7
    assert not confirmed & set(COMMON)  # ordinary words are never confirmed


def test_cli_verify_refuses_a_tokenizer_that_does_not_match(small_lm, capsys) -> None:  # type: ignore[no-untyped-def]
    from toksmith.cli import main

    code = main(["audit", "vocab", "-t", "minilm", "--weights", str(small_lm.path), "--verify"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not match" in err[0]


def test_cli_verify_needs_a_model_folder(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from toksmith.cli import main

    (tmp_path / "lm").mkdir()
    (tmp_path / "lm" / "config.json").write_text('{"model_type": "toksmith-causal"}')
    code = main(["audit", "vocab", "-t", "minilm", "--weights", str(tmp_path / "lm"), "--verify"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "model.safetensors" in err[0]
