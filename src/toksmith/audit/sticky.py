"""Sticky tokens of text embedding models: the Sticky Token Detector (STD).

Chen, Wang, Liu, Zhang and Wang, "Sticking to the Mean: Detecting Sticky Tokens in Text
Embedding Models" (ACL 2025). A token ``t`` is *sticky* when inserting it repeatedly into a
sentence ``s2`` pulls the cosine similarity ``sim(s1, s2)`` with any other sentence ``s1`` toward
``u``, the mean pairwise similarity of the model's token embeddings, whatever the two sentences
mean. STD finds them in four steps, each a function here:

1. sentence pairs (:func:`build_pairs`): pairs whose similarity lies below ``u`` (for them,
   "toward u" means "up"), sampled evenly over ``[min, min + 0.8 (u - min)]``;
2. token filter (:func:`filter_tokens`): undecodable, empty, unreachable and word-internal
   tokens are left out; the rest are *usable*;
3. stickiness score and shortlist (:func:`sticky_scores`, :func:`shortlist`): each usable token
   is inserted 1..N times as a prefix, a suffix and at random positions into ``s2`` of a few
   pairs; the score rewards falling cosine distance to ``s1`` (the paper's formula, see
   :func:`trajectory_score`); the top few percent are shortlisted;
4. verification (:func:`verify_tokens`): on many more pairs, a token is sticky when, for a
   share of pairs × insertion modes of at least ``1 - 1/e``, the mean similarity over the
   insertion counts is higher than the pair's original similarity.

The paper's parameters (the reference implementation's defaults, March-7/StickyToken,
``scripts/detect.py`` and ``stickytoken/``) are :meth:`StickySettings.paper`: 5 scoring pairs,
8 insertions (1..8), mode weights 0.35/0.35/0.3 for the score and 4/11, 4/11, 3/11 for
verification, score constants alpha 0.1, beta 0.05, gamma 0.01 and 0.1 × the token's own
distance to ``s1``, a shortlist of the top 2%, 250 verification pairs, verified at a share of
``1 - 1/e`` ≈ 0.632 ("strong" above ``1 - 1/(3e)`` ≈ 0.877), ``u`` from every token of the
vocabulary. They are the defaults of :class:`StickySettings`.

Deviations, all stated:
- sentences come from local text (stdlib pydoc prose, and UDHR English articles when given),
  not from the MTEB STS sets the paper downloads (nothing is downloaded here); see
  :func:`local_sentences`. Sentences are 8–20 words (the STS sentences the paper uses are
  of that order; much shorter ones let any 8 inserted words move a pair toward ``u``);
- a token is inserted as a separate word, joined with spaces; the reference code concatenates
  the token's text to the sentence without a separator for prefix and suffix, which for a
  WordPiece vocabulary yields other tokens ("textbooktextbook..." is not "textbook" twice);
- only the cosine distance is used; the reference code also computes Euclidean (the same order
  for unit vectors) and Manhattan distances and takes the largest share of the three;
- the token filter uses toksmith's reachability test (:func:`toksmith.audit.vocab
  .unreachable_mask`): a token is usable when its text alone encodes to it, as in the paper;
  tokens reachable only after another piece (WordPiece ``##ing``) cannot be inserted as a word
  and are counted as ``word_internal``;
- :meth:`StickySettings.budget` (the CPU preset a full MiniLM run on 2 cores uses) scores with
  2 pairs instead of 5 and only 8 insertions instead of 1..8 (the trajectory is ``[d0, d8]``,
  so the score rewards the fall of the distance at 8 insertions), and verifies on 32 pairs
  instead of 250 at 1, 2, 4 and 8 insertions instead of 1..8 (the mean over those four counts
  stands for the mean over 1..8); the shortlist (2%), the shares, the weights and ``u`` from
  every token are the paper's. It embeds ≈360,000 sentences for a full MiniLM run, the
  paper's preset ≈5.7 million (about a day on 2 cores). The fast mode (a candidate list)
  estimates ``u`` from a sample of tokens;
- a null not in the paper: ``control_tokens`` random usable tokens are verified on the same
  pairs. On short local pairs far below ``u``, inserting almost any word raises their
  similarity, so many ordinary tokens pass the paper's share; the report counts both the
  tokens verified by the paper's rule and those whose share also exceeds every control
  token's (``above_control``);
- verification pairs are sampled without repeats (the reference code's nearest-target
  sampling can pick the same pair twice).

Everything that runs the model goes through an ``embed`` function (texts → unit-length
embeddings), so the logic is testable with a stub; :func:`model_embedder` is the real one.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from toksmith.audit.tokens import display, utf8_status
from toksmith.errors import UserError
from toksmith.progress import Progress
from toksmith.results import Result
from toksmith.tokenizers import Tokenizer

Embed = Callable[[Sequence[str]], np.ndarray]

MODES = ("prefix", "suffix", "insert")
SCORE_WEIGHTS = {"prefix": 0.35, "suffix": 0.35, "insert": 0.3}
VERIFY_WEIGHTS = {"prefix": 4 / 11, "suffix": 4 / 11, "insert": 3 / 11}
VERIFIED_SHARE = 1 - 1 / math.e  # 0.632
STRONG_SHARE = 1 - 1 / (3 * math.e)  # 0.877
SENTENCE_WORDS = (8, 20)
PAIR_RANGE = 0.8  # pairs are sampled in [min, min + 0.8 (u - min)]
CATEGORIES = (
    "usable",
    "special_unreachable",
    "empty",
    "undecodable",
    "unreachable",
    "word_internal",
)


@dataclass(frozen=True)
class StickySettings(Result):
    """Parameters of one STD run; the defaults are the paper's (see the module docstring)."""

    score_pairs: int = 5
    score_insertions: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)
    shortlist_percent: float = 2.0
    verify_pairs: int = 250
    verify_insertions: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)
    verified_share: float = VERIFIED_SHARE
    mean_sample: int | None = None  # tokens embedded to estimate u; None: all
    control_tokens: int = 16  # random usable tokens verified as a null (not in the paper)
    seed: int = 0
    batch_size: int = 64

    @classmethod
    def paper(cls) -> StickySettings:
        """The paper's parameters (the defaults)."""
        return cls()

    @classmethod
    def budget(cls) -> StickySettings:
        """The CPU preset: a full all-MiniLM-L6-v2 run in under an hour on 2 cores.

        2 scoring pairs at 8 insertions only (the trajectory is ``[d0, d8]``) and 32
        verification pairs at 1, 2, 4 and 8 insertions; everything else as the paper. A full
        MiniLM run embeds about 30,500 token texts, 23,699 × 2 × 3 = 142,000 scoring
        sentences and (473 + 16) × 32 × 3 × 4 = 188,000 verification sentences (the paper's
        preset: about 5.7 million)."""
        return cls(
            score_pairs=2,
            score_insertions=(8,),
            verify_pairs=32,
            verify_insertions=(1, 2, 4, 8),
        )

    def check(self) -> None:
        """A UserError naming the first setting out of range."""
        if self.score_pairs < 1 or self.verify_pairs < 1:
            raise UserError("scoring and verification need at least 1 sentence pair each")
        for name in ("score_insertions", "verify_insertions"):
            values = getattr(self, name)
            if not values or min(values) < 1 or list(values) != sorted(set(values)):
                raise UserError(f"{name} {list(values)}: expected increasing counts of 1 or more")
        if not 0 < self.shortlist_percent <= 100:
            raise UserError(f"shortlist {self.shortlist_percent}%: expected in (0, 100]")
        if not 0 < self.verified_share <= 1:
            raise UserError(f"verified share {self.verified_share}: expected in (0, 1]")
        if self.mean_sample is not None and self.mean_sample < 2:
            raise UserError(f"mean sample {self.mean_sample}: expected at least 2 tokens")


