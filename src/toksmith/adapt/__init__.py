"""Adapting a model to a new tokenizer: embedding transplantation (zero, mean, subword-mean,
FOCUS, OMP, TokenAdapt), evaluation in bits per byte, and dynamic batch-level merges."""

from __future__ import annotations

from toksmith.adapt.dynamic import DynamicReport, DynamicResult, dynamic_lengths, learn_batch_merges
from toksmith.adapt.evaluate import EvalResult, evaluate_models
from toksmith.adapt.methods import METHODS, build_recipe
from toksmith.adapt.omp import OmpSolution, orthogonal_matching_pursuit
from toksmith.adapt.transplant import TransplantResult, transplant, transplant_in_memory
from toksmith.adapt.vocab import digit_split_warning, match_vocabularies

__all__ = [
    "METHODS",
    "DynamicReport",
    "DynamicResult",
    "EvalResult",
    "OmpSolution",
    "TransplantResult",
    "build_recipe",
    "digit_split_warning",
    "dynamic_lengths",
    "evaluate_models",
    "learn_batch_merges",
    "match_vocabularies",
    "orthogonal_matching_pursuit",
    "transplant",
    "transplant_in_memory",
]
