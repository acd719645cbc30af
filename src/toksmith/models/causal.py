"""Small causal transformer language models, trained here on CPU with JAX and optax.

The architecture is GPT-2's (Radford et al., "Language Models are Unsupervised Multitask
Learners", 2019): token and learned position embeddings, pre-LN blocks of causal multi-head
self-attention and a GELU (tanh) MLP with residual connections, a final LayerNorm and a linear
output over the vocabulary. Tensors carry GPT-2's Hugging Face names
(``transformer.h.0.attn.c_attn.weight`` stored ``[in, out]``); ``config.json`` says
``model_type: toksmith-causal``.

Deviations from GPT-2:
- the start of a text is a learned vector ``transformer.wbos.weight`` (``[1, hidden]``) put
  before the first token, not a token of the vocabulary, so a model works with any tokenizer
  (many have no begin-of-text token) and its embedding matrices have exactly the tokenizer's
  rows. The end of a text is not predicted;
- the output layer is tied to the token embeddings or is a separate ``lm_head.weight``
  (``tie_word_embeddings`` in the config says which);
- no dropout; trained with AdamW (Loshchilov & Hutter, "Decoupled Weight Decay
  Regularization", 2019) through optax, linear warm-up then cosine decay, gradient clipping at 1.

Training reads random windows of ``context`` tokens from the texts joined into one stream, each
text preceded by the start vector (as GPT-2 trains on documents joined by ``<|endoftext|>``);
the position after a text's last token is not scored. A fixed seed gives the same model.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from toksmith.errors import UserError
from toksmith.models.folder import (
    CAUSAL_INPUT_KEY,
    CAUSAL_MODEL_TYPE,
    CAUSAL_OUTPUT_KEY,
    ModelFolder,
)
from toksmith.progress import Progress
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

BOS_KEY = "transformer.wbos.weight"
LAYER_NORM_EPS = 1e-5
BLOCK_TENSORS = tuple(
    f"{part}.{kind}"
    for part in ("ln_1", "attn.c_attn", "attn.c_proj", "ln_2", "mlp.c_fc", "mlp.c_proj")
    for kind in ("weight", "bias")
)
_EVAL_ROWS = 16  # windows per evaluation forward pass


@dataclass(frozen=True)
class CausalLMConfig(Result):
    """Size and training settings of a small causal LM.

    The default (hidden 128, 4 layers, 4 heads, context 128) has about 0.8M parameters in its
    blocks plus ``vocab_size × 128`` in its embeddings: 1.8M with an 8k vocabulary, tied.
    """

    hidden: int = 128
    layers: int = 4
    heads: int = 4
    context: int = 128
    mlp_ratio: int = 4
    tied: bool = True
    batch_size: int = 16
    learning_rate: float = 3e-3
    weight_decay: float = 0.1
    warmup_steps: int = 50

    def check(self) -> None:
        """A UserError naming the first setting out of range."""
        for name in ("hidden", "layers", "heads", "context", "mlp_ratio", "batch_size"):
            if getattr(self, name) < 1:
                raise UserError(f"causal LM {name} {getattr(self, name)}: expected at least 1")
        if self.hidden % self.heads:
            raise UserError(f"hidden size {self.hidden} is not a multiple of {self.heads} heads")
        if not (0 < self.learning_rate < 1):
            raise UserError(f"learning rate {self.learning_rate}: expected in (0, 1)")
        if self.weight_decay < 0 or self.warmup_steps < 0:
            raise UserError("weight decay and warm-up steps must not be negative")


@dataclass(frozen=True)
class _Shape:
    """What the jitted functions need to know about a model (hashable: a static argument)."""

    layers: int
    heads: int
    tied: bool


def _shape(config: dict[str, Any]) -> _Shape:
    return _Shape(
        layers=int(config["n_layer"]),
        heads=int(config["n_head"]),
        tied=bool(config.get("tie_word_embeddings", True)),
    )


def hf_config(config: CausalLMConfig, vocab_size: int) -> dict[str, Any]:
    """``config.json`` of a model of ``config`` over ``vocab_size`` ids (GPT-2's key names)."""
    return {
        "model_type": CAUSAL_MODEL_TYPE,
        "architectures": ["ToksmithCausalLM"],
        "vocab_size": vocab_size,
        "n_embd": config.hidden,
        "n_layer": config.layers,
        "n_head": config.heads,
        "n_inner": config.hidden * config.mlp_ratio,
        "n_positions": config.context,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": LAYER_NORM_EPS,
        "tie_word_embeddings": config.tied,
        "start_of_text": BOS_KEY,
        "toksmith": {"training": asdict(config)},
    }


def expected_shapes(config: dict[str, Any], vocab_size: int, prefix: str = "") -> dict[str, tuple]:
    """The tensors a causal LM of ``config`` needs, by name, with their shapes."""
    try:
        hidden = int(config["n_embd"])
        layers = int(config["n_layer"])
        inner = int(config.get("n_inner") or 4 * hidden)
        positions = int(config["n_positions"])
        heads = int(config["n_head"])
    except (KeyError, TypeError, ValueError) as error:
        raise UserError(f"causal LM config.json lacks or mistypes {error}") from None
    if heads < 1 or hidden % heads:
        raise UserError(f"config.json: n_embd {hidden} is not a multiple of n_head {heads}")
    shapes: dict[str, tuple] = {
        CAUSAL_INPUT_KEY: (vocab_size, hidden),
        "transformer.wpe.weight": (positions, hidden),
        BOS_KEY: (1, hidden),
        "transformer.ln_f.weight": (hidden,),
        "transformer.ln_f.bias": (hidden,),
    }
    if not config.get("tie_word_embeddings", True):
        shapes[CAUSAL_OUTPUT_KEY] = (vocab_size, hidden)
    for i in range(layers):
        block = f"transformer.h.{i}."
        for norm in ("ln_1", "ln_2"):
            shapes[f"{block}{norm}.weight"] = (hidden,)
            shapes[f"{block}{norm}.bias"] = (hidden,)
        shapes[f"{block}attn.c_attn.weight"] = (hidden, 3 * hidden)
        shapes[f"{block}attn.c_attn.bias"] = (3 * hidden,)
        shapes[f"{block}attn.c_proj.weight"] = (hidden, hidden)
        shapes[f"{block}attn.c_proj.bias"] = (hidden,)
        shapes[f"{block}mlp.c_fc.weight"] = (hidden, inner)
        shapes[f"{block}mlp.c_fc.bias"] = (inner,)
        shapes[f"{block}mlp.c_proj.weight"] = (inner, hidden)
        shapes[f"{block}mlp.c_proj.bias"] = (hidden,)
    return shapes


def init_params(config: dict[str, Any], vocab_size: int, seed: int) -> dict[str, np.ndarray]:
    """GPT-2's initialisation: normal(0, 0.02) matrices, the residual projections scaled by
    1/sqrt(2 · layers), zero biases, unit LayerNorm gains."""
    shapes = expected_shapes(config, vocab_size)
    # numpy's generator, not jax.random: no kernel to compile per tensor shape
    rng = np.random.default_rng(seed)
    residual_scale = 1.0 / math.sqrt(2 * int(config["n_layer"]))
    params: dict[str, np.ndarray] = {}
    for name, shape in sorted(shapes.items()):
        if name.endswith(".bias"):
            params[name] = np.zeros(shape, np.float32)
        elif ".ln_" in name:  # ln_1, ln_2, ln_f gains
            params[name] = np.ones(shape, np.float32)
        else:
            scale = 0.02 * (residual_scale if name.endswith("c_proj.weight") else 1.0)
            params[name] = (rng.standard_normal(shape) * scale).astype(np.float32)
    return params


# ---- the forward pass -------------------------------------------------------------------------


def _layer_norm(x: jax.Array, weight: jax.Array, bias: jax.Array) -> jax.Array:
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(variance + LAYER_NORM_EPS) * weight + bias


def _logits(params: dict[str, jax.Array], ids: jax.Array, shape: _Shape) -> jax.Array:
    """Next-token logits ``[batch, length, vocab]`` for ``ids`` ``[batch, length]``, where the
    id ``vocab_size`` stands for the start-of-text vector."""
    table = jnp.concatenate([params[CAUSAL_INPUT_KEY], params[BOS_KEY]], axis=0)
    batch, length = ids.shape
    x = table[ids] + params["transformer.wpe.weight"][:length][None]
    hidden = x.shape[-1]
    head_size = hidden // shape.heads
    causal = jnp.tril(jnp.ones((length, length), dtype=bool))

    def block(x: jax.Array, p: dict[str, jax.Array]) -> tuple[jax.Array, None]:
        h = _layer_norm(x, p["ln_1.weight"], p["ln_1.bias"])
        qkv = h @ p["attn.c_attn.weight"] + p["attn.c_attn.bias"]
        q, k, v = (
            part.reshape(batch, length, shape.heads, head_size).transpose(0, 2, 1, 3)
            for part in jnp.split(qkv, 3, axis=-1)
        )
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_size)
        scores = jnp.where(causal, scores, jnp.finfo(scores.dtype).min)
        context = (jax.nn.softmax(scores, axis=-1) @ v).transpose(0, 2, 1, 3)
        context = context.reshape(batch, length, hidden)
        x = x + context @ p["attn.c_proj.weight"] + p["attn.c_proj.bias"]
        h = _layer_norm(x, p["ln_2.weight"], p["ln_2.bias"])
        h = jax.nn.gelu(h @ p["mlp.c_fc.weight"] + p["mlp.c_fc.bias"])
        return x + h @ p["mlp.c_proj.weight"] + p["mlp.c_proj.bias"], None

    # One compiled block scanned over the stacked layers: compile time does not grow with depth.
    stacked = {
        name: jnp.stack([params[f"transformer.h.{i}.{name}"] for i in range(shape.layers)])
        for name in BLOCK_TENSORS
    }
    x, _ = jax.lax.scan(block, x, stacked)
    x = _layer_norm(x, params["transformer.ln_f.weight"], params["transformer.ln_f.bias"])
    output = params[CAUSAL_INPUT_KEY] if shape.tied else params[CAUSAL_OUTPUT_KEY]
    return x @ output.T