def settings_deviations(settings: StickySettings) -> list[str]:
    """Each parameter of ``settings`` that differs from the paper's (:meth:`StickySettings
    .paper`), as ``"name: ours (paper: theirs)"``; empty for the paper's preset. Batch size
    and seed do not change what is computed and are not listed; the control tokens are not in
    the paper at all, so they are listed whenever there are any."""
    paper = StickySettings.paper()
    lines: list[str] = []
    for name in ("score_pairs", "score_insertions", "shortlist_percent", "verify_pairs",
                 "verify_insertions", "verified_share", "mean_sample"):  # fmt: skip
        ours, theirs = getattr(settings, name), getattr(paper, name)
        if ours != theirs:
            lines.append(f"{name}: {_setting_text(ours)} (paper: {_setting_text(theirs)})")
    if settings.control_tokens:
        lines.append(f"control_tokens: {settings.control_tokens} (not in the paper)")
    return lines


# ---- the model -------------------------------------------------------------------------------


def _setting_text(value: object) -> str:
    if value is None:  # mean_sample: u from every token
        return "all tokens"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


EMBED_LENGTH_BUCKET = 8  # STD embeds short texts: token texts of 3-5 pieces, sentences of ~20


def model_embedder(model: object, batch_size: int = 64) -> Embed:
    """``embed`` for a BERT model folder of :mod:`toksmith.models`: its sentence embeddings
    (mean pooling, L2-normalised, as sentence-transformers computes them).

    The weights are converted to JAX arrays once, not per call, and inputs are padded to a
    multiple of :data:`EMBED_LENGTH_BUCKET` pieces rather than the runtime's default 32: a
    token's text alone is 3-5 pieces, so padding it to 32 would spend most of the forward
    pass on masked positions (measured here: 4x the CPU time for the vocabulary's texts)."""
    from toksmith.models import ModelFolder, sentence_embeddings
    from toksmith.models.bert import encoder_params

    if not isinstance(model, ModelFolder):
        raise TypeError("model_embedder needs a toksmith.models.ModelFolder")
    if model.architecture != "bert":
        raise UserError(
            f"{model.path}: sticky tokens are defined for text embedding models; this is a "
            f"{model.architecture} model (expected a BERT sentence-embedding folder)"
        )

    params = encoder_params(model)

    def embed(texts: Sequence[str]) -> np.ndarray:
        return sentence_embeddings(
            model, list(texts), batch_size=batch_size, params=params,
            length_bucket=EMBED_LENGTH_BUCKET,
        )  # fmt: skip

    return embed


