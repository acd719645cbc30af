"""Benchmark: `toksmith train --algorithm bpe` against calling HF `tokenizers` directly.

Builds a training corpus of at least --mb megabytes on the fly (Python stdlib source,
pydoc_data.topics prose and the UDHR corpus when ../shared is present, shuffled and repeated
into one temporary file), then trains byte-level BPE at --vocab-size twice, each in a fresh
process: once with HF `tokenizers` directly (`Tokenizer.train([file], BpeTrainer)`, the same
pre-tokenizer), once through `toksmith.train.train_tokenizer`. Prints wall time, MB/s, the
speed ratio toksmith/HF (target >= 0.9), peak RSS of each process and held-out bytes/token.

    .venv/bin/python benchmarks/train_bpe.py [--mb 50] [--vocab-size 32000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

SHARED_UDHR = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "udhr"


def source_texts() -> tuple[list[str], list[str], list[str]]:
    """(training texts, held-out code, held-out prose): every 10th stdlib file and the last
    fifth of the pydoc topics are held out; UDHR files (if present) only train."""
    import pydoc_data.topics

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.glob("*.py"))
    files += sorted(p for p in stdlib.glob("[a-z]*/**/*.py") if "site-packages" not in p.parts)
    train: list[str] = []
    held_out: list[str] = []  # code
    for position, path in enumerate(files):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        (held_out if position % 10 == 0 else train).append(text)
    topics = list(pydoc_data.topics.topics.values())
    cut = len(topics) * 4 // 5
    train += topics[:cut]
    prose = topics[cut:]
    if SHARED_UDHR.is_dir():
        for path in sorted(SHARED_UDHR.glob("*.tsv")):
            train.append(path.read_text(encoding="utf-8", errors="replace"))
    return train, held_out, prose


def build_corpus(folder: Path, megabytes: float, seed: int = 0) -> tuple[Path, Path]:
    """Write train.txt (>= megabytes MB, shuffled repeats) and heldout.txt into ``folder``
    (plus its two parts, heldout-code.txt and heldout-prose.txt)."""
    train, code, prose = source_texts()
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    written = 0
    train_path = folder / "train.txt"
    with open(train_path, "w", encoding="utf-8") as out:
        while written < target:
            rng.shuffle(train)
            for text in train:
                out.write(text)
                out.write("\n")
                written += len(text.encode("utf-8")) + 1
                if written >= target:
                    break
    (folder / "heldout-code.txt").write_text("\n".join(code), encoding="utf-8")
    (folder / "heldout-prose.txt").write_text("\n".join(prose), encoding="utf-8")
    held_path = folder / "heldout.txt"
    held_path.write_text("\n".join(code + prose), encoding="utf-8")
    return train_path, held_path


def bytes_per_token(tokenizer_json: Path, held_out: Path) -> float:
    from toksmith.metrics import compare_corpus
    from toksmith.tokenizers import load_tokenizer

    result = compare_corpus([load_tokenizer(str(tokenizer_json))], held_out)
    return result.results[0].bytes_per_token


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_hf_bpe(corpus: Path, out: Path, vocab_size: int) -> dict:
    """HF tokenizers directly, with the pre-tokenizer toksmith uses by default (GPT-4 regex)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from toksmith.train.pretokenize import CL100K, build_pre_tokenizer

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = build_pre_tokenizer(CL100K, None)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    started = time.perf_counter()
    tokenizer.train([str(corpus)], trainer)
    elapsed = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(out / "tokenizer.json"))
    return {"elapsed_s": elapsed, "peak_rss_mib": peak_rss_mib()}


def run_toksmith(algorithm: str, corpus: Path, out: Path, vocab_size: int) -> dict:
    from toksmith.train import TrainSettings, train_tokenizer

    started = time.perf_counter()
    result = train_tokenizer(
        TrainSettings(algorithm=algorithm, vocab_size=vocab_size), out, corpus=[corpus]
    )
    elapsed = time.perf_counter() - started
    return {"elapsed_s": elapsed, "peak_rss_mib": peak_rss_mib(), "details": result.details}


def child(argv: list[str]) -> dict:
    """Run one measured training in a fresh process; returns its JSON report."""
    completed = subprocess.run(
        [sys.executable, __file__, "--child", *argv], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"child {argv} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def child_main(argv: list[str]) -> None:
    kind, corpus, out, vocab_size = argv[0], Path(argv[1]), Path(argv[2]), int(argv[3])
    if kind == "hf-bpe":
        report = run_hf_bpe(corpus, out, vocab_size)
    else:
        report = run_toksmith(kind, corpus, out, vocab_size)
    print(json.dumps(report))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="training corpus size in MB")
    parser.add_argument("--vocab-size", type=int, default=32000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="toksmith-bench-") as tmp:
        folder = Path(tmp)
        corpus, held_out = build_corpus(folder, args.mb)
        size_mb = corpus.stat().st_size / 1e6
        print(
            f"corpus: {size_mb:.1f} MB ({corpus}), held-out {held_out.stat().st_size / 1e6:.1f} MB"
        )
        hf = child(["hf-bpe", str(corpus), str(folder / "hf"), str(args.vocab_size)])
        ours = child(["bpe", str(corpus), str(folder / "toksmith"), str(args.vocab_size)])
        hf_bpt = bytes_per_token(folder / "hf" / "tokenizer.json", held_out)
        our_bpt = bytes_per_token(folder / "toksmith" / "tokenizer.json", held_out)
    print(f"HF tokenizers BPE:   {hf['elapsed_s']:.1f} s  {size_mb / hf['elapsed_s']:.2f} MB/s  "
          f"peak RSS {hf['peak_rss_mib']:.0f} MiB  held-out {hf_bpt:.3f} bytes/token")  # fmt: skip
    print(f"toksmith train bpe:  {ours['elapsed_s']:.1f} s  {size_mb / ours['elapsed_s']:.2f} MB/s  "
          f"peak RSS {ours['peak_rss_mib']:.0f} MiB  held-out {our_bpt:.3f} bytes/token")  # fmt: skip
    print(f"speed ratio toksmith/HF: {hf['elapsed_s'] / ours['elapsed_s']:.2f} (target >= 0.9)")


if __name__ == "__main__":
    main()
