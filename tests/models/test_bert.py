"""The BERT forward on the real all-MiniLM-L6-v2, checked against its tokenizer, the model
card and an independent float64 numpy implementation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import erf
from tokenizers import Tokenizer as HFTokenizer

from toksmith.models import ModelFolder, encoder_inputs, sentence_embeddings

# Hand-written: each pair says the same thing in other words; the rows do not share a topic.
PARAPHRASES = [
    ("A man is playing a guitar.", "Someone is strumming a guitar."),
    ("The cat sleeps on the sofa.", "A kitten is napping on the couch."),
    ("The stock market fell sharply today.", "Share prices dropped steeply this day."),
    ("How do I reset my password?", "What is the way to change my forgotten password?"),
    ("It is raining heavily outside.", "There is a downpour out there."),
    ("The children are playing football in the park.", "Kids kick a ball around the park."),
    ("She cooked pasta for dinner.", "She made spaghetti for her evening meal."),
    ("The train to Paris was delayed.", "The Paris train arrived late."),
    ("He is reading a book in the library.", "A man reads a novel at the library."),
    ("The doctor examined the patient.", "The physician checked the sick person."),
    ("Python is a popular programming language.", "Many developers write code in Python."),
    ("The plane landed safely at the airport.", "The aircraft touched down without trouble."),
]


def test_embeddings_have_384_dimensions_and_unit_norm(minilm: ModelFolder) -> None:
    # The model card: "maps sentences & paragraphs to a 384 dimensional dense vector space";
    # modules.json ends with Normalize.
    embeddings = sentence_embeddings(minilm, [a for a, _ in PARAPHRASES])
    assert embeddings.shape == (len(PARAPHRASES), 384)
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


def test_paraphrases_are_closer_than_every_unrelated_sentence(minilm: ModelFolder) -> None:
    first = sentence_embeddings(minilm, [a for a, _ in PARAPHRASES])
    second = sentence_embeddings(minilm, [b for _, b in PARAPHRASES])
    similarity = first @ second.T
    for row in range(len(PARAPHRASES)):
        unrelated = np.delete(similarity[row], row)
        assert similarity[row, row] > unrelated.max() + 0.1, PARAPHRASES[row]
    assert similarity.diagonal().mean() > 0.6


def test_inputs_are_the_shipped_tokenizers_ids_with_cls_sep_and_truncation(
    minilm: ModelFolder,
) -> None:
    texts = [
        "Hello, wörld! Ünïcödé",
        "[CLS] special tokens typed [SEP] in a text",
        "",
        "a long text that goes on " * 80,  # past 256 word pieces
    ]
    reference = HFTokenizer.from_file(str(minilm.path / "tokenizer.json"))
    limit = json.loads((minilm.path / "sentence_bert_config.json").read_text())["max_seq_length"]
    reference.no_padding()
    reference.enable_truncation(max_length=limit)  # what sentence-transformers asks for
    expected = [encoding.ids for encoding in reference.encode_batch(texts)]
    ours = encoder_inputs(minilm, texts)
    assert ours == expected
    assert ours[2] == [101, 102]
    assert len(ours[3]) == 256 and ours[3][0] == 101 and ours[3][-1] == 102


def test_a_sentence_embeds_the_same_alone_and_padded_in_a_batch(minilm: ModelFolder) -> None:
    short = "A short sentence."
    batch = [short, "A much longer sentence that forces padding " * 6, "Another one, medium."]
    alone = sentence_embeddings(minilm, [short])[0]
    together = sentence_embeddings(minilm, batch, batch_size=3)
    assert np.abs(alone - together[0]).max() < 1e-5
    assert np.abs(alone - together[1]).max() > 1e-2  # the others do differ


def _numpy_bert_float64(model: ModelFolder, ids: list[int]) -> np.ndarray:
    """An independent reference: one unpadded sequence, float64, heads one at a time."""
    w = {key: value.astype(np.float64) for key, value in model.weights.items()}
    config = model.config
    heads = config["num_attention_heads"]
    size = config["hidden_size"] // heads
    eps = config["layer_norm_eps"]

    def norm(x: np.ndarray, name: str) -> np.ndarray:
        centred = x - x.mean(axis=1, keepdims=True)
        scale = np.sqrt((centred**2).mean(axis=1, keepdims=True) + eps)
        return centred / scale * w[name + ".weight"] + w[name + ".bias"]

    def linear(x: np.ndarray, name: str) -> np.ndarray:
        return np.einsum("ti,oi->to", x, w[name + ".weight"]) + w[name + ".bias"]

    n = len(ids)
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][np.arange(n)]
        + w["embeddings.token_type_embeddings.weight"][np.zeros(n, dtype=int)]
    )
    x = norm(x, "embeddings.LayerNorm")
    for layer in range(config["num_hidden_layers"]):
        name = f"encoder.layer.{layer}."
        q = linear(x, name + "attention.self.query")
        k = linear(x, name + "attention.self.key")
        v = linear(x, name + "attention.self.value")
        outputs = []
        for head in range(heads):
            part = slice(head * size, (head + 1) * size)
            scores = q[:, part] @ k[:, part].T / np.sqrt(size)
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
            outputs.append(scores / scores.sum(axis=1, keepdims=True) @ v[:, part])
        x = norm(
            x + linear(np.hstack(outputs), name + "attention.output.dense"),
            name + "attention.output.LayerNorm",
        )
        inner = linear(x, name + "intermediate.dense")
        inner = 0.5 * inner * (1.0 + erf(inner / np.sqrt(2.0)))
        x = norm(x + linear(inner, name + "output.dense"), name + "output.LayerNorm")
    pooled = x.mean(axis=0)
    return pooled / np.linalg.norm(pooled)


@pytest.mark.parametrize("text", ["A man is playing a guitar.", "Tokenizers cut text; 42!"])
def test_forward_matches_an_independent_float64_implementation(
    minilm: ModelFolder, text: str
) -> None:
    (ids,) = encoder_inputs(minilm, [text])
    expected = _numpy_bert_float64(minilm, ids)
    ours = sentence_embeddings(minilm, [text, "padding partner " * 10])[0]
    assert np.abs(ours - expected).max() < 1e-5