@partial(jax.jit, static_argnames=("shape",))
def _token_logprobs(
    params: dict[str, jax.Array], ids: jax.Array, targets: jax.Array, shape: _Shape
) -> jax.Array:
    """log P(targets[b, t] | ids[b, :t+1]) for every position, ``[batch, length]``."""
    return _picked_logprobs(_logits(params, ids, shape), targets)


def _picked_logprobs(logits: jax.Array, targets: jax.Array) -> jax.Array:
    """log softmax(logits)[target] at every position, as the target's logit minus the
    log-sum-exp: the full ``[batch, length, vocab]`` log-softmax is never formed, which makes a
    training step about a fifth faster on CPU (its gradient is one dense softmax, not a scatter
    into the log-softmax). Targets past the vocabulary (padding) read the last id."""
    safe = jnp.minimum(targets, logits.shape[-1] - 1)
    picked = jnp.take_along_axis(logits, safe[..., None], axis=-1)[..., 0]
    return picked - jax.nn.logsumexp(logits, axis=-1)


@partial(jax.jit, static_argnames=("shape",))
def _last_logprobs(
    params: dict[str, jax.Array], ids: jax.Array, lengths: jax.Array, shape: _Shape
) -> jax.Array:
    """Log-probabilities of the next token after each row's last real position, ``[batch, V]``."""
    logits = _logits(params, ids, shape)
    last = jnp.take_along_axis(logits, (lengths - 1)[:, None, None], axis=1)[:, 0]
    return jax.nn.log_softmax(last, axis=-1)


