"""The local web page: a FastAPI app serving static files and a JSON API under ``/api/``.

The API only calls feature functions (``toksmith.tokenizers``, ``toksmith.metrics``,
``toksmith.report.html``); it computes nothing itself. The routes live in
:mod:`toksmith.web.routers` (one router per area), their bodies in :mod:`toksmith.web.models`,
the checks every request passes in :mod:`toksmith.web.guards` and :mod:`toksmith.web.roots`.
Every request that names a tokenizer, corpus or result file is checked against the registry
and the folders the server was started with. Bad input is answered with a 4xx status and
``{"error": "<one line>"}`` (:mod:`toksmith.web.errors`); a wrong method is 405, a full job
queue 429.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from toksmith import __version__
from toksmith.web.errors import PlainJSONResponse, add_error_handlers
from toksmith.web.guards import LOOPBACK_HOSTS, MAX_BODY_BYTES, BodyLimit, HostGuard
from toksmith.web.roots import WebRoots
from toksmith.web.routers import ROUTERS
from toksmith.web.routers import messages as messages_router
from toksmith.web.routers.pages import STATIC
from toksmith.web.state import WebState

__all__ = ["LOOPBACK_HOSTS", "HostGuard", "create_app"]


def create_app(roots: WebRoots | None = None, *, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The ASGI app. ``allowed_hosts`` guards against DNS rebinding (default: loopback names);
    ``["*"]`` accepts any Host header."""
    state = WebState(roots or WebRoots())
    app = FastAPI(
        title="toksmith",
        version=__version__,
        description="Local web page of toksmith: tokenize, compare, view results.",
        docs_url=None,  # the bundled Swagger page loads its assets from a CDN; the page
        redoc_url=None,  # renders /openapi.json itself instead
        default_response_class=PlainJSONResponse,
    )
    app.state.web = state
    add_error_handlers(app)
    app.add_middleware(HostGuard, allowed_hosts=allowed_hosts or LOOPBACK_HOSTS)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(messages_router.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.router.on_shutdown.append(state.jobs.shutdown)
    return app
