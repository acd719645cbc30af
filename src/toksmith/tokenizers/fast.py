"""Fast engines: another library encoding a vendor's vocabulary, used only where it gives the
vendor's ids exactly (see :mod:`toksmith.tokenizers.parity`).

The one fast engine is fastokens (Apache-2.0), chosen by measurement on this machine against
kitoken (BSD-2-Clause), bpe-openai (MIT) and riptoken (MIT): it reads both HF ``tokenizer.json``
files and tiktoken rank files, gave identical ids on every line it was tried on, and was the
fastest on both (figures in the README). SentencePiece models stay on the vendor engine.

An engine here only encodes. ``decode``, ``token_bytes`` and every feature member stay on the
vendor objects, and the adapters fall back to the vendor engine for any call the fast engine
raises on (counted in ``Tokenizer.fast_fallbacks``).
"""

from __future__ import annotations

import base64
import importlib.metadata
import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from toksmith.errors import UserError

if TYPE_CHECKING:  # numpy is imported where ids are made: `toksmith list` reads this module
    import numpy as np

ENGINE_CHOICES = ("auto", "vendor", "fast")
"""``--engine``: ``auto`` uses a fast engine where parity holds, ``vendor`` never does, ``fast``
requires one and is a UserError where parity does not hold."""

FASTOKENS = "fastokens"
PINNED_FASTOKENS_VERSION = "0.3.5"
"""The fastokens release the built-ins' parity is pinned for (tests/tokenizers/test_engines*.py).
Under any other release the built-ins go through the load-time gate as user tokenizers do."""

# The result of the parity tests on the whole parity corpus, per built-in and special policy:
# the engine name, or "vendor" with the reason. tests/tokenizers/test_engines_parity.py pins
# every entry (fast ones must match the vendor on every text; vendor ones must really differ or
# be unsupported).
_SENTENCEPIECE_NOTE = "vendor: no fast engine reads SentencePiece models with identical ids"
_TEKKEN_ALLOW_NOTE = (
    "vendor: under --special allow Tekken specials are cut in Python; the fast path covers text"
)
PINNED: dict[str, tuple[str, str]] = {
    "o200k_base": (FASTOKENS, ""),
    "cl100k_base": (FASTOKENS, ""),
    "p50k_base": (FASTOKENS, ""),  # its gap at 50256 filled (see rank_engine)
    "llama3": (FASTOKENS, ""),  # hand-added ranks: through the tokenizer.json reader
    "llama4": (FASTOKENS, ""),
    "mistral-tekken": (FASTOKENS, ""),
    "mistral-tekken-240718": (FASTOKENS, ""),
    "mistral-sp-v1": ("vendor", _SENTENCEPIECE_NOTE),
    "mistral-sp-v3": ("vendor", _SENTENCEPIECE_NOTE),
    "claude-legacy": (FASTOKENS, ""),  # HF's own NFKC first (see hf_engine); --special text
    "deepseek": (FASTOKENS, ""),
    "minilm": ("vendor", "vendor: fastokens has no BertNormalizer"),
    "o200k_harmony": (FASTOKENS, ""),
    "deepseek-v4": (FASTOKENS, ""),
    "qwen3": (FASTOKENS, ""),
    "qwen3.6": (FASTOKENS, ""),  # hand-added ranks: through the tokenizer.json reader
    "mistral-sp-v2": ("vendor", _SENTENCEPIECE_NOTE),
    "mistral-sp-v7": ("vendor", _SENTENCEPIECE_NOTE),
}


TEXT_POLICY_ONLY: dict[str, str] = {
    "claude-legacy": "under --special allow its NFKC normalizer cannot run before the engine"
}
"""Fast built-ins pinned under ``--special text`` only, and why the vendor serves ``allow``."""


def check_engine_choice(engine: str) -> str:
    """``engine`` when it is one of :data:`ENGINE_CHOICES`, else a UserError."""
    if engine not in ENGINE_CHOICES:
        raise UserError(f"engine {engine!r} is not one of {', '.join(ENGINE_CHOICES)}")
    return engine