def _loss(
    params: dict[str, jax.Array],
    ids: jax.Array,
    targets: jax.Array,
    weights: jax.Array,
    shape: _Shape,
) -> jax.Array:
    """Mean negative log-likelihood (nats) of the scored targets."""
    picked = _picked_logprobs(_logits(params, ids, shape), targets)
    return -(picked * weights).sum() / jnp.maximum(weights.sum(), 1.0)


def _decay_rates(params: dict[str, np.ndarray], weight_decay: float) -> dict[str, jax.Array]:
    """The weight decay of each tensor: ``weight_decay`` for matrices, 0 for biases, gains and
    the start vector."""
    return {
        name: jnp.float32(weight_decay if value.ndim == 2 and name != BOS_KEY else 0.0)
        for name, value in params.items()
    }


def _optimizer() -> optax.GradientTransformation:
    """Adam (b1 0.9, b2 0.95) after clipping the gradient at norm 1; the decoupled weight decay
    and the learning rate are applied by :func:`_step` (AdamW), so one compiled step serves
    every schedule."""
    return optax.chain(optax.clip_by_global_norm(1.0), optax.scale_by_adam(b1=0.9, b2=0.95))


def learning_rates(peak: float, warmup: int, steps: int) -> np.ndarray:
    """The rate of each step: linear warm-up to ``peak``, then cosine decay to a tenth."""
    rates = np.empty(steps, dtype=np.float64)
    warmup = min(warmup, max(steps - 1, 0))
    for step in range(steps):
        if step < warmup:
            rates[step] = peak * (step + 1) / warmup
        else:
            progress = (step - warmup) / max(steps - warmup, 1)
            rates[step] = peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
    return rates


