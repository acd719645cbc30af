"""What a token is, seen from outside the tokenizer: its label, its text, its UTF-8 status.

Shared by every audit: the label of special tokens (``<|endoftext|>``), a printable form of
arbitrary bytes, whether a byte string is whole UTF-8, part of some valid UTF-8, or bytes that
can never occur in valid UTF-8 at all.
"""

from __future__ import annotations

from toksmith.tokenizers import Tokenizer

# UTF-8 validity as a small automaton (RFC 3629, Table 3-7 of the Unicode standard). Each
# state says which bytes may come next; "accept" is a character boundary.
_ACCEPT, _CONT1, _CONT2, _CONT3, _E0, _ED, _F0, _F4 = range(8)
_ALL_STATES = frozenset(range(8))


def _step(state: int, byte: int) -> int | None:
    """The state after ``byte``, or None when the byte cannot follow in valid UTF-8."""
    if state == _ACCEPT:
        if byte < 0x80:
            return _ACCEPT
        if 0xC2 <= byte <= 0xDF:
            return _CONT1
        if byte == 0xE0:
            return _E0
        if byte == 0xED:
            return _ED
        if 0xE1 <= byte <= 0xEF:
            return _CONT2
        if byte == 0xF0:
            return _F0
        if byte == 0xF4:
            return _F4
        if 0xF1 <= byte <= 0xF3:
            return _CONT3
        return None  # 0x80-0xC1 (stray continuation, overlong lead) and 0xF5-0xFF
    continuation = 0x80 <= byte <= 0xBF
    if state == _CONT1:
        return _ACCEPT if continuation else None
    if state == _CONT2:
        return _CONT1 if continuation else None
    if state == _CONT3:
        return _CONT2 if continuation else None
    if state == _E0:  # no overlong three-byte forms
        return _CONT1 if 0xA0 <= byte <= 0xBF else None
    if state == _ED:  # no surrogates
        return _CONT1 if 0x80 <= byte <= 0x9F else None
    if state == _F0:  # no overlong four-byte forms
        return _CONT2 if 0x90 <= byte <= 0xBF else None
    if state == _F4:  # nothing above U+10FFFF
        return _CONT2 if 0x80 <= byte <= 0x8F else None
    return None


def utf8_status(data: bytes) -> str:
    """``"complete"`` when ``data`` is whole UTF-8 characters, ``"partial"`` when it is a piece
    of some valid UTF-8 text (a cut character at either end), ``"invalid"`` when no valid UTF-8
    text contains these bytes (e.g. 0xC0, 0xFF, a surrogate, an overlong form), and ``"empty"``.

    The check runs the UTF-8 automaton from every state at once: a byte string occurs inside
    valid UTF-8 exactly when some starting state survives all its bytes, because every state
    of the automaton can be reached from the start and can be completed.
    """
    if not data:
        return "empty"
    try:
        data.decode("utf-8")
        return "complete"
    except UnicodeDecodeError:
        pass
    states: set[int] = set(_ALL_STATES)
    for byte in data:
        states = {after for state in states if (after := _step(state, byte)) is not None}
        if not states:
            return "invalid"
    return "partial"


def token_label(tokenizer: Tokenizer, token_id: int) -> str | None:
    """The tokenizer's own name for a token (``<|endoftext|>``, ``[unused3]``, ``▁the``), or
    None when the backend has none (an ordinary byte-level token, or an id no token holds)."""
    return tokenizer.token_label(token_id)


def token_labels(tokenizer: Tokenizer) -> list[str | None]:
    """:func:`token_label` of every id, computed in one pass."""
    label = tokenizer.token_label
    return [label(token_id) for token_id in range(tokenizer.vocab_size)]


def is_continuation(tokenizer: Tokenizer, token_id: int) -> bool:
    """True for WordPiece continuation pieces (``##ing``), which only occur inside a word."""
    prefix = tokenizer.continuation_prefix
    if not prefix:
        return False
    label = tokenizer.token_label(token_id) or ""
    return label.startswith(prefix)


def printable(data: bytes) -> str:
    """``data`` as readable text: UTF-8 where it decodes, ``\\xNN`` for other bytes, and
    escapes for control and invisible characters (spaces stay spaces)."""
    text = data.decode("utf-8", errors="backslashreplace")
    parts = []
    for char in text:
        if char == " " or char.isprintable():
            parts.append(char)
        elif char == "\n":
            parts.append("\\n")
        elif char == "\t":
            parts.append("\\t")
        elif char == "\r":
            parts.append("\\r")
        elif ord(char) < 0x100:
            parts.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            parts.append(f"\\u{ord(char):04x}")
        else:
            parts.append(f"\\U{ord(char):08x}")
    return "".join(parts)


def display(tokenizer: Tokenizer, token_id: int) -> str:
    """How a report shows a token: its bytes made printable (with ``##`` for WordPiece
    continuations), or its label for specials."""
    data = tokenizer.vocab_bytes[token_id]
    prefix = tokenizer.continuation_prefix
    if data and prefix and is_continuation(tokenizer, token_id):
        return prefix + printable(data)
    if data:
        return printable(data)
    label = token_label(tokenizer, token_id)
    return label if label is not None else f"<empty id {token_id}>"
