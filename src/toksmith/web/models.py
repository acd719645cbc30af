"""Request and response bodies of the JSON API (they document it in ``/openapi.json``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from toksmith.web.guards import MAX_COMPARE_TOKENIZERS, MAX_PLAYGROUND_TOKENIZERS

LOCAL_PREFIX = "local:"
WORDFREQ = "wordfreq"
CORPUS_PREFIX = "corpus:"


class TokenizeRequest(BaseModel):
    text: str = Field(description="Text to tokenize, at most 1 MB of UTF-8")
    tokenizers: list[str] = Field(
        min_length=1,
        max_length=MAX_PLAYGROUND_TOKENIZERS,
        description="Built-in names (GET /api/tokenizers), 'ws:' (the whitespace baseline) or "
        f"'{LOCAL_PREFIX}<path under --tokenizers>'",
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
    engine: str = Field(
        default="vendor", description="what encodes: 'vendor' or a fast engine ('fastokens')"
    )
    engine_note: str = Field(default="", description="why that engine")


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
    error: str | None = Field(description="The one-line reason of a failed job")
    elapsed_s: float
    result: dict[str, Any] | None = None


class Health(BaseModel):
    status: str
    version: str
    corpus: bool
    tokenizers: bool
    results: bool


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
    status: {"model": ErrorBody} for status in (400, 403, 404, 405, 409, 413, 422, 429)
}
