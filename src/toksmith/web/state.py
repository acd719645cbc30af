"""What the app keeps between requests, and the dependency that hands it to a route."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from toksmith.web.jobs import JobManager
from toksmith.web.roots import WebRoots
from toksmith.web.tokens import PieceCache


@dataclass
class WebState:
    """The folders the server was started with, its jobs and its piece cache."""

    roots: WebRoots
    jobs: JobManager = field(default_factory=JobManager)
    pieces: PieceCache = field(default_factory=PieceCache)


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


State = Annotated[WebState, Depends(web_state)]
