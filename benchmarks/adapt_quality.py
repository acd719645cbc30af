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
             merged tokens (merged units embedded by subword-mean and by omp, donor LM B)
  dynamic    length reduction of dynamic merges on UDHR for a few built-ins (table; --plot)

Run: .venv/bin/python benchmarks/adapt_quality.py [--only causal] [--quick] [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
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


# ---- 4. causal LMs ---------------------------------------------------------------------------


def drop_seen_paragraphs(held: list[str], train: list[str]) -> tuple[list[str], int]:
    """Held-out texts without the paragraphs that occur verbatim in the training texts (the
    standard library repeats some docstrings across modules), and the bytes dropped."""
    seen = {p.strip() for text in train for p in text.split("\n\n")}
    kept: list[str] = []
    dropped = 0
    for text in held:
        paragraphs = text.split("\n\n")
        fresh = [p for p in paragraphs if p.strip() not in seen]
        dropped += sum(len(p.encode("utf-8")) for p in paragraphs if p.strip() in seen)
        if fresh:
            kept.append("\n\n".join(fresh))
    return kept, dropped


def cpu_s() -> float:
    """User + system CPU time of this process and its finished children, seconds."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def split_bits(model, texts: list[str], new_ids: np.ndarray) -> tuple[float, float, float]:
    """Bits per byte of ``texts`` and its two parts: the bits spent on tokens the old
    vocabulary shares and on the new (estimated) tokens, each over all the bytes; and the
    share of new tokens among the targets."""
    from toksmith.models.causal import token_logprobs

    encoded = model.tokenizer.encode_batch(texts)
    ids = np.concatenate([np.asarray(e, dtype=np.int64) for e in encoded])
    bits = -np.concatenate(token_logprobs(model, texts)) / np.log(2)
    total = sum(len(t.encode("utf-8")) for t in texts)
    new = np.isin(ids, new_ids)
    return float(bits[~new].sum() / total), float(bits[new].sum() / total), float(new.mean())


OWN = ("A (own tokenizer)", "B (donor, own tokenizer)")


def cell_text(values: list[float], digits: int = 3) -> str:
    mean, low, high = ci95(np.asarray(values))
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def print_causal(
    rows: dict[str, dict[str, list[float]]],
    parts: dict[str, dict[str, list[float]]],
    norms: dict[str, list[float]],
    dynamic_rows: dict[tuple[int, str], dict[str, list[float]]],
    heal: int,
) -> None:
    """The causal section's tables from the per-seed figures."""
    seeds = len(rows["zero"]["zero-shot"])
    print(
        f"\n{seeds} seeds (A, B, the healing batches: seed, seed + 100, seed); mean and "
        "Student-t 95% interval over the seeds; bits per byte of the held-out bytes"
    )
    print(f"| model | zero-shot bits/byte | after {heal} healing steps | zero-shot, new tokens' "
          "output rows = mean row |")  # fmt: skip
    print("|---|---|---|---|")
    for name, cell in rows.items():
        healed_text = cell_text(cell["healed"]) if "healed" in cell else "–"
        ablation = cell_text(cell["output mean"]) if "output mean" in cell else "–"
        print(f"| {name} | {cell_text(cell['zero-shot'])} | {healed_text} | {ablation} |")
    for name in OWN:
        print(f"{name}: bits/byte on 40 training modules {cell_text(rows[name]['train'])}")
    for phase in ("zero-shot", "healed"):
        order = sorted(METHODS, key=lambda m: np.mean(rows[m][phase]))
        print(f"{phase} order (best first): " + " < ".join(order))
        per_seed = [
            " < ".join(sorted(METHODS, key=lambda m, s=s: rows[m][phase][s])) for s in range(seeds)
        ]
        print(f"  per seed: {' | '.join(per_seed)}")
    print(
        "\nWhere the zero-shot bits go: bits per byte spent on target tokens A shares with B "
        "(copied rows) and on B's new tokens (estimated rows); new-row norm / copied-row norm"
    )
    print("| method | on shared targets | on new targets | new-row norm ratio |")
    print("|---|---|---|---|")
    for method in METHODS:
        split = parts[method]
        print(f"| {method} | {cell_text(split['shared'])} | {cell_text(split['new'])} | "
              f"{np.mean(norms[method]):.2f} |")  # fmt: skip
    print(
        f"share of held-out B tokens that are new to A: {np.mean(parts['zero']['new share']):.3f}"
    )
    print(
        "\n## 5. LM A on dynamically merged tokens (held-out text in sequences of 128 A tokens, "
        "merges learned per batch of 32 sequences, word boundaries, pairs seen ≥ 2×; omp's "
        "donor: LM B, the merged units looked up by their bytes in B's vocabulary, the rest "
        "subword-mean)"
    )
    print("| merges per batch | embedding | length reduction | new units per sequence | "
          "units embedded by omp | bits/byte |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for (count, name), cell in sorted(dynamic_rows.items()):
        print(f"| {count} | {name} | {100 * np.mean(cell['reduction']):.1f}% | "
              f"{np.mean(cell['units']):.2f} | {100 * np.mean(cell['omp share']):.0f}% | "
              f"{cell_text(cell['bits'])} |")  # fmt: skip


def combine_dumps(paths: list[str]) -> None:
    """Print the causal tables of several ``--dump`` files (seeds run in separate processes)."""
    rows: dict[str, dict[str, list[float]]] = {}
    parts: dict[str, dict[str, list[float]]] = {}
    norms: dict[str, list[float]] = {}
    dynamic_rows: dict[tuple[int, str], dict[str, list[float]]] = {}
    heal = 0
    for path in paths:
        data = json.loads(Path(path).read_text("utf-8"))
        heal = data.get("heal", 200)  # dumps of the first version lack the settings
        for target, source in ((rows, data["rows"]), (parts, data["parts"])):
            for name, cell in source.items():
                for key, values in cell.items():
                    target.setdefault(name, {}).setdefault(key, []).extend(values)
        for name, values in data["norms"].items():
            norms.setdefault(name, []).extend(values)
        for key, cell in data["dynamic"].items():
            count, name = key.split("|")
            for field, values in cell.items():
                dynamic_rows.setdefault((int(count), name), {}).setdefault(field, []).extend(values)
        print(f"{path}: seeds {data.get('seeds', '?')}, {data.get('wall_s', math.nan):.0f} s "
              f"wall, {data.get('cpu_s', math.nan):.0f} s CPU")  # fmt: skip
    print_causal(rows, parts, norms, dynamic_rows, heal)


def causal(
    quick: bool,
    seeds: int,
    steps_override: tuple[int, int] | None = None,
    dump: str | None = None,
    first_seed: int = 0,
) -> None:
    from toksmith.adapt.evaluate import dynamic_bits_per_byte
    from toksmith.adapt.transplant import (
        cached_embedder,
        minilm_embedder,
        plan_transplant,
        transplant_weights,
    )
    from toksmith.models import ModelFolder
    from toksmith.models.causal import (
        CAUSAL_OUTPUT_KEY,
        CausalLMConfig,
        bits_per_byte,
        continue_training,
        train_causal_lm,
    )
    from toksmith.models.texts import pydoc_texts, split_held_out
    from toksmith.tokenizers.load import load_path
    from toksmith.train import TrainSettings, train_tokenizer

    print("\n## 4. Small causal LMs: B's tokenizer transplanted into A (+ 5. dynamic merges)")
    started, cpu_started, load_started = time.perf_counter(), cpu_s(), os.getloadavg()
    items = pydoc_texts(limit_bytes=600_000 if quick else 2_500_000)
    train_texts, held_all = split_held_out(items)
    held, dropped = drop_seen_paragraphs(held_all, train_texts)
    held = held[:8] if quick else held
    steps, heal, heal_batch = (150, 60, 8) if quick else (500, 200, 8)
    if steps_override is not None:  # a smoke run of the code path
        steps, heal = steps_override
    merge_counts = [0, 10, 100, 1000]
    config = CausalLMConfig(hidden=128, layers=4, heads=4, context=128, batch_size=16)
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
    train_bytes = sum(len(x.encode()) for x in train_texts)
    train_tokens_a = sum(len(ids) for ids in tok_a.encode_batch(train_texts))
    print(f"text: {len(train_texts):,} stdlib docstring modules to train on ({train_bytes:,} "
          f"bytes, {train_tokens_a:,} tokens of A); {len(held)} modules held out "
          f"({held_bytes:,} bytes; every 10th module, with {dropped:,} bytes of paragraphs "
          "that also occur in the training modules removed). Tokenizers trained on the "
          f"training modules only: A BPE {tok_a.vocab_size:,} (gpt4 pattern), B BPE "
          f"{tok_b.vocab_size:,} (gpt2 pattern, single digits). LMs: hidden 128, 4 layers, 4 "
          f"heads, context 128, tied embeddings, {steps} steps of 16 × 128 tokens "
          f"({steps * 16 * 128 / train_tokens_a:.1f} epochs of A's tokens); healing: {heal} "
          f"steps of {heal_batch} × 128 tokens at learning rate 1e-3 on the training "
          "modules")  # fmt: skip
    embed = cached_embedder(minilm_embedder())  # TokenAdapt's space: the same for every seed
    rows: dict[str, dict[str, list[float]]] = {}
    parts: dict[str, dict[str, list[float]]] = {}
    norms: dict[str, list[float]] = {}
    dynamic_rows: dict[tuple[int, str], dict[str, list[float]]] = {}
    for seed in range(first_seed, first_seed + seeds):
        lm_a = train_causal_lm(tok_a, train_texts, config, steps=steps, seed=seed)
        lm_b = train_causal_lm(tok_b, train_texts, config, steps=steps, seed=seed + 100)
        if seed == first_seed:
            sizes = {name: sum(w.size for w in lm.weights.values()) for name, lm in
                     (("A", lm_a), ("B", lm_b))}  # fmt: skip
            print(f"parameters: A {sizes['A']:,}, B {sizes['B']:,}", flush=True)
        for name, lm in zip(OWN, (lm_a, lm_b), strict=True):
            rows.setdefault(name, {}).setdefault("zero-shot", []).append(bits_per_byte(lm, held))
            rows[name].setdefault("train", []).append(
                bits_per_byte(lm, train_texts[:: max(len(train_texts) // 40, 1)])
            )
        # The ablation: each method's input rows with the output rows of the new tokens set to
        # the mean row (an untied copy), to see which side of a tied model the method's rows
        # help or hurt.
        mean_match, mean_recipe = plan_transplant(lm_a, tok_b, "mean")
        mean_table = transplant_weights(lm_a, mean_match, mean_recipe)[lm_a.input_embedding_key]
        for method in METHODS:
            match, recipe = plan_transplant(lm_a, tok_b, method, k=64, donor=lm_b,
                                            corpus_texts=train_texts,
                                            embed_texts=embed)  # fmt: skip
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
            shared_bits, new_bits, new_share = split_bits(adapted, held, match.missing_new)
            cell = rows.setdefault(method, {})
            cell.setdefault("zero-shot", []).append(shared_bits + new_bits)
            untied = ModelFolder(
                path=None,
                config={**adapted.config, "tie_word_embeddings": False},
                weights={**weights, CAUSAL_OUTPUT_KEY: mean_table},
                tokenizer=tok_b,
                architecture="causal",
                input_embedding_key=lm_a.input_embedding_key,
                output_embedding_key=CAUSAL_OUTPUT_KEY,
                tokenizer_json=json_b,
            )
            cell.setdefault("output mean", []).append(bits_per_byte(untied, held))
            split = parts.setdefault(method, {})
            split.setdefault("shared", []).append(shared_bits)
            split.setdefault("new", []).append(new_bits)
            split.setdefault("new share", []).append(new_share)
            table = weights[lm_a.input_embedding_key]
            copied = np.linalg.norm(table[match.shared_new], axis=1).mean()
            norms.setdefault(method, []).append(
                float(np.linalg.norm(table[match.missing_new], axis=1).mean() / copied)
            )
            healed = continue_training(adapted, train_texts, steps=heal, seed=seed,
                                       batch_size=heal_batch)  # fmt: skip
            cell.setdefault("healed", []).append(bits_per_byte(healed, held))
        result = dynamic_bits_per_byte(lm_a, held, merge_counts, donor=lm_b, k=64)
        for row in result.rows:
            cell = dynamic_rows.setdefault((row.merges, row.embedding), {})
            cell.setdefault("bits", []).append(row.bits_per_byte)
            cell.setdefault("reduction", []).append(row.length_reduction)
            cell.setdefault("units", []).append(row.new_units / max(result.sequences, 1))
            cell.setdefault("omp share", []).append(
                row.rows_by_source.get("omp", 0) / max(row.new_units, 1)
            )
        if dump:  # the raw figures so far, in case a later seed or the printing fails
            Path(dump).write_text(json.dumps({
                "rows": rows, "parts": parts, "norms": norms, "heal": heal,
                "seeds": list(range(first_seed, seed + 1)),
                "wall_s": time.perf_counter() - started, "cpu_s": cpu_s() - cpu_started,
                "dynamic": {f"{m}|{e}": cell for (m, e), cell in dynamic_rows.items()},
            }), "utf-8")  # fmt: skip
        print(f"  seed {seed} done ({time.perf_counter() - started:.0f} s wall, "
              f"{cpu_s() - cpu_started:.0f} s CPU)", flush=True)  # fmt: skip
    print_causal(rows, parts, norms, dynamic_rows, heal)
    print(f"causal section: {time.perf_counter() - started:.0f} s wall, "
          f"{cpu_s() - cpu_started:.0f} s CPU (user + sys); load average "
          f"{load_started[0]:.2f} before, {os.getloadavg()[0]:.2f} after")  # fmt: skip


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
    parser.add_argument("--dump", help="causal: write the raw per-seed figures to this JSON")
    parser.add_argument("--first-seed", type=int, default=0, help="causal: seeds from this one")
    parser.add_argument("--combine", help="causal: print the tables of these --dump files")
    parser.add_argument("--steps", help="causal: training,healing steps (a smoke run)")
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
    if args.only in (None, "causal"):
        override = tuple(int(x) for x in args.steps.split(",")) if args.steps else None
        if args.combine:
            combine_dumps(args.combine.split(","))
        else:
            causal(args.quick, args.seeds, override, args.dump, args.first_seed)  # type: ignore[arg-type]
    print(f"\nall sections: {time.perf_counter() - begun:.0f} s")


if __name__ == "__main__":
    main()
