"""The JSON API under /api/, through the ASGI test client: answers, and 4xx for bad input."""

from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient
from web_samples import PARALLEL, SECRET, compare_json

from toksmith.tokenizers import load_tokenizer
from toksmith.web import WebRoots, create_app
from toksmith.web.guards import LOOPBACK_HOSTS, HostGuard


def piece_bytes(piece: str | list | dict) -> bytes:
    if isinstance(piece, str):
        return piece.encode("utf-8")
    if isinstance(piece, list):
        return b"".join(p.encode("utf-8") if isinstance(p, str) else bytes([p]) for p in piece)
    return b""


def assert_error(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    return body["error"]


# ---- meta ----


def test_health_says_which_folders_the_server_was_started_with(client: TestClient):
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["corpus"] and body["tokenizers"] and body["results"]


def test_page_and_its_static_files_are_served(client: TestClient):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "/static/app.js" in page.text
    for name in ("app.js", "charts.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    for escape in ("%2e%2e/app.py", "%2e%2e/%2e%2e/errors.py", "..%2f..%2ferrors.py"):
        response = client.get(f"/static/{escape}")
        assert response.status_code == 404 and "import" not in response.text


def test_openapi_documents_every_api_endpoint(client: TestClient):
    paths = client.get("/openapi.json").json()["paths"]
    expected = {
        "/api/health", "/api/tokenizers", "/api/tokenize", "/api/corpora", "/api/compare",
        "/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/report.html", "/api/results",
        "/api/results/{path}",
    }  # fmt: skip
    assert expected <= set(paths)


def test_unknown_endpoint_and_wrong_method_are_json_4xx(client: TestClient):
    assert "no API endpoint" in assert_error(client.get("/api/nothing"), 404)
    assert_error(client.post("/api/health"), 405)
    assert_error(client.get("/no/such/page"), 404)


def test_foreign_host_header_is_refused(web_roots: WebRoots):
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not reach the API
    with TestClient(create_app(web_roots), base_url="http://evil.example") as foreign:
        response = foreign.get("/api/health")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "header, allowed",
    [
        ("127.0.0.1:8765", True), ("localhost", True), ("LOCALHOST:80", True),
        ("[::1]:8765", True), ("[::1]", True), ("evil.example", False),
        ("evil.example:8765", False), ("[::2]:8765", False), ("127.0.0.1.evil.example", False),
        ("", False),
    ],
)  # fmt: skip
def test_host_guard_parses_ipv6_hosts_and_ports(header: str, allowed: bool):
    guard = HostGuard(app=None, allowed_hosts=LOOPBACK_HOSTS)  # type: ignore[arg-type]
    assert guard.allows(header) is allowed


def test_host_guard_wildcards():
    assert HostGuard(None, ["*"]).allows("anything:1")  # type: ignore[arg-type]
    subdomains = HostGuard(None, ["*.example.org"])  # type: ignore[arg-type]
    assert subdomains.allows("a.example.org:8000") and not subdomains.allows("example.org.evil")


def test_ipv6_loopback_host_header_reaches_the_api(web_roots: WebRoots):
    with TestClient(create_app(web_roots), base_url="http://[::1]:8765") as ipv6:
        assert ipv6.get("/api/health").status_code == 200


# ---- tokenizers and the playground ----


def test_tokenizers_lists_builtins_then_local_files(client: TestClient):
    entries = client.get("/api/tokenizers").json()
    names = [entry["name"] for entry in entries]
    assert names[0] == "o200k_base" and "llama3" in names
    assert "local:bert" in names and "local:broken.json" in names
    assert "local:bert/tokenizer.json" not in names  # the folder already stands for it
    assert "local:escape.json" not in names  # a symlink leading out of --tokenizers


def test_tokenize_pieces_rebuild_the_text_bytes_of_byte_exact_tokenizers(client: TestClient):
    text = "Hello, wörld!\n\tnaïve 你好 🤗"
    body = client.post(
        "/api/tokenize", json={"text": text, "tokenizers": ["o200k_base", "cl100k_base"]}
    ).json()
    assert body["bytes"] == len(text.encode()) and body["chars"] == len(text)
    for result in body["results"]:
        assert b"".join(piece_bytes(p) for p in result["pieces"]) == text.encode()
        assert result["ids"] == load_tokenizer(result["requested"]).encode(text)
        assert result["tokens"] == len(result["ids"])
        assert result["bytes_per_token"] == pytest.approx(len(text.encode()) / result["tokens"])


def test_tokenize_shows_bytes_of_tokens_that_split_a_character(client: TestClient):
    body = client.post("/api/tokenize", json={"text": "🤗", "tokenizers": ["cl100k_base"]}).json()
    result = body["results"][0]
    partial = [p for p in result["pieces"] if isinstance(p, list)]
    assert result["partial_tokens"] == len(partial) >= 2
    assert b"".join(piece_bytes(p) for p in partial) == "🤗".encode()


def test_tokenize_labels_tokens_without_text_bytes(client: TestClient):
    body = client.post("/api/tokenize", json={"text": "hi 🤗", "tokenizers": ["minilm"]}).json()
    pieces = body["results"][0]["pieces"]
    assert {"special": "[UNK]"} in pieces
    assert body["results"][0]["byte_exact"] is False


def test_tokenize_empty_text_has_no_tokens_and_no_ratio(client: TestClient):
    result = client.post("/api/tokenize", json={"text": "", "tokenizers": ["llama3"]}).json()
    assert result["results"][0]["tokens"] == 0
    assert result["results"][0]["bytes_per_token"] is None


def test_tokenize_reads_a_tokenizer_folder_under_tokenizers(client: TestClient):
    body = client.post("/api/tokenize", json={"text": "Hello world", "tokenizers": ["local:bert"]})
    assert body.status_code == 200
    assert body.json()["results"][0]["pieces"] == ["hello", "world"]


def test_tokenize_unknown_tokenizer_suggests_near_names(client: TestClient):
    message = assert_error(
        client.post("/api/tokenize", json={"text": "x", "tokenizers": ["o200k_bse"]}), 422
    )
    assert "o200k_bse" in message and "o200k_base" in message


def test_tokenize_corrupt_tokenizer_file_is_422(client: TestClient):
    response = client.post("/api/tokenize", json={"text": "x", "tokenizers": ["local:broken.json"]})
    assert "broken.json" in assert_error(response, 422)


@pytest.mark.parametrize(
    "name",
    [
        "local:../secret.json",
        "local:bert/../../secret.json",
        "local:/etc/passwd",
        "local:~/secret.json",
        "local:escape.json",
        "local:..\\secret.json",
        "/etc/passwd",
        "../secret.json",
        "hf:/etc/passwd",
        "sp:../secret.json",
        "tiktoken:/etc/passwd",
    ],
)
def test_tokenize_never_reads_outside_the_tokenizers_folder(client: TestClient, name: str):
    response = client.post("/api/tokenize", json={"text": "x", "tokenizers": [name]})
    assert 400 <= response.status_code < 500, response.text
    assert SECRET not in response.text and "root:" not in response.text


def test_tokenize_text_over_one_megabyte_is_413(client: TestClient):
    response = client.post(
        "/api/tokenize", json={"text": "é" * 500_001, "tokenizers": ["o200k_base"]}
    )
    assert "1 MB" in assert_error(response, 413)


def test_tokenize_body_over_the_limit_is_refused_before_reading(client: TestClient):
    response = client.post(
        "/api/tokenize",
        content=b"x",
        headers={"content-type": "application/json", "content-length": str(50_000_000)},
    )
    assert_error(response, 413)


def test_tokenize_streamed_body_over_the_limit_is_413(client: TestClient):
    def chunks():
        yield b'{"tokenizers": ["o200k_base"], "text": "'
        for _ in range(80):
            yield b"a" * 100_000
        yield b'"}'

    response = client.post(
        "/api/tokenize", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_error(response, 413)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('{"text": "x"', "JSON"),
        ('{"tokenizers": ["o200k_base"]}', "text"),
        ('{"text": "x", "tokenizers": []}', "tokenizers"),
        ('{"text": 3, "tokenizers": ["o200k_base"]}', "text"),
        ('{"text": "x", "tokenizers": "o200k_base"}', "tokenizers"),
        ('{"text": "x", "tokenizers": ' + json.dumps(["llama3"] * 9) + "}", "tokenizers"),
        ('["not", "an", "object"]', "body"),
        ('{"text": "\\ud800", "tokenizers": ["o200k_base"]}', "surrogate"),
    ],
)
def test_tokenize_bad_body_is_422_with_a_message(client: TestClient, body: str, fragment: str):
    response = client.post(
        "/api/tokenize", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert fragment.lower() in assert_error(response, 422).lower()


# ---- corpora and compare jobs ----


def test_corpora_lists_wordfreq_then_folders_under_corpus(client: TestClient):
    entries = {entry["id"]: entry for entry in client.get("/api/corpora").json()}
    assert list(entries)[0] == "wordfreq" and "en" in entries["wordfreq"]["languages"]
    parallel = entries["corpus:parallel"]
    assert parallel["kind"] == "parallel" and parallel["languages"] == sorted(PARALLEL)
    assert parallel["default_reference"] == "eng"
    assert entries["corpus:notes.txt"]["kind"] == "text"
    assert "corpus:escape" not in entries


def finished(client: TestClient, job_id: str) -> dict:
    client.app.state.web.jobs.wait(job_id, timeout_s=60)
    return client.get(f"/api/jobs/{job_id}").json()


def test_compare_on_a_parallel_folder_gives_premiums_per_language(client: TestClient):
    request = {"tokenizers": ["o200k_base", "llama3"], "corpus": "corpus:parallel"}
    response = client.post("/api/compare", json=request | {"reference": "eng"})
    assert response.status_code == 202 and response.json()["state"] in ("queued", "running")
    job = finished(client, response.json()["id"])
    assert job["state"] == "done", job["error"]
    rows = job["result"]["results"]
    assert {(r["tokenizer"], r["language"]) for r in rows} == {
        (t, lang) for t in ("o200k_base", "llama3") for lang in PARALLEL
    }
    assert all(r["premium"] == 1.0 for r in rows if r["language"] == "eng")
    assert job["result"]["corpus"] == "corpus:parallel"  # no server path leaks to the page
    listed = client.get("/api/jobs").json()
    assert any(j["id"] == job["id"] and j.get("result") is None for j in listed)


def test_compare_on_wordfreq_measures_the_chosen_languages(client: TestClient):
    request = {"tokenizers": ["p50k_base"], "corpus": "wordfreq", "languages": ["en", "fr"]}
    job = finished(client, client.post("/api/compare", json=request).json()["id"])
    assert job["state"] == "done", job["error"]
    assert sorted(r["language"] for r in job["result"]["results"]) == ["en", "fr"]


def test_compare_on_a_text_file_is_one_language(client: TestClient):
    request = {"tokenizers": ["p50k_base"], "corpus": "corpus:notes.txt"}
    job = finished(client, client.post("/api/compare", json=request).json()["id"])
    assert [r["language"] for r in job["result"]["results"]] == ["all"]


def test_compare_report_is_a_self_contained_html_page(client: TestClient):
    request = {"tokenizers": ["p50k_base"], "corpus": "corpus:parallel", "reference": "eng"}
    job = finished(client, client.post("/api/compare", json=request).json()["id"])
    report = client.get(f"/api/jobs/{job['id']}/report.html")
    assert report.status_code == 200 and report.text.startswith("<!doctype html>")
    assert "ToksmithCharts.renderCompare" in report.text and "<script src=" not in report.text


def test_report_of_a_running_job_is_409(client: TestClient):
    release = threading.Event()
    jobs = client.app.state.web.jobs
    job = jobs.submit("compare", {}, lambda progress: release.wait(10) and compare_json())
    try:
        message = assert_error(client.get(f"/api/jobs/{job.id}/report.html"), 409)
        assert "needs a finished job" in message
    finally:
        release.set()
    assert jobs.wait(job.id).state == "done"


def test_a_failing_job_reports_its_error(client: TestClient):
    def fail(progress):
        progress("half", 0.5)
        raise ValueError("boom")

    jobs = client.app.state.web.jobs
    job = jobs.wait(jobs.submit("compare", {}, fail).id)
    body = client.get(f"/api/jobs/{job.id}").json()
    assert body["state"] == "failed" and "boom" in body["error"]


def test_unknown_job_is_404(client: TestClient):
    assert "no job" in assert_error(client.get("/api/jobs/nope"), 404)
    assert_error(client.get("/api/jobs/nope/report.html"), 404)


@pytest.mark.parametrize(
    ("request_body", "status", "fragment"),
    [
        ({"tokenizers": ["o200k_base"], "corpus": "nowhere"}, 422, "unknown corpus"),
        ({"tokenizers": ["o200k_base"], "corpus": "corpus:../secret.txt"}, 403, ".."),
        ({"tokenizers": ["o200k_base"], "corpus": "corpus:/etc"}, 403, "absolute"),
        ({"tokenizers": ["o200k_base"], "corpus": "corpus:escape"}, 403, "outside"),
        ({"tokenizers": ["o200k_base"], "corpus": "corpus:missing"}, 404, "does not exist"),
        ({"tokenizers": ["o200k_base"], "corpus": "/etc"}, 422, "unknown corpus"),
        ({"tokenizers": ["o200k_base"], "reference": "en"}, 422, "not parallel"),
        ({"tokenizers": ["o200k_base"], "languages": ["xx"]}, 422, "xx"),
        ({"tokenizers": ["o200k_base"], "corpus": "corpus:parallel", "reference": "deu"}, 422, "deu"),
        ({"tokenizers": ["o200k_base"], "corpus": "corpus:notes.txt", "reference": "eng"}, 422, "parallel"),
        ({"tokenizers": ["nope"]}, 422, "unknown tokenizer"),
        ({"tokenizers": ["local:../secret.json"]}, 403, ".."),
        ({"tokenizers": []}, 422, "tokenizers"),
    ],
)  # fmt: skip
def test_compare_bad_request_is_4xx_and_starts_no_job(
    client: TestClient, request_body: dict, status: int, fragment: str
):
    before = len(client.get("/api/jobs").json())
    message = assert_error(client.post("/api/compare", json=request_body), status)
    assert fragment in message
    assert len(client.get("/api/jobs").json()) == before


# ---- results ----


def test_results_lists_json_files_below_the_results_folder(client: TestClient):
    paths = [entry["path"] for entry in client.get("/api/results").json()]
    assert sorted(paths) == ["broken.json", "compare.json", "runs/train.json"]


def test_result_file_is_returned_parsed(client: TestClient):
    body = client.get("/api/results/runs/train.json").json()
    assert body == {
        "path": "runs/train.json",
        "data": {
            "vocab_size": 8000,
            "history": [{"step": 1, "loss": 2.5}, {"step": 2, "loss": 2.1}],
        },
    }
    assert client.get("/api/results/compare.json").json()["data"] == compare_json()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("%2e%2e/secret.json", 403),
        ("runs/%2e%2e/%2e%2e/secret.json", 403),
        ("%2Fetc%2Fpasswd", 403),
        ("escape.json", 403),
        ("missing.json", 404),
        ("notes.txt", 404),
        ("runs", 404),
        ("broken.json", 422),
        ("a%00b.json", 403),
    ],
)
def test_result_paths_cannot_leave_the_results_folder(client: TestClient, path: str, status: int):
    response = client.get(f"/api/results/{path}")
    assert_error(response, status)
    assert SECRET not in response.text


def test_without_started_folders_the_lists_are_empty_and_files_404(web_roots: WebRoots):
    with TestClient(create_app(WebRoots()), base_url="http://127.0.0.1") as bare:
        assert bare.get("/api/results").json() == []
        assert [c["id"] for c in bare.get("/api/corpora").json()] == ["wordfreq"]
        assert all(t["kind"] == "builtin" for t in bare.get("/api/tokenizers").json())
        assert_error(bare.get("/api/results/compare.json"), 404)
        response = bare.post("/api/tokenize", json={"text": "x", "tokenizers": ["local:bert"]})
        assert_error(response, 404)
