"""The causal-LM transplant experiment of ``benchmarks/adapt_causal.py`` in a smaller version:
tiny LMs, a few steps, one seed, three methods, on one worker process of the real pool."""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from types import ModuleType

import pytest


def _benchmark_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``benchmarks/adapt_causal.py`` imported by name: the pool's worker processes unpickle
    its task functions by module name (they inherit this ``sys.path``)."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    return importlib.import_module("adapt_causal")


def test_the_small_experiment_runs_every_task_and_its_figures_hang_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = _benchmark_module(monkeypatch)
    about, train_tokens = experiment.prepare(tmp_path, quick=True)
    assert train_tokens > 10_000 and "A BPE 4,096" in about
    methods = ("zero", "mean", "omp")
    setup = experiment.Setup(scratch=str(tmp_path), steps=40, heal=30, heal_batch=8, hidden=32,
                             layers=1, heads=2, context=32, batch_size=8, methods=methods)  # fmt: skip
    figures = experiment.run_tasks(setup, [0], workers=1)
    data = experiment.collect(figures, [0], methods)

    assert setup.model_path(0, "a").is_dir() and setup.model_path(0, "b").is_dir()
    rows = data["rows"]
    values = [v for cell in rows.values() for series in cell.values() for v in series]
    assert values and all(math.isfinite(v) and 0 < v < 9 for v in values)
    for method in methods:
        parts = data["parts"][method]
        assert rows[method]["zero-shot"][0] == pytest.approx(parts["shared"][0] + parts["new"][0])
        assert 0 < parts["new share"][0] < 1
        # healing on the training text lowers held-out bits per byte for every start
        assert rows[method]["healed"][0] < rows[method]["zero-shot"][0]
    # mean's new output rows already are the mean row: the untied ablation is the same model
    assert rows["mean"]["output mean"][0] == pytest.approx(rows["mean"]["zero-shot"][0], rel=1e-5)
    assert rows["zero"]["output mean"][0] != pytest.approx(rows["zero"]["zero-shot"][0], rel=1e-5)
    assert data["norms"]["zero"] == [0.0] and data["norms"]["mean"][0] > 0
    dynamic = data["dynamic"]
    assert {key.split("|")[0] for key in dynamic} == {str(n) for n in experiment.MERGE_COUNTS}
    assert all(cell["reduction"][0] >= 0 for cell in dynamic.values())

    experiment.print_causal(data, setup.heal)
    printed = capsys.readouterr().out
    assert "zero-shot order (best first): " in printed and "| omp |" in printed
    assert "tokenadapt" not in printed  # only the methods that ran are listed
