"""Train a tokenizer and write it as ``tokenizer.json`` + ``toksmith.json`` in a folder."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from tokenizers import Tokenizer, pre_tokenizers

from toksmith import __version__
from toksmith.corpus.read import Errors
from toksmith.errors import UserError
from toksmith.files import check_output_folder_path, write_atomic
from toksmith.progress import Progress
from toksmith.report.output import to_json
from toksmith.results import Result
from toksmith.tokenizers.hf_json import byte_level_stage
from toksmith.train.corpus import (
    CorpusInfo,
    TrainingCorpus,
    blocks,
    text_blocks,
    wordfreq_mix,
    wordfreq_texts,
)
from toksmith.train.hf_trainers import add_whole_tokens, build_normalizer, train_hf
from toksmith.train.lib import train_lib
from toksmith.train.output import staging_folder
from toksmith.train.pretokenize import SUPERWORD, build_pre_tokenizer, pre_tokenizer_config
from toksmith.train.settings import BYTE_ALPHABET, TrainSettings, validate
from toksmith.train.superbpe import train_superbpe

T = TypeVar("T")


@dataclass
class TrainResult(Result):
    """A trained tokenizer on disk and how it was made."""

    output: Path
    algorithm: str
    vocab_size: int  # ids in the written tokenizer, special tokens included
    elapsed_s: float
    corpus: CorpusInfo
    details: dict = field(default_factory=dict)

    @property
    def tokenizer_json(self) -> Path:
        return self.output / "tokenizer.json"


def train_tokenizer(
    settings: TrainSettings,
    output: str | Path,
    *,
    corpus: Sequence[str | Path] = (),
    wordfreq_languages: Sequence[str] = (),
    temperature: float = 3.0,
    wordfreq_total_words: int = 1_000_000,
    errors: Errors = "strict",
    progress: Progress | None = None,
) -> TrainResult:
    """Train ``settings.algorithm`` on ``corpus`` (or on ``wordfreq`` word counts for
    ``wordfreq_languages``) and write ``output/tokenizer.json`` and ``output/toksmith.json``.

    The folder is built in a temporary sibling and renamed at the end: on any error or
    interruption nothing is left behind. An ``output`` that is, holds or lies inside the corpus
    is refused; an existing trained folder is replaced. Returns the result with the elapsed
    wall time in seconds.
    """
    validate(settings)
    if bool(corpus) == bool(wordfreq_languages):
        raise UserError("give exactly one of a training corpus or --from-wordfreq languages")
    check_output_folder_path(output, corpus)  # replacing it must never delete the corpus
    started = time.perf_counter()
    with staging_folder(output) as staging:
        details: dict = {}
        if wordfreq_languages:
            if settings.algorithm not in ("bpe", "unigram", "wordpiece"):
                raise UserError(
                    f"--from-wordfreq trains bpe, unigram or wordpiece, not {settings.algorithm}"
                )
            mix = wordfreq_mix(
                wordfreq_languages, temperature=temperature, total_words=wordfreq_total_words
            )
            info = CorpusInfo(sources=[f"wordfreq:{lang}" for lang in mix.languages])
            info.fingerprint = f"wordfreq-{_wordfreq_version()}"
            details["wordfreq"] = {
                "temperature": temperature,
                "shares": mix.shares,
                "list_sizes": mix.sizes,
                "total_words": wordfreq_total_words,
            }
            if progress:
                progress("learning from word counts (HF tokenizers)", -1.0)
            tokenizer = run_interruptibly(lambda: train_hf(settings, wordfreq_texts(mix)))
        else:
            reader = TrainingCorpus(corpus, errors=errors, progress=progress)
            info = reader.info
            tokenizer, details = run_interruptibly(
                lambda: _train_on_corpus(settings, reader, progress)
            )
        if progress:
            progress("writing tokenizer", 1.0)
        vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
        if vocab_size < BYTE_ALPHABET + len(settings.special_tokens):
            raise UserError(f"training produced only {vocab_size} tokens")
        if settings.vocab_size is not None and vocab_size < settings.vocab_size:
            details["note"] = (
                f"LiB settled on {vocab_size} tokens (at most {settings.vocab_size} allowed)"
                if settings.algorithm == "lib"
                else f"the corpus supported only {vocab_size} of {settings.vocab_size} tokens"
            )
        elapsed_s = time.perf_counter() - started
        write_trained(staging, tokenizer, settings, info, vocab_size, elapsed_s, details)
    return TrainResult(Path(output), settings.algorithm, vocab_size, elapsed_s, info, details)


def write_trained(
    folder: Path,
    tokenizer: Tokenizer,
    settings: TrainSettings,
    info: CorpusInfo,
    vocab_size: int,
    elapsed_s: float,
    details: dict,
) -> None:
    """Write a trained tokenizer's ``tokenizer.json`` and its ``toksmith.json`` record
    (settings, corpus fingerprint, elapsed time) into ``folder``."""
    write_atomic(folder / "tokenizer.json", tokenizer.to_str(pretty=True))
    record = {
        "toksmith_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "algorithm": settings.algorithm,
        "settings": settings.to_dict(),
        "corpus": info.to_dict(),
        "vocab_size": vocab_size,
        "elapsed_s": round(elapsed_s, 3),
        "details": details,
    }
    write_atomic(folder / "toksmith.json", to_json(record))


def run_interruptibly(work: Callable[[], T]) -> T:
    """``work()`` run in a worker thread while this thread waits, so Ctrl-C stops us within
    a fraction of a second.

    HF's Rust trainers hold the calling thread until they finish (a KeyboardInterrupt is only
    raised when they return, minutes later on a large corpus). Only the main thread receives
    signals, so the main thread waits here, and on KeyboardInterrupt it raises at once; the
    caller's cleanup (the staging folder) runs, and the abandoned daemon worker ends with the
    process.
    """
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the waiting thread, re-raised there
            outcome["error"] = error

    worker = threading.Thread(target=target, name="toksmith-train", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.1)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def _train_on_corpus(
    settings: TrainSettings, reader: TrainingCorpus, progress: Progress | None
) -> tuple[Tokenizer, dict]:
    texts = _announce_when_done(reader.texts(), progress, settings.algorithm)
    if settings.algorithm == "superbpe":
        tokenizer, stats = train_superbpe(settings, texts)
        return tokenizer, {"superbpe": asdict(stats)}
    if settings.algorithm == "lib":
        return train_lib_tokenizer(settings, texts, progress)
    return train_hf(settings, text_blocks(texts)), {}


def _announce_when_done(
    texts: Iterable[str], progress: Progress | None, algorithm: str
) -> Iterable[str]:
    yield from texts
    if progress:
        progress(f"learning the {algorithm} vocabulary", -1.0)


def train_lib_tokenizer(
    settings: TrainSettings, texts: Iterable[str], progress: Progress | None = None
) -> tuple[Tokenizer, dict]:
    """LiB (see :mod:`toksmith.train.lib`) on the superword chunks of ``texts``, exported as a
    byte-level WordPiece tokenizer (greedy longest match, like LiB's reader)."""
    normalizer = build_normalizer(settings.normalizer)
    chunker = build_pre_tokenizer(SUPERWORD, settings.numbers)
    counts: Counter[str] = Counter()
    for text in texts:
        if normalizer is not None:
            text = normalizer.normalize_str(text)
        for block in blocks(text):
            counts.update(piece for piece, _ in chunker.pre_tokenize_str(block))
    chunks = list(counts)
    base = sorted(pre_tokenizers.ByteLevel.alphabet())
    room = None
    if settings.vocab_size is not None:
        room = settings.vocab_size - len(settings.special_tokens) - len(base)
        room -= len(settings.added_tokens)
    result = train_lib(
        chunks,
        weights=[counts[c] for c in chunks],
        base=base,
        vocab_size=room,
        epochs=settings.lib_epochs,
        batch_chunks=settings.lib_batch_chunks,
        max_token_length=settings.max_token_length or 24,
        seed=settings.seed,
        progress=progress,
    )
    vocab: dict[str, int] = {}
    for token in [*settings.special_tokens, *base, *result.lexicon]:
        vocab.setdefault(token, len(vocab))
    config = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": vocab[t],
                "content": t,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }  # fmt: skip
            for t in settings.special_tokens
        ],
        "normalizer": _normalizer_config(settings.normalizer),
        "pre_tokenizer": pre_tokenizer_config(SUPERWORD, settings.numbers),
        "post_processor": None,
        "decoder": byte_level_stage(),
        "model": {
            "type": "WordPiece",
            "unk_token": settings.special_tokens[0] if settings.special_tokens else base[0],
            "continuing_subword_prefix": "",
            "max_input_chars_per_word": 1 << 30,
            "vocab": vocab,
        },
    }
    tokenizer = Tokenizer.from_str(json.dumps(config))
    add_whole_tokens(tokenizer, settings)
    details = {
        "lib": {
            "epochs": result.epochs,
            "learned_chunks": len(result.lexicon),
            "candidates_memorized": result.candidates_memorized,
            "candidates_forgotten": result.candidates_forgotten,
            "distinct_training_chunks": len(chunks),
        }
    }
    return tokenizer, details


def _normalizer_config(name: str) -> dict | None:
    return {"type": name.upper()} if name in ("nfc", "nfkc") else None


def _wordfreq_version() -> str:
    from importlib.metadata import version

    return version("wordfreq")
