"""Local text to train and evaluate small language models on, with nothing downloaded: the
Python standard library's source files and its documentation (the docstrings ``pydoc`` shows).
"""

from __future__ import annotations

import ast
import sysconfig
import warnings
from collections.abc import Iterator
from pathlib import Path

SKIPPED_PARTS = frozenset({"test", "tests", "idlelib", "site-packages", "__pycache__", "lib2to3"})


def stdlib_folder() -> Path:
    """The folder of this Python's standard library."""
    return Path(sysconfig.get_paths()["stdlib"])


def iter_stdlib_sources() -> Iterator[tuple[str, str]]:
    """``(relative path, text)`` of the standard library's ``.py`` files in sorted path order
    (test suites, IDLE and installed packages left out), read one at a time."""
    root = stdlib_folder()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if SKIPPED_PARTS.intersection(relative.parts):
            continue
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if text.strip():
            yield str(relative), text


def stdlib_sources(limit_bytes: int | None = None) -> list[tuple[str, str]]:
    """:func:`iter_stdlib_sources` until ``limit_bytes`` of UTF-8 text (all when None)."""
    result: list[tuple[str, str]] = []
    total = 0
    for name, text in iter_stdlib_sources():
        result.append((name, text))
        total += len(text.encode("utf-8"))
        if limit_bytes is not None and total >= limit_bytes:
            break
    return result


def docstrings(source: str) -> list[str]:
    """The docstrings of a module's source, its classes and functions, cleaned as
    ``inspect.getdoc`` (and so ``pydoc``) shows them; read with ``ast``, nothing imported."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source)
    except SyntaxError:
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node, clean=True)
            if doc and len(doc) >= 40:
                found.append(doc)
    return found


def pydoc_texts(limit_bytes: int | None = None) -> list[tuple[str, str]]:
    """``(module path, prose)`` for each standard-library module: its docstrings joined by blank
    lines, in sorted path order, until ``limit_bytes`` of UTF-8 text."""
    result: list[tuple[str, str]] = []
    total = 0
    for name, source in iter_stdlib_sources():
        prose = "\n\n".join(docstrings(source))
        if not prose:
            continue
        result.append((name, prose))
        total += len(prose.encode("utf-8"))
        if limit_bytes is not None and total >= limit_bytes:
            break
    return result


def split_held_out(items: list[tuple[str, str]], every: int = 10) -> tuple[list[str], list[str]]:
    """Training and held-out texts: every ``every``-th item (by position) is held out, so the
    split is deterministic and spreads over the whole library."""
    train = [text for i, (_, text) in enumerate(items) if i % every != every - 1]
    held = [text for i, (_, text) in enumerate(items) if i % every == every - 1]
    return train, held
