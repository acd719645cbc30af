"""Data mixture inference (Hayase et al., 2024): merge lists, the replay, the LP, the CLI."""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
from collections import Counter
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from tokenizers import Tokenizer as HFTokenizer
from tokenizers import models, pre_tokenizers, trainers

from toksmith.audit.mixture import (
    MIN_CATEGORY_BYTES,
    category_sample,
    infer_mixture,
    read_categories,
    unverified_note,
    vocabulary_share_baseline,
)
from toksmith.audit.mixture_merges import merge_list, merges_from_ranks
from toksmith.audit.mixture_replay import MergeReplay, pair_key
from toksmith.cli import audit_mixture
from toksmith.errors import UserError
from toksmith.report.mixture import render_mixture
from toksmith.tokenizers import load_tokenizer
from toksmith.tokenizers.hf_json import HFJsonTokenizer, byte_level_alphabet


def _load_benchmark_helper(name: str) -> ModuleType:
    """A helper module of benchmarks/ (the category builders live there, outside the package)."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mixture_corpora = _load_benchmark_helper("mixture_corpora")


def train_byte_level_bpe(texts: list[str], merges: int) -> HFJsonTokenizer:
    """A byte-level BPE tokenizer trained by HF ``tokenizers`` on ``texts``."""
    hf = HFTokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=256 + merges,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    hf.train_from_iterator(texts, trainer)
    return HFJsonTokenizer(json.loads(hf.to_str()), name="trained", source="memory")


# ---- merge lists ------------------------------------------------------------------------------


def test_merges_recovered_from_ranks_are_the_merges_hf_trained() -> None:
    tokenizer = train_byte_level_bpe([mixture_corpora.english_prose(60_000)], merges=400)
    alphabet = byte_level_alphabet()
    ranks = {bytes([byte]): byte for byte in range(256)}
    trained = tokenizer.config["model"]["merges"]
    for left, right in (m.split(" ") if isinstance(m, str) else m for m in trained):
        token = bytes(alphabet[c] for c in left + right)
        ranks[token] = len(ranks)
    recovered = merges_from_ranks(ranks, max_merges=10_000)
    assert recovered.skipped == 0
    assert recovered.merges == merge_list(tokenizer, 10_000).merges


def test_every_recovered_cl100k_merge_joins_two_lower_ranks() -> None:
    ranks = load_tokenizer("cl100k_base").encoding._mergeable_ranks
    merges = merges_from_ranks(ranks, max_merges=3000).merges
    assert len(merges) == 3000
    for left, right in merges:
        assert ranks[left] < ranks[left + right] and ranks[right] < ranks[left + right]


@pytest.mark.parametrize("name", ["minilm", "mistral-sp-v1"])
def test_tokenizers_without_merges_are_refused(name: str) -> None:
    with pytest.raises(UserError, match="merge list|no ordered merge list"):
        merge_list(load_tokenizer(name), 100)


def test_bpe_json_with_an_empty_merge_list_is_refused() -> None:
    tokenizer = train_byte_level_bpe(["ab ab ab"], merges=1)
    config = dict(tokenizer.config)
    config["model"] = dict(config["model"], merges=[])
    empty = HFJsonTokenizer(config, name="empty", source="memory")
    with pytest.raises(UserError, match="lists no merges"):
        merge_list(empty, 100)


# ---- the replay -------------------------------------------------------------------------------


def test_incremental_pair_counts_equal_a_recount_after_every_merge() -> None:
    rng = random.Random(7)
    for _ in range(100):
        categories = [
            Counter(
                {
                    bytes(rng.choice(b"abc") for _ in range(rng.randint(1, 9))): rng.randint(1, 5)
                    for _ in range(15)
                }
            )
            for _ in range(2)
        ]
        replay = MergeReplay(categories)
        new_symbol = 256
        for _ in range(12):
            if not replay.counts:
                break
            key = rng.choice(sorted(replay.counts))
            replay.apply(key >> 22, key & ((1 << 22) - 1), new_symbol)
            new_symbol += 1
            recount: dict[int, list[int]] = {}
            for word, symbols in enumerate(replay.words):
                for left, right in zip(symbols, symbols[1:], strict=False):
                    vector = recount.setdefault(pair_key(left, right), [0, 0])
                    vector[replay.category[word]] += replay.frequency[word]
            assert {k: v for k, v in replay.counts.items() if any(v)} == recount


# ---- the estimate -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def four_samples(udhr_dir: Path) -> list[str]:
    return [
        mixture_corpora.python_source(30_000, part=1),
        mixture_corpora.english_prose(30_000, part=1),
        mixture_corpora.wordfreq_text("fr", 30_000, part=1),
        mixture_corpora.udhr_script_text(udhr_dir, "Cyrl", 30_000, part=1),
    ]


def test_exact_shares_when_the_samples_are_the_training_data(four_samples: list[str]) -> None:
    # Training on sample i repeated r_i times makes every pair count exactly r_i times the
    # sample's, so the true mixture satisfies every constraint with zero slack.
    repeats = [4, 1, 2, 3]
    training = [text for text, r in zip(four_samples, repeats, strict=True) for _ in range(r)]
    tokenizer = train_byte_level_bpe(training, merges=500)
    samples = [category_sample(str(i), text) for i, text in enumerate(four_samples)]
    estimate = infer_mixture(tokenizer, samples, max_merges=500, min_bytes=10_000)
    sizes = np.array([s.bytes for s in samples]) * repeats
    truth = sizes / sizes.sum()
    got = np.array([c.share for c in estimate.categories])
    assert np.abs(got - truth).max() < 1e-3
    assert estimate.total_slack_per_mb < 1e-3


# Six categories, known shares; the tokenizer is trained on one half of each source and the
# shares are estimated on the other half (held-out samples, as in the paper). Measured on this
# machine with two checking replays: mean absolute error 0.0084 (0.0098 with none, the default),
# against 0.0352 for the vocabulary-share baseline and 0.0722 for uniform shares; asserted with
# some margin.
CONTROLLED_SHARES = {"python": 0.30, "english": 0.25, "french": 0.15, "german": 0.12,
                     "cyrillic": 0.10, "arabic": 0.08}  # fmt: skip
CONTROLLED_MAE = 0.02


def _controlled_text(name: str, size: int, part: int, udhr: Path) -> str:
    if name == "python":
        return mixture_corpora.python_source(size, part)
    if name == "english":
        return mixture_corpora.english_prose(size, part)
    if name == "cyrillic":
        return mixture_corpora.udhr_script_text(udhr, "Cyrl", size, part)
    language = {"french": "fr", "german": "de", "arabic": "ar"}[name]
    return mixture_corpora.wordfreq_text(language, size, part)


def test_controlled_mixture_of_six_categories_is_recovered(udhr_dir: Path) -> None:
    training_bytes = 400_000
    training = [
        _controlled_text(name, int(training_bytes * share), 0, udhr_dir)
        for name, share in CONTROLLED_SHARES.items()
    ]
    tokenizer = train_byte_level_bpe(training, merges=2000)
    samples = [
        category_sample(name, _controlled_text(name, 150_000, 1, udhr_dir))
        for name in CONTROLLED_SHARES
    ]
    estimate = infer_mixture(tokenizer, samples, max_merges=2000, replays=2)
    truth = np.array(list(CONTROLLED_SHARES.values()))
    got = np.array([estimate.shares[name] for name in CONTROLLED_SHARES])
    mae = float(np.abs(got - truth).mean())
    baseline = vocabulary_share_baseline(tokenizer, samples, max_merges=2000)
    baseline_mae = float(np.abs(np.array([baseline[n] for n in CONTROLLED_SHARES]) - truth).mean())
    assert estimate.merges_used == 2000
    assert abs(got.sum() - 1) < 1e-9
    assert mae < CONTROLLED_MAE
    assert mae < baseline_mae / 2


# ---- bad input --------------------------------------------------------------------------------


def _write_categories(folder: Path, texts: dict[str, str]) -> Path:
    folder.mkdir()
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def test_a_category_with_too_little_text_is_refused_by_name(tmp_path: Path) -> None:
    folder = _write_categories(
        tmp_path / "cats", {"big": "word " * 10_000, "small": "tiny text " * 100}
    )
    with pytest.raises(UserError, match=f"'small'.*1,000 bytes.*{MIN_CATEGORY_BYTES:,}"):
        read_categories(folder)


def test_an_empty_category_folder_is_refused(tmp_path: Path) -> None:
    folder = _write_categories(tmp_path / "cats", {"big": "word " * 10_000})
    (folder / "empty").mkdir()
    with pytest.raises(UserError, match="'empty'.*empty"):
        read_categories(folder)


def test_an_empty_category_file_is_refused(tmp_path: Path) -> None:
    folder = _write_categories(tmp_path / "cats", {"big": "word " * 10_000, "blank": ""})
    with pytest.raises(UserError, match="'blank'.* 0 bytes"):
        read_categories(folder)


def test_a_single_category_is_refused(tmp_path: Path) -> None:
    folder = _write_categories(tmp_path / "cats", {"only": "word " * 10_000})
    with pytest.raises(UserError, match="at least two"):
        read_categories(folder)


# ---- the command ------------------------------------------------------------------------------


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    audit_mixture.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.run(args)


def test_cli_writes_json_and_markdown_estimates(tmp_path: Path, four_samples: list[str]) -> None:
    tokenizer = train_byte_level_bpe(four_samples[:2], merges=300)
    tokenizer_file = tmp_path / "tokenizer.json"
    tokenizer_file.write_text(json.dumps(tokenizer.config), encoding="utf-8")
    folder = _write_categories(
        tmp_path / "cats", {"code": four_samples[0], "prose": four_samples[1]}
    )
    common = ["mixture", "-t", str(tokenizer_file), "--categories", str(folder), "--merges", "300"]
    assert _run_cli([*common, "--format", "json", "-o", str(tmp_path / "out.json")]) == 0
    result = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in result["categories"]] == ["code", "prose"]
    assert abs(sum(c["share"] for c in result["categories"]) - 1) < 1e-9
    assert result["merges_used"] == 300 and result["solver_status"] == "Optimal"
    assert _run_cli([*common, "--format", "md", "-o", str(tmp_path / "out.md")]) == 0
    markdown = (tmp_path / "out.md").read_text(encoding="utf-8")
    assert "| code |" in markdown and "█" in markdown


# ---- the note of an unverified estimate -------------------------------------------------------


def test_unverified_note_without_replays_says_none_ran_instead_of_a_placeholder() -> None:
    note = unverified_note(0, 1234, None)
    assert "-1" not in note and "no checking replay ran" in note and "1,234" in note
    assert "--replays N" in note


def test_unverified_note_after_replays_counts_the_violations_the_last_one_found() -> None:
    note = unverified_note(2, 500, 7)
    assert "after 2 checking replay(s)" in note and "found 7 more violated" in note


def test_estimate_without_replays_writes_null_violations_not_minus_one(
    tmp_path: Path, four_samples: list[str]
) -> None:
    tokenizer = train_byte_level_bpe(four_samples[:2], merges=200)
    samples = [category_sample(str(i), text) for i, text in enumerate(four_samples[:2])]
    estimate = infer_mixture(tokenizer, samples, max_merges=200, replays=0)
    document = json.loads(render_mixture(estimate, "json"))
    assert document["verification_replays"] == 0
    assert document["violations_last_replay"] is None
    assert not any("-1" in note for note in document["notes"])


def test_mixture_markdown_and_html_render_from_the_report_layer(four_samples: list[str]) -> None:
    tokenizer = train_byte_level_bpe(four_samples[:2], merges=200)
    samples = [category_sample(str(i), text) for i, text in enumerate(four_samples[:2])]
    estimate = infer_mixture(tokenizer, samples, max_merges=200)
    assert "## Estimated training mixture of trained" in render_mixture(estimate, "md")
    page = render_mixture(estimate, "html")
    assert page.startswith("<!doctype html>") and "data:image/png;base64," in page
