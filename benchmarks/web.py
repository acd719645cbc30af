"""Playground endpoint speed: POST /api/tokenize with 10 KB of text and 4 tokenizers.

Starts ``toksmith serve`` in a subprocess on a free loopback port, then measures
- latency p50/p99 over 200 sequential requests on one keep-alive connection
  (target: p99 under 100 ms), and
- requests per second with 8 concurrent clients,
and prints them next to the reference: the same work (``token_view`` for each tokenizer and
the JSON encoding) done in-process without HTTP, so the ratio is the cost of the web layer.

Run: .venv/bin/python benchmarks/web.py [--requests 200] [--clients 8]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

TOKENIZERS = ["o200k_base", "cl100k_base", "llama3", "mistral-tekken"]
TEXT_BYTES = 10 * 1024


def ten_kb_text() -> str:
    """10 KiB of English prose from the Python docs (pydoc_data ships with CPython)."""
    from pydoc_data.topics import topics

    text = "\n".join(topics[key] for key in sorted(topics))
    return text.encode("utf-8")[:TEXT_BYTES].decode("utf-8", "ignore")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "toksmith", "serve", "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"server did not start: {process.stderr.read() if process.stderr else ''}")


def in_process_ms(text: str, repeats: int) -> list[float]:
    """The reference: the endpoint's work without HTTP (tokenize, build pieces, encode JSON)."""
    from toksmith.tokenizers import load_tokenizer
    from toksmith.web.tokens import PieceCache, token_view

    tokenizers = [load_tokenizer(name) for name in TOKENIZERS]
    cache = PieceCache()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        body = {"results": [token_view(t, text, cache).to_dict() for t in tokenizers]}
        json.dumps(body, ensure_ascii=False)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    text = ten_kb_text()
    payload = {"text": text, "tokenizers": TOKENIZERS}
    port = free_port()
    server = start_server(port)
    url = f"http://127.0.0.1:{port}/api/tokenize"
    try:
        with httpx.Client(timeout=30) as client:
            for _ in range(10):  # load the tokenizers and fill the piece cache
                warm = client.post(url, json=payload)
                warm.raise_for_status()
            tokens = {r["requested"]: r["tokens"] for r in warm.json()["results"]}
            response_kib = len(warm.content) / 1024
            latencies = []
            for _ in range(args.requests):
                start = time.perf_counter()
                client.post(url, json=payload).raise_for_status()
                latencies.append((time.perf_counter() - start) * 1000)

        concurrent_total = max(args.requests, 50 * args.clients)

        def worker(count: int) -> None:
            with httpx.Client(timeout=60) as client:
                for _ in range(count):
                    client.post(url, json=payload).raise_for_status()

        per_client = concurrent_total // args.clients
        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(worker, [per_client] * args.clients))
        elapsed_s = time.perf_counter() - start
        requests_per_s = per_client * args.clients / elapsed_s
    finally:
        server.terminate()
        server.wait(10)

    reference = in_process_ms(text, args.requests)
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    ref_p50 = statistics.median(reference)
    print(f"text: {len(text.encode())} bytes; tokens: {tokens}; response {response_kib:.0f} KiB")
    print(f"machine: {os.cpu_count()} cores; server: toksmith serve (uvicorn) on loopback")
    print(f"sequential, {args.requests} requests: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
          f"(target p99 < 100 ms: {'met' if p99 < 100 else 'NOT met'})")  # fmt: skip
    print(f"{args.clients} concurrent clients, {per_client * args.clients} requests: "
          f"{requests_per_s:.1f} requests/s")  # fmt: skip
    print(f"reference (same work in-process, no HTTP): p50 {ref_p50:.1f} ms; "
          f"HTTP p50 / in-process p50 = {p50 / ref_p50:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
