"""A BERT encoder forward pass and sentence embeddings, as sentence-transformers computes them.

Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for Language
Understanding" (2019): embeddings (word + absolute position + token type) and LayerNorm, then
layers of multi-head self-attention and a GELU feed-forward block, each followed by a residual
connection and LayerNorm (post-LN). The weights are read by their Hugging Face ``BertModel``
names; ``torch.nn.Linear`` stores ``[out, in]``, so every dense layer is ``x @ W.T + b``.

Reimers & Gurevych, "Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks" (2019):
all-MiniLM-L6-v2 is such a model; its ``modules.json`` chains Transformer → Pooling (mean over
the attention mask, ``1_Pooling/config.json``) → Normalize (L2). Inputs are the tokenizer's
encoding with its post-processor's special tokens (``[CLS] … [SEP]``), truncated to
``max_seq_length`` (``sentence_bert_config.json``: 256) word pieces including them.

Deviations: only absolute position embeddings and the ``gelu`` (erf) / ``gelu_new`` (tanh)
activations are supported; pooling other than mean (CLS, max) is refused; computation is float32
in JAX (XLA on CPU), so results match PyTorch's to float32 rounding, not bit for bit. Token type
ids are all 0 (single sentences).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from toksmith.errors import UserError
from toksmith.models.folder import ModelFolder

LENGTH_BUCKET = 32  # inputs are padded to a multiple of this, so few shapes are compiled
SMALL_BATCH = 16


def expected_shapes(config: dict[str, Any], vocab_size: int, prefix: str) -> dict[str, tuple]:
    """The tensors a BERT encoder of ``config`` needs, by name, with their shapes."""
    try:
        hidden = int(config["hidden_size"])
        layers = int(config["num_hidden_layers"])
        inner = int(config["intermediate_size"])
        positions = int(config["max_position_embeddings"])
        types = int(config.get("type_vocab_size", 2))
    except (KeyError, TypeError, ValueError) as error:
        raise UserError(f"BERT config.json lacks or mistypes {error}") from None
    shapes: dict[str, tuple] = {
        f"{prefix}embeddings.word_embeddings.weight": (vocab_size, hidden),
        f"{prefix}embeddings.position_embeddings.weight": (positions, hidden),
        f"{prefix}embeddings.token_type_embeddings.weight": (types, hidden),
        f"{prefix}embeddings.LayerNorm.weight": (hidden,),
        f"{prefix}embeddings.LayerNorm.bias": (hidden,),
    }
    for i in range(layers):
        layer = f"{prefix}encoder.layer.{i}."
        for name in ("query", "key", "value"):
            shapes[f"{layer}attention.self.{name}.weight"] = (hidden, hidden)
            shapes[f"{layer}attention.self.{name}.bias"] = (hidden,)
        shapes[f"{layer}attention.output.dense.weight"] = (hidden, hidden)
        shapes[f"{layer}attention.output.dense.bias"] = (hidden,)
        shapes[f"{layer}attention.output.LayerNorm.weight"] = (hidden,)
        shapes[f"{layer}attention.output.LayerNorm.bias"] = (hidden,)
        shapes[f"{layer}intermediate.dense.weight"] = (inner, hidden)
        shapes[f"{layer}intermediate.dense.bias"] = (inner,)
        shapes[f"{layer}output.dense.weight"] = (hidden, inner)
        shapes[f"{layer}output.dense.bias"] = (hidden,)
        shapes[f"{layer}output.LayerNorm.weight"] = (hidden,)
        shapes[f"{layer}output.LayerNorm.bias"] = (hidden,)
    return shapes


# ---- inputs -----------------------------------------------------------------------------------


def special_template(model: ModelFolder) -> tuple[list[int], list[int]]:
    """The special-token ids the tokenizer's post-processor puts before and after a single
    sequence (``[CLS]`` and ``[SEP]`` for BERT), read from ``tokenizer.json``.

    ``TemplateProcessing``, ``BertProcessing`` and ``RobertaProcessing`` are understood; a
    tokenizer without a post-processor adds nothing.
    """
    config = json.loads(model.tokenizer_json) if model.tokenizer_json else {}
    processor = config.get("post_processor")
    if not processor:
        return [], []
    return _template_of(processor, str(model.path))


def _template_of(processor: dict[str, Any], where: str) -> tuple[list[int], list[int]]:
    kind = processor.get("type")
    if kind in ("BertProcessing", "RobertaProcessing"):
        return [int(processor["cls"][1])], [int(processor["sep"][1])]
    if kind == "Sequence":
        before: list[int] = []
        after: list[int] = []
        for stage in processor.get("processors", []):
            if stage.get("type") in ("TemplateProcessing", "BertProcessing", "RobertaProcessing"):
                more_before, more_after = _template_of(stage, where)
                before, after = more_before + before, after + more_after
        return before, after
    if kind != "TemplateProcessing":
        return [], []
    specials = processor.get("special_tokens", {})
    before, after = [], []
    seen_sequence = False
    for piece in processor.get("single", []):
        if "Sequence" in piece:
            seen_sequence = True
            continue
        name = piece["SpecialToken"]["id"]
        if name not in specials:
            raise UserError(f"{where}: post-processor names special token {name!r} it lacks")
        ids = [int(i) for i in specials[name]["ids"]]
        (after if seen_sequence else before).extend(ids)
    return before, after


def max_sequence_length(model: ModelFolder) -> int:
    """Word pieces per input, special tokens included: ``sentence_bert_config.json``'s
    ``max_seq_length`` when the folder has it, else ``max_position_embeddings``."""
    positions = int(model.config.get("max_position_embeddings", 512))
    if model.path is not None and (model.path / "sentence_bert_config.json").is_file():
        try:
            settings = json.loads((model.path / "sentence_bert_config.json").read_text("utf-8"))
            return min(positions, int(settings["max_seq_length"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise UserError(f"{model.path}/sentence_bert_config.json: no max_seq_length") from None
    return positions


def encoder_inputs(model: ModelFolder, texts: Sequence[str]) -> list[list[int]]:
    """The ids fed to the encoder for each text: the tokenizer's ids between the
    post-processor's special tokens, truncated (at the end of the text) so the whole input
    holds at most :func:`max_sequence_length` ids, as HF's ``truncation=True`` does."""
    before, after = special_template(model)
    room = max_sequence_length(model) - len(before) - len(after)
    return [before + ids[:room] + after for ids in model.tokenizer.encode_batch(list(texts))]