def mean_token_similarity(
    tokenizer: Tokenizer, embed: Embed, *, sample: int | None, seed: int
) -> tuple[float, dict[int, np.ndarray]]:
    """``u``: the mean cosine similarity between the embeddings of the vocabulary's tokens,
    each token's text embedded as a sentence, over all pairs of distinct tokens; from a random
    sample of ``sample`` tokens when given. Returns ``u`` and the embedding of each token
    embedded (reused by the scoring, which needs each token's own embedding)."""
    ids = np.arange(tokenizer.vocab_size)
    if sample is not None and sample < len(ids):
        ids = np.sort(np.random.default_rng(seed).choice(ids, size=sample, replace=False))
    texts = [token_text(tokenizer, int(i)) or display(tokenizer, int(i)) for i in ids]
    vectors = np.asarray(embed(texts), dtype=np.float32)
    total = vectors.sum(axis=0, dtype=np.float64)
    n = len(vectors)
    # sum over i != j of e_i . e_j = |sum e|^2 - sum |e_i|^2
    off_diagonal = float(total @ total) - float((vectors.astype(np.float64) ** 2).sum())
    return off_diagonal / (n * (n - 1)), {int(i): v for i, v in zip(ids, vectors, strict=True)}


# ---- token filter ----------------------------------------------------------------------------


def token_text(tokenizer: Tokenizer, token_id: int) -> str | None:
    """The text inserted for a token: a special token's name (``[CLS]``), else its bytes as
    UTF-8 (None when they are not whole characters)."""
    if token_id in tokenizer.special_ids:
        return tokenizer.token_label(token_id)
    data = tokenizer.vocab_bytes[token_id]
    if utf8_status(data) != "complete":
        return None
    return data.decode("utf-8")


def filter_tokens(tokenizer: Tokenizer) -> np.ndarray:
    """The category of every id (an object array of :data:`CATEGORIES` names).

    ``usable``: the token's text alone encodes to exactly the token (the paper's
    ``encode(decode(t)) == [t]``, special tokens included, as the paper keeps them);
    ``special_unreachable``: a special token whose name does not encode to it;
    ``empty``: no bytes, or only whitespace; ``undecodable``: bytes that are not whole UTF-8
    characters (or U+FFFD); ``word_internal``: reachable only after another piece (WordPiece
    ``##ing``), so it cannot be inserted as a word; ``unreachable``: no tested text gives it
    (:func:`toksmith.audit.vocab.unreachable_mask`).
    """
    from toksmith.audit.vocab import unreachable_mask

    size = tokenizer.vocab_size
    categories = np.full(size, "usable", dtype=object)
    texts: list[tuple[int, str]] = []
    for token_id in range(size):
        text = token_text(tokenizer, token_id)
        if text is None:
            categories[token_id] = "undecodable"
        elif not text.strip():
            categories[token_id] = "empty"
        elif "\ufffd" in text:
            categories[token_id] = "undecodable"
        else:
            texts.append((token_id, text))
    encoded = tokenizer.encode_batch([text for _, text in texts])
    not_alone = np.zeros(size, dtype=bool)
    for (token_id, _), ids in zip(texts, encoded, strict=True):
        if ids != [token_id]:
            if token_id in tokenizer.special_ids:
                categories[token_id] = "special_unreachable"
            else:
                not_alone[token_id] = True
    unreachable = unreachable_mask(tokenizer, not_alone) if not_alone.any() else not_alone
    categories[not_alone & unreachable] = "unreachable"
    categories[not_alone & ~unreachable] = "word_internal"
    return categories


# ---- sentence pairs --------------------------------------------------------------------------


@dataclass(frozen=True)
class SentencePair(Result):
    """Two sentences and their cosine similarity before any insertion."""

    first: str
    second: str
    similarity: float


_SENTENCE_END = re.compile(r"(?<=[.;:!?])\s+")
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9 ,.;:'()\-]*$")


def split_sentences(text: str) -> list[str]:
    """Sentences of prose: cut after ``. ; : ! ?`` and blank lines, whitespace collapsed."""
    pieces: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        flat = " ".join(block.split())
        pieces.extend(part.strip() for part in _SENTENCE_END.split(flat) if part.strip())
    return pieces


def usable_sentence(sentence: str, words_range: tuple[int, int] = SENTENCE_WORDS) -> bool:
    """Plain prose of 8–20 words (letters, digits, simple punctuation): no code, no markup."""
    words = sentence.split()
    low, high = words_range
    return low <= len(words) <= high and bool(_PLAIN.match(sentence)) and "``" not in sentence


def udhr_articles(udhr: str | Path) -> list[str]:
    """The English UDHR articles (``eng.tsv`` or ``eng.txt`` of a UDHR folder), preamble first."""
    folder = Path(udhr).expanduser()
    candidates = [folder / "eng.tsv", folder / "eng.txt"] if folder.is_dir() else [folder]
    for path in candidates:
        if path.is_file():
            lines = path.read_text("utf-8").splitlines()
            articles = [line.split("\t", 1)[-1].strip() for line in lines if line.strip()]
            if articles:
                return articles
    raise UserError(f"{udhr}: no English UDHR text (expected eng.tsv with id<TAB>article lines)")


