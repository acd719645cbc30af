"""Which scripts and languages a vocabulary serves.

Token classes follow "Qtok: A Comprehensive Framework for Evaluating Multilingual Tokenizer
Quality in Large Language Models" (Chelombitko et al., 2025): every token gets a Unicode script
and a category, and a letter token that starts a word (it carries the word-boundary space, or is
not a WordPiece ``##`` continuation) counts as a complete word. Deviation: Qtok checks complete
words against its own word lists; here the word-boundary mark alone decides, with no lexicon.

Per-language measures on a parallel corpus follow "Tokenization Impacts Multilingual Language
Modeling: Assessing Vocabulary Allocation and Overlap Across Languages" (Limisiewicz, Balhar
and Mareček, Findings of ACL 2023): the average rank of the tokens a language uses, and the
overlap of two languages' token distributions (Jensen-Shannon divergence), beside the share of
text covered by tokens of at least two characters.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations
from pathlib import Path

import numpy as np
import regex

from toksmith.audit.tokens import is_continuation, token_labels
from toksmith.corpus import is_parallel_folder, iter_texts, open_parallel
from toksmith.corpus.read import Errors
from toksmith.errors import UserError
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

# ISO 15924 codes of the Unicode scripts; those the installed `regex` does not know are
# skipped. Zyyy (Common) and Zinh (Inherited) do not decide a token's script.
_SCRIPT_TABLE = """Adlm Aghb Ahom Arab Armi Armn Avst Bali Bamu Bass Batk Beng Bhks Bopo Brah Brai Bugi
    Buhd Cakm Cans Cari Cham Cher Chrs Copt Cpmn Cprt Cyrl Deva Diak Dogr Dsrt Dupl Egyp Elba
    Elym Ethi Gara Geor Glag Gong Gonm Goth Gran Grek Gujr Gukh Guru Hang Hani Hano Hatr Hebr
    Hira Hluw Hmng Hmnp Hung Ital Java Kali Kana Kawi Khar Khmr Khoj Kits Knda Krai Kthi Lana
    Laoo Latn Lepc Limb Lina Linb Lisu Lyci Lydi Mahj Maka Mand Mani Marc Medf Mend Merc Mero
    Mlym Modi Mong Mroo Mtei Mult Mymr Nagm Nand Narb Nbat Newa Nkoo Nshu Ogam Olck Onao Orkh
    Orya Osge Osma Ougr Palm Pauc Perm Phag Phli Phlp Phnx Plrd Prti Rjng Rohg Runr Samr Sarb
    Saur Sgnw Shaw Shrd Sidd Sind Sinh Sogd Sogo Sora Soyo Sund Sunu Sylo Syrc Tagb Takr Tale
    Talu Taml Tang Tavt Telu Tfng Tglg Thaa Thai Tibt Tirh Tnsa Todr Toto Tutg Ugar Vaii Wara
    Wcho Xpeo Xsux Yezi Yiii Zanb Zinh Zyyy"""
SCRIPT_CODES: tuple[str, ...] = tuple(_SCRIPT_TABLE.split())
NEUTRAL_SCRIPTS = frozenset({"Zyyy", "Zinh"})
MIXED = "Mixed"
KINDS = (
    "word",
    "number",
    "punctuation",
    "symbol",
    "whitespace",
    "mixed",
    "partial_bytes",
    "special",
)
# Languages compared pairwise when the user names none and the corpus has them (UDHR keys).
DEFAULT_OVERLAP_LANGUAGES = (
    "eng", "fra", "deu_1996", "spa", "rus", "arb", "hin", "cmn_hans", "jpn", "tur",
)  # fmt: skip


@cache
def _script_patterns() -> tuple[tuple[str, regex.Pattern], ...]:
    patterns = []
    for code in SCRIPT_CODES:
        try:
            patterns.append((code, regex.compile(rf"\p{{Script={code}}}")))
        except regex.error:
            continue  # a script newer than the installed Unicode tables
    return tuple(patterns)


def char_scripts(chars: Iterable[str]) -> dict[str, str]:
    """The ISO 15924 script code of each character (``Zzzz`` when unassigned).

    One pass of each script's ``\\p{Script=...}`` over the string of distinct characters, so
    the cost grows with the number of distinct characters, not of tokens.
    """
    distinct = "".join(sorted(set(chars)))
    scripts = dict.fromkeys(distinct, "Zzzz")
    for code, pattern in _script_patterns():
        for match in pattern.finditer(distinct):
            scripts[match.group()] = code
    return scripts


@dataclass
class TokenClasses:
    """Per-id classification of a vocabulary (arrays indexed by token id)."""

    kind: np.ndarray  # one of KINDS
    script: np.ndarray  # ISO 15924 code, "Mixed", or "" for specials and partial bytes
    complete_word: np.ndarray  # bool
    n_chars: np.ndarray  # non-whitespace characters in the token (0 for partial bytes)


def _kind_of(groups: set[str]) -> str:
    """The kind of a token from the major general categories of its characters."""
    if not groups:
        return "whitespace"
    if groups <= {"L", "M"}:
        return "word"
    if groups <= {"N"}:
        return "number"
    if groups <= {"P"}:
        return "punctuation"
    if groups <= {"S"}:
        return "symbol"
    if groups <= {"Z", "C"}:
        return "whitespace"
    return "mixed"


def classify_tokens(tokenizer: Tokenizer) -> TokenClasses:
    """Kind, script, complete-word flag and character count of every token.

    A token's script is the script of its characters, ignoring Common and Inherited ones
    (digits, punctuation, combining marks); ``Zyyy`` when it has no other, ``Mixed`` when it
    has several. Leading whitespace (the word-boundary mark) does not count toward the kind.
    """
    special = set(tokenizer.special_ids)
    labels = token_labels(tokenizer)
    wordpiece = tokenizer.continuation_prefix is not None
    texts: list[str | None] = []
    kinds: list[str] = []
    for token_id, data in enumerate(tokenizer.vocab_bytes):
        if token_id in special or not data:
            texts.append(None)
            kinds.append("special" if (token_id in special or labels[token_id]) else "mixed")
            continue
        try:
            texts.append(data.decode("utf-8"))
            kinds.append("")
        except UnicodeDecodeError:
            texts.append(None)
            kinds.append("partial_bytes")
    scripts_of = char_scripts(char for text in texts if text for char in text)
    group_of = {char: unicodedata.category(char)[0] for char in scripts_of}
    scripts: list[str] = [""] * len(texts)
    complete = [False] * len(texts)
    n_chars = [0] * len(texts)
    for token_id, text in enumerate(texts):
        if text is None:
            continue
        core = text.lstrip()
        groups = {group_of[char] for char in core}
        kinds[token_id] = kind = _kind_of(groups)
        n_chars[token_id] = (
            len(core) - sum(char.isspace() for char in core)
            if "Z" in groups or "C" in groups
            else len(core)
        )
        found = {scripts_of[char] for char in core} - NEUTRAL_SCRIPTS
        scripts[token_id] = "Zyyy" if not found else (found.pop() if len(found) == 1 else MIXED)
        if kind == "word":
            if wordpiece:
                complete[token_id] = not is_continuation(tokenizer, token_id)
            else:
                complete[token_id] = text[:1].isspace()
    return TokenClasses(
        kind=np.array(kinds, dtype=object),
        script=np.array(scripts, dtype=object),
        complete_word=np.array(complete, dtype=bool),
        n_chars=np.array(n_chars, dtype=np.int64),
    )


@dataclass(frozen=True)
class ScriptRow(Result):
    script: str
    tokens: int
    word_tokens: int
    complete_words: int

    def to_dict(self) -> dict:
        return super().to_dict() | {"complete_word_share": self.complete_word_share}

    @property
    def complete_word_share(self) -> float:
        """Complete words among all tokens of the script."""
        return self.complete_words / self.tokens if self.tokens else math.nan


@dataclass(frozen=True)
class LanguageRow(Result):
    language: str
    name: str
    script: str
    tokens: int
    chars: int  # non-whitespace characters of the text
    multichar_share: float  # share of those characters inside tokens of >= 2 characters
    average_rank: float
    distinct_tokens: int


@dataclass(frozen=True)
class OverlapRow(Result):
    language_a: str
    language_b: str
    shared_tokens: int
    jaccard: float
    weighted_overlap: float  # sum over tokens of min(p_a, p_b): the shared share of use
    jensen_shannon: float  # base 2, 0 = same distribution, 1 = disjoint

    def to_dict(self) -> dict:
        """The pair as the JSON reports it (the languages as ``a`` and ``b``)."""
        return {
            "a": self.language_a,
            "b": self.language_b,
            "shared_tokens": self.shared_tokens,
            "jaccard": self.jaccard,
            "weighted_overlap": self.weighted_overlap,
            "jensen_shannon": self.jensen_shannon,
        }


@dataclass
class CoverageReport(Result):
    tokenizer: str
    vocab_size: int
    kinds: dict[str, int]
    scripts: list[ScriptRow]
    corpus: str | None = None
    languages: list[LanguageRow] = field(default_factory=list)
    overlap: list[OverlapRow] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The report as the JSON reports it (the tokenizer as ``name``)."""
        data = super().to_dict()
        return {"name": data.pop("tokenizer"), **data}


