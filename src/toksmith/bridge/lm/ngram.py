"""A token-level n-gram language model with interpolated modified Kneser-Ney smoothing.

It is a real, trainable model over the ids of any toksmith tokenizer, small and fast enough to
train on a few MB of text in seconds on a laptop, so the bridge can be used and tested offline.

Storage. The n-grams of each order form one level of a trie kept as a sorted ``int64`` array of
keys: the key of an n-gram ``(h, w)`` is ``row(h) * (V + 1) + w``, where ``row(h)`` is the index
of its context ``h`` in the level below and ``V`` is the tokenizer's number of ids (id ``V`` is the
begin-of-text padding symbol). The children of a context are one contiguous slice of the next
level, found with two binary searches. Counts are stored beside the keys; nothing is a Python
dict, so a model with millions of n-grams loads in milliseconds with ``safetensors``.

Smoothing. Chen & Goodman (1998), "An Empirical Study of Smoothing Techniques for Language
Modeling": interpolated Kneser-Ney with three discounts per order (modified KN). The highest
order uses raw counts; lower orders use continuation counts N1+(. h w); the lowest order is
interpolated with the uniform distribution over the tokens that have bytes (special tokens get
probability 0). A distribution is computed for the whole vocabulary at once, with numpy, one
vector update per order, and kept in a small per-context cache.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from toksmith.bridge.lm.base import LanguageModel
from toksmith.errors import UserError
from toksmith.files import check_output_folder_path, file_mode, folder_mode
from toksmith.report.output import to_json
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer, load_tokenizer

FORMAT = "toksmith-ngram"
FORMAT_VERSION = 1
CONFIG_FILE = "lm.json"
TENSORS_FILE = "ngram.safetensors"
MAX_ORDER = 8
_ENCODE_CHUNK = 512  # texts per encode_batch call while training
_CACHE_SIZE = 32  # full distributions kept per model (each is vocab_size float64 values)


@dataclass
class NgramTrainingStats(Result):
    """What a model was trained on."""

    corpus: str
    texts: int
    tokens: int
    bytes: int
    ngrams_per_order: list[int] = field(default_factory=list)
    elapsed_s: float = 0.0


@dataclass
class _View:
    """Distributions listed in one order of the token ids (``position_of[id]``; None: by id),
    with the order's uniform and unigram vectors and its cache of full distributions."""

    uniform: np.ndarray
    position_of: np.ndarray | None
    unigram: np.ndarray | None = None
    cache: OrderedDict[tuple[int, ...], np.ndarray] = field(default_factory=OrderedDict)


@dataclass(frozen=True)
class _Level:
    """One trie level: sorted keys ``row(context) * (V + 1) + token`` and their counts."""

    keys: np.ndarray  # int64, sorted, unique
    counts: np.ndarray  # int64: raw counts (top order) or continuation counts (lower orders)
    discounts: np.ndarray  # float64 [4]: D(0)=0, D(1), D(2), D(3+)


