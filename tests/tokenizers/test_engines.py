"""Fast engines behind the parity gate: engine choice, fallback, the gate on user tokenizers."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Regex, decoders, models, normalizers, pre_tokenizers, trainers
from tokenizers import Tokenizer as HFTokenizer

from toksmith.cli import main
from toksmith.errors import UserError
from toksmith.tokenizers import Tokenizer, builtin_names, engine_choice, load_tokenizer
from toksmith.tokenizers.fast import PINNED, LazyEngine, builtin_engine
from toksmith.tokenizers.parity import adversarial_texts, compact_groups

TRAINING_TEXT = [
    "All human beings are born free and equal in dignity and rights.",
    "They are endowed with reason and conscience and should act towards one another.",
    "Everyone has the right to life, liberty and security of person. 123 456 7890",
] * 20


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own cache folder, so gate results never leak between tests."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("TOKSMITH_CACHE_DIR", str(folder))
    return folder


def _trained(
    path: Path,
    *,
    unk_token: str | None = None,
    normalizer: normalizers.Normalizer | None = None,
) -> Path:
    """A small BPE tokenizer.json trained here: byte-level unless ``unk_token`` is given."""
    tokenizer = HFTokenizer(models.BPE(unk_token=unk_token))
    if normalizer is not None:
        tokenizer.normalizer = normalizer
    if unk_token is None:
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        alphabet = pre_tokenizers.ByteLevel.alphabet()
    else:  # letters only: every other character is unknown
        tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(r"\s"), "merged_with_previous")
        alphabet = []
    trainer = trainers.BpeTrainer(vocab_size=300, initial_alphabet=alphabet, show_progress=False)
    tokenizer.train_from_iterator(TRAINING_TEXT, trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    if unk_token == "":  # no unknown token at all: HF drops characters not in the vocabulary
        config = json.loads(path.read_text(encoding="utf-8"))
        config["model"]["unk_token"] = None
        path.write_text(json.dumps(config), encoding="utf-8")
    return path


@pytest.fixture
def dropping_unknowns(tmp_path: Path) -> Path:
    """A tokenizer.json fastokens loads but does not reproduce (found by experiment): a BPE
    model with no unknown token, whose pre-tokenizer splits on whitespace; HF tokenizers drops
    the characters outside its vocabulary, fastokens 0.3.5 does not, on 148 of the compact
    set's texts."""
    return _trained(tmp_path / "dropping" / "tokenizer.json", unk_token="")


@pytest.fixture
def nfkc(tmp_path: Path) -> Path:
    """A tokenizer.json whose normalizer is NFKC then lowercasing: fastokens 0.3.5 has no
    NFKC, and HF's own NFKC runs first only when it is the whole normalizer."""
    normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    return _trained(tmp_path / "nfkc" / "tokenizer.json", normalizer=normalizer)


@pytest.fixture
def nfkc_only(tmp_path: Path) -> Path:
    """A tokenizer.json whose whole normalizer is NFKC."""
    return _trained(tmp_path / "nfkc-only" / "tokenizer.json", normalizer=normalizers.NFKC())


@pytest.fixture
def plain_split(tmp_path: Path) -> Path:
    """A byte-level BPE tokenizer.json fastokens reproduces."""
    return _trained(tmp_path / "plain" / "tokenizer.json")


def test_a_builtin_pinned_fast_uses_fastokens_and_names_it() -> None:
    tokenizer = load_tokenizer("o200k_base")
    assert tokenizer.engine == "fastokens"
    assert "parity pinned" in tokenizer.engine_note
    assert builtin_engine("o200k_base")[0] == "fastokens"


def test_every_builtin_has_a_pinned_engine_and_a_reason_when_vendor() -> None:
    assert set(PINNED) == set(builtin_names())
    for name in builtin_names():
        engine, note = builtin_engine(name)
        assert engine in ("vendor", "fastokens")
        if engine == "vendor":
            assert note.startswith("vendor: ")


def test_engine_vendor_keeps_the_vendor_engine() -> None:
    tokenizer = load_tokenizer("o200k_base", engine="vendor")
    assert tokenizer.engine == "vendor"
    assert tokenizer.fast_engine is None
    assert load_tokenizer("o200k_base").engine == "fastokens"  # the default is a separate copy


