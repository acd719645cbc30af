"""The parity gate: a fast engine serves a tokenizer only where it gives the vendor's ids.

The parity corpus is every UDHR translation, Python source from the standard library and an
adversarial set (:func:`adversarial_texts`). Built-in tokenizers are checked on the whole
corpus by the tests (tests/tokenizers/test_engines_parity.py), and their result is pinned in
:data:`toksmith.tokenizers.fast.PINNED`. Any other tokenizer (a path, ``hf:``) is checked when it
is first loaded, on a compact set (:func:`compact_groups`: one UDHR paragraph per language, a
few standard-library modules, the adversarial set at a smaller scale), and the result is cached
under a hash of the tokenizer's content (see :meth:`parity_key` on the adapters), so the next
load reads it. A tokenizer that fails, or that no fast engine reads, keeps its vendor engine.
"""

from __future__ import annotations

import gzip
import sysconfig
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from toksmith.errors import UserError
from toksmith.tokenizers.base import Tokenizer
from toksmith.tokenizers.fast import (
    FASTOKENS,
    PINNED,
    PINNED_FASTOKENS_VERSION,
    TEXT_POLICY_ONLY,
    LazyEngine,
    check_engine_choice,
    fastokens_version,
)

GATE_VERSION = 1  # part of the cache key: a change to the compact set invalidates results
_CACHE_KIND = "parity"
_BATCH_TEXTS = 512

Group = tuple[str, list[str]]
"""A labelled list of texts, encoded as one batch: ``("udhr/007", [...])``."""


