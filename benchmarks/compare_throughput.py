"""Throughput of ``toksmith compare`` against each backend's own fastest batch encoder.

Claim (issue: foundation): on a corpus of at least 50 MB, compare with the built-in tokenizers
reaches at least 90% of the throughput of calling each backend's batch encoder directly on
both cores, and its peak RSS stays under 1 GiB.

- Corpus: every UDHR translation in ../shared/corpora/udhr, its lines repeated and shuffled
  (fixed seed) into a plain-text file of at least --size-mb MB.
- toksmith: a child process loads the tokenizers, then times ``compare_corpus`` on the file
  (streaming read, word segmentation, all measures). Its peak RSS is read from the child.
- Reference: for each tokenizer, the backend's batch call on the same lines held in memory,
  in batches of the same size: tiktoken ``encode_ordinary_batch(num_threads=2)``, HF
  ``encode_batch_fast`` and each encoding's ``.ids``, SentencePiece ``encode(num_threads=2)``;
  every reference ends with the token ids as Python lists. Reading is not timed.
Ratio = (sum of reference encode times) / (toksmith compare time): ≥ 0.9 meets the target.

Usage: python benchmarks/compare_throughput.py [--size-mb 50] [-t NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UDHR = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "udhr"

CHILD = r"""
import json, sys, time
from toksmith.tokenizers import load_tokenizer
from toksmith.metrics import compare_corpus
names, path = json.loads(sys.argv[1]), sys.argv[2]
tokenizers = [load_tokenizer(n) for n in names]
start = time.perf_counter()
result = compare_corpus(tokenizers, path)
elapsed = time.perf_counter() - start
print(json.dumps({"elapsed_s": elapsed, "tokens": {r.tokenizer: r.tokens for r in result.results}}))
"""


def build_corpus(size_mb: float, folder: Path) -> Path:
    lines = []
    for path in sorted(UDHR.glob("*.tsv")):
        if path.name == "index.tsv":
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            lines.append(line.partition("\t")[2])
    rng = random.Random(1234)
    target = size_mb * 1e6
    out = folder / "udhr_repeated.txt"
    written = 0
    with open(out, "w", encoding="utf-8") as handle:
        while written < target:
            rng.shuffle(lines)
            for line in lines:
                handle.write(line + "\n")
                written += len(line.encode("utf-8")) + 1
                if written >= target:
                    break
    return out


def reference_seconds(name: str, batches: list[list[str]]) -> tuple[float, int]:
    from toksmith.tokenizers import load_tokenizer

    tokenizer = load_tokenizer(name)
    threads = os.cpu_count() or 1
    if tokenizer.backend in ("tiktoken", "tekken"):
        encoding = tokenizer.encoding

        def encode(batch):
            return encoding.encode_ordinary_batch(batch, num_threads=threads)
    elif tokenizer.backend == "hf":
        hf = tokenizer.hf

        def encode(batch):
            # The ids, as tiktoken and SentencePiece return them: HF builds them lazily.
            return [e.ids for e in hf.encode_batch_fast(batch, add_special_tokens=False)]
    else:
        processor = tokenizer.processor

        def encode(batch):
            return processor.encode(batch, num_threads=threads)

    tokens = 0
    start = time.perf_counter()
    for batch in batches:
        result = encode(batch)
        tokens += len(result)
    return time.perf_counter() - start, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=float, default=50.0)
    parser.add_argument("-t", "--tokenizer", action="append", dest="tokenizers")
    args = parser.parse_args()
    if not UDHR.is_dir():
        sys.exit(f"benchmark needs {UDHR}")
    from toksmith.metrics.compare import BATCH_BYTES
    from toksmith.tokenizers import builtin_names

    names = args.tokenizers or builtin_names()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = build_corpus(args.size_mb, Path(tmp))
        size_mb = corpus.stat().st_size / 1e6
        print(
            f"corpus: {size_mb:.1f} MB of shuffled UDHR lines, {len(names)} tokenizers, "
            f"{os.cpu_count()} cores"
        )

        child = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(names), str(corpus)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        ours = json.loads(child.stdout)
        peak_rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        ours_s = ours["elapsed_s"]

        lines = corpus.read_text(encoding="utf-8").splitlines()
        batches, batch, size = [], [], 0
        for line in lines:
            batch.append(line)
            size += len(line)
            if size >= BATCH_BYTES:
                batches.append(batch)
                batch, size = [], 0
        if batch:
            batches.append(batch)
        del lines

        print(f"{'tokenizer':24} {'reference MB/s':>15}")
        reference_total_s = 0.0
        for name in names:
            seconds, _ = reference_seconds(name, batches)
            reference_total_s += seconds
            print(f"{name:24} {size_mb / seconds:15.2f}")

    tokenizer_mb = size_mb * len(names)
    print(
        f"reference (backends' own batch encoders): {tokenizer_mb / reference_total_s:.2f} "
        f"tokenizer-MB/s ({reference_total_s:.1f} s)"
    )
    print(
        f"toksmith compare (all measures):          {tokenizer_mb / ours_s:.2f} "
        f"tokenizer-MB/s ({ours_s:.1f} s)"
    )
    ratio = reference_total_s / ours_s
    print(
        f"throughput ratio toksmith/reference: {ratio:.2f} (target >= 0.90: "
        f"{'met' if ratio >= 0.9 else 'NOT met'})"
    )
    print(
        f"peak RSS of the toksmith process: {peak_rss_mib:.0f} MiB (target < 1024: "
        f"{'met' if peak_rss_mib < 1024 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
