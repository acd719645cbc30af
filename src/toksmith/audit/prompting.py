"""Under-trained tokens confirmed by prompting a causal language model.

Land and Bartolo, "Fishing for Magikarp: Automatically Detecting Under-trained Tokens in Large
Language Models" (2024), verification step: the candidates that the embedding indicator ranks
highest (:mod:`toksmith.audit.weights`) are put, as their token id, into three prompts that ask
the model to repeat them; the model greedily continues each prompt for 3 tokens, and the
largest probability it gives the candidate at any of those steps, over the three prompts, is
the token's *repeat probability*. A token whose repeat probability stays below 1% is
confirmed under-trained: the model cannot produce it even when told to copy it.

The three prompts are the paper's (its code, cohere-ai/magikarp, ``VERIFICATION_PROMPTS``):
``input_output`` ("This device repeats its input exactly…", 20 solved examples, then one to
solve), ``assistant_explain`` (a one-shot "what does '…' mean?" dialogue) and ``repeats`` (the
token 101 times after "it's just giving the same phrase repeated indefinitely"): each prompt is
its head, then its body and answer as many times as the paper's repetition count, then the body.

Deviations: the prompts are encoded piece by piece around the spliced-in token id (so the
pieces' boundaries may tokenize slightly differently from the whole text); a model with a short
context (the small LMs trained here have 128 positions) reads only the end of a long prompt;
no chat template is applied (the models here are base LMs, as most the paper tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from toksmith.audit.tokens import display
from toksmith.errors import UserError
from toksmith.results import Result

if TYPE_CHECKING:
    from toksmith.audit.vocab import VocabReport

CONFIRM_BELOW = 0.01  # repeat probability under which a token is confirmed under-trained
GENERATED_TOKENS = 3
TOKEN = "{token}"

# (name, solved repetitions, head, body, expected answer): the prompt is head, then
# ``repetitions`` times body + answer, then body; the model should continue with the answer.
VERIFICATION_PROMPTS: tuple[tuple[str, int, str, str, str], ...] = (
    (
        "input_output",
        20,
        "This device repeats its input exactly, as shown in these 100 identical trials.",
        "\nInput: «{token}»\nOutput:",
        " «{token}»",
    ),
    (
        "assistant_explain",
        0,
        "This helpful assistant explains what a phrase means, replying with identical "
        "responses to identical questions for reliability.",
        "\nUser: What does 'edslfkj' mean?\nAssistant: 'edslfkj' has no specific meaning I am "
        "aware of.\nUser: what does '{token}' mean?\nAssistant:",
        " '{token}'",
    ),
    (
        "repeats",
        50,
        "Below is the output, as you can see it's just giving the same phrase repeated "
        "indefinitely:\n",
        "{token}",
        "{token}",
    ),
)


def encode_template(encode: object, template: str, token_id: int) -> list[int]:
    """``template`` encoded with every ``{token}`` replaced by ``token_id`` itself (the text
    between them encoded piece by piece)."""
    pieces = template.split(TOKEN)
    ids: list[int] = []
    for index, piece in enumerate(pieces):
        if piece:
            ids.extend(encode(piece))  # type: ignore[operator]
        if index < len(pieces) - 1:
            ids.append(token_id)
    return ids


def prompt_ids(tokenizer: object, token_id: int) -> dict[str, list[int]]:
    """The ids of each verification prompt for ``token_id``, by prompt name."""
    encode = tokenizer.encode  # type: ignore[attr-defined]
    prompts: dict[str, list[int]] = {}
    for name, repetitions, head, body, answer in VERIFICATION_PROMPTS:
        template = head + (body + answer) * repetitions + body
        prompts[name] = encode_template(encode, template, token_id)
    return prompts


@dataclass(frozen=True)
class PromptCheck(Result):
    """One candidate after prompting: its repeat probability per prompt and overall."""

    id: int
    token: str
    indicator_rank: int | None  # 1 = most likely under-trained by the embedding indicator
    repeat_probability: float
    by_prompt: dict[str, float]
    confirmed: bool


@dataclass
class PromptVerification(Result):
    """``audit vocab --verify``: the prompted candidates and how many were confirmed."""

    model: str
    prompts: list[str]
    generated_tokens: int
    confirm_below: float
    checked: int
    confirmed: int
    tokens: list[PromptCheck]


def repeat_probabilities(
    model: object, token_ids: Sequence[int], *, steps: int = GENERATED_TOKENS
) -> list[dict[str, float]]:
    """For each token, the largest probability the model gives it over ``steps`` greedy
    steps after each verification prompt, by prompt name. All prompts of all tokens go
    through the model together, one step at a time."""
    from toksmith.models.causal import device_params, next_token_logprobs_batch

    tokenizer = model.tokenizer  # type: ignore[attr-defined]
    jobs: list[tuple[int, str, list[int]]] = []
    for row, token_id in enumerate(token_ids):
        for name, ids in prompt_ids(tokenizer, int(token_id)).items():
            jobs.append((row, name, ids))
    best = [dict.fromkeys((p[0] for p in VERIFICATION_PROMPTS), 0.0) for _ in token_ids]
    if not jobs:
        return best
    params = device_params(model)  # type: ignore[arg-type]
    prefixes = [list(ids) for _, _, ids in jobs]
    for _ in range(steps):
        logprobs = next_token_logprobs_batch(model, prefixes, params)  # type: ignore[arg-type]
        for index, (row, name, _) in enumerate(jobs):
            probability = float(np.exp(logprobs[index, int(token_ids[row])]))
            best[row][name] = max(best[row][name], probability)
            prefixes[index].append(int(np.argmax(logprobs[index])))
    return best


def verify_by_prompting(
    model: object,
    token_ids: Sequence[int],
    *,
    ranks: Sequence[int | None] | None = None,
    confirm_below: float = CONFIRM_BELOW,
    steps: int = GENERATED_TOKENS,
) -> PromptVerification:
    """Prompt the causal LM ``model`` (a :class:`toksmith.models.ModelFolder`) to repeat each
    of ``token_ids``; a token is confirmed under-trained when its repeat probability is below
    ``confirm_below`` (the paper's 1%). ``ranks``: each token's place in the indicator's
    ranking, reported beside it."""
    if getattr(model, "architecture", None) != "causal":
        raise UserError(
            f"{getattr(model, 'path', 'model')}: --verify prompts a causal language model; "
            f"this is a {getattr(model, 'architecture', 'different')} model"
        )
    tokenizer = model.tokenizer  # type: ignore[attr-defined]
    for token_id in token_ids:
        if not 0 <= int(token_id) < tokenizer.vocab_size:
            raise UserError(
                f"token id {token_id} is outside the model's {tokenizer.vocab_size} ids"
            )
    found = repeat_probabilities(model, token_ids, steps=steps)
    checks = []
    for index, (token_id, by_prompt) in enumerate(zip(token_ids, found, strict=True)):
        probability = max(by_prompt.values())
        checks.append(
            PromptCheck(
                id=int(token_id),
                token=display(tokenizer, int(token_id)),
                indicator_rank=None if ranks is None else ranks[index],
                repeat_probability=probability,
                by_prompt=by_prompt,
                confirmed=probability < confirm_below,
            )
        )
    return PromptVerification(
        model=str(getattr(model, "path", None) or "model"),
        prompts=[p[0] for p in VERIFICATION_PROMPTS],
        generated_tokens=steps,
        confirm_below=confirm_below,
        checked=len(checks),
        confirmed=sum(c.confirmed for c in checks),
        tokens=checks,
    )


@dataclass
class VerifiedVocabReport(Result):
    """``audit vocab --weights FOLDER --verify``: the vocabulary audit and the prompting."""

    vocab: VocabReport
    verification: PromptVerification

    def to_dict(self) -> dict:
        """The vocabulary audit's JSON with a ``verification`` field added."""
        data = dict(self.vocab.to_dict())
        data["verification"] = self.verification.to_dict()
        return data