def adversarial_texts(repeat: int = 100_000, long_line_bytes: int = 1_000_000) -> list[Group]:
    """Texts written to break encoders: ``repeat`` repeats of single characters, base64 blobs,
    CJK without spaces, emoji ZWJ sequences, combining marks, ``\\r\\n``/``\\r``/tab mixtures,
    long whitespace runs, special-token strings as plain text, private-use characters, and a
    line of ``long_line_bytes`` bytes. Deterministic."""
    import base64
    import random

    rng = random.Random(16)
    repeats = [char * repeat for char in ("a", " ", "\n", "1", "!", "é", "中", "\u200b", "😀")]
    blobs = [
        base64.b64encode(rng.randbytes(size)).decode("ascii") for size in (3, 57, 1000, 30_000)
    ]
    blobs.append(base64.encodebytes(rng.randbytes(3000)).decode("ascii"))  # with line breaks
    cjk = [
        "我们都是人类大家庭的成员每个人都享有尊严和权利" * 20,
        "すべての人間は生まれながらにして自由であり" * 20,
        "모든인간은태어날때부터자유로우며" * 20,
        "中文English混合123數字と日本語カタカナ" * 10,
    ]
    emoji = [
        "👩‍👩‍👧‍👦 family 👨🏽‍💻 coder 🏳️‍🌈 flag 🧑🏿‍🤝‍🧑🏻",
        "👩‍👩‍👧‍👦" * 200,
        "🇩🇪🇫🇷🇯🇵" * 50 + "❤️‍🔥" * 50,
        "keycaps 1️⃣2️⃣#️⃣ and skin 👋🏻👋🏼👋🏽👋🏾👋🏿",
    ]
    combining = [
        "e\u0301a\u0300o\u0302u\u0308n\u0303" * 100,
        "Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357a\u0358\u0359\u035a\u035b\u035cl" * 200,
        "a" + "\u0301" * 5000,
        "\u1100\u1161\u11a8 jamo \u0915\u094d\u0937 \u0e01\u0e34\u0e4a",
        "Å (A+ring) vs Å (U+212B) vs Å (U+00C5); ﬁ ligature, ｆｕｌｌｗｉｄｔｈ, ① ² ½",
    ]
    line_breaks = [
        "one\r\ntwo\rthree\nfour\r\n\r\nfive\t\tsix \t \r\n\tseven",
        "\r\n" * 5000,
        "\r" * 3000 + "x" + "\n\r" * 3000,
        "\t" * 4000 + "tab" + " \t" * 3000,
        "a\r\nb\n\rc\r\r\nd\u2028e\u2029f\u0085g\x0bh\x0ci",
        "def f():\r\n\tif x:\r\n\t\treturn 1\r\n    else:\r\n        return 2\r\n",
    ]
    whitespace = [
        " " * 30_000 + "word",
        "word" + " " * 25_001 + "word",
        "a" + " \u00a0\u3000\u2009" * 2000 + "b",
        "\n\n\n   \n\n  \t\n" * 1000,
        " leading and trailing   ",
        "   ",
    ]
    specials = [
        "<|endoftext|>",
        "Hello <|endoftext|> world <|fim_prefix|><|fim_suffix|><|fim_middle|>",
        "[CLS] a [SEP] [MASK] b [PAD] [UNK]",
        "<s> text </s> <unk> <pad> [INST] x [/INST]",
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
        "<｜begin▁of▁sentence｜>User: <｜end▁of▁sentence｜>",
        "<|im_start|>system\nx<|im_end|> <SPECIAL_12> [IMG] [TOOL_CALLS]",
        "<<|endoftext|>|> <|endoftext|<|endoftext|>",
    ]
    private_use = [
        "".join(chr(0xE000 + i) for i in range(0, 6400, 7)),
        "".join(chr(0xF0000 + i) for i in range(0, 4000, 13)) + " mixed \U0010fffd text",
        "\ue000\uf8ff plane 15/16: \U000f0000\U00100000 nonchars: \ufffe\uffff\ufdd0",
    ]
    alphabet = "abcdefghijklmnopqrstuvwxyzäöüßçñ 0123456789 .,;:!?-'\"()[]{}<>/\\@#$%^&*_+=~`|"
    alphabet += "αβγδεжзийклмнопрстуфхцчшщъыьэюяאבגדהوزحطيكلمنसहक्षत्रज्ञ中文日本語한국어 "
    long_line = []
    size = 0
    while size < long_line_bytes:
        word = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        long_line.append(word)
        size += len(word.encode("utf-8")) + 1
    mixed = [
        "It's we'll they'RE I'M 'S 'll don't   x's",
        "1234567890 3.14159 1,000,000 0x1F 1e-10 ٣٤٥ ४५६ ໑໒",
        "https://example.com/a?b=c&d=e#f user@example.org C:\\path\\to\\file.txt",
        "\x00\x01\x02\x1f\x7f control \x80\x9f",
        "\ufeffBOM inside and \u200d\u200c\u2060 joiners",
        "",
    ]
    return [
        ("adversarial/repeats", repeats),
        ("adversarial/base64", blobs),
        ("adversarial/cjk", cjk),
        ("adversarial/emoji", emoji),
        ("adversarial/combining", combining),
        ("adversarial/line-breaks", line_breaks),
        ("adversarial/whitespace", whitespace),
        ("adversarial/special-strings", specials),
        ("adversarial/private-use", private_use),
        ("adversarial/mixed", mixed),
        ("adversarial/long-line", [" ".join(long_line)]),
    ]


def udhr_groups(folder: Path) -> list[Group]:
    """Every translation of a UDHR corpus folder (``key.tsv`` files of ``id<TAB>text``), one
    group per language: its lines."""
    groups = []
    for path in sorted(folder.glob("*.tsv")):
        if path.name == "index.tsv":
            continue
        lines = [line.partition("\t")[2] for line in path.read_text(encoding="utf-8").splitlines()]
        groups.append((f"udhr/{path.stem}", lines))
    return groups


