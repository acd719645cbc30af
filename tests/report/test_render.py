"""render_result: JSON from the result's to_dict under the one NaN rule, text from its tables."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from toksmith.report.render import render_result
from toksmith.report.tables import Table
from toksmith.results import Result


@dataclass
class _Row(Result):
    name: str
    share: float


@dataclass
class _Report(Result):
    rows: list[_Row]


def test_render_result_json_writes_nan_and_infinity_as_null():
    report = _Report([_Row("a", math.nan), _Row("b", math.inf)])
    document = json.loads(render_result(report, "json", lambda: []))
    assert document == {"rows": [{"name": "a", "share": None}, {"name": "b", "share": None}]}


def test_render_result_builds_tables_only_for_text_formats():
    built = []

    def tables() -> list[Table]:
        built.append(True)
        return [Table("t", ["name"], [["a"]])]

    render_result(_Report([]), "json", tables)
    assert built == []
    assert "| a |" in render_result(_Report([]), "md", tables)


def test_result_to_dict_converts_nested_results():
    assert _Report([_Row("a", 0.5)]).to_dict() == {"rows": [{"name": "a", "share": 0.5}]}
