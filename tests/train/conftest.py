"""Small training corpora for the trainer tests: pydoc_data.topics (English prose, ~470 KB),
split into a training file (first four fifths of the topics) and a held-out file."""

from __future__ import annotations

import pydoc_data.topics
from pathlib import Path

import pytest

from toksmith.train import TrainSettings, train_tokenizer


@pytest.fixture(scope="session")
def topics_split(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("topics")
    topics = list(pydoc_data.topics.topics.values())
    cut = len(topics) * 4 // 5
    train, held_out = folder / "train.txt", folder / "heldout.txt"
    train.write_text("\n".join(topics[:cut]), encoding="utf-8")
    held_out.write_text("\n".join(topics[cut:]), encoding="utf-8")
    return train, held_out


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, topics_split: tuple[Path, Path]):
    """Train each named configuration once per session: ``trained("bpe", vocab_size=8000)``."""
    train, _ = topics_split
    cache: dict[tuple, Path] = {}

    def make(algorithm: str, **options) -> Path:
        key = (algorithm, tuple(sorted(options.items())))
        if key not in cache:
            folder = tmp_path_factory.mktemp(algorithm) / "tok"
            train_tokenizer(TrainSettings(algorithm=algorithm, **options), folder, corpus=[train])
            cache[key] = folder / "tokenizer.json"
        return cache[key]

    return make
