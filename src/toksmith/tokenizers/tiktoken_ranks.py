"""tiktoken backend: rank files (``*.tiktoken``, Llama 3's ``tokenizer.model``) and Tekken JSON."""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np
import regex
import tiktoken

from toksmith.errors import UserError
from toksmith.tokenizers.base import (
    _FALLBACK_LOCK,
    Pipeline,
    Tokenizer,
    check_special_policy,
    split_ids,
)
from toksmith.tokenizers.failures import backend_errors, backend_failure

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

    Raises :class:`UserError` naming the file and line on the first malformed line, and
    naming the file and the first duplicate rank or missing byte (see
    :func:`toksmith.tokenizers.validate.validate_ranks`).
    """
    from toksmith.tokenizers.validate import validate_ranks

    entries: list[tuple[bytes, int]] = []
    with open(path, "rb") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            parts = line.split()
            try:
                if len(parts) != 2:
                    raise ValueError
                entries.append((base64.b64decode(parts[0], validate=True), int(parts[1])))
            except (ValueError, binascii.Error):
                raise UserError(
                    f"{path}: line {line_number} is not '<base64 token> <rank>' "
                    "as a tiktoken rank file needs"
                ) from None
    if not entries:
        raise UserError(f"{path}: empty tiktoken rank file")
    validate_ranks(entries, str(path))
    ranks = dict(entries)
    if len(ranks) != len(entries):
        seen: set[bytes] = set()
        for token, _ in entries:
            if token in seen:
                raise UserError(f"{path}: token {token!r} is listed twice; tokens must be unique")
            seen.add(token)
    return ranks


def split_long_runs(text: str, max_run_chars: int) -> list[str]:
    """Cut ``text`` so no piece holds more than ``max_run_chars`` consecutive whitespace or
    consecutive non-whitespace characters: Meta's ``_split_whitespaces_or_nonwhitespaces``
    (llama_models ``Tokenizer``), rule for rule."""
    pieces: list[str] = []
    run_length = 0
    run_is_space = text[0].isspace() if text else False
    piece_start = 0
    for position, char in enumerate(text):
        is_space = char.isspace()
        if run_is_space ^ is_space:
            run_length = 1
            run_is_space = is_space
        else:
            run_length += 1
            if run_length > max_run_chars:
                pieces.append(text[piece_start:position])
                piece_start = position
                run_length = 1
    pieces.append(text[piece_start:])
    return pieces


def recover_merges(
    ranks: Mapping[bytes, int], limit: int | None = None
) -> tuple[list[tuple[bytes, bytes]], int, int]:
    """Recover the merge order of a tiktoken rank table: ``(merges, available, skipped)``.

    Tokens of two or more bytes are taken in rank order; each one is split by running BPE on
    its bytes with only the ranks lower than its own, which leaves exactly the two parts it
    was merged from. A token that does not come apart into two parts (it was added by hand)
    is counted in ``skipped`` and left out. ``available`` is the number of multi-byte tokens
    less the skipped ones; at most ``limit`` merges are recovered.
    """
    multi_byte = sorted((rank, token) for token, rank in ranks.items() if len(token) > 1)
    merges: list[tuple[bytes, bytes]] = []
    skipped = 0
    for rank, token in multi_byte:
        if limit is not None and len(merges) >= limit:
            break
        parts = _bpe_parts(ranks, token, rank)
        if len(parts) == 2:
            merges.append((parts[0], parts[1]))
        else:
            skipped += 1
    return merges, len(multi_byte) - skipped, skipped


def _bpe_parts(ranks: Mapping[bytes, int], token: bytes, below_rank: int) -> list[bytes]:
    """The parts BPE leaves of ``token`` when it may only use ranks below ``below_rank``."""
    parts = [token[i : i + 1] for i in range(len(token))]
    while len(parts) > 2:
        best_rank = below_rank
        best_position = -1
        for position in range(len(parts) - 1):
            rank = ranks.get(parts[position] + parts[position + 1])
            if rank is not None and rank < best_rank:
                best_rank = rank
                best_position = position
        if best_position < 0:
            break
        parts[best_position : best_position + 2] = [parts[best_position] + parts[best_position + 1]]
    return parts


class TiktokenTokenizer(Tokenizer):
    """A tiktoken ``Encoding`` behind the toksmith interface.

    ``id_offset`` shifts every ordinary rank by a fixed amount: Tekken reserves the first ids
    for its special tokens and stores ordinary tokens by rank after them.

    ``max_chunk_chars`` and ``max_run_chars`` reproduce a vendor class that cuts the text
    before encoding (Meta's Llama 3/4 ``Tokenizer.encode``: pieces of at most 400,000
    characters, then no run of more than 25,000 whitespace or non-whitespace characters). A
    text no longer than ``max_run_chars`` is never cut, so it takes the direct path.
    """

    byte_exact = True
    vendor_attributes = ("encoding", "_encode_piece", "_encode_ranks")
    vendor_caches = (*Tokenizer.vendor_caches, "_id_byte_lengths", "_blank_id_mask", "merges_table")

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
        special: str = "text",
        max_chunk_chars: int | None = None,
        max_run_chars: int | None = None,
    ) -> None:
        self.encoding = encoding
        self.name = name
        self.source = source
        self.backend = backend
        self.id_offset = id_offset
        self.notes = notes
        self.special_policy = check_special_policy(special)
        if id_offset:
            self.special_tokens = dict(offset_special_tokens or {})
        else:
            self.special_tokens = dict(encoding._special_tokens)
        self._special_ids = frozenset(self.special_tokens.values())
        self._vocab_size = encoding.n_vocab + id_offset  # kept when the encoding is released
        self.max_chunk_chars = max_chunk_chars
        self.max_run_chars = max_run_chars
        self._configure_encoders()

    def _configure_encoders(self) -> None:
        """Bind the per-text encoders for the special policy and the vendor's cutting rule."""
        core = self.encoding._core_bpe
        self._special_split: re.Pattern[str] | None = None
        self._allowed: set[str] = set()
        if self.special_policy == "allow" and self.special_tokens:
            if self.id_offset:  # Tekken: the Encoding holds no specials; match them here
                names = sorted(self.special_tokens, key=len, reverse=True)
                self._special_split = re.compile("|".join(map(re.escape, names)))
            else:
                self._allowed = set(self.encoding.special_tokens_set)
        piece: Callable[[str], list[int]]
        if self._special_split is not None:
            piece = self._encode_with_specials
        elif self._allowed:
            allowed = self._allowed
            piece = lambda text: core.encode(text, allowed)  # noqa: E731
        else:
            piece = core.encode_ordinary
        self._encode_piece = piece
        self._encode_ranks: Callable[[str], list[int]] = (
            piece if self.max_run_chars is None else self._encode_cut
        )

    def _encode_with_specials(self, text: str) -> list[int]:
        """Ranks of ``text`` with special-token strings as their (offset-less) ids."""
        assert self._special_split is not None
        encode = self.encoding._core_bpe.encode_ordinary
        ids: list[int] = []
        start = 0
        for match in self._special_split.finditer(text):
            if match.start() > start:
                ids.extend(encode(text[start : match.start()]))
            ids.append(self.special_tokens[match.group()] - self.id_offset)
            start = match.end()
        if start < len(text):
            ids.extend(encode(text[start:]))
        return ids

    def _encode_cut(self, text: str) -> list[int]:
        """The vendor's cutting rule, then :attr:`_encode_piece` on each piece."""
        run = self.max_run_chars
        assert run is not None
        if len(text) <= run:
            return self._encode_piece(text)
        chunk = self.max_chunk_chars or len(text)
        ids: list[int] = []
        for start in range(0, len(text), chunk):
            part = text[start : start + chunk]
            if _has_long_run(part, run):
                for piece in split_long_runs(part, run):
                    ids.extend(self._encode_piece(piece))
            else:
                ids.extend(self._encode_piece(part))
        return ids

    @property
    def vocab_size(self) -> int:
        return self._vocab_size

    @property
    def special_ids(self) -> frozenset[int]:
        return self._special_ids

    def cut_pieces(self, text: str) -> list[str]:
        """The pieces the vendor's cutting rule hands to the encoder (:meth:`_encode_cut`)."""
        run = self.max_run_chars
        if run is None or len(text) <= run:
            return [text]
        chunk = self.max_chunk_chars or len(text)
        pieces: list[str] = []
        for start in range(0, len(text), chunk):
            part = text[start : start + chunk]
            if _has_long_run(part, run):
                pieces.extend(split_long_runs(part, run))
            else:
                pieces.append(part)
        return pieces

    def build_fast_engine(self) -> Any:
        """A fastokens engine for these ranks, pattern and cutting rule, or None (see
        :mod:`.fast`). Tekken under ``--special allow`` cuts at specials in Python: none."""
        from toksmith.tokenizers.fast import rank_engine

        if self._special_split is not None:
            return None
        return rank_engine(
            self.encoding._mergeable_ranks,
            pattern=self.encoding._pat_str,
            # Always the specials (under --special text they are split as plain text); one
            # in a gap of the ranks (p50k's <|endoftext|>) is renumbered and mapped back.
            special_tokens=self.encoding._special_tokens,
            special=self.special_policy,
            cut=self.cut_pieces if self.max_run_chars is not None else None,
            cut_above=self.max_run_chars or 0,
        )

    def parity_key(self) -> str:
        """A hash of what the encoding depends on: the rank file (or the ranks), the pattern,
        the specials, the id offset, the cutting rule and the special policy."""
        import hashlib

        digest = hashlib.blake2b(digest_size=16)
        path = Path(self.source)
        if path.is_file():
            digest.update(path.read_bytes())
        else:
            for token, rank in sorted(self.encoding._mergeable_ranks.items(), key=lambda x: x[1]):
                digest.update(b"%d " % rank + token + b"\n")
        settings = [
            self.encoding._pat_str,
            sorted(self.special_tokens.items()),
            self.id_offset,
            self.max_chunk_chars,
            self.max_run_chars,
            self.special_policy,
        ]
        digest.update(repr(settings).encode("utf-8"))
        return digest.hexdigest()

    def _fast_ids(self, engine: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        flat, lengths = engine.encode_batch_numpy(texts)
        if self.id_offset:
            flat = flat + self.id_offset
        return flat, lengths

    def encode(self, text: str) -> list[int]:
        fast = self._fast_batch_numpy([text])
        if fast is not None:
            return [int(i) for i in fast[0]]
        try:
            ids = self._encode_ranks(text)
        except BaseException as error:
            raise backend_failure(self.name, "encode", error, [text]) from None
        if self.id_offset:
            return [i + self.id_offset for i in ids]
        return ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        fast = self._fast_batch_numpy(texts)
        if fast is not None:
            return split_ids(*fast)
        # Chunks of texts per thread: tiktoken's own batch call submits one task per text,
        # which costs more than encoding a short text. Texts as short as single words go
        # faster on one thread than with the GIL handed back and forth between two.
        encode = self._encode_ranks

        def encode_chunk(chunk: Sequence[str]) -> list[list[int]]:
            return [encode(text) for text in chunk]

        try:
            if len(texts) <= _CHUNK_TEXTS or sum(map(len, texts)) < _THREADED_MIN_CHARS * len(
                texts
            ):
                batch = encode_chunk(texts)
            else:
                chunks = [texts[i : i + _CHUNK_TEXTS] for i in range(0, len(texts), _CHUNK_TEXTS)]
                batch = [ids for part in _thread_pool().map(encode_chunk, chunks) for ids in part]
        except BaseException as error:
            raise backend_failure(self.name, "encode", error, texts) from None
        if self.id_offset:
            offset = self.id_offset
            return [[i + offset for i in ids] for ids in batch]
        return batch

    def _numpy_encoder(self, texts: Sequence[str]) -> Callable[[str], np.ndarray]:
        """The per-text encoder to arrays: tiktoken's buffer call for every text it can take
        whole, the Python path for texts the vendor rule cuts or that hold special strings."""
        buffer = self.encoding._core_bpe.encode_to_tiktoken_buffer
        allowed = self._allowed

        def direct(text: str) -> np.ndarray:
            return np.frombuffer(buffer(text, allowed), dtype=np.uint32)

        run = self.max_run_chars
        split = self._special_split
        needs_cut = run is not None and max(map(len, texts), default=0) > run
        if not needs_cut and split is None:
            return direct

        def careful(text: str) -> np.ndarray:
            if (run is not None and len(text) > run) or (split and split.search(text)):
                return np.asarray(self._encode_ranks(text), dtype=np.int64)
            return direct(text)

        return careful

    def encode_batch_numpy(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        fast = self._fast_batch_numpy(texts)
        if fast is not None:
            return fast
        return self.vendor_batch_numpy(texts)

    def vendor_batch_numpy(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`encode_batch_numpy` by tiktoken itself (the parity reference)."""
        # tiktoken's buffer encoder fills a buffer in Rust with the GIL released; chunks of
        # texts per thread keep dispatch overhead low, and no Python int objects are made.
        encode = self._numpy_encoder(texts)

        def encode_chunk(chunk: Sequence[str]) -> list[np.ndarray]:
            return [encode(text) for text in chunk]

        try:
            if len(texts) <= _CHUNK_TEXTS:
                arrays = encode_chunk(texts)
            else:
                chunks = [texts[i : i + _CHUNK_TEXTS] for i in range(0, len(texts), _CHUNK_TEXTS)]
                arrays = [a for part in _thread_pool().map(encode_chunk, chunks) for a in part]
        except BaseException as error:
            raise backend_failure(self.name, "encode", error, texts) from None
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
        to one call per word. Other words (and words the vendor rule would cut) are always
        encoded one by one.
        """
        count = len(words)
        joinable = np.zeros(count, dtype=bool)
        if self.encoding._pat_str in WORD_LOCAL_PATTERNS:
            joinable = _joinable(words)
            if self.max_run_chars is not None:
                word_lengths = np.fromiter(map(len, words), dtype=np.int64, count=count)
                joinable &= word_lengths < self.max_run_chars
        joinable_words = [words[int(i)] for i in np.flatnonzero(joinable)]
        # Two halves in two threads: tiktoken releases the GIL while it encodes.
        middle = len(joinable_words) // 2
        halves = [joinable_words[:middle], joinable_words[middle:]]
        try:
            encoded = list(_thread_pool().map(self._encode_joined, halves))
        except BaseException as error:
            raise backend_failure(self.name, "encode", error, joinable_words) from None
        parts = [part for part in encoded if part is not None]
        if len(parts) < len(encoded):
            joinable[:] = False
            parts = []
        joined = (
            np.concatenate([part[0] for part in parts] or [np.zeros(0, np.int64)]),
            np.concatenate([part[1] for part in parts] or [np.zeros(0, np.int64)]),
        )
        if joinable.all():
            return joined
        single = super().encode_words_numpy([words[int(i)] for i in np.flatnonzero(~joinable)])
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
        joined = " " + " ".join(words)
        ranks = self._fast_whole(joined)
        if ranks is None:
            ranks = self.encoding.encode_to_numpy(joined, disallowed_special=())
        ids = ranks.astype(np.int64) + self.id_offset
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

    def _fast_whole(self, text: str) -> np.ndarray | None:
        """The fast engine's ranks of ``text`` encoded whole (no cutting rule, specials as
        text), or None when the vendor engine should serve (see ``_fast_batch_numpy``)."""
        lazy = self.fast_engine
        engine = lazy.get([text]) if lazy is not None and not self._allowed else None
        if engine is None:
            return None
        try:
            return engine.encode_whole([text])[0]
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # a Rust panic is a BaseException
            with _FALLBACK_LOCK:
                self.fast_fallbacks += 1
            return None

    @cached_property
    def _id_byte_lengths(self) -> np.ndarray:
        return np.fromiter(map(len, self.vocab_bytes), dtype=np.int64, count=self.vocab_size)

    @cached_property
    def _blank_id_mask(self) -> np.ndarray:
        mask = np.zeros(self.vocab_size, dtype=bool)
        mask[list(self.blank_token_ids)] = True
        return mask

    def decode(self, ids: Sequence[int]) -> str:
        try:
            if not self.id_offset:
                ordinary = [i for i in ids if i not in self._special_ids]
                return self.encoding.decode(ordinary, errors="replace")
        except BaseException as error:
            raise backend_failure(self.name, "decode", error) from None
        return b"".join(self.token_bytes(i) for i in ids).decode("utf-8", errors="replace")

    def token_bytes(self, token_id: int) -> bytes:
        if token_id in self._special_ids:
            return b""
        rank = token_id - self.id_offset
        if rank < 0:
            return b""
        try:
            return self.encoding.decode_single_token_bytes(rank)
        except (KeyError, OverflowError):
            return b""  # an id in the range that no token occupies

    # ---- what features read ---------------------------------------------------------------

    @property
    def unknown_ids(self) -> frozenset[int]:
        # Byte-level BPE encodes every text; Tekken's "<unk>" is never produced from text.
        return frozenset(i for token, i in self.special_tokens.items() if token == "<unk>")

    @property
    def byte_fallback_ids(self) -> frozenset[int]:
        return frozenset()

    @property
    def unused_ids(self) -> frozenset[int]:
        return frozenset()

    @property
    def pattern(self) -> str | None:
        return str(self.encoding._pat_str)

    @property
    def continuation_prefix(self) -> str | None:
        return None

    @property
    def byte_encoding(self) -> str | None:
        return "raw"

    def merges(self) -> list[tuple[bytes, bytes]]:
        return list(self.merges_table)

    @cached_property
    def merges_table(self) -> tuple[tuple[bytes, bytes], ...]:
        """:meth:`merges`, recovered once from the ranks (see :func:`recover_merges`)."""
        return tuple(recover_merges(self.encoding._mergeable_ranks)[0])

    def token_label(self, token_id: int) -> str | None:
        return self._special_names.get(token_id)

    @cached_property
    def _special_names(self) -> dict[int, str]:
        return {token_id: name for name, token_id in self.special_tokens.items()}

    def normalizer_spec(self) -> dict[str, Any] | None:
        return None

    def pre_tokenizer_spec(self) -> dict[str, Any] | None:
        return {
            "type": "Split",
            "pattern": {"Regex": self.pattern},
            "behavior": "Isolated",
            "invert": False,
        }

    def pre_tokens(self, text: str) -> list[bytes]:
        return [piece.encode("utf-8") for piece in self._compiled_pattern.findall(text)]

    @cached_property
    def _compiled_pattern(self) -> regex.Pattern[str]:
        return regex.compile(self.encoding._pat_str)

    def encode_bytes(self, data: bytes) -> list[int]:
        try:
            ids = self.encoding._encode_bytes(data)
        except BaseException as error:
            raise backend_failure(self.name, "encode", error) from None
        offset = self.id_offset
        return [i + offset for i in ids] if offset else ids

    def special_strings(self) -> dict[str, int]:
        return dict(self.special_tokens)

    def pipeline(self) -> Pipeline:
        return Pipeline(
            normalizer="none",
            pre_tokenizer=f"regex split: {self.encoding._pat_str}",
            model=f"byte-level BPE by rank ({len(self.encoding._mergeable_ranks)} ranks)",
            decoder="bytes concatenated, UTF-8",
            notes=self.notes,
        )


def _has_long_run(text: str, run: int) -> bool:
    """True when ``text`` holds more than ``run`` consecutive whitespace or non-whitespace
    characters, in ``str.isspace`` classes as Meta's rule uses (``re``'s ``\\s`` is the same
    class). Linear time: the lookbehinds let a match start only where a run starts."""
    return _long_run_regex(run).search(text) is not None


@cache
def _long_run_regex(run: int) -> re.Pattern[str]:
    return re.compile(rf"(?<!\s)\s{{{run + 1}}}|(?<!\S)\S{{{run + 1}}}")


def _build_encoding(
    what: str, name: str, pattern: str, ranks: dict[bytes, int], special_tokens: dict[str, int]
) -> tiktoken.Encoding:
    """A tiktoken Encoding, its regex compiled and tried (see validate.py), or a UserError."""
    from toksmith.tokenizers.validate import validate_round_trip

    try:
        with backend_errors(what, "load"):
            encoding = tiktoken.Encoding(
                name=name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=special_tokens
            )
    except ValueError as error:  # the regex does not compile
        raise UserError(f"{what}: pre-tokenization regex does not compile ({error})") from None
    core = encoding._core_bpe
    validate_round_trip(
        lambda text: encoding.decode_bytes(core.encode_ordinary(text)), pattern, what
    )
    return encoding


build_encoding = _build_encoding


def cached_rank_file(path: Path) -> dict[bytes, int]:
    """:func:`read_rank_file`, answered from the user's cache when an entry for the file's
    exact content is there (it was written after the same checks passed)."""
    from toksmith.tokenizers.cache import cached_ranks

    return cached_ranks(path, "rank-file", lambda: read_rank_file(path))


def load_rank_file(
    path: Path,
    *,
    name: str | None = None,
    pattern: str | None = None,
    special_tokens: Mapping[str, int] | None = None,
    special: str = "text",
) -> TiktokenTokenizer:
    """Load a tiktoken rank file; without ``pattern`` the GPT-4 (cl100k) split is used."""
    ranks = cached_rank_file(path)
    notes: tuple[str, ...] = ()
    if pattern is None:
        pattern = CL100K_PATTERN
        notes = ("the rank file names no pre-tokenization pattern; the cl100k pattern is used",)
    encoding = _build_encoding(
        str(path), name or path.name, pattern, ranks, dict(special_tokens or {})
    )
    return TiktokenTokenizer(
        encoding, name=name or path.name, source=str(path), notes=notes, special=special
    )


TEKKEN_LEGACY_SPECIALS = (
    "<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]",
    "[TOOL_RESULTS]", "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>", "[IMG_BREAK]",
    "[IMG_END]", "[PREFIX]", "[MIDDLE]", "[SUFFIX]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]",
    "[TOOL_CONTENT]",
)  # fmt: skip


def load_tekken_file(
    path: Path, *, name: str | None = None, special: str = "text"
) -> TiktokenTokenizer:
    """A Tekken JSON file, its parsed rank table and settings read from the user's cache when
    an entry for the file's exact content is there; otherwise :func:`tekken_from_json` on the
    parsed file, and the result is cached."""
    import json

    from toksmith.tokenizers import cache

    key = cache.file_key(path)
    data = cache.read_entry(key, "tekken")
    unpacked = cache.unpack_meta_and_ranks(data) if data is not None else None
    if unpacked is not None:
        meta, ranks = unpacked
        try:
            pattern = str(meta["pattern"])
            num_special = int(meta["num_special"])
            specials = {str(token): int(i) for token, i in meta["specials"]}
        except (KeyError, TypeError, ValueError):
            unpacked = None
    if unpacked is None:
        try:
            parsed = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise UserError(f"{path}: not a readable Tekken JSON file ({error})") from None
        tokenizer = tekken_from_json(parsed, path=path, name=name, special=special)
        meta = {
            "pattern": tokenizer.encoding._pat_str,
            "num_special": tokenizer.id_offset,
            "specials": sorted(tokenizer.special_tokens.items(), key=lambda item: item[1]),
        }
        cache.write_entry(
            key, "tekken", cache.pack_meta_and_ranks(meta, tokenizer.encoding._mergeable_ranks)
        )
        return tokenizer
    return _tekken_tokenizer(path, name, pattern, ranks, num_special, specials, special)


def _tekken_tokenizer(
    path: Path,
    name: str | None,
    pattern: str,
    ranks: dict[bytes, int],
    num_special: int,
    specials: dict[str, int],
    special: str,
) -> TiktokenTokenizer:
    encoding = _build_encoding(str(path), name or path.stem, pattern, ranks, {})
    return TiktokenTokenizer(
        encoding,
        name=name or path.stem,
        source=str(path),
        backend="tekken",
        id_offset=num_special,
        offset_special_tokens=specials,
        special=special,
    )


def tekken_from_json(
    data: dict, *, path: Path, name: str | None = None, special: str = "text"
) -> TiktokenTokenizer:
    """Build a Mistral Tekken tokenizer from its parsed JSON file.

    Tekken ids ``0 .. num_special-1`` are special tokens; ordinary token of rank ``r`` has id
    ``r + num_special``; the vocabulary is cut to ``default_vocab_size`` ids in all, as
    mistral-common does. mistral-common's ``Tekkenizer.encode`` cuts nothing before encoding
    (it calls ``Encoding.encode`` with no special tokens), so neither does this.
    """
    from toksmith.tokenizers.validate import validate_ranks

    try:
        config = data["config"]
        num_special = int(config["default_num_special_tokens"])
        vocab_size = int(config["default_vocab_size"])
        pattern = str(config["pattern"])
        entries = [
            (base64.b64decode(entry["token_bytes"]), int(entry["rank"]))
            for entry in data["vocab"][: vocab_size - num_special]
        ]
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        raise UserError(f"{path}: not a valid Tekken tokenizer file ({error!r})") from None
    validate_ranks(entries, str(path))
    ranks = dict(entries)
    listed = [t["token_str"] for t in data.get("special_tokens") or []]
    names = listed or list(TEKKEN_LEGACY_SPECIALS)
    names += [f"<SPECIAL_{i}>" for i in range(len(names), num_special)]
    specials = {token: i for i, token in enumerate(names[:num_special])}
    return _tekken_tokenizer(path, name, pattern, ranks, num_special, specials, special)
