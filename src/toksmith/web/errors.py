"""How the API answers when something goes wrong: always a 4xx/5xx with ``{"error": "<one
line>"}``, never a bare 500 page, a traceback or a dropped connection.

Tokenizer backends written in Rust raise ``pyo3_runtime.PanicException`` on some bad files (a
catastrophic-backtracking regex, a rank file with a missing byte). It derives from
``BaseException``, so ``except Exception`` misses it; :func:`backend_failure` is the one place
that decides which exceptions are a failure of the user's input rather than a signal to stop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from toksmith.errors import UserError
from toksmith.report.output import to_json

MAX_MESSAGE_CHARS = 500
# Exceptions that ask the process to stop: never turned into an error answer or a failed job.
STOP_SIGNALS: tuple[type[BaseException], ...] = (
    KeyboardInterrupt,
    SystemExit,
    GeneratorExit,
    asyncio.CancelledError,
)


class ApiError(UserError):
    """A UserError with the HTTP status it should be answered with."""

    def __init__(self, message: str, status: int, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


class PlainJSONResponse(JSONResponse):
    """JSON through toksmith's one JSON rule (:func:`toksmith.report.output.to_json`):
    non-finite numbers are ``null``, never ``NaN``."""

    def render(self, content: Any) -> bytes:
        return to_json(content, indent=None).encode("utf-8")


class ErrorResponse(PlainJSONResponse):
    """``{"error": message}`` with a status."""

    def __init__(self, message: str, status: int, headers: Mapping[str, str] | None = None):
        super().__init__({"error": one_line(message)}, status_code=status, headers=headers)


def one_line(message: str) -> str:
    """``message`` on one line and at most :data:`MAX_MESSAGE_CHARS` characters."""
    text = " ".join(message.split())
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1] + "…"
    return text


def describe_failure(error: BaseException) -> str:
    """One line for an unexpected exception: its type and the first line of its message."""
    lines = str(error).strip().splitlines()
    detail = f": {lines[0]}" if lines else ""
    return one_line(f"{type(error).__name__}{detail}")


def is_stop_signal(error: BaseException) -> bool:
    return isinstance(error, STOP_SIGNALS)


@contextmanager
def backend_failure(what: str, status: int = 422) -> Iterator[None]:
    """Turn any failure inside the block into an :class:`ApiError` naming ``what``: a
    UserError keeps its message, anything else (including a Rust panic) says it was the
    backend. Stop signals (Ctrl-C, cancellation) pass through."""
    try:
        yield
    except ApiError:
        raise
    except UserError as error:
        raise ApiError(str(error), status) from None
    except BaseException as error:
        if is_stop_signal(error):
            raise
        raise ApiError(f"{what} failed: {describe_failure(error)}", status) from None


def add_error_handlers(app: FastAPI) -> None:
    """Every error the app can raise becomes ``{"error": ...}`` with its status."""

    def hidden(request: Request, message: str) -> str:
        state = getattr(request.app.state, "web", None)
        return state.roots.hide(message) if state is not None else message

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> ErrorResponse:
        return ErrorResponse(hidden(request, str(error)), error.status, error.headers)

    @app.exception_handler(UserError)
    async def user_error(request: Request, error: UserError) -> ErrorResponse:
        status = int(getattr(error, "status", 422))
        return ErrorResponse(hidden(request, str(error)), status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> ErrorResponse:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
            problems.append(f"{where or 'body'}: {item.get('msg', 'invalid')}")
        return ErrorResponse("invalid request: " + "; ".join(problems), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> ErrorResponse:
        message = error.detail if isinstance(error.detail, str) else "request refused"
        if error.status_code == 404 and message == "Not Found":
            path = request.url.path
            message = (
                f"no API endpoint {path} (see /openapi.json)"
                if path.startswith("/api/")
                else "no such page or API endpoint"
            )
        elif error.status_code == 405:
            allowed = (error.headers or {}).get("Allow", "")
            message = f"method {request.method} is not allowed on {request.url.path}" + (
                f"; use {allowed}" if allowed else ""
            )
        return ErrorResponse(message, error.status_code, error.headers)

    @app.exception_handler(Exception)
    async def internal_error(_: Request, error: Exception) -> ErrorResponse:
        return ErrorResponse(f"internal error: {describe_failure(error)}", 500)
