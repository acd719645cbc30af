"""The CoIn inflation experiment at small scale, with the real MiniLM."""

from __future__ import annotations

from toksmith.accounting.embed import minilm_sentence_embedder
from toksmith.accounting.experiment import honest_traces, run_experiment
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
        minilm_sentence_embedder(),
        n=24,
        rates=(0.2,),
        kinds=("random", "unrelated"),
        openings_grid=(8,),
        trace_tokens=256,
        calibration_draws=10,
        seed=0,
    )
    for row in result.rows:
        # Chance is the false-positive rate: rejecting blindly at the honest rate.
        assert row.false_positive_rate <= 0.25
        assert row.detection_rate >= 0.6
        assert row.detection_rate >= row.false_positive_rate + 0.4
