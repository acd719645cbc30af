"""Counting words with Unicode word segmentation (UAX #29), not ``str.split``.

The ``regex`` module's WORD flag makes ``\\b`` follow the default Unicode word boundaries of
UAX #29, so "don't", "3.14" and "U.S.A" are single words and punctuation is not a word.
Scripts written without spaces are segmented by the same default rules, which use no
dictionary: every Han, Hiragana or Katakana character counts as a word, and Thai, Lao, Khmer
and Myanmar text breaks between orthographic clusters. Fertility in those languages is
therefore tokens per character (or cluster), not per dictionary word.
"""

from __future__ import annotations

import regex

# A word starts at a word boundary with a word character and ends at the next boundary.
WORD = regex.compile(r"(?wV1)\b\w.*?\b")


def find_words(text: str) -> list[str]:
    """The words of ``text`` in order."""
    return WORD.findall(text)
