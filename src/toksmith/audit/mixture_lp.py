"""The linear program of data mixture inference, solved by HiGHS with lazy constraints.

Hayase et al. (2024), "Data Mixture Inference: What do BPE Tokenizers Reveal about their
Training Data?": with ``c_i,t(p)`` the count of pair ``p`` in category ``i`` after the first
``t`` merges (per MB of sample), the pair merged at step ``t`` was the most frequent in the
mixture, so for every other pair ``p``

    sum_i alpha_i * (c_i,t(m_t) - c_i,t(p)) + v_t + v_p >= 0,

where ``v_t >= 0`` (one per step) and ``v_p >= 0`` (one per pair) absorb what the categories
cannot explain (data outside them, sampling noise). The LP minimises ``sum v_t + sum v_p`` over
``alpha >= 0, sum alpha = 1``.

There is one constraint per step and per pair present, far too many to write down, so they
are generated lazily:

1. One replay records a pool of candidate constraints: at each step, the ``k`` most frequent
   pairs of each category (those the merged pair beats in every category are dropped: no
   mixture can violate them). It also records a bound: no pair outside the pool is more
   frequent in category ``i`` than the ``k``-th one.
2. The LP starts with each category's top pair per step; pool constraints the solution violates
   are added and HiGHS re-solves from its previous basis, until no pool constraint is violated.
3. Steps where the bound proves that no pair outside the pool can be violated are done. For the
   others, a replay ordered by the current mixture (a heap of ``sum_i alpha_i c_i,t(p)``) finds
   up to ``limit_per_step`` violated constraints per step; they are added and 2. resumes.

The loop ends when a replay finds no violated constraint (the solution is then the LP optimum
over all constraints: ``verified``) or after ``max_verification_replays`` replays. Measured on
held-out samples, the number of violated constraints shrinks slowly (sampling noise makes
hundreds of pairs per late step compete with the merged one). ``infer_mixture`` therefore runs
no checking replay by default (``--replays N`` adds them; on the benchmark two of them more than
double the time for the same error) and reports the solution as not verified; the
controlled test and the benchmark measure how far that is from the true mixture.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np

from toksmith.audit.mixture_replay import MergeReplay, TopPairs, WeightedTopPairs, pair_key
from toksmith.progress import Progress

# Violations smaller than this (in counts per MB) are solver round-off, not violations.
TOLERANCE = 1e-6


@dataclass
class ConstraintPool:
    """Candidate constraints: row ``r`` says that at step ``row_step[r]`` the merged pair beat
    pair ``row_pair[r]``; ``row_diff[r, i]`` is their count difference in category ``i``."""

    chosen: np.ndarray  # (steps, categories) counts per MB of the merged pair
    bounds: np.ndarray  # (steps, categories) counts per MB no pair outside the pool exceeds
    row_step: np.ndarray  # (rows,) int64
    row_pair: np.ndarray  # (rows,) int64 pair keys
    row_rank: np.ndarray  # (rows,) best rank of the pair in any category's top list (0 = top)
    row_diff: np.ndarray  # (rows, categories) float64

    @property
    def rows(self) -> int:
        return len(self.row_step)

    def extend(self, steps: list[int], pairs: list[int], diffs: list[np.ndarray]) -> None:
        self.row_step = np.concatenate([self.row_step, np.asarray(steps, dtype=np.int64)])
        self.row_pair = np.concatenate([self.row_pair, np.asarray(pairs, dtype=np.int64)])
        self.row_rank = np.concatenate(
            [self.row_rank, np.full(len(steps), np.iinfo(np.int16).max, dtype=np.int16)]
        )
        self.row_diff = np.concatenate([self.row_diff, np.vstack(diffs)])


@dataclass
class LPSolution:
    alpha: np.ndarray  # (categories,)
    step_slack: np.ndarray  # (steps,) v_t
    pair_slack: dict[int, float]  # v_p of the pairs in the LP
    status: str
    objective: float  # total slack, counts per MB


@dataclass
class LazySolve:
    """The final LP solution and how it was reached."""

    solution: LPSolution
    pool_rows: int
    constraints_used: int
    rounds: int
    verification_replays: int
    verified: bool  # no constraint of any pair at any step is violated
    violations_last_replay: (
        int | None
    )  # violated constraints the last replay found (None: none ran)


def collect_pool(
    pretokens: Sequence[Counter[bytes]],
    merges: Sequence[tuple[int, int, int]],
    per_mb: np.ndarray,
    k: int,
    progress: Progress | None = None,
) -> ConstraintPool:
    """Replay ``merges`` and keep, at each step, the ``k`` most frequent pairs of every
    category that the merged pair does not beat in every category."""
    categories = len(pretokens)
    replay = MergeReplay(pretokens)
    tops = TopPairs(replay)
    chosen = np.zeros((len(merges), categories))
    bounds = np.zeros((len(merges), categories), dtype=np.float32)
    steps: list[np.ndarray] = []
    pairs: list[np.ndarray] = []
    ranks: list[np.ndarray] = []
    diffs: list[np.ndarray] = []
    for step, (left, right, new) in enumerate(merges):
        if progress and step % 500 == 0:
            progress(f"replaying merge {step:,}/{len(merges):,}", step / len(merges))
        merged = pair_key(left, right)
        chosen[step] = np.asarray(replay.count(merged), dtype=np.float64) * per_mb
        best_rank: dict[int, int] = {}
        for index in range(categories):
            top = tops.top(index, k, exclude=merged)
            for rank, key in enumerate(top):
                best_rank[key] = min(rank, best_rank.get(key, rank))
            if len(top) == k:
                bounds[step, index] = replay.counts[top[-1]][index] * per_mb[index]
        if best_rank:
            keys = np.fromiter(best_rank, dtype=np.int64, count=len(best_rank))
            counts = np.array([replay.counts[key] for key in best_rank], dtype=np.float64)
            diff = chosen[step] - counts * per_mb
            beaten_somewhere = (diff < 0).any(axis=1)  # otherwise no alpha can violate it
            if beaten_somewhere.any():
                steps.append(np.full(int(beaten_somewhere.sum()), step, dtype=np.int64))
                pairs.append(keys[beaten_somewhere])
                rank_values = np.fromiter(best_rank.values(), np.int16, count=len(best_rank))
                ranks.append(rank_values[beaten_somewhere])
                diffs.append(diff[beaten_somewhere])
        tops.update(replay.apply(left, right, new))
    return ConstraintPool(
        chosen=chosen,
        bounds=bounds,
        row_step=np.concatenate(steps) if steps else np.zeros(0, np.int64),
        row_pair=np.concatenate(pairs) if pairs else np.zeros(0, np.int64),
        row_rank=np.concatenate(ranks) if ranks else np.zeros(0, np.int16),
        row_diff=np.vstack(diffs) if diffs else np.zeros((0, categories)),
    )


def _new_highs() -> highspy.Highs:
    """A silent HiGHS instance. highspy prints its banner on stdout when the first instance of
    the process is made, which would corrupt JSON written to stdout, so that moment runs with
    file descriptor 1 pointed at /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highs = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    highs.setOptionValue("output_flag", False)
    return highs


