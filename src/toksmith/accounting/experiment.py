"""The CoIn inflation experiment: how often the auditor catches inflated hidden traces, at a
false-positive rate that is certified on honest traces.

Real hidden reasoning traces are not available offline, so honest traces are built here as
stand-ins: for a Python module (the standard library's and the installed packages', private
ones included; one trace per module), the prompt is "Explain the Python module M:" with the
first line of its docstring, the hidden "reasoning" a window of ``trace_tokens`` tokens of the
docstrings of its classes and functions (read with ``ast``, nothing is imported), and the answer
the module docstring's first paragraph. This is documentation, not reasoning: on-topic and
fluent, but with tables, examples and copied parameter docs that real reasoning has less of;
the figures say nothing about how real reasoning models write.

Inflation of ``rate`` r adds round(r × honest blocks) blocks at random positions, of one kind:
- ``duplicate``: copies of the trace's own blocks (on-topic, so only repeats reveal them);
- ``random``: uniformly random token ids (not special tokens);
- ``unrelated``: fluent English on another subject (UDHR English when given, else Python's own
  licence text);
- ``python-source``: source code of other standard-library modules.

Protocol: an audit of k openings computes one statistic
(:func:`~toksmith.accounting.coin.audit_statistic`: the distinct opened blocks' relevance
shortfall below a floor, plus the floor per repeated block) and rejects above a limit. Traces
are split in two halves (even and odd positions of a shuffled module list: no module on both
sides). On the calibration half alone, for each k, one audit per trace gives one independent
statistic per trace, and the limit is the order statistic that certifies a false-positive rate
≤ ``target_fpr`` with probability ≥ ``confidence`` (:mod:`toksmith.accounting.calibration`;
299 calibration traces at least for 1% at 95%). Nothing else is tuned on the run's data: the
floor and the relevance reference were chosen beforehand on the calibration half of the default
run only. On the other half, one audit per honest trace gives the held-out false-positive rate
and one audit per inflated trace the detection rate of each kind × rate, both with exact
(Clopper–Pearson) 95% intervals. "Openings for ≥90%" is the smallest k of the grid that detects
at least 90%.

Why the earlier protocol missed its 1% on held-out traces (1.5, 1.1, 0.4, 4.0, 4.0% for 4 to
64 openings): it kept the rule that rejected at most 1% of calibration audits, which expects
about 2% on new traces at 100 traces (see :mod:`toksmith.accounting.calibration`), and then
picked the best of six thresholds on detection; its 20 draws per trace were not independent
(at k ≥ 32 every block of a 32-block trace is opened, so all 20 were the same audit), and 200
traces came from 76 modules, windows of one module overlapping. It also rejected outright on
any repeated block, which honest documentation has too (2% of this run's calibration traces).
"""

from __future__ import annotations

import ast
import os
import random
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toksmith.accounting.calibration import (
    allowed_exceedances,
    calibrated_limit,
    clopper_pearson,
    fewest_calibration_audits,
)
from toksmith.accounting.coin import (
    RELEVANCE_FLOOR,
    audit_statistic,
    distinct_openings,
    draw_openings,
    relevance_scores,
)
from toksmith.accounting.embed import Embed
from toksmith.errors import UserError
from toksmith.progress import Progress
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

KINDS = ("duplicate", "random", "unrelated", "python-source")
PAPER_BEST_DETECTION = 0.947  # "success rate reaching up to 94.7%" (CoIn abstract)


@dataclass
class Trace:
    """One honest trace: prompt, hidden blocks (token ids), answer."""

    name: str
    prompt: str
    answer: str
    blocks: list[list[int]]
    group: int  # the module's index: traces of one module stay on one side of the split


@dataclass(frozen=True)
class ExperimentRow(Result):
    """Detection of one inflation kind × rate with k openings, beside the held-out honest
    false-positive rate of the same rule; rates with exact 95% intervals."""

    kind: str
    inflation: float
    openings: int
    detected: int
    audits: int
    detection_rate: float
    detection_low: float
    detection_high: float
    false_positives: int
    honest_audits: int
    false_positive_rate: float
    false_positive_low: float
    false_positive_high: float
    openings_needed: int | None

    @classmethod
    def of(cls, kind: str, inflation: float, openings: int, detected: int,
           false_positives: int, audits: int, openings_needed: int | None) -> ExperimentRow:  # fmt: skip
        """A row from counts (the same ``audits`` evaluation traces for both rates)."""
        detection_low, detection_high = clopper_pearson(detected, audits)
        fp_low, fp_high = clopper_pearson(false_positives, audits)
        return cls(kind, inflation, openings, detected, audits, detected / audits, detection_low,
                   detection_high, false_positives, audits, false_positives / audits, fp_low,
                   fp_high, openings_needed)  # fmt: skip


