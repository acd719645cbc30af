"""SuperBPE: subwords first, then superwords that bridge whitespace.

"SuperBPE: Space Travel for Language Models" (Liu, Hayase, Hofmann, Oh, Smith & Choi, 2025).
Stage 1 is ordinary BPE with whitespace pre-tokenization up to the transition vocabulary size
``t``. Stage 2 continues the same merge sequence on chunks that are *not* split at spaces, so
tokens such as " by the way" appear. The result is one merge list (stage 1, then stage 2)
exported as a standard HF ``tokenizer.json``; no fork of ``tokenizers`` is needed.

How stage 2 runs without a fork: each distinct stage-2 chunk is encoded with the stage-1 model
(as the exported tokenizer will encode it: stage-1 merges come first by rank), and every
stage-1 token is replaced by one private stand-in character. HF's own ``BpeTrainer`` then
learns merges over those characters, weighted by chunk counts; each learned merge is
translated back to the pair of token strings it joins and appended to the merge list.

Deviations from the paper, stated:

* Stage-2 chunks split on newlines, punctuation, symbols and digits; only words joined by a
  single space or tab form a chunk (the paper's released code splits stage 2 only at digits;
  the brief of this project asks to keep punctuation and newlines as boundaries).
* The paper caps superwords by number of words; here a stage-2 token may join at most
  ``superword_max_subwords`` stage-1 tokens (HF ``max_token_length`` over the stand-in
  characters), which also caps it at that many words.
* The user's ``--pattern`` pre-tokenizes stage 1 only (it shapes which subwords are learned);
  the exported tokenizer splits text with the superword chunk regex of stage 2.
* HF's trainer identifies tokens by their stand-in string, the paper's fork by text. When a
  stage-2 merge would create a string that already is a token (e.g. "t"+"he" when "the"
  exists), the merge is left out of the export and counted in ``alias_merges_dropped``.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import regex
from tokenizers import Regex, Tokenizer, models, pre_tokenizers
from tokenizers import trainers as hf_trainers

from toksmith.results import Result
from toksmith.tokenizers.hf_json import byte_level_alphabet
from toksmith.train.corpus import blocks, text_blocks
from toksmith.train.hf_trainers import add_whole_tokens, build_normalizer, train_hf
from toksmith.train.pretokenize import (
    SUPERWORD,
    build_pre_tokenizer,
    number_regex,
    pre_tokenizer_config,
)
from toksmith.train.settings import TrainSettings

# Stand-in characters for stage-1 token ids: Unicode planes 1-16 hold no surrogates.
PROXY_BASE = 0x10000
CHUNK_SEPARATOR = "\n"

# Extra stage-2 merges requested from HF, to make up for dropped alias merges.
ALIAS_MARGIN = 0.05


@dataclass
class SuperBPEStats(Result):
    """What stage 2 did."""

    transition: int
    stage2_tokens: int
    distinct_chunks: int
    alias_merges_dropped: int
    split_merges_dropped: int  # merges whose text the pre-tokenizer would cut (or of a cut part)
    superword_tokens: int  # tokens whose text has a space after a non-space character


class ChunkCounter:
    """Counts stage-2 chunks of texts as they stream past; :attr:`counts` gives them in
    byte-level form.

    The split is the exported pre-tokenizer's (digit groups isolated, then the superword
    regex), run with the ``regex`` module and counted in C: HF's ``pre_tokenize_str`` builds
    Python objects for every piece and made counting as slow as the whole stage-1 training.
    A test checks the counts equal those of the HF pre-tokenizer.
    """

    def __init__(self, settings: TrainSettings) -> None:
        self.normalizer = build_normalizer(settings.normalizer)
        numbers = stage2_numbers(settings)
        self.pre_tokenizer = build_pre_tokenizer(SUPERWORD, numbers)
        digits = number_regex(numbers)
        # A capturing group makes split() return the digit groups at the odd positions.
        self._digit_groups = regex.compile(f"({digits})") if digits else None
        self._chunk = regex.compile(SUPERWORD)
        self.raw_counts: Counter[str] = Counter()
        self._byte_level: Counter[str] | None = None
        self._worker: threading.Thread | None = None
        self._failure: list[BaseException] = []

    def add(self, text: str) -> None:
        if self.normalizer is not None:
            text = self.normalizer.normalize_str(text)
        self._byte_level = None
        for block in blocks(text):
            if self._digit_groups is None:
                self.raw_counts.update(self._chunk.findall(block, concurrent=True))
                continue
            for position, part in enumerate(self._digit_groups.split(block, concurrent=True)):
                if position % 2:
                    self.raw_counts[part] += 1  # a digit group is one chunk
                elif part:
                    self.raw_counts.update(self._chunk.findall(part, concurrent=True))

    @property
    def counts(self) -> Counter[str]:
        """Chunk counts keyed by the chunk's byte-level string (as HF's ByteLevel writes it)."""
        if self._byte_level is None:
            alphabet = _byte_level_chars()
            self._byte_level = Counter(
                {
                    "".join(alphabet[byte] for byte in chunk.encode("utf-8")): count
                    for chunk, count in self.raw_counts.items()
                }
            )
        return self._byte_level

    def tee(self, texts: Iterable[str]) -> Iterable[str]:
        """Yield ``texts`` unchanged, counting their chunks on the way (one corpus pass).

        Counting runs in a thread (the regex module releases the GIL while matching), so it
        overlaps with HF's stage-1 training on the other core; texts not yet counted wait in
        memory. :meth:`wait` returns when every text has been counted.
        """
        pending: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        failure: list[BaseException] = []

        def count() -> None:
            while (text := pending.get()) is not None:
                if not failure:
                    try:
                        self.add(text)
                    except BaseException as error:  # re-raised by wait() in the caller
                        failure.append(error)

        worker = threading.Thread(target=count, name="superbpe-chunks", daemon=True)
        worker.start()
        self._worker, self._failure = worker, failure
        try:
            for text in texts:
                pending.put(text)
                yield text
        finally:
            pending.put(None)

    def wait(self) -> None:
        """Block until the counting thread started by :meth:`tee` is done."""
        if self._worker is not None:
            self._worker.join()
            self._worker = None
            if self._failure:
                raise self._failure[0]


def _byte_level_chars() -> list[str]:
    """The stand-in character of each byte value in byte-level BPE."""
    chars = [""] * 256
    for char, byte in byte_level_alphabet().items():
        chars[byte] = char
    return chars


def stage2_numbers(settings: TrainSettings) -> str:
    """Digit grouping in both stages: the settings' mode, or right-to-left groups of three
    as in the SuperBPE paper's code."""
    return settings.numbers or "r2l3"


