"""The server under hostile input: every route answers a wrong method with 405, a full job
queue is 429, backend panics and bad tokenizer files end as one-line errors (never a job that
hangs), corpus files are confined to --corpus, and every JSON answer is valid JSON."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route
from web_samples import SECRET

from toksmith.tokenizers.registry import BUILTIN_BY_NAME
from toksmith.web import WebRoots, create_app

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
# A Split regex that backtracks catastrophically on a long run of "a" not followed by the end:
# Oniguruma gives up at its retry limit and the HF backend panics (a BaseException).
BACKTRACKING_SPLIT = {
    "type": "Split",
    "pattern": {"Regex": "(a|aa)+$"},
    "behavior": "Isolated",
    "invert": False,
}
MISSING_BYTE = ord("e")  # a rank file without it panics in tiktoken on any text with an "e"


def strict_json(text: str) -> object:
    """Parse JSON as any strict parser would: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> object:
        raise AssertionError(f"{constant} in JSON")

    return json.loads(text, parse_constant=refuse)


def assert_error(response, status: int) -> str:
    assert response.status_code == status, response.text
    message = strict_json(response.text)["error"]
    assert isinstance(message, str) and message and "\n" not in message
    return message


@pytest.fixture(scope="module")
def hostile_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("hostile")
    (base / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")

    tokenizers = base / "tokenizers"
    tokenizers.mkdir()
    data = json.loads(BUILTIN_BY_NAME["minilm"].path().read_text(encoding="utf-8"))
    data["pre_tokenizer"] = BACKTRACKING_SPLIT
    (tokenizers / "backtracking.json").write_text(json.dumps(data), encoding="utf-8")
    ranks = [byte for byte in range(256) if byte != MISSING_BYTE]
    lines = [f"{base64.b64encode(bytes([b])).decode()} {rank}" for rank, b in enumerate(ranks)]
    (tokenizers / "missing-byte.tiktoken").write_text("\n".join(lines) + "\n", encoding="utf-8")

    for twin in ("a", "b"):  # two model folders with the same name
        (tokenizers / twin / "tok").mkdir(parents=True)
        (tokenizers / twin / "tok" / "tokenizer.json").write_text(
            BUILTIN_BY_NAME["minilm"].path().read_text(encoding="utf-8"), encoding="utf-8"
        )

    corpus = base / "corpus"
    docs = corpus / "docs"
    docs.mkdir(parents=True)
    (corpus / "runs.txt").write_text("a" * 5000 + "b\nthe quick brown fox\n", encoding="utf-8")
    (docs / "fine.txt").write_text("A document inside the corpus folder.\n", encoding="utf-8")
    (docs / "leak.txt").symlink_to(base / "secret.txt")  # a file link leading out of --corpus

    results = base / "results"
    results.mkdir()
    (results / "nan.json").write_text('{"fertility": NaN, "ratio": Infinity}', encoding="utf-8")
    return {"base": base, "corpus": corpus, "tokenizers": tokenizers, "results": results}


@pytest.fixture
def hostile(hostile_dirs: dict[str, Path]) -> TestClient:
    roots = WebRoots.of(hostile_dirs["corpus"], hostile_dirs["tokenizers"], hostile_dirs["results"])
    with TestClient(create_app(roots), base_url="http://127.0.0.1") as test_client:
        yield test_client


def sample_path(path: str) -> str:
    return (
        path.replace("{job_id}", "nope")
        .replace("{path:path}", "x.json")
        .replace("{path}", "x.json")
    )


# ---- 405 and 429 ----


def walk_routes(routes: list, prefix: str = "") -> list[tuple[str, set[str]]]:
    """(path, allowed methods) of every route, descending into included routers (FastAPI
    wraps them in its own objects) and giving a mounted folder one of its files."""
    found: list[tuple[str, set[str]]] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            found += walk_routes(included.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, Mount):
            found.append((prefix + route.path + "/app.js", {"GET", "HEAD"}))
        elif isinstance(route, APIRoute | Route):
            found.append((prefix + sample_path(route.path), set(route.methods or ())))
    return found


def test_every_route_answers_a_wrong_method_with_405(hostile: TestClient):
    routes = walk_routes(hostile.app.routes)
    paths = {path for path, _ in routes}
    assert {"/", "/api/tokenize", "/api/compare", "/api/jobs/nope", "/static/app.js"} <= paths
    for path, allowed in routes:
        for method in METHODS:
            if method not in allowed:
                message = assert_error(hostile.request(method, path), 405)
                assert method in message, (method, path)


def test_a_get_on_a_post_endpoint_is_405_not_404(hostile: TestClient):
    response = hostile.get("/api/tokenize")
    assert "POST" in assert_error(response, 405)
    assert response.headers["allow"] == "POST"
    assert "no API endpoint" in assert_error(hostile.post("/api/nothing"), 404)


def test_a_full_job_queue_is_429_and_starts_no_job(hostile: TestClient):
    jobs = hostile.app.state.web.jobs
    release = threading.Event()
    blockers = [
        jobs.submit("wait", {}, lambda progress: release.wait(30) and {})
        for _ in range(jobs.max_queued)
    ]
    try:
        before = len(jobs.all())
        request = {"tokenizers": ["p50k_base"], "corpus": "corpus:runs.txt"}
        response = hostile.post("/api/compare", json=request)
        assert "already queued or running" in assert_error(response, 429)
        assert int(response.headers["retry-after"]) > 0
        assert len(jobs.all()) == before
    finally:
        release.set()
    assert all(jobs.wait(job.id).state == "done" for job in blockers)


# ---- backend panics and bad tokenizer files ----


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("local:backtracking.json", "backtracking.json"), ("local:missing-byte.tiktoken", "byte")],
)
def test_tokenize_with_a_panicking_tokenizer_is_a_4xx_naming_it(
    hostile: TestClient, hostile_dirs: dict[str, Path], name: str, fragment: str
):
    text = "a" * 5000 + "b, the end"
    response = hostile.post("/api/tokenize", json={"text": text, "tokenizers": [name]})
    assert 400 <= response.status_code < 500, response.text
    message = assert_error(response, response.status_code)
    assert fragment in message or name.removeprefix("local:") in message
    assert str(hostile_dirs["base"]) not in message  # named as the request named it


