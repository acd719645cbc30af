"""The small public face: ``import toksmith`` does no work, and each exported name resolves."""

from __future__ import annotations

import subprocess
import sys

import toksmith


def test_importing_toksmith_loads_no_feature_module():
    code = (
        "import sys, toksmith; "
        "heavy = [m for m in sys.modules if m.startswith('toksmith.') or m in "
        "('numpy', 'tokenizers', 'tiktoken')]; print(heavy)"
    )
    printed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert printed == "[]"


def test_every_exported_name_resolves():
    for name in toksmith.__all__:
        assert getattr(toksmith, name) is not None, name
    assert toksmith.load_tokenizer("cl100k_base").encode("Hello world") == [9906, 1917]


def test_an_unknown_name_is_an_attribute_error():
    try:
        toksmith.no_such_thing  # noqa: B018
    except AttributeError as error:
        assert "no_such_thing" in str(error)
    else:
        raise AssertionError("expected an AttributeError")
