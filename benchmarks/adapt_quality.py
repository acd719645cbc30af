"""Evidence for embedding transplantation and dynamic merges (issue 12).

Sections (``--only NAME`` runs one; default all):
  synthetic  base = donor · A (random A): OMP's recovery of held-out rows against k and noise
  minilm     all-MiniLM-L6-v2 transplanted to a 16k WordPiece vocabulary trained here on
             stdlib docstrings: cosine to the original sentence embeddings and Spearman of the
             pairwise-similarity matrices on ≥ 1,000 local sentences, with bootstrap CIs and
             paired differences omp − other; OMP's donor layer chosen on a development split
             of training-docstring sentences (--select-layer; default: the layer chosen, 4)
  causal     small causal LMs A and B (different tokenizers, same text): B's tokenizer
             transplanted into A with every method, held-out bits per byte zero-shot and after
             healing steps, 3 seeds (Student-t 95% intervals); then LM A on dynamically
             merged tokens (merged units embedded by subword-mean and by omp, donor LM B).
             The section is benchmarks/adapt_causal.py (run it alone for --dump, --steps)
  dynamic    length reduction of dynamic merges on UDHR for a few built-ins (table; --plot)

Run: .venv/bin/python benchmarks/adapt_quality.py [--only causal] [--quick] [--seeds 3]
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np
from adapt_causal import causal
from scipy.stats import rankdata

from toksmith.adapt.methods import METHODS

UDHR = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "udhr"
RNG = np.random.default_rng(0)


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


def dev_sentences(train_docs: list[str], limit: int, exclude: set[str]) -> list[str]:
    """Sentences of training docstrings (none of the evaluation sentences): the development
    split on which the OMP donor layer is chosen."""
    splitter = re.compile(r"(?<=[.;:!?])\s+")
    found: list[str] = []
    for doc in train_docs[::7]:
        for paragraph in doc.split("\n\n"):
            flat = " ".join(paragraph.split())
            found.extend(s for s in splitter.split(flat) if 5 <= len(s.split()) <= 60)
    unique = [s for s in dict.fromkeys(found) if s not in exclude]
    pick = np.random.default_rng(123).choice(len(unique), min(limit, len(unique)), replace=False)
    return [unique[i] for i in sorted(pick)]


def bootstrap_mean(values: np.ndarray, draws: int = 1000) -> tuple[float, float]:
    picks = RNG.integers(0, values.size, size=(draws, values.size))
    means = values[picks].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def spearman_upper(a: np.ndarray, b: np.ndarray) -> float:
    upper = np.triu_indices(a.shape[0], 1)
    x, y = rankdata(a[upper]), rankdata(b[upper])
    return float(np.corrcoef(x, y)[0, 1])


def paired_bootstrap(
    cosines: dict[str, np.ndarray],
    similarities: dict[str, np.ndarray],
    reference_sim: np.ndarray,
    cosine_draws: int,
    spearman_draws: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per method, the bootstrap distribution of the mean cosine (``cosine_draws`` resamples
    of the sentences) and of the Spearman correlation of the similarity matrices
    (``spearman_draws`` resamples, the distinct sentences of each). Every method is scored on
    the same resamples, so differences between methods are paired."""
    n = reference_sim.shape[0]
    picks = RNG.integers(0, n, size=(cosine_draws, n))
    cosine_means = {name: values[picks].mean(axis=1) for name, values in cosines.items()}
    rhos: dict[str, list[float]] = {name: [] for name in similarities}
    for _ in range(spearman_draws):
        pick = np.unique(RNG.integers(0, n, size=n))
        upper = np.triu_indices(pick.size, 1)
        reference_rank = rankdata(reference_sim[np.ix_(pick, pick)][upper])
        for name, sim in similarities.items():
            ranks = rankdata(sim[np.ix_(pick, pick)][upper])
            rhos[name].append(float(np.corrcoef(reference_rank, ranks)[0, 1]))
    return cosine_means, {name: np.asarray(values) for name, values in rhos.items()}


def interval(values: np.ndarray) -> tuple[float, float]:
    return float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))