# ---- the forward pass -------------------------------------------------------------------------


def _layer_norm(x: jax.Array, weight: jax.Array, bias: jax.Array, eps: float) -> jax.Array:
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / jnp.sqrt(variance + eps) * weight + bias


def _activation(name: str):  # type: ignore[no-untyped-def]
    if name == "gelu":
        return partial(jax.nn.gelu, approximate=False)
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return partial(jax.nn.gelu, approximate=True)
    if name == "relu":
        return jax.nn.relu
    raise UserError(f"hidden_act {name!r} is not supported (expected gelu, gelu_new or relu)")


@dataclass(frozen=True)
class _Shape:
    """What the jitted forward needs to know about a BERT model besides its weights (hashable:
    one static argument): how many layers to run, the heads, the LayerNorm epsilon, the
    activation's name and the weights' key prefix."""

    layers: int
    heads: int
    eps: float
    act: str
    prefix: str

    @classmethod
    def of(cls, model: ModelFolder, *, layers: int) -> _Shape:
        """``model``'s shape, running its first ``layers`` layers."""
        return cls(
            layers=layers,
            heads=int(model.config["num_attention_heads"]),
            eps=float(model.config.get("layer_norm_eps", 1e-12)),
            act=str(model.config.get("hidden_act", "gelu")),
            prefix=model.input_embedding_key[: -len("embeddings.word_embeddings.weight")],
        )


