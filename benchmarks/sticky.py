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
each time as a ratio of its target, next to the process CPU time (user + sys, all threads), the
load average before and after, and the sentences embedded (per second of wall and of CPU), so a
run on a loaded machine can still be judged. The JSON reports go to --out (readable in
``toksmith serve --results DIR``), with those figures in their ``notes``.

    .venv/bin/python benchmarks/sticky.py --udhr ../shared/corpora/udhr --out results/
    .venv/bin/python benchmarks/sticky.py --udhr ../shared/corpora/udhr --full --out results/
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
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


def cpu_s() -> float:
    """CPU time of this process so far (user + sys, all threads), seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Meter:
    """Wall, CPU, load and sentences embedded over one phase of the benchmark."""

    def __init__(self, counter: list[int]) -> None:
        self.counter = counter
        self.load_before = load()
        self.wall0 = time.perf_counter()
        self.cpu0 = cpu_s()
        self.sent0 = counter[0]

    def stop(self) -> dict[str, float | str]:
        wall = time.perf_counter() - self.wall0
        cpu = cpu_s() - self.cpu0
        sent = self.counter[0] - self.sent0
        return {"wall_s": wall, "cpu_s": cpu, "sentences": sent,
                "per_wall_s": sent / max(wall, 1e-9), "per_cpu_s": sent / max(cpu, 1e-9),
                "load_before": self.load_before, "load_after": load()}  # fmt: skip


def describe(m: dict[str, float | str], target_s: float) -> str:
    return (f"wall {m['wall_s']:.0f} s ({float(m['wall_s']) / target_s:.2f} x the "
            f"{target_s / 60:.0f}-min target), CPU {m['cpu_s']:.0f} s (CPU/2 = "
            f"{float(m['cpu_s']) / 2 / target_s:.2f} x the target), {m['sentences']:,} sentences "
            f"({m['per_wall_s']:.0f}/s wall, {m['per_cpu_s']:.0f}/CPU-s), load average "
            f"{m['load_before']} before, {m['load_after']} after")  # fmt: skip


def show(report: sticky.StickyReport, label: str) -> None:
    print(f"== {label}")
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
    print(f"   verified ({len(verified)}): {', '.join(verified[:60])}")
    above = [t.token for t in report.tokens if t.verification and t.verification.above_control]
    print(f"   above every control ({len(above)}): {', '.join(above[:60])}")
    if report.mode == "full":
        listed = {t.token for t in report.tokens}
        good = {t.token for t in report.tokens if t.verified}
        found = [t for t in PAPER_STICKY if t in listed]
        print(f"   the paper's 21: {len(found)} shortlisted ({', '.join(found)}), "
              f"{sum(t in good for t in found)} of them verified")  # fmt: skip
    if report.harm is not None:
        h = report.harm
        print(f"   retrieval recall@{h.k} on {h.documents} {h.corpus}: clean {h.recall_clean:.3f}, "
              f"sticky {h.recall_sticky:.3f}, control {h.recall_control:.3f}")  # fmt: skip
        print("   per token: " + ", ".join(f"{r.token} {r.recall:.2f}" for r in h.sticky)
              + " | controls: " + ", ".join(f"{r.token} {r.recall:.2f}" for r in h.control))  # fmt: skip


def with_figures(
    report: sticky.StickyReport, m: dict[str, float | str], what: str
) -> sticky.StickyReport:
    note = f"benchmark ({what}): {describe(m, FULL_TARGET_S if 'full' in what else FAST_TARGET_S)}"
    return dataclasses.replace(report, notes=[*report.notes, note])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--udhr", help="UDHR corpus folder (eng.tsv)")
    parser.add_argument("--out", default=None, help="folder for the JSON reports")
    parser.add_argument("--full", action="store_true", help="also the full run")
    parser.add_argument("--no-fast", action="store_true", help="skip the fast mode")
    parser.add_argument("--max-tokens", type=int, default=None, help="full run: first N tokens")
    args = parser.parse_args()
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)

    print(f"load average at start: {load()}", flush=True)
    model = load_model(minilm_folder())
    model_embed = sticky.model_embedder(model)
    embedded = [0]

    def embed(texts):  # type: ignore[no-untyped-def]
        embedded[0] += len(texts)
        return model_embed(texts)

    tokenizer = model.tokenizer
    sentences = sticky.local_sentences(args.udhr)
    source = "udhr-eng + pydoc prose" if args.udhr else "pydoc prose"

    if not args.no_fast:
        meter = Meter(embedded)
        fast = sticky.detect_sticky_tokens(
            embed, tokenizer, model_name="all-MiniLM-L6-v2",
            settings=dataclasses.replace(sticky.StickySettings.budget(), mean_sample=2048),
            sentences=sentences, pair_source=source,
            candidates=sticky.resolve_candidates(tokenizer, PAPER_STICKY),
        )  # fmt: skip
        harm = harm_of(embed, tokenizer, fast, args.udhr)
        if harm is not None:
            fast = sticky.with_harm(fast, harm)
        m = meter.stop()
        show(fast, "fast mode, the paper's 21 tokens, --preset budget")
        print(f"   {describe(m, FAST_TARGET_S)}", flush=True)
        if out:
            fast = with_figures(fast, m, "fast mode")
            write_atomic(out / "sticky-minilm-fast.json", to_json(fast) + "\n")

    if not args.full:
        return
    settings = sticky.StickySettings.budget()
    meter = Meter(embedded)
    phases: dict[str, tuple[float, float, int]] = {}

    def progress(message: str, fraction: float) -> None:
        phase = message.split()[0]
        phases[phase] = (time.perf_counter() - meter.wall0, cpu_s() - meter.cpu0,
                         embedded[0] - meter.sent0)  # fmt: skip

    full = sticky.detect_sticky_tokens(
        embed, tokenizer, model_name="all-MiniLM-L6-v2", settings=settings,
        sentences=sentences, pair_source=source, max_tokens=args.max_tokens, progress=progress,
    )  # fmt: skip
    harm = harm_of(embed, tokenizer, full, args.udhr)
    if harm is not None:
        full = sticky.with_harm(full, harm)
    m = meter.stop()
    label = "full run, --preset budget, every usable token"
    if args.max_tokens is not None and full.scored < full.usable:
        s = full.settings
        per_score = len(full.score_pairs) * 3 * len(s.score_insertions)  # own vectors cached
        per_verify = len(full.verify_pairs) * 3 * len(s.verify_insertions)
        shortlist_full = max(1, int(full.usable * s.shortlist_percent / 100))
        total = int(m["sentences"]) + (full.usable - full.scored) * per_score
        total += (shortlist_full - full.shortlisted) * per_verify
        print(f"   (this run: {m['sentences']:,} sentences; a full run embeds {total:,}: "
              f"{total / float(m['per_wall_s']):.0f} s at this run's wall rate, "
              f"{total / float(m['per_cpu_s']):.0f} CPU-s at its CPU rate) ESTIMATE")  # fmt: skip
        label = f"full run, first {full.scored} usable tokens only (--max-tokens)"
    show(full, label)
    for phase, (wall, cpu, sent) in phases.items():
        print(f"   phase '{phase}' ended at wall {wall:.0f} s, CPU {cpu:.0f} s, {sent:,} sentences")
    print(f"   {describe(m, FULL_TARGET_S)}", flush=True)
    if out:
        full = with_figures(full, m, "full run")
        name = "sticky-minilm-full.json" if args.max_tokens is None else "sticky-minilm-slice.json"
        write_atomic(out / name, to_json(full) + "\n")


if __name__ == "__main__":
    main()
