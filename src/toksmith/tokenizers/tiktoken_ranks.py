"""tiktoken backend: rank files (``*.tiktoken``, Llama 3's ``tokenizer.model``) and Tekken JSON."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import numpy as np
import regex
import tiktoken

from toksmith.errors import UserError
from toksmith.tokenizers.base import Pipeline, Tokenizer

# The GPT-4 pre-tokenization pattern: the default for a rank file that names no pattern.
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)

# Patterns under which " w1 w2 ..." splits into exactly the pieces of " w1", " w2", ... when
# every word is made of letters, marks and digits only: each alternative takes whitespace
# only as its first character or is whitespace only, so no piece runs from one word into the
# next, and no lookahead reaches past a word. These are the patterns of the tiktoken
# encodings (r50k/p50k, cl100k, o200k), Llama 3, Llama 4 and Tekken; tests compare the joined
# and the one-by-one encodings on words of every script in the UDHR corpus.
WORD_LOCAL_PATTERNS = frozenset(
    {
        CL100K_PATTERN,
        r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s""",
        r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"""
        r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"""
        r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+"""
        r"""[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}"""
        r"""| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"""
        r"""|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"""
        r"""|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    }
)
_NOT_JOINABLE = regex.compile(r"[^\p{L}\p{M}\p{N} ]")

_WORKERS = max(1, os.cpu_count() or 1)
_CHUNK_TEXTS = 256
_THREADED_MIN_CHARS = 16  # mean text length below which one thread encodes faster (measured)
_pool: ThreadPoolExecutor | None = None


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="toksmith-encode")
    return _pool


def _joinable(words: Sequence[str]) -> np.ndarray:
    """Which words are made only of letters, marks and digits (one search over all words)."""
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    starts = np.cumsum(lengths + 1) - lengths - 1  # offsets of each word in " ".join(words)
    text = " ".join(words)
    if text.count(" ") != len(words) - 1:  # a word with a space in it: no word is joined
        return np.zeros(len(words), dtype=bool)
    joinable = lengths > 0
    other = [m.start() for m in _NOT_JOINABLE.finditer(text)]
    if other:
        joinable[np.searchsorted(starts, other, side="right") - 1] = False
    return joinable


