"""Language models for the bridge: the interface, the built-in n-gram model, HF models."""

from __future__ import annotations

from pathlib import Path

from toksmith.bridge.lm.base import LanguageModel
from toksmith.bridge.lm.ngram import CONFIG_FILE, NgramLM, train_ngram
from toksmith.errors import UserError

__all__ = ["LanguageModel", "NgramLM", "load_lm", "train_ngram"]


def load_lm(folder: str | Path) -> LanguageModel:
    """A toksmith n-gram LM folder (``lm.json``), a toksmith causal transformer LM folder
    (``config.json`` with ``model_type: toksmith-causal``) or a Hugging Face causal LM folder
    (``config.json``; needs the ``hf`` extra)."""
    path = Path(folder).expanduser()
    if not path.exists():
        raise UserError(f"language model folder {path} does not exist")
    if not path.is_dir():
        raise UserError(f"{path} is a file; expected a language model folder")
    if (path / CONFIG_FILE).is_file():
        return NgramLM.load(path)
    from toksmith.bridge.lm.neural import NeuralLM, is_neural_folder

    if is_neural_folder(path):
        return NeuralLM(path)
    from toksmith.bridge.lm.hf import HFCausalLM

    return HFCausalLM(path)
