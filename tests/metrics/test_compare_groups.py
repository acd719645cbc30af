"""compare in tokenizer groups under a memory budget: the same result as one pass."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from toksmith.metrics import compare
from toksmith.metrics.compare import compare_corpus, memory_groups
from toksmith.tokenizers import load_tokenizer

NAMES = ("o200k_base", "minilm", "mistral-sp-v1", "ws:")


@pytest.fixture
def grouping_any_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """Group passes on corpora of any size (the default needs 1 MB, where engines start)."""
    monkeypatch.setattr(compare, "GROUP_MIN_BYTES", 0)


def _tokenizers() -> list:
    return [load_tokenizer(name) for name in NAMES]


def test_memory_groups_keep_order_and_fit_the_budget() -> None:
    tokenizers = _tokenizers()
    sizes = [compare.estimated_mib(t) for t in tokenizers]
    assert memory_groups(tokenizers, 1.0) == [[0], [1], [2], [3]]  # each alone, over budget
    assert memory_groups(tokenizers, 1e9) == [[0, 1, 2, 3]]
    groups = memory_groups(tokenizers, sizes[0] + 1)
    assert [p for g in groups for p in g] == [0, 1, 2, 3]
    assert all(sum(sizes[p] for p in g) <= sizes[0] + 1 or len(g) == 1 for g in groups)
    assert groups[0] == [0]  # o200k_base (with its engine) leaves no room for minilm


def test_groups_give_every_field_of_one_pass_on_a_parallel_corpus(
    grouping_any_corpus: None, udhr_dir: Path
) -> None:
    languages = ["eng", "deu_1996", "tur", "cmn_hans", "arb"]
    one_pass = compare_corpus(
        _tokenizers(), udhr_dir, reference="eng", languages=languages, memory_mib=1e9
    )
    tokenizers = _tokenizers()
    grouped = compare_corpus(
        tokenizers, udhr_dir, reference="eng", languages=languages, memory_mib=1.0
    )
    assert grouped.to_dict() == one_pass.to_dict()
    # o200k_base was released after its pass (the first of four) and finishing the rows did
    # not load it again: what finishing reads was kept.
    family = tokenizers[0].__dict__["_family"]
    assert family.released
    assert "encoding" not in tokenizers[0].__dict__


def test_groups_give_every_field_of_one_pass_on_a_single_corpus(
    grouping_any_corpus: None, tmp_path: Path, udhr_dir: Path
) -> None:
    lines = []
    for name in ("eng", "fra", "rus", "jpn", "hin"):
        lines += [row.partition("\t")[2] for row in (udhr_dir / f"{name}.tsv").read_text(
            encoding="utf-8").splitlines()]  # fmt: skip
    random.Random(3).shuffle(lines)
    corpus = tmp_path / "mixed.txt"
    corpus.write_text("\n".join(lines), encoding="utf-8")
    one_pass = compare_corpus(_tokenizers(), corpus, memory_mib=1e9)
    grouped = compare_corpus(_tokenizers(), corpus, memory_mib=1.0)
    assert grouped.to_dict() == one_pass.to_dict()
    assert one_pass.results[0].tokens > 0


def test_stdin_is_read_once_in_one_pass(
    grouping_any_corpus: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("stdin cannot be read twice")

    monkeypatch.setattr(compare, "_measure_in_groups", refuse)
    stdin = io.TextIOWrapper(io.BytesIO(b"Hello world\nBonjour le monde\n"))
    monkeypatch.setattr("sys.stdin", stdin)
    result = compare_corpus(_tokenizers(), "-", memory_mib=1.0)
    assert [row.tokens for row in result.results][-1] == 5  # ws: five words


def test_a_small_corpus_is_measured_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("no engine starts on a small corpus: nothing to gain")

    monkeypatch.setattr(compare, "_measure_in_groups", refuse)
    corpus = tmp_path / "small.txt"
    corpus.write_text("Hello world\n" * 100, encoding="utf-8")
    result = compare_corpus(_tokenizers(), corpus, memory_mib=1.0)
    assert result.results[0].tokens == 200


def test_the_memory_option_sets_the_budget_and_zero_means_one_pass(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from toksmith.cli import compare as compare_command
    from toksmith.cli import main

    budgets: list[float | None] = []
    real = compare_command.compare_corpus

    def recording(*args: object, **options: object) -> object:
        budgets.append(options.get("memory_mib"))  # type: ignore[arg-type]
        return real(*args, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(compare_command, "compare_corpus", recording)
    corpus = tmp_path / "c.txt"
    corpus.write_text("Hello world\n", encoding="utf-8")
    for option, expected in ((["--memory", "0"], float("inf")), (["--memory", "250"], 250.0),
                             ([], None)):  # fmt: skip
        assert main(["compare", "-t", "ws:", "--corpus", str(corpus), *option]) == 0
        assert budgets.pop() == expected
    capsys.readouterr()
    assert main(["compare", "-t", "ws:", "--corpus", str(corpus), "--memory", "-5"]) == 2
    assert "--memory" in capsys.readouterr().err
