"""The local web page: a FastAPI app serving static files and a JSON API under ``/api/``.

The API only calls feature functions (``toksmith.tokenizers``, ``toksmith.metrics``,
``toksmith.report.html``); it computes nothing itself. Every request that names a tokenizer,
corpus or result file is checked against the registry and the folders the server was started
with (:mod:`toksmith.web.roots`). Bad input is answered with a 4xx status and
``{"error": "<one line>"}``.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from toksmith import __version__
from toksmith.errors import UserError
from toksmith.tokenizers import BUILTINS, Tokenizer, load_tokenizer
from toksmith.tokenizers.registry import ALIASES, builtin_names, is_builtin
from toksmith.web.jobs import JobManager, Progress
from toksmith.web.roots import (
    PathRefused,
    WebRoots,
    list_corpus_entries,
    list_result_files,
    list_tokenizer_files,
    resolve_under,
)
from toksmith.web.tokens import PieceCache, token_view

STATIC = Path(__file__).parent / "static"
MAX_TEXT_BYTES = 1_000_000
# JSON escapes can make a body several times longer than its text (\\uXXXX is 6 bytes for 2).
MAX_BODY_BYTES = 6 * MAX_TEXT_BYTES + 64_000
MAX_RESULT_FILE_BYTES = 50_000_000
MAX_PLAYGROUND_TOKENIZERS = 8
MAX_COMPARE_TOKENIZERS = 16
LOCAL_PREFIX = "local:"
WORDFREQ = "wordfreq"
CORPUS_PREFIX = "corpus:"
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1"]


class ApiError(UserError):
    """A UserError with the HTTP status it should be answered with."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


# ---- request and response models (they document the API in /openapi.json) ----


class TokenizeRequest(BaseModel):
    text: str = Field(description="Text to tokenize, at most 1 MB of UTF-8")
    tokenizers: list[str] = Field(
        min_length=1,
        max_length=MAX_PLAYGROUND_TOKENIZERS,
        description="Built-in names (GET /api/tokenizers) or 'local:<path under --tokenizers>'",
    )


class TokenizerResult(BaseModel):
    name: str
    requested: str
    backend: str
    vocab_size: int
    byte_exact: bool
    pipeline: str
    tokens: int
    bytes: int
    chars: int
    partial_tokens: int
    bytes_per_token: float | None
    chars_per_token: float | None
    ids: list[int]
    pieces: list[str | list[str | int] | dict[str, str]] = Field(
        description="Per token: its text; or text runs and stray byte values for a token that "
        "is not whole UTF-8; or {'special': label} for a token without text bytes"
    )


class TokenizeResponse(BaseModel):
    bytes: int
    chars: int
    results: list[TokenizerResult]


class TokenizerEntry(BaseModel):
    name: str
    kind: Literal["builtin", "local"]
    backend: str
    description: str


class CorpusEntry(BaseModel):
    id: str = Field(description="Pass this as 'corpus' to POST /api/compare")
    kind: Literal["wordfreq", "parallel", "text"]
    label: str
    languages: list[str]
    default_reference: str | None


class CompareRequest(BaseModel):
    tokenizers: list[str] = Field(min_length=1, max_length=MAX_COMPARE_TOKENIZERS)
    corpus: str = Field(default=WORDFREQ, description="An id from GET /api/corpora")
    languages: list[str] | None = Field(
        default=None, max_length=1000, description="Subset of the corpus languages"
    )
    reference: str | None = Field(
        default=None, max_length=200, description="Reference language for the premium"
    )


class JobSummary(BaseModel):
    id: str
    kind: str
    params: dict[str, Any]
    state: Literal["queued", "running", "done", "failed"]
    progress: float = Field(description="0..1, or -1 while the total is unknown")
    message: str
    error: str | None
    elapsed_s: float
    result: dict[str, Any] | None = None


class ResultFile(BaseModel):
    path: str
    size_bytes: int
    modified_s: float


class ResultContent(BaseModel):
    path: str
    data: Any


class ErrorBody(BaseModel):
    error: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (403, 404, 409, 413, 422, 429)
}


