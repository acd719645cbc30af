"""Results are plain data: one ``to_dict()`` for every result dataclass.

Feature modules return dataclasses (scikit-learn style: results are data, nothing prints unless
asked). :class:`Result` gives a dataclass ``to_dict()``: its fields by name, with nested results,
lists, tuples and dicts converted the same way. Numbers are left as they are (NaN included);
the one NaN rule for JSON is :func:`toksmith.report.output.to_json`'s.
"""

from __future__ import annotations

import dataclasses
from typing import Any


class Result:
    """Mixin for a result dataclass: ``to_dict()`` with the fields as plain data.

    A result whose JSON shape differs from its fields (a property that belongs in the JSON, a
    field published under another name) overrides ``to_dict``.
    """

    def to_dict(self) -> dict[str, Any]:
        """The dataclass fields by name, nested results by their own ``to_dict()``."""
        return {field.name: plain_data(getattr(self, field.name)) for field in _fields(self)}


def plain_data(value: Any) -> Any:
    """``value`` with results (anything with ``to_dict``), dataclasses, lists, tuples and dicts
    turned into dicts and lists; every other value unchanged."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, type):
        return to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain_data(getattr(value, field.name)) for field in _fields(value)}
    if isinstance(value, dict):
        return {key: plain_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(item) for item in value]
    return value


def _fields(value: Any) -> tuple[dataclasses.Field[Any], ...]:
    if not dataclasses.is_dataclass(value):
        raise TypeError(f"{type(value).__name__} is not a dataclass")
    return dataclasses.fields(value)
