"""Throughput of toksmith's encoders and ``toksmith compare`` against each vendor's own fastest
batch encoder, with identical token totals.

Claim (issue 16): on a corpus of at least 50 MB with every built-in, toksmith encodes at least
2.5 times (stretch: 4 times) as fast as the vendors' own batch encoders, with every token total
identical, and ``compare`` keeps its peak RSS under 1 GiB.

- Corpus: every UDHR translation in ../shared/corpora/udhr, its lines repeated and shuffled
  (fixed seed) into a plain-text file of at least --size-mb MB.
- Vendor (the reference): for each tokenizer, the vendor library's batch call on the lines held
  in memory, in batches of compare's size: tiktoken ``encode_ordinary_batch(num_threads=2)``,
  HF ``encode_batch_fast`` and each encoding's ``.ids``, SentencePiece ``encode(num_threads=2)``;
  every reference ends with the token ids as Python lists.
- toksmith: ``load_tokenizer(name)`` (``--engine auto``: the fast engine where parity is
  pinned) and its ``encode_batch_numpy`` on the same batches, as compare calls it. Starting
  the fast engine (a few CPU seconds; compare does it in a background thread after 1M
  characters) is timed apart, one engine after the other, and counted in the headline
  ratio. Reading is not timed.
- compare: a child process times ``compare_corpus`` with all tokenizers on the file (streaming
  read, word segmentation, all measures; with many vocabularies it measures them in groups
  under its memory budget); its peak RSS is read from the child. Its token totals must equal
  the vendors'.
Ratio = (sum of vendor encode times) / (sum of toksmith encode times + engine start-up); the
target is >= 2.5 (stretch 4). The ratio without start-up is printed too. Every wall time is
printed with the process CPU time (user + system) spent in it, and the load average at the
start and end, so a run on a loaded machine can be judged.

Usage: python benchmarks/compare_throughput.py [--size-mb 50] [-t NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from udhr_corpus import UDHR, build_corpus  # benchmarks/udhr_corpus.py, next to this script

CHILD = r"""
import json, sys, time
from toksmith.tokenizers import load_tokenizer
from toksmith.metrics import compare_corpus
from toksmith.metrics.compare import GROUP_MEMORY_MIB, memory_groups
names, path = json.loads(sys.argv[1]), sys.argv[2]
tokenizers = [load_tokenizer(n) for n in names]
groups = len(memory_groups(tokenizers, GROUP_MEMORY_MIB))
start = time.perf_counter()
result = compare_corpus(tokenizers, path)
elapsed = time.perf_counter() - start
totals = {}
for row in result.results:
    if row.language == "all" or not any(r.language == "all" for r in result.results):
        totals[row.tokenizer] = totals.get(row.tokenizer, 0) + row.tokens
