"""Any local Hugging Face ``transformers`` causal language model folder.

Optional: needs the ``hf`` extra (``pip install 'toksmith[hf]'``: transformers and torch).
Nothing is downloaded: the folder must hold ``config.json``, the weights and the tokenizer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from toksmith.bridge.lm.base import LanguageModel
from toksmith.errors import UserError, read_json_object
from toksmith.tokenizers import load_tokenizer

CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel")


def read_causal_config(folder: Path) -> dict:
    """``config.json`` of a causal LM folder, or a UserError saying what the folder is not."""
    if not folder.is_dir():
        raise UserError(f"language model folder {folder} does not exist")
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise UserError(
            f"{folder}: no config.json; expected a Hugging Face causal LM folder "
            "or a toksmith n-gram LM folder (lm.json)"
        )
    config = read_json_object(config_path, "not valid JSON")
    architectures = config.get("architectures") or []
    if not any(str(a).endswith(CAUSAL_SUFFIXES) for a in architectures):
        raise UserError(
            f"{folder}: architectures {architectures or 'none'} in config.json name no causal "
            "language model (expected a ...ForCausalLM or ...LMHeadModel class)"
        )
    return config


class HFCausalLM(LanguageModel):
    """A ``transformers`` causal LM read from a local folder (CPU, float32, no gradients)."""

    def __init__(self, folder: str | Path, *, batch_size: int = 8) -> None:
        path = Path(folder).expanduser()
        config = read_causal_config(path)
        try:
            import torch
            import transformers
        except ImportError:
            raise UserError(
                f"{path} is a Hugging Face causal LM, which needs the optional extra: "
                "pip install 'toksmith[hf]' (transformers and torch)"
            ) from None
        self.tokenizer = load_tokenizer(str(path))
        self.name = path.name
        self.batch_size = batch_size
        self._torch = torch
        try:
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                str(path), local_files_only=True
            )
        except (OSError, ValueError) as error:
            raise UserError(f"{path}: transformers cannot load the model ({error})") from None
        self.model.eval()
        self.bos_token_id = config.get("bos_token_id")
        positions = config.get("max_position_embeddings") or config.get("n_positions")
        self.max_positions = int(positions) if positions else None

    def next_token_logprobs(self, prefixes: Sequence[Sequence[int]]) -> np.ndarray:
        torch = self._torch
        vocab_size = self.tokenizer.vocab_size
        rows = np.full((len(prefixes), vocab_size), -np.inf)
        for first in range(0, len(prefixes), self.batch_size):
            batch = [self._with_bos(p) for p in prefixes[first : first + self.batch_size]]
            width = max(len(ids) for ids in batch)
            pad = 0
            input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
            attention = torch.zeros((len(batch), width), dtype=torch.long)
            for row, ids in enumerate(batch):  # left padding: the last position is the next
                input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
                attention[row, width - len(ids) :] = 1
            with torch.no_grad():
                logits = self.model(input_ids=input_ids, attention_mask=attention).logits
            logprobs = torch.log_softmax(logits[:, -1, :].double(), dim=-1).numpy()
            shared = min(vocab_size, logprobs.shape[1])
            rows[first : first + len(batch), :shared] = logprobs[:, :shared]
        return rows

    def _with_bos(self, prefix: Sequence[int]) -> list[int]:
        ids = [int(i) for i in prefix]
        if self.bos_token_id is not None:
            ids = [int(self.bos_token_id), *ids]
        if not ids:
            raise UserError(
                f"{self.name}: the model has no begin-of-text token, so it cannot predict "
                "the first token of a text; give a prompt"
            )
        if self.max_positions and len(ids) > self.max_positions:
            ids = ids[-self.max_positions :]
        return ids