def test_engine_fast_on_a_builtin_without_parity_is_a_user_error() -> None:
    with pytest.raises(
        UserError, match="--engine fast.*mistral-sp-v1|mistral-sp-v1.*--engine fast"
    ):
        load_tokenizer("mistral-sp-v1", engine="fast")


def test_an_unknown_engine_is_a_user_error() -> None:
    with pytest.raises(UserError, match="engine 'turbo' is not one of auto, vendor, fast"):
        load_tokenizer("o200k_base", engine="turbo")


def test_fast_engine_starts_only_after_enough_text() -> None:
    tokenizer = load_tokenizer("o200k_base")
    lazy = tokenizer.fast_engine
    assert isinstance(lazy, LazyEngine)
    fresh = LazyEngine(lambda: None, start_after_chars=100)
    assert fresh.get(["short"]) is None and not fresh.started
    assert fresh.get(["x" * 100]) is None  # the build starts in the background
    assert fresh.wait() is None  # and gives no engine here
    assert fresh.failure == "fastokens cannot read this tokenizer"
    assert fresh.get(["more"]) is None


def test_the_vendor_serves_while_the_fast_engine_builds_then_the_fast_engine_does(
    building_o200k: Tokenizer,
    check_ids_across_the_build: Callable[..., None],
) -> None:
    texts = ["Hello world, this is a test."] * 3
    vendor = building_o200k.vendor_batch_numpy(texts)
    check_ids_across_the_build(building_o200k, texts, vendor)


@pytest.mark.parametrize("name", ["o200k_base", "deepseek", "mistral-tekken"])
def test_a_fast_engine_that_raises_falls_back_to_the_vendor_for_that_call(
    name: str, with_raising_engine: Callable[[Tokenizer], Tokenizer]
) -> None:
    vendor = load_tokenizer(name, engine="vendor")
    tokenizer = with_raising_engine(copy.copy(load_tokenizer(name)))
    texts = ["Hello wörld, 123!", "Ünïcödé 中文 text"]
    flat, lengths = tokenizer.encode_batch_numpy(texts)
    expected = vendor.encode_batch_numpy(texts)
    assert np.array_equal(flat, expected[0]) and np.array_equal(lengths, expected[1])
    assert tokenizer.encode_batch(texts) == vendor.encode_batch(texts)
    assert tokenizer.encode(texts[0]) == vendor.encode(texts[0])
    assert tokenizer.fast_fallbacks == 3


def test_compare_notes_say_when_the_fast_engine_fell_back(tmp_path: Path) -> None:
    from toksmith.metrics.compare import engine_notes

    tokenizer = copy.copy(load_tokenizer("o200k_base"))
    tokenizer.fast_fallbacks = 2
    assert engine_notes([tokenizer]) == [
        "o200k_base: the fastokens engine raised on 2 batch(es); the vendor engine encoded them"
    ]


def test_the_fast_engine_gives_the_vendor_ids_once_started() -> None:
    tokenizer = load_tokenizer("deepseek")
    vendor = load_tokenizer("deepseek", engine="vendor")
    texts = [text for _, group in adversarial_texts(repeat=2000, long_line_bytes=20_000)
             for text in group]  # fmt: skip
    engine = tokenizer.fast_engine.start()
    assert engine is not None
    flat, lengths = tokenizer.encode_batch_numpy(texts)
    assert tokenizer.fast_engine.started
    expected = vendor.encode_batch_numpy(texts)
    assert np.array_equal(flat, expected[0]) and np.array_equal(lengths, expected[1])


def test_a_tokenizer_json_the_fast_engine_cannot_reproduce_falls_back(
    dropping_unknowns: Path,
) -> None:
    tokenizer = load_tokenizer(str(dropping_unknowns))
    assert tokenizer.engine == "vendor"
    assert "parity gate failed on" in tokenizer.engine_note
    assert tokenizer.fast_engine is None


def test_a_normalizer_the_fast_engine_lacks_falls_back_and_says_so(nfkc: Path) -> None:
    tokenizer = load_tokenizer(str(nfkc))
    assert tokenizer.engine == "vendor"
    assert "fastokens cannot read it" in tokenizer.engine_note
    assert "NFKC" in tokenizer.engine_note
    with pytest.raises(UserError, match="'nfkc': --engine fast, but no fast engine"):
        load_tokenizer(str(nfkc), engine="fast")


