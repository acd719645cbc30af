"""The folders the server was started with, and the only paths a request may reach.

A request never names a file system path directly: it names an entry *relative to one of
these roots*, and :func:`resolve_under` refuses absolute paths, ``..`` components and anything
whose real location (symlinks followed) lies outside the root.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from toksmith.errors import UserError

TOKENIZER_SUFFIXES = (".json", ".model", ".tiktoken")
TOKENIZER_FOLDER_FILES = ("tokenizer.json", "tekken.json", "tokenizer.model")
CORPUS_SUFFIXES = (".txt", ".tsv", ".jsonl", ".ndjson", ".gz", ".md", ".text")
MAX_LISTED = 500  # entries listed per root, so a huge folder cannot stall the page
MAX_DEPTH = 4  # folder levels walked when listing tokenizer and result files


class PathRefused(UserError):
    """A request named a path outside the started folders (HTTP 403), or a missing one (404)."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class WebRoots:
    """Folders given to ``toksmith serve``; ``None`` when not given."""

    corpus: Path | None = None
    tokenizers: Path | None = None
    results: Path | None = None

    @classmethod
    def of(
        cls,
        corpus: str | Path | None = None,
        tokenizers: str | Path | None = None,
        results: str | Path | None = None,
    ) -> WebRoots:
        """Check that each given folder exists and keep its real (resolved) path."""
        return cls(
            corpus=_existing_folder(corpus, "--corpus"),
            tokenizers=_existing_folder(tokenizers, "--tokenizers"),
            results=_existing_folder(results, "--results"),
        )

    def hide(self, message: str) -> str:
        """``message`` with the server's own folder paths replaced by what a request calls
        them: a file under --tokenizers is ``local:<path>``, one under --corpus or --results
        its path inside that folder. Error messages never show where the folders are."""
        for root, prefix, option in (
            (self.tokenizers, "local:", "--tokenizers"),
            (self.corpus, "", "--corpus"),
            (self.results, "", "--results"),
        ):
            if root is not None:
                message = message.replace(f"{root}/", prefix).replace(str(root), option)
        return message


def _existing_folder(folder: str | Path | None, option: str) -> Path | None:
    if folder is None:
        return None
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise UserError(f"{option} {folder}: not a folder")
    return path.resolve()


def resolve_under(root: Path | None, relative: str, *, what: str) -> Path:
    """The real path of ``relative`` inside ``root``, or a :class:`PathRefused`.

    ``relative`` uses ``/`` separators; ``""`` or ``"."`` is the root itself. Absolute paths,
    backslashes, NUL bytes and ``..`` components are refused before touching the disk; then
    the path is resolved (following symlinks) and must still lie inside ``root`` and exist.
    """
    if root is None:
        raise PathRefused(f"no {what} folder: the server was started without one", 404)
    if "\x00" in relative or "\\" in relative:
        raise PathRefused(f"{what} {relative!r}: invalid characters in path")
    pure = PurePosixPath(relative)
    if pure.is_absolute() or relative.startswith("~"):
        raise PathRefused(f"{what} {relative!r}: absolute paths are not allowed")
    if ".." in pure.parts:
        raise PathRefused(f"{what} {relative!r}: '..' is not allowed")
    candidate = (root / pure).resolve()
    if candidate != root and not candidate.is_relative_to(root):
        raise PathRefused(f"{what} {relative!r} lies outside the {what} folder")
    if not candidate.exists():
        raise PathRefused(f"{what} {relative!r} does not exist", 404)
    return candidate


def _inside(root: Path, path: Path) -> bool:
    real = path.resolve()
    return real == root or real.is_relative_to(root)


def _walk(root: Path) -> list[Path]:
    """Files and folders below ``root`` (hidden ones skipped, symlinks leaving it dropped)."""
    found: list[Path] = []
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(folder)
        depth = len(base.relative_to(root).parts)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and depth < MAX_DEPTH)
        for name in sorted(dirnames) + sorted(f for f in filenames if not f.startswith(".")):
            path = base / name
            if _inside(root, path):
                found.append(path)
            if len(found) >= MAX_LISTED:
                return found
    return found


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def list_tokenizer_files(root: Path | None) -> list[str]:
    """Paths (relative to ``root``) of tokenizer files, and of model folders holding one
    (whose own files are then not listed again)."""
    if root is None:
        return []
    entries: list[str] = []
    folders: list[Path] = []
    for path in _walk(root):
        if any(path.is_relative_to(folder) for folder in folders):
            continue
        if path.is_dir():
            if any((path / name).is_file() for name in TOKENIZER_FOLDER_FILES):
                folders.append(path)
                entries.append(_relative(root, path))
        elif path.suffix in TOKENIZER_SUFFIXES or path.name == "tokenizer.model":
            entries.append(_relative(root, path))
    return entries


def list_corpus_entries(root: Path | None) -> list[str]:
    """The corpus root itself (``"."``), and its folders and text files one level down."""
    if root is None:
        return []
    entries = ["."]
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or not _inside(root, path):
            continue
        if path.is_dir() or path.name.endswith(CORPUS_SUFFIXES):
            entries.append(path.name)
        if len(entries) >= MAX_LISTED:
            break
    return entries


def list_result_files(root: Path | None) -> list[str]:
    """JSON files below ``root``, relative paths."""
    if root is None:
        return []
    return [
        _relative(root, path) for path in _walk(root) if path.is_file() and path.suffix == ".json"
    ]
