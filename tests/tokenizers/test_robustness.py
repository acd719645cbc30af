"""Hostile tokenizer files and texts: one-line UserErrors, never a Rust panic or a traceback."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from toksmith.cli import main
from toksmith.errors import UserError
from toksmith.tokenizers import builtin_names, load_tokenizer, validate_pattern
from toksmith.tokenizers import hf_json as hf_module

CATASTROPHIC = r"(a+)+b"  # backtracks exponentially on a run of a's without a b


def _split_tokenizer_json(path: Path, pattern: str, *, where: str = "pre_tokenizer") -> Path:
    """A character-level BPE tokenizer.json over a..z whose only regex is ``pattern``."""
    vocab = {chr(code): code - 97 for code in range(97, 123)}
    config: dict = {
        "version": "1.0",
        "added_tokens": [],
        "normalizer": None,
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": None,
        "model": {"type": "BPE", "vocab": vocab, "merges": [], "unk_token": None},
    }
    if where == "pre_tokenizer":
        config["pre_tokenizer"] = {
            "type": "Split",
            "pattern": {"Regex": pattern},
            "behavior": "Isolated",
            "invert": False,
        }
    else:
        config["normalizer"] = {"type": "Replace", "pattern": {"Regex": pattern}, "content": ""}
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def _rank_lines(tokens: list[tuple[bytes, int]]) -> str:
    return "".join(f"{base64.b64encode(token).decode()} {rank}\n" for token, rank in tokens)


BYTES = [(bytes([byte]), byte) for byte in range(256)]


# ---- validation at load ------------------------------------------------------------------------


def test_catastrophic_split_regex_fails_at_load_naming_the_file(tmp_path: Path) -> None:
    path = _split_tokenizer_json(tmp_path / "tokenizer.json", CATASTROPHIC)
    with pytest.raises(UserError, match=r"tokenizer\.json \(pre-tokenizer\): the regex") as error:
        load_tokenizer(str(path))
    assert "backtracks catastrophically" in str(error.value)
    assert "\n" not in str(error.value)


def test_catastrophic_replace_normalizer_fails_at_load(tmp_path: Path) -> None:
    path = _split_tokenizer_json(tmp_path / "tokenizer.json", CATASTROPHIC, where="normalizer")
    with pytest.raises(UserError, match=r"\(normalizer\): the regex"):
        load_tokenizer(str(path))


def test_catastrophic_regex_through_the_cli_is_one_line(tmp_path: Path, capfd) -> None:
    path = _split_tokenizer_json(tmp_path / "tokenizer.json", CATASTROPHIC)
    status = main(["count", "hello", "-t", str(path)])
    err = capfd.readouterr().err.strip().splitlines()
    assert status == 2
    assert err == [err[0]] and err[0].startswith("toksmith: error: ")
    assert "backtracks catastrophically" in err[0]


def test_validate_pattern_accepts_the_builtin_patterns() -> None:
    for name in ("o200k_base", "cl100k_base", "llama3", "mistral-tekken"):
        validate_pattern(load_tokenizer(name).pattern or "", name)


def test_validate_pattern_refuses_a_regex_that_does_not_compile() -> None:
    with pytest.raises(UserError, match=r"--pattern: the regex '\(a' does not compile"):
        validate_pattern("(a", "--pattern")


def test_validate_pattern_refuses_catastrophic_backtracking() -> None:
    with pytest.raises(UserError, match="--pattern: .* backtracks catastrophically"):
        validate_pattern(CATASTROPHIC, "--pattern")


def test_rank_file_with_a_duplicate_rank_names_the_file_and_rank(tmp_path: Path) -> None:
    path = tmp_path / "dup.tiktoken"
    path.write_text(_rank_lines([*BYTES, (b"ab", 97)]))
    with pytest.raises(UserError, match=r"dup\.tiktoken: rank 97 is given to two tokens"):
        load_tokenizer(str(path))


def test_rank_file_missing_a_byte_names_the_file_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "missing.tiktoken"
    path.write_text(_rank_lines([pair for pair in BYTES if pair[1] != 0x41]))
    with pytest.raises(UserError, match=r"missing\.tiktoken: no token for byte 0x41"):
        load_tokenizer(str(path))


def test_malformed_rank_file_through_the_cli_is_one_line_without_panic(
    tmp_path: Path, capfd
) -> None:
    path = tmp_path / "dup.tiktoken"
    path.write_text(_rank_lines([*BYTES, (b"ab", 5)]))
    status = main(["count", "abab", "-t", f"tiktoken:{path}"])
    err = capfd.readouterr().err
    assert status == 2
    assert err.strip().count("\n") == 0 and "rank 5 is given to two tokens" in err
    assert "panicked" not in err and "Traceback" not in err


def _tekken_json(path: Path, pattern: str) -> Path:
    vocab = [
        {"rank": byte, "token_bytes": base64.b64encode(bytes([byte])).decode(), "token_str": None}
        for byte in range(256)
    ]
    config = {
        "pattern": pattern,
        "num_vocab_tokens": 256,
        "default_vocab_size": 260,
        "default_num_special_tokens": 4,
        "version": "v3",
    }
    path.write_text(json.dumps({"config": config, "vocab": vocab, "special_tokens": []}))
    return path


def test_tekken_pattern_that_loses_text_fails_at_load(tmp_path: Path) -> None:
    # fancy-regex gives up on the backtracking silently: tiktoken would drop the text.
    path = _tekken_json(tmp_path / "tekken.json", CATASTROPHIC)
    with pytest.raises(UserError, match=r"tekken\.json: the pre-tokenization regex .* loses"):
        load_tokenizer(str(path))


def test_tekken_rank_table_missing_a_byte_fails_at_load(tmp_path: Path) -> None:
    path = _tekken_json(tmp_path / "tekken.json", r"\S+|\s+")
    data = json.loads(path.read_text())
    data["vocab"] = data["vocab"][1:]
    data["config"]["default_vocab_size"] = 259
    path.write_text(json.dumps(data))
    with pytest.raises(UserError, match=r"tekken\.json: no token for byte 0x00"):
        load_tokenizer(str(path))


# ---- panics while encoding ---------------------------------------------------------------------


@pytest.fixture
def panicking_tokenizer(tmp_path: Path):
    """A tokenizer whose regex passes the load trial (no runs of b there) but makes Oniguruma
    panic on a long run of b's."""
    (tmp_path / "late").mkdir()
    path = _split_tokenizer_json(tmp_path / "late" / "tokenizer.json", r"(b+)+c")
    # The vendor engine: fastokens (pcre2) encodes this input where Oniguruma panics.
    return load_tokenizer(str(path), engine="vendor")


