"""Training tokenizers: HF-backed BPE/Unigram/WordPiece, SuperBPE, LiB, presets, vocab sweeps."""

from toksmith.train.corpus import CorpusInfo, TrainingCorpus, wordfreq_mix
from toksmith.train.run import TrainResult, train_tokenizer
from toksmith.train.settings import ALGORITHMS, PRESETS, TrainSettings, apply_preset, validate

__all__ = [
    "ALGORITHMS",
    "PRESETS",
    "CorpusInfo",
    "TrainResult",
    "TrainSettings",
    "TrainingCorpus",
    "apply_preset",
    "train_tokenizer",
    "validate",
    "wordfreq_mix",
]
