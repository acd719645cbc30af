"""Writing results: one JSON rule, one writer (atomically to a file, or to stdout)."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any

from toksmith.files import write_atomic


def plain(value: Any) -> Any:
    """``value`` as plain JSON data: results by their ``to_dict()``, other dataclasses field by
    field, numpy scalars and arrays as Python numbers and lists, tuples and sets as lists, and
    every non-finite float (NaN, ±Infinity) as ``None``. This is the one NaN rule of toksmith."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return plain(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [plain(item) for item in items]
    if isinstance(value, Path):
        return str(value)
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist):
        return plain(tolist())
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def to_json(value: Any, indent: int | None = 2) -> str:
    """``value`` as JSON text that any JSON parser accepts (never NaN or Infinity)."""
    return json.dumps(plain(value), indent=indent, ensure_ascii=False, allow_nan=False)


def emit(text: str, output: str | Path | None) -> None:
    """Print ``text`` to stdout, or write it atomically to ``output`` when given."""
    if output is None or str(output) == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    else:
        write_atomic(output, text if text.endswith("\n") else text + "\n")


__all__ = ["emit", "plain", "to_json", "write_atomic"]
