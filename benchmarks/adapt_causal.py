"""Small causal LMs: B's tokenizer transplanted into LM A with every method (issue 12, items 4
and 5), the whole experiment on a pool of single-core worker processes.

LM A (tokenizer A) and a donor LM B (tokenizer B) are trained on the same stdlib docstrings;
B's tokenizer is transplanted into A with each method; held-out bits per byte zero-shot, after
healing steps, and with the new tokens' output rows set to the mean row (an ablation); then LM
A on dynamically merged tokens. Three seeds, Student-t 95% intervals.

The work is split into tasks (train A or B of a seed; one method of a seed; the dynamic merges
of a seed), run on ``--workers`` processes each pinned to one core: on 2 cores two single-core
XLA processes do about a third more steps per second than one process with two threads. The
models go from task to task as model folders (safetensors) in a scratch folder. A task's
figures do not depend on the worker or the order it runs in.

Run: .venv/bin/python benchmarks/adapt_causal.py [--seeds 3] [--workers 2] [--quick]
     [--dump F] [--combine F1,F2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import t

from toksmith.adapt.methods import METHODS

OWN = ("A (own tokenizer)", "B (donor, own tokenizer)")
MERGE_COUNTS = (0, 10, 100, 1000)
TASK_KINDS = {"train": "training A and B", "dynamic": "dynamic merges"}
TRAIN_SAMPLE = 40  # training modules scored for the own models' training bits per byte


def ci95(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and a Student-t 95% interval over a few seeds."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return mean, mean, mean
    half = float(t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half, mean + half


def cpu_s() -> float:
    """User + system CPU time of this process and its finished children, seconds."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


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


# ---- the tasks (run in the worker processes) -------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """What every task reads: the scratch folder (texts, tokenizers, models) and the settings."""

    scratch: str
    steps: int
    heal: int
    heal_batch: int
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    context: int = 128
    batch_size: int = 16
    k: int = 64
    methods: tuple[str, ...] = METHODS

    def model_path(self, seed: int, which: str) -> Path:
        return Path(self.scratch) / f"seed{seed}" / which


def pin_to_core(cores: Any) -> None:
    """Worker initialiser: run on one core of the queue ``cores`` (before JAX starts)."""
    core = cores.get()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


@cache
def texts(scratch: str) -> tuple[list[str], list[str]]:
    """The training and held-out texts (read once per worker)."""
    data = json.loads((Path(scratch) / "texts.json").read_text("utf-8"))
    return data["train"], data["held"]


@cache
def tokenizer(scratch: str, which: str) -> Any:
    from toksmith.tokenizers.load import load_path

    return load_path(Path(scratch) / which / "tokenizer.json")


@cache
def tokenadapt_space() -> Callable:
    """MiniLM sentence embeddings, cached: TokenAdapt's external space, the same every seed."""
    from toksmith.adapt.transplant import cached_embedder, minilm_embedder

    return cached_embedder(minilm_embedder())


SEED_FREE_PLANS: dict[str, Any] = {}
"""A worker's matches and recipes of the methods that do not read the donor LM: they depend on
the two tokenizers (and the training text or MiniLM) only, not on LM A's weights, so each
worker builds each once rather than once per seed."""


def seed_free_plan(scratch: str, method: str, lm_a: Any) -> Any:
    from toksmith.adapt.transplant import plan_transplant

    if method not in SEED_FREE_PLANS:
        train, _ = texts(scratch)
        embed = tokenadapt_space() if method == "tokenadapt" else None
        SEED_FREE_PLANS[method] = plan_transplant(lm_a, tokenizer(scratch, "b"), method,
                                                  corpus_texts=train, embed_texts=embed)  # fmt: skip
    return SEED_FREE_PLANS[method]


