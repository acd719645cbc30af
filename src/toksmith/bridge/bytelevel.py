"""Exact next-byte distributions of a token-level language model.

Phan, Havasi, Kuan, Mikolov (2024), "Exact Byte-Level Probabilities from Tokenized Language
Models for FIM-Tasks and Model Ensembles". Their Byte-Token Representation Lemma: the
probability that a text starts with the bytes ``x`` is the sum, over the *covering encodings*
of ``x``, of the probability of the token sequence. A covering encoding is a token sequence
``s + (t,)`` where ``s`` spells a proper prefix ``x[:i]`` of ``x`` exactly and the last token
``t`` starts with the rest ``x[i:]`` (it covers the end of ``x`` and may run past it). So

    P(x b) = sum over branches s spelling x[:i], i <= n, of P(s) * M_s(x[i:] + b)

where ``M_s(u)`` is the next-token mass of the tokens whose bytes start with ``u``, and the
next-byte distribution is ``P(x b) / sum_b' P(x b')``.

Here every token sequence ``s`` spelling a prefix of ``x`` is a :class:`Branch`. A branch is
*evaluated* when the model has been asked for its next-token distribution; then its
contribution to every next byte is one range query on the sorted vocabulary
(:mod:`toksmith.bridge.vocab`), and its children (``s + (t,)`` for the tokens ``t`` that spell
``x[i:j]`` exactly) are new branches. Calls are cached by token context, so moving one byte
forward costs at most one new model call (the branch that starts at the new byte).

Which covers count (``covers``):

``"all"``
    every token sequence, as in the Lemma. Exact for any model; the number of branches grows
    with the number of segmentations, so this is for small vocabularies and tests.
``"canonical"`` (default)
    the paper's *valid* covers, for models trained on the tokenizer's own encodings: the
    branch spelling ``x[:i]`` must be the tokenizer's own encoding of those bytes. With a regex
    pre-tokenizer we also accept the tokens before ``i`` in the encoding of ``x[:i]`` followed
    by one more character of each kind (letter, digit, punctuation, space, newline), because
    rules such as ``\\s+(?!\\S)`` look one character ahead: alone, ``"\\n\\n"`` is one GPT-2
    token, before a letter it is two. Deviation, stated: we check only the prefix ``s``, not
    whether ``s + (t,)`` is itself canonical (that would cost one encode per candidate token);
    a non-canonical last token keeps the probability the model gives it.

Pre-tokenization (``anchors``): BPE with a regex pre-tokenizer never lets a token cross a
pre-token boundary. Some boundaries are certain whatever text follows, and the state is
*re-rooted* there: covers that cross them are dropped (they are never canonical) and the
tokens before them are fixed, so branches only hold the tokens of the current line.
``"line"`` (GPT-2's regex: p50k, HF ByteLevel): before the first character of a line when it is
neither whitespace nor ``/`` (o200k lets ``/`` follow a newline inside a pre-token).
``"indent"`` (regexes with a newline rule ``\\s*[\\r\\n]``: cl100k, o200k, Llama 3/4, Tekken,
DeepSeek): also before the indentation of a line, once a character other than space or tab
follows it. ``"none"``: the text is never cut (tokenizers without pre-tokenization). The tests
check on standard-library source that these are token boundaries of the whole text for each
built-in byte-level tokenizer.

Shared roots (canonical covers only): the branches that can still matter are the encodings of
the text up to the positions from which some token could cover the end; the tokens they all
share are moved into the root, so a prompt costs a few model calls, not one per token of its
line. The tests check that this gives the same distributions as the full chain.

Bytes that end in the middle of a UTF-8 character are encoded with tiktoken's own byte
encoder when the tokenizer is tiktoken-based; for other byte-level tokenizers the incomplete
character is spelled with single-byte tokens (an approximation, stated).
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from toksmith.bridge.lm.base import LanguageModel
from toksmith.bridge.vocab import VocabIndex, vocab_index
from toksmith.errors import UserError
from toksmith.tokenizers.base import Tokenizer

COVERS = ("canonical", "all")
ANCHORS = ("auto", "indent", "line", "none")
_WHITESPACE = frozenset(b" \t\n\r\x0b\x0c")
_INDENT = frozenset(b" \t")
# One more character of each kind the pre-tokenizer regexes tell apart (see _canonical_tokens).
_LOOKAHEAD_PROBES = (b"a", b"0", b".", b" ", b"\n")

_CALL_CACHE = 96  # next-token distributions kept by a ByteLevelModel (by context)


def check_utf8_prompt(prompt: bytes, what: str = "prompt") -> None:
    """Raise :class:`UserError` unless ``prompt`` is UTF-8, allowing an incomplete last
    character (a byte prefix may end inside a character)."""
    try:
        prompt.decode("utf-8")
    except UnicodeDecodeError as error:
        truncated = error.reason == "unexpected end of data" and error.end == len(prompt)
        if not truncated:
            raise UserError(
                f"{what} is not valid UTF-8: byte {error.start} "
                f"(0x{prompt[error.start]:02x}) {error.reason}"
            ) from None


def require_byte_exact(tokenizer: Tokenizer) -> None:
    """Byte-level probabilities need the exact bytes of every token."""
    if not tokenizer.byte_exact:
        raise UserError(
            f"tokenizer {tokenizer.name!r} ({tokenizer.backend}) does not spell texts with "
            "exact token bytes (normalization, word-piece markers or a SentencePiece "
            "space symbol), so next-byte probabilities cannot be recovered from its tokens; "
            "use a byte-level BPE tokenizer"
        )


class ByteLevelModel:
    """A token-level language model seen as a model over bytes.

    ``calls`` counts the token contexts the language model was asked about (cache misses).
    """

    def __init__(
        self,
        lm: LanguageModel,
        *,
        covers: str = "canonical",
        anchors: str = "auto",
        shared_roots: bool = True,
    ) -> None:
        if covers not in COVERS:
            raise UserError(f"covers {covers!r} is not one of {', '.join(COVERS)}")
        if anchors not in ANCHORS:
            raise UserError(f"anchors {anchors!r} is not one of {', '.join(ANCHORS)}")
        require_byte_exact(lm.tokenizer)
        self.lm = lm
        self.tokenizer = lm.tokenizer
        self.covers = covers
        self.anchors = _default_anchors(lm.tokenizer) if anchors == "auto" else anchors
        self.shared_roots = shared_roots
        self.pre_tokenizes = _default_anchors(lm.tokenizer) != "none"
        self.index: VocabIndex = vocab_index(lm.tokenizer)
        self.calls = 0
        self._cache: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()

    # ----------------------------------------------------------------------------------------
    def probs_by_rank(self, context: tuple[int, ...]) -> np.ndarray:
        """P(next token | context) indexed by vocabulary rank (see :class:`VocabIndex`),
        renormalized over the tokens that have bytes (the text goes on). Cached by the
        context the model actually reads; the array is shared, do not modify it."""
        window = self.lm.context_window
        if window is None:
            key = context
        else:
            key = context[max(0, len(context) - window) :] if window else ()
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        self.calls += 1
        ranked = np.asarray(self.lm.next_token_probs_ordered(list(key), self.index.order))
        if ranked.shape != (self.index.size,):
            raise UserError(
                f"language model {self.lm.name!r} returned {ranked.shape[-1]} probabilities, "
                f"tokenizer {self.tokenizer.name!r} has {self.index.size} ids"
            )
        first = self.index.first_rank
        total = float(ranked[first:].sum())
        if not total > 0:
            raise UserError(f"language model {self.lm.name!r} gives no mass to any token")
        if abs(total - 1.0) > 1e-12 or ranked[:first].any():
            ranked = ranked.astype(np.float64, copy=True)  # never modify the model's array
            ranked[:first] = 0.0  # tokens without bytes
            ranked /= total
        self._cache[key] = ranked
        if len(self._cache) > _CALL_CACHE:
            self._cache.popitem(last=False)
        return ranked

    def clear_cache(self) -> None:
        """Forget cached model answers (and the model's own cache, when it has one)."""
        self._cache.clear()
        clear = getattr(self.lm, "clear_cache", None)
        if clear is not None:
            clear()

    def encode_bytes(self, data: bytes) -> tuple[int, ...]:
        """The tokenizer's own encoding of ``data``, which may end inside a character."""
        try:
            return tuple(self.tokenizer.encode(data.decode("utf-8")))
        except UnicodeDecodeError as error:
            valid = error.start
        if self.tokenizer.byte_encoding == "raw":  # rank files encode raw bytes themselves
            return tuple(self.tokenizer.encode_bytes(data))
        head = tuple(self.tokenizer.encode(data[:valid].decode("utf-8")))
        tail = []
        for value in data[valid:]:
            rank = int(self.index.byte_token_rank[value])
            if rank < 0:
                raise UserError(
                    f"tokenizer {self.tokenizer.name!r} has no token for byte 0x{value:02x}"
                )
            tail.append(int(self.index.order[rank]))
        return head + tuple(tail)

    def is_anchor(self, data: bytes | bytearray, position: int) -> bool:
        """True when a token boundary before ``data[position]`` is certain whatever follows
        ``data`` (see the module docstring)."""
        if self.anchors == "none" or position <= 0 or position >= len(data):
            return False
        if data[position - 1] != 0x0A:
            return False
        first = data[position]
        if first not in _WHITESPACE:
            return first != 0x2F
        if self.anchors != "indent" or first not in _INDENT:
            return False
        end = position
        while end < len(data) and data[end] in _INDENT:
            end += 1
        return end < len(data) and data[end] not in _WHITESPACE

    def tokens_spelling(self, data: bytes, length: int) -> tuple[int, ...] | None:
        """The first tokens of the encoding of ``data`` that spell exactly its first
        ``length`` bytes, or None when a token straddles that point."""
        spelled = 0
        kept: list[int] = []
        for token in self.encode_bytes(data):
            if spelled == length:
                break
            kept.append(token)
            spelled += len(self.tokenizer.token_bytes(token))
        return tuple(kept) if spelled == length else None

    def encode_to_anchor(self, data: bytes | bytearray, start: int, anchor: int) -> tuple[int, ...]:
        """The tokenizer's encoding of ``data[start:anchor]`` as it is inside the whole text:
        the encoding runs on to the first character after the anchor that is not a space or
        tab, because some pre-tokenizer rules look ahead (e.g. ``\\s+$`` in GPT-2's)."""
        end = anchor
        while end < len(data) and data[end] in _INDENT:
            end += 1
        tokens = self.tokens_spelling(bytes(data[start : end + 1]), anchor - start)
        if tokens is None:
            return self.encode_bytes(bytes(data[start:anchor]))  # no boundary there after all
        return tokens

    def anchor_completed_by(self, data: bytes | bytearray, position: int) -> int:
        """The anchor that byte ``data[position]`` makes certain, or -1: the start of its line
        when it is the line's first character that is not a space or tab."""
        if self.anchors == "none" or data[position] in _WHITESPACE:
            return -1
        start = position
        while start > 0 and data[start - 1] in _INDENT:
            start -= 1
        return start if self.is_anchor(data, start) else -1

    def start(self, prompt: bytes | str) -> ByteState:
        """A :class:`ByteState` after the bytes of ``prompt``."""
        data = prompt.encode("utf-8") if isinstance(prompt, str) else bytes(prompt)
        check_utf8_prompt(data)
        return ByteState(self, data)


def _default_anchors(tokenizer: Tokenizer) -> str:
    """``indent`` for regex pre-tokenizers with a newline rule (``\\s*[\\r\\n]``: cl100k,
    o200k, Llama 3/4, Tekken, DeepSeek), ``line`` for the GPT-2 regex (p50k, HF ByteLevel),
    ``none`` otherwise."""
    if tokenizer.backend in ("tiktoken", "tekken"):
        pattern = tokenizer.pattern or ""
        return "indent" if r"\s*[\r\n]" in pattern else "line"
    if tokenizer.backend == "hf":
        pre_tokenizer = tokenizer.pre_tokenizer_spec() or {}
        text = json.dumps(pre_tokenizer)
        if r"\\s*[\r\n]" in text:
            return "indent"
        if pre_tokenizer.get("type") == "ByteLevel" and pre_tokenizer.get("use_regex", True):
            return "line"
    return "none"


@dataclass(eq=False)
class Branch:
    """A token sequence spelling ``data[root:start]`` exactly (tokens after the root)."""

    tokens: tuple[int, ...]
    start: int
    logp: float  # log P(tokens | root tokens)
    probs: np.ndarray | None = field(default=None, repr=False)  # by rank, once evaluated
    low: int = 0  # ranks of the tokens starting with data[start:], once evaluated
    high: int = 0


class ByteState:
    """The covering encodings of a byte prefix, advanced one byte at a time."""

    def __init__(self, model: ByteLevelModel, prompt: bytes) -> None:
        self.model = model
        self.data = bytearray(prompt)
        root = 0
        for position in range(len(prompt) - 1, 0, -1):
            if model.is_anchor(prompt, position):
                root = position
                break
        self.root = root
        self.root_tokens = model.encode_to_anchor(prompt, 0, root) if root else ()
        self.branches: list[Branch] = [Branch((), root, 0.0)]
        self._canonical: dict[int, frozenset[tuple[int, ...]]] = {}
        self._move_root_to_shared_prefix()

    def __len__(self) -> int:
        return len(self.data)

    # ----------------------------------------------------------------------------------------
    def distribution(self) -> np.ndarray:
        """The exact next-byte distribution: 256 float64 probabilities summing to 1."""
        while True:
            pending = [b for b in self.branches if b.probs is None]
            if not pending:
                break
            for branch in pending:
                self._evaluate(branch)
        masses, _ = self._masses()
        total = masses.sum()
        if not total > 0:
            raise UserError("the language model gives probability 0 to every next byte")
        return masses / total

    def greedy_byte(self) -> int:
        """The most probable next byte, asking the model only for branches that could change
        the answer: an unevaluated branch can add at most its own probability to any byte."""
        while True:
            masses, bound = self._masses()
            pending = [b for b in self.branches if b.probs is None]
            if not pending:
                return int(np.argmax(masses))
            first, second = np.partition(masses, -2)[-2:][::-1]
            if first - second > bound:
                return int(np.argmax(masses))
            self._evaluate(max(pending, key=lambda b: b.logp))

    def covers(self) -> list[tuple[Branch, np.ndarray]]:
        """Every covering encoding's branch (all evaluated) with the ranks of its possible last
        tokens and their joint probabilities relative to the largest branch."""
        self.distribution()  # evaluates every branch
        top = max(b.logp for b in self.branches)
        result = []
        n = len(self.data)
        for branch in self.branches:
            if branch.start >= n and n > self.root:
                continue  # spells the whole prefix: counted in its parent's cover
            assert branch.probs is not None
            ranks = np.arange(branch.low, branch.high)
            weights = branch.probs[branch.low : branch.high] * math.exp(branch.logp - top)
            result.append((branch, np.stack([ranks, weights])))
        return result

    def advance(self, byte: int) -> None:
        """Append one byte: narrow every evaluated branch, spawn the branches that now spell
        the whole prefix, drop branches that no token can continue, re-root at an anchor."""
        self.data.append(byte)
        n = len(self.data)
        index = self.model.index
        alive: list[Branch] = []
        spawned: list[Branch] = []
        for branch in self.branches:
            if branch.probs is None:
                alive.append(branch)  # its bound stays valid for the whole subtree
                continue
            depth = n - branch.start
            low, high = index.prefix_range(
                bytes(self.data[branch.start :]), branch.low, branch.high
            )
            branch.low, branch.high = low, high
            exact = index.exact_rank(low, high, depth)
            if exact >= 0:
                child = self._child(branch, exact, n)
                if child is not None:
                    spawned.append(child)
            if low < high:
                alive.append(branch)
        self.branches = alive + spawned
        anchor = self.model.anchor_completed_by(self.data, n - 1)
        if anchor > self.root:
            self._reroot(anchor)
        self._move_root_to_shared_prefix()

    # ----------------------------------------------------------------------------------------
    def _evaluate(self, branch: Branch) -> None:
        """Ask the model about ``branch``; spawn its children up to the current end."""
        model = self.model
        index = model.index
        branch.probs = model.probs_by_rank(self.root_tokens + branch.tokens)
        low, high = index.full_range()
        end = len(self.data)
        for position in range(branch.start + 1, end + 1):
            depth = position - branch.start
            low, high = index.prefix_range(bytes(self.data[branch.start : position]), low, high)
            if low >= high:
                break
            exact = index.exact_rank(low, high, depth)
            if exact >= 0:
                child = self._child(branch, exact, position)
                if child is not None:
                    self.branches.append(child)
        branch.low, branch.high = low, high
        if low >= high:
            self.branches.remove(branch)  # no token continues it; its children are spawned

    def _child(self, parent: Branch, rank: int, position: int) -> Branch | None:
        assert parent.probs is not None
        probability = float(parent.probs[rank])
        if probability <= 0.0:
            return None
        tokens = (*parent.tokens, int(self.model.index.order[rank]))
        if self.model.covers == "canonical" and tokens not in self._canonical_tokens(position):
            return None
        return Branch(tokens, position, parent.logp + math.log(probability))

    def _canonical_tokens(self, position: int) -> frozenset[tuple[int, ...]]:
        """The valid encodings of ``data[root:position]`` (cached): the tokenizer's own, and,
        with a pre-tokenizer, the tokens before ``position`` when the text goes on with one
        more character of each kind (regex rules such as ``\\s+(?!\\S)`` look one character
        ahead: ``"\\n\\n"`` alone is one token for GPT-2's regex, but two before a letter)."""
        valid = self._canonical.get(position)
        if valid is None:
            text = bytes(self.data[self.root : position])
            encodings: set[tuple[int, ...] | None] = {self.model.encode_bytes(text)}
            if self.model.pre_tokenizes:
                for probe in _LOOKAHEAD_PROBES:
                    encodings.add(self.model.tokens_spelling(text + probe, len(text)))
            encodings.discard(None)
            valid = frozenset(e for e in encodings if e is not None)
            self._canonical[position] = valid
        return valid

    def _masses(self) -> tuple[np.ndarray, float]:
        """Unnormalized next-byte masses of the evaluated branches (relative to the most
        probable branch), and the total probability of the unevaluated ones (same scale)."""
        n = len(self.data)
        top = max(b.logp for b in self.branches)
        masses = np.zeros(256)
        bound = 0.0
        index = self.model.index
        for branch in self.branches:
            weight = math.exp(branch.logp - top)
            if branch.probs is None:
                bound += weight
                continue
            contribution = index.next_byte_masses(
                branch.probs, branch.low, branch.high, n - branch.start
            )
            masses += weight * contribution
        return masses, bound

    def _reroot(self, position: int, tokens: tuple[int, ...] | None = None) -> None:
        """Fix the tokens before ``position`` (an anchor, or the end of ``tokens``)."""
        if tokens is None:
            tokens = self.model.encode_to_anchor(self.data, self.root, position)
        self.root_tokens += tokens
        self.root = position
        self.branches = [Branch((), position, 0.0)]
        self._canonical = {}

    def _move_root_to_shared_prefix(self) -> None:
        """Canonical covers only: move the root to the longest token prefix shared by every
        branch that can still matter.

        A branch matters if some token starts with the bytes after it (it can be a cover's
        prefix) or it spells the whole text. In canonical mode each such branch is the
        tokenizer's encoding of the text up to its position; the probability ratios between
        them do not depend on the tokens they share, so those become root tokens and the model
        is never asked about the tokens before them. Approximation, stated: the shared tokens
        are then kept even if later bytes would make BPE segment them differently (within the
        current pre-token), as the anchors are.
        """
        model = self.model
        if model.covers != "canonical" or not model.shared_roots:
            return
        index = model.index
        n = len(self.data)
        data = bytes(self.data)
        low, high = index.prefix_range(data[self.root :], *index.full_range())
        if low < high:
            return  # the root itself can be a cover's prefix
        low_position = max(self.root + 1, n - index.max_token_bytes)
        shared: tuple[int, ...] | None = None
        for position in range(n, low_position - 1, -1):
            if position < n:
                low, high = index.prefix_range(data[position:], *index.full_range())
                if low >= high:
                    continue
            for tokens in self._canonical_tokens(position):
                if shared is None:
                    shared = tokens
                    continue
                common = 0
                for mine, theirs in zip(shared, tokens, strict=False):
                    if mine != theirs:
                        break
                    common += 1
                shared = shared[:common]
            if shared is not None and not shared:
                return
        if shared:
            spelled = sum(len(self.model.tokenizer.token_bytes(t)) for t in shared)
            self._reroot(self.root + spelled, shared)
