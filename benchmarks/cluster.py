"""``compare`` on a local Dask cluster: 1 worker process vs 2, and vs the in-process compare.

Claims (issue 15): on a corpus of at least 50 MB, a LocalCluster with 2 worker processes (one
thread each) is at least 1.7× as fast as one with 1 worker process, and at most 15% slower
than the in-process ``compare_corpus`` on the same machine.

- Corpus: every UDHR translation in ../shared/corpora/udhr, its lines repeated and shuffled
  (fixed seed) into one plain-text file of at least --size-mb MB, as compare_throughput.py
  builds it; the cluster cuts it into byte ranges (about 4 tasks per worker).
- In-process: ``compare_corpus`` after the tokenizers are loaded and their fast engines
  started (timed apart and printed), so that neither side's timed run pays the engine start.
- Cluster: a LocalCluster is started, a warm-up run on a small file makes every worker load
  the tokenizers and start their fast engines (``compare_on_cluster`` does that on every
  worker before any task), then ``compare_on_cluster`` on the corpus is timed, start of the
  cluster excluded. The result is checked equal to the in-process one.
- Each worker has one Dask thread, and its encoders use one thread (the README says why).

Every figure is measured in the same run; the machine's load average is printed before and
after (the ratios are only meaningful when the load stays below the number of cores).

With ``--part train``: BPE from word counts vs BPE on the corpus (same corpus, 32k ids):
``toksmith wordcount`` (in one process) + ``train --from-counts`` against ``train`` on the raw
corpus, and whether the two tokenizer.json files are identical.

Usage: python benchmarks/cluster.py [--size-mb 50] [-t NAME ...] [--part compare|train]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from udhr_corpus import UDHR, build_corpus  # benchmarks/udhr_corpus.py, next to this script


def cpu_s() -> float:
    """CPU seconds (user + system) this process has used, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_cluster(
    workers: int, names: list[str], corpus: Path, warmup: Path
) -> tuple[float, float, dict]:
    """Wall seconds, CPU seconds (workers + this client) and the result of one timed run."""
    from distributed import LocalCluster

    from toksmith.cluster import compare_on_cluster

    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    try:
        from distributed import Client

        address = cluster.scheduler_address
        compare_on_cluster(names, warmup, cluster=address)
        with Client(address) as client:
            before = sum(client.run(cpu_s).values()) + cpu_s()
            start = time.perf_counter()
            result = compare_on_cluster(names, corpus, cluster=address)
            wall_s = time.perf_counter() - start
            used_s = sum(client.run(cpu_s).values()) + cpu_s() - before
        return wall_s, used_s, result.to_dict()
    finally:
        cluster.close()


def time_training(corpus: Path, vocab_size: int) -> None:
    from toksmith.cluster import WordcountSettings, read_word_counts, word_counts, write_word_counts
    from toksmith.train.corpus import TrainingCorpus, text_blocks
    from toksmith.train.from_counts import train_bpe_from_counts
    from toksmith.train.hf_trainers import train_hf
    from toksmith.train.settings import TrainSettings

    settings = TrainSettings(vocab_size=vocab_size)
    start = time.perf_counter()
    raw = train_hf(settings, text_blocks(TrainingCorpus([str(corpus)]).texts()))
    raw_s = time.perf_counter() - start
    start = time.perf_counter()
    counts = word_counts([str(corpus)], WordcountSettings())
    counts_path = corpus.with_name("counts.tsv.gz")
    write_word_counts(counts, counts_path)
    count_s = time.perf_counter() - start
    start = time.perf_counter()
    _, _, pairs = read_word_counts(counts_path)
    from_counts = train_bpe_from_counts(settings, pairs)
    train_s = time.perf_counter() - start
    print(f"train on the corpus (HF BPE, {vocab_size} ids):  {raw_s:7.1f} s")
    print(
        f"wordcount in one process:                {count_s:7.1f} s  "
        f"({counts.distinct:,} distinct pre-tokens, {counts.occurrences:,} occurrences, "
        f"{counts_path.stat().st_size / 1e6:.1f} MB file)"
    )
    print(
        f"train --from-counts:                     {train_s:7.1f} s  ({train_s / raw_s:.2f}x of training on the corpus)"
    )
    print(f"identical tokenizer.json: {raw.to_str() == from_counts.to_str()}")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=float, default=50.0)
    parser.add_argument("-t", "--tokenizer", action="append", dest="tokenizers")
    parser.add_argument("--part", choices=("compare", "train"), default="compare")
    parser.add_argument("--vocab-size", type=int, default=32000)
    args = parser.parse_args()
    if not UDHR.is_dir():
        sys.exit(f"benchmark needs {UDHR}")
    from toksmith.metrics import compare_corpus
    from toksmith.tokenizers import load_tokenizers

    names = args.tokenizers or ["o200k_base"]
    print(f"load average before: {load_average()} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = build_corpus(args.size_mb, Path(tmp))
        warmup = Path(tmp) / "warmup.txt"
        warmup.write_text("warm up the workers\n", encoding="utf-8")
        size_mb = corpus.stat().st_size / 1e6
        if args.part == "train":
            print(f"corpus: {size_mb:.1f} MB of shuffled UDHR lines")
            time_training(corpus, args.vocab_size)
            print(f"load average after: {load_average()}")
            return
        print(f"corpus: {size_mb:.1f} MB of shuffled UDHR lines; tokenizers: {', '.join(names)}")

        tokenizers = load_tokenizers(names)
        start = time.perf_counter()
        for tokenizer in tokenizers:
            if tokenizer.fast_engine is not None and hasattr(tokenizer.fast_engine, "start"):
                tokenizer.fast_engine.start()
        print(
            f"fast engine start in-process (not timed below): {time.perf_counter() - start:.1f} s"
        )
        cpu_before = cpu_s()
        start = time.perf_counter()
        one = compare_corpus(tokenizers, corpus).to_dict()
        in_process_s = time.perf_counter() - start
        in_process_cpu_s = cpu_s() - cpu_before
        row = "{:26} {:7.1f} s wall  {:6.2f} MB/s  {:7.1f} CPU s"
        print(
            row.format(
                "in-process compare:", in_process_s, size_mb / in_process_s, in_process_cpu_s
            )
        )
        one_worker_s, one_cpu_s, result_1 = time_cluster(1, names, corpus, warmup)
        print(
            row.format("LocalCluster, 1 worker:", one_worker_s, size_mb / one_worker_s, one_cpu_s)
        )
        two_workers_s, two_cpu_s, result_2 = time_cluster(2, names, corpus, warmup)
        print(
            row.format(
                "LocalCluster, 2 workers:", two_workers_s, size_mb / two_workers_s, two_cpu_s
            )
        )

    identical = result_1 == one and result_2 == one
    speedup = one_worker_s / two_workers_s
    overhead = two_workers_s / in_process_s - 1.0
    print(f"results identical to in-process: {identical}")
    print(
        f"speedup 2 workers / 1 worker: {speedup:.2f}x (target >= 1.70: {'met' if speedup >= 1.7 else 'NOT met'})"
    )
    print(
        f"overhead 2 workers vs in-process: {100 * overhead:+.1f}% "
        f"(target <= +15%: {'met' if overhead <= 0.15 else 'NOT met'})"
    )
    print(
        f"CPU seconds, 2 workers vs in-process: {100 * (two_cpu_s / in_process_cpu_s - 1):+.1f}% "
        "(the work the cluster adds, less sensitive to other load than wall time)"
    )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
