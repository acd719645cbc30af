"""BPE from pre-token counts (``toksmith train --algorithm bpe --from-counts counts.tsv.gz``).

HF's BPE trainer reduces its corpus to a table of pre-token counts before it learns a single
merge, and learns from that table alone; so training from the table that ``toksmith wordcount``
wrote (:mod:`toksmith.cluster.wordcount`: the same pre-tokens, counted the same way) gives
exactly the merges and vocabulary of training on the raw corpus.

HF ``tokenizers`` has no public way to hand its trainer a count table (``train_from_iterator``
counts the words of the texts it is given). So each word is fed as many times as it was
counted, separated by line feeds, to a helper tokenizer whose only pre-tokenizer splits at the
line feed (a byte-level word never holds one: ByteLevel writes it as ``Ċ``). The trainer then
counts exactly the table; the regex and ByteLevel work of the raw corpus is not repeated. The
cost still grows with the number of occurrences (not only distinct words): measured on 20 MB
of UDHR text it is stated in the README. The trained model is then put in the pipeline
``toksmith train`` builds (normalizer, pre-tokenizer, decoder), so the ``tokenizer.json`` is
the one training on the corpus writes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from tokenizers import Tokenizer, models, pre_tokenizers

from toksmith.errors import UserError
from toksmith.progress import Progress
from toksmith.train.corpus import CorpusInfo
from toksmith.train.hf_trainers import (
    add_whole_tokens,
    make_trainer,
    new_tokenizer,
    trainer_vocab_size,
)
from toksmith.train.output import staging_folder
from toksmith.train.run import TrainResult, run_interruptibly, write_trained
from toksmith.train.settings import BYTE_ALPHABET, TrainSettings, validate

CHUNK_CHARS = 1 << 20  # characters per sequence fed to the trainer
SEPARATOR = "\n"
PRE_TOKENIZER_FIELDS = ("pattern", "numbers", "normalizer")


def settings_for_counts(
    settings: TrainSettings, counted: dict, explicit: Iterable[str] = ()
) -> TrainSettings:
    """``settings`` with the pre-tokenization the counts were made with; a field the user set
    (``explicit``) to something else is a UserError naming both."""
    values = {}
    for name in PRE_TOKENIZER_FIELDS:
        mine, theirs = getattr(settings, name), counted[name]
        if name in set(explicit) and mine != theirs:
            raise UserError(
                f"--{name} {mine} differs from the word counts' {name} {theirs}: the counts "
                f"were pre-tokenized with {name} {theirs} (leave --{name} out to use it)"
            )
        values[name] = theirs
    return replace(settings, **values)


def word_sequences(
    pairs: Iterable[tuple[str, int]], chunk_chars: int = CHUNK_CHARS
) -> Iterator[str]:
    """Texts in which each word occurs ``count`` times, every occurrence ended by
    :data:`SEPARATOR`, about ``chunk_chars`` characters each."""
    buffer: list[str] = []
    size = 0
    for word, count in pairs:
        if SEPARATOR in word:
            raise UserError(f"word-count entry {word!r} holds a line feed: not a byte-level word")
        piece = word + SEPARATOR
        per_chunk = max(1, chunk_chars // len(piece))
        left = count
        while left:
            times = min(left, per_chunk)
            buffer.append(piece * times)
            size += len(piece) * times
            left -= times
            if size >= chunk_chars:
                yield "".join(buffer)
                buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


def train_bpe_from_counts(settings: TrainSettings, pairs: Iterable[tuple[str, int]]) -> Tokenizer:
    """The HF tokenizer that :func:`toksmith.train.hf_trainers.train_hf` trains on a corpus
    whose pre-token counts are ``pairs`` (the settings' pre-tokenization must be the one the
    counts were made with)."""
    if settings.algorithm != "bpe":
        raise UserError(f"--from-counts trains bpe, not {settings.algorithm}")
    helper = Tokenizer(models.BPE())
    helper.pre_tokenizer = pre_tokenizers.Split(SEPARATOR, behavior="removed")
    trainer = make_trainer(settings, trainer_vocab_size(settings))
    helper.train_from_iterator(word_sequences(pairs), trainer=trainer)
    config = json.loads(helper.to_str())
    pipeline = json.loads(new_tokenizer(settings, models.BPE()).to_str())
    for stage in ("normalizer", "pre_tokenizer", "decoder"):
        config[stage] = pipeline[stage]
    tokenizer = Tokenizer.from_str(json.dumps(config))
    add_whole_tokens(tokenizer, settings)
    return tokenizer


def train_from_counts(
    settings: TrainSettings,
    output: str | Path,
    counts_path: str | Path,
    *,
    explicit: Iterable[str] = (),
    progress: Progress | None = None,
) -> TrainResult:
    """Train BPE from a ``toksmith wordcount`` file and write ``output/tokenizer.json`` and
    ``output/toksmith.json`` as :func:`toksmith.train.train_tokenizer` does (built in a
    temporary sibling, renamed at the end). The pre-tokenization is the counts' own; a
    conflicting explicit setting is refused."""
    from toksmith.cluster.wordcount import read_word_counts
    from toksmith.files import check_output_folder_path

    counted, header, pairs = read_word_counts(counts_path)
    settings = settings_for_counts(
        settings, {"pattern": counted.pattern, "numbers": counted.numbers,
                   "normalizer": counted.normalizer}, explicit,
    )  # fmt: skip
    validate(settings)
    if settings.algorithm != "bpe":
        raise UserError(f"--from-counts trains bpe, not {settings.algorithm}")
    check_output_folder_path(output, [counts_path])
    started = time.perf_counter()
    with staging_folder(output) as staging:
        if progress:
            progress("learning the bpe vocabulary from word counts (HF tokenizers)", -1.0)
        tokenizer = run_interruptibly(lambda: train_bpe_from_counts(settings, pairs))
        vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
        if vocab_size < BYTE_ALPHABET + len(settings.special_tokens):
            raise UserError(f"training produced only {vocab_size} tokens")
        details: dict = {"from_counts": {"file": str(counts_path), "header": header}}
        assert settings.vocab_size is not None
        if vocab_size < settings.vocab_size:
            details["note"] = (
                f"the counts supported only {vocab_size} of {settings.vocab_size} tokens"
            )
        digest = hashlib.blake2b(Path(counts_path).expanduser().read_bytes(), digest_size=32)
        info = CorpusInfo(
            sources=list(header.get("corpus", [])),
            fingerprint="wordcount-blake2b:" + digest.hexdigest(),
            replaced_bytes=int(header.get("replaced_bytes", 0)),
        )
        elapsed_s = time.perf_counter() - started
        write_trained(staging, tokenizer, settings, info, vocab_size, elapsed_s, details)
    return TrainResult(Path(output), settings.algorithm, vocab_size, elapsed_s, info, details)
