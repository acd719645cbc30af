"""The benchmark corpus: UDHR lines of every translation, shuffled and repeated to a size."""

from __future__ import annotations

import random
from pathlib import Path

UDHR = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "udhr"


def build_corpus(size_mb: float, folder: Path) -> Path:
    """Write ``folder/udhr_repeated.txt``: the text column of every UDHR translation, shuffled
    with a fixed seed and repeated until the file holds ``size_mb`` MB; return its path."""
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
