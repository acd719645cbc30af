"""Pre-token counts of a corpus (``toksmith wordcount``), in one process or on a cluster.

A BPE trainer only ever looks at how often each pre-token (a "word" after pre-tokenization)
occurs. The counts are taken exactly as ``toksmith train`` feeds HF ``tokenizers``: the corpus
read as whole files (JSONL/TSV records one by one), each text cut into the same 64K-character
blocks after a line break (:func:`toksmith.train.corpus.blocks`), normalized (NFC/NFKC when
asked), then split by the same HF pre-tokenizer (digit groups, the regex ``Split``, ByteLevel),
so every counted string is the byte-level string the HF BPE trainer counts. The counts of
shards add up; :func:`toksmith.train.from_counts.train_bpe_from_counts` trains from them.

The file is TSV: a header line ``#toksmith-wordcount<TAB>{json}`` (the pre-tokenizer settings
and what was read), then ``word<TAB>count`` lines, most frequent first (ties by word), with
``\\``, tab, line feed and carriage return in a word written as ``\\\\``, ``\\t``, ``\\n``, ``\\r``
(byte-level words never hold the last three). ``.gz`` output is gzip-compressed.
"""

from __future__ import annotations

import gzip
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from toksmith import __version__
from toksmith.errors import UserError
from toksmith.files import write_atomic
from toksmith.progress import Progress
from toksmith.results import Result

HEADER = "#toksmith-wordcount"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class WordcountSettings:
    """The pre-tokenization counted: a pattern preset (``gpt2``, ``gpt4``, ``cl100k``,
    ``llama3``, ``code``, ``char``) or regex, a number mode, and a normalizer, as for
    ``toksmith train``."""

    pattern: str = "gpt4"
    numbers: str | None = None
    normalizer: str = "none"