def fastokens_version() -> str | None:
    """The installed fastokens release, or None when it is not installed."""
    try:
        return importlib.metadata.version(FASTOKENS)
    except importlib.metadata.PackageNotFoundError:
        return None


def builtin_engine(name: str) -> tuple[str, str]:
    """``(engine, note)`` that ``--engine auto`` gives the built-in ``name`` under the default
    special policy, answered without loading anything: the engine name (``"fastokens"``) or
    ``"vendor"``, and why when it is the vendor engine."""
    engine, note = PINNED.get(name, ("vendor", "vendor: not a pinned built-in"))
    if engine == "vendor":
        return engine, note
    version = fastokens_version()
    if version is None:
        return "vendor", "vendor: fastokens is not installed"
    if version != PINNED_FASTOKENS_VERSION:
        return engine, f"fastokens {version} (parity gate at load; pinned for 0.3.5)"
    return engine, f"fastokens {version}, parity pinned by tests"


class FastEngine:
    """fastokens behind one call: texts in, all ids (int64) and ids per text out.

    ``split_special`` makes special-token strings plain text (``--special text``). ``cut``
    reproduces a vendor class that cuts texts longer than ``cut_above`` characters before
    encoding (Meta's Llama rule); the pieces are encoded in the same batch.
    """

    name = FASTOKENS

    def __init__(
        self,
        native: Any,
        *,
        split_special: bool,
        cut: Callable[[str], list[str]] | None = None,
        cut_above: int = 0,
        id_map: Mapping[int, int] | None = None,
        normalize: Callable[[str], str] | None = None,
    ) -> None:
        self.native = native
        self.normalize = normalize
        """The vendor's own normalizer, run on each text before the engine (see hf_engine)."""
        self.split_special = split_special
        self.cut = cut
        self.cut_above = cut_above
        self.id_map = dict(id_map or {})
        """Engine id -> vendor id, for special tokens the engine had to number apart."""

    def encode_whole(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids of each text encoded whole (no vendor cutting rule)."""
        import numpy as np

        normalize = self.normalize
        batch = [normalize(text) for text in texts] if normalize is not None else list(texts)
        ids, offsets = self.native.encode_batch_flat(
            batch, add_special_tokens=False, split_special_tokens=self.split_special
        )
        flat = np.frombuffer(ids, dtype=np.uint32).astype(np.int64)
        lengths = np.diff(np.frombuffer(offsets, dtype=np.uint64).astype(np.int64))
        for engine_id, vendor_id in self.id_map.items():
            flat[flat == engine_id] = vendor_id
        return flat, lengths

    def encode_batch_numpy(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids of each text as the vendor class encodes it (cutting rule included)."""
        import numpy as np

        cut = self.cut
        if cut is None or max(map(len, texts), default=0) <= self.cut_above:
            return self.encode_whole(texts)
        pieces: list[str] = []
        owners: list[int] = []
        for position, text in enumerate(texts):
            parts = cut(text) if len(text) > self.cut_above else [text]
            pieces.extend(parts)
            owners.extend([position] * len(parts))
        flat, piece_lengths = self.encode_whole(pieces)
        lengths = np.zeros(len(texts), dtype=np.int64)
        np.add.at(lengths, np.asarray(owners, dtype=np.int64), piece_lengths)
        return flat, lengths

    def encode(self, text: str) -> list[int]:
        """Ids of one text."""
        return [int(i) for i in self.encode_batch_numpy([text])[0]]


def _native_class() -> Any:
    try:
        import fastokens
    except ImportError:
        return None
    return fastokens.Tokenizer


def hf_engine(config: Mapping[str, Any], *, special: str) -> FastEngine | None:
    """A fastokens engine for an HF ``tokenizer.json`` (parsed), or None when fastokens is
    missing; fastokens' own error when it cannot read the file."""
    native_class = _native_class()
    if native_class is None:
        return None
    normalize = _vendor_normalizer(config, special)
    if normalize is not None:  # the vendor's normalizer runs first, the engine reads the rest
        config = {**config, "normalizer": None}
    native = native_class.from_json_str(json.dumps(config))  # raises on an unsupported stage
    native.no_padding()
    native.no_truncation()
    return FastEngine(native, split_special=special == "text", normalize=normalize)


_UNICODE_NORMALIZERS = ("NFC", "NFD", "NFKC", "NFKD")


def _vendor_normalizer(config: Mapping[str, Any], special: str) -> Callable[[str], str] | None:
    """HF ``tokenizers``' own normalizer for a tokenizer.json whose normalizer is one Unicode
    normal form (fastokens 0.3.5 has no NFKC), where running it on each whole text first is
    what HF does: under ``--special text`` with every added token special, no added token is
    cut out of the text before normalizing. None otherwise. Python's ``unicodedata`` is not
    used: it differs from HF's NFKC on 72 single characters and on 1,551 of 2.7 million
    pairs of a base and a combining mark (measured with tokenizers 0.23.3 and Python 3.11)."""
    stage = config.get("normalizer") or {}
    kind = stage.get("type") if isinstance(stage, Mapping) else None
    if kind not in _UNICODE_NORMALIZERS or special != "text":
        return None
    if not all(token.get("special") for token in config.get("added_tokens") or []):
        return None
    from tokenizers import normalizers

    normalizer = getattr(normalizers, kind)()
    return normalizer.normalize_str  # type: ignore[no-any-return]


def rank_engine(
    ranks: Mapping[bytes, int],
    *,
    pattern: str,
    special_tokens: Mapping[str, int],
    special: str,
    cut: Callable[[str], list[str]] | None = None,
    cut_above: int = 0,
) -> FastEngine | None:
    """A fastokens engine for a tiktoken rank table, or None when fastokens is missing; its own
    error when it cannot read the ranks.

    fastokens reads rank files, so the table is written to a temporary file (the vendor's own
    ranks, whatever file they came from). Two things it refuses are worked around, and the
    parity gate (or the pinned tests) proves the result like any engine:

    - Ranks with gaps (p50k leaves out 50256, its ``<|endoftext|>``): each gap gets a filler
      token of two bytes that no UTF-8 text holds (``\\xff`` and a byte ``\\x80``-``\\xfe``),
      so it is never produced; a special token whose id falls in a gap is numbered above the
      vocabulary in the engine and mapped back (:attr:`FastEngine.id_map`).
    - Tokens BPE cannot build from two parts (added by hand, as in Llama 3 and Qwen 3.6):
      fastokens' rank reader needs one merge per token, so the table goes to its
      ``tokenizer.json`` reader instead, as a byte-level BPE with every two-part split of each
      token as a merge, ordered by the rank of the token, and ``ignore_merges`` (a piece that is
      a token is that token, as in tiktoken). This is the conversion HF ``transformers`` uses
      for tiktoken files (``TikTokenConverter``); the JSON is cached (:func:`merges_json`).
    """
    native_class = _native_class()
    if native_class is None:
        return None
    table, specials, id_map = _filled_ranks(ranks, special_tokens)
    rank_text = _rank_file_text(table)
    key = _merges_key(rank_text, pattern, specials)
    cached = _cached_merges_json(key)
    if cached is not None:  # this table needed the merges reader before: skip the rank reader
        native = _native_from_json(native_class, cached)
    else:
        handle, path = tempfile.mkstemp(prefix="toksmith-ranks-", suffix=".tiktoken")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(rank_text)
            try:
                native = native_class.from_tiktoken(path, pattern=pattern, special_tokens=specials)
            except ValueError:  # ranks it cannot turn into one merge each (tokens added by hand)
                native = _native_from_json(native_class, merges_json(table, pattern, specials))
        finally:
            os.unlink(path)
    return FastEngine(
        native, split_special=special == "text", cut=cut, cut_above=cut_above, id_map=id_map
    )


def _rank_file_text(ranks: Mapping[bytes, int]) -> bytes:
    """``ranks`` as a tiktoken rank file: ``<base64 token> <rank>`` lines."""
    return b"".join(base64.b64encode(token) + b" %d\n" % rank for token, rank in ranks.items())


def _native_from_json(native_class: Any, text: str) -> Any:
    native = native_class.from_json_str(text)
    native.no_padding()
    native.no_truncation()
    return native


_FILLER_SECOND_BYTES = range(0x80, 0xFF)


def _filled_ranks(
    ranks: Mapping[bytes, int], special_tokens: Mapping[str, int]
) -> tuple[Mapping[bytes, int], dict[str, int], dict[int, int]]:
    """``ranks`` with its gaps filled (see :func:`rank_engine`), the special tokens as the
    engine numbers them, and the engine-to-vendor id map of the renumbered ones."""
    top = max(ranks.values(), default=-1)
    if len(ranks) == top + 1:
        return ranks, dict(special_tokens), {}
    present = set(ranks.values())
    gaps = [rank for rank in range(top + 1) if rank not in present]
    fillers = [b"\xff" + bytes([second]) for second in _FILLER_SECOND_BYTES]
    fillers = [token for token in fillers if token not in ranks]
    if len(gaps) > len(fillers):
        raise ValueError(f"{len(gaps)} gaps in the ranks, more than toksmith fills")
    table = dict(ranks)
    table.update(zip(fillers, gaps, strict=False))
    specials: dict[str, int] = {}
    id_map: dict[int, int] = {}
    next_id = max(top, *special_tokens.values()) + 1 if special_tokens else top + 1
    for token, token_id in sorted(special_tokens.items(), key=lambda item: item[1]):
        if token_id <= top:  # in a gap, now a filler's
            specials[token] = next_id
            id_map[next_id] = token_id
            next_id += 1
        else:
            specials[token] = token_id
    return table, specials, id_map


MERGES_JSON_VERSION = 3  # part of the cache key of :func:`merges_json`


def merges_json(ranks: Mapping[bytes, int], pattern: str, special_tokens: Mapping[str, int]) -> str:
    """A ``tokenizer.json`` (text) for a tiktoken rank table: byte-level BPE whose merges are
    every split of each token into two tokens, ordered by the token's rank and then by the
    ranks of the parts; ``ignore_merges`` on, the pattern as an isolating Split before the
    byte-level step, the special tokens as added tokens. Read from the user's cache when an
    entry for exactly these ranks, pattern and specials is there (checked like every entry;
    a corrupt one is rebuilt), else built (about 1.5 s for 250,000 ranks) and cached."""
    from toksmith.tokenizers import cache

    key = _merges_key(_rank_file_text(ranks), pattern, special_tokens)
    text = _cached_merges_json(key)
    if text is None:
        text = _build_merges_json(ranks, pattern, special_tokens)
        cache.write_entry(key, _MERGES_KIND, text.encode("utf-8"))
    return text


_MERGES_KIND = "fastokens-json"


def _merges_key(rank_text: bytes, pattern: str, special_tokens: Mapping[str, int]) -> str:
    """The cache key of :func:`merges_json`: a hash of the rank file text, the pattern, the
    special tokens and :data:`MERGES_JSON_VERSION`."""
    import hashlib

    digest = hashlib.blake2b(rank_text, digest_size=16)
    digest.update(repr((pattern, sorted(special_tokens.items()), MERGES_JSON_VERSION)).encode())
    return digest.hexdigest()


def _cached_merges_json(key: str) -> str | None:
    from toksmith.tokenizers import cache

    data = cache.read_entry(key, _MERGES_KIND)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _build_merges_json(
    ranks: Mapping[bytes, int], pattern: str, special_tokens: Mapping[str, int]
) -> str:
    from toksmith.tokenizers.hf_json import byte_level_alphabet, byte_level_stage, split_stage

    stand_in = {byte: char for char, byte in byte_level_alphabet().items()}

    def spelled(token: bytes) -> str:
        return "".join(stand_in[byte] for byte in token)

    # (rank, left rank, right rank, token, cut): the token itself, not copies of its parts,
    # keeps this list small (500,000 entries for Qwen 3.6).
    merges: list[tuple[int, int, int, bytes, int]] = []
    for token, rank in ranks.items():
        for cut in range(1, len(token)):
            left_rank = ranks.get(token[:cut])
            right_rank = ranks.get(token[cut:])
            if left_rank is not None and right_rank is not None:
                merges.append((rank, left_rank, right_rank, token, cut))
    merges.sort()
    added = [
        {
            "id": token_id,
            "content": token,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for token, token_id in sorted(special_tokens.items(), key=lambda item: item[1])
    ]
    config = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [split_stage(pattern), byte_level_stage()],
        },
        "post_processor": None,
        "decoder": byte_level_stage(),
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": True,
            "vocab": {spelled(token): rank for token, rank in ranks.items()},
            # "left right": no spelled token holds a space (GPT-2's alphabet spells it Ġ),
            # and fastokens parses these with a third less memory than pairs (measured).
            "merges": [
                f"{spelled(token[:cut])} {spelled(token[cut:])}" for *_, token, cut in merges
            ],
        },
    }
    return json.dumps(config, ensure_ascii=False)