def local_sentences(
    udhr: str | Path | None = None,
    limit: int = 400,
    seed: int = 0,
    words_range: tuple[int, int] = SENTENCE_WORDS,
) -> list[str]:
    """Sentences from local text, nothing downloaded: the UDHR English articles (when ``udhr``
    names the UDHR folder) and the prose of the standard library's docstrings (what pydoc
    shows), cut into sentences, kept when :func:`usable_sentence`, deduplicated, and
    ``limit`` of them drawn at random (seeded), UDHR sentences first in the pool."""
    from toksmith.models.texts import pydoc_texts

    pool: list[str] = []
    if udhr is not None:
        for article in udhr_articles(udhr):
            pool.extend(s for s in split_sentences(article) if usable_sentence(s, words_range))
    udhr_count = len(pool)
    for _, prose in pydoc_texts(limit_bytes=600_000):
        pool.extend(s for s in split_sentences(prose) if usable_sentence(s, words_range))
    unique = list(dict.fromkeys(pool))
    udhr_part = unique[: min(udhr_count, len(unique))]
    rest = unique[len(udhr_part) :]
    rng = np.random.default_rng(seed)
    room = max(limit - len(udhr_part), 0)
    if len(rest) > room:
        rest = [rest[i] for i in sorted(rng.choice(len(rest), size=room, replace=False))]
    return (udhr_part + rest)[:limit]


def read_pairs(path: str | Path) -> list[tuple[str, str]]:
    """Sentence pairs from a TSV file: ``sentence1<TAB>sentence2`` per line (blank lines
    skipped); any other shape is a UserError naming the file and line."""
    file = Path(path).expanduser()
    try:
        text = file.read_text("utf-8")
    except FileNotFoundError:
        raise UserError(f"pairs file {path} does not exist") from None
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise UserError(f"cannot read pairs file {path}: {error.strerror}") from None
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip() or not fields[1].strip():
            raise UserError(
                f"{path} line {number}: expected 2 tab-separated non-empty sentences "
                f"(sentence1<TAB>sentence2), got {len(fields)} field(s)"
            )
        pairs.append((fields[0].strip(), fields[1].strip()))
    if not pairs:
        raise UserError(f"{path}: no sentence pairs (expected sentence1<TAB>sentence2 lines)")
    return pairs


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two arrays of vectors."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return (a * b).sum(-1) / np.maximum(norms, 1e-12)


def sample_below_mean(
    candidates: Sequence[SentencePair], mean: float, count: int
) -> list[SentencePair]:
    """``count`` pairs with similarity below ``mean``, evenly spread over
    ``[min, min + 0.8 (mean - min)]``: for each of ``count`` evenly spaced targets, the
    nearest pair not taken yet (the paper's sampling, without its repeats)."""
    below = sorted((p for p in candidates if p.similarity < mean), key=lambda p: p.similarity)
    if not below:
        raise UserError(
            f"no sentence pair has a similarity below the mean token similarity {mean:.3f}; "
            "sticky tokens are defined on such pairs (give more varied pairs)"
        )
    if len(below) <= count:
        return below
    values = np.array([p.similarity for p in below])
    low = float(values[0])
    high = low + PAIR_RANGE * (mean - low)
    taken: set[int] = set()
    chosen: list[SentencePair] = []
    for target in np.linspace(low, high, count):
        order = np.argsort(np.abs(values - target), kind="stable")
        index = next(int(i) for i in order if int(i) not in taken)
        taken.add(index)
        chosen.append(below[index])
    return sorted(chosen, key=lambda p: p.similarity)


def candidate_pairs_of(
    embed: Embed,
    *,
    sentences: Sequence[str] | None = None,
    pairs: Sequence[tuple[str, str]] | None = None,
) -> list[SentencePair]:
    """Candidate pairs with their similarity: ``pairs`` (a user's TSV) when given, else every
    pair of ``sentences``."""
    if pairs is None:
        if not sentences or len(sentences) < 2:
            raise UserError("sentence pairs need at least 2 sentences")
        vectors = np.asarray(embed(list(sentences)), dtype=np.float64)
        similarity = vectors @ vectors.T
        return [
            SentencePair(sentences[i], sentences[j], float(similarity[i, j]))
            for i in range(len(sentences))
            for j in range(i + 1, len(sentences))
        ]
    firsts = np.asarray(embed([a for a, _ in pairs]))
    seconds = np.asarray(embed([b for _, b in pairs]))
    values = cosine_rows(firsts, seconds)
    return [SentencePair(a, b, float(s)) for (a, b), s in zip(pairs, values, strict=True)]


# ---- insertion -------------------------------------------------------------------------------


def insertions(
    sentence: str, token: str, counts: Sequence[int], rng: np.random.Generator
) -> dict[str, list[str]]:
    """``sentence`` with ``token`` inserted ``n`` times for each ``n`` of ``counts``, by mode:
    ``prefix`` (``t t s``), ``suffix`` (``s t t``) and ``insert`` (at random word positions,
    cumulatively: the text for ``n`` adds one token to the text for ``n - 1``, as the paper)."""
    words = sentence.split()
    result: dict[str, list[str]] = {mode: [] for mode in MODES}
    inserted = list(words)
    wanted = set(counts)
    for n in range(1, max(counts) + 1):
        inserted.insert(int(rng.integers(0, len(inserted) + 1)), token)
        if n in wanted:
            result["prefix"].append(" ".join([token] * n + words))
            result["suffix"].append(" ".join(words + [token] * n))
            result["insert"].append(" ".join(inserted))
    return result


