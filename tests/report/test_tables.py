"""The one Table: one missing-value glyph, CSV under field names, no rich markup in cells."""

from __future__ import annotations

import math

import pytest

from toksmith.cli import main
from toksmith.report.tables import MISSING, Table, format_value, render_tables, to_csv, to_terminal


@pytest.mark.parametrize("value", [None, math.nan, math.inf, -math.inf])
def test_missing_and_non_finite_values_show_as_the_one_glyph(value):
    assert format_value(value) == MISSING == "–"


def test_csv_leaves_missing_and_non_finite_cells_empty():
    table = Table("t", ["a", "b", "c"], [[1, math.nan, math.inf], [None, 0.5, "x"]])
    assert to_csv(table).splitlines() == ["a,b,c", "1,,", ",0.5,x"]


def test_csv_header_is_the_field_names_when_the_columns_have_titles():
    table = Table("t", ["bytes/tok"], [[4.2]], fields=["bytes_per_token"])
    assert to_csv(table).splitlines()[0] == "bytes_per_token"
    assert "bytes/tok" in render_tables([table], "md")


def test_compare_csv_header_is_field_names(capsys, udhr_dir):
    assert main(["compare", "-t", "o200k_base", "--corpus", str(udhr_dir), "--reference", "eng",
                 "--languages", "eng", "--format", "csv"]) == 0  # fmt: skip
    header = capsys.readouterr().out.splitlines()[0].split(",")
    assert "bytes_per_token" in header and "partial_char_token_ratio" in header
    assert not any("/" in name or " " in name for name in header)


def test_terminal_table_shows_markup_like_cells_as_themselves():
    table = Table("[b]title[/b]", ["[x] a column wide enough for the title"], [["[/b]"], ["[UNK]"]])
    text = to_terminal(table)
    assert "[/b]" in text and "[UNK]" in text and "[b]title[/b]" in text
