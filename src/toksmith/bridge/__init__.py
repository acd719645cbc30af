"""Bridge tokenizations: exact byte-level probabilities from token-level language models,
token healing and byte-level ensembles (Phan et al. 2024, "Exact Byte-Level Probabilities
from Tokenized Language Models for FIM-Tasks and Model Ensembles")."""

from toksmith.bridge.bytelevel import ByteLevelModel, ByteState
from toksmith.bridge.decode import ByteScore, Completion, complete, score_bytes
from toksmith.bridge.ensemble import EnsembleScore, ensemble_score
from toksmith.bridge.fim import FimResult, fim_cases, fim_eval
from toksmith.bridge.lm import LanguageModel, NgramLM, load_lm, train_ngram

__all__ = [
    "ByteLevelModel",
    "ByteScore",
    "ByteState",
    "Completion",
    "EnsembleScore",
    "FimResult",
    "LanguageModel",
    "NgramLM",
    "complete",
    "ensemble_score",
    "fim_cases",
    "fim_eval",
    "load_lm",
    "score_bytes",
    "train_ngram",
]