def test_compare_jobs_with_panicking_tokenizers_fail_and_free_their_place(
    hostile: TestClient, hostile_dirs: dict[str, Path]
):
    bad = ["local:backtracking.json", "local:missing-byte.tiktoken"]
    jobs = hostile.app.state.web.jobs
    for attempt in range(jobs.max_queued + 1):  # more jobs than the queue holds
        request = {"tokenizers": [bad[attempt % 2]], "corpus": "corpus:runs.txt"}
        response = hostile.post("/api/compare", json=request)
        if 400 <= response.status_code < 500:  # refused at once is fine: nothing hangs
            assert_error(response, response.status_code)
            continue
        assert response.status_code == 202, response.text
        job = jobs.wait(response.json()["id"], timeout_s=60)
        body = strict_json(hostile.get(f"/api/jobs/{job.id}").text)
        assert body["state"] == "failed", body
        assert body["error"] and "\n" not in body["error"]
        assert str(hostile_dirs["base"]) not in body["error"]
    good = hostile.post(
        "/api/compare", json={"tokenizers": ["p50k_base"], "corpus": "corpus:runs.txt"}
    )
    assert good.status_code == 202, good.text
    job = jobs.wait(good.json()["id"], timeout_s=60)
    assert job.state == "done", job.error


def test_a_job_whose_work_panics_ends_failed(hostile: TestClient):
    class PanicLike(BaseException):  # pyo3_runtime.PanicException derives from BaseException
        pass

    def panic(progress):
        raise PanicLike("no entry found for key")

    jobs = hostile.app.state.web.jobs
    job = jobs.wait(jobs.submit("compare", {}, panic).id, timeout_s=10)
    assert job.state == "failed" and "no entry found for key" in (job.error or "")
    assert job.finished_s is not None


