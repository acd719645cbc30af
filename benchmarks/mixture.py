"""Benchmark: data mixture inference on 10 categories x 1 MB with 30,000 merges.

Claim (issue "Data mixture inference"): ``toksmith audit mixture`` with 10 categories of 1 MB
each and 30,000 merges finishes in under 10 minutes and 4 GiB of peak RSS on 2 cores, and
recovers a known mixture far better than a naive baseline.

It draws shares for 10 categories (Python standard-library source and wordfreq-generated text
of 9 languages) from a fixed Dirichlet, trains a byte-level BPE tokenizer with HF ``tokenizers``
on that mixture (one half of each source), writes 1 MB held-out samples (the other half) as a
categories folder, and runs the real command in a child process. It prints elapsed time, the
child's peak RSS, the mean absolute error of the estimate, and the errors of two naive
baselines (uniform shares; shares of merged tokens by the category that uses them most).

    .venv/bin/python benchmarks/mixture.py [--merges 30000] [--sample-mb 1] [--replays 0]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mixture_corpora  # benchmarks/mixture_corpora.py, next to this script
import numpy as np
from tokenizers import Tokenizer as HFTokenizer
from tokenizers import models, pre_tokenizers, trainers

from toksmith.audit.mixture import read_categories, vocabulary_share_baseline
from toksmith.tokenizers.hf_json import load_hf_json

LANGUAGES = ("en", "fr", "de", "es", "it", "ru", "ar", "hi", "ko")
CATEGORIES = ("python", *LANGUAGES)


def category_text(name: str, size_bytes: int, part: int) -> str:
    if name == "python":
        return mixture_corpora.python_source(size_bytes, part)
    return mixture_corpora.wordfreq_text(name, size_bytes, part)


def train(texts: list[str], merges: int, path: Path) -> None:
    hf = HFTokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=256 + merges,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    hf.train_from_iterator(texts, trainer)
    hf.save(str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merges", type=int, default=30_000)
    parser.add_argument("--sample-mb", type=float, default=1.0)
    parser.add_argument("--training-mb", type=float, default=12.0)
    parser.add_argument("--replays", type=int, default=0)
    args = parser.parse_args()

    truth = np.random.default_rng(0).dirichlet(np.ones(len(CATEGORIES)))
    sample_bytes = int(args.sample_mb * 1_000_000)
    with tempfile.TemporaryDirectory(prefix="toksmith-mixture-") as temporary:
        root = Path(temporary)
        started = time.perf_counter()
        training = [
            category_text(name, int(args.training_mb * 1_000_000 * share), 0)
            for name, share in zip(CATEGORIES, truth, strict=True)
        ]
        train(training, args.merges, root / "tokenizer.json")
        del training
        categories = root / "categories"
        categories.mkdir()
        for name in CATEGORIES:
            text = category_text(name, sample_bytes, 1)
            (categories / f"{name}.txt").write_text(text, encoding="utf-8")
        print(f"prepared tokenizer and categories in {time.perf_counter() - started:.0f} s")

        command = [
            sys.executable, "-m", "toksmith", "audit", "mixture", "-t", str(root / "tokenizer.json"),
            "--categories", str(categories), "--merges", str(args.merges),
            "--sample-mb", str(args.sample_mb), "--replays", str(args.replays),
            "--format", "json", "-o", str(root / "estimate.json"),
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, check=True)
        elapsed_s = time.perf_counter() - started
        peak_rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        estimate = json.loads((root / "estimate.json").read_text(encoding="utf-8"))

        tokenizer = load_hf_json(root / "tokenizer.json")
        samples = read_categories(categories, sample_mb=args.sample_mb)
        baseline = vocabulary_share_baseline(tokenizer, samples, max_merges=args.merges)

    shares = {c["name"]: c["share"] for c in estimate["categories"]}
    got = np.array([shares[name] for name in CATEGORIES])
    base = np.array([baseline[name] for name in CATEGORIES])
    mae = float(np.abs(got - truth).mean())
    base_mae = float(np.abs(base - truth).mean())
    uniform_mae = float(np.abs(1 / len(CATEGORIES) - truth).mean())
    print(f"{'category':10} {'true':>7} {'ours':>7} {'baseline':>9}")
    for name, true, ours, naive in zip(CATEGORIES, truth, got, base, strict=True):
        print(f"{name:10} {true:7.4f} {ours:7.4f} {naive:9.4f}")
    print(
        f"merges used {estimate['merges_used']:,}; constraints {estimate['constraints_used']:,}"
        f" (pool {estimate['candidate_constraints']:,}); LP rounds {estimate['lp_rounds']}; "
        f"replays {estimate['verification_replays']}; verified {estimate['verified']}"
    )
    print(f"elapsed: {elapsed_s:.1f} s (target < 600 s)")
    print(f"peak RSS: {peak_rss_mib:,.0f} MiB (target < 4096 MiB)")
    print(
        f"mean absolute error: ours {mae:.4f}; vocabulary-share baseline {base_mae:.4f} "
        f"({base_mae / mae:.1f}x ours); uniform {uniform_mae:.4f} ({uniform_mae / mae:.1f}x ours)"
    )


if __name__ == "__main__":
    main()
