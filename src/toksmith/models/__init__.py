"""Model runtime: model folders (HF layout, safetensors), a BERT encoder for sentence embeddings
and small causal transformer LMs trained here, all on JAX (CPU).

Importing this package imports JAX; feature modules that only read folders can import
:mod:`toksmith.models.folder` alone.
"""

from __future__ import annotations

from toksmith.models.bert import encoder_inputs, sentence_embeddings
from toksmith.models.causal import (
    CausalLMConfig,
    bits_per_byte,
    continue_training,
    next_token_logprobs,
    token_logprobs,
    train_causal_lm,
)
from toksmith.models.folder import ModelFolder, load_model, minilm_folder, save_model, write_model
from toksmith.models.texts import pydoc_texts, split_held_out, stdlib_sources

__all__ = [
    "CausalLMConfig",
    "ModelFolder",
    "bits_per_byte",
    "continue_training",
    "encoder_inputs",
    "load_model",
    "minilm_folder",
    "next_token_logprobs",
    "pydoc_texts",
    "save_model",
    "sentence_embeddings",
    "split_held_out",
    "stdlib_sources",
    "token_logprobs",
    "train_causal_lm",
    "write_model",
]