@dataclass(frozen=True)
class ExperimentResult(Result):
    n_traces: int
    block_size: int
    target_fpr: float
    confidence: float
    openings_grid: list[int]
    rules: list[Rule]
    rows: list[ExperimentRow]
    paper_best_detection: float = PAPER_BEST_DETECTION
    notes: list[str] = field(default_factory=list)


def _modules(root: Path, *, private: bool) -> list[Path]:
    """``.py`` files under ``root``, sorted: tests, IDLE, lib2to3, caches and installed-package
    metadata left out, and private modules and packages unless ``private``."""
    skipped = {"site-packages", "dist-packages", "idlelib", "lib2to3", "__pycache__", "turtledemo"}

    def kept(name: str, *, folder: bool) -> bool:
        if name in skipped or "test" in name or name.endswith(".dist-info"):
            return False
        return private or not name.startswith("_") or (not folder and name == "__init__.py")

    files: list[Path] = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if kept(name, folder=True)]
        files.extend(
            Path(folder) / name
            for name in names
            if name.endswith(".py") and kept(name, folder=False)
        )
    return sorted(files)


def stdlib_modules() -> list[Path]:
    """Standard-library source files, sorted (tests, private modules, IDLE, lib2to3 and
    installed packages left out)."""
    return _modules(Path(sysconfig.get_paths()["stdlib"]), private=False)


