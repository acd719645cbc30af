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
    "p50k_base": ("vendor", "vendor: fastokens needs contiguous ranks (p50k skips 50256)"),
    "llama3": ("vendor", "vendor: fastokens cannot recover merges of Llama 3's hand-added ranks"),
    "llama4": (FASTOKENS, ""),
    "mistral-tekken": (FASTOKENS, ""),
    "mistral-tekken-240718": (FASTOKENS, ""),
    "mistral-sp-v1": ("vendor", _SENTENCEPIECE_NOTE),
    "mistral-sp-v3": ("vendor", _SENTENCEPIECE_NOTE),
    "claude-legacy": ("vendor", "vendor: fastokens has no NFKC normalizer"),
    "deepseek": (FASTOKENS, ""),
    "minilm": ("vendor", "vendor: fastokens has no BertNormalizer"),
    "o200k_harmony": (FASTOKENS, ""),
    "deepseek-v4": (FASTOKENS, ""),
    "qwen3": (FASTOKENS, ""),
    "qwen3.6": ("vendor", "vendor: fastokens cannot recover merges of Qwen 3.6's hand-added ranks"),
    "mistral-sp-v2": ("vendor", _SENTENCEPIECE_NOTE),
    "mistral-sp-v7": ("vendor", _SENTENCEPIECE_NOTE),
}


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
    ) -> None:
        self.native = native
        self.split_special = split_special
        self.cut = cut
        self.cut_above = cut_above

    def encode_whole(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids of each text encoded whole (no vendor cutting rule)."""
        import numpy as np

        ids, offsets = self.native.encode_batch_flat(
            list(texts), add_special_tokens=False, split_special_tokens=self.split_special
        )
        flat = np.frombuffer(ids, dtype=np.uint32).astype(np.int64)
        lengths = np.diff(np.frombuffer(offsets, dtype=np.uint64).astype(np.int64))
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
    native = native_class.from_json_str(json.dumps(config))  # raises on an unsupported stage
    native.no_padding()
    native.no_truncation()
    return FastEngine(native, split_special=special == "text")


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
    error when it cannot read the ranks. fastokens reads rank files, so the table is written to a temporary file
    (the vendor's own ranks, whatever file they came from)."""
    native_class = _native_class()
    if native_class is None:
        return None
    handle, path = tempfile.mkstemp(prefix="toksmith-ranks-", suffix=".tiktoken")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(
                b"".join(base64.b64encode(token) + b" %d\n" % rank for token, rank in ranks.items())
            )
        native = native_class.from_tiktoken(
            path, pattern=pattern, special_tokens=dict(special_tokens)
        )  # raises for ranks it cannot turn into merges (tokens added by hand)
    finally:
        os.unlink(path)
    return FastEngine(native, split_special=special == "text", cut=cut, cut_above=cut_above)


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
