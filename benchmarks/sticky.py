"""Sticky tokens of all-MiniLM-L6-v2 (STD, "Sticking to the Mean", Chen et al., 2025).

Measures, on the real MiniLM shipped offline, in one run:
- the fast mode: the 21 tokens the paper reports as sticky for all-MiniLM-L6-v2, checked with
  the budget preset (target: 5 minutes on 2 cores);
- with --full, a full run over every usable token (target: 60 minutes on 2 cores); with
  --full --max-tokens N only the first N usable tokens are scored, and the full run's time is
  estimated (said so in the output): the sentences a full run embeds (counted from the
  settings) divided by the sentences per second this run measured.

Prints the counts next to the paper's figures for all-MiniLM-L6-v2 (its repository's results
table: 30,522 ids, 23,699 available tokens, 474 verification candidates, 21 sticky tokens) and
each time as a ratio of its target. The JSON reports go to --out (readable in
``toksmith serve --results DIR``).

    .venv/bin/python benchmarks/sticky.py --udhr ../shared/corpora/udhr --out results/
    .venv/bin/python benchmarks/sticky.py --udhr ../shared/corpora/udhr --full --out results/
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from toksmith.audit import sticky
from toksmith.models import load_model, minilm_folder
from toksmith.report.output import to_json, write_atomic

PAPER = {"vocab": 30522, "usable": 23699, "shortlisted": 474, "verified": 21}
PAPER_STICKY = [
    "（",
    "textbook",
    "h₂o",
    "satisfy",
    "trajectory",
    "julio",
    "functioning",
    "[CLS]",
    "₂",
    "gambia",
    "defendant",
    "？",
    "{",
    "functioned",
    "imaginative",
    "cultivated",
    "う",
    "intelligent",
    "oskar",
    "whereupon",
    "intended",
]
FAST_TARGET_S = 5 * 60
FULL_TARGET_S = 60 * 60


def harm_of(embed, tokenizer, report: sticky.StickyReport, udhr: str | None):  # type: ignore[no-untyped-def]
    """The retrieval task with the report's verified tokens (above control when there are)."""
    ids = report.verified_ids(above_control=True) or report.verified_ids()
    if not ids:
        return None
    checked = {t.id for t in report.tokens}
    categories = sticky.filter_tokens(tokenizer)
    pool = [
        i for i in range(tokenizer.vocab_size) if categories[i] == "usable" and i not in checked
    ]
    return sticky.retrieval_harm(embed, tokenizer, ids, pool, udhr=udhr)


def show(report: sticky.StickyReport, elapsed_s: float, target_s: float, label: str) -> None:
    print(
        f"== {label}: {elapsed_s:.0f} s, {elapsed_s / target_s:.2f} x the {target_s / 60:.0f}-min target"
    )
    print(
        f"   mean token similarity u = {report.mean_similarity:.4f} ({report.mean_sample_tokens} tokens)"
    )
    for name, ours in (
        ("vocab", report.vocab_size),
        ("usable", report.usable),
        ("shortlisted", report.shortlisted),
        ("verified", report.verified),
    ):
        print(
            f"   {name:12s} ours {ours:6d}   paper {PAPER[name]:6d}   ratio {ours / PAPER[name]:.3f}"
        )
    print(f"   strong {report.strong}, above every control {report.above_control}, "
          f"controls verified {report.control_verified}/{len(report.control)}")  # fmt: skip
    verified = [t.token for t in report.tokens if t.verified]
    print(f"   verified: {', '.join(verified[:40])}")
    if report.harm is not None:
        h = report.harm
        print(f"   retrieval recall@{h.k} on {h.documents} {h.corpus}: clean {h.recall_clean:.3f}, "
              f"sticky {h.recall_sticky:.3f}, control {h.recall_control:.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--udhr", help="UDHR corpus folder (eng.tsv)")
    parser.add_argument("--out", default=None, help="folder for the JSON reports")
    parser.add_argument("--full", action="store_true", help="also the full run")
    parser.add_argument("--max-tokens", type=int, default=None, help="full run: first N tokens")
    args = parser.parse_args()
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)

    model = load_model(minilm_folder())
    model_embed = sticky.model_embedder(model)
    embedded = [0]

    def embed(texts):  # type: ignore[no-untyped-def]
        embedded[0] += len(texts)
        return model_embed(texts)

    tokenizer = model.tokenizer
    sentences = sticky.local_sentences(args.udhr)
    source = "udhr-eng + pydoc prose" if args.udhr else "pydoc prose"

    began = time.perf_counter()
    fast = sticky.detect_sticky_tokens(
        embed, tokenizer, model_name="all-MiniLM-L6-v2",
        settings=dataclasses.replace(sticky.StickySettings.budget(), mean_sample=2048),
        sentences=sentences, pair_source=source,
        candidates=sticky.resolve_candidates(tokenizer, PAPER_STICKY),
    )  # fmt: skip
    harm = harm_of(embed, tokenizer, fast, args.udhr)
    if harm is not None:
        fast = sticky.with_harm(fast, harm)
    show(fast, time.perf_counter() - began, FAST_TARGET_S, "fast mode, the paper's 21 tokens")
    if out:
        write_atomic(out / "sticky-minilm-fast.json", to_json(fast) + "\n")

    if not args.full:
        return
    began = time.perf_counter()
    embedded[0] = 0
    full = sticky.detect_sticky_tokens(
        embed, tokenizer, model_name="all-MiniLM-L6-v2", settings=sticky.StickySettings.budget(),
        sentences=sentences, pair_source=source, max_tokens=args.max_tokens,
    )  # fmt: skip
    harm = harm_of(embed, tokenizer, full, args.udhr)
    if harm is not None:
        full = sticky.with_harm(full, harm)
    elapsed = time.perf_counter() - began
    label = "full run"
    if args.max_tokens is not None and full.scored < full.usable:
        s = full.settings
        per_score = len(full.score_pairs) * 3 * len(s.score_insertions)  # own vectors cached
        per_verify = len(full.verify_pairs) * 3 * len(s.verify_insertions)
        shortlist_full = max(1, int(full.usable * s.shortlist_percent / 100))
        sentences = embedded[0] + (full.usable - full.scored) * per_score
        sentences += (shortlist_full - full.shortlisted) * per_verify
        rate = embedded[0] / elapsed
        print(f"   (this run: {embedded[0]:,} sentences in {elapsed:.0f} s, {rate:.1f}/s)")
        elapsed = sentences / rate
        label = f"full run ESTIMATED ({sentences:,} sentences at this run's rate)"
    show(full, elapsed, FULL_TARGET_S, label)
    if out:
        write_atomic(out / "sticky-minilm-full.json", to_json(full) + "\n")


if __name__ == "__main__":
    main()
