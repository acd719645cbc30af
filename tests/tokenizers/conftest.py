"""Fixtures for the tokenizer tests: fast engines that build in the background or fail."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import NoReturn

import numpy as np
import pytest

from toksmith.tokenizers import Tokenizer, load_tokenizer
from toksmith.tokenizers.fast import LazyEngine

IdArrays = tuple[np.ndarray, np.ndarray]


class RaisingEngine:
    """A fast engine that raises on every call, like a Rust panic on some input."""

    name = "fastokens"

    def encode_batch_numpy(self, texts: Sequence[str]) -> NoReturn:
        raise RuntimeError("simulated failure")

    def encode_whole(self, texts: Sequence[str]) -> NoReturn:
        raise RuntimeError("simulated failure")


@pytest.fixture
def with_raising_engine() -> Callable[[Tokenizer], Tokenizer]:
    """Gives a tokenizer a fast engine that raises on every call (:class:`RaisingEngine`) and
    sets its count of fallbacks to the vendor to 0; returns the tokenizer."""

    def install(tokenizer: Tokenizer) -> Tokenizer:
        raising = RaisingEngine()
        tokenizer.fast_engine = LazyEngine(lambda: None, engine=raising)  # type: ignore[arg-type]
        tokenizer.fast_fallbacks = 0
        return tokenizer

    return install


@pytest.fixture
def building_o200k() -> Tokenizer:
    """A copy of o200k_base whose fast engine starts building in the background once 10
    characters were asked for (the vendor answers until it is ready)."""
    tokenizer = copy.copy(load_tokenizer("o200k_base"))
    tokenizer.fast_engine = LazyEngine(tokenizer.build_fast_engine, start_after_chars=10)
    return tokenizer


@pytest.fixture
def check_ids_across_the_build() -> Callable[[Tokenizer, Sequence[str], IdArrays], None]:
    """Checks that a tokenizer with an engine not yet started gives the ``expected`` ids for
    ``texts`` on the call that starts the build (the vendor answers it), and again once the
    engine is ready (it answers)."""

    def check(tokenizer: Tokenizer, texts: Sequence[str], expected: IdArrays) -> None:
        first = tokenizer.encode_batch_numpy(texts)
        assert tokenizer.fast_engine.wait() is not None
        second = tokenizer.encode_batch_numpy(texts)
        for flat, lengths in (first, second):
            assert np.array_equal(flat, expected[0]) and np.array_equal(lengths, expected[1])

    return check
