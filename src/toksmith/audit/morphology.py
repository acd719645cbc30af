"""How well a tokenizer's tokens match the words and morphemes of a language: %TR and %Pure.

"Tokenization Standards for Linguistic Integrity: Turkish as a Benchmark" (Bayram et al.,
2025) measures, over the distinct tokens a tokenizer produces on a corpus, the share that are
valid words of the language (%TR) and the share that are pure morphemes, i.e. align with the
morpheme boundaries of the words they occur in (%Pure), next to fertility.

For Turkish both come from a real morphological analyzer, ``zeyrek`` (a Python port of
Zemberek-NLP with its root lexicon): a token is a valid word when the analyzer finds at least
one analysis for it, and the morpheme boundaries of a word are those of any of its analyses.
For other languages the user gives a lexicon file (one word per line) and a segmentation file
(``word<TAB>morpheme morpheme ...``); without a lexicon, the ``wordfreq`` word list of the
language serves (words seen at least once per million words).

Deviations from the paper: only tokens containing a letter count (punctuation and digits are
neither words nor morphemes); a token type is pure when it matches a single morpheme in at
least half of its analysed occurrences; occurrence-weighted variants are reported as well.
zeyrek's ``MorphAnalyzer.analyze`` splits text with NLTK's punkt models, which must be
downloaded; toksmith calls its rule-based analyzer word by word instead, which needs no download.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from toksmith.audit.chars import token_spans
from toksmith.corpus import iter_texts
from toksmith.corpus.read import Errors
from toksmith.errors import UserError, read_text_lines
from toksmith.metrics.words import find_words
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

# Words seen at least once per million words count as words of the language (Zipf 3).
WORDFREQ_MIN_FREQUENCY = 1e-6


def resolve_language(language: str) -> str:
    """The ``wordfreq`` code (ISO 639-1 where one exists) for ``language`` ("tur" → "tr"),
    or a :class:`UserError` naming the languages that are supported."""
    import langcodes  # a dependency of wordfreq
    import wordfreq

    available = set(wordfreq.available_languages())
    try:
        code = langcodes.Language.get(langcodes.standardize_tag(language)).language or ""
    except (ValueError, langcodes.tag_parser.LanguageTagError):
        code = ""
    if code not in available:
        raise UserError(
            f"unknown language {language!r}: no word list for it in wordfreq "
            f"(known: {', '.join(sorted(available))}); give --lexicon FILE for another language"
        )
    return code


def lower(text: str, language: str) -> str:
    """Lowercase with the Turkish dotted and dotless i where the language needs it, keeping
    the number of characters (Python's own ``"İ".lower()`` adds a combining dot)."""
    if language in ("tr", "az"):
        text = text.replace("İ", "i").replace("I", "ı")
    return text.lower()


class Morphology:
    """Word validity and morpheme boundaries for one language."""

    language: str
    lexicon_source: str
    segmentation_source: str | None

    def is_word(self, text: str) -> bool:
        raise NotImplementedError

    def boundaries(self, word: str) -> list[frozenset[int]] | None:
        """Morpheme boundary offsets (characters, including 0 and len(word)) of each
        analysis of the lowercased ``word``; None when the word cannot be segmented."""
        raise NotImplementedError


@cache
def _zeyrek_analyzer() -> Any:  # a zeyrek.MorphAnalyzer (zeyrek has no type hints)
    import zeyrek

    # zeyrek logs every analysis it finds at WARNING level; that is not a warning.
    logging.getLogger("zeyrek.rulebasedanalyzer").setLevel(logging.ERROR)
    return zeyrek.MorphAnalyzer()


class TurkishZeyrek(Morphology):
    """Turkish through the zeyrek analyzer and its Zemberek lexicon."""

    language = "tr"
    lexicon_source = "zeyrek (Zemberek-NLP lexicon and morphotactics)"
    segmentation_source = "zeyrek analyses"

    def __init__(self) -> None:
        self._analyzer = _zeyrek_analyzer()
        self._cache: dict[str, list] = {}

    def _analyses(self, word: str) -> list:
        if word not in self._cache:
            from zeyrek import tr

            self._cache[word] = self._analyzer.analyzer.analyze(tr.normalize_circumflex(word))
        return self._cache[word]

    def is_word(self, text: str) -> bool:
        return bool(self._analyses(text))

    def boundaries(self, word: str) -> list[frozenset[int]] | None:
        from zeyrek import tr

        target = tr.normalize_circumflex(word)
        found = []
        for analysis in self._analyses(word):
            offsets, position = {0}, 0
            for _, surface in analysis.morphemes:
                position += len(surface)
                offsets.add(position)
            if position == len(target):  # surfaces spell the word: boundaries are usable
                found.append(frozenset(offsets))
        return found or None


class LexiconMorphology(Morphology):
    """A word set, with morpheme boundaries from a function (a segmentation table, zeyrek) or
    none at all."""

    def __init__(
        self,
        language: str,
        words: set[str],
        lexicon_source: str,
        segmenter: Callable[[str], list[frozenset[int]] | None] | None = None,
        segmentation_source: str | None = None,
    ) -> None:
        self.language = language
        self.words = words
        self.lexicon_source = lexicon_source
        self.segmenter = segmenter
        self.segmentation_source = segmentation_source

    def is_word(self, text: str) -> bool:
        return text in self.words

    def boundaries(self, word: str) -> list[frozenset[int]] | None:
        return None if self.segmenter is None else self.segmenter(word)


def read_lexicon(path: str | Path, language: str, errors: Errors = "strict") -> set[str]:
    """Words of a lexicon file: the first tab-separated column of each non-empty line."""
    lines = read_text_lines(path, "lexicon", errors)
    words = {lower(line.split("\t", 1)[0].strip(), language) for line in lines if line.strip()}
    if not words:
        raise UserError(f"lexicon {path} holds no words (one word per line)")
    return words


def read_segmentations(
    path: str | Path, language: str, errors: Errors = "strict"
) -> dict[str, list[frozenset[int]]]:
    """A segmentation file: ``word<TAB>morph morph ...`` per line (SIGMORPHON 2022 style
    ``@@`` marks and ``+`` between morphemes are accepted). The morphemes must spell the word;
    a word listed on several lines has several analyses."""
    table: dict[str, list[frozenset[int]]] = defaultdict(list)
    for number, line in enumerate(read_text_lines(path, "segmentation", errors), start=1):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) < 2:
            raise UserError(f"{path}: line {number} is not 'word<TAB>morphemes'")
        word = lower(cells[0].strip(), language)
        morphemes = cells[1].replace("@@", "").replace("+", " ").split()
        if lower("".join(morphemes), language) != word:
            raise UserError(
                f"{path}: line {number}: morphemes {' '.join(morphemes)!r} do not spell {word!r}"
            )
        offsets, position = {0}, 0
        for morpheme in morphemes:
            position += len(morpheme)
            offsets.add(position)
        table[word].append(frozenset(offsets))
    if not table:
        raise UserError(f"segmentation file {path} holds no segmentations")
    return dict(table)


