"""Benchmark: SuperBPE training time and compression against HF BPE at the same vocabulary.

Same corpus as benchmarks/train_bpe.py (>= --mb MB, generated on the fly). Trains, each in a
fresh process, HF `tokenizers` BPE directly and toksmith SuperBPE (transition 90% of the
vocabulary) at --vocab-size. Prints the time ratio SuperBPE/HF-BPE (target <= 3), peak RSS of
each process, and held-out bytes per token of both (the compression gain).

    .venv/bin/python benchmarks/train_superbpe.py [--mb 50] [--vocab-size 32000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from train_bpe import build_corpus, bytes_per_token, child


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="training corpus size in MB")
    parser.add_argument("--vocab-size", type=int, default=32000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="toksmith-bench-") as tmp:
        folder = Path(tmp)
        corpus, held_out = build_corpus(folder, args.mb)
        size_mb = corpus.stat().st_size / 1e6
        print(f"corpus: {size_mb:.1f} MB, held-out {held_out.stat().st_size / 1e6:.1f} MB")
        hf = child(["hf-bpe", str(corpus), str(folder / "hf"), str(args.vocab_size)])
        sb = child(["superbpe", str(corpus), str(folder / "superbpe"), str(args.vocab_size)])
        hf_bpt = bytes_per_token(folder / "hf" / "tokenizer.json", held_out)
        sb_bpt = bytes_per_token(folder / "superbpe" / "tokenizer.json", held_out)
        parts = {}
        for part in ("code", "prose"):
            path = folder / f"heldout-{part}.txt"
            parts[part] = (
                bytes_per_token(folder / "hf" / "tokenizer.json", path),
                bytes_per_token(folder / "superbpe" / "tokenizer.json", path),
            )
    print(f"HF tokenizers BPE:  {hf['elapsed_s']:.1f} s  peak RSS {hf['peak_rss_mib']:.0f} MiB  "
          f"held-out {hf_bpt:.3f} bytes/token")  # fmt: skip
    print(f"toksmith SuperBPE:  {sb['elapsed_s']:.1f} s  peak RSS {sb['peak_rss_mib']:.0f} MiB  "
          f"held-out {sb_bpt:.3f} bytes/token")  # fmt: skip
    print(f"stage 2: {sb['details'].get('superbpe')}")
    print(f"time ratio SuperBPE/HF-BPE: {sb['elapsed_s'] / hf['elapsed_s']:.2f} (target <= 3)")
    print(f"compression gain: {sb_bpt / hf_bpt - 1:+.1%} bytes/token, "
          f"{1 - hf_bpt / sb_bpt:.1%} fewer tokens")  # fmt: skip
    for part, (hf_part, sb_part) in parts.items():
        print(f"  held-out {part}: BPE {hf_part:.3f}, SuperBPE {sb_part:.3f} bytes/token "
              f"({1 - hf_part / sb_part:.1%} fewer tokens)")  # fmt: skip


if __name__ == "__main__":
    main()