# ---- corpus files stay inside --corpus ----


def test_compare_refuses_a_corpus_folder_with_a_link_pointing_outside(hostile: TestClient):
    response = hostile.post(
        "/api/compare", json={"tokenizers": ["p50k_base"], "corpus": "corpus:docs"}
    )
    if response.status_code == 202:  # refused by the reader instead: a failed job
        job = hostile.app.state.web.jobs.wait(response.json()["id"], timeout_s=60)
        assert job.state == "failed" and "leak.txt" in (job.error or "")
        assert SECRET not in json.dumps(job.summary())
    else:
        assert "leak.txt" in assert_error(response, 403)
        assert SECRET not in response.text


def test_compare_job_reader_refuses_a_link_the_request_check_did_not_see(
    hostile: TestClient, hostile_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
):
    # As if the link appeared between the request's check and the job: the corpus reader
    # itself is confined to --corpus, so the job fails naming the file.
    import toksmith.web.routers.compare as compare_routes

    monkeypatch.setattr(compare_routes, "check_corpus_files", lambda *args: None)
    response = hostile.post(
        "/api/compare", json={"tokenizers": ["p50k_base"], "corpus": "corpus:docs"}
    )
    assert response.status_code == 202, response.text
    job = hostile.app.state.web.jobs.wait(response.json()["id"], timeout_s=60)
    assert job.state == "failed" and "leak.txt" in (job.error or "")
    assert str(hostile_dirs["base"]) not in (job.error or "")
    assert SECRET not in json.dumps(job.summary())


# ---- JSON answers ----


def test_result_file_with_nan_is_answered_as_null(hostile: TestClient):
    response = hostile.get("/api/results/nan.json")
    assert response.status_code == 200
    assert strict_json(response.text)["data"] == {"fertility": None, "ratio": None}


def test_job_result_with_nan_is_answered_as_null(hostile: TestClient):
    jobs = hostile.app.state.web.jobs
    job = jobs.wait(jobs.submit("compare", {}, lambda progress: {"x": float("nan")}).id)
    body = strict_json(hostile.get(f"/api/jobs/{job.id}").text)
    assert body["state"] == "done" and body["result"] == {"x": None}


@pytest.mark.parametrize("text", ["ok \ud800 then", "abc\udcff"])
def test_tokenize_text_with_a_lone_surrogate_is_422_naming_where(hostile: TestClient, text: str):
    body = json.dumps({"text": text, "tokenizers": ["o200k_base"]})  # ASCII JSON: \\udXXX
    response = hostile.post(
        "/api/tokenize", content=body.encode(), headers={"content-type": "application/json"}
    )
    message = assert_error(response, 422)
    assert (
        "not valid Unicode" in message
        and f"character {len(text) - 6 if text.startswith('ok') else 3}" in message
    )


# ---- names ----


def test_compare_gives_two_tokenizer_folders_of_the_same_name_distinct_names(
    hostile: TestClient, hostile_dirs: dict[str, Path]
):
    request = {"tokenizers": ["local:a/tok", "local:b/tok"], "corpus": "corpus:runs.txt"}
    response = hostile.post("/api/compare", json=request)
    assert response.status_code == 202, response.text
    job = hostile.app.state.web.jobs.wait(response.json()["id"], timeout_s=60)
    assert job.state == "done", job.error
    result = strict_json(hostile.get(f"/api/jobs/{job.id}").text)["result"]
    names = [info["name"] for info in result["tokenizers"]]
    assert len(set(names)) == 2
    assert len({row["tokenizer"] for row in result["results"]}) == 2
    assert str(hostile_dirs["base"]) not in json.dumps(result)  # sources as the request named them


def test_the_whitespace_baseline_is_listed_and_tokenizes(hostile: TestClient):
    listed = {entry["name"] for entry in hostile.get("/api/tokenizers").json()}
    assert "ws:" in listed
    response = hostile.post("/api/tokenize", json={"text": "one two  three", "tokenizers": ["ws:"]})
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["requested"] == "ws:" and result["tokens"] >= 3
