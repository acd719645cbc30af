"""The local training text: standard-library source and its docstrings, nothing imported."""

from __future__ import annotations

import inspect
import sys

from toksmith.models.texts import docstrings, pydoc_texts, split_held_out, stdlib_sources

SOURCE = '''"""Module summary that is long enough to be kept as prose."""


class Thing:
    """A class docstring, indented
        and cleaned the way inspect.getdoc cleans it."""

    def method(self):
        """Too short."""
'''


def test_docstrings_are_read_with_ast_and_cleaned_like_getdoc() -> None:
    assert docstrings(SOURCE) == [
        "Module summary that is long enough to be kept as prose.",
        "A class docstring, indented\nand cleaned the way inspect.getdoc cleans it.",
    ]
    assert docstrings(SOURCE)[1] == inspect.cleandoc(SOURCE.split('"""')[3])
    assert docstrings("def broken(:\n") == []


def test_stdlib_texts_leave_out_tests_and_import_nothing() -> None:
    before = set(sys.modules)
    sources = stdlib_sources(limit_bytes=300_000)
    prose = pydoc_texts(limit_bytes=100_000)
    assert not {"antigravity", "this", "turtle"} & (set(sys.modules) - before)
    assert sum(len(text.encode()) for _, text in sources) >= 300_000
    assert all("test" not in name.split("/")[:-1] for name, _ in sources)
    assert prose and all("\n\n" in text or len(text) > 40 for _, text in prose)
    train, held = split_held_out(sources)
    assert len(held) == len(sources) // 10 and not set(held) & set(train)