def train_task(setup: Setup, seed: int, which: str) -> dict[str, Any]:
    """Train LM ``which`` ("a": seed, "b": seed + 100), write it, score it."""
    from toksmith.models import write_model
    from toksmith.models.causal import CausalLMConfig, bits_per_byte, train_causal_lm

    started, cpu_started = time.perf_counter(), cpu_s()
    train, held = texts(setup.scratch)
    config = CausalLMConfig(hidden=setup.hidden, layers=setup.layers, heads=setup.heads,
                            context=setup.context, batch_size=setup.batch_size)  # fmt: skip
    lm = train_causal_lm(tokenizer(setup.scratch, which), train, config, steps=setup.steps,
                         seed=seed if which == "a" else seed + 100)  # fmt: skip
    target = setup.model_path(seed, which)
    target.parent.mkdir(exist_ok=True)
    write_model(lm, target)
    return {
        "zero-shot": bits_per_byte(lm, held),
        "train": bits_per_byte(lm, train[:: max(len(train) // TRAIN_SAMPLE, 1)]),
        "parameters": int(sum(w.size for w in lm.weights.values())),
        "wall_s": time.perf_counter() - started,
        "cpu_s": cpu_s() - cpu_started,
    }


def split_bits(model: Any, held: list[str], new_ids: np.ndarray) -> tuple[float, float, float]:
    """Bits per byte of ``held`` and its two parts: the bits spent on tokens the old
    vocabulary shares and on the new (estimated) tokens, each over all the bytes; and the
    share of new tokens among the targets."""
    from toksmith.models.causal import token_logprobs

    encoded = model.tokenizer.encode_batch(held)
    ids = np.concatenate([np.asarray(e, dtype=np.int64) for e in encoded])
    bits = -np.concatenate(token_logprobs(model, held)) / np.log(2)
    total = sum(len(text.encode("utf-8")) for text in held)
    new = np.isin(ids, new_ids)
    return float(bits[~new].sum() / total), float(bits[new].sum() / total), float(new.mean())


def method_task(setup: Setup, seed: int, method: str) -> dict[str, Any]:
    """Transplant tokenizer B into LM A of ``seed`` with ``method``: zero-shot bits per byte
    (split into shared and new targets), the output-mean ablation, and after healing."""
    from toksmith.adapt.transplant import plan_transplant, transplant_weights
    from toksmith.models import ModelFolder, load_model
    from toksmith.models.causal import CAUSAL_OUTPUT_KEY, bits_per_byte, continue_training

    started, cpu_started = time.perf_counter(), cpu_s()
    train, held = texts(setup.scratch)
    lm_a = load_model(setup.model_path(seed, "a"))
    tok_b = tokenizer(setup.scratch, "b")
    json_b = (Path(setup.scratch) / "b" / "tokenizer.json").read_text("utf-8")
    if method == "omp":
        donor = load_model(setup.model_path(seed, "b"))
        match, recipe = plan_transplant(lm_a, tok_b, method, k=setup.k, donor=donor)
    else:
        match, recipe = seed_free_plan(setup.scratch, method, lm_a)
    weights = transplant_weights(lm_a, match, recipe)

    def adapted_model(config: dict[str, Any], tensors: dict, output_key: str | None) -> Any:
        return ModelFolder(path=None, config=config, weights=tensors, tokenizer=tok_b,
                           architecture="causal", input_embedding_key=lm_a.input_embedding_key,
                           output_embedding_key=output_key, tokenizer_json=json_b)  # fmt: skip

    adapted = adapted_model({**lm_a.config, "vocab_size": tok_b.vocab_size}, weights,
                            lm_a.output_embedding_key)  # fmt: skip
    shared_bits, new_bits, new_share = split_bits(adapted, held, match.missing_new)
    # The ablation: the method's input rows with the new tokens' output rows set to the mean
    # row (an untied copy), to see which side of a tied model the method's rows help or hurt.
    mean_match, mean_recipe = seed_free_plan(setup.scratch, "mean", lm_a)
    mean_table = transplant_weights(lm_a, mean_match, mean_recipe)[lm_a.input_embedding_key]
    untied = adapted_model({**adapted.config, "tie_word_embeddings": False},
                           {**weights, CAUSAL_OUTPUT_KEY: mean_table}, CAUSAL_OUTPUT_KEY)  # fmt: skip
    table = weights[lm_a.input_embedding_key]
    copied_norm = np.linalg.norm(table[match.shared_new], axis=1).mean()
    healed = continue_training(adapted, train, steps=setup.heal, seed=seed,
                               batch_size=setup.heal_batch)  # fmt: skip
    return {
        "zero-shot": shared_bits + new_bits,
        "output mean": bits_per_byte(untied, held),
        "healed": bits_per_byte(healed, held),
        "shared": shared_bits,
        "new": new_bits,
        "new share": new_share,
        "norm ratio": float(np.linalg.norm(table[match.missing_new], axis=1).mean() / copied_norm),
        "wall_s": time.perf_counter() - started,
        "cpu_s": cpu_s() - cpu_started,
    }


def dynamic_task(setup: Setup, seed: int) -> dict[str, Any]:
    """LM A of ``seed`` on dynamically merged held-out tokens (omp's donor: LM B)."""
    from toksmith.adapt.evaluate import dynamic_bits_per_byte
    from toksmith.models import load_model

    started, cpu_started = time.perf_counter(), cpu_s()
    _, held = texts(setup.scratch)
    lm_a = load_model(setup.model_path(seed, "a"))
    lm_b = load_model(setup.model_path(seed, "b"))
    result = dynamic_bits_per_byte(lm_a, held, list(MERGE_COUNTS), donor=lm_b, k=setup.k)
    rows = {
        f"{row.merges}|{row.embedding}": {
            "bits": row.bits_per_byte,
            "reduction": row.length_reduction,
            "units": row.new_units / max(result.sequences, 1),
            "omp share": row.rows_by_source.get("omp", 0) / max(row.new_units, 1),
        }
        for row in result.rows
    }
    return {"rows": rows, "wall_s": time.perf_counter() - started, "cpu_s": cpu_s() - cpu_started}


# ---- the experiment (the parent process) -----------------------------------------------------


def prepare(scratch: Path, quick: bool) -> tuple[str, int]:
    """Texts and tokenizers A and B into ``scratch``; the description of the data and the
    number of A's training tokens."""
    from toksmith.models.texts import pydoc_texts, split_held_out
    from toksmith.tokenizers.load import load_path
    from toksmith.train import TrainSettings, train_tokenizer

    items = pydoc_texts(limit_bytes=600_000 if quick else 2_500_000)
    train, held_all = split_held_out(items)
    held, dropped = drop_seen_paragraphs(held_all, train)
    held = held[:8] if quick else held
    (scratch / "texts.json").write_text(json.dumps({"train": train, "held": held}), "utf-8")
    corpus = scratch / "train.txt"
    corpus.write_text("\n".join(train), "utf-8")
    settings_a = TrainSettings(algorithm="bpe", vocab_size=4096, pattern="gpt4")
    settings_b = TrainSettings(algorithm="bpe", vocab_size=6144, pattern="gpt2", numbers="digits")
    train_tokenizer(settings_a, scratch / "a", corpus=[corpus])
    train_tokenizer(settings_b, scratch / "b", corpus=[corpus])
    tok_a = load_path(scratch / "a" / "tokenizer.json")
    tok_b = load_path(scratch / "b" / "tokenizer.json")
    held_bytes = sum(len(x.encode()) for x in held)
    train_bytes = sum(len(x.encode()) for x in train)
    train_tokens = sum(len(ids) for ids in tok_a.encode_batch(train))
    about = (
        f"text: {len(train):,} stdlib docstring modules to train on ({train_bytes:,} bytes, "
        f"{train_tokens:,} tokens of A); {len(held)} modules held out ({held_bytes:,} bytes; "
        f"every 10th module, with {dropped:,} bytes of paragraphs that also occur in the "
        "training modules removed). Tokenizers trained on the training modules only: A BPE "
        f"{tok_a.vocab_size:,} (gpt4 pattern), B BPE {tok_b.vocab_size:,} (gpt2 pattern, single "
        "digits)."
    )
    return about, train_tokens


ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS")
"""Thread pools a worker would start before it is pinned (numpy's BLAS, the tokenizers' Rust
pool): one thread each, so a worker stays on its core."""


def run_tasks(setup: Setup, seeds: list[int], workers: int) -> dict[str, Any]:
    """Every task of every seed on ``workers`` single-core processes; the figures by task."""
    context = get_context("spawn")
    cores: Any = context.Queue()
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    for number in range(workers):
        cores.put(available[number % len(available)])
    figures: dict[str, Any] = {}
    saved = {name: os.environ.get(name) for name in ONE_THREAD}
    os.environ.update(dict.fromkeys(ONE_THREAD, "1"))  # the spawned workers inherit these
    try:
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=pin_to_core,
                                  initargs=(cores,))  # fmt: skip
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    with pool:
        trained: dict[tuple[int, str], Future] = {
            (seed, which): pool.submit(train_task, setup, seed, which)
            for seed in seeds
            for which in ("a", "b")
        }
        later: dict[str, Future] = {}
        for seed in seeds:  # a seed's adaptation tasks once both its LMs are written
            for which in ("a", "b"):
                figures[f"{seed}|train|{which}"] = trained[(seed, which)].result()
            print(f"  seed {seed}: LMs A and B trained", flush=True)
            for method in setup.methods:
                later[f"{seed}|{method}"] = pool.submit(method_task, setup, seed, method)
            later[f"{seed}|dynamic"] = pool.submit(dynamic_task, setup, seed)
        for key, future in later.items():
            figures[key] = future.result()
    return figures


def collect(figures: dict[str, Any], seeds: list[int], methods: tuple[str, ...]) -> dict[str, Any]:
    """The per-seed figures arranged for :func:`print_causal` (and ``--dump``)."""
    rows: dict[str, dict[str, list[float]]] = {}
    parts: dict[str, dict[str, list[float]]] = {}
    norms: dict[str, list[float]] = {}
    dynamic: dict[str, dict[str, list[float]]] = {}
    for seed in seeds:
        for name, which in zip(OWN, ("a", "b"), strict=True):
            own = figures[f"{seed}|train|{which}"]
            for key in ("zero-shot", "train"):
                rows.setdefault(name, {}).setdefault(key, []).append(own[key])
        for method in methods:
            cell = figures[f"{seed}|{method}"]
            for key in ("zero-shot", "healed", "output mean"):
                rows.setdefault(method, {}).setdefault(key, []).append(cell[key])
            for key in ("shared", "new", "new share"):
                parts.setdefault(method, {}).setdefault(key, []).append(cell[key])
            norms.setdefault(method, []).append(cell["norm ratio"])
        for key, row in figures[f"{seed}|dynamic"]["rows"].items():
            for field, value in row.items():
                dynamic.setdefault(key, {}).setdefault(field, []).append(value)
    return {"rows": rows, "parts": parts, "norms": norms, "dynamic": dynamic}


def cell_text(values: list[float], digits: int = 3) -> str:
    mean, low, high = ci95(np.asarray(values))
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def print_causal(data: dict[str, Any], heal: int) -> None:
    """The causal section's tables from the per-seed figures."""
    rows, parts, norms = data["rows"], data["parts"], data["norms"]
    methods = [method for method in METHODS if method in parts]
    seeds = len(rows[methods[0]]["zero-shot"])
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
        print(f"{name}: bits/byte on {TRAIN_SAMPLE} training modules "
              f"{cell_text(rows[name]['train'])}")  # fmt: skip
    for phase in ("zero-shot", "healed"):
        order = sorted(methods, key=lambda m: np.mean(rows[m][phase]))
        print(f"{phase} order (best first): " + " < ".join(order))
        per_seed = [
            " < ".join(sorted(methods, key=lambda m, s=s: rows[m][phase][s])) for s in range(seeds)
        ]
        print(f"  per seed: {' | '.join(per_seed)}")
    print(
        "\nWhere the zero-shot bits go: bits per byte spent on target tokens A shares with B "
        "(copied rows) and on B's new tokens (estimated rows); new-row norm / copied-row norm"
    )
    print("| method | on shared targets | on new targets | new-row norm ratio |")
    print("|---|---|---|---|")
    for method in methods:
        split = parts[method]
        print(f"| {method} | {cell_text(split['shared'])} | {cell_text(split['new'])} | "
              f"{np.mean(norms[method]):.2f} |")  # fmt: skip
    print(
        f"share of held-out B tokens that are new to A: {np.mean(parts[methods[0]]['new share']):.3f}"
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
    ordered = sorted(
        data["dynamic"].items(), key=lambda item: (int(item[0].split("|")[0]), item[0])
    )
    for key, cell in ordered:
        count, name = key.split("|")
        print(f"| {count} | {name} | {100 * np.mean(cell['reduction']):.1f}% | "
              f"{np.mean(cell['units']):.2f} | {100 * np.mean(cell['omp share']):.0f}% | "
              f"{cell_text(cell['bits'])} |")  # fmt: skip


def combine_dumps(paths: list[str]) -> None:
    """Print the causal tables of several ``--dump`` files (seeds run separately)."""
    merged: dict[str, Any] = {"rows": {}, "parts": {}, "norms": {}, "dynamic": {}}
    heal = 0
    for path in paths:
        data = json.loads(Path(path).read_text("utf-8"))
        heal = data["heal"]
        for section in ("rows", "parts", "dynamic"):
            for name, cell in data[section].items():
                for key, values in cell.items():
                    merged[section].setdefault(name, {}).setdefault(key, []).extend(values)
        for name, values in data["norms"].items():
            merged["norms"].setdefault(name, []).extend(values)
        print(f"{path}: seeds {data['seeds']}, {data['wall_s']:.0f} s wall, "
              f"{data['cpu_s']:.0f} s CPU")  # fmt: skip
    print_causal(merged, heal)


def causal(quick: bool, seeds: int, workers: int, steps: tuple[int, int] | None = None,
           dump: str | None = None, first_seed: int = 0) -> None:  # fmt: skip
    """The whole experiment: prepare, run every task, print the tables and the time taken."""
    print("\n## 4. Small causal LMs: B's tokenizer transplanted into A (+ 5. dynamic merges)")
    started, cpu_started, load_started = time.perf_counter(), cpu_s(), os.getloadavg()
    train_steps, heal = (150, 60) if quick else (500, 200)
    if steps is not None:  # a smoke run of the code path
        train_steps, heal = steps
    seed_list = list(range(first_seed, first_seed + seeds))
    with tempfile.TemporaryDirectory(prefix="toksmith-causal-") as scratch:
        setup = Setup(scratch=scratch, steps=train_steps, heal=heal, heal_batch=8)
        about, train_tokens = prepare(Path(scratch), quick)
        print(about)
        print(f"LMs: hidden {setup.hidden}, {setup.layers} layers, {setup.heads} heads, context "
              f"{setup.context}, tied embeddings, {train_steps} steps of {setup.batch_size} × "
              f"{setup.context} tokens ({train_steps * setup.batch_size * setup.context / train_tokens:.1f} "
              f"epochs of A's tokens); healing: {heal} steps of {setup.heal_batch} × "
              f"{setup.context} tokens at learning rate 1e-3 on the training modules; "
              f"{workers} single-core worker processes", flush=True)  # fmt: skip
        prepared = time.perf_counter() - started
        figures = run_tasks(setup, seed_list, workers)
    data = collect(figures, seed_list, setup.methods)
    first = (
        figures[f"{seed_list[0]}|train|a"]["parameters"],
        figures[f"{seed_list[0]}|train|b"]["parameters"],
    )
    print(f"parameters: A {first[0]:,}, B {first[1]:,}")
    print_causal(data, heal)
    wall, cpu = time.perf_counter() - started, cpu_s() - cpu_started
    task_cpu: dict[str, float] = {}
    for key, cell in figures.items():  # keys: seed|train|a, seed|<method>, seed|dynamic
        kind = TASK_KINDS.get(key.split("|")[1], "adaptation (all methods)")
        task_cpu[kind] = task_cpu.get(kind, 0.0) + cell["cpu_s"]
    print("\nCPU time by task kind: " + ", ".join(f"{k} {v:,.0f} s" for k, v in task_cpu.items())
          + f"; preparing the texts and tokenizers {prepared:.0f} s wall")  # fmt: skip
    print(f"causal experiment: {wall:.0f} s wall ({wall / 60:.1f} min; target ≤ 30 min: "
          f"{'met' if wall <= 1800 else 'not met'}), {cpu:.0f} s CPU (user + sys, every "
          f"process); load average {load_started[0]:.2f} before, {os.getloadavg()[0]:.2f} after")  # fmt: skip
    if dump:
        timings = {key: {"wall_s": cell["wall_s"], "cpu_s": cell["cpu_s"]}
                   for key, cell in figures.items()}  # fmt: skip
        Path(dump).write_text(json.dumps({**data, "heal": heal, "seeds": seed_list,
                                          "wall_s": wall, "cpu_s": cpu, "tasks": timings}),
                              "utf-8")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="single-core worker processes")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    parser.add_argument("--steps", help="training,healing steps (a smoke run of the code path)")
    parser.add_argument("--dump", help="write the raw per-seed figures to this JSON")
    parser.add_argument("--combine", help="print the tables of these --dump files")
    args = parser.parse_args()
    if args.combine:
        combine_dumps(args.combine.split(","))
        return
    steps = tuple(int(x) for x in args.steps.split(",")) if args.steps else None
    causal(args.quick, args.seeds, args.workers, steps, args.dump, args.first_seed)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
