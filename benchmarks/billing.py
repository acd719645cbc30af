"""CoIn commit and verify time for 100k hidden tokens (targets: commit ≤ 10 s, verify with 64
openings ≤ 2 s, on 2 cores).

The hidden trace is 100,000 o200k_base tokens of standard-library docstrings (the stand-in the
experiment uses). Commit = cut into blocks of 32, MiniLM token-embedding fingerprints, leaf
hashes, Merkle tree. Verify = the auditor's whole check of 64 openings: digest and layout,
proofs, fingerprints recomputed from the opened text, MiniLM sentence embeddings of the opened
blocks, prompt and answer for relevance. Reference (same run): o200k_base encoding the trace's
text, which a provider does anyway. Verify is timed twice: the first call includes compiling
the MiniLM encoder for these shapes (JAX), the second is the steady state of an auditor process.

Run: .venv/bin/python benchmarks/billing.py
"""

from __future__ import annotations

import os
import resource
import time

from toksmith.accounting.coin import TraceProvider, verify
from toksmith.accounting.embed import minilm_sentence_embedder, minilm_static_embedder
from toksmith.accounting.experiment import module_docs, stdlib_modules
from toksmith.tokenizers import load_tokenizer

HIDDEN_TOKENS = 100_000
OPENINGS = 64
COMMIT_TARGET_S = 10.0
VERIFY_TARGET_S = 2.0


def trace_text(tokenizer, tokens: int) -> str:  # type: ignore[no-untyped-def]
    parts: list[str] = []
    count = 0
    for path in stdlib_modules():
        docs = module_docs(path)
        if docs is None:
            continue
        text = "\n\n".join(docs[1])
        parts.append(text)
        count += len(tokenizer.encode(text))
        if count >= tokens:
            break
    return "\n\n".join(parts)


def main() -> None:
    print(f"cores: {os.cpu_count()}; load average at start: {os.getloadavg()[0]:.1f}")
    tokenizer = load_tokenizer("o200k_base")
    text = trace_text(tokenizer, HIDDEN_TOKENS)
    start = time.perf_counter()
    ids = tokenizer.encode(text)[:HIDDEN_TOKENS]
    encode_s = time.perf_counter() - start
    fingerprint = minilm_static_embedder()  # loads MiniLM (not timed: a provider keeps it loaded)
    relevance = minilm_sentence_embedder()

    start, cpu = time.perf_counter(), time.process_time()
    provider = TraceProvider(ids, tokenizer, fingerprint, block_size=32)
    commitment = provider.commit()
    commit_s, commit_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    print(f"hidden tokens: {commitment.n_tokens:,} in {commitment.n_leaves:,} blocks of 32")
    print(f"reference: o200k_base encode of the trace text: {encode_s:.2f} s")
    print(f"commit: {commit_s:.2f} s, CPU {commit_cpu_s:.2f} s (target ≤ {COMMIT_TARGET_S:g} s; "
          f"{commit_s / encode_s:.2f}× the encode)")  # fmt: skip

    prompt = "Explain the Python standard library modules documented here."
    answer = "They provide parsing, networking, data structures and text processing."
    for label in ("first (includes JAX compile)", "steady state"):
        start, cpu = time.perf_counter(), time.process_time()
        result = verify(commitment, provider.open, tokenizer, prompt, answer,
                        fingerprint_embed=fingerprint, relevance_embed=relevance,
                        openings=OPENINGS, seed=7)  # fmt: skip
        verify_s, verify_cpu_s = time.perf_counter() - start, time.process_time() - cpu
        assert result.failed_check is None, result.verdict
        print(
            f"verify {OPENINGS} openings, {label}: {verify_s:.2f} s, CPU {verify_cpu_s:.2f} s "
            f"(target ≤ {VERIFY_TARGET_S:g} s; ratio to target {verify_s / VERIFY_TARGET_S:.2f})"
        )
    # Where the time goes: the same audit with a free relevance embedding (integrity checks,
    # fingerprints and proofs only), and MiniLM alone on the 66 texts an audit embeds.
    start = time.perf_counter()
    verify(commitment, provider.open, tokenizer, prompt, answer, fingerprint_embed=fingerprint,
           relevance_embed=lambda texts: fingerprint(texts), openings=OPENINGS, seed=7)  # fmt: skip
    print(f"  of which integrity checks (no relevance model): {time.perf_counter() - start:.2f} s")
    texts = [prompt, answer] + [tokenizer.decode(o.ids) for o in provider.open(list(range(64)))]
    start = time.perf_counter()
    relevance(texts)
    print(
        f"  MiniLM sentence embeddings of {len(texts)} texts: {time.perf_counter() - start:.2f} s"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"process CPU time (user+sys, all threads): {time.process_time():.2f} s")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