def _spread(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Positions ``starts[k], starts[k]+1, ..., starts[k]+lengths[k]-1`` for every k, in order."""
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))


def read_rank_file(path: Path) -> dict[bytes, int]:
    """Parse a tiktoken rank file: one ``<base64 token> <rank>`` per line.

    Raises :class:`UserError` naming the file and line on the first malformed line.
    """
    ranks: dict[bytes, int] = {}
    with open(path, "rb") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            parts = line.split()
            try:
                if len(parts) != 2:
                    raise ValueError
                ranks[base64.b64decode(parts[0], validate=True)] = int(parts[1])
            except (ValueError, binascii.Error):
                raise UserError(
                    f"{path}: line {line_number} is not '<base64 token> <rank>' "
                    "as a tiktoken rank file needs"
                ) from None
    if not ranks:
        raise UserError(f"{path}: empty tiktoken rank file")
    return ranks


class TiktokenTokenizer(Tokenizer):
    """A tiktoken ``Encoding`` behind the toksmith interface.

    ``id_offset`` shifts every ordinary rank by a fixed amount: Tekken reserves the first ids
    for its special tokens and stores ordinary tokens by rank after them.
    """

    byte_exact = True

    def __init__(
        self,
        encoding: tiktoken.Encoding,
        *,
        name: str,
        source: str,
        backend: str = "tiktoken",
        id_offset: int = 0,
        offset_special_tokens: Mapping[str, int] | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        self.encoding = encoding
        self.name = name
        self.source = source
        self.backend = backend
        self.id_offset = id_offset
        self.notes = notes
        if id_offset:
            self.special_tokens = dict(offset_special_tokens or {})
        else:
            self.special_tokens = dict(encoding._special_tokens)
        self._special_ids = frozenset(self.special_tokens.values())

    @property
    def vocab_size(self) -> int:
        return self.encoding.n_vocab + self.id_offset

    @property
    def special_ids(self) -> frozenset[int]:
        return self._special_ids

    def encode(self, text: str) -> list[int]:
        ids = self.encoding.encode_ordinary(text)
        if self.id_offset:
            return [i + self.id_offset for i in ids]
        return ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        # Chunks of texts per thread: tiktoken's own batch call submits one task per text,
        # which costs more than encoding a short text. Texts as short as single words go
        # faster on one thread than with the GIL handed back and forth between two.
        encode = self.encoding.encode_ordinary

        def encode_chunk(chunk: Sequence[str]) -> list[list[int]]:
            return [encode(text) for text in chunk]

        if len(texts) <= _CHUNK_TEXTS or sum(map(len, texts)) < _THREADED_MIN_CHARS * len(texts):
            batch = encode_chunk(texts)
        else:
            chunks = [texts[i : i + _CHUNK_TEXTS] for i in range(0, len(texts), _CHUNK_TEXTS)]
            batch = [ids for part in _thread_pool().map(encode_chunk, chunks) for ids in part]
        if self.id_offset:
            offset = self.id_offset
            return [[i + offset for i in ids] for ids in batch]
        return batch

    def encode_batch_numpy(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        # tiktoken's encode_to_numpy fills a buffer in Rust with the GIL released; chunks of
        # texts per thread keep dispatch overhead low, and no Python int objects are made.
        encoding = self.encoding

        def encode_chunk(chunk: Sequence[str]) -> list[np.ndarray]:
            return [encoding.encode_to_numpy(text, disallowed_special=()) for text in chunk]

        if len(texts) <= _CHUNK_TEXTS:
            arrays = encode_chunk(texts)
        else:
            chunks = [texts[i : i + _CHUNK_TEXTS] for i in range(0, len(texts), _CHUNK_TEXTS)]
            arrays = [array for part in _thread_pool().map(encode_chunk, chunks) for array in part]
        lengths = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
        flat = np.concatenate(arrays).astype(np.int64) if arrays else np.zeros(0, np.int64)
        if self.id_offset:
            flat += self.id_offset
        return flat, lengths

    def encode_words_numpy(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Words of letters, marks and digits are encoded in one call when the pattern allows.

        Under a pattern in :data:`WORD_LOCAL_PATTERNS` the tokens of " w1 w2 ..." are the
        tokens of each " w" in turn; token byte lengths then cut the ids back into words. The
        cut is checked (every word must end on a token boundary), and any failure falls back
        to one call per word. Other words are always encoded one by one.
        """
        count = len(words)
        joinable = np.zeros(count, dtype=bool)
        if self.encoding._pat_str in WORD_LOCAL_PATTERNS:
            joinable = _joinable(words)
        joinable_words = [words[i] for i in np.flatnonzero(joinable)]
        # Two halves in two threads: tiktoken releases the GIL while it encodes.
        middle = len(joinable_words) // 2
        halves = [joinable_words[:middle], joinable_words[middle:]]
        parts = list(_thread_pool().map(self._encode_joined, halves))
        if any(part is None for part in parts):
            joinable[:] = False
            parts = []
        joined = (
            np.concatenate([part[0] for part in parts] or [np.zeros(0, np.int64)]),
            np.concatenate([part[1] for part in parts] or [np.zeros(0, np.int64)]),
        )
        if joinable.all():
            return joined
        single = super().encode_words_numpy([words[i] for i in np.flatnonzero(~joinable)])
        if not joinable.any():
            return single
        lengths = np.empty(count, dtype=np.int64)
        lengths[joinable], lengths[~joinable] = joined[1], single[1]
        starts = np.cumsum(lengths) - lengths
        flat = np.empty(int(lengths.sum()), dtype=np.int64)
        flat[_spread(starts[joinable], joined[1])] = joined[0]
        flat[_spread(starts[~joinable], single[1])] = single[0]
        return flat, lengths

    def _encode_joined(self, words: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
        if not words:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        ids = self.encoding.encode_to_numpy(" " + " ".join(words), disallowed_special=())
        ids = ids.astype(np.int64) + self.id_offset
        token_ends = np.cumsum(self._id_byte_lengths[ids])
        word_ends = np.cumsum(
            np.fromiter((len(w.encode("utf-8")) + 1 for w in words), np.int64, len(words))
        )
        last_tokens = np.minimum(np.searchsorted(token_ends, word_ends), len(ids) - 1)
        if not np.array_equal(token_ends[last_tokens], word_ends):
            return None
        lengths = np.diff(last_tokens, prepend=-1)
        first_tokens = last_tokens - lengths + 1
        blank_first = (lengths > 1) & self._blank_id_mask[ids[first_tokens]]
        if blank_first.any():
            keep = np.ones(len(ids), dtype=bool)
            keep[first_tokens[blank_first]] = False
            ids, lengths = ids[keep], lengths - blank_first
        return ids, lengths

    @cached_property
    def _id_byte_lengths(self) -> np.ndarray:
        return np.fromiter(map(len, self.vocab_bytes), dtype=np.int64, count=self.vocab_size)

    @cached_property
    def _blank_id_mask(self) -> np.ndarray:
        mask = np.zeros(self.vocab_size, dtype=bool)
        mask[list(self.blank_token_ids)] = True
        return mask

    def decode(self, ids: Sequence[int]) -> str:
        if not self.id_offset:
            ordinary = [i for i in ids if i not in self._special_ids]
            return self.encoding.decode(ordinary, errors="replace")
        return b"".join(self.token_bytes(i) for i in ids).decode("utf-8", errors="replace")

    def token_bytes(self, token_id: int) -> bytes:
        if token_id in self._special_ids:
            return b""
        rank = token_id - self.id_offset
        if rank < 0:
            return b""
        try:
            return self.encoding.decode_single_token_bytes(rank)
        except KeyError:
            return b""  # an id in the range that no token occupies

    def pipeline(self) -> Pipeline:
        return Pipeline(
            normalizer="none",
            pre_tokenizer=f"regex split: {self.encoding._pat_str}",
            model=f"byte-level BPE by rank ({len(self.encoding._mergeable_ranks)} ranks)",
            decoder="bytes concatenated, UTF-8",
            notes=self.notes,
        )


def load_rank_file(
    path: Path,
    *,
    name: str | None = None,
    pattern: str | None = None,
    special_tokens: Mapping[str, int] | None = None,
) -> TiktokenTokenizer:
    """Load a tiktoken rank file; without ``pattern`` the GPT-4 (cl100k) split is used."""
    ranks = read_rank_file(path)
    notes: tuple[str, ...] = ()
    if pattern is None:
        pattern = CL100K_PATTERN
        notes = ("the rank file names no pre-tokenization pattern; the cl100k pattern is used",)
    encoding = tiktoken.Encoding(
        name=name or path.name,
        pat_str=pattern,
        mergeable_ranks=ranks,
        special_tokens=dict(special_tokens or {}),
    )
    return TiktokenTokenizer(encoding, name=name or path.name, source=str(path), notes=notes)


TEKKEN_LEGACY_SPECIALS = (
    "<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]",
    "[TOOL_RESULTS]", "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>", "[IMG_BREAK]",
    "[IMG_END]", "[PREFIX]", "[MIDDLE]", "[SUFFIX]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]",
    "[TOOL_CONTENT]",
)  # fmt: skip


def tekken_from_json(data: dict, *, path: Path, name: str | None = None) -> TiktokenTokenizer:
    """Build a Mistral Tekken tokenizer from its parsed JSON file.

    Tekken ids ``0 .. num_special-1`` are special tokens; ordinary token of rank ``r`` has id
    ``r + num_special``; the vocabulary is cut to ``default_vocab_size`` ids in all, as
    mistral-common does.
    """
    try:
        config = data["config"]
        num_special = int(config["default_num_special_tokens"])
        vocab_size = int(config["default_vocab_size"])
        pattern = str(config["pattern"])
        ranks = {
            base64.b64decode(entry["token_bytes"]): int(entry["rank"])
            for entry in data["vocab"][: vocab_size - num_special]
        }
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        raise UserError(f"{path}: not a valid Tekken tokenizer file ({error!r})") from None
    listed = [t["token_str"] for t in data.get("special_tokens") or []]
    names = listed or list(TEKKEN_LEGACY_SPECIALS)
    names += [f"<SPECIAL_{i}>" for i in range(len(names), num_special)]
    encoding = tiktoken.Encoding(
        name=name or path.stem, pat_str=pattern, mergeable_ranks=ranks, special_tokens={}
    )
    return TiktokenTokenizer(
        encoding,
        name=name or path.stem,
        source=str(path),
        backend="tekken",
        id_offset=num_special,
        offset_special_tokens={token: i for i, token in enumerate(names[:num_special])},
    )