class SlackLP:
    """The slack LP in HiGHS, grown row by row: after rows are added, HiGHS re-solves from the
    previous basis (dual simplex warm start) instead of from scratch."""

    def __init__(self, categories: int, steps: int) -> None:
        self.categories = categories
        self.steps = steps
        self.highs = _new_highs()
        zeros = np.zeros(categories)
        self.highs.addCols(
            categories, zeros, zeros, np.full(categories, highspy.kHighsInf), 0,
            np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0),
        )  # fmt: skip
        self.highs.addRow(1.0, 1.0, categories, np.arange(categories, dtype=np.int32),
                          np.ones(categories))  # fmt: skip
        self.step_column: dict[int, int] = {}
        self.pair_column: dict[int, int] = {}
        self.rows = 0

    def _columns_for(self, keys: np.ndarray, columns: dict[int, int]) -> np.ndarray:
        """The slack column of each key, adding a column (cost 1, >= 0) for new keys."""
        fresh = [key for key in dict.fromkeys(keys.tolist()) if key not in columns]
        if fresh:
            first = self.highs.getNumCol()
            for offset, key in enumerate(fresh):
                columns[key] = first + offset
            count = len(fresh)
            self.highs.addCols(
                count, np.ones(count), np.zeros(count), np.full(count, highspy.kHighsInf), 0,
                np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0),
            )  # fmt: skip
        return np.fromiter((columns[key] for key in keys.tolist()), np.int32, count=len(keys))

    def add(self, steps: np.ndarray, pairs: np.ndarray, diffs: np.ndarray) -> None:
        """Add the rows ``diffs[r] . alpha + v_steps[r] + v_pairs[r] >= 0``."""
        rows = len(steps)
        if rows == 0:
            return
        step_columns = self._columns_for(steps, self.step_column)
        pair_columns = self._columns_for(pairs, self.pair_column)
        width = self.categories + 2
        indices = np.empty((rows, width), dtype=np.int32)
        indices[:, : self.categories] = np.arange(self.categories, dtype=np.int32)
        indices[:, -2] = step_columns
        indices[:, -1] = pair_columns
        values = np.ones((rows, width))
        values[:, : self.categories] = diffs
        starts = np.arange(rows, dtype=np.int32) * width
        self.highs.addRows(
            rows, np.zeros(rows), np.full(rows, highspy.kHighsInf), rows * width, starts,
            indices.ravel(), values.ravel(),
        )  # fmt: skip
        self.rows += rows

    def solve(self) -> LPSolution:
        if self.rows == 0:
            return LPSolution(
                alpha=np.full(self.categories, 1.0 / self.categories),
                step_slack=np.zeros(self.steps),
                pair_slack={},
                status="no constraint can be violated: every mixture fits",
                objective=0.0,
            )
        self.highs.run()
        status = self.highs.getModelStatus()
        message = self.highs.modelStatusToString(status)
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"HiGHS did not solve the mixture LP: {message}")
        x = np.asarray(self.highs.getSolution().col_value)
        alpha = np.clip(x[: self.categories], 0.0, None)
        alpha /= alpha.sum()
        step_slack = np.zeros(self.steps)
        for step, column in self.step_column.items():
            step_slack[step] = x[column]
        pair_slack = {pair: float(x[column]) for pair, column in self.pair_column.items()}
        objective = float(self.highs.getInfo().objective_function_value)
        return LPSolution(alpha, step_slack, pair_slack, message, objective)


