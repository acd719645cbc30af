"""Shared fixtures: the ../shared corpora, and a guard that makes missing data loud in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def require_shared(relative: str) -> Path:
    """The path of ``../shared/<relative>``; fails in CI (CI=true) and skips elsewhere when
    it is missing, saying why."""
    path = SHARED / relative
    if not path.exists():
        message = f"shared test data {path} is missing (see ../shared/README.md)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def udhr_dir() -> Path:
    """The 499-language UDHR parallel corpus."""
    return require_shared("corpora/udhr")
