"""Every result is a dataclass with to_dict(), and its JSON goes through the one NaN rule."""

from __future__ import annotations

import dataclasses
import importlib
import json
import math

import pytest

from toksmith.report.output import to_json

RESULTS = [
    "toksmith.audit.vocab:VocabReport", "toksmith.audit.vocab:VocabSummary",
    "toksmith.audit.vocab:VocabAudit", "toksmith.audit.vocab:FlaggedToken",
    "toksmith.audit.vocab:WeightSummary", "toksmith.audit.vocab:RankedToken",
    "toksmith.audit.weights:WeightAudit", "toksmith.audit.coverage:CoverageReport",
    "toksmith.audit.coverage:ScriptRow", "toksmith.audit.coverage:LanguageRow",
    "toksmith.audit.coverage:OverlapRow", "toksmith.audit.morphology:MorphologyReport",
    "toksmith.audit.morphology:MorphologyRow", "toksmith.audit.numbers:NumberAudit",
    "toksmith.audit.numbers:LengthRow", "toksmith.audit.chars:CharTask",
    "toksmith.audit.chars:TokenView", "toksmith.audit.chars:CharScore",
    "toksmith.audit.chars:Split", "toksmith.audit.chars:TaskSet",
    "toksmith.audit.chars:TokenizerTasks", "toksmith.audit.mixture:MixtureEstimate",
    "toksmith.audit.mixture:CategoryShare", "toksmith.audit.mixture:CategorySample",
    "toksmith.bridge.fim:FimResult", "toksmith.bridge.fim:FimModeResult",
    "toksmith.bridge.fim:FimCase", "toksmith.bridge.ensemble:EnsembleScore",
    "toksmith.bridge.ensemble:MemberScore", "toksmith.bridge.decode:Completion",
    "toksmith.bridge.decode:ByteScore", "toksmith.bridge.lm.ngram:NgramTrainingStats",
    "toksmith.train.run:TrainResult", "toksmith.train.corpus:CorpusInfo",
    "toksmith.train.corpus:WordfreqMix", "toksmith.train.sweep:SweepResult",
    "toksmith.train.sweep:SweepPoint", "toksmith.train.sweep:SweepChoice",
    "toksmith.train.lib:LiBResult", "toksmith.train.superbpe:SuperBPEStats",
]  # fmt: skip


@pytest.mark.parametrize("name", RESULTS)
def test_every_result_is_a_dataclass_with_to_dict_and_no_as_dict(name):
    module, _, attribute = name.partition(":")
    cls = getattr(importlib.import_module(module), attribute)
    assert dataclasses.is_dataclass(cls)
    assert callable(getattr(cls, "to_dict", None)) and not hasattr(cls, "as_dict")


def test_audit_results_with_nan_are_valid_json():
    from toksmith.audit.chars import CharScore, Split
    from toksmith.audit.coverage import OverlapRow

    score = CharScore(tasks=0, answered=0, correct=0, splits=[Split("task=count", 0, 0)])
    pair = OverlapRow("a", "b", 0, math.nan, 0.0, math.inf)
    document = json.loads(to_json({"score": score, "pair": pair}))
    assert document["score"]["accuracy"] is None
    assert document["score"]["splits"][0]["accuracy"] is None
    assert document["pair"]["jaccard"] is None and document["pair"]["jensen_shannon"] is None
    assert document["pair"]["a"] == "a"


def test_a_completion_to_dict_holds_text_not_bytes():
    from toksmith.bridge.decode import Completion

    completion = Completion("byte", b"Hello", b" w\xc3\xb6rld\xff", 3, 0.1)
    document = json.loads(to_json(completion))
    assert document["prompt"] == "Hello" and document["text"] == " wörld\ufffd"