def wordfreq_lexicon(language: str) -> set[str]:
    """Words of ``language`` that wordfreq has seen at least once per million words."""
    import wordfreq

    frequencies = wordfreq.get_frequency_dict(language)
    return {
        lower(word, language)
        for word, frequency in frequencies.items()
        if frequency >= WORDFREQ_MIN_FREQUENCY
    }


def morphology_for(
    language: str,
    *,
    lexicon: str | Path | None = None,
    segmentation: str | Path | None = None,
    errors: Errors = "strict",
) -> Morphology:
    """The resources for ``language``: zeyrek for Turkish unless user files replace a part of
    it; otherwise the user's lexicon (or the wordfreq list) and the user's segmentation file.

    A language wordfreq does not know is accepted only together with a lexicon file.
    """
    if lexicon is None:
        code = resolve_language(language)
    else:
        try:
            code = resolve_language(language)
        except UserError:
            code = language.lower()
    if code == "tr" and lexicon is None and segmentation is None:
        return TurkishZeyrek()
    if lexicon is not None:
        words, lexicon_source = read_lexicon(lexicon, code, errors), str(lexicon)
    else:
        words = wordfreq_lexicon(code)
        lexicon_source = f"wordfreq '{code}' (at least once per million words)"
    if segmentation is not None:
        table = read_segmentations(segmentation, code, errors)
        return LexiconMorphology(code, words, lexicon_source, table.get, str(segmentation))
    if code == "tr":
        zeyrek = TurkishZeyrek()
        return LexiconMorphology(
            code, words, lexicon_source, zeyrek.boundaries, zeyrek.segmentation_source
        )
    return LexiconMorphology(code, words, lexicon_source)


@dataclass(frozen=True)
class MorphologyRow(Result):
    """%TR and %Pure of one tokenizer (shares in 0..1; NaN when nothing to measure)."""

    tokenizer: str
    tokens: int  # tokens of the running text
    words: int  # word occurrences (Unicode word segmentation)
    fertility: float  # tokens per word on the running text
    distinct_tokens: int  # distinct letter-bearing tokens inside words
    tr_share: float  # %TR over distinct tokens
    pure_share: float  # %Pure over distinct tokens with an analysed occurrence
    tr_share_weighted: float  # %TR over token occurrences inside words
    pure_share_weighted: float  # %Pure over token occurrences in analysed words
    analysed_word_share: float  # word occurrences the segmenter could segment