START_AFTER_CHARS = 1_000_000
"""Text a tokenizer encodes with its vendor engine before the fast engine is started: starting
fastokens costs a few seconds (more than the vendor's load), which a short count or a web
keystroke would pay for nothing. Both engines give the same ids, so which one serves a call
never changes a count."""


_BUILD_LOCK = threading.Lock()
"""One engine built at a time: builds run on the cores the vendor engines are encoding on,
and several at once (compare -t all) only slow each other down."""


class LazyEngine:
    """A fast engine started on first need: once ``start_after_chars`` characters have been
    encoded it is built in a background thread, and the vendor engine serves every call until
    it is ready. A build that fails leaves the vendor engine serving, and says why in
    ``failure``. :meth:`start` builds it at once (the parity gate does)."""

    def __init__(
        self,
        build: Callable[[], FastEngine | None],
        *,
        start_after_chars: int = START_AFTER_CHARS,
        engine: FastEngine | None = None,
    ) -> None:
        self._build = build
        self._engine = engine
        self._seen_chars = 0
        self._start_after = start_after_chars
        self._lock = threading.Lock()
        self._builder: threading.Thread | None = None
        self.failure: str | None = None

    @property
    def started(self) -> bool:
        return self._engine is not None

    def start(self) -> FastEngine | None:
        """The engine, built now if it is not yet (None when it cannot be built)."""
        with self._lock, _BUILD_LOCK:
            if self._engine is None and self.failure is None:
                try:
                    self._engine = self._build()
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as error:  # a Rust panic too: the vendor engine serves
                    self.failure = f"{type(error).__name__}: {str(error)[:200]}"
                if self._engine is None and self.failure is None:
                    self.failure = "fastokens cannot read this tokenizer"
            return self._engine

    def wait(self) -> FastEngine | None:
        """The engine once a background build has finished (None when it failed or none ran)."""
        builder = self._builder
        if builder is not None:
            builder.join()
        return self._engine

    def release(self) -> None:
        """Free the engine (after a background build has finished); it is built again, as
        the first time, once enough text has been encoded. A failure stays known."""
        with self._lock:
            builder = self._builder
        if builder is not None:
            builder.join()
        with self._lock:
            self._engine = None
            self._builder = None
            self._seen_chars = 0

    def get(self, texts: Sequence[str]) -> FastEngine | None:
        """The engine for a call on ``texts``, or None while the vendor engine should serve."""
        engine = self._engine
        if engine is not None or self.failure is not None or self._builder is not None:
            return engine
        self._seen_chars += sum(map(len, texts))
        if self._seen_chars >= self._start_after:
            with self._lock:
                if self._builder is None:
                    self._builder = threading.Thread(
                        target=self.start, name="toksmith-fast-engine", daemon=True
                    )
                    self._builder.start()
        return None
