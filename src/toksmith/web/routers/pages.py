"""The page itself and the server's health."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from toksmith import __version__
from toksmith.web.models import Health
from toksmith.web.state import State

STATIC = Path(__file__).resolve().parents[1] / "static"

router = APIRouter()


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/api/health", response_model=Health, tags=["meta"])
def health(state: State) -> Health:
    """Server version and which folders it was started with."""
    roots = state.roots
    return Health(
        status="ok",
        version=__version__,
        corpus=roots.corpus is not None,
        tokenizers=roots.tokenizers is not None,
        results=roots.results is not None,
    )