def train_superbpe(
    settings: TrainSettings, texts: Iterable[str]
) -> tuple[Tokenizer, SuperBPEStats]:
    """Train a SuperBPE tokenizer on ``texts`` (read once). Returns the HF tokenizer (standard
    BPE model, superword pre-tokenizer) and what stage 2 did."""
    assert settings.vocab_size is not None
    transition = settings.stage2_transition
    numbers = stage2_numbers(settings)
    stage1_settings = replace(
        settings, algorithm="bpe", vocab_size=transition, numbers=numbers, added_tokens=()
    )
    counter = ChunkCounter(settings)
    stage1 = train_hf(stage1_settings, text_blocks(counter.tee(texts)))
    counter.wait()
    stage1_config = json.loads(stage1.to_str())
    vocab: dict[str, int] = dict(stage1_config["model"]["vocab"])
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in
              stage1_config["model"]["merges"]]  # fmt: skip

    wanted = settings.vocab_size - len(settings.added_tokens) - len(stage1.get_vocab())
    proxies = proxy_chunks(counter.counts, vocab, merges)
    stage2_pairs = learn_stage2_merges(proxies, wanted, settings)
    id_to_token = {i: t for t, i in vocab.items()}
    dropped = 0
    unreachable = 0
    stage2_tokens = 0
    for left, right in stage2_pairs:
        if stage2_tokens >= wanted:
            break
        pair = (_unproxy(left, id_to_token), _unproxy(right, id_to_token))
        merged = pair[0] + pair[1]
        if merged in vocab:
            dropped += 1
            continue
        if pair[0] not in vocab or pair[1] not in vocab or not is_one_chunk(merged, counter):
            unreachable += 1  # a part was left out, or the text would be split before BPE
            continue
        vocab[merged] = len(vocab)  # stage-1 ids (specials included) are 0..len-1
        merges.append(pair)
        stage2_tokens += 1

    config = stage1_config
    config["model"]["vocab"] = vocab
    config["model"]["merges"] = [list(pair) for pair in merges]
    config["pre_tokenizer"] = pre_tokenizer_config(SUPERWORD, numbers)
    tokenizer = Tokenizer.from_str(json.dumps(config))
    add_whole_tokens(tokenizer, settings)
    superwords = sum(1 for token in vocab if _is_superword(token))
    stats = SuperBPEStats(
        transition, stage2_tokens, len(counter.counts), dropped, unreachable, superwords
    )
    return tokenizer, stats


