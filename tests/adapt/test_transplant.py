"""Transplanting a BERT folder: identity, every method, tied rows, and bad input."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from toksmith.adapt.methods import METHODS, sparsemax
from toksmith.adapt.transplant import load_new_tokenizer, transplant, transplant_in_memory
from toksmith.adapt.vocab import decompose, digit_split_warning, match_vocabularies
from toksmith.errors import UserError
from toksmith.tokenizers import load_tokenizer

SENTENCES = [
    "All human beings are born free and equal in dignity and rights.",
    "Everyone has the right to life, liberty and security of person.",
    "The quick brown fox jumps over the lazy dog near the riverbank.",
    "Numbers such as 12345 and 3.14159 are split differently by each tokenizer.",
]


def _fake_embedder(texts: list[str]) -> np.ndarray:
    """Character-trigram hashing vectors: similar strings get similar vectors."""
    vectors = np.zeros((len(texts), 64), dtype=np.float32)
    for row, text in enumerate(texts):
        padded = f"#{text}#"
        for i in range(max(1, len(padded) - 2)):
            vectors[row, hash(padded[i : i + 3]) % 64] += 1.0
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def test_wordpiece_surfaces_separate_word_starts_from_continuations() -> None:
    minilm = load_tokenizer("minilm")
    match = match_vocabularies(minilm, minilm)
    hello, continued = minilm.encode("hello")[0], minilm.encode("12345")[1]  # '##45'
    assert match.new_surfaces[hello] == b" hello"
    assert match.new_surfaces[continued] == b"45"
    assert match.missing_new.size == 0
    assert np.array_equal(match.shared_new, match.shared_old)


def test_decompose_spells_the_surface_with_old_pieces() -> None:
    minilm = load_tokenizer("minilm")
    match = match_vocabularies(minilm, minilm)
    pieces = decompose(b" unbelievably", match.old_index)
    assert b"".join(match.old_surfaces[p] or b"" for p in pieces) == b" unbelievably"


def test_digit_warning_only_when_digits_are_grouped_differently() -> None:
    o200k, cl100k, sp = (load_tokenizer(n) for n in ("o200k_base", "cl100k_base", "mistral-sp-v1"))
    assert digit_split_warning(o200k, cl100k) is None
    warning = digit_split_warning(o200k, sp)
    assert warning is not None and "digits" in warning


def test_sparsemax_is_a_sparse_distribution() -> None:
    weights = sparsemax(np.array([[0.9, 0.85, 0.1, -0.5], [0.2, 0.2, 0.2, 0.2]]))
    assert np.allclose(weights.sum(axis=1), 1.0)
    assert weights[0, 2] == 0 and weights[0, 3] == 0 and weights[0, 0] > weights[0, 1]
    assert np.allclose(weights[1], 0.25)


def test_transplant_to_its_own_tokenizer_reproduces_the_outputs(
    tiny_bert: Path, minilm_tokenizer_json: Path, tmp_path: Path
) -> None:
    from toksmith.models import load_model, sentence_embeddings

    out = tmp_path / "same"
    result = transplant(tiny_bert, minilm_tokenizer_json, out, "omp", corpus_texts=SENTENCES)
    assert result.estimated_tokens == 0 and result.shared_tokens + 5 == 30522
    base, adapted = load_model(tiny_bert), load_model(out)
    for key, tensor in base.weights.items():
        assert np.array_equal(adapted.weights[key], tensor), key
    diff = np.abs(sentence_embeddings(base, SENTENCES) - sentence_embeddings(adapted, SENTENCES))
    assert diff.max() <= 1e-6


@pytest.mark.parametrize("method", METHODS)
def test_every_method_writes_a_consistent_folder_and_copies_shared_rows(
    method: str, tiny_bert: Path, new_wordpiece: Path
) -> None:
    from toksmith.models import load_model

    base = load_model(tiny_bert)
    new = load_new_tokenizer(new_wordpiece, "bert")
    options: dict[str, object] = {"corpus_texts": SENTENCES * 20, "k": 8}
    if method == "tokenadapt":
        options["embed_texts"] = _fake_embedder
    weights, match, recipe = transplant_in_memory(base, new, method, **options)
    matrix = weights[base.input_embedding_key]
    old = base.input_embeddings
    assert matrix.shape == (new.vocab_size, old.shape[1])
    assert np.array_equal(matrix[match.shared_new], old[match.shared_old])
    assert np.array_equal(matrix[match.special_new], old[match.special_old])
    assert match.missing_new.size > 0
    missing = matrix[match.missing_new]
    if method == "zero":
        assert not missing.any()
    elif method == "mean":
        assert np.allclose(missing, missing[0])
    else:
        assert np.isfinite(missing).all()
        assert len({tuple(np.round(row, 5)) for row in missing}) > missing.shape[0] // 2
    if method == "subword-mean":
        position = next(i for i, name in enumerate(recipe.method_of_row) if name == method)
        token = int(match.missing_new[position])
        pieces = decompose(match.new_surfaces[token] or b"", match.old_index)
        assert np.allclose(matrix[token], old[pieces].mean(axis=0), atol=1e-6)
    if method in ("focus", "omp", "tokenadapt"):
        assert recipe.method_of_row.count(method) > 0


def test_cli_transplant_writes_a_loadable_folder_with_remapped_config(
    tiny_bert: Path,
    new_wordpiece: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    adapt_cli: Callable[[list[str]], int],
) -> None:
    from toksmith.models import load_model

    out = tmp_path / "adapted"
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(SENTENCES * 20), "utf-8")
    status = adapt_cli(["adapt", "transplant", "--model", str(tiny_bert), "--tokenizer",
                        str(new_wordpiece), "--method", "focus", "--corpus", str(corpus),
                        "--format", "json", "-o", str(out)])  # fmt: skip
    assert status == 0
    summary = json.loads(capsys.readouterr().out)
    adapted = load_model(out)
    new = load_tokenizer(str(new_wordpiece))
    assert adapted.config["vocab_size"] == new.vocab_size == summary["new_vocab_size"]
    assert adapted.config["pad_token_id"] == new.encode("[PAD]")[0] or adapted.config[
        "pad_token_id"
    ] == new.special_strings().get("[PAD]")
    assert summary["rows_by_method"]["copied"] == summary["shared_tokens"]


def _bad_folder(tmp_path: Path, tiny_bert: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(tiny_bert, folder)
    return folder


def test_bad_inputs_fail_with_one_line_and_leave_no_folder(
    tiny_bert: Path,
    new_wordpiece: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    adapt_cli: Callable[[list[str]], int],
    bert_writer: Callable[..., Path],
) -> None:
    no_config = _bad_folder(tmp_path, tiny_bert, "no-config")
    (no_config / "config.json").unlink()
    pickled = _bad_folder(tmp_path, tiny_bert, "pickled")
    (pickled / "model.safetensors").rename(pickled / "pytorch_model.bin")
    corrupt = _bad_folder(tmp_path, tiny_bert, "corrupt")
    (corrupt / "model.safetensors").write_bytes(b"\x80\x04not safetensors")
    mismatch = tmp_path / "mismatch"
    bert_writer(mismatch, new_wordpiece, 30522)  # rows for MiniLM, tokenizer of 600 ids
    existing = tmp_path / "exists"
    existing.mkdir()
    cases = [
        (no_config, "omp", ["--corpus", str(new_wordpiece)], "no config.json"),
        (pickled, "mean", [], "safetensors"),
        (corrupt, "mean", [], "not a safetensors file"),
        (mismatch, "mean", [], "tokenizer has"),
        (tiny_bert, "omp", ["--k", "4000", "--donor", str(tiny_bert)], "anchor tokens"),
        (tiny_bert, "focus", [], "needs a corpus"),
    ]
    for number, (model, method, extra, expected) in enumerate(cases):
        out = tmp_path / f"out{number}"
        status = adapt_cli(["adapt", "transplant", "--model", str(model), "--tokenizer",
                            str(new_wordpiece), "--method", method, *extra, "-o", str(out)])  # fmt: skip
        printed = capsys.readouterr().out.strip()
        assert status == 2, printed
        assert printed.startswith("toksmith: error:") and "\n" not in printed
        assert expected in printed, printed
        assert not out.exists()
        assert not list(tmp_path.glob(f".out{number}*"))
    status = adapt_cli(["adapt", "transplant", "--model", str(tiny_bert), "--tokenizer",
                        str(new_wordpiece), "--method", "mean", "-o", str(existing)])  # fmt: skip
    assert status == 2 and "already exists" in capsys.readouterr().out


def test_a_tokenizer_without_byte_mapping_is_refused() -> None:
    class NoBytes:
        name = "nobytes"
        special_ids: frozenset[int] = frozenset()

        @property
        def vocab_bytes(self) -> list[bytes]:
            raise UserError("tokenizer 'nobytes' does not provide token bytes")

    minilm = load_tokenizer("minilm")
    with pytest.raises(UserError, match="no byte-level mapping"):
        match_vocabularies(minilm, NoBytes())  # type: ignore[arg-type]


def test_cli_omp_with_the_piece_state_donor_needs_no_corpus_and_checks_its_layer(
    tiny_bert: Path,
    new_wordpiece: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    adapt_cli: Callable[[list[str]], int],
) -> None:
    """``--donor-layer L``: OMP's donor space is the base model's own piece states (no corpus,
    no donor model); the layer must exist and the option belongs to omp alone."""
    from toksmith.models import load_model

    out = tmp_path / "adapted"
    status = adapt_cli(["adapt", "transplant", "--model", str(tiny_bert), "--tokenizer",
                        str(new_wordpiece), "--method", "omp", "--k", "8", "--donor-layer", "1",
                        "--format", "json", "-o", str(out)])  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert status == 0
    assert summary["donor"] == "base model's piece states, layer 1"
    assert summary["rows_by_method"].get("omp", 0) > 0
    adapted = load_model(out)
    assert np.isfinite(adapted.input_embeddings).all()
    layers = int(load_model(tiny_bert).config["num_hidden_layers"])
    for number, (extra, expected) in enumerate([
        (["--method", "omp", "--donor-layer", str(layers + 1)], f"expected 0 to {layers}"),
        (["--method", "mean", "--donor-layer", "1"], "is for --method omp"),
        (["--method", "omp", "--donor-layer", "1", "--donor", str(tiny_bert)], "give one"),
    ]):  # fmt: skip
        bad = tmp_path / f"bad{number}"
        status = adapt_cli(["adapt", "transplant", "--model", str(tiny_bert), "--tokenizer",
                            str(new_wordpiece), *extra, "-o", str(bad)])  # fmt: skip
        printed = capsys.readouterr().out.strip()
        assert status == 2 and expected in printed, printed
        assert not bad.exists()
