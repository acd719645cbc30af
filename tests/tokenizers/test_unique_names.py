"""Tokenizers from different paths with the same folder name get distinct names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toksmith.tokenizers import load_tokenizer, load_tokenizers
from toksmith.tokenizers.registry import BUILTIN_BY_NAME


@pytest.fixture
def two_tok_folders(tmp_path: Path, monkeypatch) -> tuple[str, str]:
    source = BUILTIN_BY_NAME["minilm"].path()
    for parent in ("a", "b"):
        folder = tmp_path / parent / "tok"
        folder.mkdir(parents=True)
        shutil.copy(source, folder / "tokenizer.json")
    monkeypatch.chdir(tmp_path)
    return "a/tok", "b/tok"


def test_same_folder_names_get_the_shortest_distinguishing_path(two_tok_folders) -> None:
    first, second = load_tokenizers(list(two_tok_folders))
    assert (first.name, second.name) == ("a/tok", "b/tok")
    assert first.source.endswith("a/tok/tokenizer.json")
    assert second.source.endswith("b/tok/tokenizer.json")


def test_renaming_does_not_touch_the_cached_tokenizer(two_tok_folders) -> None:
    load_tokenizers(list(two_tok_folders))
    assert load_tokenizer("a/tok").name == "tok"
    assert [t.name for t in load_tokenizers(["a/tok"])] == ["tok"]


def test_deeper_clashes_take_more_folders(tmp_path: Path, monkeypatch) -> None:
    source = BUILTIN_BY_NAME["minilm"].path()
    for parent in ("x/same", "y/same"):
        folder = tmp_path / parent / "tok"
        folder.mkdir(parents=True)
        shutil.copy(source, folder / "tokenizer.json")
    monkeypatch.chdir(tmp_path)
    names = [t.name for t in load_tokenizers(["x/same/tok", "y/same/tok"])]
    assert names == ["x/same/tok", "y/same/tok"]


def test_the_same_file_under_two_specs_gets_numbered_names(two_tok_folders) -> None:
    names = [t.name for t in load_tokenizers(["a/tok", "./a/tok"])]
    assert names[0] != names[1] and names[1].startswith(names[0])


def test_names_that_do_not_clash_are_kept(two_tok_folders) -> None:
    assert [t.name for t in load_tokenizers(["a/tok", "p50k_base", "ws:"])] == [
        "tok",
        "p50k_base",
        "whitespace",
    ]


def test_cli_results_name_both_folders(two_tok_folders, capsys) -> None:
    import json

    from toksmith.cli import main

    status = main(["count", "hello", "-t", "a/tok", "-t", "b/tok", "--format", "json"])
    assert status == 0
    text = capsys.readouterr().out
    assert '"a/tok"' in text and '"b/tok"' in text, json.loads(text)


def test_load_tokenizers_reports_each_spec_to_progress() -> None:
    calls: list[tuple[str, float]] = []
    load_tokenizers(["p50k_base", "ws:"], progress=lambda spec, done: calls.append((spec, done)))
    assert calls == [("p50k_base", 0.0), ("ws:", 0.5)]
