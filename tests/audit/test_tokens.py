from __future__ import annotations

import pytest

from toksmith.audit.tokens import printable, utf8_status


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"", "empty"),
        (b"hello", "complete"),
        ("ü日".encode(), "complete"),
        (b"\xe4\xbd", "partial"),  # start of a three-byte character
        (b"\xbd\xa0", "partial"),  # end of one
        (b"\xa0a", "partial"),  # last byte of a character, then ASCII
        (b"\xc0", "invalid"),  # overlong lead byte
        (b"\xff", "invalid"),
        (b"\xed\xa0\x80", "invalid"),  # a UTF-16 surrogate
        (b"\xe0\x80", "invalid"),  # overlong three-byte form
        (b"\xf4\x90", "invalid"),  # above U+10FFFF
        (b"a\x80", "invalid"),  # a continuation byte after ASCII
    ],
)
def test_utf8_status_separates_whole_partial_and_impossible_bytes(data, status):
    assert utf8_status(data) == status


def test_printable_escapes_bytes_and_control_characters_but_keeps_spaces():
    assert printable(b" a\n\t\xff") == " a\\n\\t\\xff"
    assert printable("\u200b".encode()) == "\\u200b"