def _similarity_grid(
    embed: Embed,
    tokens: Sequence[str],
    token_ids: Sequence[int],
    pairs: Sequence[SentencePair],
    first_vectors: np.ndarray,
    counts: Sequence[int],
    seed: int,
    *,
    extra: Sequence[str] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Similarities ``[tokens, pairs, modes, counts]`` of each pair's first sentence with the
    second sentence after insertion, and the embeddings of the ``extra`` texts; one ``embed``
    call for all of them (so the model sees large batches)."""
    texts: list[str] = []
    for token, token_id in zip(tokens, token_ids, strict=True):
        for index, pair in enumerate(pairs):
            rng = np.random.default_rng([seed, token_id, index])
            made = insertions(pair.second, token, counts, rng)
            for mode in MODES:
                texts.extend(made[mode])
    vectors = np.asarray(embed([*texts, *extra]), dtype=np.float64)
    shape = (len(tokens), len(pairs), len(MODES), len(counts))
    inserted = vectors[: len(texts)].reshape(*shape, -1)
    grid = np.einsum("tpmcd,pd->tpmc", inserted, first_vectors)
    return grid, vectors[len(texts) :]


# ---- scoring ---------------------------------------------------------------------------------


def trajectory_score(
    distances: Sequence[float],
    token_distance: float,
    alpha: float = 0.1,
    beta: float = 0.05,
    gamma: float = 0.01,
) -> float:
    """The paper's stickiness score of one distance trajectory ``[d0, d1, ..., dN]`` (cosine
    distance between ``s1`` and ``s2`` with 0..N insertions)::

        (fall + alpha * falls + 0.1 * token_distance) / (rise + beta * rises + gamma)

    ``fall``/``rise`` are the summed sizes of the decreasing/increasing steps, ``falls``/
    ``rises`` their numbers, ``token_distance`` the distance between the token alone and
    ``s1``. High when insertions steadily bring ``s2`` closer to ``s1``."""
    changes = np.diff(np.asarray(distances, dtype=np.float64))
    fall = float(-changes[changes < 0].sum())
    rise = float(changes[changes > 0].sum())
    falls = int((changes < 0).sum())
    rises = int((changes > 0).sum())
    return (fall + alpha * falls + 0.1 * token_distance) / (rise + beta * rises + gamma)


def sticky_scores(
    embed: Embed,
    tokenizer: Tokenizer,
    token_ids: Sequence[int],
    pairs: Sequence[SentencePair],
    settings: StickySettings,
    *,
    token_vectors: dict[int, np.ndarray] | None = None,
    progress: Progress | None = None,
    chunk: int = 64,
) -> np.ndarray:
    """The stickiness score of each of ``token_ids`` on the scoring ``pairs``: the
    :func:`trajectory_score` of each pair and mode, weighted 0.35/0.35/0.3 over prefix, suffix
    and random insertion, averaged over the pairs. ``token_vectors``: embeddings of tokens
    alone already computed (by :func:`mean_token_similarity`); the others are embedded here."""
    known = token_vectors or {}
    first_vectors = np.asarray(embed([p.first for p in pairs]), dtype=np.float64)
    base = np.array([p.similarity for p in pairs])
    weights = np.array([SCORE_WEIGHTS[mode] for mode in MODES])
    scores = np.zeros(len(token_ids), dtype=np.float64)
    for begin in range(0, len(token_ids), chunk):
        ids = [int(i) for i in token_ids[begin : begin + chunk]]
        texts = [token_text(tokenizer, i) or "" for i in ids]
        missing = [i for i in ids if i not in known]
        grid, extra = _similarity_grid(
            embed, texts, ids, pairs, first_vectors, settings.score_insertions,
            settings.seed, extra=[token_text(tokenizer, i) or "" for i in missing],
        )  # fmt: skip
        alone = {
            **{i: known[i] for i in ids if i in known},
            **dict(zip(missing, extra, strict=True)),
        }
        own = np.stack([alone[i] for i in ids]).astype(np.float64) @ first_vectors.T
        for row in range(len(ids)):
            total = 0.0
            for p in range(len(pairs)):
                for m, weight in enumerate(weights):
                    distances = [1 - base[p], *(1 - grid[row, p, m])]
                    total += weight * trajectory_score(distances, 1 - float(own[row, p]))
            scores[begin + row] = total / len(pairs)
        if progress is not None:
            done = min(begin + chunk, len(token_ids))
            progress(f"scored {done:,}/{len(token_ids):,} tokens", done / max(len(token_ids), 1))
    return scores


def shortlist(token_ids: Sequence[int], scores: np.ndarray, percent: float) -> list[int]:
    """The top ``percent`` % of ``token_ids`` by score (at least one), highest first; ties at
    the cut are broken by id."""
    if len(token_ids) == 0:
        return []
    keep = max(1, int(len(token_ids) * percent / 100))
    order = sorted(range(len(token_ids)), key=lambda i: (-scores[i], token_ids[i]))
    return [int(token_ids[i]) for i in order[:keep]]


# ---- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification(Result):
    """How one token behaves on the verification pairs.

    ``moved_share``: the weighted share of (pair, mode) cases whose mean similarity over the
    insertion counts is above the pair's original similarity (below ``u``, so toward it);
    ``similarity_shift``: mean similarity change over all pairs, modes and counts;
    ``gap_before``/``gap_after``: mean ``|sim - u|`` before and at the most insertions;
    ``share_by_insertions``: the moved share at each insertion count alone;
    ``insertions_needed``: the fewest insertions whose share alone reaches the verified share
    (None when none does).
    """

    moved_share: float
    verified: bool
    strong: bool
    similarity_shift: float
    gap_before: float
    gap_after: float
    share_by_insertions: dict[int, float]
    insertions_needed: int | None
    above_control: bool | None = None  # share above every control token's (None: no controls)


def verify_tokens(
    embed: Embed,
    tokenizer: Tokenizer,
    token_ids: Sequence[int],
    pairs: Sequence[SentencePair],
    mean: float,
    settings: StickySettings,
    *,
    progress: Progress | None = None,
    chunk: int = 8,
) -> list[Verification]:
    """Check each token against the definition on the verification ``pairs`` (all below
    ``mean``): a token is verified sticky when its ``moved_share`` (weights 4/11, 4/11, 3/11
    for prefix, suffix, random insertion) is at least ``settings.verified_share``."""
    first_vectors = np.asarray(embed([p.first for p in pairs]), dtype=np.float64)
    base = np.array([p.similarity for p in pairs])
    weights = np.array([VERIFY_WEIGHTS[mode] for mode in MODES])
    counts = settings.verify_insertions
    results: list[Verification] = []
    for begin in range(0, len(token_ids), chunk):
        ids = [int(i) for i in token_ids[begin : begin + chunk]]
        texts = [token_text(tokenizer, i) or "" for i in ids]
        grid, _ = _similarity_grid(
            embed, texts, ids, pairs, first_vectors, counts, settings.seed + 1
        )
        for row in range(len(ids)):
            sims = grid[row]  # [pairs, modes, counts]
            moved = sims.mean(axis=2) > base[:, None]  # [pairs, modes]
            share = float((moved.mean(axis=0) * weights).sum())
            by_count = {
                int(n): float(((sims[:, :, c] > base[:, None]).mean(axis=0) * weights).sum())
                for c, n in enumerate(counts)
            }
            needed = next(
                (n for n, value in by_count.items() if value >= settings.verified_share), None
            )
            results.append(
                Verification(
                    moved_share=share,
                    verified=share >= settings.verified_share,
                    strong=share > STRONG_SHARE,
                    similarity_shift=float((sims - base[:, None, None]).mean()),
                    gap_before=float(np.abs(base - mean).mean()),
                    gap_after=float(np.abs(sims[:, :, -1] - mean).mean()),
                    share_by_insertions=by_count,
                    insertions_needed=needed,
                )
            )
        if progress is not None:
            done = min(begin + chunk, len(token_ids))
            progress(f"verified {done:,}/{len(token_ids):,} tokens", done / max(len(token_ids), 1))
    return results


# ---- the whole detector ----------------------------------------------------------------------


@dataclass(frozen=True)
class StickyToken(Result):
    """One scored or verified token of the report."""

    id: int
    token: str
    category: str
    score: float | None
    shortlisted: bool
    verification: Verification | None

    @property
    def verified(self) -> bool:
        return self.verification is not None and self.verification.verified


@dataclass
class StickyReport(Result):
    """``toksmith audit sticky``: the run's counts, its settings and the tokens.

    ``tokens`` holds every verified candidate (shortlisted or given), verified ones first, by
    moved share; ``categories`` counts the token filter's categories over the vocabulary.
    """

    model: str
    tokenizer: str
    vocab_size: int
    mode: str  # "full" (every usable token scored) or "candidates"
    settings: StickySettings
    mean_similarity: float
    mean_sample_tokens: int
    pair_source: str
    candidate_pairs: int
    score_pairs: list[SentencePair]
    verify_pairs: list[SentencePair]
    categories: dict[str, int]
    usable: int
    scored: int
    shortlisted: int
    verified: int
    strong: int
    above_control: int
    control: list[StickyToken]
    control_verified: int
    tokens: list[StickyToken]
    elapsed_s: float
    notes: list[str] = field(default_factory=list)
    harm: RetrievalHarm | None = None

    def verified_ids(self, above_control: bool = False) -> list[int]:
        """Ids of the verified sticky tokens (also above every control token with
        ``above_control``), most sticky first."""
        return [
            t.id
            for t in self.tokens
            if t.verified
            and (not above_control or (t.verification and t.verification.above_control))
        ]


def resolve_candidates(tokenizer: Tokenizer, spec: Sequence[str]) -> list[int]:
    """Token ids from a user's list: each item a token as the vocabulary writes it (``[CLS]``,
    ``textbook``, ``##ing``) or else an id (ASCII digits); an unknown one is a UserError."""
    by_label: dict[str, int] = {}
    for token_id in range(tokenizer.vocab_size):
        for name in (tokenizer.token_label(token_id), display(tokenizer, token_id)):
            if name is not None and name not in by_label:
                by_label[name] = token_id
    ids: list[int] = []
    for item in spec:
        if item in by_label:
            ids.append(by_label[item])
        elif item.isascii() and item.isdigit() and int(item) < tokenizer.vocab_size:
            ids.append(int(item))
        else:
            raise UserError(
                f"candidate token {item!r} is not in the vocabulary of {tokenizer.name} "
                "(give an id or the token as the vocabulary writes it)"
            )
    return list(dict.fromkeys(ids))


