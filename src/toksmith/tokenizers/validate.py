"""Checks run when a tokenizer is loaded, so a broken file fails with one line naming it.

Rank files must have unique ranks and every single byte (byte-level BPE cannot encode a text
otherwise: tiktoken panics on it). Regexes are compiled and run on short adversarial strings:
a pattern that backtracks catastrophically hits Oniguruma's retry limit (HF ``tokenizers``
then panics) or fancy-regex's backtrack limit (tiktoken then silently drops the text), and the
trial finds both at load instead of in the middle of a corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from toksmith.errors import UserError
from toksmith.tokenizers.failures import quiet_stderr

# Long runs of one character class and of alternating classes: where nested quantifiers
# backtrack. 5,000 characters make a catastrophic pattern exceed the engines' limits while a
# sound one takes microseconds.
TRIAL_TEXTS: tuple[tuple[str, str], ...] = (
    ("5000 letters", "a" * 5000),
    ("5000 letters and a mark", "a" * 5000 + "!"),
    ("5000 spaces and a letter", " " * 5000 + "a"),
    ("5000 digits and a letter", "1" * 5000 + "a"),
    ("2500 words", "ab " * 2500 + "!"),
    ("mixed text", "Aé1 ,\n\t-" * 600),
)


def validate_pattern(pattern: str, what: str) -> None:
    """Compile ``pattern`` with the HF ``tokenizers`` regex engine (Oniguruma) and run it on
    :data:`TRIAL_TEXTS`; a UserError naming ``what`` when it does not compile or fails."""
    from tokenizers import Regex, pre_tokenizers

    try:
        with quiet_stderr():
            split = pre_tokenizers.Split(Regex(pattern), "isolated")
    except BaseException as error:  # a Rust error or panic
        raise UserError(
            f"{what}: the regex {_short(pattern)} does not compile ({_first_line(error)})"
        ) from None
    for description, text in TRIAL_TEXTS:
        try:
            with quiet_stderr():
                split.pre_tokenize_str(text)
        except BaseException as error:  # Oniguruma's retry limit is a Rust panic
            if isinstance(error, KeyboardInterrupt):
                raise
            raise UserError(
                f"{what}: the regex {_short(pattern)} fails on {description} "
                f"({_first_line(error)}); it backtracks catastrophically"
            ) from None


def validate_round_trip(encode: Callable[[str], bytes], pattern: str, what: str) -> None:
    """Run a tiktoken encoding (``encode``: text to the bytes of its tokens) on
    :data:`TRIAL_TEXTS`; a UserError naming ``what`` when a text does not come back whole
    (fancy-regex gives up silently on a catastrophic pattern) or the backend fails."""
    for description, text in TRIAL_TEXTS:
        try:
            with quiet_stderr():
                data = encode(text)
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt):
                raise
            raise UserError(
                f"{what}: encoding {description} fails ({_first_line(error)})"
            ) from None
        if data != text.encode("utf-8"):
            raise UserError(
                f"{what}: the pre-tokenization regex {_short(pattern)} loses text on "
                f"{description}; it backtracks catastrophically"
            )


def validate_ranks(ranks: Iterable[tuple[bytes, int]], what: str) -> None:
    """A UserError naming ``what`` when two tokens share a rank or a single byte 0..255 has
    no token (listing order is kept, so the first duplicate is the first one in the file)."""
    seen: dict[int, bytes] = {}
    single: set[int] = set()
    for token, rank in ranks:
        if rank in seen:
            raise UserError(
                f"{what}: rank {rank} is given to two tokens ({seen[rank]!r} and {token!r}); "
                "ranks must be unique"
            )
        seen[rank] = token
        if len(token) == 1:
            single.add(token[0])
    missing = [byte for byte in range(256) if byte not in single]
    if missing:
        raise UserError(
            f"{what}: no token for byte 0x{missing[0]:02x} ({len(missing)} of the 256 single "
            "bytes missing); a byte-level rank file needs every byte"
        )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _short(pattern: str, limit: int = 60) -> str:
    return repr(pattern if len(pattern) <= limit else pattern[: limit - 1] + "…")