def test_backend_panic_in_encode_is_a_user_error_naming_the_tokenizer(
    panicking_tokenizer,
) -> None:
    for encode in (
        panicking_tokenizer.encode,
        lambda text: panicking_tokenizer.encode_batch([text]),
        lambda text: panicking_tokenizer.encode_batch_numpy([text]),
    ):
        with pytest.raises(UserError, match="tokenizer 'late': the backend failed to encode"):
            encode("b" * 5000)


def test_backend_panic_in_load_is_a_user_error(monkeypatch, tmp_path: Path) -> None:
    def panic(_: str):
        raise _panic_exception()("simulated")

    path = _split_tokenizer_json(tmp_path / "tokenizer.json", r"\w+")
    monkeypatch.setattr(hf_module.HFTokenizer, "from_str", panic)
    with pytest.raises(UserError, match="the backend failed to load"):
        hf_module.load_hf_json(path, name="fresh-name")


def _panic_exception() -> type[BaseException]:
    """pyo3's PanicException, obtained from a real panic (it is not importable)."""
    import tiktoken

    ranks = {bytes([byte]): byte for byte in range(256)}
    ranks[b"ab"] = 5
    try:
        tiktoken.Encoding(name="x", pat_str=r"\S+", mergeable_ranks=ranks, special_tokens={})
    except BaseException as error:  # noqa: BLE001 - the panic is what we are after
        return type(error)
    raise AssertionError("tiktoken accepted duplicate ranks")


# ---- lone surrogates through the API -----------------------------------------------------------


@pytest.mark.parametrize("name", [*builtin_names(), "ws:"])
def test_lone_surrogate_is_a_user_error_on_every_backend(name: str) -> None:
    tokenizer = load_tokenizer(name)
    message = rf"text for tokenizer '{tokenizer.name}' is not valid Unicode: lone surrogate"
    with pytest.raises(UserError, match=message):
        tokenizer.encode("a\ud800")
    with pytest.raises(UserError, match=message):
        tokenizer.encode_batch(["fine"] * 300 + ["a\ud800"])
    with pytest.raises(UserError, match="invalid UTF-8 byte 0xFF"):
        tokenizer.encode_batch_numpy(["fine", "a\udcff"])


def test_lone_surrogate_in_a_word_is_a_user_error() -> None:
    with pytest.raises(UserError, match="lone surrogate U\\+D800"):
        load_tokenizer("o200k_base").encode_words_numpy(["fine", "a\ud800"])


# ---- hf: offline ---------------------------------------------------------------------------


@pytest.fixture
def empty_hf_cache(monkeypatch, tmp_path: Path) -> list[str]:
    """No cached repositories, and a record of every hub download attempted."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    calls: list[str] = []
    import huggingface_hub

    def download(repo_id: str, filename: str, **_: object) -> str:
        calls.append(repo_id)
        raise OSError("network")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    return calls


def test_hf_hub_spec_with_hf_hub_offline_fails_without_trying_the_hub(
    monkeypatch, empty_hf_cache: list[str]
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    probes: list[object] = []
    monkeypatch.setattr("socket.create_connection", lambda *a, **k: probes.append(a))
    with pytest.raises(UserError, match="hf:org/name: not in the local HF cache .*HF_HUB_OFFLINE"):
        load_tokenizer("hf:org/name")
    assert empty_hf_cache == [] and probes == []


def test_hf_hub_spec_with_no_network_fails_after_one_quick_probe(
    monkeypatch, empty_hf_cache: list[str], capfd
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    probes: list[float] = []

    def refuse(address: tuple[str, int], timeout: float) -> None:
        probes.append(timeout)
        raise OSError(-2, "Name or service not known")

    monkeypatch.setattr("socket.create_connection", refuse)
    with pytest.raises(UserError, match="hub cannot be reached .*Name or service not known"):
        load_tokenizer("hf:org/other-name")
    assert probes == [hf_module.HUB_PROBE_TIMEOUT_S] and hf_module.HUB_PROBE_TIMEOUT_S < 2
    assert empty_hf_cache == []  # huggingface_hub, which retries for ~24 s, was never called
    assert "Retrying" not in capfd.readouterr().err


def test_hf_hub_spec_through_the_cli_is_one_quiet_line(monkeypatch, empty_hf_cache, capfd) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    status = main(["count", "hello", "-t", "hf:org/third-name"])
    err = capfd.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and err[0].startswith("toksmith: error: hf:org/")
