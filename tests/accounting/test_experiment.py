"""The CoIn inflation experiment at small scale.

The protocol (calibration split, decision rules, detection at ≤ 1% false positives) is pinned
with the model-free hashed bag-of-words embedding, so the test stays fast; the MiniLM figures
come from `toksmith billing experiment --n 200` (README). One auditor run with the real MiniLM
checks that an honest trace passes and an inflated one is flagged under the calibrated rule.
"""

from __future__ import annotations

import random
from pathlib import Path

from toksmith.accounting.coin import TraceProvider, verify
from toksmith.accounting.embed import (
    hashed_bag_of_words_embedder,
    minilm_sentence_embedder,
    minilm_static_embedder,
)
from toksmith.accounting.experiment import (
    block_pool,
    honest_traces,
    run_experiment,
    unrelated_text,
)
from toksmith.tokenizers import load_tokenizer


def test_honest_traces_are_built_from_stdlib_docstrings() -> None:
    tokenizer = load_tokenizer("o200k_base")
    traces = honest_traces(tokenizer, 6, block_size=32, trace_tokens=256, seed=0)
    assert len({t.name for t in traces}) == 6
    assert all(len(t.blocks) == 8 and all(len(b) == 32 for b in t.blocks) for t in traces)
    assert all(t.name in t.prompt and t.answer for t in traces)


def test_twenty_percent_inflation_is_detected_well_above_chance() -> None:
    result = run_experiment(
        load_tokenizer("o200k_base"),
        hashed_bag_of_words_embedder(),
        n=24,
        rates=(0.2,),
        kinds=("random", "duplicate", "unrelated"),
        openings_grid=(32,),
        trace_tokens=1024,
        calibration_draws=10,
        seed=0,
        embedding_name="hashed bag-of-words",
    )
    rows = {row.kind: row for row in result.rows}
    for row in rows.values():
        # Chance: an auditor that rejects blindly at the honest rejection rate.
        assert row.false_positive_rate <= 0.05  # honest traces pass
    assert rows["random"].detection_rate >= 0.6
    assert rows["duplicate"].detection_rate >= 0.6
    assert rows["unrelated"].detection_rate >= rows["unrelated"].false_positive_rate + 0.25


def test_minilm_auditor_passes_honest_and_flags_inflated_trace(udhr_dir: Path) -> None:
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
                        fingerprint_embed=fingerprint, relevance_embed=relevance, openings=32,
                        seed=0)  # fmt: skip
        assert result.failed_check is None
        verdicts.append(result.verdict)
    assert verdicts == ["accepted", "inflation suspected"]