@dataclass
class WordCounts(Result):
    """Pre-token counts and what they were counted from."""

    settings: WordcountSettings
    counts: Counter[str]
    corpus: list[str]
    replaced_bytes: int = 0

    @property
    def distinct(self) -> int:
        return len(self.counts)

    @property
    def occurrences(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict:
        """A summary (not the counts themselves: they go to the TSV file)."""
        return {
            "settings": asdict(self.settings),
            "corpus": self.corpus,
            "distinct_words": self.distinct,
            "occurrences": self.occurrences,
            "replaced_bytes": self.replaced_bytes,
        }


def check_settings(settings: WordcountSettings) -> None:
    """Raise a UserError for a pattern, number mode or normalizer ``train`` would refuse."""
    from toksmith.train.pretokenize import number_regex, resolve_pattern
    from toksmith.train.settings import NORMALIZERS

    resolve_pattern(settings.pattern)
    number_regex(settings.numbers)
    if settings.normalizer not in NORMALIZERS:
        raise UserError(
            f"normalizer {settings.normalizer!r} unknown; expected {', '.join(NORMALIZERS)}"
        )


def count_pre_tokens(texts: Iterable[str], settings: WordcountSettings) -> Counter[str]:
    """How often each pre-token occurs in ``texts`` (whole-file texts, as ``train`` reads
    them), after ``train``'s normalizer and HF pre-tokenizer for ``settings``."""
    from toksmith.train.corpus import blocks
    from toksmith.train.hf_trainers import build_normalizer
    from toksmith.train.pretokenize import build_pre_tokenizer, resolve_pattern

    normalizer = build_normalizer(settings.normalizer)
    pre_tokenizer = build_pre_tokenizer(resolve_pattern(settings.pattern), settings.numbers)
    counts: Counter[str] = Counter()
    for text in texts:
        for block in blocks(text):
            if normalizer is not None:
                block = normalizer.normalize_str(block)
            counts.update(piece for piece, _ in pre_tokenizer.pre_tokenize_str(block))
    return counts


def word_counts(
    corpus: Sequence[str | Path],
    settings: WordcountSettings,
    *,
    cluster: str | None = None,
    errors: str = "strict",
    progress: Progress | None = None,
    timeout_s: float | None = None,
    shard_bytes: int | None = None,
) -> WordCounts:
    """The pre-token counts of ``corpus`` (files, folders or globs; ``-`` only without a
    cluster), in this process or on the Dask ``cluster`` (the same counts either way)."""
    check_settings(settings)
    if not corpus:
        raise UserError("no corpus given (--corpus PATH)")
    if cluster is None:
        return _count_here(corpus, settings, errors, progress)
    from toksmith.cluster.engine import DEFAULT_TIMEOUT_S, connect, run_tasks, worker_count
    from toksmith.cluster.jobs import shard_size
    from toksmith.cluster.shards import plan_shards
    from toksmith.cluster.tasks import Task, run_task
    from toksmith.corpus import corpus_files

    if any(str(source) == "-" for source in corpus):
        raise UserError("--cluster reads files the workers can open; stdin ('-') cannot be sharded")
    files = [path for source in corpus for path in corpus_files(source)]
    with connect(cluster, timeout_s or DEFAULT_TIMEOUT_S) as client:
        total = sum(path.stat().st_size for path in files)
        size = shard_bytes or shard_size(total, worker_count(client))
        tasks = [
            Task("wordcount", shards, errors=errors, pretokenizer=asdict(settings))  # type: ignore[arg-type]
            for shards in plan_shards(files, shard_bytes=size, whole_files=True)
        ]
        counts: Counter[str] = Counter()
        replaced = non_blank = 0
        for _, result in run_tasks(client, run_task, tasks, progress=progress):
            counts.update(result.partial)
            replaced += result.replaced_bytes
            non_blank += result.non_blank
    if non_blank == 0:
        raise UserError(f"corpus {corpus[0]} is empty: no non-blank text segments")
    return WordCounts(settings, counts, [str(s) for s in corpus], replaced)


def _count_here(
    corpus: Sequence[str | Path],
    settings: WordcountSettings,
    errors: str,
    progress: Progress | None,
) -> WordCounts:
    from toksmith.corpus import ReadStats, iter_segments

    stats = ReadStats()

    def texts() -> Iterator[str]:
        for source in corpus:
            for segment in iter_segments(source, errors=errors, whole_files=True, stats=stats):  # type: ignore[arg-type]
                if progress:
                    progress(f"{stats.bytes / 1e6:.1f} MB", -1.0)
                yield segment.text

    counts = count_pre_tokens(texts(), settings)
    return WordCounts(settings, counts, [str(s) for s in corpus], stats.replaced_bytes)


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


_UNESCAPE = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def _unescape(text: str, where: str) -> str:
    if "\\" not in text:
        return text
    out = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "\\":
            code = text[position + 1 : position + 2]
            if code not in _UNESCAPE:
                raise UserError(f"{where}: bad escape '\\{code}' in a word")
            out.append(_UNESCAPE[code])
            position += 2
        else:
            out.append(char)
            position += 1
    return "".join(out)


def format_word_counts(result: WordCounts) -> str:
    """The TSV text of ``result`` (see the module docstring)."""
    header = {
        "format": FORMAT_VERSION,
        "toksmith_version": __version__,
        **asdict(result.settings),
        "corpus": result.corpus,
        "distinct_words": result.distinct,
        "occurrences": result.occurrences,
        "replaced_bytes": result.replaced_bytes,
    }
    lines = [f"{HEADER}\t{json.dumps(header, ensure_ascii=False)}"]
    for word, count in sorted(result.counts.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"{_escape(word)}\t{count}")
    return "\n".join(lines) + "\n"


def write_word_counts(result: WordCounts, output: str | Path) -> None:
    """Write ``result`` to ``output`` atomically, gzip-compressed when it ends in ``.gz``."""
    data = format_word_counts(result).encode("utf-8")
    if str(output).endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    write_atomic(output, data)


def read_word_counts(path: str | Path) -> tuple[WordcountSettings, dict, Iterator[tuple[str, int]]]:
    """The settings, the header and a stream of ``(word, count)`` of a wordcount file; a file
    that is not one is a UserError naming it."""
    name = str(path)
    try:
        raw = Path(path).expanduser().read_bytes()
    except OSError as error:
        raise UserError(f"word-count file {name}: cannot read ({error.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise UserError(f"word-count file {name}: cannot read ({error})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"word-count file {name}: invalid UTF-8 at byte {error.start}") from None
    stream = io.StringIO(text)
    first = stream.readline().rstrip("\n")
    tag, _, payload = first.partition("\t")
    if tag != HEADER:
        raise UserError(f"{name} is not a toksmith wordcount file (no {HEADER} header line)")
    try:
        header = json.loads(payload)
        settings = WordcountSettings(header["pattern"], header["numbers"], header["normalizer"])
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise UserError(f"{name}: the {HEADER} header is not valid ({error})") from None

    def pairs() -> Iterator[tuple[str, int]]:
        for number, line in enumerate(stream, start=2):
            word, tab, count = line.rstrip("\n").rpartition("\t")
            if not tab or not count.isdigit() or int(count) < 1:
                raise UserError(f"{name}: line {number} is not 'word<TAB>count'")
            yield _unescape(word, f"{name}: line {number}"), int(count)

    return settings, header, pairs()
