"""Compare runs: corpora to choose from, jobs started in the background, and their reports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from toksmith.errors import UserError
from toksmith.progress import Progress
from toksmith.report.output import plain
from toksmith.tokenizers import Tokenizer, unique_names
from toksmith.web.errors import ApiError, describe_failure, is_stop_signal
from toksmith.web.jobs import Job, QueueFull, Work
from toksmith.web.models import (
    CORPUS_PREFIX,
    ERRORS,
    WORDFREQ,
    CompareRequest,
    CorpusEntry,
    JobSummary,
)
from toksmith.web.roots import WebRoots, list_corpus_entries, resolve_under
from toksmith.web.sources import (
    check_corpus_files,
    corpus_entry,
    load_requested,
    tokenizer_spec,
)
from toksmith.web.state import State, WebState

RETRY_AFTER_S = 5

router = APIRouter(tags=["compare"])


@router.get("/api/corpora", response_model=list[CorpusEntry])
def corpora(state: State) -> list[dict[str, Any]]:
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
    for relative in list_corpus_entries(state.roots.corpus):
        entries.append(corpus_entry(state.roots, relative))
    return entries


@router.post("/api/compare", status_code=202, response_model=JobSummary, responses=ERRORS)
def compare(request: CompareRequest, state: State) -> dict[str, Any]:
    """Start a compare run in the background; poll GET /api/jobs/{id} for its progress.
    429 when four jobs are already queued or running."""
    names = list(dict.fromkeys(request.tokenizers))
    specs = [tokenizer_spec(name, state.roots) for name in names]
    work, params = _compare_work(request, names, specs, state.roots)
    try:
        job = state.jobs.submit("compare", params, work)
    except QueueFull as error:
        raise ApiError(str(error), 429, {"Retry-After": str(RETRY_AFTER_S)}) from None
    return plain(job.summary())


@router.get("/api/jobs", response_model=list[JobSummary])
def jobs(state: State) -> list[dict[str, Any]]:
    """Recent jobs, newest first, without their results."""
    return [plain(job.summary(with_result=False)) for job in state.jobs.all()]


@router.get("/api/jobs/{job_id}", response_model=JobSummary, responses=ERRORS)
def job(job_id: str, state: State) -> dict[str, Any]:
    """A job's state and progress; its result (the compare JSON) when done, its one-line
    ``error`` when failed."""
    return plain(_job(state, job_id).summary())


@router.get(
    "/api/jobs/{job_id}/report.html",
    response_class=HTMLResponse,
    responses=ERRORS,
)
def job_report(job_id: str, state: State) -> HTMLResponse:
    """The self-contained HTML report of a finished compare job."""
    from toksmith.report.html import render_compare_html

    found = _job(state, job_id)
    if found.state != "done" or found.result is None:
        raise ApiError(f"job {job_id} is {found.state}; the report needs a finished job", 409)
    return HTMLResponse(
        render_compare_html(found.result),
        headers={"Content-Disposition": f'inline; filename="toksmith-compare-{job_id}.html"'},
    )


def _job(state: WebState, job_id: str) -> Job:
    found = state.jobs.get(job_id)
    if found is None:
        raise ApiError(f"no job {job_id!r} (jobs are kept in memory until the server stops)", 404)
    return found


def _compare_work(
    request: CompareRequest, names: list[str], specs: list[str], roots: WebRoots
) -> tuple[Work, dict[str, Any]]:
    """Check a compare request now (so mistakes are a 4xx, not a failed job) and return the
    work to run in the background with the parameters to show."""
    from toksmith.metrics import compare_corpus, compare_wordfreq, wordfreq_languages

    languages = list(dict.fromkeys(request.languages)) if request.languages else None
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
            with _compare_failure(roots):
                loaded = _load_all(names, specs)
                result = compare_wordfreq(loaded, languages, progress=progress)
            return _for_the_page(result.to_dict(), roots)

        return wordfreq_work, params
    if not request.corpus.startswith(CORPUS_PREFIX):
        raise ApiError(
            f"unknown corpus {request.corpus!r}: expected {WORDFREQ!r} or an id from "
            "GET /api/corpora",
            422,
        )
    relative = request.corpus[len(CORPUS_PREFIX) :]
    entry = corpus_entry(roots, relative)
    source = resolve_under(roots.corpus, relative, what="corpus")  # 404 without --corpus
    root = roots.corpus or source
    check_corpus_files(root, source, relative)
    if entry["kind"] == "parallel":
        unknown = [x for x in [*(languages or []), request.reference] if x]
        unknown = [language for language in unknown if language not in entry["languages"]]
        if unknown:
            raise ApiError(f"languages not in corpus {relative!r}: {', '.join(unknown[:10])}", 422)
    elif request.reference or languages:
        raise ApiError(f"corpus {relative!r} is not a parallel folder: no languages", 422)

    def corpus_work(progress: Progress) -> dict[str, Any]:
        with _compare_failure(roots):
            loaded = _load_all(names, specs)
            result = compare_corpus(
                loaded,
                source,
                reference=request.reference,
                languages=languages,
                progress=progress,
                confine_to=root,  # the reader refuses a file linked out after the check
            )
        data = _for_the_page(result.to_dict(), roots)
        data["corpus"] = request.corpus  # the id, not the server's absolute path
        return data

    return corpus_work, params


def _for_the_page(data: dict[str, Any], roots: WebRoots) -> dict[str, Any]:
    """A compare result as the page gets it: tokenizer sources and notes name files as the
    request did (``local:<path>``), not by the server's folders."""
    for info in data.get("tokenizers", []):
        if isinstance(info.get("source"), str):
            info["source"] = roots.hide(info["source"])
    data["notes"] = [roots.hide(str(note)) for note in data.get("notes", [])]
    return data


def _load_all(names: list[str], specs: list[str]) -> list[Tokenizer]:
    """The requested tokenizers, with unique names (two folders called ``tok`` under
    --tokenizers become ``a/tok`` and ``b/tok``)."""
    return unique_names(
        [load_requested(name, spec) for name, spec in zip(names, specs, strict=True)]
    )


@contextmanager
def _compare_failure(roots: WebRoots) -> Iterator[None]:
    """Turn a backend failure during the measurement (a Rust panic on some text) into a
    UserError, so the job fails with one line that says what happened; no message shows the
    server's folders."""
    try:
        yield
    except UserError as error:
        raise UserError(roots.hide(str(error))) from None
    except BaseException as error:
        if is_stop_signal(error):
            raise
        raise UserError(
            f"a tokenizer backend failed while measuring: {describe_failure(error)}"
        ) from None
