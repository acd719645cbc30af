"""The language-model interface the bridge talks to.

A language model here is anything that, given token-id prefixes of one tokenizer, returns the
distribution over that tokenizer's next token. The bridge turns it into a distribution over the
next *byte* (see :mod:`toksmith.bridge.bytelevel`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from toksmith.tokenizers.base import Tokenizer


class LanguageModel(ABC):
    """A token-level causal language model over the ids of ``tokenizer``.

    ``context_window`` is the number of trailing tokens that can change the output (``None``:
    all of them). Callers may pass only that many trailing tokens of a prefix, and use them as
    a cache key. A prefix shorter than the window means "at the start of a text".
    """

    name: str
    tokenizer: Tokenizer
    context_window: int | None = None

    @property
    def vocab_size(self) -> int:
        """Width of the returned distributions: the tokenizer's number of ids."""
        return self.tokenizer.vocab_size

    @abstractmethod
    def next_token_logprobs(self, prefixes: Sequence[Sequence[int]]) -> np.ndarray:
        """Natural-log probabilities of the next token after each prefix.

        Returns a float64 array of shape ``[len(prefixes), vocab_size]``; ids the model never
        produces hold ``-inf``.
        """

    def next_token_probs(self, prefixes: Sequence[Sequence[int]]) -> np.ndarray:
        """Probabilities (not logs) of the next token, shape ``[len(prefixes), vocab_size]``.

        Models that compute probabilities directly override this to skip a log/exp round trip.
        """
        return np.exp(self.next_token_logprobs(prefixes))

    def next_token_probs_ordered(self, prefix: Sequence[int], order: np.ndarray) -> np.ndarray:
        """P(next token | ``prefix``) listed in the order of the token ids ``order`` (a
        permutation of all ids): ``next_token_probs([prefix])[0][order]``.

        The bridge reads distributions sorted by token bytes; models that can build them in
        that order directly override this to skip a gather over the vocabulary.
        """
        return self.next_token_probs([prefix])[0][order]
