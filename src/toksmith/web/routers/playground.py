"""The playground: the tokens of a text for several tokenizers."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from toksmith.report.output import plain
from toksmith.tokenizers import unique_names
from toksmith.web.errors import backend_failure
from toksmith.web.guards import checked_text
from toksmith.web.models import ERRORS, TokenizeRequest, TokenizeResponse
from toksmith.web.sources import load_requested, tokenizer_spec
from toksmith.web.state import State
from toksmith.web.tokens import token_view

router = APIRouter(tags=["tokenizers"])


@router.post("/api/tokenize", response_model=TokenizeResponse, responses=ERRORS)
def tokenize(request: TokenizeRequest, state: State) -> Response:
    """The tokens of the text for each tokenizer, with counts, for the playground."""
    text = checked_text(request.text)
    names = list(dict.fromkeys(request.tokenizers))
    loaded = [load_requested(name, tokenizer_spec(name, state.roots)) for name in names]
    results = []
    for requested, tokenizer in zip(names, unique_names(loaded), strict=True):
        with backend_failure(f"tokenizer {requested!r} on this text"):
            view = token_view(tokenizer, text, state.pieces)
        results.append(_result(view.to_dict(), requested))
    body = {"bytes": len(text.encode("utf-8")), "chars": len(text), "results": results}
    # Serialized directly: tens of thousands of small pieces are too slow for validation. The
    # per-token lists hold only ints and strings; everything else went through plain().
    data = json.dumps(body, ensure_ascii=False, allow_nan=False)
    return Response(data, media_type="application/json")


def _result(view: dict[str, Any], requested: str) -> dict[str, Any]:
    """One tokenizer's answer: the counts through the one JSON rule, ids and pieces as they
    are (ints and strings only)."""
    ids, pieces = view.pop("ids"), view.pop("pieces")
    result: dict[str, Any] = plain(view)
    result["requested"] = requested
    result["ids"] = ids
    result["pieces"] = pieces
    return result
