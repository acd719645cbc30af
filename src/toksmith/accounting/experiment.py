"""The CoIn inflation experiment: how often the auditor catches inflated hidden traces.

Real hidden reasoning traces are not available offline, so honest traces are built here as
stand-ins: for a Python standard-library module, the prompt is "Explain the Python module M:"
with the first line of its docstring, the hidden "reasoning" is the docstrings of its classes
and functions (read with ``ast``, nothing is imported), and the answer is the module docstring's
first paragraph. This is documentation, not reasoning: it is on-topic, fluent and varied, which
is what relevance matching needs to tell apart from inflation, but the figures say nothing
about how real reasoning models write.

Inflation of ``rate`` r adds round(r × honest blocks) blocks at random positions, of one kind:
- ``duplicate``: copies of the trace's own blocks (on-topic, so only repeats reveal them);
- ``random``: uniformly random token ids (not special tokens);
- ``unrelated``: fluent English on another subject (UDHR English when given, else Python's own
  licence text);
- ``python-source``: source code of other standard-library modules.

Protocol: an audit of k openings rejects when two opened blocks are identical, or when more
than ``max_flagged`` opened blocks have a relevance below ``threshold``. Honest traces are split
in two halves by module (no module on both sides). On the calibration half alone, for each k,
each candidate threshold (a percentile of honest opened-block relevance) gets the smallest
``max_flagged`` that rejects at most 1% of honest audits (20 draws per trace), and the threshold
that rejects the most inflated calibration traces (every kind at the middle rate) is kept. On
the other half, the false-positive rate (honest audits rejected, 20 draws per trace) and the
detection rate of each kind × rate (one audit per inflated trace) are measured. "Openings for
≥90%" is the smallest k of the grid that detects at least 90%.
"""

from __future__ import annotations

import ast
import random
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toksmith.accounting.coin import draw_openings, relevance_scores
from toksmith.accounting.embed import Embed
from toksmith.errors import UserError
from toksmith.progress import Progress
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

KINDS = ("duplicate", "random", "unrelated", "python-source")
THRESHOLD_PERCENTILES = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0)
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
    kind: str
    inflation: float
    openings: int
    detection_rate: float
    false_positive_rate: float
    openings_needed: int | None


@dataclass(frozen=True)
class ExperimentResult(Result):
    n_traces: int
    block_size: int
    target_fpr: float
    openings_grid: list[int]
    rules: list[Rule]
    rows: list[ExperimentRow]
    paper_best_detection: float = PAPER_BEST_DETECTION
    notes: list[str] = field(default_factory=list)


def stdlib_modules() -> list[Path]:
    """Standard-library source files, sorted (tests, private modules, IDLE, lib2to3 and
    installed packages left out)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    skipped = {"site-packages", "dist-packages", "idlelib", "lib2to3", "__pycache__", "turtledemo"}
    files = []
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if any(part in skipped or "test" in part for part in parts):
            continue
        if any(part.startswith("_") for part in parts[:-1]) or (
            path.name.startswith("_") and path.name != "__init__.py"
        ):
            continue
        files.append(path)
    return sorted(files)


def module_name(path: Path) -> str:
    """The dotted module name of a standard-library file."""
    root = Path(sysconfig.get_paths()["stdlib"])
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


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
    tokenizer: Tokenizer, n: int, *, block_size: int, trace_tokens: int, seed: int
) -> list[Trace]:
    """``n`` honest traces (see the module docstring): one window of ``trace_tokens`` tokens of
    a module's docstrings per trace, modules reused (at different windows) when n is large."""
    candidates: list[tuple[str, str, list[int]]] = []
    paths = stdlib_modules()
    random.Random(seed).shuffle(paths)
    for path in paths:
        if len(candidates) >= n:  # enough distinct modules: stop reading
            break
        docs = module_docs(path)
        if docs is None:
            continue
        module, parts = docs
        ids = tokenizer.encode("\n\n".join(parts))
        if len(ids) >= trace_tokens:
            candidates.append((module_name(path), module, ids))
    if not candidates:
        raise UserError("no standard-library module has enough docstrings to build traces")
    rng = random.Random(seed)
    rng.shuffle(candidates)
    traces = []
    for index in range(n):
        name, module, ids = candidates[index % len(candidates)]
        start = rng.randrange(0, len(ids) - trace_tokens + 1)
        window = ids[start : start + trace_tokens]
        blocks = [window[i : i + block_size] for i in range(0, len(window), block_size)]
        first_line = module.strip().splitlines()[0]
        answer = module.strip().split("\n\n")[0]
        prompt = f"Explain the Python module {name}: {first_line}"
        traces.append(Trace(name, prompt, answer, blocks, index % len(candidates)))
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


