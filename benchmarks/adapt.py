"""Speed and memory of the adapt package (issue 12).

1. OMP with k = 64 for 10,000 new tokens over 30,000 anchors in d = 384 (target: ≤ 5 min and
   ≤ 4 GiB), against a reference: a plain per-token OMP (one least-squares solve per step with
   ``np.linalg.lstsq``, the textbook algorithm) timed on a sample of tokens and extrapolated.
2. Dynamic merges: 1,000 merges on a batch of 32 × 512 tokens (target ≤ 2 s), against a
   reference: BPE that recounts every pair after each merge, timed on the first 100 merges and
   extrapolated.

Run: .venv/bin/python benchmarks/adapt.py [--tokens 10000] [--anchors 30000]
Figures vary 2× or more on a shared machine; the ratios are measured within one run.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections import Counter

import numpy as np

from toksmith.adapt.dynamic import learn_batch_merges, token_segments
from toksmith.adapt.omp import orthogonal_matching_pursuit


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reference_omp(atoms: np.ndarray, target: np.ndarray, k: int) -> np.ndarray:
    """Textbook OMP for one target: correlate, pick, re-solve least squares."""
    residual = target.copy()
    chosen: list[int] = []
    normed = atoms / np.linalg.norm(atoms, axis=1, keepdims=True)
    for _ in range(k):
        scores = np.abs(normed @ residual)
        scores[chosen] = -1
        chosen.append(int(np.argmax(scores)))
        coef, *_ = np.linalg.lstsq(atoms[chosen].T, target, rcond=None)
        residual = target - atoms[chosen].T @ coef
    return np.asarray(chosen)


def bench_omp(tokens: int, anchors: int, dim: int, k: int) -> None:
    rng = np.random.default_rng(0)
    # Anchors with a decaying spectrum, like real embedding matrices.
    scales = (1.0 / np.sqrt(np.arange(1, dim + 1))).astype(np.float32)
    atoms = rng.standard_normal((anchors, dim)).astype(np.float32) * scales
    targets = rng.standard_normal((tokens, dim)).astype(np.float32) * scales
    before = peak_rss_mib()
    started, cpu_started = time.perf_counter(), time.process_time()
    solution = orthogonal_matching_pursuit(atoms, targets, k)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = peak_rss_mib()
    sample = 10
    started, cpu_started = time.perf_counter(), time.process_time()
    agree = 0
    for i in range(sample):
        chosen = reference_omp(atoms, targets[i], k)
        agree += len(set(chosen.tolist()) & set(solution.indices[i].tolist()))
    reference = (time.perf_counter() - started) / sample * tokens
    reference_cpu = (time.process_time() - cpu_started) / sample * tokens
    print(f"OMP k={k}: {tokens:,} tokens × {anchors:,} anchors × d={dim}: wall {elapsed:.1f} s, "
          f"CPU {cpu:.1f} s (= {cpu / 2:.1f} s of wall on 2 idle cores; target ≤ 300 s), peak "
          f"RSS {peak:,.0f} MiB (before: {before:,.0f} MiB; target ≤ 4096 MiB)")  # fmt: skip
    print(f"  reference per-token OMP (lstsq), {sample} tokens extrapolated: wall "
          f"{reference:.1f} s, CPU {reference_cpu:.1f} s; ratio reference/batched = "
          f"{reference / elapsed:.1f}× (wall), {reference_cpu / cpu:.1f}× (CPU); same atoms "
          f"chosen: {agree / (sample * k):.1%}")  # fmt: skip
    relative = solution.residual_norm / np.linalg.norm(targets, axis=1)
    print(f"  mean relative residual {relative.mean():.3f}")


def reference_merges(sequences: list[list[int]], segments: list[list[int]], merges: int) -> int:
    """BPE that recounts all pairs after every merge; returns the final length."""
    seqs = [list(s) for s in sequences]
    segs = [list(s) for s in segments]
    new = 1 << 40
    for _ in range(merges):
        counts: Counter[tuple[int, int]] = Counter()
        for ids, sg in zip(seqs, segs, strict=True):
            for i in range(len(ids) - 1):
                if sg[i] == sg[i + 1] and sg[i] != -1:
                    counts[(ids[i], ids[i + 1])] += 1
        if not counts:
            break
        pair, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
        if count < 2:
            break
        for number, ids in enumerate(seqs):
            out, out_seg, i = [], [], 0
            sg = segs[number]
            while i < len(ids):
                if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair and sg[i] == sg[i + 1]:
                    out.append(new)
                    out_seg.append(sg[i])
                    i += 2
                else:
                    out.append(ids[i])
                    out_seg.append(sg[i])
                    i += 1
            seqs[number], segs[number] = out, out_seg
        new += 1
    return sum(map(len, seqs))


def bench_dynamic() -> None:
    from toksmith.models.texts import stdlib_sources
    from toksmith.tokenizers import load_tokenizer

    tokenizer = load_tokenizer("o200k_base")
    text = "\n".join(source for _, source in stdlib_sources(limit_bytes=400_000))
    ids = tokenizer.encode(text)
    sequences = [ids[i * 512 : (i + 1) * 512] for i in range(32)]
    segments = [token_segments(tokenizer, tokenizer.decode(s), s, "word") for s in sequences]
    started, cpu_started = time.perf_counter(), time.process_time()
    batch = learn_batch_merges(sequences, segments, tokenizer.vocab_bytes, 1000, min_count=1)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"dynamic merges: {len(batch.merges):,} merges on 32 × 512 tokens (word boundaries, "
          f"pairs seen ≥ 1×): wall {elapsed:.3f} s, CPU {cpu:.3f} s (target ≤ 2 s); length {batch.lengths[0]:,} → "
          f"{batch.lengths[-1]:,}")  # fmt: skip
    started = time.perf_counter()
    reference_merges(sequences, segments, 100)
    reference = (time.perf_counter() - started) * 10
    print(
        f"  reference (recount after every merge), 100 merges extrapolated to 1,000: "
        f"{reference:.1f} s; ratio reference/incremental = {reference / elapsed:.0f}×"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--anchors", type=int, default=30_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--k", type=int, default=64)
    args = parser.parse_args()
    bench_dynamic()
    bench_omp(args.tokens, args.anchors, args.dim, args.k)


if __name__ == "__main__":
    main()
