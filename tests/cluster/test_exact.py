"""On a local cluster, compare, count and wordcount give exactly the single-process result."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from toksmith.cluster import compare_on_cluster, count_on_cluster, word_counts
from toksmith.cluster.shards import file_shards
from toksmith.cluster.wordcount import WordcountSettings, read_word_counts, write_word_counts
from toksmith.corpus import read as corpus_read
from toksmith.metrics import compare_corpus, count_corpus
from toksmith.tokenizers import load_tokenizers
from toksmith.train.corpus import TrainingCorpus, text_blocks
from toksmith.train.from_counts import train_bpe_from_counts
from toksmith.train.hf_trainers import train_hf
from toksmith.train.settings import TrainSettings


def _specs(tiny_bpe: Path) -> list[str]:
    return ["o200k_base", str(tiny_bpe)]


def test_compare_on_a_parallel_corpus_equals_one_process(dask_address, udhr_subset, tiny_bpe):
    specs = _specs(tiny_bpe)
    one = compare_corpus(load_tokenizers(specs), udhr_subset, reference="007")
    many = compare_on_cluster(
        specs, udhr_subset, cluster=dask_address, reference="007", shard_bytes=8000
    )
    assert len(file_shards(udhr_subset / "007.tsv", shard_bytes=8000)) >= 2  # really split
    assert many.to_dict() == one.to_dict()
    assert {row.premium_ci_low is not None for row in many.results} == {True}


@pytest.fixture(scope="module")
def mixed_corpus(udhr_lines: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a plain file to be cut into many ranges, a JSONL file and a gzip file,
    with blank lines and a few invalid bytes."""
    folder = tmp_path_factory.mktemp("mixed")
    body = "\n".join(udhr_lines[:1500]).encode("utf-8")
    (folder / "a_big.txt").write_bytes(b"\xef\xbb\xbf" + body + b"\n\n\xff bad byte\n" + body)
    records = [json.dumps({"text": line}, ensure_ascii=False) for line in udhr_lines[1500:2000]]
    (folder / "more").mkdir()  # a subfolder: one corpus, not a parallel folder
    (folder / "more" / "b_docs.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    (folder / "more" / "c_more.txt.gz").write_bytes(
        gzip.compress("\n".join(udhr_lines[2000:]).encode())
    )
    return folder


def test_compare_of_a_file_cut_into_byte_ranges_equals_one_process(
    dask_address, mixed_corpus, tiny_bpe
):
    specs = _specs(tiny_bpe)
    one = compare_corpus(load_tokenizers(specs), mixed_corpus, errors="replace")
    many = compare_on_cluster(
        specs, mixed_corpus, cluster=dask_address, errors="replace", shard_bytes=20_000
    )
    assert len(file_shards(mixed_corpus / "a_big.txt", shard_bytes=20_000)) >= 5
    assert one.replaced_bytes == 1
    assert many.to_dict() == one.to_dict()


def test_count_file_on_a_cluster_equals_one_process(dask_address, mixed_corpus, tiny_bpe):
    specs = _specs(tiny_bpe)
    one = count_corpus(load_tokenizers(specs), mixed_corpus, errors="replace")
    many = count_on_cluster(
        specs, mixed_corpus, cluster=dask_address, errors="replace", shard_bytes=20_000
    )
    assert many.to_dict() == one.to_dict()


def test_wordcount_on_a_cluster_equals_one_process(dask_address, mixed_corpus):
    settings = WordcountSettings(pattern="gpt4", numbers="l2r3")
    one = word_counts([mixed_corpus], settings, errors="replace")
    many = word_counts([mixed_corpus], settings, cluster=dask_address, errors="replace")
    assert many.counts == one.counts
    assert sum(one.counts.values()) > 20_000


def test_bpe_from_counts_learns_the_merges_of_training_on_the_corpus(
    dask_address, mixed_corpus, tmp_path
):
    settings = TrainSettings(vocab_size=1500, normalizer="nfc")
    corpus = TrainingCorpus([str(mixed_corpus)], errors="replace")
    on_corpus = train_hf(settings, text_blocks(corpus.texts()))
    counts = word_counts(
        [mixed_corpus],
        WordcountSettings(normalizer="nfc"),
        cluster=dask_address,
        errors="replace",
    )
    write_word_counts(counts, tmp_path / "counts.tsv.gz")
    _, _, pairs = read_word_counts(tmp_path / "counts.tsv.gz")
    from_counts = train_bpe_from_counts(settings, pairs)
    merges = json.loads(on_corpus.to_str())["model"]["merges"]
    assert len(merges) > 1000
    assert json.loads(from_counts.to_str())["model"]["merges"] == merges
    assert from_counts.to_str() == on_corpus.to_str()  # vocabulary and pipeline too


def test_whole_file_ranges_on_a_cluster_give_the_counts_of_one_process(
    threads_address, mixed_corpus, tiny_bpe, monkeypatch
):
    # Whole-file reading cuts every MAX_SEGMENT_BYTES (4 MiB); shrunk here so that a small
    # file is cut into several ranges. The workers are threads of this process, so they see
    # the same value.
    monkeypatch.setattr(corpus_read, "MAX_SEGMENT_BYTES", 16_384)
    big = mixed_corpus / "a_big.txt"
    assert len(file_shards(big, shard_bytes=40_000, whole_files=True)) >= 4
    specs = _specs(tiny_bpe)
    one = count_corpus(load_tokenizers(specs), big, errors="replace")
    many = count_on_cluster(
        specs, big, cluster=threads_address, errors="replace", shard_bytes=40_000
    )
    assert many.to_dict() == one.to_dict()
    settings = WordcountSettings(pattern="gpt2")
    counted = word_counts([big], settings, errors="replace")
    assert (
        word_counts(
            [big], settings, cluster=threads_address, errors="replace", shard_bytes=40_000
        ).counts
        == counted.counts
    )


def test_every_worker_loads_and_starts_its_engines_before_the_tasks_with_its_threads(
    dask_address, tmp_path
):
    """Before any task, each worker process loads the tokenizers and starts their fast
    engines in its own thread, with its encoders fitted to its one Dask thread (no worker
    pays the start inside the run, none runs a second busy thread)."""
    from distributed import Client

    corpus = tmp_path / "one-line.txt"
    corpus.write_text("one line only, so one task reaches one worker\n", encoding="utf-8")
    compare_on_cluster(["o200k_base"], corpus, cluster=dask_address)

    def state():  # type: ignore[no-untyped-def]
        import os as worker_os

        from toksmith.tokenizers import load_tokenizer as worker_load

        engine = worker_load("o200k_base", "text", "auto").fast_engine
        return worker_os.environ.get("RAYON_NUM_THREADS"), engine.started

    with Client(dask_address) as client:
        states = client.run(state)
    assert len(states) == 2
    assert sorted(states.values()) == [("1", True), ("1", True)]
