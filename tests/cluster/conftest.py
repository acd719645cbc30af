"""Fixtures for the cluster tests: one local Dask cluster of two worker processes shared by
the module's tests, a small UDHR parallel corpus, and a tiny trained BPE tokenizer file."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from toksmith.train.hf_trainers import train_hf
from toksmith.train.settings import TrainSettings

LANGUAGES = ("007", "008", "009", "010", "011", "013")


@pytest.fixture(scope="session")
def dask_address() -> Iterator[str]:
    """The scheduler address of a LocalCluster: 2 worker processes, one thread each."""
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def threads_address() -> Iterator[str]:
    """The scheduler address of a LocalCluster whose 2 workers are threads of this process
    (so a test's monkeypatching reaches them)."""
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def udhr_subset(udhr_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six UDHR languages (TSV, aligned by id) with the corpus index."""
    folder = tmp_path_factory.mktemp("udhr6")
    for key in LANGUAGES:
        shutil.copy(udhr_dir / f"{key}.tsv", folder)
    shutil.copy(udhr_dir / "index.tsv", folder)
    return folder


@pytest.fixture(scope="session")
def udhr_lines(udhr_subset: Path) -> list[str]:
    lines = []
    for key in LANGUAGES:
        for line in (udhr_subset / f"{key}.tsv").read_text(encoding="utf-8").splitlines():
            lines.append(line.partition("\t")[2])
    return lines


@pytest.fixture(scope="session")
def tiny_bpe(udhr_lines: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 600-id byte-level BPE trained on the subset: a tokenizer the workers load by path."""
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tokenizer = train_hf(TrainSettings(vocab_size=600), ["\n".join(udhr_lines)])
    path.write_text(tokenizer.to_str(), encoding="utf-8")
    return path