def proxy_chunks(
    chunk_counts: Counter[str], vocab: dict[str, int], merges: Sequence[tuple[str, str]]
) -> list[tuple[str, int]]:
    """Each distinct chunk of 2+ stage-1 tokens as a string of stand-in characters, with its
    count. Encoding uses HF's BPE model on the whole chunk, exactly as the export will."""
    model = models.BPE(vocab=vocab, merges=list(merges))
    stage1 = Tokenizer(model)  # no normalizer/pre-tokenizer: the chunk is one word already
    chunks = [chunk for chunk in chunk_counts if len(chunk) > 1]
    encode = stage1.encode_batch_fast  # tokenizers >= 0.20: no offsets computed
    result: list[tuple[str, int]] = []
    batch_size = 20_000
    for start in range(0, len(chunks), batch_size):
        batch = chunks[start : start + batch_size]
        for chunk, encoding in zip(batch, encode(batch, add_special_tokens=False), strict=True):
            ids = encoding.ids
            if len(ids) > 1:
                codes = np.asarray(ids, dtype=np.uint32) + PROXY_BASE
                result.append((codes.tobytes().decode("utf-32-le"), chunk_counts[chunk]))
    return result


def learn_stage2_merges(
    proxies: list[tuple[str, int]], wanted: int, settings: TrainSettings
) -> list[tuple[str, str]]:
    """Stage-2 merges over stand-in strings, learned by HF's BpeTrainer from chunk counts."""
    if wanted <= 0 or not proxies:
        return []
    alphabet = {char for proxy, _ in proxies for char in proxy}
    trainer = hf_trainers.BpeTrainer(
        vocab_size=len(alphabet) + int(wanted * (1 + ALIAS_MARGIN)) + 16,
        min_frequency=max(settings.min_frequency, 2),
        max_token_length=settings.superword_max_subwords,
        limit_alphabet=len(alphabet) + 1,
        show_progress=False,
    )
    learner = Tokenizer(models.BPE())
    learner.pre_tokenizer = pre_tokenizers.Split(Regex(CHUNK_SEPARATOR), behavior="removed")

    def texts() -> Iterable[str]:
        # every chunk repeated as often as it occurred; HF counts them again in Rust
        buffer: list[str] = []
        size = 0
        for proxy, count in proxies:
            buffer.append((proxy + CHUNK_SEPARATOR) * count)
            size += (len(proxy) + 1) * count
            if size > 1 << 20:
                yield "".join(buffer)
                buffer, size = [], 0
        if buffer:
            yield "".join(buffer)

    learner.train_from_iterator(texts(), trainer=trainer)
    merges = json.loads(learner.to_str())["model"]["merges"]
    return [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in merges]


def is_one_chunk(token: str, counter: ChunkCounter) -> bool:
    """True when the text of byte-level ``token`` is one stage-2 chunk on its own, so encoding
    that text can yield the token."""
    byte_of_char = byte_level_alphabet()
    text = bytes(byte_of_char[char] for char in token).decode("utf-8", "replace")
    pieces = counter.pre_tokenizer.pre_tokenize_str(text)
    return len(pieces) == 1 and pieces[0][0] == token


def _unproxy(proxy: str, id_to_token: dict[int, str]) -> str:
    return "".join(id_to_token[ord(char) - PROXY_BASE] for char in proxy)


def _is_superword(token: str) -> bool:
    """A byte-level token whose text has a space (Ġ) after its first character."""
    return "Ġ" in token[1:]


class MergeListEncoder:
    """A plain BPE encoder over a tokenizer.json's merge list (minbpe style): split with the
    tokenizer's own pre-tokenizer, then repeatedly apply the lowest-ranked merge present.

    It exists to check that HF ``tokenizers`` encodes an exported merge list as the merge list
    says, i.e. that the order of stage-1 and stage-2 merges is all the export needs.
    """

    def __init__(self, config: dict) -> None:
        model = config["model"]
        self.vocab: dict[str, int] = model["vocab"]
        pairs = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
        self.ranks = {pair: rank for rank, pair in enumerate(pairs)}
        self.pre_tokenizer = Tokenizer.from_str(json.dumps(config)).pre_tokenizer

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for piece, _ in self.pre_tokenizer.pre_tokenize_str(text):
            ids += [self.vocab[symbol] for symbol in self.encode_piece(piece)]
        return ids

    def encode_piece(self, piece: str) -> list[str]:
        symbols = list(piece)
        while len(symbols) > 1:
            ranked = [
                (self.ranks.get((a, b), len(self.ranks)), i)
                for i, (a, b) in enumerate(itertools.pairwise(symbols))
            ]
            rank, position = min(ranked)
            if rank == len(self.ranks):
                break
            symbols[position : position + 2] = [symbols[position] + symbols[position + 1]]
        return symbols