# ---- the app ----


@dataclass
class WebState:
    roots: WebRoots
    jobs: JobManager = field(default_factory=JobManager)
    pieces: PieceCache = field(default_factory=PieceCache)


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
    )
    app.state.web = state
    _add_error_handlers(app)
    app.add_middleware(HostGuard, allowed_hosts=allowed_hosts or LOOPBACK_HOSTS)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    _add_routes(app, state)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.router.on_shutdown.append(state.jobs.shutdown)
    return app


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
        response = JSONResponse({"error": f"Host header {header!r} is not allowed"}, 400)
        await response(scope, receive, send)


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
            await _too_large(self.max_bytes)(scope, receive, send)
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
                await _too_large(self.max_bytes)(scope, receive, send)
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


def _too_large(max_bytes: int) -> JSONResponse:
    return JSONResponse(
        {"error": f"request body larger than {max_bytes} bytes (text is limited to 1 MB)"},
        status_code=413,
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=error.status)

    @app.exception_handler(PathRefused)
    async def path_refused(_: Request, error: PathRefused) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=error.status)

    @app.exception_handler(UserError)
    async def user_error(_: Request, error: UserError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
            problems.append(f"{where or 'body'}: {item.get('msg', 'invalid')}")
        return JSONResponse({"error": "invalid request: " + "; ".join(problems)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        message = error.detail if isinstance(error.detail, str) else "request refused"
        if error.status_code == 404 and message == "Not Found":
            message = "no such page or API endpoint"
        return JSONResponse({"error": message}, status_code=error.status_code)


def _add_routes(app: FastAPI, state: WebState) -> None:
    roots = state.roots

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/api/health", tags=["meta"])
    def health() -> dict[str, Any]:
        """Server version and which folders it was started with."""
        return {
            "status": "ok",
            "version": __version__,
            "corpus": roots.corpus is not None,
            "tokenizers": roots.tokenizers is not None,
            "results": roots.results is not None,
        }

    @app.get("/api/tokenizers", response_model=list[TokenizerEntry], tags=["tokenizers"])
    def tokenizers() -> list[dict[str, Any]]:
        """Built-in tokenizers, then tokenizer files under the --tokenizers folder."""
        entries = [
            {"name": b.name, "kind": "builtin", "backend": b.backend, "description": b.description}
            for b in BUILTINS
        ]
        for relative in list_tokenizer_files(roots.tokenizers):
            entries.append(
                {
                    "name": LOCAL_PREFIX + relative,
                    "kind": "local",
                    "backend": "detected when loaded",
                    "description": f"{relative} under --tokenizers",
                }
            )
        return entries

    @app.post(
        "/api/tokenize", response_model=TokenizeResponse, responses=ERRORS, tags=["tokenizers"]
    )
    def tokenize(request: TokenizeRequest) -> Response:
        """The tokens of the text for each tokenizer, with counts, for the playground."""
        n_bytes = len(request.text.encode("utf-8", "surrogatepass"))
        if n_bytes > MAX_TEXT_BYTES:
            raise ApiError(f"text is {n_bytes} bytes; the limit is {MAX_TEXT_BYTES} (1 MB)", 413)
        text = _valid_text(request.text)
        loaded = [(name, _load(name, roots)) for name in _unique(request.tokenizers)]
        results = []
        for requested, tokenizer in loaded:
            view = token_view(tokenizer, text, state.pieces).to_dict()
            view["requested"] = requested
            results.append(view)
        body = {"bytes": len(text.encode("utf-8")), "chars": len(text), "results": results}
        # Serialized directly: tens of thousands of small pieces are too slow for validation.
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")

    @app.get("/api/corpora", response_model=list[CorpusEntry], tags=["compare"])
    def corpora() -> list[dict[str, Any]]:
        """The built-in wordfreq lists, then the corpora under the --corpus folder."""
        from toksmith.metrics import wordfreq_languages

        entries: list[dict[str, Any]] = [
            {
                "id": WORDFREQ,
                "kind": "wordfreq",
                "label": "wordfreq word lists (built-in default)",
                "languages": wordfreq_languages(),
                "default_reference": None,
            }
        ]
        for relative in list_corpus_entries(roots.corpus):
            entries.append(_corpus_entry(roots, relative))
        return entries

    @app.post(
        "/api/compare",
        status_code=202,
        response_model=JobSummary,
        responses=ERRORS,
        tags=["compare"],
    )
    def compare(request: CompareRequest) -> dict[str, Any]:
        """Start a compare run in the background; poll GET /api/jobs/{id} for its progress."""
        names = _unique(request.tokenizers)
        specs = [_spec(name, roots) for name in names]
        work, params = _compare_work(request, names, specs, roots)
        return state.jobs.submit("compare", params, work).summary()

    @app.get("/api/jobs", response_model=list[JobSummary], tags=["compare"])
    def jobs() -> list[dict[str, Any]]:
        """Recent jobs, newest first, without their results."""
        return [job.summary(with_result=False) for job in state.jobs.all()]

    @app.get("/api/jobs/{job_id}", response_model=JobSummary, responses=ERRORS, tags=["compare"])
    def job(job_id: str) -> dict[str, Any]:
        """A job's state and progress, and its result (the compare JSON) when done."""
        return _job(state, job_id).summary()

    @app.get(
        "/api/jobs/{job_id}/report.html",
        response_class=HTMLResponse,
        responses=ERRORS,
        tags=["compare"],
    )
    def job_report(job_id: str) -> HTMLResponse:
        """The self-contained HTML report of a finished compare job."""
        from toksmith.report.html import render_compare_html

        found = _job(state, job_id)
        if found.state != "done" or found.result is None:
            raise ApiError(f"job {job_id} is {found.state}; the report needs a finished job", 409)
        return HTMLResponse(
            render_compare_html(found.result),
            headers={"Content-Disposition": f'inline; filename="toksmith-compare-{job_id}.html"'},
        )

    @app.get("/api/results", response_model=list[ResultFile], tags=["results"])
    def results() -> list[dict[str, Any]]:
        """JSON files under the --results folder (written by other toksmith commands)."""
        folder = roots.results
        if folder is None:
            return []
        files = []
        for relative in list_result_files(folder):
            stat = (folder / relative).stat()
            files.append(
                {"path": relative, "size_bytes": stat.st_size, "modified_s": stat.st_mtime}
            )
        return files

    @app.get(
        "/api/results/{path:path}",
        response_model=ResultContent,
        responses=ERRORS,
        tags=["results"],
    )
    def result(path: str) -> dict[str, Any]:
        """The parsed content of one JSON file under the --results folder."""
        file = resolve_under(roots.results, path, what="result file")
        if not file.is_file() or file.suffix != ".json":
            raise ApiError(f"result file {path!r}: expected a .json file", 404)
        size = file.stat().st_size
        if size > MAX_RESULT_FILE_BYTES:
            raise ApiError(f"result file {path!r} is {size} bytes; the page shows up to 50 MB", 413)
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ApiError(f"result file {path!r} is not valid JSON ({error})", 422) from None
        return {"path": path, "data": data}

    @app.get("/api/{rest:path}", include_in_schema=False)
    def unknown_api(rest: str) -> None:
        raise ApiError(f"no API endpoint /api/{rest} (see /openapi.json)", 404)


# ---- helpers ----


def _unique(names: list[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen


def _valid_text(text: str) -> str:
    """Lone surrogates (possible in JSON ``\\ud800``) cannot be encoded: say so instead of 500."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ApiError(
            f"text holds an unpaired surrogate at character {error.start}; expected valid Unicode",
            422,
        ) from None
    return text


def _spec(name: str, roots: WebRoots) -> str:
    """The load spec for a requested tokenizer name: a built-in, or a file under --tokenizers."""
    if name.startswith(LOCAL_PREFIX):
        relative = name[len(LOCAL_PREFIX) :]
        return str(resolve_under(roots.tokenizers, relative, what="tokenizer"))
    if is_builtin(name):
        return name
    near = difflib.get_close_matches(name, builtin_names() + list(ALIASES), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise ApiError(
        f"unknown tokenizer {name!r}{hint} (expected a built-in name or "
        f"'{LOCAL_PREFIX}<path under --tokenizers>'; see GET /api/tokenizers)",
        422,
    )


def _load(name: str, roots: WebRoots) -> Tokenizer:
    spec = _spec(name, roots)
    try:
        return load_tokenizer(spec)
    except UserError:
        raise
    except Exception as error:  # noqa: BLE001 - a broken file is bad input, not a server bug
        raise ApiError(f"cannot load tokenizer {name!r}: {type(error).__name__}", 422) from None


def _corpus_entry(roots: WebRoots, relative: str) -> dict[str, Any]:
    from toksmith.corpus import is_parallel_folder, open_parallel

    path = resolve_under(roots.corpus, relative, what="corpus")
    label = "--corpus folder" if relative == "." else relative
    if is_parallel_folder(path):
        try:
            languages = open_parallel(path).languages
        except UserError:
            languages = []
        if languages:
            reference = "eng" if "eng" in languages else ("en" if "en" in languages else None)
            return {
                "id": CORPUS_PREFIX + relative,
                "kind": "parallel",
                "label": f"{label} (parallel, {len(languages)} languages)",
                "languages": languages,
                "default_reference": reference,
            }
    return {
        "id": CORPUS_PREFIX + relative,
        "kind": "text",
        "label": label,
        "languages": ["all"],
        "default_reference": None,
    }


def _compare_work(
    request: CompareRequest, names: list[str], specs: list[str], roots: WebRoots
) -> tuple[Any, dict[str, Any]]:
    """Check a compare request now (so mistakes are a 4xx, not a failed job) and return the
    work to run in the background with the parameters to show."""
    from toksmith.metrics import compare_corpus, compare_wordfreq, wordfreq_languages

    languages = _unique(request.languages) if request.languages else None
    params: dict[str, Any] = {
        "tokenizers": names,
        "corpus": request.corpus,
        "languages": languages,
        "reference": request.reference,
    }
    if request.corpus == WORDFREQ:
        if request.reference:
            raise ApiError("the wordfreq lists are not parallel: no reference language", 422)
        available = wordfreq_languages()
        unknown = [language for language in languages or [] if language not in available]
        if unknown:
            raise ApiError(f"wordfreq has no list for {', '.join(unknown[:10])}", 422)

        def wordfreq_work(progress: Progress) -> dict[str, Any]:
            loaded = [load_tokenizer(spec) for spec in specs]
            return compare_wordfreq(loaded, languages, progress=progress).to_dict()

        return wordfreq_work, params
    if not request.corpus.startswith(CORPUS_PREFIX):
        raise ApiError(
            f"unknown corpus {request.corpus!r}: expected {WORDFREQ!r} or an id from "
            "GET /api/corpora",
            422,
        )
    relative = request.corpus[len(CORPUS_PREFIX) :]
    entry = _corpus_entry(roots, relative)
    source = resolve_under(roots.corpus, relative, what="corpus")
    if entry["kind"] == "parallel":
        unknown = [x for x in [*(languages or []), request.reference] if x]
        unknown = [language for language in unknown if language not in entry["languages"]]
        if unknown:
            raise ApiError(f"languages not in corpus {relative!r}: {', '.join(unknown[:10])}", 422)
    elif request.reference or languages:
        raise ApiError(f"corpus {relative!r} is not a parallel folder: no languages", 422)

    def corpus_work(progress: Progress) -> dict[str, Any]:
        loaded = [load_tokenizer(spec) for spec in specs]
        result = compare_corpus(
            loaded, source, reference=request.reference, languages=languages, progress=progress
        )
        data = result.to_dict()
        data["corpus"] = request.corpus  # the id, not the server's absolute path
        return data

    return corpus_work, params


def _job(state: WebState, job_id: str) -> Any:
    found = state.jobs.get(job_id)
    if found is None:
        raise ApiError(f"no job {job_id!r} (jobs are kept in memory until the server stops)", 404)
    return found
