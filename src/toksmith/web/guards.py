"""What every request must pass before any work is done: the Host check, the body size limit
and the text limits. (The path roots a request may reach are :mod:`toksmith.web.roots`.)"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from toksmith.errors import UserError
from toksmith.text import clean_text
from toksmith.web.errors import ApiError, ErrorResponse

MAX_TEXT_BYTES = 1_000_000
# JSON escapes can make a body several times longer than its text (\\uXXXX is 6 bytes for 2).
MAX_BODY_BYTES = 6 * MAX_TEXT_BYTES + 64_000
MAX_RESULT_FILE_BYTES = 50_000_000
MAX_PLAYGROUND_TOKENIZERS = 8
MAX_COMPARE_TOKENIZERS = 16
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1"]


def host_name(header: str) -> str:
    """The host of a Host header, without port or IPv6 brackets: "[::1]:8765" -> "::1"."""
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        return header[1:end] if end > 0 else header
    name, colon, port = header.rpartition(":")
    return name if colon and port.isdigit() and ":" not in name else header


class HostGuard:
    """Answer 400 to a Host header not in ``allowed_hosts`` (DNS rebinding protection).

    Starlette's TrustedHostMiddleware cuts the header at its first ':', which refuses every
    bracketed IPv6 host; this guard parses "[::1]:port" properly. ``"*"`` allows any host and
    ``"*.example.org"`` any subdomain.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]):
        self.app = app
        names = [host_name(host) for host in allowed_hosts]
        self.any_host = "*" in names
        self.names = {name for name in names if not name.startswith("*.")}
        self.suffixes = tuple(name[1:] for name in names if name.startswith("*."))

    def allows(self, header: str) -> bool:
        name = host_name(header)
        return (
            self.any_host
            or name in self.names
            or (bool(self.suffixes) and name.endswith(self.suffixes))
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        if self.allows(header):
            await self.app(scope, receive, send)
            return
        message = (
            f"Host header {header!r} is not allowed (start the server with --allow-host NAME "
            "to answer it)"
        )
        await ErrorResponse(message, 400)(scope, receive, send)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, before they are read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self.too_large()(scope, receive, send)
            return
        if declared is not None:  # the server holds the body to its declared length
            await self.app(scope, receive, send)
            return
        # No length given (chunked): read the body here, up to the limit, then replay it.
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > self.max_bytes:
                await self.too_large()(scope, receive, send)
                return
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    def too_large(self) -> ErrorResponse:
        return ErrorResponse(
            f"request body larger than {self.max_bytes} bytes (text is limited to 1 MB)", 413
        )


def checked_text(text: str) -> str:
    """``text`` when it fits the 1 MB limit (413 otherwise) and is valid Unicode (422 for a
    lone surrogate, which JSON can carry as ``"\\ud800"``)."""
    n_bytes = len(text.encode("utf-8", "surrogatepass"))
    if n_bytes > MAX_TEXT_BYTES:
        raise ApiError(f"text is {n_bytes} bytes; the limit is {MAX_TEXT_BYTES} (1 MB)", 413)
    try:
        return clean_text(text, what="text")
    except UserError as error:
        # clean_text's hint names a command-line option; the API has no such option.
        message = str(error).split(" (use --errors")[0]
        raise ApiError(f"{message}; expected text without unpaired surrogates", 422) from None