@partial(jax.jit, static_argnames=("shape",), donate_argnums=(0, 1))
def _step(
    params: dict[str, jax.Array],
    state: optax.OptState,
    ids: jax.Array,
    targets: jax.Array,
    weights: jax.Array,
    rate: jax.Array,
    decay: dict[str, jax.Array],
    *,
    shape: _Shape,
) -> tuple[dict[str, jax.Array], optax.OptState, jax.Array]:
    """One AdamW step at learning rate ``rate`` with each tensor's weight decay ``decay``
    (:func:`_decay_rates`); compiled once per model shape. The parameters stay a dictionary of
    tensors: a step over one flat vector sliced into them was measured 1.1–5.5× slower on CPU
    (the most at small batches), its gradient being assembled from dozens of slices."""

    def loss_of(tensors: dict[str, jax.Array]) -> jax.Array:
        return _loss(tensors, ids, targets, weights, shape)

    loss, grads = jax.value_and_grad(loss_of)(params)
    updates, state = _optimizer().update(grads, state, params)
    params = jax.tree.map(lambda p, u, d: p - rate * (u + d * p), params, updates, decay)
    return params, state, loss


# ---- data -------------------------------------------------------------------------------------


def token_stream(tokenizer: Tokenizer, texts: Sequence[str]) -> np.ndarray:
    """All texts' ids joined into one int32 array, each text preceded by the start id
    (``vocab_size``)."""
    start = tokenizer.vocab_size
    pieces: list[np.ndarray] = []
    for first in range(0, len(texts), 256):
        for ids in tokenizer.encode_batch(list(texts[first : first + 256])):
            pieces.append(np.asarray([start, *ids], dtype=np.int32))
    if not pieces:
        raise UserError("no texts to train the language model on")
    return np.concatenate(pieces)