class NgramLM(LanguageModel):
    """An interpolated modified Kneser-Ney n-gram model over a toksmith tokenizer's ids."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        tokenizer_spec: str,
        levels: list[_Level],
        stats: NgramTrainingStats,
        name: str = "ngram",
        special: str = "text",
    ) -> None:
        self.tokenizer = tokenizer
        self.tokenizer_spec = tokenizer_spec
        self.special = special  # the tokenizer's special-token policy ("text" or "allow")
        self.levels = levels
        self.order = len(levels)
        self.context_window = self.order - 1
        self.stats = stats
        self.name = name
        self._radix = tokenizer.vocab_size + 1
        self._bos = tokenizer.vocab_size
        support = np.array([len(b) > 0 for b in tokenizer.vocab_bytes], dtype=bool)
        support[list(tokenizer.special_ids)] = False
        if not support.any():
            raise UserError(f"tokenizer {tokenizer.name!r} has no token with bytes")
        self._identity = _View(support / support.sum(), None)
        self._ordered: tuple[np.ndarray, _View] | None = None

    # ----------------------------------------------------------------------------------------
    # The model
    def next_token_logprobs(self, prefixes: Sequence[Sequence[int]]) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.next_token_probs(prefixes))

    def next_token_probs(self, prefixes: Sequence[Sequence[int]]) -> np.ndarray:
        rows = np.empty((len(prefixes), self.tokenizer.vocab_size), dtype=np.float64)
        for position, prefix in enumerate(prefixes):
            rows[position] = self.context_probs(prefix)
        return rows

    def next_token_probs_ordered(self, prefix: Sequence[int], order: np.ndarray) -> np.ndarray:
        if self._ordered is None or self._ordered[0] is not order:
            position_of = np.empty(len(order), dtype=np.int64)
            position_of[order] = np.arange(len(order))
            self._ordered = (order, _View(self._identity.uniform[order], position_of))
        return self._probs(prefix, self._ordered[1])

    def context_probs(self, prefix: Sequence[int]) -> np.ndarray:
        """P(next token | the last ``order - 1`` tokens of ``prefix``), for every id (cached).

        The returned array is shared with the cache: do not modify it.
        """
        return self._probs(prefix, self._identity)

    def clear_cache(self) -> None:
        """Forget cached distributions (benchmarks use it to measure cold costs)."""
        self._identity.cache.clear()
        if self._ordered is not None:
            self._ordered[1].cache.clear()

    def _probs(self, prefix: Sequence[int], view: _View) -> np.ndarray:
        context = self._context(prefix)
        cached = view.cache.get(context)
        if cached is not None:
            view.cache.move_to_end(context)
            return cached
        probs = self._interpolate(context, view)
        view.cache[context] = probs
        if len(view.cache) > _CACHE_SIZE:
            view.cache.popitem(last=False)
        return probs

    def _context(self, prefix: Sequence[int]) -> tuple[int, ...]:
        width = self.order - 1
        if width == 0:
            return ()
        tail = tuple(int(i) for i in prefix[-width:]) if len(prefix) else ()
        if len(tail) < width:
            tail = (self._bos,) * (width - len(tail)) + tail
        return tail

    def _interpolate(self, context: tuple[int, ...], view: _View) -> np.ndarray:
        """Interpolated modified KN, lowest order first:
        P_k(w|h) = (c(h,w) - D(c)) / c(h) + gamma(h) P_{k-1}(w|h'), with
        gamma(h) = (D1 N1(h.) + D2 N2(h.) + D3 N3+(h.)) / c(h)."""
        if view.unigram is None:
            unigram = self._update(view.uniform, self.levels[0], 0, view)
            view.unigram = unigram if unigram is not None else view.uniform
        probs = view.unigram
        for order in range(2, self.order + 1):
            row = self._find_row(context[len(context) - (order - 1) :])
            if row < 0:
                break  # an unseen context: every longer one is unseen too
            updated = self._update(probs, self.levels[order - 1], row, view)
            if updated is None:
                break
            probs = updated
        return probs

    def _update(self, lower: np.ndarray, level: _Level, row: int, view: _View) -> np.ndarray | None:
        low, high = np.searchsorted(level.keys, [row * self._radix, (row + 1) * self._radix])
        counts = level.counts[low:high]
        seen = counts > 0
        if not seen.any():
            return None
        tokens = level.keys[low:high][seen] - row * self._radix
        if view.position_of is not None:
            tokens = view.position_of[tokens]
        counts = counts[seen]
        total = float(counts.sum())
        discounts = level.discounts[np.minimum(counts, 3)]
        gamma = float(discounts.sum()) / total
        probs = lower * gamma
        probs[tokens] += (counts - discounts) / total
        return probs

    def _find_row(self, context: Sequence[int]) -> int:
        """Index of ``context`` in the trie level of its length (0 for the empty context),
        or -1 when it was never seen."""
        row = 0
        for depth, token in enumerate(context):
            keys = self.levels[depth].keys
            key = row * self._radix + token
            position = int(np.searchsorted(keys, key))
            if position >= len(keys) or keys[position] != key:
                return -1
            row = position
        return row

    # ----------------------------------------------------------------------------------------
    # Persistence: safetensors for the arrays, JSON for everything else (never pickle).
    def save(self, folder: str | Path) -> None:
        """Write the model to ``folder`` (created; replaced atomically if it exists)."""
        target = Path(folder).expanduser()
        parent = target.parent if str(target.parent) else Path(".")
        check_lm_folder(target, [])
        temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
        try:
            temporary.chmod(folder_mode())  # mkdtemp makes it private; a result is not
            tensors: dict[str, np.ndarray] = {}
            for order, level in enumerate(self.levels, start=1):
                tensors[f"keys_{order}"] = level.keys
                tensors[f"counts_{order}"] = level.counts
            save_file(tensors, str(temporary / TENSORS_FILE))
            (temporary / TENSORS_FILE).chmod(file_mode())  # safetensors writes it private
            config = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "name": self.name,
                "order": self.order,
                "tokenizer": self.tokenizer_spec,
                "tokenizer_name": self.tokenizer.name,
                "special": self.special,
                "vocab_size": self.tokenizer.vocab_size,
                "discounts": [level.discounts[1:].tolist() for level in self.levels],
                "smoothing": "interpolated modified Kneser-Ney (Chen & Goodman 1998)",
                "training": asdict(self.stats),
            }
            (temporary / CONFIG_FILE).write_text(to_json(config) + "\n", encoding="utf-8")
            if target.exists():
                backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=parent))
                backup.rmdir()
                target.rename(backup)
                temporary.rename(target)
                shutil.rmtree(backup, ignore_errors=True)
            else:
                temporary.rename(target)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise

    @classmethod
    def load(cls, folder: str | Path) -> NgramLM:
        """Read a model written by :meth:`save`."""
        path = Path(folder).expanduser()
        config_path = path / CONFIG_FILE
        try:
            config = json.loads(config_path.read_text())
        except FileNotFoundError:
            raise UserError(f"{path}: no {CONFIG_FILE}; not a toksmith n-gram LM folder") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise UserError(f"{config_path}: not valid JSON") from None
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise UserError(f"{config_path}: not a toksmith n-gram LM (format {FORMAT!r})")
        if config.get("version") != FORMAT_VERSION:
            raise UserError(
                f"{config_path}: format version {config.get('version')!r}, "
                f"this toksmith reads version {FORMAT_VERSION}"
            )
        special = str(config.get("special", "text"))
        tokenizer = load_tokenizer(config["tokenizer"], special=special)
        if tokenizer.vocab_size != config["vocab_size"]:
            raise UserError(
                f"{config_path}: trained with {config['vocab_size']} token ids, but tokenizer "
                f"{config['tokenizer']!r} now has {tokenizer.vocab_size}"
            )
        try:
            tensors = load_file(str(path / TENSORS_FILE))
        except Exception as error:  # safetensors raises its own error types
            raise UserError(f"{path / TENSORS_FILE}: cannot read ({error})") from None
        levels = []
        for order in range(1, int(config["order"]) + 1):
            try:
                keys = tensors[f"keys_{order}"]
                counts = tensors[f"counts_{order}"]
            except KeyError:
                raise UserError(f"{path / TENSORS_FILE}: order {order} is missing") from None
            discounts = np.array([0.0, *config["discounts"][order - 1]], dtype=np.float64)
            levels.append(_Level(keys.astype(np.int64), counts.astype(np.int64), discounts))
        stats = NgramTrainingStats(**config.get("training", {}))
        return cls(
            tokenizer,
            config["tokenizer"],
            levels,
            stats,
            name=config.get("name", path.name),
            special=special,
        )


def check_lm_folder(folder: str | Path, inputs: Sequence[str | Path | None]) -> None:
    """Refuse, before any work, an LM output folder that overlaps an input, whose parent is
    missing or not writable, or that exists and is not a toksmith LM folder."""
    target = Path(folder).expanduser()
    check_output_folder_path(target, inputs)
    replaceable = not target.exists() or (target / CONFIG_FILE).is_file()
    if not replaceable and (not target.is_dir() or any(target.iterdir())):
        raise UserError(f"{target} exists and is not a toksmith LM folder; not replacing")


def train_ngram(
    tokenizer: Tokenizer,
    texts: Iterable[str],
    *,
    order: int = 4,
    tokenizer_spec: str | None = None,
    corpus_name: str = "",
    name: str = "ngram",
    special: str = "text",
) -> NgramLM:
    """Count n-grams of ``tokenizer``'s ids over ``texts`` and return the smoothed model.

    Each text is one document: its first tokens are predicted from begin-of-text padding.
    ``tokenizer_spec`` is what :func:`toksmith.tokenizers.load_tokenizer` gets back when the
    model is loaded (default: the tokenizer's name), with ``special``, the special-token policy
    ``tokenizer`` was loaded with ("text" or "allow"), recorded so the model reloads alike.
    """
    if not 1 <= order <= MAX_ORDER:
        raise UserError(f"n-gram order {order} is out of range (expected 1..{MAX_ORDER})")
    started = time.perf_counter()
    vocab_size = tokenizer.vocab_size
    bos = vocab_size
    pieces: list[np.ndarray] = []
    stats = NgramTrainingStats(corpus=corpus_name, texts=0, tokens=0, bytes=0)
    padding = np.full(order - 1, bos, dtype=np.int64)
    batch: list[str] = []

    def flush() -> None:
        flat, lengths = tokenizer.encode_batch_numpy(batch)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        for index in range(len(batch)):
            pieces.append(padding)
            pieces.append(flat[offsets[index] : offsets[index + 1]])
        stats.tokens += int(lengths.sum())
        batch.clear()

    for text in texts:
        stats.texts += 1
        stats.bytes += len(text.encode("utf-8"))
        batch.append(text)
        if len(batch) >= _ENCODE_CHUNK:
            flush()
    if batch:
        flush()
    if stats.tokens == 0:
        raise UserError(f"corpus {corpus_name or '(given texts)'} has no tokens to train on")
    sequence = np.concatenate(pieces)
    levels = _count_levels(sequence, order, vocab_size)
    stats.ngrams_per_order = [int((level.counts > 0).sum()) for level in levels]
    stats.elapsed_s = round(time.perf_counter() - started, 3)
    spec = tokenizer_spec if tokenizer_spec is not None else tokenizer.name
    return NgramLM(tokenizer, spec, levels, stats, name=name, special=special)


def _count_levels(sequence: np.ndarray, order: int, vocab_size: int) -> list[_Level]:
    """Build the trie levels from the padded id sequence (each document starts with
    ``order - 1`` padding ids ``vocab_size``)."""
    radix = vocab_size + 1
    bos = vocab_size
    is_bos = sequence == bos
    # Offset of each position inside its document, padding included.
    document_start = np.maximum.accumulate(
        np.where(is_bos & ~np.concatenate([[False], is_bos[:-1]]), np.arange(len(sequence)), 0)
    )
    offset = np.arange(len(sequence)) - document_start
    rows: list[np.ndarray] = []  # rows[k-1][p]: row of the k-gram ending at p, or -1
    keys_per_order: list[np.ndarray] = []
    previous = np.zeros(len(sequence), dtype=np.int64)
    for k in range(1, order + 1):
        fits = offset >= k - 1
        keys = np.full(len(sequence), -1, dtype=np.int64)
        parent = np.concatenate([[0], previous[:-1]]) if k > 1 else np.zeros_like(previous)
        keys[fits] = parent[fits] * radix + sequence[fits]
        unique, inverse = np.unique(keys[fits], return_inverse=True)
        row = np.full(len(sequence), -1, dtype=np.int64)
        row[fits] = inverse
        rows.append(row)
        keys_per_order.append(unique)
        previous = row
    levels = []
    for k in range(1, order + 1):
        row = rows[k - 1]
        targets = (row >= 0) & ~is_bos
        if k == order:
            counts = np.bincount(row[targets], minlength=len(keys_per_order[k - 1]))
        else:
            # Continuation count: how many distinct (k+1)-grams end with this k-gram.
            longer = rows[k]
            usable = (longer >= 0) & ~is_bos
            _, first = np.unique(longer[usable], return_index=True)
            counts = np.bincount(row[usable][first], minlength=len(keys_per_order[k - 1]))
        levels.append(_Level(keys_per_order[k - 1], counts.astype(np.int64), _discounts(counts)))
    return levels


def _discounts(counts: np.ndarray) -> np.ndarray:
    """Chen & Goodman's estimates D1, D2, D3+ from counts-of-counts n1..n4, kept in (0, c]."""
    n = [int((counts == c).sum()) for c in range(1, 5)]
    defaults = [0.5, 1.0, 1.5]
    if n[0] == 0 or n[1] == 0:
        return np.array([0.0, *defaults])
    y = n[0] / (n[0] + 2 * n[1])
    estimates = [1 - 2 * y * n[1] / n[0]]
    estimates.append(2 - 3 * y * n[2] / n[1] if n[1] else defaults[1])
    estimates.append(3 - 4 * y * n[3] / n[2] if n[2] else defaults[2])
    bounded = []
    for c, (value, default) in enumerate(zip(estimates, defaults, strict=True), start=1):
        bounded.append(value if 0 < value <= c and math.isfinite(value) else default)
    return np.array([0.0, *bounded])