def script_rows(classes: TokenClasses) -> list[ScriptRow]:
    """Tokens per script, most tokens first (specials and partial bytes are left out)."""
    rows = []
    has_script = classes.script != ""
    for code in sorted(set(classes.script[has_script])):
        in_script = classes.script == code
        rows.append(
            ScriptRow(
                script=code,
                tokens=int(in_script.sum()),
                word_tokens=int((in_script & (classes.kind == "word")).sum()),
                complete_words=int((in_script & classes.complete_word).sum()),
            )
        )
    return sorted(rows, key=lambda row: (-row.tokens, row.script))


def average_rank(counts: np.ndarray) -> float:
    """Mean rank, weighted by use, of the tokens a text uses, ranked by their frequency in
    that text (1 = most frequent): Limisiewicz et al. (2023)'s measure of how much of the
    vocabulary a language is allocated."""
    used = np.sort(counts[counts > 0])[::-1].astype(np.float64)
    if used.size == 0:
        return math.nan
    ranks = np.arange(1, used.size + 1, dtype=np.float64)
    return float((ranks * used).sum() / used.sum())


def overlap(
    language_a: str, counts_a: np.ndarray, language_b: str, counts_b: np.ndarray
) -> OverlapRow:
    """Shared tokens, Jaccard index, shared share of use and Jensen-Shannon divergence of two
    languages' token counts."""
    used_a, used_b = counts_a > 0, counts_b > 0
    union = int((used_a | used_b).sum())
    p = counts_a / max(counts_a.sum(), 1)
    q = counts_b / max(counts_b.sum(), 1)
    middle = (p + q) / 2

    def kl(x: np.ndarray) -> float:
        nonzero = x > 0
        return float((x[nonzero] * np.log2(x[nonzero] / middle[nonzero])).sum())

    return OverlapRow(
        language_a=language_a,
        language_b=language_b,
        shared_tokens=int((used_a & used_b).sum()),
        jaccard=int((used_a & used_b).sum()) / union if union else math.nan,
        weighted_overlap=float(np.minimum(p, q).sum()),
        jensen_shannon=(kl(p) + kl(q)) / 2,
    )


