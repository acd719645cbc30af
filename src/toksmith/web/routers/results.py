"""A read-only view of the JSON files under --results."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter

from toksmith.report.output import plain
from toksmith.web.errors import ApiError
from toksmith.web.guards import MAX_RESULT_FILE_BYTES
from toksmith.web.models import ERRORS, ResultContent, ResultFile
from toksmith.web.roots import list_result_files, resolve_under
from toksmith.web.state import State

router = APIRouter(tags=["results"])


@router.get("/api/results", response_model=list[ResultFile])
def results(state: State) -> list[ResultFile]:
    """JSON files under the --results folder (written by other toksmith commands)."""
    folder = state.roots.results
    if folder is None:
        return []
    files = []
    for relative in list_result_files(folder):
        stat = (folder / relative).stat()
        files.append(ResultFile(path=relative, size_bytes=stat.st_size, modified_s=stat.st_mtime))
    return files


@router.get("/api/results/{path:path}", response_model=ResultContent, responses=ERRORS)
def result(path: str, state: State) -> dict[str, Any]:
    """The parsed content of one JSON file under the --results folder (``NaN`` and
    ``Infinity`` in it are answered as ``null``)."""
    file = resolve_under(state.roots.results, path, what="result file")
    if not file.is_file() or file.suffix != ".json":
        raise ApiError(f"result file {path!r}: expected a .json file", 404)
    size = file.stat().st_size
    if size > MAX_RESULT_FILE_BYTES:
        raise ApiError(f"result file {path!r} is {size} bytes; the page shows up to 50 MB", 413)
    try:
        data = plain(json.loads(file.read_text(encoding="utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(f"result file {path!r} is not valid JSON ({error})", 422) from None
    except RecursionError:
        raise ApiError(f"result file {path!r} is nested too deeply to show", 422) from None
    return {"path": path, "data": data}