def _hidden_states(
    params: dict[str, jax.Array],
    ids: jax.Array,
    mask: jax.Array,
    *,
    shape: _Shape,
) -> jax.Array:
    """The hidden states ``[batch, length, hidden]`` after the embeddings and the first
    ``layers`` layers, for padded ``ids`` ``[batch, length]`` with attention ``mask`` (1 for
    real tokens)."""
    heads, eps = shape.heads, shape.eps
    p = {key[len(shape.prefix) :]: value for key, value in params.items()}
    batch, length = ids.shape
    x = (
        p["embeddings.word_embeddings.weight"][ids]
        + p["embeddings.position_embeddings.weight"][:length][None]
        + p["embeddings.token_type_embeddings.weight"][0][None, None]
    )
    x = _layer_norm(x, p["embeddings.LayerNorm.weight"], p["embeddings.LayerNorm.bias"], eps)
    hidden = x.shape[-1]
    head_size = hidden // heads
    # HF adds the dtype's minimum to the scores of masked keys.
    key_bias = (1.0 - mask[:, None, None, :].astype(x.dtype)) * jnp.finfo(x.dtype).min
    activation = _activation(shape.act)

    def dense(h: jax.Array, name: str) -> jax.Array:
        return h @ p[f"{name}.weight"].T + p[f"{name}.bias"]

    def split(h: jax.Array) -> jax.Array:
        return h.reshape(batch, length, heads, head_size).transpose(0, 2, 1, 3)

    for i in range(shape.layers):
        layer = f"encoder.layer.{i}."
        q = split(dense(x, layer + "attention.self.query"))
        k = split(dense(x, layer + "attention.self.key"))
        v = split(dense(x, layer + "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_size) + key_bias
        context = jax.nn.softmax(scores, axis=-1) @ v
        context = context.transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        attended = dense(context, layer + "attention.output.dense")
        x = _layer_norm(
            attended + x,
            p[layer + "attention.output.LayerNorm.weight"],
            p[layer + "attention.output.LayerNorm.bias"],
            eps,
        )
        inner = activation(dense(x, layer + "intermediate.dense"))
        x = _layer_norm(
            dense(inner, layer + "output.dense") + x,
            p[layer + "output.LayerNorm.weight"],
            p[layer + "output.LayerNorm.bias"],
            eps,
        )
    return x


def _masked_mean(states: jax.Array, mask: jax.Array) -> jax.Array:
    """The mean of ``states`` ``[batch, length, hidden]`` over the positions where ``mask``
    ``[batch, length]`` is 1, ``[batch, hidden]`` (an all-zero row gives zeros)."""
    weights = mask[:, :, None].astype(states.dtype)
    return (states * weights).sum(1) / jnp.maximum(weights.sum(1), 1e-9)


@partial(jax.jit, static_argnames=("shape",))
def _encode(
    params: dict[str, jax.Array],
    ids: jax.Array,
    mask: jax.Array,
    *,
    shape: _Shape,
) -> jax.Array:
    """Mean-pooled, L2-normalised sentence embeddings ``[batch, hidden]`` for padded ``ids``
    ``[batch, length]`` with attention ``mask`` (1 for real tokens)."""
    x = _hidden_states(params, ids, mask, shape=shape)
    # sentence-transformers Pooling (mean) then Normalize.
    pooled = _masked_mean(x, mask)
    norm = jnp.sqrt((pooled**2).sum(-1, keepdims=True))
    return pooled / jnp.maximum(norm, 1e-12)


@partial(jax.jit, static_argnames=("shape",))
def _pooled_states(
    params: dict[str, jax.Array],
    ids: jax.Array,
    mask: jax.Array,
    pool: jax.Array,
    *,
    shape: _Shape,
) -> jax.Array:
    """The mean of the hidden states after ``layers`` layers over the positions where
    ``pool`` is 1, ``[batch, hidden]`` (not normalised)."""
    x = _hidden_states(params, ids, mask, shape=shape)
    return _masked_mean(x, pool)


def _check_pooling(model: ModelFolder) -> None:
    if model.path is None:
        return
    pooling = model.path / "1_Pooling" / "config.json"
    if not pooling.is_file():
        return
    settings = json.loads(pooling.read_text("utf-8"))
    others = [
        key for key in ("pooling_mode_cls_token", "pooling_mode_max_tokens") if settings.get(key)
    ]
    if others or not settings.get("pooling_mode_mean_tokens", True):
        raise UserError(f"{pooling}: only mean pooling is supported ({', '.join(others)} set)")


def encoder_params(model: ModelFolder) -> dict[str, jax.Array]:
    """The float weights of ``model`` as JAX arrays (what :func:`_encode` reads)."""
    return {
        key: jnp.asarray(value)
        for key, value in model.weights.items()
        if np.issubdtype(value.dtype, np.floating)
    }


def sentence_embeddings(
    model: ModelFolder,
    texts: Sequence[str],
    batch_size: int = 64,
    *,
    params: dict[str, jax.Array] | None = None,
    length_bucket: int = LENGTH_BUCKET,
) -> np.ndarray:
    """L2-normalised sentence embeddings ``[len(texts), hidden]`` (float32) of a BERT model
    folder: the encoder over :func:`encoder_inputs`, mean pooling over the attention mask,
    then normalisation, as sentence-transformers computes them for all-MiniLM-L6-v2.

    ``params``: :func:`encoder_params` of ``model`` already built (callers embedding many
    batches build them once); ``length_bucket``: inputs are padded to a multiple of it (a
    smaller one wastes less compute on padding but compiles more shapes; padding is masked, so
    the embeddings do not depend on it beyond float32 rounding)."""
    if model.architecture != "bert":
        raise UserError(f"sentence embeddings need a BERT model, not a {model.architecture} one")
    if batch_size < 1:
        raise UserError(f"batch size {batch_size}: expected at least 1")
    if length_bucket < 1:
        raise UserError(f"length bucket {length_bucket}: expected at least 1")
    _check_pooling(model)
    inputs = encoder_inputs(model, texts)
    hidden = int(model.config["hidden_size"])
    result = np.zeros((len(inputs), hidden), dtype=np.float32)
    if not inputs:
        return result
    if params is None:
        params = encoder_params(model)
    shape = _Shape.of(model, layers=int(model.config["num_hidden_layers"]))
    pad_id = 0  # masked out, so any id works
    positions = int(model.config["max_position_embeddings"])
    # a few texts are padded to SMALL_BATCH rows, not to batch_size: two compiled heights
    height = min(batch_size, SMALL_BATCH) if len(inputs) <= SMALL_BATCH else batch_size
    order = np.argsort([len(ids) for ids in inputs], kind="stable")
    for first in range(0, len(order), height):
        rows = order[first : first + height]
        longest = max(len(inputs[i]) for i in rows)
        length = min(positions, -(-longest // length_bucket) * length_bucket)
        ids = np.full((height, length), pad_id, dtype=np.int32)
        mask = np.zeros((height, length), dtype=np.int32)
        for row, index in enumerate(rows):
            ids[row, : len(inputs[index])] = inputs[index]
            mask[row, : len(inputs[index])] = 1
        embedded = _encode(params, jnp.asarray(ids), jnp.asarray(mask), shape=shape)
        result[rows] = np.asarray(embedded)[: len(rows)]
    return result


def piece_states(
    model: ModelFolder, pieces: Sequence[Sequence[int]], *, layer: int, batch_size: int = 256
) -> np.ndarray:
    """For each id sequence of ``pieces``, read alone between the tokenizer's special tokens
    (``[CLS] … [SEP]``), the mean of its own positions' hidden states after ``layer`` layers
    (0: the embedding output), ``[len(pieces), hidden]`` float32, not normalised. An empty
    sequence gives zeros. Meant for short sequences (e.g. a word's pieces); longer ones are
    cut to :func:`max_sequence_length`."""
    if model.architecture != "bert":
        raise UserError(f"piece states need a BERT model, not a {model.architecture} one")
    layers = int(model.config["num_hidden_layers"])
    if not 0 <= layer <= layers:
        raise UserError(f"layer {layer}: expected 0 to {layers}")
    before, after = special_template(model)
    room = max_sequence_length(model) - len(before) - len(after)
    hidden = int(model.config["hidden_size"])
    result = np.zeros((len(pieces), hidden), dtype=np.float32)
    params = encoder_params(model)
    shape = _Shape.of(model, layers=layer)
    order = [i for i in np.argsort([len(p) for p in pieces], kind="stable") if len(pieces[i])]
    for first in range(0, len(order), batch_size):
        rows = order[first : first + batch_size]
        longest = min(room, max(len(pieces[i]) for i in rows)) + len(before) + len(after)
        length = -(-longest // 8) * 8
        ids = np.zeros((batch_size, length), dtype=np.int32)
        mask = np.zeros((batch_size, length), dtype=np.int32)
        pool = np.zeros((batch_size, length), dtype=np.int32)
        for row, index in enumerate(rows):
            own = list(pieces[index])[:room]
            sequence = before + own + after
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1
            pool[row, len(before) : len(before) + len(own)] = 1
        states = _pooled_states(
            params, jnp.asarray(ids), jnp.asarray(mask), jnp.asarray(pool), shape=shape
        )
        result[rows] = np.asarray(states)[: len(rows)]
    return result
