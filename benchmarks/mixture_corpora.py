"""Category samples every machine can build offline, for data mixture inference experiments.

A helper of ``benchmarks/mixture.py`` and ``tests/audit/test_mixture.py`` (which loads it from
this file), not part of the toksmith package.

Each builder returns text of about the requested size, and takes a ``part`` (0 or 1) that
splits its source into two disjoint halves: a tokenizer can be trained on one half and its
mixture estimated on the other, as the paper does with held-out samples.
"""

from __future__ import annotations

import itertools
import os
import random
import sysconfig
from pathlib import Path

from toksmith.errors import UserError

_WRITTEN_WITHOUT_SPACES = {"zh", "ja", "th", "my", "km", "lo", "bo"}
_NOT_STDLIB = {"site-packages", "test", "tests", "idle_test", "__pycache__"}


def _take(pieces: list[str], size_bytes: int) -> str:
    """Pieces joined by newlines until ``size_bytes`` is reached (cut at a character)."""
    out: list[str] = []
    size = 0
    for piece in pieces:
        out.append(piece)
        size += len(piece.encode("utf-8")) + 1
        if size >= size_bytes:
            break
    text = "\n".join(out)
    return text.encode("utf-8")[:size_bytes].decode("utf-8", errors="ignore")


def wordfreq_text(language: str, size_bytes: int, part: int = 0) -> str:
    """Lines of 12 words drawn from the ``wordfreq`` frequency list of ``language`` (the part
    is the random seed): word-level statistics of the language, without its syntax. Words of
    languages written without spaces (Chinese, Japanese, Thai...) are joined without them."""
    import wordfreq

    frequencies = wordfreq.get_frequency_dict(language)
    if not frequencies:
        raise UserError(f"wordfreq has no word list for {language!r}")
    ranked = sorted(frequencies.items(), key=lambda item: -item[1])[:20_000]
    words = [word for word, _ in ranked]
    cumulative = list(itertools.accumulate(frequency for _, frequency in ranked))
    rng = random.Random(f"{language}-{part}")
    separator = "" if language in _WRITTEN_WITHOUT_SPACES else " "
    lines = []
    size = 0
    while size < size_bytes:
        line = separator.join(rng.choices(words, cum_weights=cumulative, k=12))
        line = line[:1].upper() + line[1:] + "."
        lines.append(line)
        size += len(line.encode("utf-8")) + 1
    return _take(lines, size_bytes)


def python_source(size_bytes: int, part: int = 0) -> str:
    """Python files of the running interpreter's standard library (every other file)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = []
    for folder, subfolders, names in os.walk(stdlib):
        # Installed packages and the test suite are not the standard library's own code.
        subfolders[:] = sorted(d for d in subfolders if d not in _NOT_STDLIB)
        files += [Path(folder) / name for name in sorted(names) if name.endswith(".py")]
    files = files[part::2]
    random.Random(0).shuffle(files)
    texts = []
    size = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        texts.append(text)
        size += len(text.encode("utf-8"))
        if size >= size_bytes:
            break
    return _take(texts, size_bytes)


def english_prose(size_bytes: int, part: int = 0) -> str:
    """English technical prose: the help topics of ``pydoc_data`` (every other topic)."""
    from pydoc_data.topics import topics

    texts = [topics[key] for key in sorted(topics)][part::2]
    return _take(texts, size_bytes)


def udhr_script_text(udhr: Path, script: str, size_bytes: int, part: int = 0) -> str:
    """The UDHR translations written in ``script`` (ISO 15924, e.g. ``Cyrl``), every other
    article of each, concatenated (several languages of one script: one category)."""
    keys = []
    for line in (udhr / "index.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) >= 4 and fields[3] == script:
            keys.append(fields[0])
    if not keys:
        raise UserError(f"{udhr}: no translation in script {script!r}")
    pieces = []
    for key in keys:
        for line in (udhr / f"{key}.tsv").read_text(encoding="utf-8").splitlines():
            unit, _, text = line.partition("\t")
            if unit.isdigit() and int(unit) % 2 == part:
                pieces.append(text)
    return _take(pieces, size_bytes)