def _audit_scores(
    vectors: np.ndarray, ends: tuple[np.ndarray, np.ndarray], opened: list[int]
) -> np.ndarray:
    return relevance_scores(vectors[opened], ends[0], ends[1])


@dataclass(frozen=True)
class Audit:
    """One simulated audit: whether two opened blocks repeat, and the opened blocks'
    relevance."""

    duplicate: bool
    scores: np.ndarray

    def rejects(self, threshold: float, max_flagged: int) -> bool:
        """The decision rule: reject on a repeat, or on more than ``max_flagged`` opened blocks
        below ``threshold``."""
        return self.duplicate or int((self.scores < threshold).sum()) > max_flagged


def simulate_audit(
    blocks: list[list[int]],
    vectors: np.ndarray,
    ends: tuple[np.ndarray, np.ndarray],
    k: int,
    rng: random.Random,
) -> Audit:
    """Open k blocks of a trace as the auditor does and score them."""
    opened = draw_openings(len(blocks), k, rng)
    keys = [tuple(blocks[i]) for i in opened]
    return Audit(len(set(keys)) < len(keys), _audit_scores(vectors, ends, opened))


@dataclass(frozen=True)
class Rule(Result):
    """A calibrated decision rule for k openings."""

    openings: int
    threshold: float
    threshold_percentile: float
    max_flagged: int
    calibration_fpr: float
    calibration_detection: float


def calibrate_rule(k: int, honest: list[Audit], inflated: list[Audit], target_fpr: float) -> Rule:
    """The rule for k openings, chosen on calibration audits only: for each candidate
    threshold (a percentile of honest opened-block relevance), the smallest number of flagged
    blocks allowed that keeps the honest rejection rate ≤ ``target_fpr``; of those, the one that
    rejects the most inflated calibration audits (ties: the lower percentile)."""
    pooled = np.concatenate([audit.scores for audit in honest])
    best: Rule | None = None
    for percentile in THRESHOLD_PERCENTILES:
        threshold = float(np.percentile(pooled, percentile))
        for max_flagged in range(k + 1):
            fpr = float(np.mean([audit.rejects(threshold, max_flagged) for audit in honest]))
            if fpr <= target_fpr:
                break
        detection = float(np.mean([audit.rejects(threshold, max_flagged) for audit in inflated]))
        if best is None or detection > best.calibration_detection:
            best = Rule(k, threshold, percentile, max_flagged, fpr, detection)
    assert best is not None
    return best