def _windows(
    stream: np.ndarray, context: int, batch_size: int, start_id: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A batch of random windows of ``stream``: inputs, next-token targets and target weights
    (0 where the target is the start of the next text: the end of a text is not predicted)."""
    starts = rng.integers(0, len(stream) - context, size=batch_size)
    rows = np.stack([stream[s : s + context + 1] for s in starts])
    inputs, targets = rows[:, :-1], rows[:, 1:]
    return inputs, targets, (targets != start_id).astype(np.float32)


# ---- training ---------------------------------------------------------------------------------


@dataclass
class TrainingRun(Result):
    """What one training (or healing) run did."""

    steps: int
    seed: int
    tokens_seen: int
    first_loss_nats: float
    final_loss_nats: float
    elapsed_s: float


def _train(
    params: dict[str, np.ndarray],
    stream: np.ndarray,
    shape: _Shape,
    *,
    context: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float,
    warmup: int,
    steps: int,
    seed: int,
    progress: Progress | None,
) -> tuple[dict[str, np.ndarray], TrainingRun]:
    """``steps`` AdamW steps from ``params`` on random windows of ``stream``."""
    if steps < 0:
        raise UserError(f"training steps {steps}: expected 0 or more")
    if seed < 0:
        raise UserError(f"seed {seed}: expected 0 or more")
    if len(stream) < context + 2:
        raise UserError(
            f"the texts hold {len(stream)} tokens, fewer than the context of {context} + 2"
        )
    start_id = int(params[CAUSAL_INPUT_KEY].shape[0])
    rates = learning_rates(learning_rate, warmup, steps)
    # copies: _step donates (reuses) its inputs' buffers
    tensors = {name: jnp.array(value, dtype=jnp.float32) for name, value in params.items()}
    decay = _decay_rates(params, weight_decay)
    state = _optimizer().init(tensors)
    rng = np.random.default_rng(seed)
    began = time.perf_counter()
    losses: list[float] = []
    for number in range(steps):
        ids, targets, weights = _windows(stream, context, batch_size, start_id, rng)
        tensors, state, loss = _step(
            tensors, state, ids, targets, weights, np.float32(rates[number]), decay, shape=shape
        )
        if number == 0 or number == steps - 1:
            losses.append(float(loss))
        if progress is not None and (number % 10 == 0 or number == steps - 1):
            progress(f"step {number + 1}/{steps}", (number + 1) / steps)
    trained = {name: np.array(value, dtype=np.float32) for name, value in tensors.items()}
    run = TrainingRun(
        steps=steps,
        seed=seed,
        tokens_seen=steps * batch_size * context,
        first_loss_nats=losses[0] if losses else math.nan,
        final_loss_nats=losses[-1] if losses else math.nan,
        elapsed_s=time.perf_counter() - began,
    )
    return trained, run


def _tokenizer_json(tokenizer: Tokenizer) -> str:
    """The ``tokenizer.json`` text of an HF tokenizer; "" for other backends (such a model can
    be used in memory; writing it is refused by :func:`toksmith.models.write_model`)."""
    config = getattr(tokenizer, "config", None)
    if tokenizer.backend != "hf" or not isinstance(config, dict):
        return ""
    return json.dumps(config, ensure_ascii=False)


def train_causal_lm(
    tokenizer: Tokenizer,
    texts: Sequence[str],
    config: CausalLMConfig,
    *,
    steps: int,
    seed: int,
    progress: Progress | None = None,
) -> ModelFolder:
    """A small causal transformer LM over ``tokenizer``'s ids, trained from scratch for
    ``steps`` AdamW steps on ``texts`` (kept in memory: write it with
    :func:`toksmith.models.write_model`). Deterministic for a given seed. The training figures
    are in ``config["toksmith"]["runs"]``."""
    config.check()
    tokenizer_json = _tokenizer_json(tokenizer)
    settings = hf_config(config, tokenizer.vocab_size)
    params = init_params(settings, tokenizer.vocab_size, seed)
    stream = token_stream(tokenizer, texts)
    trained, run = _train(
        params,
        stream,
        _shape(settings),
        context=config.context,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup=config.warmup_steps,
        steps=steps,
        seed=seed,
        progress=progress,
    )
    settings["toksmith"]["runs"] = [{"kind": "train", **run.to_dict()}]
    return ModelFolder(
        path=None,
        config=settings,
        weights=trained,
        tokenizer=tokenizer,
        architecture="causal",
        input_embedding_key=CAUSAL_INPUT_KEY,
        output_embedding_key=None if config.tied else CAUSAL_OUTPUT_KEY,
        tokenizer_json=tokenizer_json,
    )


def _training_settings(model: ModelFolder) -> CausalLMConfig:
    stored = (model.config.get("toksmith") or {}).get("training") or {}
    known = {name: stored[name] for name in CausalLMConfig.__dataclass_fields__ if name in stored}
    return CausalLMConfig(**known)


def continue_training(
    model: ModelFolder,
    texts: Sequence[str],
    *,
    steps: int,
    seed: int,
    learning_rate: float = 1e-3,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> ModelFolder:
    """``model`` after ``steps`` more AdamW steps on ``texts`` ("healing" after a tokenizer
    transplant): a fresh optimizer, warm-up over the first tenth of the steps, cosine decay,
    batches of ``batch_size`` windows (None: the model's training batch size). Returns a new
    in-memory model; ``model`` is unchanged."""
    _require_causal(model)
    if not (0 < learning_rate < 1):
        raise UserError(f"learning rate {learning_rate}: expected in (0, 1)")
    settings = _training_settings(model)
    if batch_size is not None and batch_size < 1:
        raise UserError(f"batch size {batch_size}: expected at least 1")
    stream = token_stream(model.tokenizer, texts)
    trained, run = _train(
        model.weights,
        stream,
        _shape(model.config),
        context=int(model.config["n_positions"]),
        batch_size=settings.batch_size if batch_size is None else batch_size,
        learning_rate=learning_rate,
        weight_decay=settings.weight_decay,
        warmup=steps // 10,
        steps=steps,
        seed=seed,
        progress=progress,
    )
    config = json.loads(json.dumps(model.config))
    config.setdefault("toksmith", {}).setdefault("runs", []).append(
        {"kind": "continue", "learning_rate": learning_rate, **run.to_dict()}
    )
    return ModelFolder(
        path=None,
        config=config,
        weights=trained,
        tokenizer=model.tokenizer,
        architecture="causal",
        input_embedding_key=model.input_embedding_key,
        output_embedding_key=model.output_embedding_key,
        tokenizer_json=model.tokenizer_json,
    )


# ---- evaluation -------------------------------------------------------------------------------


def _require_causal(model: ModelFolder) -> None:
    if model.architecture != "causal":
        raise UserError(
            f"{model.path or 'model'} is a {model.architecture} model; expected a causal LM"
        )


def device_params(model: ModelFolder) -> dict[str, jax.Array]:
    """The model's float weights as JAX arrays."""
    return {
        name: jnp.asarray(value)
        for name, value in model.weights.items()
        if np.issubdtype(value.dtype, np.floating)
    }


def scoring_windows(
    ids: Sequence[int], context: int, start_id: int
) -> list[tuple[list[int], list[int], int]]:
    """How a text's ids are scored: windows ``(inputs, targets, first_scored)``.

    The first window is the start vector and the first ``context - 1`` ids, predicting ids
    ``0 … context - 1``. A longer text continues in windows of ``context`` ids that overlap by
    half, scoring only the ids not scored yet, so each id is scored once with at least
    ``context // 2`` ids before it.
    """
    windows: list[tuple[list[int], list[int], int]] = []
    tokens = list(ids)
    if not tokens:
        return windows
    first = tokens[:context]
    windows.append(([start_id, *first[:-1]], first, 0))
    scored = len(first)
    stride = max(context // 2, 1)
    while scored < len(tokens):
        begin = scored - (context - stride)
        inputs = tokens[begin : begin + context]
        targets = tokens[begin + 1 : begin + context + 1]
        inputs = inputs[: len(targets)]
        windows.append((inputs, targets, scored - begin - 1))
        scored = begin + 1 + len(targets)
    return windows


def token_logprobs(model: ModelFolder, texts: Sequence[str]) -> list[np.ndarray]:
    """Natural-log probability of each token of each text (encoded by the model's own
    tokenizer, predicted from the start of the text), one float64 array per text."""
    _require_causal(model)
    context = int(model.config["n_positions"])
    start_id = model.tokenizer.vocab_size
    shape = _shape(model.config)
    params = device_params(model)
    encoded = model.tokenizer.encode_batch(list(texts))
    jobs: list[tuple[int, int, list[int], list[int], int]] = []  # text, offset, window
    for index, ids in enumerate(encoded):
        offset = 0
        for inputs, targets, first in scoring_windows(ids, context, start_id):
            jobs.append((index, offset, inputs, targets, first))
            offset += len(targets) - first
    results = [np.zeros(len(ids), dtype=np.float64) for ids in encoded]
    for begin in range(0, len(jobs), _EVAL_ROWS):
        chunk = jobs[begin : begin + _EVAL_ROWS]
        ids_array = np.zeros((_EVAL_ROWS, context), dtype=np.int32)
        target_array = np.zeros((_EVAL_ROWS, context), dtype=np.int32)
        for row, (_, _, inputs, targets, _) in enumerate(chunk):
            ids_array[row, : len(inputs)] = inputs
            target_array[row, : len(targets)] = targets
        scores = np.asarray(_token_logprobs(params, ids_array, target_array, shape), np.float64)
        for row, (index, offset, _, targets, first) in enumerate(chunk):
            new = scores[row, first : len(targets)]
            results[index][offset : offset + len(new)] = new
    return results


def bits_per_byte(model: ModelFolder, texts: Sequence[str]) -> float:
    """Total negative log2-likelihood of the texts' tokens (each text encoded by the model's
    own tokenizer and predicted from its start) divided by the texts' UTF-8 bytes.

    It compares models with different tokenizers, where per-token perplexity does not. Texts
    longer than the context are scored in overlapping windows (see :func:`scoring_windows`).
    """
    total_bytes = sum(len(text.encode("utf-8")) for text in texts)
    if total_bytes == 0:
        raise UserError("bits per byte needs at least one non-empty text")
    nats = -sum(float(scores.sum()) for scores in token_logprobs(model, texts))
    return nats / math.log(2) / total_bytes


def model_inputs(ids: Sequence[int], context: int, start_id: int) -> list[int]:
    """What the model reads to predict the token after ``ids``: the start vector and the ids
    when they fit in the context, else the last ``context`` ids (the start is out of sight)."""
    if len(ids) < context:
        return [start_id, *(int(i) for i in ids)]
    return [int(i) for i in ids[len(ids) - context :]]


def next_token_logprobs_batch(
    model: ModelFolder,
    prefixes: Sequence[Sequence[int]],
    params: dict[str, jax.Array] | None = None,
) -> np.ndarray:
    """Natural-log probabilities of the next token after each prefix, ``[len(prefixes), V]``
    (float64). ``params`` (from :func:`device_params`) saves converting the weights again."""
    _require_causal(model)
    context = int(model.config["n_positions"])
    vocab_size = model.tokenizer.vocab_size
    shape = _shape(model.config)
    params = params if params is not None else device_params(model)
    rows = np.zeros((len(prefixes), vocab_size), dtype=np.float64)
    for begin in range(0, len(prefixes), _EVAL_ROWS):
        chunk = [model_inputs(p, context, vocab_size) for p in prefixes[begin : begin + _EVAL_ROWS]]
        height = 1 if len(chunk) == 1 else _EVAL_ROWS  # two compiled shapes, not five
        ids_array = np.zeros((height, context), dtype=np.int32)
        lengths = np.ones(height, dtype=np.int32)
        for row, inputs in enumerate(chunk):
            ids_array[row, : len(inputs)] = inputs
            lengths[row] = len(inputs)
        logprobs = np.asarray(_last_logprobs(params, ids_array, lengths, shape), np.float64)
        rows[begin : begin + len(chunk)] = logprobs[: len(chunk)]
    return rows


def next_token_logprobs(model: ModelFolder, ids: Sequence[int]) -> np.ndarray:
    """Natural-log probabilities ``[V]`` (float64) of the token after ``ids`` (an empty
    ``ids``: the first token of a text)."""
    for token in ids:
        if not 0 <= int(token) < model.tokenizer.vocab_size:
            raise UserError(
                f"token id {token} is outside the vocabulary of {model.tokenizer.vocab_size}"
            )
    return next_token_logprobs_batch(model, [ids])[0]
