"""tiktoken backend: rank files (``*.tiktoken``, Llama 3's ``tokenizer.model``) and Tekken JSON."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import tiktoken

from toksmith.errors import UserError
from toksmith.tokenizers.base import Pipeline, Tokenizer

# The GPT-4 pre-tokenization pattern: the default for a rank file that names no pattern.
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)

_WORKERS = max(1, os.cpu_count() or 1)
_CHUNK_TEXTS = 256
_pool: ThreadPoolExecutor | None = None


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="toksmith-encode")
    return _pool


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
        # which costs more than encoding a short text.
        encode = self.encoding.encode_ordinary

        def encode_chunk(chunk: Sequence[str]) -> list[list[int]]:
            return [encode(text) for text in chunk]

        if len(texts) <= _CHUNK_TEXTS:
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
