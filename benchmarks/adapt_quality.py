"""Evidence for embedding transplantation and dynamic merges (issue 12).

Sections (``--only NAME`` runs one; default all):
  synthetic  base = donor · A (random A): OMP's recovery of held-out rows against k and noise
  minilm     all-MiniLM-L6-v2 transplanted to a 16k WordPiece vocabulary trained here on
             stdlib docstrings: cosine to the original sentence embeddings and Spearman of the
             pairwise-similarity matrices on ≥ 1,000 local sentences, with bootstrap CIs
  causal     small causal LMs A and B (different tokenizers, same text): B's tokenizer
             transplanted into A with every method, held-out bits per byte zero-shot and after
             healing steps, 3 seeds
  dynamic    length reduction of dynamic merges on UDHR for a few built-ins

Run: .venv/bin/python benchmarks/adapt_quality.py [--only minilm] [--quick]
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import rankdata, t

from toksmith.adapt.methods import METHODS

UDHR = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "udhr"
RNG = np.random.default_rng(0)


def ci95(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and a Student-t 95% interval over a few seeds."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return mean, mean, mean
    half = float(t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half, mean + half


# ---- 1. synthetic ----------------------------------------------------------------------------


def synthetic() -> None:
    from toksmith.adapt.omp import orthogonal_matching_pursuit

    print("\n## 1. Synthetic: base = donor · A, OMP recovery of 500 held-out rows (5,000 anchors)")
    rng = np.random.default_rng(1)
    anchors, held, dim, rank = 5000, 500, 384, 48
    latent = rng.standard_normal((anchors + held, rank))
    clean = (latent @ rng.standard_normal((rank, dim))).astype(np.float32)
    mixing = rng.standard_normal((dim, dim)).astype(np.float32)
    base = clean @ mixing
    print("donor rows: rank-48 subspace of R^384 (+ isotropic noise of the given relative size)")
    print("| noise | k=8 | k=16 | k=32 | k=64 |")
    print("|---|---|---|---|---|")
    for noise in (0.0, 0.01, 0.1, 0.3):
        scale = noise * np.linalg.norm(clean, axis=1).mean() / np.sqrt(dim)
        donor = clean + scale * rng.standard_normal(clean.shape).astype(np.float32)
        cells = []
        for k in (8, 16, 32, 64):
            solution = orthogonal_matching_pursuit(donor[:anchors], donor[anchors:], k)
            estimate = solution.apply(base[:anchors])
            truth = base[anchors:]
            cos = (estimate * truth).sum(1) / (
                np.linalg.norm(estimate, axis=1) * np.linalg.norm(truth, axis=1)
            )
            cells.append(f"{cos.mean():.4f}")
        print(f"| {noise} | " + " | ".join(cells) + " |")
    # A full-rank donor with a decaying spectrum, like real embeddings.
    scales = 1.0 / np.sqrt(np.arange(1, dim + 1))
    donor = (rng.standard_normal((anchors + held, dim)) * scales).astype(np.float32)
    base = donor @ mixing
    cells = []
    for k in (8, 16, 32, 64):
        solution = orthogonal_matching_pursuit(donor[:anchors], donor[anchors:], k)
        estimate, truth = solution.apply(base[:anchors]), base[anchors:]
        cos = (estimate * truth).sum(1) / (
            np.linalg.norm(estimate, axis=1) * np.linalg.norm(truth, axis=1)
        )
        cells.append(f"{cos.mean():.4f}")
    print("| full rank, spectrum 1/√i | " + " | ".join(cells) + " |")


# ---- 3. MiniLM -------------------------------------------------------------------------------


def sentences_for_eval(limit: int) -> list[str]:
    """UDHR English sentences, then sentences of held-out stdlib docstrings."""
    from toksmith.corpus import iter_texts
    from toksmith.models.texts import pydoc_texts, split_held_out

    found: list[str] = []
    splitter = re.compile(r"(?<=[.;:!?])\s+")
    for text in iter_texts(UDHR / "eng.tsv"):
        found.extend(s.strip() for s in splitter.split(text) if len(s.split()) >= 4)
    _, held = split_held_out(pydoc_texts())
    for doc in held:
        for paragraph in doc.split("\n\n"):
            flat = " ".join(paragraph.split())
            found.extend(s for s in splitter.split(flat) if 5 <= len(s.split()) <= 60)
    unique = list(dict.fromkeys(found))
    return unique[:limit]


def bootstrap_mean(values: np.ndarray, draws: int = 1000) -> tuple[float, float]:
    picks = RNG.integers(0, values.size, size=(draws, values.size))
    means = values[picks].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def spearman_upper(a: np.ndarray, b: np.ndarray) -> float:
    upper = np.triu_indices(a.shape[0], 1)
    x, y = rankdata(a[upper]), rankdata(b[upper])
    return float(np.corrcoef(x, y)[0, 1])


def bootstrap_spearman(a: np.ndarray, b: np.ndarray, draws: int) -> tuple[float, float]:
    n = a.shape[0]
    values = []
    for _ in range(draws):
        pick = np.unique(RNG.integers(0, n, size=n))  # distinct sentences of a resample
        values.append(spearman_upper(a[np.ix_(pick, pick)], b[np.ix_(pick, pick)]))
    return float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))


def minilm(quick: bool, methods: list[str], sentences_count: int, draws: int) -> None:
    from toksmith.adapt.transplant import (
        cached_embedder,
        load_new_tokenizer,
        minilm_embedder,
        plan_transplant,
        text_donor_space,
        transplant_weights,
    )
    from toksmith.adapt.wordpiece import train_bert_wordpiece
    from toksmith.models import ModelFolder, load_model, minilm_folder, sentence_embeddings
    from toksmith.models.texts import pydoc_texts, split_held_out

    print("\n## 3. MiniLM transplanted to a WordPiece vocabulary trained on stdlib docstrings")
    started = time.perf_counter()
    train_docs, _ = split_held_out(pydoc_texts())
    vocab_size = 16000
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "tokenizer.json"
        path.write_text(train_bert_wordpiece(train_docs, vocab_size, min_frequency=1), "utf-8")
        new = load_new_tokenizer(path, "bert")
        tokenizer_json = path.read_text("utf-8")
    base = load_model(minilm_folder())
    sentences = sentences_for_eval(300 if quick else sentences_count)
    print(f"new vocabulary: {new.vocab_size:,} ids (trained on {len(train_docs):,} docstring "
          f"modules, {time.perf_counter() - started:.0f} s); evaluation: {len(sentences):,} "
          "sentences (UDHR English + held-out stdlib docstrings)")  # fmt: skip
    reference = np.asarray(sentence_embeddings(base, sentences))
    reference_sim = reference @ reference.T
    embed = cached_embedder(minilm_embedder())
    print("| method | cosine to original (mean) | 95% CI | Spearman of similarities | 95% CI "
          "| new rows built by the method | s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for method in methods:
        begun = time.perf_counter()
        match, recipe = plan_transplant(
            base,
            new,
            method,
            k=64,
            corpus_texts=train_docs,
            embed_texts=embed,
            donor_space=text_donor_space(embed),
        )
        weights = transplant_weights(base, match, recipe)
        adapted = ModelFolder(
            path=None,
            config={**base.config, "vocab_size": new.vocab_size},
            weights=weights,
            tokenizer=new,
            architecture="bert",
            input_embedding_key=base.input_embedding_key,
            output_embedding_key=None,
            tokenizer_json=tokenizer_json,
        )
        vectors = np.asarray(sentence_embeddings(adapted, sentences))
        cosines = (vectors * reference).sum(axis=1)
        low, high = bootstrap_mean(cosines)
        rho = spearman_upper(reference_sim, vectors @ vectors.T)
        rho_low, rho_high = bootstrap_spearman(reference_sim, vectors @ vectors.T,
                                               20 if quick else draws)  # fmt: skip
        own = recipe.method_of_row.count(method)
        print(f"| {method} | {cosines.mean():.4f} | [{low:.4f}, {high:.4f}] | {rho:.4f} | "
              f"[{rho_low:.4f}, {rho_high:.4f}] | {own:,} of {match.missing_new.size:,} | "
              f"{time.perf_counter() - begun:.0f} |")  # fmt: skip
    print(f"shared tokens copied: {match.shared_new.size:,}; specials matched: "
          f"{match.special_new.size}; OMP donor space: MiniLM's sentence embedding of each "
          "token's text (read through the old tokenizer); TokenAdapt's external space: the "
          "same embeddings")  # fmt: skip


# ---- 4. causal LMs ---------------------------------------------------------------------------


def causal(quick: bool, seeds: int) -> None:
    from toksmith.adapt.transplant import plan_transplant, transplant_weights
    from toksmith.models import ModelFolder
    from toksmith.models.causal import (
        CausalLMConfig,
        bits_per_byte,
        continue_training,
        train_causal_lm,
    )
    from toksmith.models.texts import pydoc_texts, split_held_out
    from toksmith.tokenizers.load import load_path
    from toksmith.train import TrainSettings, train_tokenizer

    print("\n## 4. Small causal LMs: B's tokenizer transplanted into A")
    started = time.perf_counter()
    items = pydoc_texts(limit_bytes=600_000 if quick else 2_500_000)
    train_texts, held = split_held_out(items)
    held = held[: 8 if quick else 30]
    steps, heal = (150, 60) if quick else (1200, 300)
    config = CausalLMConfig(hidden=128, layers=4, heads=4, context=128)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        corpus = root / "train.txt"
        corpus.write_text("\n".join(train_texts), "utf-8")
        settings_a = TrainSettings(algorithm="bpe", vocab_size=4096, pattern="gpt4")
        settings_b = TrainSettings(algorithm="bpe", vocab_size=6144, pattern="gpt2",
                                   numbers="digits")  # fmt: skip
        train_tokenizer(settings_a, root / "a", corpus=[corpus])
        train_tokenizer(settings_b, root / "b", corpus=[corpus])
        tok_a = load_path(root / "a" / "tokenizer.json")
        tok_b = load_path(root / "b" / "tokenizer.json")
        json_b = (root / "b" / "tokenizer.json").read_text("utf-8")
    held_bytes = sum(len(x.encode()) for x in held)
    print(f"text: {len(train_texts):,} docstring modules to train, {len(held)} held out "
          f"({held_bytes:,} bytes); tokenizer A: BPE {tok_a.vocab_size:,} (gpt4 pattern), B: "
          f"BPE {tok_b.vocab_size:,} (gpt2 pattern, single digits); LMs: hidden 128, 4 layers, "
          f"context 128, {steps} steps; healing: {heal} steps")  # fmt: skip
    rows: dict[str, dict[str, list[float]]] = {}
    for seed in range(seeds):
        lm_a = train_causal_lm(tok_a, train_texts, config, steps=steps, seed=seed)
        lm_b = train_causal_lm(tok_b, train_texts, config, steps=steps, seed=seed + 100)
        rows.setdefault("A (own tokenizer)", {}).setdefault("zero-shot", []).append(
            bits_per_byte(lm_a, held)
        )
        rows.setdefault("B (donor, own tokenizer)", {}).setdefault("zero-shot", []).append(
            bits_per_byte(lm_b, held)
        )
        for method in METHODS:
            match, recipe = plan_transplant(lm_a, tok_b, method, k=64, donor=lm_b,
                                            corpus_texts=train_texts)  # fmt: skip
            weights = transplant_weights(lm_a, match, recipe)
            adapted = ModelFolder(
                path=None,
                config={**lm_a.config, "vocab_size": tok_b.vocab_size},
                weights=weights,
                tokenizer=tok_b,
                architecture="causal",
                input_embedding_key=lm_a.input_embedding_key,
                output_embedding_key=lm_a.output_embedding_key,
                tokenizer_json=json_b,
            )
            cell = rows.setdefault(method, {})
            cell.setdefault("zero-shot", []).append(bits_per_byte(adapted, held))
            healed = continue_training(adapted, train_texts, steps=heal, seed=seed)
            cell.setdefault("healed", []).append(bits_per_byte(healed, held))
        print(f"  seed {seed} done ({time.perf_counter() - started:.0f} s)", flush=True)
    print(f"| model | zero-shot bits/byte (mean, 95% CI over {seeds} seeds) | after {heal} "
          "healing steps |")  # fmt: skip
    print("|---|---|---|")
    for name, cell in rows.items():
        shot = ci95(np.asarray(cell["zero-shot"]))
        text = f"| {name} | {shot[0]:.3f} [{shot[1]:.3f}, {shot[2]:.3f}] |"
        if "healed" in cell:
            healed = ci95(np.asarray(cell["healed"]))
            text += f" {healed[0]:.3f} [{healed[1]:.3f}, {healed[2]:.3f}] |"
        else:
            text += " – |"
        print(text)
    order = sorted(METHODS, key=lambda m: np.mean(rows[m]["zero-shot"]))
    print("zero-shot order (best first): " + " < ".join(order))
    print(f"total {time.perf_counter() - started:.0f} s")


# ---- 5. dynamic ------------------------------------------------------------------------------


def dynamic() -> None:
    from toksmith.adapt.dynamic import DynamicReport, dynamic_lengths
    from toksmith.corpus import iter_texts
    from toksmith.report.adapt import render_dynamic
    from toksmith.tokenizers import load_tokenizer

    print("\n## 5. Dynamic merges on UDHR (eng, fra, deu, rus, arb, hin, cmn, jpn: by file)")
    texts: list[str] = []
    for key in ("eng", "fra", "deu_1996", "rus", "arb", "hin", "cmn_hans", "jpn"):
        path = UDHR / f"{key}.tsv"
        if path.exists():
            texts.extend(iter_texts(path))
    results = []
    for name in ("o200k_base", "cl100k_base", "llama3", "mistral-tekken", "minilm"):
        tokenizer = load_tokenizer(name)
        results.append(dynamic_lengths(tokenizer, texts, [0, 100, 1000, 10000]))
    print(render_dynamic(DynamicReport(corpus="UDHR, 8 languages", results=results), "md"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("synthetic", "minilm", "causal", "dynamic"))
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", default=",".join(METHODS), help="minilm: methods, in order")
    parser.add_argument("--sentences", type=int, default=1200, help="minilm: sentences")
    parser.add_argument("--draws", type=int, default=200, help="minilm: Spearman bootstrap draws")
    args = parser.parse_args()
    begun = time.perf_counter()
    if args.only in (None, "synthetic"):
        synthetic()
    if args.only in (None, "dynamic"):
        dynamic()
    if args.only in (None, "minilm"):
        minilm(args.quick, args.methods.split(","), args.sentences, args.draws)
    if args.only in (None, "causal"):
        causal(args.quick, args.seeds)
    print(f"\nall sections: {time.perf_counter() - begun:.0f} s")


if __name__ == "__main__":
    main()