def read_candidates(path: str | Path) -> list[str]:
    """Candidate tokens from a file: one per line (an id or the token), blank lines skipped."""
    try:
        lines = Path(path).expanduser().read_text("utf-8").splitlines()
    except FileNotFoundError:
        raise UserError(f"candidates file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read candidates file {path}: {error}") from None
    items = [line.strip() for line in lines if line.strip()]
    if not items:
        raise UserError(f"{path}: no candidate tokens (expected one id or token per line)")
    return items


def detect_sticky_tokens(
    embed: Embed,
    tokenizer: Tokenizer,
    *,
    model_name: str,
    settings: StickySettings | None = None,
    sentences: Sequence[str] | None = None,
    pairs: Sequence[tuple[str, str]] | None = None,
    pair_source: str = "local",
    candidates: Sequence[int] | None = None,
    max_tokens: int | None = None,
    progress: Progress | None = None,
) -> StickyReport:
    """Run STD on the model behind ``embed`` (texts → unit embeddings) with its ``tokenizer``.

    Without ``candidates``, every usable token is scored and the top
    ``settings.shortlist_percent`` % verified (``max_tokens`` limits the scored tokens to the
    first ones by id, for tests). With ``candidates`` (the fast mode), those tokens are
    scored and verified directly, unusable ones reported by category. Pairs come from
    ``pairs`` (a user's) or every pair of ``sentences``.
    """
    settings = settings or StickySettings()
    settings.check()
    began = time.perf_counter()
    notes: list[str] = []
    categories = filter_tokens(tokenizer)
    counts = {name: int((categories == name).sum()) for name in CATEGORIES}
    usable_ids = [int(i) for i in np.flatnonzero(categories == "usable")]
    if progress is not None:
        progress("mean token similarity", 0.0)
    mean, token_vectors = mean_token_similarity(
        tokenizer, embed, sample=settings.mean_sample, seed=settings.seed
    )
    sampled = len(token_vectors)
    pool = candidate_pairs_of(embed, sentences=sentences, pairs=pairs)
    candidate_pairs = len(pool)
    score_pairs = sample_below_mean(pool, mean, settings.score_pairs)
    verify_pairs = sample_below_mean(pool, mean, settings.verify_pairs)
    for wanted, got, what in (
        (settings.score_pairs, score_pairs, "scoring"),
        (settings.verify_pairs, verify_pairs, "verification"),
    ):
        if len(got) < wanted:
            notes.append(f"only {len(got)} pairs below the mean for {what} ({wanted} asked)")

    if candidates is None:
        mode = "full"
        to_score = usable_ids if max_tokens is None else usable_ids[:max_tokens]
    else:
        mode = "candidates"
        to_score = [i for i in candidates if categories[i] == "usable"]
        for token_id in candidates:
            if categories[token_id] != "usable":
                notes.append(
                    f"candidate {display(tokenizer, token_id)!r} (id {token_id}) is "
                    f"{categories[token_id]}: not scored"
                )
    scores = sticky_scores(
        embed, tokenizer, to_score, score_pairs, settings,
        token_vectors=token_vectors, progress=progress,
    )  # fmt: skip
    score_of = dict(zip(to_score, scores.tolist(), strict=True))
    if mode == "full":
        chosen = shortlist(to_score, scores, settings.shortlist_percent)
    else:
        chosen = sorted(to_score, key=lambda i: -score_of[i])
    rng = np.random.default_rng(settings.seed + 2)
    taken = set(chosen)
    others = [i for i in usable_ids if i not in taken]
    control_ids = sorted(
        int(i) for i in rng.choice(others, size=min(settings.control_tokens, len(others)), replace=False)
    ) if others and settings.control_tokens else []  # fmt: skip
    checks = verify_tokens(
        embed, tokenizer, chosen + control_ids, verify_pairs, mean, settings, progress=progress
    )
    control_checks = checks[len(chosen) :]
    checks = checks[: len(chosen)]
    if control_checks:
        ceiling = max(c.moved_share for c in control_checks)
        checks = [replace(c, above_control=c.verified and c.moved_share > ceiling) for c in checks]
    control = [
        StickyToken(
            id=token_id,
            token=display(tokenizer, token_id),
            category="usable",
            score=None,
            shortlisted=False,
            verification=check,
        )
        for token_id, check in zip(control_ids, control_checks, strict=True)
    ]
    tokens = [
        StickyToken(
            id=token_id,
            token=display(tokenizer, token_id),
            category="usable",
            score=score_of[token_id],
            shortlisted=mode == "full",
            verification=check,
        )
        for token_id, check in zip(chosen, checks, strict=True)
    ]
    tokens.sort(
        key=lambda t: (not t.verified, -(t.verification.moved_share if t.verification else 0))
    )
    return StickyReport(
        model=model_name,
        tokenizer=tokenizer.name,
        vocab_size=tokenizer.vocab_size,
        mode=mode,
        settings=settings,
        mean_similarity=mean,
        mean_sample_tokens=sampled,
        pair_source=pair_source,
        candidate_pairs=candidate_pairs,
        score_pairs=score_pairs,
        verify_pairs=verify_pairs,
        categories=counts,
        usable=len(usable_ids),
        scored=len(to_score),
        shortlisted=len(chosen) if mode == "full" else 0,
        verified=sum(t.verified for t in tokens),
        strong=sum(bool(t.verification and t.verification.strong) for t in tokens),
        above_control=sum(bool(t.verification and t.verification.above_control) for t in tokens),
        control=control,
        control_verified=sum(t.verified for t in control),
        tokens=tokens,
        elapsed_s=time.perf_counter() - began,
        notes=notes,
    )