def stdlib_groups(limit_bytes: int = 2_000_000) -> list[Group]:
    """Python source of the running interpreter's standard library (the top-level modules in
    name order, up to ``limit_bytes``), each module whole as ``count --file`` encodes it."""
    folder = Path(sysconfig.get_paths()["stdlib"])
    groups = []
    total = 0
    for path in sorted(folder.glob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        groups.append((f"stdlib/{path.name}", [text]))
        total += len(text.encode("utf-8"))
        if total >= limit_bytes:
            break
    return groups


def compact_udhr_groups() -> list[Group]:
    """The UDHR part of the compact set: the first paragraph of each translation (cut at
    300 characters), shipped with toksmith as ``data/parity_udhr.txt.gz``."""
    data = resources.files("toksmith.tokenizers").joinpath("data/parity_udhr.txt.gz")
    lines = gzip.decompress(data.read_bytes()).decode("utf-8").splitlines()
    return [("udhr-sample", lines)]


def write_compact_udhr(folder: Path, out: Path, chars: int = 300) -> None:
    """Write the shipped UDHR sample (see :func:`compact_udhr_groups`) from a UDHR folder."""
    lines = []
    for _, texts in udhr_groups(folder):
        first = next((text for text in texts if text.strip()), "")
        lines.append(first[:chars].replace("\n", " "))
    out.write_bytes(gzip.compress("\n".join(lines).encode("utf-8"), mtime=0))


def compact_groups() -> list[Group]:
    """The compact parity set a tokenizer meets on first load (about 0.3 MB)."""
    return [
        *compact_udhr_groups(),
        *stdlib_groups(limit_bytes=60_000),
        *adversarial_texts(repeat=10_000, long_line_bytes=100_000),
    ]


def full_groups(udhr: Path) -> list[Group]:
    """The whole parity corpus: every UDHR translation in ``udhr``, 2 MB of standard-library
    source, the adversarial set at full scale."""
    return [*udhr_groups(udhr), *stdlib_groups(), *adversarial_texts()]


@dataclass(frozen=True)
class ParityResult:
    """Whether a fast engine gave the vendor's ids on every text: ``mismatch`` names the first
    text that differs (or the error the fast engine raised), empty when parity holds."""

    texts: int
    mismatch: str = ""

    @property
    def holds(self) -> bool:
        return not self.mismatch


def check_parity(tokenizer: Tokenizer, engine: object, groups: Iterable[Group]) -> ParityResult:
    """Encode every group with the vendor engine and with ``engine`` (in batches, as counting
    does) and compare the ids text by text."""
    vendor = getattr(tokenizer, "vendor_batch_numpy")  # noqa: B009 - only fast-capable adapters
    checked = 0
    for label, texts in groups:
        for start in range(0, len(texts), _BATCH_TEXTS):
            batch = texts[start : start + _BATCH_TEXTS]
            expected = vendor(batch)
            try:
                got = tokenizer._fast_ids(engine, batch)
            except BaseException as error:  # noqa: BLE001 - a panic fails the gate, it is no crash
                if isinstance(error, (KeyboardInterrupt, SystemExit)):
                    raise
                return ParityResult(checked, f"{label}: fastokens raised {type(error).__name__}")
            difference = _first_difference(expected, got)
            if difference is not None:
                return ParityResult(checked, f"{label} text {start + difference + 1}: ids differ")
            checked += len(batch)
    return ParityResult(checked)


def _first_difference(
    expected: tuple[np.ndarray, np.ndarray], got: tuple[np.ndarray, np.ndarray]
) -> int | None:
    """Index of the first text whose ids differ, or None."""
    if np.array_equal(expected[0], got[0]) and np.array_equal(expected[1], got[1]):
        return None
    if len(expected[1]) != len(got[1]):
        return 0
    ends_expected = np.cumsum(expected[1])
    ends_got = np.cumsum(got[1])
    for index in range(len(expected[1])):
        a = expected[0][ends_expected[index] - expected[1][index] : ends_expected[index]]
        b = got[0][ends_got[index] - got[1][index] : ends_got[index]]
        if not np.array_equal(a, b):
            return index
    return 0


def select_engine(tokenizer: Tokenizer, choice: str, builtin: str | None = None) -> Tokenizer:
    """Give ``tokenizer`` its engine for ``--engine choice`` and say why in ``engine_note``.

    ``builtin`` is the built-in name when the tokenizer is one: its pinned parity result is
    used (under the pinned fastokens release). Any other tokenizer goes through the gate on
    the compact set, cached by content. ``fast`` where parity does not hold is a UserError.
    """
    check_engine_choice(choice)
    tokenizer.fast_engine = None
    tokenizer.engine = "vendor"
    if choice == "vendor":
        tokenizer.engine_note = "vendor: --engine vendor"
        return tokenizer
    reason = _no_fast_reason(tokenizer, builtin)
    if reason is None:
        build = tokenizer.build_fast_engine  # type: ignore[attr-defined]
        if builtin is not None and _pinned_fast(builtin, tokenizer.special_policy):
            tokenizer.fast_engine = LazyEngine(build)
            tokenizer.engine = FASTOKENS
            tokenizer.engine_note = f"fastokens {PINNED_FASTOKENS_VERSION}, parity pinned by tests"
            return tokenizer
        reason = _gate(tokenizer, build)
    if reason is not None:
        if choice == "fast":
            raise UserError(
                f"tokenizer {tokenizer.name!r}: --engine fast, but no fast engine gives its "
                f"vendor's ids ({reason}); use --engine auto or vendor"
            )
        tokenizer.engine_note = f"vendor: {reason}"
    return tokenizer


def _no_fast_reason(tokenizer: Tokenizer, builtin: str | None) -> str | None:
    """Why no fast engine can be tried at all, or None."""
    pinned_engine, pinned_note = PINNED.get(builtin or "", (FASTOKENS, ""))
    if pinned_engine == "vendor" and fastokens_version() == PINNED_FASTOKENS_VERSION:
        return pinned_note.removeprefix("vendor: ")
    if not hasattr(tokenizer, "build_fast_engine"):
        return f"no fast engine reads the {tokenizer.backend} backend"
    if fastokens_version() is None:
        return "fastokens is not installed"
    if tokenizer.backend == "tekken" and tokenizer.special_policy == "allow":
        return "Tekken under --special allow is cut at special strings in Python"
    if builtin in TEXT_POLICY_ONLY and tokenizer.special_policy == "allow":
        return TEXT_POLICY_ONLY[builtin]
    return None


def _pinned_fast(builtin: str, special: str) -> bool:
    """True when the tests pin fastokens parity for the built-in under this policy."""
    if special != "text" and builtin in TEXT_POLICY_ONLY:
        return False
    return (
        fastokens_version() == PINNED_FASTOKENS_VERSION
        and PINNED.get(builtin, ("vendor", ""))[0] == FASTOKENS
    )


def _gate(tokenizer: Tokenizer, build: object) -> str | None:
    """Run (or read the cached result of) the compact gate; None when parity holds, and the
    tokenizer is then served by the fast engine."""
    key = _cache_key(tokenizer)
    cached = _read_cached(key)
    if cached == "":  # a cached pass: start fastokens only when there is text enough
        lazy = LazyEngine(build)  # type: ignore[arg-type]
        note = "parity gate passed (cached result)"
    elif cached is not None:
        return cached  # a cached failure
    else:
        lazy = LazyEngine(build)  # type: ignore[arg-type]
        engine = lazy.start()
        if engine is None:
            reason = f"fastokens cannot read it ({lazy.failure})"
            _write_cached(key, reason)
            return reason
        result = check_parity(tokenizer, engine, compact_groups())
        if not result.holds:
            reason = f"parity gate failed on {result.mismatch}"
            _write_cached(key, reason)
            return reason
        _write_cached(key, "")
        note = f"parity gate passed on {result.texts} texts"
    tokenizer.fast_engine = lazy
    tokenizer.engine = FASTOKENS
    tokenizer.engine_note = f"fastokens {fastokens_version()}, {note}"
    return None


def _cache_key(tokenizer: Tokenizer) -> str:
    key = tokenizer.parity_key()  # type: ignore[attr-defined]
    return f"{key}-fastokens{fastokens_version()}-gate{GATE_VERSION}"


def _read_cached(key: str) -> str | None:
    """The cached failure reason, ``""`` for a cached pass, or None when nothing is cached."""
    try:
        from toksmith.tokenizers.cache import read_entry
    except ImportError:
        return None
    data = read_entry(key, _CACHE_KIND)
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text == "pass":
        return ""
    if text.startswith("fail "):
        return text[5:]
    return None  # not an entry this gate wrote: run the gate again


def _write_cached(key: str, reason: str) -> None:
    try:
        from toksmith.tokenizers.cache import write_entry
    except ImportError:
        return
    write_entry(key, _CACHE_KIND, b"pass" if not reason else b"fail " + reason.encode())


def gate_texts(groups: Sequence[Group]) -> int:
    """The number of texts in ``groups``."""
    return sum(len(texts) for _, texts in groups)