print(json.dumps({"elapsed_s": elapsed, "tokens": totals, "groups": groups}))
"""


def reference_seconds(name: str, batches: list[list[str]]) -> tuple[float, float, int]:
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
    start, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        result = encode(batch)
        tokens += sum(map(len, result))
    return time.perf_counter() - start, time.process_time() - cpu, tokens


def toksmith_seconds(name: str, batches: list[list[str]]) -> dict:
    """Wall and CPU seconds of toksmith's batch encoder over ``batches``, the token total, the
    engine, and the wall and CPU seconds spent starting the fast engine first (0 on the vendor
    engine)."""
    from toksmith.tokenizers import load_tokenizer

    tokenizer = load_tokenizer(name)
    start, cpu = time.perf_counter(), time.process_time()
    if tokenizer.fast_engine is not None:
        tokenizer.fast_engine.start()  # timed apart: compare starts it in the background
    start_s, start_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    tokens = 0
    start, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        tokens += int(tokenizer.encode_batch_numpy(batch)[1].sum())
    elapsed_s, elapsed_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    tokenizer.release()  # this process measures one tokenizer at a time: free its memory
    return {
        "s": elapsed_s, "cpu_s": elapsed_cpu_s, "tokens": tokens,
        "engine": tokenizer.engine, "start_s": start_s, "start_cpu_s": start_cpu_s,
    }  # fmt: skip


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=float, default=50.0)
    parser.add_argument("-t", "--tokenizer", action="append", dest="tokenizers")
    parser.add_argument("--no-compare", action="store_true", help="skip the compare child")
    args = parser.parse_args()
    if not UDHR.is_dir():
        sys.exit(f"benchmark needs {UDHR}")
    from toksmith.metrics.compare import BATCH_BYTES
    from toksmith.tokenizers import builtin_names

    names = args.tokenizers or builtin_names()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = build_corpus(args.size_mb, Path(tmp))
        size_mb = corpus.stat().st_size / 1e6
        load_start = os.getloadavg()
        print(
            f"corpus: {size_mb:.1f} MB of shuffled UDHR lines, {len(names)} tokenizers, "
            f"{os.cpu_count()} cores, load average {load_start[0]:.2f} {load_start[1]:.2f} "
            f"{load_start[2]:.2f} at start"
        )
        ours: dict = {}
        peak_rss_mib = float("nan")
        child_cpu_s = 0.0
        if not args.no_compare:
            before = children_cpu_s()
            child = subprocess.run(
                [sys.executable, "-c", CHILD, json.dumps(names), str(corpus)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            child_cpu_s = children_cpu_s() - before
            ours = json.loads(child.stdout)
            peak_rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

        lines = [line for line in corpus.read_text(encoding="utf-8").splitlines() if line]
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

        print(
            f"{'tokenizer':24} {'engine':10} {'vendor MB/s':>12} {'toksmith MB/s':>14} "
            f"{'ratio':>6} {'start s':>8} {'start cpu':>9}  tokens"
        )
        vendor_total_s = toksmith_total_s = vendor_cpu_s = toksmith_cpu_s = 0.0
        fast_vendor_s = fast_toksmith_s = start_total_s = start_cpu_s = 0.0
        mismatches = []
        for name in names:
            vendor_s, vendor_cpu, vendor_tokens = reference_seconds(name, batches)
            ours_run = toksmith_seconds(name, batches)
            our_s, our_tokens, engine = ours_run["s"], ours_run["tokens"], ours_run["engine"]
            start_total_s += ours_run["start_s"]
            start_cpu_s += ours_run["start_cpu_s"]
            vendor_total_s += vendor_s
            vendor_cpu_s += vendor_cpu
            toksmith_total_s += our_s
            toksmith_cpu_s += ours_run["cpu_s"]
            if engine != "vendor":
                fast_vendor_s += vendor_s
                fast_toksmith_s += our_s
            compare_tokens = ours.get("tokens", {}).get(name, vendor_tokens)
            same = our_tokens == vendor_tokens == compare_tokens
            if not same:
                mismatches.append(name)
            print(
                f"{name:24} {engine:10} {size_mb / vendor_s:12.2f} {size_mb / our_s:14.2f} "
                f"{vendor_s / our_s:6.2f} {ours_run['start_s']:8.2f} "
                f"{ours_run['start_cpu_s']:9.2f}  {vendor_tokens} "
                f"{'identical' if same else 'DIFFER'}"
                + ("" if same else f" (toksmith {our_tokens}, compare {compare_tokens})"),
                flush=True,
            )

    tokenizer_mb = size_mb * len(names)
    print(
        f"vendors' own batch encoders: {tokenizer_mb / vendor_total_s:.2f} tokenizer-MB/s "
        f"({vendor_total_s:.1f} s wall, {vendor_cpu_s:.1f} s CPU)"
    )
    print(
        f"toksmith encode_batch_numpy: {tokenizer_mb / toksmith_total_s:.2f} tokenizer-MB/s "
        f"({toksmith_total_s:.1f} s wall, {toksmith_cpu_s:.1f} s CPU)"
    )
    print(
        f"fast engines' start-up, one after the other: {start_total_s:.1f} s wall, "
        f"{start_cpu_s:.1f} s CPU"
    )
    honest = vendor_total_s / (toksmith_total_s + start_total_s)
    print(
        f"throughput ratio toksmith/vendor, engine start-up included: {honest:.2f} "
        f"(target >= 2.5: {'met' if honest >= 2.5 else 'NOT met'}; stretch >= 4: "
        f"{'met' if honest >= 4 else 'not met'}); by CPU time: "
        f"{vendor_cpu_s / (toksmith_cpu_s + start_cpu_s):.2f}"
    )
    print(
        f"throughput ratio without start-up: {vendor_total_s / toksmith_total_s:.2f}; "
        f"by CPU time: {vendor_cpu_s / toksmith_cpu_s:.2f}"
    )
    if fast_toksmith_s:
        print(
            "throughput ratio on the tokenizers a fast engine serves (without start-up): "
            f"{fast_vendor_s / fast_toksmith_s:.2f}"
        )
    print(
        "token totals identical (vendor, toksmith, compare): "
        + ("every tokenizer" if not mismatches else "NO: " + ", ".join(mismatches))
    )
    if ours:
        ours_s = ours["elapsed_s"]
        print(
            f"toksmith compare (all measures, all tokenizers): {tokenizer_mb / ours_s:.2f} "
            f"tokenizer-MB/s ({ours_s:.1f} s wall; the child process used {child_cpu_s:.1f} s "
            f"CPU with loading); ratio to the vendors' encoders alone: "
            f"{vendor_total_s / ours_s:.2f}"
        )
        print(
            f"peak RSS of the compare process: {peak_rss_mib:.0f} MiB (target < 1024: "
            f"{'met' if peak_rss_mib < 1024 else 'NOT met'}); tokenizers measured in "
            f"{ours['groups']} group(s) under compare's memory budget"
        )
    load_end = os.getloadavg()
    print(f"load average at the end: {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")


if __name__ == "__main__":
    main()