# ---- harm: retrieval -------------------------------------------------------------------------


@dataclass(frozen=True)
class RecallRun(Result):
    """Recall@k of the retrieval task with one token inserted into every document."""

    token: str
    id: int
    recall: float


@dataclass
class RetrievalHarm(Result):
    """The retrieval task with and without inserted tokens.

    ``recall_clean``: recall@k with the texts as they are; ``recall_sticky`` /
    ``recall_control``: mean recall@k over the sticky tokens / as many random usable control
    tokens, each inserted ``insertions`` times at random word positions into every text of
    ``target`` (``queries`` or ``documents``).
    """

    documents: int
    target: str
    k: int
    insertions: int
    recall_clean: float
    recall_sticky: float
    recall_control: float
    sticky: list[RecallRun]
    control: list[RecallRun]
    corpus: str


def retrieval_documents(udhr: str | Path | None) -> tuple[list[str], list[str], str]:
    """Documents, queries and a name for the retrieval task: the 30 UDHR English articles as
    documents and each article's first sentence as its query (with ``udhr``), else the
    standard library's module docstrings (their first paragraph) and first sentences."""
    if udhr is not None:
        documents = udhr_articles(udhr)[1:]  # the 30 articles; the preamble has no short query
        name = "UDHR English articles"
    else:
        from toksmith.models.texts import pydoc_texts

        documents = []
        for _, prose in pydoc_texts(limit_bytes=400_000):
            paragraph = " ".join(prose.split("\n\n")[0].split())
            if 12 <= len(paragraph.split()) <= 120:
                documents.append(paragraph)
        documents = list(dict.fromkeys(documents))[:60]
        name = "pydoc module docstrings"
    queries = [split_sentences(doc)[0] for doc in documents]
    return documents, queries, name


