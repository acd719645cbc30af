from __future__ import annotations

import json

from tokenizers import Tokenizer

from toksmith.tokenizers import load_tokenizer
from toksmith.train.lib import Lexicon, train_lib
from toksmith.train.pretokenize import SUPERWORD, build_pre_tokenizer

OPTIONS = {"vocab_size": None, "lib_epochs": 120}


def test_lib_round_trip_is_lossless_on_the_test_corpora(trained, topics_split):
    tokenizer = load_tokenizer(str(trained("lib", **OPTIONS)))
    _, held_out = topics_split
    text = held_out.read_text(encoding="utf-8") + "\n日本語 naïve \x00\t x = {'a': 1}\n"
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids) == text
    assert b"".join(tokenizer.token_bytes(i) for i in ids) == text.encode()


def test_lib_keeps_subwords_words_and_multiword_units(trained):
    vocab = json.loads(trained("lib", **OPTIONS).read_text(encoding="utf-8"))["model"]["vocab"]
    learned = [t for t in vocab if len(t) > 1 and not t.startswith("<|")]
    assert any("Ġ" in t[1:] for t in learned)  # a multiword unit
    assert any(t.startswith("Ġ") and t[1:].isalpha() and "Ġ" not in t[1:] for t in learned)
    assert any(t.isalpha() for t in learned)  # a piece without a leading space


def test_hf_wordpiece_export_reads_like_lib_greedy_longest_match(trained, topics_split):
    path = trained("lib", **OPTIONS)
    config = json.loads(path.read_text(encoding="utf-8"))
    vocab = config["model"]["vocab"]
    lexicon = Lexicon([t for t in vocab if len(t) == 1], max_length=24)
    for token in vocab:
        if len(token) > 1 and not token.startswith("<|"):
            lexicon.add(token)
    hf = Tokenizer.from_file(str(path))
    chunker = build_pre_tokenizer(SUPERWORD, None)
    _, held_out = topics_split
    for line in held_out.read_text(encoding="utf-8").split("\n")[:300]:
        expected: list[int] = []
        for piece, _ in chunker.pre_tokenize_str(line):
            start = 0
            for end in lexicon.read(piece):
                expected.append(vocab[piece[start:end]])
                start = end
        assert hf.encode(line, add_special_tokens=False).ids == expected, line


def test_lib_learns_repeated_units_from_scratch():
    result = train_lib(["abcabc", "abcabc", "xyz"], base=list("abcxyz"), vocab_size=None,
                       epochs=60, batch_chunks=20)  # fmt: skip
    assert "abcabc" in result.lexicon and "xyz" in result.lexicon


def test_lib_forgets_candidates_that_never_prove_useful(trained):
    path = trained("lib", **OPTIONS)
    lib = json.loads((path.parent / "toksmith.json").read_text(encoding="utf-8"))["details"]["lib"]
    assert lib["candidates_forgotten"] > 0
    assert lib["learned_chunks"] < lib["candidates_memorized"]
