"""``toksmith wordcount``, ``--cluster`` parsing and ``train --from-counts`` as the CLI calls it
(through a parser of their own until the lead wires the commands in)."""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import pytest

from toksmith.cli import wordcount
from toksmith.cli.common import OneLineErrorParser, resolve_format
from toksmith.cluster import add_cluster_option
from toksmith.errors import UserError
from toksmith.train import TrainSettings, train_tokenizer
from toksmith.train.from_counts import train_from_counts
from toksmith.train.pretokenize import GPT2


def _run(argv: list[str]) -> int:
    parser = OneLineErrorParser(prog="toksmith")
    wordcount.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    resolve_format(args)
    return int(args.run(args))


@pytest.fixture
def corpus(tmp_path: Path, udhr_lines: list[str]) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(udhr_lines[:800]) + "\n", encoding="utf-8")
    return path


def test_wordcount_writes_gzip_tsv_that_trains_the_merges_of_the_corpus(corpus, tmp_path, capsys):
    counts = tmp_path / "counts.tsv.gz"
    assert (
        _run(["wordcount", "--corpus", str(corpus), "--pretokenizer", "gpt4", "-o", str(counts)])
        == 0
    )
    lines = gzip.decompress(counts.read_bytes()).decode("utf-8").splitlines()
    tag, header = lines[0].split("\t")
    assert tag == "#toksmith-wordcount" and json.loads(header)["pattern"] == "gpt4"
    frequencies = [int(line.rpartition("\t")[2]) for line in lines[1:]]
    assert frequencies == sorted(frequencies, reverse=True) and len(frequencies) > 1000
    assert "distinct pre-tokens" in capsys.readouterr().out

    settings = TrainSettings(vocab_size=800)
    train_from_counts(settings, tmp_path / "from_counts", counts)
    train_tokenizer(settings, tmp_path / "from_corpus", corpus=[str(corpus)])
    from_counts = (tmp_path / "from_counts" / "tokenizer.json").read_text(encoding="utf-8")
    assert from_counts == (tmp_path / "from_corpus" / "tokenizer.json").read_text(encoding="utf-8")


def test_wordcount_refuses_to_overwrite_its_corpus(corpus, capsys):
    with pytest.raises(UserError, match="input"):
        _run(["wordcount", "--corpus", str(corpus), "-o", str(corpus)])


def test_from_counts_refuses_a_pre_tokenizer_other_than_the_counts_one(corpus, tmp_path):
    counts = tmp_path / "counts.tsv"
    _run(["wordcount", "--corpus", str(corpus), "--pretokenizer", "gpt2", "-o", str(counts)])
    with pytest.raises(UserError, match="gpt4 differs from the word counts' pattern gpt2"):
        train_from_counts(
            TrainSettings(pattern="gpt4"), tmp_path / "tok", counts, explicit={"pattern"}
        )
    result = train_from_counts(TrainSettings(vocab_size=400), tmp_path / "tok", counts)
    config = json.loads((result.output / "tokenizer.json").read_text(encoding="utf-8"))
    assert config["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] == GPT2


def test_a_file_that_is_not_a_wordcount_file_is_refused(corpus, tmp_path):
    with pytest.raises(UserError, match="not a toksmith wordcount file"):
        train_from_counts(TrainSettings(), tmp_path / "tok", corpus)


@pytest.mark.parametrize("value", ["local:0", "tcp://host", "spark://x:1"])
def test_a_bad_cluster_option_is_a_one_line_usage_error(value, capsys):
    parser = OneLineErrorParser(prog="toksmith compare")
    add_cluster_option(parser)
    with pytest.raises(SystemExit) as exit:
        parser.parse_args(["--cluster", value])
    assert exit.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("toksmith: error: argument --cluster") and error.count("\n") == 1


def test_cluster_option_defaults(capsys):
    parser = argparse.ArgumentParser()
    add_cluster_option(parser)
    args = parser.parse_args([])
    assert (args.cluster, args.cluster_timeout) == (None, 10.0)
    assert parser.parse_args(["--cluster", "tcp://10.1.2.3:8786"]).cluster == "tcp://10.1.2.3:8786"


def test_the_toksmith_commands_on_a_cluster_give_the_one_process_results(
    corpus, tmp_path, dask_address, capsys
):
    from toksmith.cli import main

    def json_of(*argv: str) -> dict:
        output = tmp_path / "out.json"
        assert main([*argv, "-t", "cl100k_base", "--format", "json", "-o", str(output)]) == 0
        return json.loads(output.read_text(encoding="utf-8"))

    one = json_of("compare", "--corpus", str(corpus))
    spread = json_of("compare", "--corpus", str(corpus), "--cluster", dask_address)
    assert spread["results"] == one["results"]
    one = json_of("count", "--file", str(corpus))
    spread = json_of("count", "--file", str(corpus), "--cluster", dask_address)
    assert spread["results"] == one["results"]


def test_train_from_counts_through_the_cli_gives_the_corpus_merges(corpus, tmp_path, capsys):
    from toksmith.cli import main

    counts = tmp_path / "counts.tsv"
    assert (
        main(["wordcount", "--corpus", str(corpus), "--pretokenizer", "gpt4", "-o", str(counts)])
        == 0
    )
    assert (
        main(
            [
                "train",
                "--from-counts",
                str(counts),
                "--vocab-size",
                "600",
                "-o",
                str(tmp_path / "a"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                "--corpus",
                str(corpus),
                "--pattern",
                "gpt4",
                "--vocab-size",
                "600",
                "-o",
                str(tmp_path / "b"),
            ]
        )
        == 0
    )
    merges = [
        json.loads((tmp_path / name / "tokenizer.json").read_text())["model"]["merges"]
        for name in "ab"
    ]
    assert merges[0] == merges[1] and len(merges[0]) > 300
    status = main(
        ["train", "--from-counts", str(counts), "--corpus", str(corpus), "-o", str(tmp_path / "c")]
    )
    assert status == 2 and "only one" in capsys.readouterr().err
