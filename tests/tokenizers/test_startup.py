"""Instant start: ``toksmith list`` reads only the registry's static index, and ``list`` and
``count`` import nothing they do not use (measured in fresh processes)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from toksmith.cli import main
from toksmith.tokenizers import registry

# What a vocabulary or an engine needs; `list` must import none of it.
HEAVY_FOR_LIST = ("numpy", "tiktoken", "tokenizers", "sentencepiece", "regex", "fastokens")
# Other commands' modules and libraries; `count` must import none of them.
NOT_FOR_COUNT = ("toksmith.train", "toksmith.bridge", "toksmith.web", "toksmith.audit",
                 "toksmith.adapt", "fastapi", "uvicorn", "jinja2", "matplotlib", "scipy",
                 "sentencepiece", "tokenizers")  # fmt: skip


def _modules_after(argv: list[str], tmp_path) -> list[str]:
    """The modules a fresh interpreter holds after running ``toksmith ARGV``."""
    script = (
        "import sys, json\n"
        "from toksmith.cli import main\n"
        f"status = main({argv!r})\n"
        "print(json.dumps([status, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "TOKSMITH_CACHE_DIR": str(tmp_path / "cache")},
    )
    status, modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0, done.stderr
    return modules


def _imported(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == r or m.startswith(r + ".") for r in roots)]


def test_list_imports_no_vocabulary_library(tmp_path):
    modules = _modules_after(["list", "--format", "json"], tmp_path)
    assert _imported(modules, HEAVY_FOR_LIST) == []


def test_count_imports_no_other_command_or_backend_it_does_not_use(tmp_path):
    modules = _modules_after(["count", "hello", "-t", "p50k_base", "--format", "json"], tmp_path)
    assert _imported(modules, NOT_FOR_COUNT) == []
    assert "tiktoken" in modules


def test_list_loads_no_tokenizer(monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError("toksmith list loaded a tokenizer")

    monkeypatch.setattr(registry, "load_builtin", refuse)
    monkeypatch.setattr(registry.BuiltinTokenizer, "path", refuse)
    assert main(["list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["tokenizers"]
    assert [row["name"] for row in rows] == registry.builtin_names()
    for row in rows:
        entry = registry.BUILTIN_BY_NAME[row["name"]]
        assert row["vocab_size"] == entry.vocab_size
        assert row["engine"] and row["checked"] == entry.checked


def test_list_engines_says_which_engine_and_why(capsys):
    assert main(["list", "--engines", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["tokenizers"]
    assert len(rows) == len(registry.BUILTINS)
    assert all(row["engine"] and row["why"] for row in rows)
    assert main(["list", "--engines"]) == 0
    assert "why" in capsys.readouterr().out


@pytest.mark.parametrize("alias", ["mistral-sp-v7m1", "gpt-oss", "qwen", "qwen3.5"])
def test_aliases_name_builtins(alias):
    assert registry.is_builtin(alias)
