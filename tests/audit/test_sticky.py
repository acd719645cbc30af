"""Sticky tokens (STD, "Sticking to the Mean", 2025): the token filter, the score, the pair
sampling and verification with a stub embedding model, and the real MiniLM runtime on a tiny
budget."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from toksmith.audit import sticky
from toksmith.errors import UserError
from toksmith.tokenizers import Tokenizer, load_tokenizer

WORDS = [f"w{i}" for i in range(60)]
DIM = 32
STICKY_WORD = "glue"


def wordpiece_tokenizer(folder: Path) -> Tokenizer:
    """A WordPiece tokenizer.json: [UNK]/[CLS]/[SEP] specials, WORDS, the sticky word, a
    continuation piece and a token with a space inside (no text encodes to it)."""
    from tokenizers import AddedToken, models, pre_tokenizers
    from tokenizers import Tokenizer as HFTokenizer

    vocab = ["[UNK]", "[CLS]", "[SEP]", *WORDS, STICKY_WORD, "##ing", "a b", "a", "b", "x"]
    tokenizer = HFTokenizer(
        models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]")
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.add_special_tokens([AddedToken(t, special=True) for t in ("[UNK]", "[CLS]", "[SEP]")])
    path = folder / "tokenizer.json"
    tokenizer.save(str(path))
    return load_tokenizer(str(path), special="allow")


def _vector(word: str) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(word.encode()))
    v = rng.normal(size=DIM)
    return v / np.linalg.norm(v)


CONTENT = WORDS[:40]  # the stub model reads these; WORDS[40:] are fillers it ignores


def stub_embed(texts: Sequence[str]) -> np.ndarray:
    """A stub embedding model: a bag of distinct content words (fillers and repeats add
    nothing), plus a little noise of the text; each copy of the sticky word adds weight along
    one direction and drowns the content, as a sticky token dominates attention."""
    rows = []
    for text in texts:
        words = text.split()
        copies = words.count(STICKY_WORD)
        content = sum((_vector(w) for w in set(words) if w not in WORDS[40:]), np.zeros(DIM))
        content = content - copies * _vector(STICKY_WORD)  # the set counted it once
        total = content / (1 + copies**3) + 1.5 * copies * _vector("the-mean")
        total = total + 0.05 * _vector("noise " + text)
        rows.append(total / np.linalg.norm(total))
    return np.array(rows)


def stub_sentences(count: int = 40, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(CONTENT, size=8, replace=False)) for _ in range(count)]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Tokenizer:
    return wordpiece_tokenizer(tmp_path_factory.mktemp("wp"))


def test_filter_sorts_tokens_into_the_papers_categories(tokenizer: Tokenizer) -> None:
    categories = sticky.filter_tokens(tokenizer)
    by_label = {tokenizer.token_label(i): str(categories[i]) for i in range(tokenizer.vocab_size)}
    assert by_label["[CLS]"] == "usable"  # the paper keeps reachable specials
    assert by_label["w7"] == "usable"
    assert by_label["##ing"] == "word_internal"
    assert by_label["a b"] == "unreachable"


def test_score_is_the_papers_formula() -> None:
    # distances fall twice by 0.1: (0.2 + 0.1 * 2 + 0.1 * 0.2) / (0 + 0 + 0.01)
    assert sticky.trajectory_score([0.5, 0.4, 0.3], 0.2) == pytest.approx(42.0)
    rising = sticky.trajectory_score([0.3, 0.4, 0.5], 0.2)
    assert rising < 1 < sticky.trajectory_score([0.5, 0.4, 0.3], 0.2)


def test_pairs_are_below_the_mean_spread_and_distinct() -> None:
    pool = [sticky.SentencePair(f"a{i}", f"b{i}", s) for i, s in enumerate(np.linspace(-1, 1, 201))]
    chosen = sticky.sample_below_mean(pool, 0.0, 10)
    values = [p.similarity for p in chosen]
    assert len(set(values)) == 10 and max(values) < 0.0
    assert values[0] == pytest.approx(-1.0) and values[-1] == pytest.approx(-0.2, abs=0.011)
    with pytest.raises(UserError, match="below the mean"):
        sticky.sample_below_mean(pool, -2.0, 10)


def test_pairs_file_of_the_wrong_shape_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "pairs.tsv"
    path.write_text("one sentence\tanother sentence\nthree\tfields\there\n")
    with pytest.raises(UserError, match=r"pairs.tsv line 2: expected 2 tab-separated"):
        sticky.read_pairs(path)
    path.write_text("a\tb\n\nc\td\n")
    assert sticky.read_pairs(path) == [("a", "b"), ("c", "d")]


def test_insertions_are_prefix_suffix_and_cumulative_random() -> None:
    made = sticky.insertions("x y z", "t", [1, 3], np.random.default_rng(0))
    assert made["prefix"] == ["t x y z", "t t t x y z"]
    assert made["suffix"] == ["x y z t", "x y z t t t"]
    assert [text.split().count("t") for text in made["insert"]] == [1, 3]
    assert all(text.replace("t", "").split() == ["x", "y", "z"] for text in made["insert"])


def test_detector_finds_the_planted_sticky_token_and_not_ordinary_ones(
    tokenizer: Tokenizer,
) -> None:
    settings = sticky.StickySettings(
        score_pairs=3, verify_pairs=24, shortlist_percent=5, control_tokens=8,
        score_insertions=(2, 4, 8), verify_insertions=(1, 2, 4, 8),
    )  # fmt: skip
    report = sticky.detect_sticky_tokens(
        stub_embed, tokenizer, model_name="stub", settings=settings, sentences=stub_sentences()
    )
    glue = tokenizer.encode(STICKY_WORD)[0]
    assert report.usable == tokenizer.vocab_size - 2  # ##ing and "a b" left out
    assert report.tokens[0].id == glue
    assert glue in report.verified_ids(above_control=True)
    check = report.tokens[0].verification
    assert check is not None and check.similarity_shift > 0 and check.gap_after < check.gap_before
    assert check.insertions_needed is not None and check.insertions_needed <= 4
    assert report.shortlisted == max(1, int(report.usable * 0.05))
    assert check.moved_share > max(c.verification.moved_share for c in report.control)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["tokens"][0]["verification"]["verified"] is True


def test_fast_mode_checks_only_the_candidates(tokenizer: Tokenizer) -> None:
    settings = sticky.StickySettings(score_pairs=2, verify_pairs=16, control_tokens=4)
    ids = sticky.resolve_candidates(tokenizer, [STICKY_WORD, "w50", "##ing"])  # w50: a filler
    report = sticky.detect_sticky_tokens(
        stub_embed, tokenizer, model_name="stub", settings=settings,
        sentences=stub_sentences(), candidates=ids,
    )  # fmt: skip
    assert report.mode == "candidates" and report.scored == 2
    assert [t.token for t in report.tokens if t.verified] == [STICKY_WORD]
    assert any("word_internal" in note for note in report.notes)
    with pytest.raises(UserError, match="not in the vocabulary"):
        sticky.resolve_candidates(tokenizer, ["nonesuch"])


@pytest.mark.parametrize("target", ["queries", "documents"])
def test_sticky_token_lowers_recall_more_than_control_tokens(
    tokenizer: Tokenizer, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    documents = [" ".join(f"d{d}x{j}" for j in range(12)) for d in range(20)]
    queries = [" ".join(doc.split()[:4]) for doc in documents]
    monkeypatch.setattr(sticky, "retrieval_documents", lambda udhr: (documents, queries, "stub"))
    glue = tokenizer.encode(STICKY_WORD)[0]
    pool = [tokenizer.encode(w)[0] for w in CONTENT]
    harm = sticky.retrieval_harm(
        stub_embed, tokenizer, [glue], pool, k=1, insertions_per_document=8, target=target
    )
    assert harm.recall_clean >= 0.9
    assert harm.recall_sticky < 0.5 < harm.recall_control
    assert len(harm.control) == 1


def test_cli_fast_mode_on_the_real_minilm(tmp_path: Path) -> None:
    from toksmith.cli import main

    out = tmp_path / "sticky.json"
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(
        "A dog runs in the park.\tThe tax rate rose again this year.\n"
        "Everyone has the right to life.\tReturn the next item of the iterator.\n"
        "The cat sleeps on the mat.\tA compiled regular expression object.\n"
    )
    code = main([
        "audit", "sticky", "--model", "minilm", "--tokens", "[CLS],the", "--preset", "budget",
        "--pairs", str(pairs), "--verify-pairs", "2", "--mean-sample", "64", "--no-harm",
        "--controls", "1", "-o", str(out),
    ])  # fmt: skip
    assert code == 0
    data = json.loads(out.read_text())
    # the paper's results table for all-MiniLM-L6-v2: 30,522 ids, 23,699 available tokens
    assert data["vocab_size"] == 30522 and data["usable"] == 23699
    assert data["mode"] == "candidates" and data["scored"] == 2
    assert data["pair_source"] == str(pairs) and data["candidate_pairs"] == 3
    assert {t["token"] for t in data["tokens"]} == {"[CLS]", "the"}
    assert 0.0 < data["mean_similarity"] < 0.5
    assert all(len(t["verification"]["share_by_insertions"]) == 4 for t in data["tokens"])


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--model", "{tmp}/nothing"], "does not exist"),
        (["--model", "{tmp}/empty"], "no config.json"),
        (["--model", "minilm", "--pairs", "{tmp}/bad.tsv"], "bad.tsv line 1: expected 2"),
        (["--model", "minilm", "--tokens", "zzzznotatoken"], "not in the vocabulary"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(
    arguments: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from toksmith.cli import main

    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.tsv").write_text("only one field\n")
    code = main(["audit", "sticky", *(a.replace("{tmp}", str(tmp_path)) for a in arguments)])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("toksmith: error:") and expected in err[0]


def test_report_renders_and_is_readable_in_the_web_results_view(
    tokenizer: Tokenizer, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from toksmith.report.output import to_json
    from toksmith.report.sticky import render_sticky
    from toksmith.web.app import create_app
    from toksmith.web.roots import WebRoots

    settings = sticky.StickySettings(score_pairs=2, verify_pairs=8, control_tokens=2)
    ids = sticky.resolve_candidates(tokenizer, [STICKY_WORD, "w50"])
    report = sticky.detect_sticky_tokens(
        stub_embed, tokenizer, model_name="stub", settings=settings,
        sentences=stub_sentences(), candidates=ids,
    )  # fmt: skip
    table = render_sticky(report, "table")
    assert "usable tokens" in table and STICKY_WORD in table
    assert "| verified (paper's rule) |" in render_sticky(report, "md")
    results = tmp_path / "results"
    results.mkdir()
    (results / "sticky.json").write_text(to_json(report), encoding="utf-8")
    roots = WebRoots.of(tmp_path, tmp_path, results)
    with TestClient(create_app(roots), base_url="http://127.0.0.1") as client:
        listed = [f["path"] for f in client.get("/api/results").json()]
        body = client.get("/api/results/sticky.json").json()
    assert "sticky.json" in listed
    assert body["data"]["verified"] == report.verified
    assert body["data"]["tokens"][0]["token"] == STICKY_WORD


def test_minilm_embedder_pads_to_short_buckets_without_changing_the_embeddings() -> None:
    from toksmith.models import load_model, minilm_folder, sentence_embeddings

    model = load_model(minilm_folder())
    texts = ["[CLS]", "textbook", "whereupon whereupon the right to life", "a b c d e f g h i"]
    ours = sticky.model_embedder(model, batch_size=4)(texts)
    default = sentence_embeddings(model, texts, batch_size=4)  # padded to 32 pieces
    np.testing.assert_allclose(ours, default, atol=2e-6)
    assert sticky.EMBED_LENGTH_BUCKET < 32


def test_budget_preset_states_every_deviation_from_the_papers_parameters(
    tokenizer: Tokenizer,
) -> None:
    from toksmith.report.sticky import render_sticky

    assert sticky.settings_deviations(sticky.StickySettings(control_tokens=0)) == []
    budget = sticky.StickySettings.budget()
    named = {line.split(":")[0] for line in sticky.settings_deviations(budget)}
    assert named == {
        "score_pairs", "score_insertions", "verify_pairs", "verify_insertions", "control_tokens"
    }  # fmt: skip
    assert "verify_pairs: 32 (paper: 250)" in sticky.settings_deviations(budget)
    small = replace(budget, verify_pairs=8, control_tokens=2, mean_sample=16)
    report = sticky.detect_sticky_tokens(
        stub_embed, tokenizer, model_name="stub", settings=small, sentences=stub_sentences(),
        candidates=sticky.resolve_candidates(tokenizer, [STICKY_WORD]),
    )  # fmt: skip
    table = render_sticky(report, "table")
    assert "deviations from the paper's parameters" in table
    assert "mean_sample: 16 (paper: all tokens)" in table
