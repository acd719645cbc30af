"""Fixtures for the web page: a server started on temporary --corpus/--tokenizers/--results
folders, with files outside them (and symlinks pointing out) that no request may read."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

# pytest runs in importlib mode (test files in different folders share names), so the
# sample data module beside this file is put on the path explicitly.
sys.path.insert(0, str(Path(__file__).parent))
from web_samples import PARALLEL, SECRET, compare_json  # noqa: E402

from toksmith.tokenizers.registry import BUILTIN_BY_NAME
from toksmith.web import WebRoots, create_app


@pytest.fixture(scope="session")
def web_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("web")
    (base / "secret.json").write_text(json.dumps({"secret": SECRET}), encoding="utf-8")
    (base / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")

    corpus = base / "corpus"
    parallel = corpus / "parallel"
    parallel.mkdir(parents=True)
    for language, lines in PARALLEL.items():
        rows = [f"{i + 1}\t{line}" for i, line in enumerate(lines)]
        (parallel / f"{language}.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (corpus / "notes.txt").write_text("One plain corpus.\nTwo lines of it.\n", encoding="utf-8")
    (corpus / "escape").symlink_to(base)  # a folder link leading out of --corpus

    tokenizers = base / "tokenizers"
    (tokenizers / "bert").mkdir(parents=True)
    shutil.copy(BUILTIN_BY_NAME["minilm"].path(), tokenizers / "bert" / "tokenizer.json")
    (tokenizers / "broken.json").write_text('{"model": {"type": "BPE"', encoding="utf-8")
    (tokenizers / "escape.json").symlink_to(base / "secret.json")

    results = base / "results"
    (results / "runs").mkdir(parents=True)
    (results / "compare.json").write_text(json.dumps(compare_json()), encoding="utf-8")
    train = {"vocab_size": 8000, "history": [{"step": 1, "loss": 2.5}, {"step": 2, "loss": 2.1}]}
    (results / "runs" / "train.json").write_text(json.dumps(train), encoding="utf-8")
    (results / "broken.json").write_text("{not json", encoding="utf-8")
    (results / "notes.txt").write_text("not a result", encoding="utf-8")
    (results / "escape.json").symlink_to(base / "secret.json")
    return {"base": base, "corpus": corpus, "tokenizers": tokenizers, "results": results}


@pytest.fixture(scope="session")
def web_roots(web_dirs: dict[str, Path]) -> WebRoots:
    return WebRoots.of(web_dirs["corpus"], web_dirs["tokenizers"], web_dirs["results"])


@pytest.fixture(scope="session")
def client(web_roots: WebRoots) -> TestClient:
    with TestClient(create_app(web_roots), base_url="http://127.0.0.1") as test_client:
        yield test_client
