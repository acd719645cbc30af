"""The one interface every tokenizer backend implements.

Every toksmith feature (metrics, training evaluation, audits, bridging, the web page) talks to
tokenizers only through :class:`Tokenizer`, so a new backend is one new file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from threading import Lock
from typing import Any, ClassVar
from weakref import WeakSet

import numpy as np

from toksmith.errors import UserError

SPECIAL_POLICIES = ("text", "allow")
"""How special-token strings in a text are encoded: ``text`` as plain text (the default),
``allow`` as the special tokens themselves (HF ``tokenizers``' default, tiktoken's
``allowed_special="all"``)."""


@dataclass(frozen=True)
class Pipeline:
    """The stages of a tokenizer, named as HF `tokenizers` names them."""

    normalizer: str
    pre_tokenizer: str
    model: str
    decoder: str
    notes: tuple[str, ...] = field(default_factory=tuple)


_FALLBACK_LOCK = Lock()


def split_ids(flat: np.ndarray, lengths: np.ndarray) -> list[list[int]]:
    """Lists of ids from all ids concatenated and the number of ids of each."""
    ends = np.cumsum(lengths)
    values = flat.tolist()
    return [
        values[end - length : end]
        for end, length in zip(ends.tolist(), lengths.tolist(), strict=True)
    ]


def flatten_ids(encoded: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Lists of ids as arrays: all ids concatenated (int64) and the number of ids of each."""
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    flat = np.fromiter(chain.from_iterable(encoded), dtype=np.int64, count=int(lengths.sum()))
    return flat, lengths


class _Family:
    """A tokenizer and its copies (``copy.copy`` shares the vendor objects), released and
    rebuilt as one: ``reload`` makes a fresh tokenizer on the vendor engine whose vendor
    attributes every member then takes."""

    def __init__(self, reload: Callable[[], Tokenizer]) -> None:
        self.reload = reload
        self.members: WeakSet[Tokenizer] = WeakSet()
        self.released = False
        self.reloads = 0  # how many times the vendor objects were rebuilt (tests read it)
        self.lock = Lock()

    def release(self) -> None:
        with self.lock:
            for member in list(self.members):
                engine = member.__dict__.get("fast_engine")
                if engine is not None and hasattr(engine, "release"):
                    engine.release()
                for name in (*member.vendor_attributes, *member.vendor_caches):
                    member.__dict__.pop(name, None)
            self.released = True

    def restored(self, member: Tokenizer, name: str) -> Any:
        """``member``'s vendor attribute ``name``, rebuilding the vendor objects of every
        member first when they were released (under the lock: a release in another thread
        cannot come between the two)."""
        with self.lock:
            if self.released:
                fresh = self.reload()
                for each in list(self.members):
                    for attribute in each.vendor_attributes:
                        if attribute in fresh.__dict__:
                            each.__dict__[attribute] = fresh.__dict__[attribute]
                self.released = False
                self.reloads += 1
            return member.__dict__[name]


def check_special_policy(special: str) -> str:
    """``special`` when it is one of :data:`SPECIAL_POLICIES`, else a UserError."""
    if special not in SPECIAL_POLICIES:
        raise UserError(
            f"special-token policy {special!r} is not one of {', '.join(SPECIAL_POLICIES)}"
        )
    return special