def recall_at_k(query_vectors: np.ndarray, document_vectors: np.ndarray, k: int) -> float:
    """Share of queries whose own document (same index) is among the ``k`` most similar."""
    similarity = query_vectors @ document_vectors.T
    own = similarity[np.arange(len(similarity)), np.arange(len(similarity))]
    rank = (similarity > own[:, None]).sum(axis=1)  # documents strictly more similar
    return float((rank < k).mean())


def retrieval_harm(
    embed: Embed,
    tokenizer: Tokenizer,
    sticky_ids: Sequence[int],
    control_pool: Sequence[int],
    *,
    udhr: str | Path | None = None,
    k: int = 1,
    insertions_per_document: int = 8,
    max_tokens: int = 5,
    seed: int = 0,
    target: str = "queries",
) -> RetrievalHarm:
    """Recall@k of a small local retrieval task (:func:`retrieval_documents`) when the first
    ``max_tokens`` sticky tokens, and as many control tokens drawn at random (seeded) from
    ``control_pool``, are inserted ``insertions_per_document`` times into every query (or
    every document, ``target="documents"``).

    The paper measures harm on MTEB retrieval and clustering sets (NFCorpus etc.); this is a
    small offline stand-in, so its figures are an illustration, not a comparison."""
    if not sticky_ids:
        raise UserError("no verified sticky tokens to measure retrieval harm with")
    if target not in ("queries", "documents"):
        raise UserError(f"harm target {target!r}: expected queries or documents")
    documents, queries, name = retrieval_documents(udhr)
    query_vectors = np.asarray(embed(queries), dtype=np.float64)
    document_vectors = np.asarray(embed(documents), dtype=np.float64)
    clean = recall_at_k(query_vectors, document_vectors, k)
    texts = queries if target == "queries" else documents
    chosen = [int(i) for i in sticky_ids[:max_tokens]]
    pool = [int(i) for i in control_pool if int(i) not in set(sticky_ids)]
    rng = np.random.default_rng(seed)
    controls = [int(i) for i in rng.choice(pool, size=min(len(chosen), len(pool)), replace=False)]

    def run(token_id: int) -> RecallRun:
        text = token_text(tokenizer, token_id) or ""
        spoiled = []
        for index, original in enumerate(texts):
            text_rng = np.random.default_rng([seed, index])  # same positions for every token
            made = insertions(original, text, [insertions_per_document], text_rng)
            spoiled.append(made["insert"][0])
        vectors = np.asarray(embed(spoiled), dtype=np.float64)
        if target == "queries":
            recall = recall_at_k(vectors, document_vectors, k)
        else:
            recall = recall_at_k(query_vectors, vectors, k)
        return RecallRun(display(tokenizer, token_id), token_id, recall)

    sticky_runs = [run(i) for i in chosen]
    control_runs = [run(i) for i in controls]
    return RetrievalHarm(
        documents=len(documents),
        target=target,
        k=k,
        insertions=insertions_per_document,
        recall_clean=clean,
        recall_sticky=float(np.mean([r.recall for r in sticky_runs])),
        recall_control=float(np.mean([r.recall for r in control_runs]))
        if control_runs
        else math.nan,
        sticky=sticky_runs,
        control=control_runs,
        corpus=name,
    )


def with_harm(report: StickyReport, harm: RetrievalHarm) -> StickyReport:
    """``report`` with its retrieval-harm measurement attached."""
    return replace(report, harm=harm)
