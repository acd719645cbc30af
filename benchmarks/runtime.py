"""Speed of the model runtime (issue 12): small causal LMs trained here, and MiniLM embeddings.

1. A causal LM of the default size (hidden 128, 4 layers, 4 heads, context 128) over a
   byte-level BPE trained on the same standard-library source, tied and untied: parameters,
   training time, tokens per second, held-out bits per byte before and after training.
2. all-MiniLM-L6-v2 sentence embeddings with the JAX forward, against a reference: the same
   forward in plain numpy float32 (one sentence at a time, no padding), timed in the same run
   on the same sentences; the largest difference between the two is printed too.

Run: .venv/bin/python benchmarks/runtime.py [--steps 600] [--corpus-bytes 2000000]
Figures vary 2× or more on a shared machine; the ratio is measured within one run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.special import erf
from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models, pre_tokenizers, trainers

from toksmith.models import (
    CausalLMConfig,
    ModelFolder,
    bits_per_byte,
    encoder_inputs,
    load_model,
    minilm_folder,
    pydoc_texts,
    sentence_embeddings,
    split_held_out,
    stdlib_sources,
    train_causal_lm,
)
from toksmith.tokenizers import Tokenizer
from toksmith.tokenizers.load import load_path


def train_bpe(texts: list[str], vocab_size: int, folder: Path) -> Tokenizer:
    tokenizer = HFTokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    tokenizer.save(str(folder / "tokenizer.json"))
    return load_path(folder / "tokenizer.json")


def report(message: str, fraction: float) -> None:
    if message.endswith("0/" + message.split("/")[-1]) or fraction >= 1:
        print(f"    {message}", file=sys.stderr, flush=True)


def causal_lm_figures(
    name: str, texts: list[tuple[str, str]], vocab_size: int, steps: int, folder: Path
) -> None:
    train, held_out = split_held_out(texts)
    tokenizer = train_bpe(train, vocab_size, folder)
    train_bytes = sum(len(t.encode()) for t in train)
    held_bytes = sum(len(t.encode()) for t in held_out)
    print(f"\n{name}: {len(train)} texts, {train_bytes:,} bytes to train, {held_bytes:,} held out")
    for tied in (True, False):
        config = CausalLMConfig(tied=tied)
        untrained = train_causal_lm(tokenizer, train, config, steps=0, seed=0)
        before = bits_per_byte(untrained, held_out)
        began = time.perf_counter()
        model = train_causal_lm(tokenizer, train, config, steps=steps, seed=0, progress=report)
        elapsed = time.perf_counter() - began
        after = bits_per_byte(model, held_out)
        tokens = steps * config.batch_size * config.context
        print(
            f"  {'tied' if tied else 'untied'}: {model.parameter_count / 1e6:.2f}M parameters, "
            f"{steps} steps × {config.batch_size} × {config.context} tokens in {elapsed:.1f} s "
            f"(compile included; {tokens / elapsed:,.0f} tokens/s), held-out bits/byte "
            f"{before:.3f} → {after:.3f}"
        )


def numpy_sentence_embedding(model: ModelFolder, ids: list[int]) -> np.ndarray:
    """The reference: BERT forward in plain numpy float32 for one unpadded sequence."""
    w = model.weights
    config = model.config
    heads = config["num_attention_heads"]
    size = config["hidden_size"] // heads
    eps = config["layer_norm_eps"]

    def norm(x: np.ndarray, name: str) -> np.ndarray:
        centred = x - x.mean(axis=-1, keepdims=True)
        scale = np.sqrt((centred**2).mean(axis=-1, keepdims=True) + eps)
        return centred / scale * w[name + ".weight"] + w[name + ".bias"]

    def linear(x: np.ndarray, name: str) -> np.ndarray:
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    n = len(ids)
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:n]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = norm(x, "embeddings.LayerNorm")
    for layer in range(config["num_hidden_layers"]):
        name = f"encoder.layer.{layer}."

        def split(h: np.ndarray) -> np.ndarray:
            return h.reshape(n, heads, size).transpose(1, 0, 2)

        q = split(linear(x, name + "attention.self.query"))
        k = split(linear(x, name + "attention.self.key"))
        v = split(linear(x, name + "attention.self.value"))
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(size)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        context = (scores / scores.sum(axis=-1, keepdims=True)) @ v
        context = context.transpose(1, 0, 2).reshape(n, heads * size)
        x = norm(
            x + linear(context, name + "attention.output.dense"),
            name + "attention.output.LayerNorm",
        )
        inner = linear(x, name + "intermediate.dense")
        inner = 0.5 * inner * (1.0 + erf(inner / np.sqrt(2.0)))
        x = norm(x + linear(inner, name + "output.dense"), name + "output.LayerNorm")
    pooled = x.mean(axis=0)
    return pooled / np.linalg.norm(pooled)


def minilm_figures(count: int) -> None:
    model = load_model(minilm_folder())
    sentences: list[str] = []
    for _, prose in pydoc_texts():
        sentences.extend(line.strip() for line in prose.split(". ") if len(line.strip()) > 30)
        if len(sentences) >= count:
            break
    sentences = sentences[:count]
    sentence_embeddings(model, sentences[:64])  # compile the common shapes first
    began = time.perf_counter()
    ours = sentence_embeddings(model, sentences)
    jax_s = time.perf_counter() - began
    began = time.perf_counter()
    reference = np.stack(
        [numpy_sentence_embedding(model, ids) for ids in encoder_inputs(model, sentences)]
    )
    numpy_s = time.perf_counter() - began
    pieces = sum(len(ids) for ids in encoder_inputs(model, sentences))
    print(
        f"\nMiniLM: {len(sentences)} pydoc sentences ({pieces:,} word pieces): JAX "
        f"{len(sentences) / jax_s:,.0f} sentences/s, numpy float32 reference "
        f"{len(sentences) / numpy_s:,.0f} sentences/s, ratio {numpy_s / jax_s:.1f}×; "
        f"largest difference {np.abs(ours - reference).max():.1e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--vocab-size", type=int, default=4096)
    parser.add_argument("--corpus-bytes", type=int, default=2_000_000)
    parser.add_argument("--sentences", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "source"
        prose = Path(scratch) / "prose"
        source.mkdir()
        prose.mkdir()
        causal_lm_figures(
            "stdlib source", stdlib_sources(args.corpus_bytes), args.vocab_size, args.steps, source
        )
        causal_lm_figures(
            "pydoc prose", pydoc_texts(args.corpus_bytes), args.vocab_size, args.steps, prose
        )
    minilm_figures(args.sentences)


if __name__ == "__main__":
    main()
