"""Fixtures for the bridge tests: small n-gram LMs trained on part of the Python stdlib, and
toy tokenizers and language models with known probabilities for exactness tests."""

from __future__ import annotations

import sysconfig
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models, pre_tokenizers, trainers

from toksmith.bridge.bytelevel import ByteLevelModel
from toksmith.bridge.lm.base import LanguageModel
from toksmith.bridge.lm.ngram import NgramLM, train_ngram
from toksmith.tokenizers import load_tokenizer
from toksmith.tokenizers.base import Pipeline, Tokenizer

STDLIB = Path(sysconfig.get_paths()["stdlib"])
HELD_OUT = ("textwrap.py", "shutil.py")


def training_texts() -> list[str]:
    """About 400 KB of standard-library source (email and json packages)."""
    files = sorted((STDLIB / "email").glob("*.py")) + sorted((STDLIB / "json").glob("*.py"))
    return [path.read_text("utf-8") for path in files]


@pytest.fixture(scope="session")
def held_out_sources() -> list[tuple[str, str]]:
    return [(name, (STDLIB / name).read_text("utf-8")) for name in HELD_OUT]


@pytest.fixture(scope="session")
def o200k_lm() -> NgramLM:
    return train_ngram(load_tokenizer("o200k_base"), training_texts(), order=4, name="o200k-4g")


@pytest.fixture(scope="session")
def o200k_model(o200k_lm: NgramLM) -> ByteLevelModel:
    return ByteLevelModel(o200k_lm)


@pytest.fixture(scope="session")
def small_bpe_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-token byte-level BPE trained on the same source with HF tokenizers."""
    tokenizer = HFTokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=2000,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(training_texts(), trainer)
    path = tmp_path_factory.mktemp("bpe") / "tokenizer.json"
    tokenizer.save(str(path))
    return path


@pytest.fixture(scope="session")
def small_bpe_lm(small_bpe_path: Path) -> NgramLM:
    tokenizer = load_tokenizer(str(small_bpe_path))
    return train_ngram(
        tokenizer, training_texts(), order=4, tokenizer_spec=str(small_bpe_path), name="bpe2k-4g"
    )


TOY_TOKENS = [b"a", b"b", b"c", b"ab", b"bc", b"abc", b"ca", b"aa", b""]  # last: a special
TOY_MERGES = [(b"a", b"b"), (b"b", b"c"), (b"ab", b"c"), (b"c", b"a"), (b"a", b"a")]


class ToyBPE(Tokenizer):
    """A byte-level BPE over {a, b, c} without pre-tokenization; id 8 is a special token."""

    name = "toy-bpe"
    backend = "hf"
    source = "tests"
    byte_exact = True

    def __init__(self) -> None:
        self.ids = {token: i for i, token in enumerate(TOY_TOKENS) if token}
        self.ranks = {pair: rank for rank, pair in enumerate(TOY_MERGES)}

    @property
    def vocab_size(self) -> int:
        return len(TOY_TOKENS)

    @property
    def special_ids(self) -> frozenset[int]:
        return frozenset({8})

    def encode(self, text: str) -> list[int]:
        parts = [bytes([b]) for b in text.encode()]
        while len(parts) > 1:
            pairs = [
                (self.ranks.get((x, y), len(self.ranks)), i)
                for i, (x, y) in enumerate(zip(parts, parts[1:], strict=False))
            ]
            rank, position = min(pairs)
            if rank == len(self.ranks):
                break
            parts[position : position + 2] = [parts[position] + parts[position + 1]]
        return [self.ids[p] for p in parts]

    def decode(self, ids: Sequence[int]) -> str:
        return b"".join(TOY_TOKENS[i] for i in ids).decode()

    def token_bytes(self, token_id: int) -> bytes:
        return TOY_TOKENS[token_id]

    def pipeline(self) -> Pipeline:
        return Pipeline("none", "none", "BPE", "none")

    byte_encoding = None  # no vocabulary strings: tokens are only their bytes

    def pre_tokenizer_spec(self) -> None:
        return None  # no pre-tokenization


class ToyMarkovLM(LanguageModel):
    """P(next | previous token) from a fixed random table: every token sequence has a known
    probability. With ``canonical_only``, tokens that would make the sequence differ from the
    tokenizer's own encoding of its bytes get probability 0 (a model trained on canonical
    encodings, as the paper assumes)."""

    context_window = None

    def __init__(self, tokenizer: ToyBPE, seed: int = 0, canonical_only: bool = False) -> None:
        self.tokenizer = tokenizer
        self.name = "toy-markov" + ("-canonical" if canonical_only else "")
        self.canonical_only = canonical_only
        rng = np.random.default_rng(seed)
        size = tokenizer.vocab_size
        table = rng.dirichlet(np.ones(size), size=size + 1)  # row `size`: start of text
        table[:, 8] = 0.0
        self.table = table / table.sum(axis=1, keepdims=True)
        self.calls = 0

    def next_token_logprobs(self, prefixes: Sequence[Sequence[int]]) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(np.stack([self.probs(list(p)) for p in prefixes]))

    def probs(self, prefix: list[int]) -> np.ndarray:
        self.calls += 1
        row = self.table[prefix[-1] if prefix else self.tokenizer.vocab_size].copy()
        if self.canonical_only:
            spelled = b"".join(TOY_TOKENS[i] for i in prefix)
            for token in range(len(row)):
                text = (spelled + TOY_TOKENS[token]).decode()
                if row[token] and self.tokenizer.encode(text) != [*prefix, token]:
                    row[token] = 0.0
            row /= row.sum()
        return row


def brute_force_prefix_probability(lm: ToyMarkovLM, target: bytes) -> float:
    """Sum of P(token sequence) over every token sequence that covers ``target``: it spells
    ``target`` (or runs past its end) and stops at the first token reaching the end."""
    total = 0.0

    def extend(prefix: list[int], spelled: bytes, probability: float) -> None:
        nonlocal total
        if len(spelled) >= len(target):
            total += probability
            return
        row = lm.probs(prefix)
        for token, p in enumerate(row):
            piece = TOY_TOKENS[token]
            if p == 0 or not piece:
                continue
            longer = spelled + piece
            if longer[: len(target)] == target[: len(longer)]:
                extend([*prefix, token], longer, probability * p)

    extend([], b"", 1.0)
    return total


@pytest.fixture
def toy_lm() -> Callable[..., ToyMarkovLM]:
    """``toy_lm(seed, canonical_only=False)``: a toy Markov LM over the toy BPE."""

    def make(seed: int, canonical_only: bool = False) -> ToyMarkovLM:
        return ToyMarkovLM(ToyBPE(), seed=seed, canonical_only=canonical_only)

    return make


@pytest.fixture
def brute_force() -> Callable[[ToyMarkovLM, bytes], float]:
    return brute_force_prefix_probability
