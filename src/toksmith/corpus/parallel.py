"""Parallel corpora: a folder with one file per language, aligned by line or by id column.

The language of a file is its name without extensions (``eng.tsv`` → ``eng``). An optional
``index.tsv`` (``key iso639_3 bcp47 script name`` with a header row, as in the UDHR corpus)
gives each language a script and a display name; it and README files are not languages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from toksmith.corpus.read import (
    Errors,
    ReadStats,
    Segment,
    check_inside,
    corpus_files,
    file_format,
    iter_segments,
)
from toksmith.errors import UserError

METADATA_FILES = {"index.tsv", "readme", "readme.md", "readme.txt", "license", "license.txt"}


@dataclass(frozen=True)
class LanguageInfo:
    key: str
    script: str = ""  # ISO 15924, e.g. "Latn", "Hans"
    name: str = ""


@dataclass
class ParallelCorpus:
    """A folder of aligned translations; ``files`` maps language key → file.

    ``confine_to``: every file read must resolve inside this folder (see
    :func:`toksmith.corpus.read.corpus_files`).
    """

    folder: Path
    files: dict[str, Path]
    info: dict[str, LanguageInfo] = field(default_factory=dict)
    reference: str | None = None
    confine_to: Path | None = None

    @property
    def languages(self) -> list[str]:
        return sorted(self.files)

    def segments(
        self, language: str, *, errors: Errors = "strict", stats: ReadStats | None = None
    ) -> Iterator[Segment]:
        """The aligned segments of one language, blank ones included (they hold a place)."""
        return iter_segments(
            self.files[language],
            errors=errors,
            keep_blank=True,
            stats=stats,
            allow_empty=True,
            confine_to=self.confine_to,
        )

    def check_alignment(self, *, errors: Errors = "strict") -> None:
        """Raise a UserError naming the first file and line that does not align with the rest.

        TSV files align by their id column, other files line by line.
        """
        expected_units: list[str] | None = None
        expected_from = ""
        for language in self.languages:
            units = [s.unit for s in self.segments(language, errors=errors)]
            if expected_units is None:
                expected_units, expected_from = units, language
                continue
            if units == expected_units:
                continue
            path = self.files[language]
            for position, (unit, other) in enumerate(zip(units, expected_units, strict=False)):
                if unit != other:
                    raise UserError(
                        f"{path}: segment {position + 1} has id {unit!r} but "
                        f"{self.files[expected_from].name} has {other!r} there: files do not align"
                    )
            shorter, longer = (
                (path, expected_from)
                if len(units) < len(expected_units)
                else (self.files[expected_from], language)
            )
            raise UserError(
                f"{path}: {len(units)} segments, but {self.files[expected_from].name} has "
                f"{len(expected_units)}: files do not align (the shorter one, {Path(shorter).name}, "
                f"ends at segment {min(len(units), len(expected_units))}; compare with {longer})"
            )


def language_of(path: Path) -> str:
    """The language key of a file: its name without extensions (``eng.tsv.gz`` → ``eng``)."""
    name = path.name
    if name.endswith(".gz"):
        name = name[:-3]
    return name.split(".", 1)[0] if "." in name else name


def is_parallel_folder(source: str | Path) -> bool:
    """A folder whose files (other than metadata) are all TSV or all plain text, ≥ 2 of them,
    with no subfolders: the layout of a parallel corpus."""
    path = Path(source)
    if not path.is_dir() or any(p.is_dir() and not p.name.startswith(".") for p in path.iterdir()):
        return False
    files = [p for p in path.iterdir() if p.is_file() and p.name.lower() not in METADATA_FILES]
    files = [p for p in files if not p.name.startswith(".")]
    return len(files) >= 2


def open_parallel(
    folder: str | Path,
    *,
    reference: str | None = None,
    confine_to: str | Path | None = None,
) -> ParallelCorpus:
    """Read the layout of a parallel corpus folder; ``reference`` must be one of its languages.

    With ``confine_to``, a language file or ``index.tsv`` that resolves outside that folder (a
    symlink pointing elsewhere) raises a UserError naming it, now and whenever it is read.
    """
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise UserError(f"parallel corpus {folder} is not a folder")
    root = Path(confine_to).expanduser() if confine_to is not None else None
    files: dict[str, Path] = {}
    for file in corpus_files(path, confine_to=root):
        if file.parent != path or file.name.lower() in METADATA_FILES:
            continue
        language = language_of(file)
        if language in files:
            raise UserError(f"{file}: two files for language {language!r} ({files[language].name})")
        files[language] = file
    if not files:
        raise UserError(f"parallel corpus {folder} holds no language files")
    kinds = {file_format(p.name) for p in files.values()}
    if len(kinds) > 1:
        raise UserError(f"parallel corpus {folder} mixes file formats ({', '.join(sorted(kinds))})")
    if reference is not None and reference not in files:
        import difflib

        near = difflib.get_close_matches(reference, list(files), n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise UserError(f"reference language {reference!r} is not in {folder}{hint}")
    return ParallelCorpus(path, files, _read_index(path, root), reference, root)


def _read_index(folder: Path, confine_to: Path | None) -> dict[str, LanguageInfo]:
    index = folder / "index.tsv"
    info: dict[str, LanguageInfo] = {}
    if not index.is_file():
        return info
    if confine_to is not None:
        check_inside(index, confine_to)
    lines = index.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    header = lines[0].split("\t") if lines else []
    columns = {name: i for i, name in enumerate(header)}
    if "key" not in columns:
        return info
    for line in lines[1:]:
        cells = line.split("\t")
        if len(cells) != len(header):
            continue
        key = cells[columns["key"]]
        info[key] = LanguageInfo(
            key,
            cells[columns["script"]] if "script" in columns else "",
            cells[columns["name"]] if "name" in columns else "",
        )
    return info