def _language_counts(tokenizer: Tokenizer, texts: Sequence[str]) -> tuple[np.ndarray, int]:
    flat, _ = tokenizer.encode_batch_numpy(list(texts))
    counts = np.bincount(flat, minlength=tokenizer.vocab_size)[: tokenizer.vocab_size]
    chars = sum(1 for text in texts for char in text if not char.isspace())
    return counts, chars


def _language_row(
    language: str, name: str, script: str, counts: np.ndarray, chars: int, n_chars: np.ndarray
) -> LanguageRow:
    multichar = int((counts * np.where(n_chars >= 2, n_chars, 0)).sum())
    return LanguageRow(
        language=language,
        name=name,
        script=script,
        tokens=int(counts.sum()),
        chars=chars,
        multichar_share=min(1.0, multichar / chars) if chars else math.nan,
        average_rank=average_rank(counts),
        distinct_tokens=int((counts > 0).sum()),
    )


def audit_coverage(
    tokenizer: Tokenizer,
    *,
    corpus: str | Path | None = None,
    languages: Sequence[str] | None = None,
    overlap_languages: Sequence[str] | None = None,
    errors: Errors = "strict",
) -> CoverageReport:
    """Script and category counts of the vocabulary, and per-language measures on ``corpus``.

    ``corpus`` is a parallel folder (one file per language, e.g. the UDHR corpus) or any other
    corpus, measured as a single language named after it. ``languages`` restricts the
    languages measured; ``overlap_languages`` (default: the major languages present among
    :data:`DEFAULT_OVERLAP_LANGUAGES`, or all measured ones when there are at most 12) are
    compared pairwise. Unknown language names raise :class:`UserError`. ``errors`` is the
    corpus reader's rule for invalid UTF-8 (strict or replace).
    """
    classes = classify_tokens(tokenizer)
    kinds = Counter(classes.kind.tolist())
    report = CoverageReport(
        tokenizer=tokenizer.name,
        vocab_size=tokenizer.vocab_size,
        kinds={kind: int(kinds.get(kind, 0)) for kind in KINDS},
        scripts=script_rows(classes),
        corpus=None if corpus is None else str(corpus),
    )
    if corpus is None:
        if languages or overlap_languages:
            raise UserError("--languages and --overlap need a corpus (--corpus)")
        return report

    if not is_parallel_folder(corpus):
        if languages:
            raise UserError(f"{corpus} is not a parallel corpus folder; --languages needs one")
        texts = list(iter_texts(corpus, errors=errors))
        counts, chars = _language_counts(tokenizer, texts)
        report.languages = [
            _language_row(Path(corpus).stem, "", "", counts, chars, classes.n_chars)
        ]
        return report

    parallel = open_parallel(corpus)
    available = set(parallel.languages)
    chosen = list(languages) if languages else parallel.languages
    _check_languages(chosen, available, corpus)
    if overlap_languages:
        compared = list(overlap_languages)
        _check_languages(compared, available, corpus)
    elif len(chosen) <= 12:
        compared = chosen
    else:
        compared = [code for code in DEFAULT_OVERLAP_LANGUAGES if code in available]
    kept: dict[str, np.ndarray] = {}
    for language in dict.fromkeys([*chosen, *compared]):
        texts = [segment.text for segment in parallel.segments(language, errors=errors)]
        counts, chars = _language_counts(tokenizer, texts)
        if language in compared:
            kept[language] = counts
        if language in chosen:
            info = parallel.info.get(language)
            report.languages.append(
                _language_row(
                    language,
                    info.name if info else "",
                    info.script if info else "",
                    counts,
                    chars,
                    classes.n_chars,
                )
            )
    report.overlap = [overlap(a, kept[a], b, kept[b]) for a, b in combinations(compared, 2)]
    return report


def _check_languages(names: Sequence[str], available: set[str], corpus: str | Path) -> None:
    import difflib

    for name in names:
        if name not in available:
            near = difflib.get_close_matches(name, sorted(available), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise UserError(f"language {name!r} is not in {corpus}{hint}")
