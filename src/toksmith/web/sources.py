"""What a request's names refer to: tokenizers (built-in names, the ``ws:`` baseline, files
under ``--tokenizers``) and corpora (the wordfreq lists, entries under ``--corpus``).

A request never names a file system path: every file is found under one of the server's roots
(:mod:`toksmith.web.roots`), and a corpus folder is refused when any file in it resolves
outside the corpus root (a symlink inside it pointing elsewhere).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from toksmith.errors import UserError
from toksmith.tokenizers import Tokenizer, load_tokenizer
from toksmith.tokenizers.load import WHITESPACE_SPECS
from toksmith.tokenizers.registry import ALIASES, builtin_names, is_builtin
from toksmith.web.errors import ApiError, backend_failure
from toksmith.web.models import CORPUS_PREFIX, LOCAL_PREFIX
from toksmith.web.roots import PathRefused, WebRoots, resolve_under

BASELINE = "ws:"  # the whitespace baseline tokenizer: one token per word, a reference row


def tokenizer_spec(name: str, roots: WebRoots) -> str:
    """The load spec for a requested tokenizer name: a built-in, the ``ws:`` baseline, or a
    file under --tokenizers."""
    if name.startswith(LOCAL_PREFIX):
        relative = name[len(LOCAL_PREFIX) :]
        return str(resolve_under(roots.tokenizers, relative, what="tokenizer"))
    if name in WHITESPACE_SPECS or is_builtin(name):
        return name
    near = difflib.get_close_matches(name, builtin_names() + list(ALIASES), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise ApiError(
        f"unknown tokenizer {name!r}{hint} (expected a built-in name, {BASELINE!r} or "
        f"'{LOCAL_PREFIX}<path under --tokenizers>'; see GET /api/tokenizers)",
        422,
    )


def load_requested(name: str, spec: str) -> Tokenizer:
    """Load the tokenizer ``spec`` that the request called ``name``; a broken file (also one
    that makes the backend panic) is a 422 naming it, not a server error."""
    with backend_failure(f"loading tokenizer {name!r}"):
        return load_tokenizer(spec)


def corpus_entry(roots: WebRoots, relative: str) -> dict[str, Any]:
    """The listing of one corpus under --corpus: a parallel folder with its languages, or one
    text corpus (a file, or a folder of documents)."""
    from toksmith.corpus import is_parallel_folder, open_parallel

    path = resolve_under(roots.corpus, relative, what="corpus")
    label = "--corpus folder" if relative == "." else relative
    if is_parallel_folder(path):
        try:
            languages = open_parallel(path, confine_to=roots.corpus).languages
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


def check_corpus_files(root: Path, source: Path, relative: str) -> None:
    """Refuse (403) a corpus with a file that resolves outside ``root``, naming the file
    relative to the corpus root, before a job is started."""
    from toksmith.corpus import corpus_files

    try:
        files = corpus_files(source)
    except UserError as error:
        raise ApiError(f"corpus {relative!r}: {_without_root(str(error), root)}", 422) from None
    for file in files:
        try:
            real = file.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            real = None
        if real is None or not real.is_relative_to(root):
            shown = file.relative_to(root).as_posix() if file.is_relative_to(root) else file.name
            raise PathRefused(
                f"corpus {relative!r}: file {shown!r} lies outside the corpus folder "
                "(a link pointing out of it); refusing to read it"
            )


def _without_root(message: str, root: Path) -> str:
    """A reader's message without the server's absolute path of the corpus root."""
    return message.replace(str(root) + "/", "").replace(str(root), "--corpus")
