"""Errors a user can cause. The CLI turns them into one line and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class UserError(Exception):
    """Bad input from the user: the message names the value and what was expected."""


def read_text_lines(path: str | Path, what: str, errors: str = "strict") -> list[str]:
    """The lines of a small UTF-8 file the user named, or a UserError naming it as ``what``;
    ``errors="replace"`` replaces invalid UTF-8 with U+FFFD instead."""
    try:
        return Path(path).read_text(encoding="utf-8", errors=errors).splitlines()
    except FileNotFoundError:
        raise UserError(f"{what} file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{what} file {path}: cannot read it as UTF-8 text ({error})") from None


def read_json_object(path: str | Path, invalid: str = "cannot read it as JSON") -> dict[str, Any]:
    """The JSON object in a file the user named, or a UserError: ``"{path}: {invalid} (why)"``
    when it cannot be read or parsed, or names that it is not an object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: {invalid} ({error})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object")
    return data
