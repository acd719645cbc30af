"""Backend failures as one-line errors: Rust panics, lone surrogates, noisy trials.

tiktoken and HF ``tokenizers`` are Rust; a panic inside them reaches Python as
``pyo3_runtime.PanicException``, a BaseException that ``except Exception`` misses. Every backend
wraps its calls in ``try``/``except BaseException`` and hands the failure to
:func:`backend_failure`, which costs nothing until a call has failed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from toksmith.errors import UserError
from toksmith.text import clean_text


def is_backend_panic(error: BaseException) -> bool:
    """True for a Rust panic raised through pyo3 (``pyo3_runtime.PanicException``).

    It derives from BaseException, not Exception, so ``except Exception`` does not catch it.
    """
    return type(error).__name__ == "PanicException"


def backend_failure(
    name: str, action: str, error: BaseException, texts: Sequence[str] = ()
) -> BaseException:
    """The error to raise when a backend call for tokenizer ``name`` failed with ``error``.

    A Rust panic becomes a UserError naming the tokenizer; a failure caused by a lone
    surrogate in one of ``texts`` becomes the :func:`toksmith.text.clean_text` UserError.
    Anything else (KeyboardInterrupt, a bug) is returned unchanged. Only called once a call
    has failed, so the successful path costs nothing.
    """
    if isinstance(error, UserError):
        return error
    if is_backend_panic(error):
        message = str(error).strip().splitlines()[0] if str(error).strip() else "no message"
        return UserError(f"tokenizer {name!r}: the backend failed to {action} ({message})")
    if isinstance(error, Exception):
        for text in texts:
            try:
                clean_text(text, what=f"text for tokenizer {name!r}")
            except UserError as surrogate:
                return surrogate
    return error


@contextmanager
def backend_errors(name: str, action: str = "load") -> Iterator[None]:
    """Turn a backend panic (or surrogate failure) inside the block into a UserError naming
    tokenizer ``name``; used around one-off calls such as loading."""
    try:
        yield
    except BaseException as error:
        converted = backend_failure(name, action, error)
        if converted is error:
            raise
        raise converted from None


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 for the block: Rust prints a panic (and with RUST_BACKTRACE a
    backtrace) straight to it, which a validation trial that expects to fail must not show."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded); nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