def run_experiment(
    tokenizer: Tokenizer,
    embed: Embed,
    *,
    n: int = 200,
    rates: Sequence[float] = (0.05, 0.1, 0.2, 0.5),
    kinds: Sequence[str] = KINDS,
    openings_grid: Sequence[int] = (4, 8, 16, 32, 64),
    block_size: int = 32,
    trace_tokens: int = 1024,
    target_fpr: float = 0.01,
    udhr: str | Path | None = None,
    seed: int = 0,
    calibration_draws: int = 20,
    progress: Progress | None = None,
    embedding_name: str = "MiniLM",
) -> ExperimentResult:
    """Detection rate of each inflation kind × rate × number of openings at the calibrated
    false-positive rate (see the module docstring)."""
    if n < 4:
        raise UserError(f"--n {n}: expected at least 4 traces (half calibrate, half evaluate)")
    for kind in kinds:
        if kind not in KINDS:
            raise UserError(f"unknown inflation kind {kind!r} (expected one of {', '.join(KINDS)})")
    report = progress or (lambda message, fraction: None)
    traces = honest_traces(
        tokenizer, n, block_size=block_size, trace_tokens=trace_tokens, seed=seed
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
    report("embedding honest traces", 0.0)
    honest_blocks = [block for trace in traces for block in trace.blocks]
    for first in range(0, len(honest_blocks), 512):  # big batches: few compiled shapes
        embeddings.add(honest_blocks[first : first + 512])
        report("embedding honest traces", 0.6 * min(1.0, (first + 512) / len(honest_blocks)))
    for kind, pool in pools.items():
        if kind in kinds:
            embeddings.add(pool)
    report("embedding prompts and answers", 0.7)
    ends = np.asarray(
        embed([text for trace in traces for text in (trace.prompt, trace.answer)]),
        dtype=np.float64,
    )

    def ends_of(trace_index: int) -> tuple[np.ndarray, np.ndarray]:
        return ends[2 * trace_index], ends[2 * trace_index + 1]

    def audit(trace_index: int, blocks: list[list[int]], k: int) -> Audit:
        return simulate_audit(blocks, embeddings.of(blocks), ends_of(trace_index), k, rng)

    calibration = [i for i in range(n) if traces[i].group % 2 == 0]
    evaluation = [i for i in range(n) if traces[i].group % 2 == 1]
    if not calibration or not evaluation:
        raise UserError(f"--n {n}: too few traces to keep calibration and evaluation apart")
    rng = random.Random(seed + 2)
    # Inflated calibration traces (every kind, the middle rate) choose the threshold only.
    tuning_rate = sorted(rates)[len(rates) // 2]
    tuning = [
        (i, _inflate(traces[i], kind, tuning_rate, pools, rng))
        for i in calibration
        for kind in kinds
    ]
    rules: dict[int, Rule] = {}
    fprs: dict[int, float] = {}
    for k in openings_grid:
        honest = [
            audit(i, traces[i].blocks, k) for i in calibration for _ in range(calibration_draws)
        ]
        inflated = [audit(i, blocks, k) for i, blocks in tuning]
        rule = calibrate_rule(k, honest, inflated, target_fpr)
        rules[k] = rule
        held_out = [
            audit(i, traces[i].blocks, k).rejects(rule.threshold, rule.max_flagged)
            for i in evaluation
            for _ in range(calibration_draws)
        ]
        fprs[k] = float(np.mean(held_out))
    rows: list[ExperimentRow] = []
    settings = [(kind, rate) for kind in kinds for rate in rates]
    for step, (kind, rate) in enumerate(settings):
        report(f"auditing {kind} at {rate:g}", 0.7 + 0.3 * step / len(settings))
        inflated_traces = [(i, _inflate(traces[i], kind, rate, pools, rng)) for i in evaluation]
        detection = {}
        for k in openings_grid:
            rule = rules[k]
            caught = [
                audit(i, blocks, k).rejects(rule.threshold, rule.max_flagged)
                for i, blocks in inflated_traces
            ]
            detection[k] = float(np.mean(caught))
        needed = next((k for k in openings_grid if detection[k] >= 0.9), None)
        for k in openings_grid:
            rows.append(ExperimentRow(kind, rate, k, detection[k], fprs[k], needed))
    report("done", 1.0)
    notes = [
        "honest traces: standard-library docstrings as stand-ins for hidden reasoning (real "
        f"traces are not available offline); relevance: cosine of {embedding_name} embeddings "
        "to the "
        "prompt, the answer and the other opened blocks, not the paper's learned matching heads",
        "rules per number of openings k (calibration half; threshold = percentile of honest "
        "relevance, reject above max flagged): "
        + ", ".join(
            f"k={k}: {r.threshold:.3f} (p{r.threshold_percentile:g}), >{r.max_flagged}"
            for k, r in rules.items()
        )
        + f"; {len(calibration)} calibration and {len(evaluation)} evaluation traces (split by "
        f"module), {blocks_per_trace} blocks of {block_size} tokens each before inflation; "
        f"FPR measured on {calibration_draws} audits per evaluation trace",
        f"paper: detection success up to {PAPER_BEST_DETECTION:.1%} (CoIn, 2025), on real "
        "reasoning traces with learned matching heads: not the same setting",
    ]
    return ExperimentResult(
        n_traces=n,
        block_size=block_size,
        target_fpr=target_fpr,
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
