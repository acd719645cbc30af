"""A causal transformer LM trained by toksmith (:mod:`toksmith.models.causal`) as a bridge LM.

The folder is the model runtime's layout (``config.json`` with ``model_type:
toksmith-causal``, ``model.safetensors``, ``tokenizer.json``), run with JAX on CPU; the bridge
can so compute exact byte-level probabilities of a neural LM, not only of n-grams.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from toksmith.bridge.lm.base import LanguageModel
from toksmith.models.folder import CAUSAL_MODEL_TYPE, ModelFolder, load_model


def is_neural_folder(folder: Path) -> bool:
    """True when ``folder/config.json`` names a toksmith causal LM."""
    try:
        config = json.loads((folder / "config.json").read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(config, dict) and config.get("model_type") == CAUSAL_MODEL_TYPE


class NeuralLM(LanguageModel):
    """A toksmith causal LM (a folder, or a model in memory) behind the bridge's interface.

    ``context_window`` is the model's context: a prefix shorter than it is read after the
    start-of-text vector (the start of a text); a longer one by its last ``context`` tokens.
    """

    def __init__(self, model: ModelFolder | str | Path, *, name: str | None = None) -> None:
        from toksmith.models.causal import device_params

        self.model = model if isinstance(model, ModelFolder) else load_model(model)
        if self.model.architecture != "causal":
            from toksmith.errors import UserError

            raise UserError(
                f"{self.model.path}: a {self.model.architecture} model is not a causal LM"
            )
        self.tokenizer = self.model.tokenizer
        self.name = name or (self.model.path.name if self.model.path else "causal-lm")
        self.context_window = int(self.model.config["n_positions"])
        self._params = device_params(self.model)

    def next_token_logprobs(self, prefixes: Sequence[Sequence[int]]) -> np.ndarray:
        from toksmith.models.causal import next_token_logprobs_batch

        return next_token_logprobs_batch(self.model, prefixes, self._params)