def _dotted(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_name(path: Path) -> str:
    """The dotted module name of a standard-library file."""
    return _dotted(path, Path(sysconfig.get_paths()["stdlib"]))


def documented_modules() -> list[tuple[str, Path]]:
    """(dotted name, file) of every module of the standard library and of the installed
    packages (``purelib``/``platlib``), private ones included (much documentation lives in them,
    such as ``numpy._core``), sorted by name; the first file of a name wins."""
    paths = sysconfig.get_paths()
    roots = list(dict.fromkeys(Path(paths[key]) for key in ("stdlib", "purelib", "platlib")))
    found: dict[str, Path] = {}
    for root in roots:
        if not root.is_dir():
            continue
        for path in _modules(root, private=True):
            name = _dotted(path, root)
            if name:
                found.setdefault(name, path)
    return sorted(found.items())


def module_docs(path: Path) -> tuple[str, list[str]] | None:
    """The module docstring and its classes' and functions' docstrings, or None."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return None
    module = ast.get_docstring(tree)
    if not module:
        return None
    parts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            doc = ast.get_docstring(node)
            if doc and len(doc) > 40:
                parts.append(f"{node.name}: {doc}")
    return module, parts


def honest_traces(
    tokenizer: Tokenizer,
    n: int | None,
    *,
    block_size: int,
    trace_tokens: int,
    seed: int,
    modules: Sequence[tuple[str, Path]] | None = None,
) -> list[Trace]:
    """``n`` honest traces (see the module docstring), each from a different module, so that
    traces are independent draws; ``None``: one per module with at least ``trace_tokens`` tokens
    of docstrings. The trace is a window of ``trace_tokens`` tokens at a random start.
    ``modules``: (name, file) to draw from (default :func:`documented_modules`, which depends
    on the installed packages)."""
    candidates: list[tuple[str, str, list[int]]] = []
    modules = list(documented_modules() if modules is None else modules)
    random.Random(seed).shuffle(modules)
    for name, path in modules:
        if n is not None and len(candidates) >= n:  # enough modules: stop reading
            break
        docs = module_docs(path)
        if docs is None:
            continue
        module, parts = docs
        ids = tokenizer.encode("\n\n".join(parts))
        if len(ids) >= trace_tokens:
            candidates.append((name, module, ids))
    if n is not None and len(candidates) < n:
        raise UserError(
            f"--n {n}: only {len(candidates)} modules have {trace_tokens} tokens of docstrings "
            "(one trace per module); expected at most that"
        )
    rng = random.Random(seed)
    traces = []
    for index, (name, module, ids) in enumerate(candidates):
        start = rng.randrange(0, len(ids) - trace_tokens + 1)
        window = ids[start : start + trace_tokens]
        blocks = [window[i : i + block_size] for i in range(0, len(window), block_size)]
        first_line = module.strip().splitlines()[0]
        answer = module.strip().split("\n\n")[0]
        prompt = f"Explain the Python module {name}: {first_line}"
        traces.append(Trace(name, prompt, answer, blocks, index))
    return traces


def unrelated_text(udhr: str | Path | None) -> str:
    """Fluent English on another subject: the UDHR English file when a UDHR folder is given
    (``eng.*``), else the licence text that ships with Python."""
    if udhr is not None:
        folder = Path(udhr)
        matches = sorted(folder.glob("eng.*")) if folder.is_dir() else [folder]
        if not matches:
            raise UserError(f"UDHR folder {udhr} has no eng.* file")
        lines = matches[0].read_text(encoding="utf-8").splitlines()
        return "\n".join(line.split("\t", 1)[-1] for line in lines)
    licence = Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt"
    if not licence.is_file():
        raise UserError("Python's LICENSE.txt is missing: give --udhr FOLDER for unrelated text")
    return licence.read_text(encoding="utf-8")


def python_source(exclude: set[str]) -> str:
    """Code of a few standard-library modules not used for honest traces (docstrings kept:
    what a provider could paste)."""
    texts: list[str] = []
    for path in stdlib_modules():
        if module_name(path) not in exclude and len(texts) < 8:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


def block_pool(tokenizer: Tokenizer, text: str, block_size: int, size: int) -> list[list[int]]:
    ids = tokenizer.encode(text)
    blocks = [ids[i : i + block_size] for i in range(0, len(ids) - block_size + 1, block_size)]
    return blocks[:size]


def random_pool(tokenizer: Tokenizer, block_size: int, size: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    specials = tokenizer.special_ids
    # Ids with bytes (a vocabulary may have holes, such as o200k_base's unused ids).
    usable = [i for i, piece in enumerate(tokenizer.vocab_bytes) if piece and i not in specials]
    return [[rng.choice(usable) for _ in range(block_size)] for _ in range(size)]


class _Embeddings:
    """Relevance embeddings of blocks, computed once per distinct block."""

    def __init__(self, tokenizer: Tokenizer, embed: Embed) -> None:
        self.tokenizer, self.embed = tokenizer, embed
        self.vectors: dict[tuple[int, ...], np.ndarray] = {}

    def add(self, blocks: Sequence[Sequence[int]]) -> None:
        new = list(dict.fromkeys(tuple(b) for b in blocks if tuple(b) not in self.vectors))
        if new:
            vectors = self.embed([self.tokenizer.decode(list(b)) for b in new])
            for key, vector in zip(new, vectors, strict=True):
                self.vectors[key] = np.asarray(vector, dtype=np.float64)

    def of(self, blocks: Sequence[Sequence[int]]) -> np.ndarray:
        return np.stack([self.vectors[tuple(b)] for b in blocks])


@dataclass(frozen=True)
class Audit:
    """One simulated audit: how many opened blocks repeat an earlier one, the distinct opened
    blocks' relevance, and the audit's statistic
    (:func:`~toksmith.accounting.coin.audit_statistic`)."""

    repeats: int
    scores: np.ndarray
    statistic: float

    def rejects(self, limit: float) -> bool:
        """The decision rule: reject when the statistic is strictly above ``limit``."""
        return self.statistic > limit


def simulate_audit(
    blocks: list[list[int]],
    vectors: np.ndarray,
    ends: tuple[np.ndarray, np.ndarray],
    k: int,
    rng: random.Random,
    floor: float = RELEVANCE_FLOOR,
) -> Audit:
    """Open k blocks of a trace as the auditor does (:func:`~toksmith.accounting.coin.verify`)
    and score them."""
    opened = draw_openings(len(blocks), k, rng)
    distinct, repeats = distinct_openings([tuple(blocks[i]) for i in opened])
    scores = relevance_scores(vectors[[opened[i] for i in distinct]], ends[0], ends[1])
    return Audit(repeats, scores, audit_statistic(scores, repeats, floor))


@dataclass(frozen=True)
class Rule(Result):
    """A calibrated decision rule for k openings: reject when the audit statistic is above
    ``limit``, the order statistic of ``calibration_traces`` honest audits that leaves
    ``exceedances_allowed`` above it (:mod:`toksmith.accounting.calibration`)."""

    openings: int
    limit: float
    calibration_traces: int
    exceedances_allowed: int
    target_fpr: float
    confidence: float


def calibrate_rule(k: int, honest: Sequence[Audit], target_fpr: float, confidence: float) -> Rule:
    """The rule for k openings from one audit per independent honest calibration trace: the
    false-positive rate on new honest traces is ≤ ``target_fpr`` with probability
    ≥ ``confidence`` (see :mod:`toksmith.accounting.calibration`)."""
    statistics = [audit.statistic for audit in honest]
    limit = calibrated_limit(statistics, target_fpr, confidence)
    allowed = allowed_exceedances(len(statistics), target_fpr, confidence)
    assert allowed is not None  # calibrated_limit raised otherwise
    return Rule(k, limit, len(statistics), allowed, target_fpr, confidence)


def run_experiment(
    tokenizer: Tokenizer,
    embed: Embed,
    *,
    n: int | None = None,
    rates: Sequence[float] = (0.05, 0.1, 0.2, 0.5),
    kinds: Sequence[str] = KINDS,
    openings_grid: Sequence[int] = (4, 8, 16, 32, 64),
    block_size: int = 32,
    trace_tokens: int = 1024,
    target_fpr: float = 0.01,
    confidence: float = 0.95,
    floor: float = RELEVANCE_FLOOR,
    udhr: str | Path | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    embedding_name: str = "MiniLM",
    modules: Sequence[tuple[str, Path]] | None = None,
) -> ExperimentResult:
    """Detection rate of each inflation kind × rate × number of openings under rules calibrated
    for a false-positive rate ≤ ``target_fpr`` (see the module docstring); ``n`` honest traces,
    one per module (``None``: every module with enough docstrings). ``floor`` is the relevance
    floor of the audit statistic, which depends on the embedding (the default suits MiniLM);
    ``modules`` as in :func:`honest_traces`."""
    if n is not None and n < 4:
        raise UserError(f"--n {n}: expected at least 4 traces (half calibrate, half evaluate)")
    for kind in kinds:
        if kind not in KINDS:
            raise UserError(f"unknown inflation kind {kind!r} (expected one of {', '.join(KINDS)})")
    needed = fewest_calibration_audits(target_fpr, confidence)
    if n is not None and (n + 1) // 2 < needed:  # checked before reading any module
        raise UserError(
            f"--n {n}: {(n + 1) // 2} calibration traces, but a false-positive rate ≤ "
            f"{target_fpr:g} at {confidence:.0%} confidence needs at least {needed} (--n ≥ "
            f"{2 * needed - 1})"
        )
    report = progress or (lambda message, fraction: None)
    report("reading module docstrings", 0.0)
    traces = honest_traces(
        tokenizer, n, block_size=block_size, trace_tokens=trace_tokens, seed=seed, modules=modules
    )
    calibration = [i for i in range(len(traces)) if traces[i].group % 2 == 0]
    evaluation = [i for i in range(len(traces)) if traces[i].group % 2 == 1]
    if len(calibration) < needed:
        raise UserError(
            f"{len(traces)} modules have {trace_tokens} tokens of docstrings: "
            f"{len(calibration)} calibration traces, but a false-positive rate ≤ {target_fpr:g} "
            f"at {confidence:.0%} confidence needs at least {needed}"
        )
    blocks_per_trace = len(traces[0].blocks)
    pool_size = max(8, int(max(rates) * blocks_per_trace) * 4)
    pools = {
        "random": random_pool(tokenizer, block_size, pool_size, seed + 1),
        "unrelated": block_pool(tokenizer, unrelated_text(udhr), block_size, pool_size),
        "python-source": block_pool(
            tokenizer, python_source({t.name for t in traces}), block_size, pool_size
        ),
    }
    embeddings = _Embeddings(tokenizer, embed)
    report("embedding honest traces", 0.05)
    honest_blocks = [block for trace in traces for block in trace.blocks]
    for first in range(0, len(honest_blocks), 512):  # big batches: few compiled shapes
        embeddings.add(honest_blocks[first : first + 512])
        report("embedding honest traces", 0.05 + 0.8 * min(1.0, (first + 512) / len(honest_blocks)))
    for kind, pool in pools.items():
        if kind in kinds:
            embeddings.add(pool)
    report("embedding prompts and answers", 0.88)
    ends = np.asarray(
        embed([text for trace in traces for text in (trace.prompt, trace.answer)]),
        dtype=np.float64,
    )
    rng = random.Random(seed + 2)

    def audit(trace_index: int, blocks: list[list[int]], k: int) -> Audit:
        ends_of = (ends[2 * trace_index], ends[2 * trace_index + 1])
        return simulate_audit(blocks, embeddings.of(blocks), ends_of, k, rng, floor)

    # One audit per trace on both sides: traces are the independent units, the auditor's draw
    # is part of each audit's randomness.
    rules: dict[int, Rule] = {}
    false_positives: dict[int, int] = {}
    for k in openings_grid:
        rules[k] = calibrate_rule(
            k, [audit(i, traces[i].blocks, k) for i in calibration], target_fpr, confidence
        )
        false_positives[k] = sum(
            audit(i, traces[i].blocks, k).rejects(rules[k].limit) for i in evaluation
        )
    rows: list[ExperimentRow] = []
    settings = [(kind, rate) for kind in kinds for rate in rates]
    for step, (kind, rate) in enumerate(settings):
        report(f"auditing {kind} at {rate:g}", 0.9 + 0.1 * step / len(settings))
        inflated_traces = [(i, _inflate(traces[i], kind, rate, pools, rng)) for i in evaluation]
        caught: dict[int, int] = {}
        for k in openings_grid:
            caught[k] = sum(
                audit(i, blocks, k).rejects(rules[k].limit) for i, blocks in inflated_traces
            )
        fewest = next((k for k in openings_grid if caught[k] >= 0.9 * len(evaluation)), None)
        for k in openings_grid:
            rows.append(
                ExperimentRow.of(
                    kind, rate, k, caught[k], false_positives[k], len(evaluation), fewest
                )  # fmt: skip
            )
    report("done", 1.0)
    notes = [
        "honest traces: docstrings of standard-library and installed modules, one module per "
        "trace, as stand-ins for hidden reasoning (real traces are not available offline); "
        f"relevance: cosine of {embedding_name} embeddings to the prompt, the answer and the "
        "core of the opened blocks (coin.relevance_scores), not the paper's learned matching "
        f"heads; audit statistic: shortfall below relevance {floor:g} plus {floor:g} per "
        "repeated block (coin.audit_statistic)",
        f"rules per number of openings k, from {len(calibration)} calibration traces (one audit "
        f"each): reject above the limit, which leaves j calibration audits above it so that "
        f"P(FPR > {target_fpr:g}) ≤ {1 - confidence:g}: "
        + ", ".join(f"k={k}: {r.limit:.4f} (j={r.exceedances_allowed})" for k, r in rules.items())
        + f"; {len(evaluation)} evaluation traces (other modules, one audit each for FPR and for "
        f"each inflated setting), {blocks_per_trace} blocks of {block_size} tokens each before "
        "inflation; intervals are exact (Clopper–Pearson) 95%",
        f"paper: detection success up to {PAPER_BEST_DETECTION:.1%} (CoIn, 2025), on real "
        "reasoning traces with learned matching heads: not the same setting",
    ]
    return ExperimentResult(
        n_traces=len(traces),
        block_size=block_size,
        target_fpr=target_fpr,
        confidence=confidence,
        openings_grid=list(openings_grid),
        rules=[rules[k] for k in openings_grid],
        rows=rows,
        notes=notes,
    )


def _inflate(
    trace: Trace, kind: str, rate: float, pools: dict[str, list[list[int]]], rng: random.Random
) -> list[list[int]]:
    blocks = [list(b) for b in trace.blocks]
    extra = max(1, round(rate * len(blocks)))
    for _ in range(extra):
        if kind == "duplicate":
            block = list(rng.choice(trace.blocks))
        else:
            block = list(rng.choice(pools[kind]))
        blocks.insert(rng.randrange(len(blocks) + 1), block)
    return blocks


__all__ = [
    "KINDS",
    "PAPER_BEST_DETECTION",
    "ExperimentResult",
    "ExperimentRow",
    "Rule",
    "calibrate_rule",
    "simulate_audit",
    "Trace",
    "honest_traces",
    "run_experiment",
]