def minilm(
    quick: bool,
    methods: list[str],
    sentences_count: int,
    draws: int,
    donor_layer: int,
    select_layer: bool,
) -> None:
    """MiniLM to a WordPiece vocabulary trained here. OMP's donor space is MiniLM's hidden
    state of each new token's old pieces after ``donor_layer`` layers
    (:func:`toksmith.adapt.static.piece_state_donor`); with ``select_layer`` every layer is
    first scored on a development split (sentences of the training docstrings) and the best
    mean cosine there is used. ``omp-text`` is OMP with the earlier donor space (MiniLM's
    sentence embedding of each token's text)."""
    from toksmith.adapt.methods import Recipe
    from toksmith.adapt.static import piece_state_donor
    from toksmith.adapt.transplant import (
        cached_embedder,
        load_new_tokenizer,
        minilm_embedder,
        plan_transplant,
        text_donor_space,
        transplant_weights,
    )
    from toksmith.adapt.vocab import VocabularyMatch
    from toksmith.adapt.wordpiece import train_bert_wordpiece
    from toksmith.models import ModelFolder, load_model, minilm_folder, sentence_embeddings
    from toksmith.models.texts import pydoc_texts, split_held_out

    print("\n## 3. MiniLM transplanted to a WordPiece vocabulary trained on stdlib docstrings")
    started = time.perf_counter()
    cpu_started = time.process_time()
    train_docs, _ = split_held_out(pydoc_texts())
    vocab_size = 16000
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "tokenizer.json"
        path.write_text(train_bert_wordpiece(train_docs, vocab_size, min_frequency=1), "utf-8")
        new = load_new_tokenizer(path, "bert")
        tokenizer_json = path.read_text("utf-8")
    base = load_model(minilm_folder())
    sentences = sentences_for_eval(300 if quick else sentences_count)
    dev = dev_sentences(train_docs, 100 if quick else 500, set(sentences))
    print(f"new vocabulary: {new.vocab_size:,} ids (trained on {len(train_docs):,} docstring "
          f"modules, {time.perf_counter() - started:.0f} s); test: {len(sentences):,} "
          "sentences (UDHR English + held-out stdlib docstrings); development: "
          f"{len(dev):,} sentences of training docstrings")  # fmt: skip
    embed = cached_embedder(minilm_embedder())

    def adapt(method: str, layer: int) -> tuple[ModelFolder, VocabularyMatch, Recipe]:
        donor_space = (
            text_donor_space(embed)
            if method == "omp-text"
            else lambda match: piece_state_donor(base, match, layer=layer)
        )
        match, recipe = plan_transplant(base, new, "omp" if method == "omp-text" else method,
                                        k=64, corpus_texts=train_docs, embed_texts=embed,
                                        donor_space=donor_space)  # fmt: skip
        adapted = ModelFolder(
            path=None,
            config={**base.config, "vocab_size": new.vocab_size},
            weights=transplant_weights(base, match, recipe),
            tokenizer=new,
            architecture="bert",
            input_embedding_key=base.input_embedding_key,
            output_embedding_key=None,
            tokenizer_json=tokenizer_json,
        )
        return adapted, match, recipe

    if select_layer:
        dev_reference = np.asarray(sentence_embeddings(base, dev))
        dev_sim = dev_reference @ dev_reference.T
        print("development split, OMP donor layer: | layer | cosine | Spearman |")
        scores: dict[int, float] = {}
        for layer in range(int(base.config["num_hidden_layers"]) + 1):
            adapted, _, _ = adapt("omp", layer)
            vectors = np.asarray(sentence_embeddings(adapted, dev))
            scores[layer] = float((vectors * dev_reference).sum(axis=1).mean())
            rho = spearman_upper(dev_sim, vectors @ vectors.T)
            print(f"| {layer} | {scores[layer]:.4f} | {rho:.4f} |", flush=True)
        donor_layer = max(scores, key=lambda layer: scores[layer])
        print(f"chosen on the development split: layer {donor_layer}")
    reference = np.asarray(sentence_embeddings(base, sentences))
    reference_sim = reference @ reference.T
    cosines: dict[str, np.ndarray] = {}
    similarities: dict[str, np.ndarray] = {}
    notes: dict[str, str] = {}
    for method in methods:
        begun = time.perf_counter()
        adapted, match, recipe = adapt(method, donor_layer)
        vectors = np.asarray(sentence_embeddings(adapted, sentences))
        cosines[method] = (vectors * reference).sum(axis=1)
        similarities[method] = vectors @ vectors.T
        own = recipe.method_of_row.count("omp" if method == "omp-text" else method)
        notes[method] = (f"{own:,} of {match.missing_new.size:,} | "
                         f"{time.perf_counter() - begun:.0f}")  # fmt: skip
        print(f"  {method}: cosine {cosines[method].mean():.4f}, Spearman "
              f"{spearman_upper(reference_sim, similarities[method]):.4f} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
    cosine_means, rhos = paired_bootstrap(cosines, similarities, reference_sim, 1000,
                                          20 if quick else draws)  # fmt: skip
    print(f"test split; 95% bootstrap intervals (cosine: 1,000 resamples of the sentences; "
          f"Spearman: {20 if quick else draws} resamples, their distinct sentences)")  # fmt: skip
    print("| method | cosine to original (mean) | 95% CI | Spearman of similarities | 95% CI "
          "| new rows built by the method | s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for method in methods:
        low, high = interval(cosine_means[method])
        rho = spearman_upper(reference_sim, similarities[method])
        rho_low, rho_high = interval(rhos[method])
        print(f"| {method} | {cosines[method].mean():.4f} | [{low:.4f}, {high:.4f}] | "
              f"{rho:.4f} | [{rho_low:.4f}, {rho_high:.4f}] | {notes[method]} |")  # fmt: skip
    if "omp" in methods:
        print("paired differences (omp − other, same resamples; 95% CI; 'apart': the two "
              "methods' own intervals do not overlap)")  # fmt: skip
        print("| other | Δ cosine | 95% CI | intervals apart | Δ Spearman | 95% CI | "
              "intervals apart |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        for other in (m for m in methods if m != "omp"):
            cells = []
            for own, theirs, point in (
                (cosine_means["omp"], cosine_means[other],
                 cosines["omp"].mean() - cosines[other].mean()),
                (rhos["omp"], rhos[other],
                 spearman_upper(reference_sim, similarities["omp"])
                 - spearman_upper(reference_sim, similarities[other])),
            ):  # fmt: skip
                low, high = interval(own - theirs)
                apart = (
                    interval(own)[0] > interval(theirs)[1] or interval(own)[1] < interval(theirs)[0]
                )
                cells.append(f"{point:+.4f} | [{low:+.4f}, {high:+.4f}] | "
                             f"{'yes' if apart else 'no'}")  # fmt: skip
            print(f"| {other} | " + " | ".join(cells) + " |")
    print(f"shared tokens copied: {match.shared_new.size:,}; specials matched: "
          f"{match.special_new.size}; OMP (k = 64) donor space: MiniLM's hidden state of each "
          f"token's old pieces after layer {donor_layer} (omp-text: its sentence embedding of "
          "the token's text); TokenAdapt's external space: MiniLM sentence embeddings")  # fmt: skip
    print(f"section: {time.perf_counter() - started:.0f} s wall, "
          f"{time.process_time() - cpu_started:.0f} s CPU (this process)")  # fmt: skip


# ---- 5. dynamic ------------------------------------------------------------------------------


def dynamic(plot: str | None) -> None:
    from toksmith.adapt.dynamic import DynamicReport, dynamic_lengths
    from toksmith.corpus import iter_texts
    from toksmith.report.adapt import plot_dynamic, render_dynamic
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
    report = DynamicReport(corpus="UDHR, 8 languages", results=results)
    print(render_dynamic(report, "md"))
    if plot:
        plot_dynamic(report, plot)
        print(f"plot: {plot}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("synthetic", "minilm", "causal", "dynamic"))
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--plot", help="dynamic: write the length-reduction plot here (PNG)")
    parser.add_argument("--workers", type=int, default=2, help="causal: worker processes")
    parser.add_argument("--methods", default=",".join(METHODS), help="minilm: methods, in order")
    parser.add_argument("--sentences", type=int, default=1200, help="minilm: sentences")
    parser.add_argument("--draws", type=int, default=200, help="minilm: Spearman bootstrap draws")
    parser.add_argument(
        "--donor-layer",
        type=int,
        default=4,
        help="minilm: OMP donor layer (chosen on the development split)",
    )
    parser.add_argument(
        "--select-layer",
        action="store_true",
        help="minilm: score every donor layer on the development split first",
    )
    args = parser.parse_args()
    begun = time.perf_counter()
    if args.only in (None, "synthetic"):
        synthetic()
    if args.only in (None, "dynamic"):
        dynamic(args.plot)
    if args.only in (None, "minilm"):
        minilm(args.quick, args.methods.split(","), args.sentences, args.draws,
               args.donor_layer, args.select_layer)  # fmt: skip
    if args.only in (None, "causal"):  # adapt_causal.py runs it alone, with more options
        causal(args.quick, args.seeds, args.workers)
    print(f"\nall sections: {time.perf_counter() - begun:.0f} s")


if __name__ == "__main__":
    main()