class Tokenizer(ABC):
    """A loaded tokenizer.

    Subclasses set ``name``, ``backend`` (``"hf"``, ``"tiktoken"``, ``"sentencepiece"``,
    ``"tekken"``, ``"whitespace"``), ``source`` (the file it was read from, and the package that
    shipped it), ``byte_exact`` (True when the concatenated :meth:`token_bytes` of an encoding
    always equal the UTF-8 bytes of the encoded text: byte-level BPE without normalization) and
    ``special_policy`` (see :data:`SPECIAL_POLICIES`).

    The members below the abstract ones describe the vocabulary for features (audits, mixture
    inference, bridging). A backend that cannot provide one raises a UserError naming the
    tokenizer and the member, so a feature never works from a silent default.
    """

    name: str
    backend: str
    source: str
    byte_exact: bool = False
    special_policy: str = "text"
    engine: str = "vendor"
    """What encodes: ``"vendor"`` (the vendor's own library) or a fast engine proven to give
    its ids (``"fastokens"``); see :mod:`toksmith.tokenizers.fast`."""
    engine_note: str = ""
    """Why that engine: the parity result, or why the vendor engine serves."""
    fast_fallbacks: int = 0
    """Calls the fast engine raised on and the vendor engine answered instead."""
    fast_engine: Any = None  # a toksmith.tokenizers.fast.FastEngine, or a lazy builder of one
    vendor_attributes: ClassVar[tuple[str, ...]] = ()
    """The instance attributes that hold the vendor's objects (the vocabulary and its
    encoder): what :meth:`release` frees and the first use after it rebuilds."""
    vendor_caches: ClassVar[tuple[str, ...]] = ("vocab_bytes", "blank_token_ids")
    """Cached properties computed from the vendor objects that :meth:`release` frees too
    (recomputed when read again). Small ones that describe the tokenizer (its unknown ids)
    stay, so reading them never rebuilds the vendor objects."""

    # ---- releasing the vocabulary's memory ---------------------------------------------------

    def enable_release(self, reload: Callable[[], Tokenizer]) -> None:
        """Let :meth:`release` free this tokenizer's vendor objects: ``reload`` builds an
        equal tokenizer on its vendor engine (the loader does this for what it loads)."""
        family = _Family(reload)
        family.members.add(self)
        self.__dict__["_family"] = family

    @property
    def releasable(self) -> bool:
        """Whether :meth:`release` can free this tokenizer's vendor objects."""
        return "_family" in self.__dict__ and bool(self.vendor_attributes)

    def release(self) -> bool:
        """Free the memory of this tokenizer's vocabulary: its vendor objects, the tables
        computed from them (:attr:`vendor_caches`) and its fast engine, in this object and
        in every copy of it. The first use after it rebuilds them, from the user's cache
        where an entry is there (ids never change: the same files are read). False, and
        nothing freed, for a tokenizer that cannot be rebuilt (not made by the loader)."""
        if not self.releasable:
            return False
        self.__dict__["_family"].release()
        return True

    def __copy__(self) -> Tokenizer:
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        family = self.__dict__.get("_family")
        if family is not None:
            family.members.add(clone)
        return clone

    def __getattr__(self, name: str) -> Any:
        # Reached only when normal lookup fails: a vendor attribute that release() freed.
        family = self.__dict__.get("_family")
        if family is None or name not in type(self).vendor_attributes:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        try:
            return family.restored(self, name)
        except KeyError:
            raise AttributeError(name) from None

    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """Number of token ids, special tokens included (ids are 0..vocab_size-1)."""

    @property
    @abstractmethod
    def special_ids(self) -> frozenset[int]:
        """Ids of special/control tokens (never produced from plain text)."""

    @abstractmethod
    def encode(self, text: str) -> list[int]:
        """Token ids for ``text``. Under ``special_policy == "text"`` special-token strings are
        plain text; under ``"allow"`` they become the special tokens. A lone surrogate in
        ``text`` is a UserError (the :func:`toksmith.text.clean_text` rule)."""

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Encode many texts; backends override this with their own parallel batch encoder."""
        return [self.encode(text) for text in texts]

    @abstractmethod
    def decode(self, ids: Sequence[int]) -> str:
        """The text for ``ids`` (invalid UTF-8 sequences become U+FFFD)."""

    @abstractmethod
    def token_bytes(self, token_id: int) -> bytes:
        """The exact bytes token ``token_id`` stands for (b"" for control tokens)."""

    @abstractmethod
    def pipeline(self) -> Pipeline:
        """A description of the normalizer, pre-tokenizer, model and decoder."""

    # ---- what features read about the vocabulary ---------------------------------------------

    def _lacks(self, member: str) -> UserError:
        return UserError(
            f"tokenizer {self.name!r} ({self.backend} backend) does not provide {member}"
        )

    @property
    def unknown_ids(self) -> frozenset[int]:
        """Ids of unknown tokens (``<unk>``, ``[UNK]``): text mapped to them is lost."""
        raise self._lacks("unknown_ids")

    @property
    def byte_fallback_ids(self) -> frozenset[int]:
        """Ids of SentencePiece-style byte-fallback pieces (``<0x41>``); empty for others."""
        raise self._lacks("byte_fallback_ids")

    @property
    def unused_ids(self) -> frozenset[int]:
        """Ids the backend itself marks as unused/reserved (SentencePiece UNUSED pieces)."""
        raise self._lacks("unused_ids")

    @property
    def pattern(self) -> str | None:
        """The pre-tokenization regex (tiktoken ``pat_str``, an HF Split pattern, the GPT-2
        pattern of an HF ByteLevel pre-tokenizer), or None when there is none."""
        raise self._lacks("a pre-tokenization pattern")

    @property
    def continuation_prefix(self) -> str | None:
        """The WordPiece continuation mark (``##``), or None for other models."""
        raise self._lacks("continuation_prefix")

    @property
    def byte_encoding(self) -> str | None:
        """How vocabulary entries spell bytes: ``"gpt2"`` (GPT-2 byte-to-unicode stand-ins),
        ``"raw"`` (the entries are the bytes themselves, as in rank files), or None."""
        raise self._lacks("byte_encoding")

    def merges(self) -> list[tuple[bytes, bytes]]:
        """The BPE merge list in the order it was learned, as (left, right) bytes; a
        UserError for tokenizers that are not BPE."""
        raise self._lacks("a BPE merge list")

    def token_label(self, token_id: int) -> str | None:
        """The vocabulary string of ``token_id`` as the backend stores it (``Ġthe``, ``▁the``,
        ``##ing``, ``<|endoftext|>``); for rank files, only special tokens have one. None for
        an id no token holds."""
        raise self._lacks("token labels")

    def normalizer_spec(self) -> dict[str, Any] | None:
        """The normalizer as an HF ``tokenizer.json`` stage (a dict), or None when none."""
        raise self._lacks("an HF normalizer")

    def pre_tokenizer_spec(self) -> dict[str, Any] | None:
        """The pre-tokenizer as an HF ``tokenizer.json`` stage (a dict), or None when none."""
        raise self._lacks("an HF pre-tokenizer")

    def pre_tokens(self, text: str) -> list[bytes]:
        """The pieces ``text`` is cut into before the model sees it (after normalization), as
        bytes: BPE merges never cross their boundaries."""
        raise self._lacks("a pre-tokenizer")

    def encode_bytes(self, data: bytes) -> list[int]:
        """The encoding of ``data``, which need not be valid UTF-8 (it may end inside a
        character); only byte-level backends provide it."""
        raise self._lacks("encoding of raw bytes")

    def special_strings(self) -> dict[str, int]:
        """The strings of special tokens that ``special_policy == "allow"`` recognises."""
        raise self._lacks("special-token strings")

    @cached_property
    def vocab_bytes(self) -> list[bytes]:
        """``token_bytes`` of every id, computed once."""
        return [self.token_bytes(i) for i in range(self.vocab_size)]

    @cached_property
    def blank_token_ids(self) -> frozenset[int]:
        """Ids of tokens whose bytes are only whitespace."""
        return frozenset(i for i, data in enumerate(self.vocab_bytes) if data and not data.strip())

    def encode_batch_numpy(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """All ids of ``texts`` concatenated (int64) and the number of ids of each text.

        Counting code uses this; backends override it when they can fill arrays directly.
        """
        return flatten_ids(self.encode_batch(texts))

    def encode_words(self, words: Sequence[str]) -> list[list[int]]:
        """Tokens of each word as it appears in running text after a space.

        Each word is encoded with a leading space so byte-level BPE vocabularies use their
        space-prefixed forms; a first token that is only whitespace is dropped, so backends
        that add their own word-boundary marker are not charged twice. That token (a bare
        " " before digits, SentencePiece's extra "▁") holds none of the word's characters: it
        is the word boundary, not a subword (Rust et al. 2021; see
        :func:`toksmith.metrics.formulas.continued_word_ratio`).
        """
        encoded = self.encode_batch([" " + word for word in words])
        blank = self.blank_token_ids
        for position, ids in enumerate(encoded):
            if len(ids) > 1 and ids[0] in blank:
                encoded[position] = ids[1:]
        return encoded

    def encode_words_numpy(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`encode_words` as arrays: all ids concatenated (int64), ids per word."""
        return flatten_ids(self.encode_words(words))

    def encode_word(self, word: str) -> list[int]:
        """:meth:`encode_words` for one word."""
        return self.encode_words([word])[0]

    def _fast_batch_numpy(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """The fast engine's ids of ``texts`` as :meth:`encode_batch_numpy` gives them, or
        None: no fast engine, not started for so little text, or it raised on this call
        (counted in :attr:`fast_fallbacks`; the caller then asks the vendor engine)."""
        lazy = self.fast_engine
        if lazy is None:
            return None
        engine = lazy.get(texts)
        if engine is None:
            return None
        try:
            return self._fast_ids(engine, texts)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # a Rust panic is a BaseException
            with _FALLBACK_LOCK:
                self.fast_fallbacks += 1
            return None

    def _fast_ids(self, engine: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The fast engine's ids for ``texts`` in this tokenizer's id space (adapters with an
        id offset or a cutting rule override it)."""
        flat, lengths = engine.encode_batch_numpy(texts)
        return flat, lengths

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} ({self.backend}, {self.vocab_size} ids)>"