@dataclass
class MorphologyReport(Result):
    language: str
    corpus: str
    lexicon_source: str
    segmentation_source: str | None
    rows: list[MorphologyRow] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The report as the JSON reports it (sources as ``lexicon`` and ``segmentation``,
        rows as ``results``)."""
        return {
            "language": self.language,
            "corpus": self.corpus,
            "lexicon": self.lexicon_source,
            "segmentation": self.segmentation_source,
            "results": [row.to_dict() for row in self.rows],
        }


def _has_letter(text: str) -> bool:
    return any(char.isalpha() for char in text)


def _is_single_morpheme(start: int, end: int, analyses: list[frozenset[int]]) -> bool:
    """True when [start, end) runs from one boundary to the next in some analysis."""
    for boundaries in analyses:
        if (
            start in boundaries
            and end in boundaries
            and not any(start < b < end for b in boundaries)
        ):
            return True
    return False


def measure_tokenizer(
    tokenizer: Tokenizer, texts: Sequence[str], morphology: Morphology
) -> MorphologyRow:
    """%TR, %Pure and fertility of ``tokenizer`` on ``texts``."""
    flat, _ = tokenizer.encode_batch_numpy(list(texts))
    occurrences: Counter[str] = Counter()
    for text in texts:
        occurrences.update(find_words(text))
    n_words = sum(occurrences.values())
    valid: dict[str, bool] = {}
    token_weight: Counter[str] = Counter()
    pure_votes: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # token -> [pure, analysed]
    analysed_words = 0
    for word, count in occurrences.items():
        lowered = lower(word, morphology.language)
        analyses = None if "'" in word or "’" in word else morphology.boundaries(lowered)
        if analyses:
            analysed_words += count
        for text, start, end in token_spans(tokenizer, word):
            key = lower(text.strip(), morphology.language)
            if not _has_letter(key) or "\ufffd" in key:
                continue
            token_weight[key] += count
            if key not in valid:
                valid[key] = morphology.is_word(key)
            if analyses:
                votes = pure_votes[key]
                votes[1] += count
                if _is_single_morpheme(start, end, analyses):
                    votes[0] += count
    distinct = len(token_weight)
    total_weight = sum(token_weight.values())
    analysed_types = [v for v in pure_votes.values() if v[1]]
    analysed_weight = sum(v[1] for v in analysed_types)
    return MorphologyRow(
        tokenizer=tokenizer.name,
        tokens=int(flat.size),
        words=n_words,
        fertility=flat.size / n_words if n_words else math.nan,
        distinct_tokens=distinct,
        tr_share=_share(sum(valid.values()), distinct),
        pure_share=_share(sum(1 for v in analysed_types if 2 * v[0] >= v[1]), len(analysed_types)),
        tr_share_weighted=_share(sum(w for k, w in token_weight.items() if valid[k]), total_weight),
        pure_share_weighted=_share(sum(v[0] for v in analysed_types), analysed_weight),
        analysed_word_share=_share(analysed_words, n_words),
    )


def _share(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


def default_corpus(language: str, count: int = 5000) -> list[str]:
    """The ``count`` most frequent words of ``language`` from wordfreq, one text each: the
    corpus used when the user names none."""
    import wordfreq

    return [word for word in wordfreq.top_n_list(language, count) if _has_letter(word)]


def audit_morphology(
    tokenizers: Sequence[Tokenizer],
    language: str,
    *,
    corpus: str | Path | None = None,
    lexicon: str | Path | None = None,
    segmentation: str | Path | None = None,
    errors: Errors = "strict",
) -> MorphologyReport:
    """%TR, %Pure and fertility of each tokenizer on ``corpus`` (a file, folder or glob; by
    default the 5,000 most frequent wordfreq words of the language). ``errors`` is the rule
    for invalid UTF-8 in the corpus, lexicon and segmentation files (strict or replace)."""
    morphology = morphology_for(language, lexicon=lexicon, segmentation=segmentation, errors=errors)
    if corpus is None:
        texts = default_corpus(morphology.language)
        corpus_label = f"wordfreq top {len(texts)} words of '{morphology.language}'"
    else:
        texts = list(iter_texts(corpus, errors=errors))
        corpus_label = str(corpus)
    report = MorphologyReport(
        language=morphology.language,
        corpus=corpus_label,
        lexicon_source=morphology.lexicon_source,
        segmentation_source=morphology.segmentation_source,
    )
    for tokenizer in tokenizers:
        report.rows.append(measure_tokenizer(tokenizer, texts, morphology))
    return report
