"""The CoIn inflation experiment at small scale.

The protocol (one trace per module, calibration split, a limit certified by the binomial rule,
held-out FPR and detection with intervals) is pinned with the model-free hashed bag-of-words
embedding and a 10% target (1% needs 597 traces), so the test stays fast; the MiniLM figures
come from `toksmith billing experiment --udhr ...` (README). One auditor run with the real MiniLM
checks that an honest trace passes and an inflated one is flagged under the calibrated rule.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from toksmith.accounting.coin import (
    TraceProvider,
    audit_statistic,
    distinct_openings,
    relevance_scores,
    verify,
)
from toksmith.accounting.embed import (
    hashed_bag_of_words_embedder,
    minilm_sentence_embedder,
    minilm_static_embedder,
)
from toksmith.accounting.experiment import (
    block_pool,
    honest_traces,
    module_name,
    run_experiment,
    stdlib_modules,
    unrelated_text,
)
from toksmith.errors import UserError
from toksmith.tokenizers import load_tokenizer


def test_honest_traces_are_built_one_per_module_from_docstrings() -> None:
    tokenizer = load_tokenizer("o200k_base")
    traces = honest_traces(tokenizer, 6, block_size=32, trace_tokens=256, seed=0)
    assert len({t.name for t in traces}) == len({t.group for t in traces}) == 6
    assert all(len(t.blocks) == 8 and all(len(b) == 32 for b in t.blocks) for t in traces)
    assert all(t.name in t.prompt and t.answer for t in traces)


def test_twenty_percent_inflation_is_detected_well_above_chance() -> None:
    # 64 traces: 32 calibrate, just above the 29 that certify FPR ≤ 10% at 95% confidence. The
    # bag-of-words embedding has smaller cosines than MiniLM, hence its lower relevance floor.
    result = run_experiment(
        load_tokenizer("o200k_base"),
        hashed_bag_of_words_embedder(),
        n=64,
        rates=(0.2,),
        kinds=("random", "duplicate", "unrelated"),
        openings_grid=(32,),
        trace_tokens=1024,
        target_fpr=0.1,
        floor=0.05,
        seed=0,
        embedding_name="hashed bag-of-words",
        # The standard library only: the installed packages differ between environments.
        modules=[(module_name(path), path) for path in stdlib_modules()],
    )
    assert [rule.exceedances_allowed for rule in result.rules] == [0]  # j = 0: the largest
    rows = {row.kind: row for row in result.rows}
    for row in rows.values():
        assert row.honest_audits == row.audits == 32
        # Honest traces pass: the held-out FPR is within the certified ≤ 10%.
        assert row.false_positive_rate <= 0.1
        # Chance is an auditor that rejects blindly at the honest rate.
        assert row.detection_rate >= row.false_positive_rate + 0.15, row
    # Repeats are what catches duplicated blocks, far beyond the FPR's upper 95% bound.
    assert rows["duplicate"].detection_low > rows["duplicate"].false_positive_high
    assert rows["duplicate"].detection_rate >= 0.9


def test_too_few_traces_to_certify_one_percent_are_refused_before_reading() -> None:
    with pytest.raises(UserError, match=r"--n 200: 100 calibration traces.*at least 299"):
        run_experiment(load_tokenizer("o200k_base"), hashed_bag_of_words_embedder(), n=200)


def test_injected_blocks_do_not_raise_their_own_relevance() -> None:
    # Honest blocks near e0 (like the prompt and answer), m identical injected blocks along e1.
    # Against all other opened blocks the injected ones would look ever more relevant as m
    # grows (m − 1 copies of themselves in the reference); against the core they stay at 0.
    dims = 8
    rng = np.random.default_rng(0)
    ends = np.zeros(dims)
    ends[0] = 1.0
    for injected in (1, 4, 8, 12):
        honest = np.eye(dims)[0] + 0.3 * rng.standard_normal((24, dims))
        junk = np.tile(np.eye(dims)[1], (injected, 1))
        blocks = np.vstack([honest, junk])
        blocks /= np.linalg.norm(blocks, axis=1, keepdims=True)
        scores = relevance_scores(blocks, ends, ends)
        assert scores[24:].max() < 0.2, (injected, scores[24:])
        assert np.median(scores[:24]) > 0.6


def test_the_audit_statistic_counts_shortfall_and_repeats() -> None:
    assert audit_statistic(np.array([0.5, 0.3])) == 0.0
    assert audit_statistic(np.array([0.05, 0.5]), floor=0.15) == pytest.approx(0.10)
    assert audit_statistic(np.array([0.5]), repeats=2, floor=0.15) == pytest.approx(0.30)
    assert distinct_openings([(1, 2), (3,), (1, 2), (1, 2)]) == ([0, 1], 2)


def test_minilm_auditor_passes_honest_and_flags_inflated_trace(udhr_dir: Path) -> None:
    # 16 openings: the calibrated limit that detects the most in the README's table.
    tokenizer = load_tokenizer("o200k_base")
    trace = honest_traces(tokenizer, 1, block_size=32, trace_tokens=1024, seed=3)[0]
    honest_ids = [i for block in trace.blocks for i in block]
    junk = block_pool(tokenizer, unrelated_text(udhr_dir), 32, 16)
    blocks = [list(b) for b in trace.blocks]
    rng = random.Random(0)
    for block in junk[:8]:  # 25% fluent unrelated text (UDHR English)
        blocks.insert(rng.randrange(len(blocks) + 1), block)
    inflated_ids = [i for block in blocks for i in block]
    fingerprint, relevance = minilm_static_embedder(), minilm_sentence_embedder()
    verdicts = []
    for ids in (honest_ids, inflated_ids):
        provider = TraceProvider(ids, tokenizer, fingerprint, block_size=32)
        result = verify(provider.commit(), provider.open, tokenizer, trace.prompt, trace.answer,
                        fingerprint_embed=fingerprint, relevance_embed=relevance, openings=16,
                        seed=0)  # fmt: skip
        assert result.failed_check is None
        verdicts.append(result.verdict)
    assert verdicts == ["accepted", "inflation suspected"]