def test_a_whole_nfkc_normalizer_runs_as_hf_runs_it_before_the_fast_engine(
    nfkc_only: Path,
) -> None:
    tokenizer = load_tokenizer(str(nfkc_only))
    assert tokenizer.engine == "fastokens", tokenizer.engine_note
    vendor = load_tokenizer(str(nfkc_only), engine="vendor")
    texts = ["ﬁne ｆｕｌｌｗｉｄｔｈ ① ² ½ Å", "e\u0301 a\u0300 \u1100\u1161\u11a8", "plain text"]
    engine = tokenizer.fast_engine.start()
    assert engine is not None and engine.normalize is not None
    flat, lengths = tokenizer._fast_ids(engine, texts)
    expected = vendor.vendor_batch_numpy(texts)
    assert np.array_equal(flat, expected[0]) and np.array_equal(lengths, expected[1])
    allowed = load_tokenizer(str(nfkc_only), "allow")  # added tokens are cut out first there
    assert allowed.engine == "vendor" and "NFKC" in allowed.engine_note


def test_engine_fast_on_a_tokenizer_without_parity_fails_clearly(dropping_unknowns: Path) -> None:
    with pytest.raises(UserError, match=r"'dropping': --engine fast, but no fast engine"):
        load_tokenizer(str(dropping_unknowns), engine="fast")


def test_engine_fast_on_the_cli_is_exit_2_with_one_line(dropping_unknowns: Path, capsys) -> None:
    status = main(["count", "hello", "-t", str(dropping_unknowns), "--engine", "fast"])
    error = capsys.readouterr().err
    assert status == 2
    assert error.startswith("toksmith: error: tokenizer 'dropping': --engine fast")
    assert error.count("\n") == 1


def test_a_tokenizer_json_with_parity_gets_the_fast_engine_and_the_result_is_cached(
    plain_split: Path, private_cache: Path
) -> None:
    tokenizer = load_tokenizer(str(plain_split))
    assert tokenizer.engine == "fastokens"
    assert "parity gate passed on" in tokenizer.engine_note
    entries = list(private_cache.glob("parity-*.bin"))
    assert len(entries) == 1
    # A second process (here: a fresh load of a copy of the file) reads the cached pass.
    copy = plain_split.parent.parent / "again" / "tokenizer.json"
    copy.parent.mkdir()
    copy.write_bytes(plain_split.read_bytes())
    again = load_tokenizer(str(copy))
    assert again.engine == "fastokens"
    assert again.engine_note.endswith("parity gate passed (cached result)")


def test_a_corrupt_cached_gate_result_is_run_again(plain_split: Path, private_cache: Path) -> None:
    load_tokenizer(str(plain_split))
    (entry,) = private_cache.glob("parity-*.bin")
    entry.write_bytes(entry.read_bytes()[:-3])
    copy = plain_split.parent.parent / "third" / "tokenizer.json"
    copy.parent.mkdir()
    copy.write_bytes(plain_split.read_bytes())
    assert "parity gate passed on" in load_tokenizer(str(copy)).engine_note


def test_the_engine_choice_context_reaches_loads_that_name_no_engine() -> None:
    with engine_choice("vendor"):
        assert load_tokenizer("cl100k_base").engine == "vendor"
    assert load_tokenizer("cl100k_base").engine == "fastokens"


def test_the_compact_set_holds_every_part_of_the_parity_corpus() -> None:
    labels = [label for label, _ in compact_groups()]
    assert labels[0] == "udhr-sample"
    assert any(label.startswith("stdlib/") for label in labels)
    for part in ("repeats", "base64", "cjk", "emoji", "combining", "line-breaks",
                 "whitespace", "special-strings", "private-use", "long-line"):  # fmt: skip
        assert f"adversarial/{part}" in labels
    (udhr,) = [texts for label, texts in compact_groups() if label == "udhr-sample"]
    assert len(udhr) > 450


def test_compare_json_names_the_engine_of_each_tokenizer(tmp_path: Path, capsys) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("Hello world\nSecond line here\n", encoding="utf-8")
    status = main(
        ["compare", "-t", "o200k_base", "-t", "mistral-sp-v1", "--corpus", str(corpus),
         "--format", "json"]
    )  # fmt: skip
    assert status == 0
    data = json.loads(capsys.readouterr().out)
    engines = {entry["name"]: entry["engine"] for entry in data["tokenizers"]}
    assert engines == {"o200k_base": "fastokens", "mistral-sp-v1": "vendor"}
