"""Text that is valid Unicode, or a clear error: one rule for command-line text and API strings.

Python hands invalid UTF-8 in a command-line argument over as lone surrogates
(``surrogateescape``: byte 0xFF becomes U+DCFF), and a Python caller can build such strings too.
No tokenizer library accepts them the same way (some raise, some replace silently), so every
text reaches a tokenizer only through :func:`clean_text`.
"""

from __future__ import annotations

import regex

from toksmith.errors import UserError

_SURROGATE = regex.compile(r"[\ud800-\udfff]")


def clean_text(text: str, errors: str = "strict", what: str = "text") -> str:
    """``text`` unchanged when it is valid Unicode (no lone surrogates).

    Otherwise, with ``errors="strict"`` a UserError naming ``what`` and the character offset;
    with ``errors="replace"`` every lone surrogate becomes U+FFFD, as invalid UTF-8 read from a
    file does under ``--errors replace``.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError as error:
        if errors == "replace":
            return _SURROGATE.sub("\ufffd", text)
        bad = text[error.start]
        hint = (
            "invalid UTF-8 byte 0x%02X" % (ord(bad) - 0xDC00)
            if 0xDC80 <= ord(bad) <= 0xDCFF
            else f"lone surrogate U+{ord(bad):04X}"
        )
        raise UserError(
            f"{what} is not valid Unicode: {hint} at character {error.start} "
            "(use --errors replace to replace it with U+FFFD)"
        ) from None


def count_replaced(text: str) -> int:
    """How many lone surrogates :func:`clean_text` with ``errors="replace"`` would replace."""
    return 0 if text.isascii() else len(_SURROGATE.findall(text))