def _violations(pool: ConstraintPool, solution: LPSolution) -> np.ndarray:
    """How much each pool row is violated by ``solution`` (<= 0: satisfied)."""
    pair_slack = np.fromiter(
        (solution.pair_slack.get(key, 0.0) for key in pool.row_pair.tolist()),
        dtype=np.float64,
        count=pool.rows,
    )
    return -(pool.row_diff @ solution.alpha) - solution.step_slack[pool.row_step] - pair_slack


def _uncertain_steps(pool: ConstraintPool, solution: LPSolution) -> np.ndarray:
    """Steps where a pair outside the pool might still violate its constraint."""
    best_outside = pool.bounds.astype(np.float64) @ solution.alpha
    merged = pool.chosen @ solution.alpha
    return np.flatnonzero(best_outside - merged > solution.step_slack + TOLERANCE)


def find_missed_constraints(
    pretokens: Sequence[Counter[bytes]],
    merges: Sequence[tuple[int, int, int]],
    per_mb: np.ndarray,
    pool: ConstraintPool,
    solution: LPSolution,
    steps_to_check: np.ndarray,
    limit_per_step: int,
    progress: Progress | None = None,
) -> tuple[list[int], list[int], list[np.ndarray], bool]:
    """Replay the merges with a heap ordered by the mixture ``solution.alpha`` and return the
    violated constraints at ``steps_to_check``: (steps, pairs, count differences, complete),
    where ``complete`` is False when a step had more than ``limit_per_step`` of them."""
    replay = MergeReplay(pretokens)
    weighted = WeightedTopPairs(replay, (solution.alpha * per_mb).tolist())
    check = set(steps_to_check.tolist())
    last = max(check) if check else -1
    found_steps: list[int] = []
    found_pairs: list[int] = []
    found_diffs: list[np.ndarray] = []
    complete = True
    for step, (left, right, new) in enumerate(merges):
        if step > last:
            break
        if progress and step % 500 == 0:
            progress(f"checking merge {step:,}/{len(merges):,}", step / max(1, last))
        if step in check:
            merged = pair_key(left, right)
            merged_score = float(pool.chosen[step] @ solution.alpha)
            threshold = merged_score + solution.step_slack[step] + TOLERANCE
            violators, step_complete = weighted.violators(
                threshold, merged, solution.pair_slack, limit_per_step
            )
            complete = complete and step_complete
            for key in violators:
                diff = pool.chosen[step] - np.asarray(replay.counts[key], np.float64) * per_mb
                found_steps.append(step)
                found_pairs.append(key)
                found_diffs.append(diff)
        weighted.update(replay.apply(left, right, new))
    return found_steps, found_pairs, found_diffs, complete


def solve_lazily(
    pretokens: Sequence[Counter[bytes]],
    merges: Sequence[tuple[int, int, int]],
    per_mb: np.ndarray,
    *,
    pool: ConstraintPool,
    max_rounds: int = 100,
    max_verification_replays: int = 2,
    limit_per_step: int = 8,
    progress: Progress | None = None,
) -> LazySolve:
    """Lazy constraint generation over ``pool`` (see the module docstring)."""
    lp = SlackLP(pool.chosen.shape[1], pool.chosen.shape[0])
    active = pool.row_rank == 0
    lp.add(pool.row_step[active], pool.row_pair[active], pool.row_diff[active])
    rounds = 0
    replays = 0
    last_violations: int | None = None
    verified = False
    while True:
        rounds += 1
        if progress:
            progress(f"LP round {rounds}: {lp.rows:,} constraints", -1)
        solution = lp.solve()
        violated = (_violations(pool, solution) > TOLERANCE) & ~active
        if violated.any():
            if rounds >= max_rounds:
                break
            active |= violated
            lp.add(pool.row_step[violated], pool.row_pair[violated], pool.row_diff[violated])
            continue
        uncertain = _uncertain_steps(pool, solution)
        if len(uncertain) == 0:
            verified = True
            break
        if replays >= max_verification_replays or rounds >= max_rounds:
            break
        replays += 1
        steps, pairs, diffs, complete = find_missed_constraints(
            pretokens, merges, per_mb, pool, solution, uncertain, limit_per_step, progress
        )
        last_violations = len(steps)
        if not steps:
            verified = complete
            break
        first_new = pool.rows
        pool.extend(steps, pairs, diffs)
        active = np.concatenate([active, np.ones(len(steps), dtype=bool)])
        lp.add(pool.row_step[first_new:], pool.row_pair[first_new:], pool.row_diff[first_new:])
    return LazySolve(
        solution=solution,
        pool_rows=pool.rows,
        constraints_used=lp.rows,
        rounds=rounds,
        verification_replays=replays,
        verified=verified,
        violations_last_replay=last_violations,
    )
